//go:build !tamago

package kprobe

import (
	"bytes"
	"debug/elf"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// selfImage is the test binary read as the kernel reads itself: its
// function table and text.
type image struct {
	file      *elf.File
	symtab    *Symtab
	text      []byte
	textStart uint64
}

var (
	selfOnce sync.Once
	self     *image
	selfErr  error
)

// loadImage reads the function table and text of the ELF binary at path.
func loadImage(path string) (*image, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	text := f.Section(".text")
	pcln := f.Section(".gopclntab")
	if text == nil || pcln == nil {
		return nil, os.ErrNotExist
	}
	tb, err := text.Data()
	if err != nil {
		return nil, err
	}
	pb, err := pcln.Data()
	if err != nil {
		return nil, err
	}
	st, err := NewSymtab(pb, text.Addr)
	if err != nil {
		return nil, err
	}
	return &image{file: f, symtab: st, text: tb, textStart: text.Addr}, nil
}

func selfImage(t testing.TB) *image {
	t.Helper()
	selfOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			selfErr = err
			return
		}
		self, selfErr = loadImage(exe)
	})
	if selfErr != nil {
		t.Fatalf("reading the test binary: %v", selfErr)
	}
	return self
}

// code returns the instructions of sym from the image.
func (im *image) code(sym Symbol) []byte {
	return im.text[sym.Addr-im.textStart : sym.End()-im.textStart]
}

//go:noinline
func symtabProbeTarget(a, b int) int { return a*b + 7 }

func TestSymtabMatchesRuntime(t *testing.T) {
	im := selfImage(t)
	st := im.symtab
	pc := reflect.ValueOf(symtabProbeTarget).Pointer()
	want := runtime.FuncForPC(pc)
	sym, ok := st.Lookup("hachi/kprobe.symtabProbeTarget")
	if !ok {
		t.Fatal("symtabProbeTarget not found by name")
	}
	if sym.Addr != uint64(want.Entry()) {
		t.Errorf("Lookup: entry %#x, runtime says %#x", sym.Addr, want.Entry())
	}
	got, off, ok := st.LookupAddr(sym.Addr + 3)
	if !ok || got.Name != want.Name() || off != 3 {
		t.Errorf("LookupAddr(entry+3) = %v+%d %v", got.Name, off, ok)
	}
	if _, _, ok := st.LookupAddr(sym.End()); ok && st.Format(sym.End()) == st.Format(sym.Addr) {
		t.Errorf("the end of %s is inside it", sym.Name)
	}
	if _, _, ok := st.LookupAddr(im.textStart - 1); ok {
		t.Error("an address below the text resolved")
	}
	if _, ok := st.Lookup("no.such.function"); ok {
		t.Error("an unknown name resolved")
	}
	if s := st.Format(sym.Addr + 2); !strings.HasPrefix(s, "hachi/kprobe.symtabProbeTarget+0x2/") {
		t.Errorf("Format = %q", s)
	}
	if name, off, size, ok := st.Resolve(sym.Addr + 3); !ok || name != want.Name() || off != 3 || size != sym.Size {
		t.Errorf("Resolve(entry+3) = %s+%d/%d %v, want %s+3/%d", name, off, size, ok, want.Name(), sym.Size)
	}
	for _, addr := range []uint64{im.textStart - 1, sym.End() + 1<<30} {
		if name, _, _, ok := st.Resolve(addr); ok {
			t.Errorf("Resolve(%#x) = %s, outside the text", addr, name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { st.Resolve(sym.Addr + 3) }); n != 0 {
		t.Errorf("Resolve allocates %v times", n)
	}
}

// TestSymtabAgainstELF checks every function's address and size against
// the ELF symbol table the linker wrote for the same functions.
func TestSymtabAgainstELF(t *testing.T) {
	im := selfImage(t)
	syms, err := im.file.Symbols()
	if err != nil {
		t.Skipf("no ELF symbol table: %v", err)
	}
	type key struct {
		name string
		addr uint64
	}
	elfSize := map[key]uint64{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			elfSize[key{s.Name, s.Value}] = s.Size
		}
	}
	st := im.symtab
	checked := 0
	prevEnd := uint64(0)
	for i := 0; i < st.Len(); i++ {
		sym := st.Symbol(i)
		if sym.Addr < prevEnd {
			t.Fatalf("%s at %#x overlaps the previous function (ends %#x)", sym.Name, sym.Addr, prevEnd)
		}
		prevEnd = sym.End()
		size, ok := elfSize[key{sym.Name, sym.Addr}]
		if !ok {
			continue
		}
		checked++
		if size != sym.Size {
			t.Errorf("%s: size %d, ELF symbol size %d", sym.Name, sym.Size, size)
		}
	}
	if checked < st.Len()*9/10 {
		t.Errorf("only %d of %d functions found in the ELF symbol table", checked, st.Len())
	}
}

func TestKallsymsFormat(t *testing.T) {
	st := selfImage(t).symtab
	var b bytes.Buffer
	if err := st.WriteKallsyms(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != st.Len() {
		t.Fatalf("%d lines for %d functions", len(lines), st.Len())
	}
	sym, _ := st.Lookup("runtime.mallocgc")
	want := strings.Repeat("0", 16-len(hex(sym.Addr))) + hex(sym.Addr) + " T runtime.mallocgc"
	found := false
	for _, l := range lines {
		found = found || l == want
	}
	if !found {
		t.Errorf("no line %q", want)
	}
}

func hex(v uint64) string {
	const digits = "0123456789abcdef"
	var b []byte
	for {
		b = append([]byte{digits[v&15]}, b...)
		v >>= 4
		if v == 0 {
			return string(b)
		}
	}
}

func TestSymtabMatch(t *testing.T) {
	st := selfImage(t).symtab
	var got []string
	if err := st.Match("runtime.mallocgc*", func(s Symbol) { got = append(got, s.Name) }); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0] != "runtime.mallocgc" && !strings.HasPrefix(got[0], "runtime.mallocgc") {
		t.Errorf("glob matched %q", got)
	}
	n := 0
	st.Match("symtabProbeTarget", func(Symbol) { n++ })
	if n != 1 {
		t.Errorf("substring matched %d functions", n)
	}
	if err := st.Match("[", func(Symbol) {}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestSymtabRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 100), bytes.Repeat([]byte{0xff}, 200)} {
		if _, err := NewSymtab(b, 0x1000); err == nil {
			t.Errorf("NewSymtab(% x...) accepted", b[:min(len(b), 8)])
		}
	}
}

// TestRunningSymtab finds the test binary's own function table in memory
// and checks it against the one read from its ELF file.
func TestRunningSymtab(t *testing.T) {
	im := selfImage(t)
	st, err := Running()
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != im.symtab.Len() {
		t.Fatalf("%d functions in memory, %d in the file", st.Len(), im.symtab.Len())
	}
	for _, i := range []int{0, 1, st.Len() / 2, st.Len() - 1} {
		if got, want := st.Symbol(i), im.symtab.Symbol(i); got != want {
			t.Errorf("function %d: %+v in memory, %+v in the file", i, got, want)
		}
	}
}
