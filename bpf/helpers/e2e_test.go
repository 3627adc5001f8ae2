package helpers_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/helpers"
	"hachi/bpf/helpers/helperstest"
	"hachi/bpf/isa"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// End-to-end: programs assembled with bpf/asm, verified by bpf/verifier
// (or run checked), calling the helpers on bpf/maps maps in bpf/vm.

// world is a kernel, its helpers and the maps programs refer to by fd
// (their index).
type world struct {
	t      testing.TB
	kernel *helperstest.Kernel
	set    *helpers.Set
	maps   []maps.Map
	hs     []*vm.MapHandle
}

func newWorld(t testing.TB) *world {
	k := &helperstest.Kernel{Limit: userLimit, Tasks: map[uint32]helpers.Task{}}
	return &world{t: t, kernel: k, set: helpers.New(k, testCPUs)}
}

// mapFD creates a map and returns its fd for `lddw map_fd`.
func (w *world) mapFD(spec maps.Spec) int {
	w.t.Helper()
	m, err := maps.New(spec, maps.FixedHost{CPUs: testCPUs})
	if err != nil {
		w.t.Fatalf("map %+v: %v", spec, err)
	}
	w.maps = append(w.maps, m)
	w.hs = append(w.hs, vm.NewMapHandle(m))
	return len(w.maps) - 1
}

// Map implements vm.Resolver for checked programs.
func (w *world) Map(_ isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	if ref < 0 || int(ref) >= len(w.hs) {
		return nil, linux.EBADF
	}
	return w.hs[ref], nil
}

// MapValue implements vm.Resolver.
func (w *world) MapValue(_ isa.PseudoSource, ref int32) (vm.Region, error) {
	dv, ok := w.maps[ref].(maps.DirectValuer)
	if !ok {
		return vm.Region{}, linux.EINVAL
	}
	p, size, err := dv.DirectValue()
	return vm.Region{Base: p, Size: uintptr(size), Writable: true}, err
}

// KernelVariable implements vm.Resolver: none.
func (w *world) KernelVariable(int32, int32) (vm.Region, error) { return vm.Region{}, linux.EINVAL }

// Kfunc implements vm.Resolver: none.
func (w *world) Kfunc(int32, int16) (vm.HelperFunc, error) { return nil, linux.EINVAL }

// verifierMaps describes the maps to the verifier.
func (w *world) verifierMaps() verifier.MapList {
	var list verifier.MapList
	for i, m := range w.maps {
		info := m.Info()
		vmap := &verifier.Map{Type: info.Type, KeySize: info.KeySize, ValueSize: info.ValueSize,
			MaxEntries: info.MaxEntries, Flags: info.Flags, Handle: w.hs[i]}
		if dv, ok := m.(maps.DirectValuer); ok {
			if p, size, err := dv.DirectValue(); err == nil {
				vmap.Value = vm.Region{Base: p, Size: uintptr(size), Writable: true}
			}
		}
		if inner, ok := m.(interface{ InnerInfo() maps.Info }); ok {
			ii := inner.InnerInfo()
			vmap.Inner = &verifier.Map{Type: ii.Type, KeySize: ii.KeySize, ValueSize: ii.ValueSize, MaxEntries: ii.MaxEntries, Flags: ii.Flags}
		}
		list = append(list, vmap)
	}
	return list
}

// load assembles src for program type typ: verified (the fast
// interpreter) or checked.
func (w *world) load(src string, typ linux.BPFProgType, checked bool) *vm.Program {
	w.t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		w.t.Fatalf("assemble: %v", err)
	}
	impl, protos := w.set.ForProgType(typ, allCaps)
	if checked {
		img, err := vm.Load(insns, vm.Options{Helpers: impl, Resolver: w})
		if err != nil {
			w.t.Fatalf("load: %v", err)
		}
		return vm.NewChecked(img)
	}
	p, err := verifier.Verify(insns, verifier.Options{ProgType: typ, GPL: true, Maps: w.verifierMaps(),
		Helpers: impl, Protos: protos, Arch: verifier.ArchAMD64})
	if err != nil {
		w.t.Fatalf("verify: %v", err)
	}
	return p.VM()
}

// stackProgram returns r10, the top of an Env's stack.
var stackProgram = func() *vm.Program {
	insns, _ := asm.Assemble("mov %r0, %r10\nexit")
	img, _ := vm.Load(insns, vm.Options{})
	return vm.NewChecked(img)
}()

// newEnv makes an Env for cpu whose stack the test kernel can read, as a
// real kernel's fault-safe reads reach all of its memory: verified
// programs' printk %s and probe_read_kernel of stack buffers go there.
func (w *world) newEnv(cpu uint32) *vm.Env {
	env := vm.NewEnv()
	env.CPU = cpu
	top, _ := stackProgram.Run(env, vm.Region{})
	size := uint64(vm.MaxCallFrames * vm.StackSize)
	base := *(*unsafe.Pointer)(unsafe.Pointer(&[]uint64{top - size}[0]))
	w.kernel.KernelMemory(unsafe.Slice((*byte)(base), size))
	return env
}

// run runs p on cpu with ctx and returns r0.
func (w *world) run(p *vm.Program, cpu uint32, ctx []byte) uint64 {
	w.t.Helper()
	r0, err := p.Run(w.newEnv(cpu), vm.Bytes(ctx, true))
	if err != nil {
		w.t.Fatalf("run: %v", err)
	}
	return r0
}

// run runs p on cpu with ctx and returns r0.
func run(t testing.TB, p *vm.Program, cpu uint32, ctx []byte) uint64 {
	t.Helper()
	env := vm.NewEnv()
	env.CPU = cpu
	r0, err := p.Run(env, vm.Bytes(ctx, true))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return r0
}

// both runs a test for the verified and the checked program.
func both(t *testing.T, f func(t *testing.T, checked bool)) {
	for _, checked := range []bool{false, true} {
		t.Run(map[bool]string{false: "verified", true: "checked"}[checked], func(t *testing.T) { f(t, checked) })
	}
}

// ctxOf is a kprobe context (struct pt_regs) with rdi = arg.
func ctxOf(arg uint64) []byte {
	ctx := make([]byte, unsafe.Sizeof(linux.PtRegsAMD64{}))
	binary.LittleEndian.PutUint64(ctx[unsafe.Offsetof(linux.PtRegsAMD64{}.Di):], arg)
	return ctx
}

// counterProgram adds 1 to the u64 at key 0 of map 0 (an array or hash).
const counterProgram = `
	mov %r1, 0
	stxw [%r10-4], %r1
	lddw %r1, map_fd 0
	mov %r2, %r10
	add %r2, -4
	call 1
	jeq %r0, 0, exit
	mov %r1, 1
	lock add [%r0+0], %r1
	mov %r0, 0
	exit
`

func TestMapLookupUpdateDelete(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 16})
		// Insert rdi -> rdi*3 with BPF_NOEXIST, read it back, delete it,
		// and return the three results packed.
		p := w.load(`
			ldxdw %r6, [%r1+112]
			stxw [%r10-4], %r6
			mov %r7, %r6
			mul %r7, 3
			stxdw [%r10-16], %r7
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -4
			mov %r3, %r10
			add %r3, -16
			mov %r4, 1
			call 2
			mov %r8, %r0
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -4
			call 1
			jeq %r0, 0, fail
			ldxdw %r9, [%r0+0]
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -4
			call 3
			lsh %r9, 16
			lsh %r8, 8
			and %r8, 0xff00
			and %r0, 0xff
			or %r0, %r8
			or %r0, %r9
			exit
		fail:
			mov %r0, -1
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		if got := run(t, p, 0, ctxOf(5)); got != 15<<16 {
			t.Fatalf("got %#x, want update 0, value 15, delete 0", got)
		}
		// The key exists already: BPF_NOEXIST fails with EEXIST.
		w.maps[0].Update(u32b(6), u64b(1), 0)
		if got := run(t, p, 0, ctxOf(6)); got>>8&0xff != ret(linux.EEXIST)&0xff {
			t.Fatalf("got %#x, want EEXIST from the update", got)
		}
	})
}

// ret is a helper's return value for an errno: -errno.
func ret(e linux.Errno) uint64 { return uint64(-int64(e)) }

func u32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64b(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestPerCPUCounters(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
		p := w.load(counterProgram, linux.BPF_PROG_TYPE_KPROBE, checked)
		for cpu := uint32(0); cpu < testCPUs; cpu++ {
			for i := uint32(0); i <= cpu; i++ {
				run(t, p, cpu, ctxOf(0))
			}
		}
		out := make([]byte, 8*testCPUs)
		if err := w.maps[0].Lookup(u32b(0), out, 0); err != nil {
			t.Fatal(err)
		}
		for cpu := 0; cpu < testCPUs; cpu++ {
			if got := binary.LittleEndian.Uint64(out[cpu*8:]); got != uint64(cpu+1) {
				t.Fatalf("cpu %d counted %d", cpu, got)
			}
		}
	})
}

func TestQueueFromPrograms(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_QUEUE, ValueSize: 8, MaxEntries: 4})
		push := w.load(`
			ldxdw %r1, [%r1+112]
			stxdw [%r10-8], %r1
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -8
			mov %r3, 0
			call 87
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		pop := w.load(`
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -8
			call 88
			jne %r0, 0, exit
			ldxdw %r0, [%r10-8]
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		for v := uint64(10); v < 14; v++ {
			if r := run(t, push, 0, ctxOf(v)); r != 0 {
				t.Fatalf("push %d: %d", v, int64(r))
			}
		}
		if r := int64(run(t, push, 0, ctxOf(99))); r != -int64(linux.E2BIG) {
			t.Fatalf("push into a full queue: %d", r)
		}
		for v := uint64(10); v < 14; v++ {
			if r := run(t, pop, 1, ctxOf(0)); r != v {
				t.Fatalf("pop %d, want %d", r, v)
			}
		}
		if r := int64(run(t, pop, 1, ctxOf(0))); r != -int64(linux.ENOENT) {
			t.Fatalf("pop of an empty queue: %d", r)
		}
	})
}

func TestRingbufFromPrograms(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096})
		w.kernel.Tasks[2] = helpers.Task{PID: 101, TGID: 100}
		// reserve 16 bytes, store pid_tgid and cpu, submit; discard when
		// rdi is odd; ringbuf_output of rdi otherwise too.
		p := w.load(`
			ldxdw %r6, [%r1+112]
			lddw %r1, map_fd 0
			mov %r2, 16
			mov %r3, 0
			call 131
			jeq %r0, 0, exit
			mov %r7, %r0
			call 14
			stxdw [%r7+0], %r0
			call 8
			stxdw [%r7+8], %r0
			mov %r1, %r7
			mov %r2, 0
			jset %r6, 1, drop
			call 132
			stxdw [%r10-8], %r6
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -8
			mov %r3, 8
			mov %r4, 0
			call 130
			exit
		drop:
			call 133
			mov %r0, 1
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		if r := run(t, p, 2, ctxOf(4)); r != 0 {
			t.Fatalf("run: %d", int64(r))
		}
		if r := run(t, p, 2, ctxOf(5)); r != 1 {
			t.Fatalf("run: %d", int64(r))
		}
		rb := w.maps[0].(*maps.RingBuf)
		var got [][]byte
		rb.Reader().Consume(0, func(s []byte) error { got = append(got, append([]byte(nil), s...)); return nil })
		if len(got) != 2 || len(got[0]) != 16 || len(got[1]) != 8 {
			t.Fatalf("records %x", got)
		}
		if binary.LittleEndian.Uint64(got[0]) != 100<<32|101 || binary.LittleEndian.Uint64(got[0][8:]) != 2 ||
			binary.LittleEndian.Uint64(got[1]) != 4 {
			t.Fatalf("records %x", got)
		}
	})
}

func TestLoopAndForEach(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 64})
		for k := uint32(1); k <= 10; k++ {
			w.maps[0].Update(u32b(k), u64b(uint64(k)*100), 0)
		}
		// bpf_loop(rdi, sum_indexes, &acc, 0) returns the count; the
		// callback adds each index to acc, stopping at index 50.
		loop := w.load(`
			ldxdw %r1, [%r1+112]
			mov %r3, 0
			stxdw [%r10-8], %r3
			lddw %r2, func cb
			mov %r3, %r10
			add %r3, -8
			mov %r4, 0
			call 181
			ldxdw %r1, [%r10-8]
			lsh %r0, 32
			or %r0, %r1
			exit
		cb:
			ldxdw %r3, [%r2+0]
			add %r3, %r1
			stxdw [%r2+0], %r3
			mov %r0, 0
			jne %r1, 50, +1
			mov %r0, 1
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		if got := run(t, loop, 0, ctxOf(10)); got != 10<<32|45 {
			t.Fatalf("loop of 10: %#x", got)
		}
		if got := run(t, loop, 0, ctxOf(1000)); got != 51<<32|1275 {
			t.Fatalf("loop stopped at 50: %#x", got)
		}
		if got := run(t, loop, 0, ctxOf(1<<23+1)); got>>32 != ret(linux.E2BIG)&0xffffffff {
			t.Fatalf("loop past BPF_MAX_LOOPS: %#x", got)
		}
		// bpf_for_each_map_elem(map, cb, &acc, 0): acc += key * value.
		each := w.load(`
			mov %r3, 0
			stxdw [%r10-8], %r3
			lddw %r1, map_fd 0
			lddw %r2, func cb
			mov %r3, %r10
			add %r3, -8
			mov %r4, 0
			call 164
			ldxdw %r1, [%r10-8]
			lsh %r0, 32
			or %r0, %r1
			exit
		cb:
			ldxw %r2, [%r2+0]
			ldxdw %r3, [%r3+0]
			mul %r2, %r3
			ldxdw %r1, [%r4+0]
			add %r1, %r2
			stxdw [%r4+0], %r1
			mov %r0, 0
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		want := uint64(0)
		for k := uint64(1); k <= 10; k++ {
			want += k * k * 100
		}
		if got := run(t, each, 0, ctxOf(0)); got != 10<<32|want {
			t.Fatalf("for_each: %#x, want %#x", got, uint64(10)<<32|want)
		}
		// Callbacks allocate nothing either.
		env := w.newEnv(1)
		ctx := vm.Bytes(ctxOf(100), false)
		if n := testing.AllocsPerRun(20, func() { loop.Run(env, ctx); each.Run(env, ctx) }); n != 0 && !checked {
			t.Fatalf("%v allocations per run", n)
		}
	})
}

func TestTailCall(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		fd := w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_PROG_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4})
		target := w.load("mov %r0, 42\nexit", linux.BPF_PROG_TYPE_KPROBE, checked)
		pa := w.maps[fd].(*maps.ProgArray)
		if err := pa.UpdateObject(u32b(2), prog{target, linux.BPF_PROG_TYPE_KPROBE}, 0); err != nil {
			t.Fatal(err)
		}
		caller := w.load(`
			ldxdw %r3, [%r1+112]
			lddw %r2, map_fd 0
			call 12
			mov %r0, 7
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		if got := run(t, caller, 0, ctxOf(2)); got != 42 {
			t.Fatalf("tail call to slot 2: %d", got)
		}
		if got := run(t, caller, 0, ctxOf(1)); got != 7 {
			t.Fatalf("tail call to an empty slot falls through: %d", got)
		}
	})
}

// prog is a loaded program for prog arrays.
type prog struct {
	p   *vm.Program
	typ linux.BPFProgType
}

func (p prog) VMProgram() *vm.Program      { return p.p }
func (p prog) ProgType() linux.BPFProgType { return p.typ }

func TestTracePrintkFromProgram(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		// "cpu %d: %s\n" and "hi" built on the stack.
		p := w.load(fmt.Sprintf(`
			lddw %%r1, %#x
			stxdw [%%r10-16], %%r1
			lddw %%r1, %#x
			stxdw [%%r10-8], %%r1
			lddw %%r1, %#x
			stxdw [%%r10-24], %%r1
			call 8
			mov %%r3, %%r0
			mov %%r4, %%r10
			add %%r4, -24
			mov %%r1, %%r10
			add %%r1, -16
			mov %%r2, 12
			mov %%r5, 0
			call 6
			exit
		`, le("cpu %d: "), le("%s\n\x00\x00\x00\x00\x00"), le("hi\x00\x00\x00\x00\x00\x00")), linux.BPF_PROG_TYPE_KPROBE, checked)
		if got := w.run(p, 3, ctxOf(0)); got != uint64(len("cpu 3: hi\n")) {
			t.Fatalf("returned %d", got)
		}
		lines := w.kernel.Lines()
		if len(lines) != 1 || lines[0].Msg != "cpu 3: hi\n" || lines[0].CPU != 3 {
			t.Fatalf("trace pipe got %+v", lines)
		}
	})
}

// le is the u64 whose little-endian bytes are s (8 bytes).
func le(s string) uint64 { return binary.LittleEndian.Uint64([]byte(s)) }

func TestMapInMapFromProgram(t *testing.T) {
	w := newWorld(t)
	inner := w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	w.maps[inner].Update(u32b(1), u64b(777), 0)
	outer := w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, Inner: w.maps[inner]})
	if err := w.maps[outer].(maps.ObjectMap).UpdateObject(u32b(0), w.hs[inner], 0); err != nil {
		t.Fatal(err)
	}
	// Only verified programs: the checked VM does not know inner maps.
	p := w.load(`
		mov %r1, 0
		stxw [%r10-4], %r1
		lddw %r1, map_fd 1
		mov %r2, %r10
		add %r2, -4
		call 1
		jeq %r0, 0, fail
		mov %r1, 1
		stxw [%r10-4], %r1
		mov %r1, %r0
		mov %r2, %r10
		add %r2, -4
		call 1
		jeq %r0, 0, fail
		ldxdw %r0, [%r0+0]
		exit
	fail:
		mov %r0, 0
		exit
	`, linux.BPF_PROG_TYPE_KPROBE, false)
	if got := run(t, p, 0, ctxOf(0)); got != 777 {
		t.Fatalf("value through the inner map: %d", got)
	}
}
