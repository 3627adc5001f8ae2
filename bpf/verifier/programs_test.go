package verifier_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

	"hachi/bpf/helpers"
	"hachi/bpf/helpers/helperstest"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/internal/elflink"
	"hachi/internal/hosttool"
	"hachi/syscall/linux"
)

// Realistic programs: C sources in testdata/progs, compiled by the test
// with Debian's clang exactly as the project documents
// (clang -O2 -g -target bpf -I/usr/include/$(gcc -dumpmachine) -c), read
// with cilium/ebpf's ELF reader, verified with the real helper table
// (bpf/helpers) over real maps (bpf/maps), then run in the interpreter.
// No object is committed: without clang the test fails in CI (CI set) and
// is skipped elsewhere, saying so.

// object is one compiled source: its collection and the target it was built for.
type object struct {
	name string
	arch verifier.Arch
	spec *ebpf.CollectionSpec
}

var (
	buildOnce sync.Once
	objects   []object
	buildErr  error
)

// buildObjects compiles every testdata/progs source once per test binary.
func buildObjects(t testing.TB) []object {
	t.Helper()
	hosttool.Require(t, "clang", "clang", "build the realistic programs")
	buildOnce.Do(func() { objects, buildErr = compileAll() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return objects
}

func compileAll() ([]object, error) {
	if _, err := exec.LookPath("clang"); err != nil {
		return nil, err
	}
	triple, err := exec.Command("gcc", "-dumpmachine").Output()
	if err != nil {
		return nil, fmt.Errorf("gcc -dumpmachine: %w", err)
	}
	include := "-I/usr/include/" + strings.TrimSpace(string(triple))
	dir, err := os.MkdirTemp("", "hachi-verifier-progs")
	if err != nil {
		return nil, err
	}
	sources, err := filepath.Glob("testdata/progs/*.bpf.c")
	if err != nil || len(sources) == 0 {
		return nil, fmt.Errorf("no sources in testdata/progs: %v", err)
	}
	sort.Strings(sources)
	var out []object
	for _, src := range sources {
		base := strings.TrimSuffix(filepath.Base(src), ".bpf.c")
		targets := []struct {
			suffix string
			define string
			arch   verifier.Arch
		}{{"", "", verifier.ArchAMD64}}
		if base == "counter" {
			// The kprobe reads registers: build it for both targets.
			targets = []struct {
				suffix string
				define string
				arch   verifier.Arch
			}{{"-amd64", "-D__TARGET_ARCH_x86", verifier.ArchAMD64}, {"-riscv64", "-D__TARGET_ARCH_riscv", verifier.ArchRISCV64}}
		}
		for _, tg := range targets {
			obj := filepath.Join(dir, base+tg.suffix+".o")
			args := []string{"-O2", "-g", "-target", "bpf", include}
			if tg.define != "" {
				args = append(args, tg.define)
			}
			args = append(args, "-c", src, "-o", obj)
			if msg, err := exec.Command("clang", args...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("clang %s: %v\n%s", src, err, msg)
			}
			spec, err := ebpf.LoadCollectionSpec(obj)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", obj, err)
			}
			out = append(out, object{name: base + tg.suffix, arch: tg.arch, spec: spec})
		}
	}
	return out, nil
}

// testCPUs is the number of CPUs the maps and helpers are made for.
const testCPUs = 2

// loaded is a program ready for the verifier: its instructions linked, and
// the maps its collection needs, created.
type loaded struct {
	name     string
	progType linux.BPFProgType
	arch     verifier.Arch
	gpl      bool
	insns    []isa.Instruction
	maps     verifier.MapList
	regions  []vm.Region // map values, for the checked interpreter
}

// load creates the collection's maps and links one program: function
// references become relative offsets, map references the index of the map
// (the fd the MapList resolves).
func load(t testing.TB, o object, name string) *loaded {
	t.Helper()
	ps := o.spec.Programs[name]
	l := &loaded{name: o.name + "/" + name, progType: linux.BPFProgType(ps.Type), arch: o.arch,
		gpl: ps.License == "GPL"}
	index := map[string]int{}
	names := make([]string, 0, len(o.spec.Maps))
	for n := range o.spec.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		index[n] = len(l.maps)
		l.maps = append(l.maps, createMap(t, o.spec.Maps[n], &l.regions))
	}
	var err error
	if l.insns, err = elflink.Link(ps.Instructions, index); err != nil {
		t.Fatalf("%s: %v", l.name, err)
	}
	return l
}

// createMap makes a map like ms with bpf/maps, fills it with ms's contents
// (global data), freezes .rodata as loaders do, and describes it to the
// verifier as the bpf() layer does.
func createMap(t testing.TB, ms *ebpf.MapSpec, regions *[]vm.Region) *verifier.Map {
	spec := maps.Spec{Type: linux.BPFMapType(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, Flags: ms.Flags}
	if spec.Type == linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY && spec.MaxEntries == 0 {
		spec.MaxEntries = testCPUs // libbpf and cilium/ebpf size it by the possible CPUs
	}
	m, err := maps.New(spec, maps.FixedHost{CPUs: testCPUs})
	if err != nil {
		t.Fatalf("map %s: %v", ms.Name, err)
	}
	for _, kv := range ms.Contents {
		value, ok := kv.Value.([]byte)
		key, kok := kv.Key.(uint32)
		if !ok || !kok {
			t.Fatalf("map %s: contents %T/%T", ms.Name, kv.Key, kv.Value)
		}
		if err := m.Update(binary.LittleEndian.AppendUint32(nil, key), value, 0); err != nil {
			t.Fatalf("map %s: update: %v", ms.Name, err)
		}
	}
	v := &verifier.Map{Name: ms.Name, Type: spec.Type, KeySize: spec.KeySize, ValueSize: spec.ValueSize,
		MaxEntries: spec.MaxEntries, Flags: spec.Flags, Handle: vm.NewMapHandle(m)}
	if dv, ok := m.(maps.DirectValuer); ok {
		if ptr, size, err := dv.DirectValue(); err == nil {
			v.Value = vm.Region{Base: ptr, Size: uintptr(size), Writable: spec.Flags&linux.BPF_F_RDONLY_PROG == 0}
			*regions = append(*regions, v.Value)
		}
	}
	if strings.HasPrefix(ms.Name, ".rodata") {
		if err := m.(maps.Freezer).Freeze(); err != nil {
			t.Fatalf("map %s: freeze: %v", ms.Name, err)
		}
		v.Frozen = true
		v.Contents = append([]byte(nil), unsafe.Slice((*byte)(v.Value.Base), v.Value.Size)...)
	}
	return v
}

// kernel is the fake kernel the helpers of the tests run on.
func kernel() *helperstest.Kernel {
	return &helperstest.Kernel{Limit: 1 << 47, Tasks: map[uint32]helpers.Task{
		0: {PID: 42, TGID: 42, Comm: [16]byte{'t', 'e', 's', 't'}},
		1: {PID: 43, TGID: 43, Comm: [16]byte{'t', 'e', 's', 't'}},
	}}
}

// verify verifies a loaded program with the real helper table.
func (l *loaded) verify(t testing.TB, set *helpers.Set, logBuf log.Buffer) (*verifier.Program, error) {
	impl, protos := set.ForProgType(l.progType, helpers.Caps{BPF: true, Perfmon: true})
	lg := &log.Log{}
	if logBuf != nil {
		var err error
		if lg, err = log.New(log.Level1, 1, uint32(len(logBuf)), logBuf); err != nil {
			t.Fatal(err)
		}
	}
	return verifier.Verify(l.insns, verifier.Options{ProgType: l.progType, Arch: l.arch, GPL: l.gpl,
		Maps: l.maps, Helpers: impl, Protos: protos, Log: lg})
}

// allPrograms loads every program of every object.
func allPrograms(t testing.TB) []*loaded {
	var all []*loaded
	for _, o := range buildObjects(t) {
		names := make([]string, 0, len(o.spec.Programs))
		for n := range o.spec.Programs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			all = append(all, load(t, o, n))
		}
	}
	return all
}

func TestRealisticPrograms(t *testing.T) {
	set := helpers.New(kernel(), testCPUs)
	progs := allPrograms(t)
	if len(progs) < 6 {
		t.Fatalf("only %d programs built", len(progs))
	}
	for _, l := range progs {
		buf := make(log.Buffer, 1<<22)
		p, err := l.verify(t, set, buf)
		if err != nil {
			t.Errorf("%s (%v, %d insns): refused: %v\n%s", l.name, l.progType, len(l.insns), err, lastLines(buf.String(), 40))
			continue
		}
		t.Logf("%s: %d insns, processed %d, states %d (peak %d), stack %v, %v",
			l.name, len(l.insns), p.Stats.Processed, p.Stats.TotalStates, p.Stats.PeakStates, p.StackDepth, p.Stats.Duration)
		run(t, l, p, set)
	}
}

// run runs a verified program a few times, fast and checked, on contexts
// of its type: a verified program must never fault in the checked mode.
func run(t *testing.T, l *loaded, p *verifier.Program, set *helpers.Set) {
	for seed := 0; seed < 8; seed++ {
		for _, checked := range []bool{false, true} {
			prog := p.VM()
			if checked {
				prog = vm.NewChecked(p.Image())
			}
			env := vm.NewEnv()
			env.CPU = uint32(seed % testCPUs)
			c := makeContext(l.progType, l.arch, seed)
			for _, r := range l.regions {
				env.Declare(r)
			}
			for _, r := range c.declare {
				env.Declare(r)
			}
			env.Packet = c.packet
			if _, err := prog.Run(env, c.ctx); err != nil {
				t.Errorf("%s: run %d (checked %v): %v", l.name, seed, checked, err)
			}
			runtime.KeepAlive(c)
		}
	}
}

// context is what a program of some type runs on.
type context struct {
	ctx     vm.Region
	packet  vm.Region
	declare []vm.Region
	keep    [][]byte
}

// makeContext builds a context of the type with contents derived from seed.
func makeContext(t linux.BPFProgType, arch verifier.Arch, seed int) *context {
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(seed*131 + i*7)
		}
		return b
	}
	c := &context{}
	switch t {
	case linux.BPF_PROG_TYPE_KPROBE:
		n := int(linux.PtRegsLayoutAMD64.Size)
		if arch == verifier.ArchRISCV64 {
			n = int(linux.PtRegsLayoutRISCV64.Size)
		}
		c.ctx = vm.Bytes(fill(n), false)
	case linux.BPF_PROG_TYPE_XDP:
		pkt := fill(60 + seed*8)
		if seed%2 == 0 {
			// An Ethernet IPv4 UDP packet, with IP options on some seeds.
			binary.BigEndian.PutUint16(pkt[12:], 0x0800)
			pkt[14] = 0x45 + byte(seed%4)
			pkt[23] = 17
		}
		xb := &verifier.XDPBuff{Data: uint64(uintptr(unsafe.Pointer(&pkt[0]))),
			DataEnd: uint64(uintptr(unsafe.Pointer(&pkt[0]))) + uint64(len(pkt))}
		xb.DataMeta = xb.Data
		raw := unsafe.Slice((*byte)(unsafe.Pointer(xb)), unsafe.Sizeof(*xb))
		c.ctx = vm.Bytes(raw, false)
		c.declare = append(c.declare, vm.Bytes(pkt, true))
		c.keep = append(c.keep, pkt)
	case linux.BPF_PROG_TYPE_SOCKET_FILTER:
		pkt := fill(64 + seed)
		binary.BigEndian.PutUint16(pkt[12:], 0x0800)
		pkt[23] = 17
		skb := make([]byte, 192)
		binary.LittleEndian.PutUint32(skb, uint32(len(pkt)))
		c.ctx = vm.Bytes(skb, true)
		c.packet = vm.Bytes(pkt, false)
		c.keep = append(c.keep, pkt)
	case linux.BPF_PROG_TYPE_RAW_TRACEPOINT:
		c.ctx = vm.Bytes(fill(12*8), false)
	default:
		c.ctx = vm.Bytes(fill(64), false)
	}
	return c
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
