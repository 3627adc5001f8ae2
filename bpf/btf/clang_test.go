//go:build linux

package btf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cbtf "github.com/cilium/ebpf/btf"

	"hachi/internal/hosttool"
	"hachi/syscall/linux"
)

// Real blobs: testdata/*.bpf.c built by clang (Debian: apt-get install clang
// llvm linux-libc-dev libbpf-dev), parsed here and checked against
// cilium/ebpf's BTF parser and, where allowed, the host kernel.

var (
	objOnce sync.Once
	objs    map[string]string // source name -> object path
	objErr  error
	objDir  string
)

// clangObjects builds every testdata/*.bpf.c once per test binary run, or
// skips the test when clang is missing.
func clangObjects(t testing.TB) map[string]string {
	t.Helper()
	hosttool.Require(t, "clang", "clang llvm", "build real BTF blobs")
	objs, err := buildObjects()
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func buildObjects() (map[string]string, error) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		return nil, err
	}
	objOnce.Do(func() {
		machine, err := exec.Command("gcc", "-dumpmachine").Output()
		if err != nil {
			objErr = fmt.Errorf("gcc -dumpmachine: %v", err)
			return
		}
		objDir, objErr = os.MkdirTemp("", "btf-objs")
		if objErr != nil {
			return
		}
		srcs, _ := filepath.Glob("testdata/*.bpf.c")
		objs = map[string]string{}
		for _, src := range srcs {
			out := filepath.Join(objDir, strings.TrimSuffix(filepath.Base(src), ".c")+".o")
			cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf",
				"-I/usr/include/"+strings.TrimSpace(string(machine)), "-c", src, "-o", out)
			if msg, err := cmd.CombinedOutput(); err != nil {
				objErr = fmt.Errorf("clang %s: %v\n%s", src, err, msg)
				return
			}
			objs[filepath.Base(src)] = out
		}
		if len(objs) == 0 {
			objErr = errors.New("no testdata/*.bpf.c")
		}
	})
	return objs, objErr
}

// clangSeeds returns the real blobs, raw and fixed up, when clang is
// installed (fuzz seeds).
func clangSeeds(t testing.TB) [][]byte {
	objs, err := buildObjects()
	if err != nil {
		return nil
	}
	var seeds [][]byte
	for _, path := range objs {
		raw := elfBTF(t, path)
		seeds = append(seeds, raw, fixupDatasecs(t, path, raw))
	}
	return seeds
}

func TestMain(m *testing.M) {
	code := m.Run()
	if objDir != "" {
		os.RemoveAll(objDir)
	}
	os.Exit(code)
}

// elfBTF returns the object's .BTF section as clang wrote it.
func elfBTF(t testing.TB, path string) []byte {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		t.Fatalf("%s: no .BTF", path)
	}
	raw, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// recordLen is the length of a raw type record of kind k with vlen entries.
func recordLen(k, vlen uint32) uint32 {
	switch k {
	case kINT, kVAR, kDECL_TAG:
		return 16
	case kARRAY:
		return 24
	case kSTRUCT, kUNION, kDATASEC, kENUM64:
		return 12 + 12*vlen
	case kENUM, kFUNC_PROTO:
		return 12 + 8*vlen
	}
	return 12
}

// fixupDatasecs does what loaders do before BPF_BTF_LOAD (libbpf's
// btf_fixup_datasec, cilium/ebpf's fixupDatasec): clang leaves DATASEC sizes
// and variable offsets 0; they come from the ELF sections and symbols.
func fixupDatasecs(t testing.TB, path string, raw []byte) []byte {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, _ := f.Symbols()
	out := bytes.Clone(raw)
	le := binary.LittleEndian
	hdrLen := le.Uint32(out[4:])
	body := out[hdrLen:]
	typeOff, typeLen, strOff := le.Uint32(out[8:]), le.Uint32(out[12:]), le.Uint32(out[16:])
	str := func(off uint32) string {
		s := body[strOff+off:]
		return string(s[:bytes.IndexByte(s, 0)])
	}
	var recs []uint32 // offsets of records by id-1
	for cur := typeOff; cur < typeOff+typeLen; {
		recs = append(recs, cur)
		inf := le.Uint32(body[cur+4:])
		cur += recordLen(linux.BTF_INFO_KIND(inf), linux.BTF_INFO_VLEN(inf))
	}
	for _, off := range recs {
		inf := le.Uint32(body[off+4:])
		if linux.BTF_INFO_KIND(inf) != kDATASEC {
			continue
		}
		name := str(le.Uint32(body[off:]))
		sec := f.Section(name)
		if sec == nil {
			continue
		}
		le.PutUint32(body[off+8:], uint32(sec.Size))
		for i := uint32(0); i < linux.BTF_INFO_VLEN(inf); i++ {
			vsi := off + 12 + 12*i
			v := recs[le.Uint32(body[vsi:])-1]
			vname := str(le.Uint32(body[v:]))
			for _, s := range syms {
				if s.Name == vname && int(s.Section) < len(f.Sections) && f.Sections[s.Section] == sec {
					le.PutUint32(body[vsi+4:], uint32(s.Value))
				}
			}
		}
	}
	return out
}

// describe renders a type the same way for both parsers, so that a
// disagreement shows as a readable diff.
func describe(s *Spec, id TypeID) string {
	t, _ := s.TypeByID(id)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", t.Kind(), t.Name())
	switch t.Kind() {
	case kINT:
		fmt.Fprintf(&b, " size=%d enc=%d", t.Size(), t.IntEncoding())
	case kARRAY:
		a := t.Array()
		fmt.Fprintf(&b, " elem=%d index=%d n=%d", a.Type, a.IndexType, a.Nelems)
	case kSTRUCT, kUNION:
		fmt.Fprintf(&b, " size=%d", t.Size())
		for i := 0; i < t.Vlen(); i++ {
			m := t.Member(i)
			fmt.Fprintf(&b, " %s:%d@%d/%d", m.Name, m.Type, m.BitOffset, m.BitfieldSize)
		}
	case kENUM, kENUM64:
		fmt.Fprintf(&b, " size=%d signed=%v", t.Size(), t.KindFlag())
		for i := 0; i < t.Vlen(); i++ {
			e := t.Enumerator(i)
			fmt.Fprintf(&b, " %s=%d", e.Name, e.Value)
		}
	case kFWD:
		fmt.Fprintf(&b, " union=%v", t.KindFlag())
	case kFUNC:
		fmt.Fprintf(&b, " proto=%d linkage=%d", t.Ref(), t.Linkage())
	case kFUNC_PROTO:
		fmt.Fprintf(&b, " ret=%d", t.Ref())
		for i := 0; i < t.Vlen(); i++ {
			p := t.Param(i)
			n, _ := s.StringAt(p.NameOff)
			fmt.Fprintf(&b, " %s:%d", n, p.Type)
		}
	case kVAR:
		fmt.Fprintf(&b, " type=%d linkage=%d", t.Ref(), t.Linkage())
	case kDATASEC:
		fmt.Fprintf(&b, " size=%d", t.Size())
		for i := 0; i < t.Vlen(); i++ {
			v := t.VarSecinfo(i)
			fmt.Fprintf(&b, " %d@%d+%d", v.Type, v.Offset, v.Size)
		}
	case kFLOAT:
		fmt.Fprintf(&b, " size=%d", t.Size())
	case kDECL_TAG:
		fmt.Fprintf(&b, " type=%d idx=%d", t.Ref(), t.ComponentIdx())
	default: // PTR, TYPEDEF, qualifiers, TYPE_TAG
		fmt.Fprintf(&b, " type=%d", t.Ref())
	}
	return b.String()
}

// describeCilium renders a cilium/ebpf type like describe.
func describeCilium(s *cbtf.Spec, typ cbtf.Type) string {
	id := func(t cbtf.Type) TypeID {
		if _, ok := t.(*cbtf.Void); ok {
			return 0
		}
		n, err := s.TypeID(t)
		if err != nil {
			return 0xffffffff
		}
		return TypeID(n)
	}
	var b strings.Builder
	name := typ.TypeName()
	switch t := typ.(type) {
	case *cbtf.Int:
		fmt.Fprintf(&b, "INT %q size=%d enc=%d", name, t.Size, t.Encoding)
	case *cbtf.Pointer:
		fmt.Fprintf(&b, "PTR %q type=%d", name, id(t.Target))
	case *cbtf.Array:
		fmt.Fprintf(&b, "ARRAY %q elem=%d index=%d n=%d", name, id(t.Type), id(t.Index), t.Nelems)
	case *cbtf.Struct, *cbtf.Union:
		kind, size, members := "STRUCT", uint32(0), []cbtf.Member(nil)
		if st, ok := t.(*cbtf.Struct); ok {
			size, members = st.Size, st.Members
		} else {
			u := t.(*cbtf.Union)
			kind, size, members = "UNION", u.Size, u.Members
		}
		fmt.Fprintf(&b, "%s %q size=%d", kind, name, size)
		for _, m := range members {
			fmt.Fprintf(&b, " %s:%d@%d/%d", m.Name, id(m.Type), m.Offset, m.BitfieldSize)
		}
	case *cbtf.Enum:
		kind := "ENUM"
		if t.Size == 8 && enum64 {
			kind = "ENUM64"
		}
		fmt.Fprintf(&b, "%s %q size=%d signed=%v", kind, name, t.Size, t.Signed)
		for _, v := range t.Values {
			fmt.Fprintf(&b, " %s=%d", v.Name, v.Value)
		}
	case *cbtf.Fwd:
		fmt.Fprintf(&b, "FWD %q union=%v", name, t.Kind == cbtf.FwdUnion)
	case *cbtf.Typedef:
		fmt.Fprintf(&b, "TYPEDEF %q type=%d", name, id(t.Type))
	case *cbtf.Volatile:
		fmt.Fprintf(&b, "VOLATILE %q type=%d", name, id(t.Type))
	case *cbtf.Const:
		fmt.Fprintf(&b, "CONST %q type=%d", name, id(t.Type))
	case *cbtf.Restrict:
		fmt.Fprintf(&b, "RESTRICT %q type=%d", name, id(t.Type))
	case *cbtf.Func:
		fmt.Fprintf(&b, "FUNC %q proto=%d linkage=%d", name, id(t.Type), t.Linkage)
	case *cbtf.FuncProto:
		fmt.Fprintf(&b, "FUNC_PROTO %q ret=%d", name, id(t.Return))
		for _, p := range t.Params {
			fmt.Fprintf(&b, " %s:%d", p.Name, id(p.Type))
		}
	case *cbtf.Var:
		fmt.Fprintf(&b, "VAR %q type=%d linkage=%d", name, id(t.Type), t.Linkage)
	case *cbtf.Datasec:
		fmt.Fprintf(&b, "DATASEC %q size=%d", name, t.Size)
		for _, v := range t.Vars {
			fmt.Fprintf(&b, " %d@%d+%d", id(v.Type), v.Offset, v.Size)
		}
	case *cbtf.Float:
		fmt.Fprintf(&b, "FLOAT %q size=%d", name, t.Size)
	case *cbtf.TypeTag:
		fmt.Fprintf(&b, "TYPE_TAG %q type=%d", t.Value, id(t.Type))
	default:
		// cilium/ebpf keeps DECL_TAG unexported; compare what %v prints.
		fmt.Fprintf(&b, "%T %v", t, t)
	}
	return b.String()
}

// enum64 is set while comparing a blob that uses BTF_KIND_ENUM64, which
// cilium/ebpf folds into *Enum.
var enum64 bool

// compareWithCilium checks every type of s against cilium/ebpf's reading of
// the same raw blob.
func compareWithCilium(t *testing.T, s *Spec, raw []byte) {
	cs, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("cilium/ebpf: %v", err)
	}
	for id := TypeID(1); int(id) < s.NumTypes(); id++ {
		ct, err := cs.TypeByID(cbtf.TypeID(id))
		if err != nil {
			t.Fatalf("cilium/ebpf has no type %d: %v", id, err)
		}
		mine := describe(s, id)
		if strings.HasPrefix(mine, "DECL_TAG") {
			tt, _ := s.TypeByID(id)
			if got := describeCilium(cs, ct); !strings.Contains(got, tt.Name()) {
				t.Errorf("[%d] ours %s, cilium/ebpf %s", id, mine, got)
			}
			continue
		}
		enum64 = strings.HasPrefix(mine, "ENUM64")
		if got := describeCilium(cs, ct); got != mine {
			t.Errorf("[%d]\n ours:        %s\n cilium/ebpf: %s", id, mine, got)
		}
	}
	if _, err := cs.TypeByID(cbtf.TypeID(s.NumTypes())); err == nil {
		t.Errorf("cilium/ebpf has more than %d types", s.NumTypes())
	}
}

func TestClangBlobs(t *testing.T) {
	for name, path := range clangObjects(t) {
		raw := elfBTF(t, path)
		fixed := fixupDatasecs(t, path, raw)
		for _, v := range []struct {
			variant string
			blob    []byte
		}{{"as clang wrote it", raw}, {"after datasec fixup", fixed}} {
			t.Run(name+" "+v.variant, func(t *testing.T) {
				s, text, err := runLoad(t, v.blob, 1<<20)
				hasDatasec := strings.Contains(text, "] DATASEC ")
				switch {
				case v.variant == "as clang wrote it" && hasDatasec:
					// Clang leaves DATASEC sizes 0: Linux refuses the blob.
					if !errors.Is(err, linux.EINVAL) || !strings.Contains(text, "size == 0") {
						t.Fatalf("err %v, want EINVAL for size == 0\n%s", err, text)
					}
				case err != nil:
					t.Fatalf("%v\n%s", err, text)
				default:
					compareWithCilium(t, s, v.blob)
				}
				herr, hlog := hostLoad(t, v.blob, 1<<20)
				if !sameErr(herr, err) || hlog != text {
					t.Errorf("host: %v, ours: %v\nhost log:\n%s\nour log:\n%s", herr, err, hlog, text)
				}
			})
		}
	}
}

// TestQueries exercises the lookups other packages use on real blobs.
func TestQueries(t *testing.T) {
	o := clangObjects(t)
	types, _, err := runLoad(t, elfBTF(t, o["types.bpf.c"]), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	maps, _, err := runLoad(t, fixupDatasecs(t, o["maps.bpf.c"], elfBTF(t, o["maps.bpf.c"])), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	byName := func(s *Spec, kind Kind, name string) TypeID {
		for id := TypeID(1); int(id) < s.NumTypes(); id++ {
			if tt, _ := s.TypeByID(id); tt.Kind() == kind && tt.Name() == name {
				return id
			}
		}
		t.Fatalf("no %s %s", kind, name)
		return 0
	}
	node := byName(types, kSTRUCT, "node")
	for _, tc := range []struct {
		member       string
		bitOff, size uint32
		resolvedKind Kind
	}{
		{"next", 0, 8, kPTR},
		{"v", 128, 24, kARRAY},
		{"d", 320, 8, kFLOAT},
		{"counter", 512, 8, kINT}, // through typedef u64_t
		{"name", 576, 0, kARRAY},
	} {
		m, ok := types.MemberByName(node, tc.member)
		if !ok || m.BitOffset != tc.bitOff {
			t.Errorf("member %s: %+v %v", tc.member, m, ok)
			continue
		}
		rt, size, err := types.ResolveSize(m.Type)
		if err != nil || size != tc.size || rt.Kind() != tc.resolvedKind {
			t.Errorf("member %s: resolves to %s size %d err %v", tc.member, rt.Kind(), size, err)
		}
	}
	if _, ok := types.MemberByName(node, "nope"); ok {
		t.Error("found a missing member")
	}
	if _, _, err := types.ResolveSize(byName(types, kFUNC, "handle")); !errors.Is(err, linux.EINVAL) {
		t.Errorf("size of a FUNC: %v", err)
	}
	if _, _, err := types.ResolveSize(byName(types, kFWD, "fwd_only")); !errors.Is(err, linux.EINVAL) {
		t.Errorf("size of a FWD: %v", err)
	}

	// func_info: one record per subprogram, FUNC types, ascending offsets.
	handle, useHelper := byName(types, kFUNC, "handle"), byName(types, kFUNC, "use_helper")
	aux, err := types.CheckFuncInfo([]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(handle)}, {InsnOff: 7, TypeID: uint32(useHelper)}},
		[]uint32{0, 7}, nil)
	if err != nil || !aux[0].ScalarReturn || aux[1].Linkage != linux.BTF_FUNC_GLOBAL || aux[0].Func.Name() != "handle" {
		t.Errorf("func_info: %+v %v", aux, err)
	}
	for _, bad := range []struct {
		recs   []linux.BPFFuncInfo
		starts []uint32
	}{
		{[]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(handle)}}, []uint32{0, 7}},                                          // count
		{[]linux.BPFFuncInfo{{InsnOff: 1, TypeID: uint32(handle)}}, []uint32{1}},                                             // first not 0
		{[]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(handle)}, {InsnOff: 0, TypeID: uint32(useHelper)}}, []uint32{0, 0}}, // not ascending
		{[]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(handle)}, {InsnOff: 5, TypeID: uint32(useHelper)}}, []uint32{0, 7}}, // layout
		{[]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(node)}}, []uint32{0}},                                               // not a FUNC
		{[]linux.BPFFuncInfo{{InsnOff: 0, TypeID: 99999}}, []uint32{0}},                                                      // no such type
	} {
		if _, err := types.CheckFuncInfo(bad.recs, bad.starts, nil); !errors.Is(err, linux.EINVAL) {
			t.Errorf("func_info %+v: %v", bad, err)
		}
	}
	if CheckFuncInfoRecSize(8, nil) != nil || CheckFuncInfoRecSize(6, nil) == nil || CheckFuncInfoRecSize(256, nil) == nil || CheckFuncInfoRecSize(10, nil) == nil {
		t.Error("func_info_rec_size rules")
	}

	// map key/value checks and the special fields of the value.
	u32 := byName(maps, kTYPEDEF, "__u32")
	value := byName(maps, kSTRUCT, "value")
	_, vt, err := maps.CheckMapKeyValue(u32, value, 4, 32, false)
	if err != nil || vt.Name() != "value" {
		t.Fatalf("map kv: %v", err)
	}
	for _, bad := range [][4]uint32{{uint32(u32), uint32(value), 8, 32}, {uint32(u32), uint32(value), 4, 31}, {0, uint32(value), 4, 32}} {
		if _, _, err := maps.CheckMapKeyValue(TypeID(bad[0]), TypeID(bad[1]), bad[2], bad[3], false); !errors.Is(err, linux.EINVAL) {
			t.Errorf("map kv %v: %v", bad, err)
		}
	}
	if off, ok, err := maps.FindSpinLock(vt); off != 0 || !ok || err != nil {
		t.Errorf("spin lock at %d %v %v", off, ok, err)
	}
	if off, ok, err := maps.FindTimer(vt); off != 16 || !ok || err != nil {
		t.Errorf("timer at %d %v %v", off, ok, err)
	}
	if _, ok, _ := maps.FindTimer(func() Type { tt, _ := maps.TypeByID(byName(maps, kSTRUCT, "bpf_spin_lock")); return tt }()); ok {
		t.Error("timer found in bpf_spin_lock")
	}
}
