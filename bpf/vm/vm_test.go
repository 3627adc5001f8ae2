package vm_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
)

func assemble(tb testing.TB, src string) []isa.Instruction {
	tb.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		tb.Fatal(err)
	}
	return insns
}

func load(tb testing.TB, src string, opts vm.Options) *vm.Image {
	tb.Helper()
	img, err := vm.Load(assemble(tb, src), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// both runs a test in checked mode and, standing in for the verifier, in
// fast mode.
func both(t *testing.T, test func(t *testing.T, mk func(*vm.Image) *vm.Program)) {
	t.Run("checked", func(t *testing.T) { test(t, vm.NewChecked) })
	t.Run("fast", func(t *testing.T) { test(t, vm.NewVerified) })
}

// loopHelper is a minimal bpf_loop(nr, fn, ctx, flags): it calls fn(i, ctx)
// until it returns non-zero, and returns the number of calls; like Linux it
// refuses more than 1<<23 iterations with -E2BIG.
func loopHelper(env *vm.Env, nr, fn, ctx, _, _ uint64) uint64 {
	if nr > 1<<23 {
		return ^uint64(7 - 1) // -E2BIG
	}
	i := uint64(0)
	for i < nr {
		stop, ok := env.Call(fn, i, ctx, 0, 0, 0)
		if !ok {
			return 0
		}
		i++
		if stop != 0 {
			break
		}
	}
	return i
}

func TestCallback(t *testing.T) {
	helpers := vm.Helpers{181: loopHelper}
	src := `
		# sum i for i < 10 into the caller's stack slot, through a callback
		stdw [%r10-8], 0
		mov %r1, 10
		lddw %r2, func body
		mov %r3, %r10
		add %r3, -8
		mov %r4, 0
		call 181
		ldxdw %r1, [%r10-8]
		lsh %r0, 32
		or %r0, %r1
		exit
	body:
		# r1 = i, r2 = pointer to the sum in the caller's frame
		ldxdw %r3, [%r2]
		add %r3, %r1
		stxdw [%r2], %r3
		mov %r0, 0
		exit`
	both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
		prog := mk(load(t, src, vm.Options{Helpers: helpers}))
		r0, err := prog.Run(vm.NewEnv(), vm.Region{})
		if err != nil || r0 != 10<<32|45 {
			t.Fatalf("r0 = %#x, %v", r0, err)
		}
	})
}

func TestCallbackFaults(t *testing.T) {
	// A faulting callback ends the run with its fault, through the helper.
	src := `
		mov %r1, 3
		lddw %r2, func body
		mov %r3, 0
		mov %r4, 0
		call 181
		exit
	body:
		ldxdw %r0, [%r2]
		exit`
	prog := vm.NewChecked(load(t, src, vm.Options{Helpers: vm.Helpers{181: loopHelper}}))
	_, err := prog.Run(vm.NewEnv(), vm.Region{})
	if !errors.Is(err, vm.ErrMemory) || !strings.HasPrefix(err.Error(), "insn 5: insn 7: ") {
		t.Fatalf("got %v", err)
	}
	// A value that is not a function of the program is refused.
	src = `
		mov %r1, 1
		mov %r2, 12345
		mov %r3, 0
		mov %r4, 0
		call 181
		exit`
	prog = vm.NewChecked(load(t, src, vm.Options{Helpers: vm.Helpers{181: loopHelper}}))
	if _, err := prog.Run(vm.NewEnv(), vm.Region{}); !errors.Is(err, vm.ErrBadPointer) {
		t.Fatalf("got %v", err)
	}
}

// TestCallbackDepth: callbacks take frames; the eighth frame is the last.
func TestCallbackDepth(t *testing.T) {
	// main -> f1 .. f6 (7 frames) -> callback (8th) is allowed; from f7 it is not.
	build := func(calls int) string {
		var b strings.Builder
		b.WriteString("call local f1\nexit\n")
		for k := 1; k <= calls; k++ {
			if k < calls {
				b.WriteString("f" + string(rune('0'+k)) + ":\ncall local f" + string(rune('1'+k)) + "\nexit\n")
				continue
			}
			b.WriteString("f" + string(rune('0'+k)) + ":\nmov %r1, 1\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n")
		}
		b.WriteString("cb:\nmov %r0, 0\nexit\n")
		return b.String()
	}
	both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
		opts := vm.Options{Helpers: vm.Helpers{181: loopHelper}}
		if r0, err := mk(load(t, build(6), opts)).Run(vm.NewEnv(), vm.Region{}); err != nil || r0 != 1 {
			t.Errorf("8 frames: %d, %v", r0, err)
		}
		if _, err := mk(load(t, build(7), opts)).Run(vm.NewEnv(), vm.Region{}); !errors.Is(err, vm.ErrCallDepth) {
			t.Errorf("9 frames: %v", err)
		}
	})
}

// valueMap is a map with one 16-byte value, looked up by helper 1 like
// bpf_map_lookup_elem (returning its address and declaring it).
type valueMap struct{ value [2]uint64 }

func lookupHelper(env *vm.Env, m, key, _, _, _ uint64) uint64 {
	h := env.Map(m)
	if h == nil {
		return 0
	}
	if _, err := env.Memory(key, 4, false); err != nil {
		return 0
	}
	vm := h.Map.(*valueMap)
	env.Declare(bytesOf(&vm.value))
	return uint64(uintptr(unsafe.Pointer(&vm.value)))
}

func bytesOf(v *[2]uint64) vm.Region {
	return vm.Region{Base: unsafe.Pointer(v), Size: unsafe.Sizeof(*v), Writable: true}
}

type testResolver struct {
	maps   map[int32]*vm.MapHandle
	values map[int32]vm.Region
	kvar   vm.Region
}

func (r testResolver) Map(src isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	if h, ok := r.maps[ref]; ok && src == isa.PseudoMapFD {
		return h, nil
	}
	return nil, errors.New("bad fd")
}

func (r testResolver) MapValue(src isa.PseudoSource, ref int32) (vm.Region, error) {
	if v, ok := r.values[ref]; ok && src == isa.PseudoMapValue {
		return v, nil
	}
	return vm.Region{}, errors.New("bad fd")
}

func (r testResolver) KernelVariable(id, fd int32) (vm.Region, error) {
	if id == 7 && fd == 0 {
		return r.kvar, nil
	}
	return vm.Region{}, errors.New("no such variable")
}

func (testResolver) Kfunc(id int32, index int16) (vm.HelperFunc, error) {
	if id == 99 && index == 0 {
		return func(_ *vm.Env, r1, r2, _, _, _ uint64) uint64 { return r1 * r2 }, nil
	}
	return nil, errors.New("no such kfunc")
}

func TestMapsAndResolver(t *testing.T) {
	m := &valueMap{}
	global := &[2]uint64{5, 0}
	kvar := &[2]uint64{40, 2}
	res := testResolver{
		maps:   map[int32]*vm.MapHandle{3: vm.NewMapHandle(m)},
		values: map[int32]vm.Region{4: bytesOf(global)},
		kvar:   vm.Region{Base: unsafe.Pointer(kvar), Size: 16},
	}
	src := `
		stw [%r10-4], 0
		lddw %r1, map_fd 3
		mov %r2, %r10
		add %r2, -4
		call 1
		jeq %r0, 0, out
		# value[1] += 1 through the returned pointer
		ldxdw %r1, [%r0+8]
		add %r1, 1
		stxdw [%r0+8], %r1
		# a global: map value of fd 4 at offset 8 = global[1] = global[0] * 3
		lddw %r2, map_value 4, 8
		lddw %r3, map_value 4, 0
		ldxdw %r4, [%r3]
		mul %r4, 3
		stxdw [%r2], %r4
		# a kernel variable, read only
		lddw %r5, btf_id 7
		ldxdw %r1, [%r5]
		ldxdw %r2, [%r5+8]
		call kfunc 99
	out:
		exit`
	both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
		img := load(t, src, vm.Options{Helpers: vm.Helpers{1: lookupHelper}, Resolver: res})
		r0, err := mk(img).Run(vm.NewEnv(), vm.Region{})
		if err != nil || r0 != 80 {
			t.Fatalf("r0 = %d, %v", r0, err)
		}
	})
	if m.value[1] != 2 || global[1] != 15 {
		t.Errorf("map value %d (want 2), global %d (want 15)", m.value[1], global[1])
	}

	// Checked mode refuses writes to read-only memory, and memory helpers did
	// not declare.
	write := `
		lddw %r5, btf_id 7
		stdw [%r5], 1
		mov %r0, 0
		exit`
	_, err := vm.NewChecked(load(t, write, vm.Options{Resolver: res})).Run(vm.NewEnv(), vm.Region{})
	if !errors.Is(err, vm.ErrMemory) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write to a kernel variable: %v", err)
	}
	undeclared := func(env *vm.Env, _, _, _, _, _ uint64) uint64 {
		return uint64(uintptr(unsafe.Pointer(&m.value)))
	}
	read := "call 1\nldxdw %r0, [%r0]\nexit"
	_, err = vm.NewChecked(load(t, read, vm.Options{Helpers: vm.Helpers{1: undeclared}})).Run(vm.NewEnv(), vm.Region{})
	if !errors.Is(err, vm.ErrMemory) {
		t.Errorf("undeclared helper memory: %v", err)
	}
	// A map register that is not a map of the program gives nil to helpers.
	fake := "mov %r1, 1234\nmov %r2, %r10\nadd %r2, -4\nstw [%r10-4], 0\ncall 1\nexit"
	r0, err := vm.NewChecked(load(t, fake, vm.Options{Helpers: vm.Helpers{1: lookupHelper}})).Run(vm.NewEnv(), vm.Region{})
	if err != nil || r0 != 0 {
		t.Errorf("fake map: %#x, %v", r0, err)
	}
}

// progArray is a ProgArray for tests.
type progArray []*vm.Program

func (a progArray) Len() uint32                  { return uint32(len(a)) }
func (a progArray) Program(i uint32) *vm.Program { return a[i] }

func TestTailCall(t *testing.T) {
	both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
		array := make(progArray, 3)
		res := testResolver{maps: map[int32]*vm.MapHandle{1: vm.NewMapHandle(array)}}
		// The callee sees the caller's r1 and its own fresh view of the frame.
		callee := mk(load(t, "ldxdw %r0, [%r1]\nadd %r0, 1000\nexit", vm.Options{}))
		array[2] = callee
		caller := mk(load(t, `
			mov %r6, %r1
			lddw %r2, map_fd 1
			mov %r3, 1
			call 12
			# slot 1 is empty: falls through
			mov %r1, %r6
			lddw %r2, map_fd 1
			mov %r3, 2
			call 12
			mov %r0, -1
			exit`, vm.Options{Resolver: res}))
		ctx := []byte{7, 0, 0, 0, 0, 0, 0, 0}
		r0, err := caller.Run(vm.NewEnv(), vm.Bytes(ctx, false))
		if err != nil || r0 != 1007 {
			t.Fatalf("r0 = %d, %v", r0, err)
		}
		// A program of the other mode is not a target: the call falls through.
		if callee.Checked() {
			array[2] = vm.NewVerified(callee.Image())
		} else {
			array[2] = vm.NewChecked(callee.Image())
		}
		if r0, err := caller.Run(vm.NewEnv(), vm.Bytes(ctx, false)); err != nil || r0 != ^uint64(0) {
			t.Fatalf("mixed modes: r0 = %d, %v", r0, err)
		}
	})
	// Checked mode: r2 must be a prog array of the program.
	res := testResolver{maps: map[int32]*vm.MapHandle{1: vm.NewMapHandle(&valueMap{})}}
	for _, src := range []string{
		"mov %r2, 99\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
		"lddw %r2, map_fd 1\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
	} {
		_, err := vm.NewChecked(load(t, src, vm.Options{Resolver: res})).Run(vm.NewEnv(), vm.Region{})
		if !errors.Is(err, vm.ErrBadPointer) {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestTailCallFromSubprogram: a tail call replaces the running function;
// its exit returns to the caller's caller in the original program.
func TestTailCallFromSubprogram(t *testing.T) {
	both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
		array := make(progArray, 1)
		res := testResolver{maps: map[int32]*vm.MapHandle{1: vm.NewMapHandle(array)}}
		array[0] = mk(load(t, "mov %r0, 40\nexit", vm.Options{}))
		prog := mk(load(t, `
			mov %r6, 2
			call local f
			add %r0, %r6
			exit
		f:
			lddw %r2, map_fd 1
			mov %r3, 0
			call 12
			mov %r0, 0
			exit`, vm.Options{Resolver: res}))
		if r0, err := prog.Run(vm.NewEnv(), vm.Region{}); err != nil || r0 != 42 {
			t.Fatalf("r0 = %d, %v", r0, err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range []struct {
		src   string
		opts  vm.Options
		err   error
		index int
	}{
		{"call 1\nexit", vm.Options{}, vm.ErrUnknownHelper, 0},
		{"mov %r0, 0\ncall -1\nexit", vm.Options{}, vm.ErrUnknownHelper, 1},
		{"lddw %r1, map_fd 3\nexit", vm.Options{}, vm.ErrUnresolved, 0},
		{"lddw %r1, map_fd 3\nexit", vm.Options{Resolver: testResolver{}}, vm.ErrUnresolved, 0},
		{"lddw %r1, map_value 4, 16\nexit", vm.Options{Resolver: testResolver{values: map[int32]vm.Region{4: {Size: 16}}}}, vm.ErrUnresolved, 0},
		{"call kfunc 1\nexit", vm.Options{Resolver: testResolver{}}, vm.ErrUnresolved, 0},
		{"call kfunc 1\nexit", vm.Options{}, vm.ErrUnresolved, 0},
		{"lddw %r1, btf_id 8\nexit", vm.Options{Resolver: testResolver{}}, vm.ErrUnresolved, 0},
		{"ja +5\nexit", vm.Options{}, vm.ErrJump, 0},
		{"jeq %r1, 0, -2\nexit", vm.Options{}, vm.ErrJump, 0},
		{"call local +5\nexit", vm.Options{}, vm.ErrJump, 0},
		{"lddw %r1, func -3\nexit", vm.Options{}, vm.ErrJump, 0},
		{"mov %r0, 0", vm.Options{}, vm.ErrFallThrough, 0},
		{"mov %r0, 0\njeq %r0, 0, -2", vm.Options{}, vm.ErrFallThrough, 1},
		{"ldxdw %r10, [%r1]\nexit", vm.Options{}, vm.ErrFramePointer, 0},
		{"lock xchg [%r1], %r10\nexit", vm.Options{}, vm.ErrFramePointer, 0},
		{"addr_space_cast %r1, %r2, 1, 0\nexit", vm.Options{}, vm.ErrNotSupported, 0},
		{"exit\nexit\nstw [%r1], 1", vm.Options{}, isa.ErrInvalid, 2},
	} {
		insns := assemble(t, tt.src)
		if tt.err == isa.ErrInvalid {
			insns[2].Src = 1
		}
		_, err := vm.Load(insns, tt.opts)
		var ve *vm.Error
		if !errors.Is(err, tt.err) || !errors.As(err, &ve) || ve.Index != tt.index {
			t.Errorf("%q: %v, want %v at %d", tt.src, err, tt.err, tt.index)
		}
	}
	if _, err := vm.Load(nil, vm.Options{}); !errors.Is(err, vm.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	big := make([]isa.Instruction, vm.MaxInstructions+1)
	if _, err := vm.Load(big, vm.Options{}); !errors.Is(err, vm.ErrTooBig) {
		t.Errorf("too big: %v", err)
	}
	many := strings.Repeat("call local +0\n", vm.MaxSubprograms) + "exit"
	if _, err := vm.Load(assemble(t, many), vm.Options{}); !errors.Is(err, vm.ErrTooBig) {
		t.Errorf("too many functions: %v", err)
	}
}

func TestImageAccessors(t *testing.T) {
	img := load(t, "lddw %r1, 1\ncall local f\nexit\nf:\nmov %r0, 1\nexit", vm.Options{})
	if got := img.Functions(); len(got) != 2 || got[0] != 0 || got[1] != 4 {
		t.Errorf("functions %v", got)
	}
	if ops := img.Ops(); ops[0] != isa.OpLoadImm64 || ops[1] != isa.OpImm64High || len(img.Instructions()) != 6 {
		t.Errorf("ops %v", ops)
	}
	p := vm.NewChecked(img)
	if !p.Checked() || p.Image() != img || vm.NewVerified(img).Checked() {
		t.Error("mode accessors")
	}
}

func TestRunFaults(t *testing.T) {
	for _, tt := range []struct {
		src   string
		err   error
		index int
	}{
		{"mov %r0, %r3\nexit", vm.ErrUninit, 0},
		{"ldxdw %r0, [%r1+8]\nexit", vm.ErrMemory, 0},
		{"stb [%r1], 1\nmov %r0, 0\nexit", vm.ErrMemory, 0},
		{"mov %r0, 0\nlock add [%r10-7], %r0\nexit", vm.ErrMemory, 1},
		{"mov %r0, 0\nstxrelh [%r10-3], %r0\nexit", vm.ErrMemory, 1},
		{"loop: ja loop", vm.ErrStepLimit, 0},
		{"mov %r2, 77\ncallx %r2\nexit", vm.ErrBadPointer, 1},
	} {
		prog := vm.NewChecked(load(t, tt.src, vm.Options{}))
		env := vm.NewEnv()
		env.StepLimit = 1000
		ctx := make([]byte, 8)
		_, err := prog.Run(env, vm.Bytes(ctx, false))
		var ve *vm.Error
		if !errors.Is(err, tt.err) || !errors.As(err, &ve) || ve.Index != tt.index {
			t.Errorf("%q: %v, want %v at %d", tt.src, err, tt.err, tt.index)
		}
	}
}

func TestBusy(t *testing.T) {
	env := vm.NewEnv()
	var inner *vm.Program
	var innerErr error
	reenter := func(env *vm.Env, _, _, _, _, _ uint64) uint64 {
		_, innerErr = inner.Run(env, vm.Region{})
		return 0
	}
	inner = vm.NewChecked(load(t, "mov %r0, 0\nexit", vm.Options{}))
	outer := vm.NewChecked(load(t, "call 1\nexit", vm.Options{Helpers: vm.Helpers{1: reenter}}))
	if _, err := outer.Run(env, vm.Region{}); err != nil || !errors.Is(innerErr, vm.ErrBusy) {
		t.Fatalf("outer %v, inner %v", err, innerErr)
	}
	// The env is usable again afterwards.
	if _, err := inner.Run(env, vm.Region{}); err != nil {
		t.Fatal(err)
	}
}

func TestEnvAccessors(t *testing.T) {
	var seen struct {
		prog    *vm.Program
		ctx     vm.Region
		checked bool
		cpu     uint32
		cookie  uint64
	}
	spy := func(env *vm.Env, _, _, _, _, _ uint64) uint64 {
		seen.prog, seen.ctx, seen.checked, seen.cpu, seen.cookie = env.Program(), env.Context(), env.Checked(), env.CPU, env.Cookie
		return 0
	}
	prog := vm.NewChecked(load(t, "call 1\nexit", vm.Options{Helpers: vm.Helpers{1: spy}}))
	env := vm.NewEnv()
	env.CPU, env.Cookie = 3, 0xc00c1e
	ctx := vm.Bytes(make([]byte, 4), true)
	if _, err := prog.Run(env, ctx); err != nil {
		t.Fatal(err)
	}
	if seen.prog != prog || seen.ctx != ctx || !seen.checked || seen.cpu != 3 || seen.cookie != 0xc00c1e {
		t.Errorf("seen %+v", seen)
	}
	if env.Program() != nil || env.Checked() {
		t.Error("env still holds the program after the run")
	}
}

// TestMemoryHelper: env.Memory checks a checked program's pointers.
func TestMemoryHelper(t *testing.T) {
	sum := func(env *vm.Env, p, n, _, _, _ uint64) uint64 {
		b, err := env.Memory(p, n, false)
		if err != nil {
			return ^uint64(13) // -EFAULT
		}
		s := uint64(0)
		for _, c := range b {
			s += uint64(c)
		}
		return s
	}
	src := `
		stdw [%r10-8], 0x01020304
		mov %r1, %r10
		add %r1, -8
		mov %r2, 8
		call 1
		mov %r6, %r0
		mov %r1, %r10
		mov %r2, 1
		call 1
		# 10 in the low half, -EFAULT above
		lsh %r0, 32
		or %r0, %r6
		exit`
	r0, err := vm.NewChecked(load(t, src, vm.Options{Helpers: vm.Helpers{1: sum}})).Run(vm.NewEnv(), vm.Region{})
	if efault := ^uint64(13); err != nil || r0 != efault<<32|10 {
		t.Fatalf("r0 = %#x, %v", r0, err)
	}
}

// TestAllocs: runs allocate nothing, in either mode, across helper calls,
// bpf-to-bpf calls, callbacks and tail calls.
func TestAllocs(t *testing.T) {
	array := make(progArray, 1)
	res := testResolver{maps: map[int32]*vm.MapHandle{1: vm.NewMapHandle(array)}}
	opts := vm.Options{Helpers: vm.Helpers{5: func(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }, 181: loopHelper}, Resolver: res}
	src := `
		mov %r6, %r1
		stdw [%r10-8], 1
		call local f
		mov %r1, 3
		lddw %r2, func cb
		mov %r3, 0
		mov %r4, 0
		call 181
		mov %r1, %r6
		lddw %r2, map_fd 1
		mov %r3, 0
		call 12
		exit
	f:
		ldxdw %r1, [%r10+504]
		call 5
		exit
	cb:
		mov %r0, 0
		exit`
	for _, mk := range []func(*vm.Image) *vm.Program{vm.NewChecked, vm.NewVerified} {
		prog := mk(load(t, src, opts))
		array[0] = mk(load(t, "ldxb %r0, [%r1]\nexit", vm.Options{}))
		env := vm.NewEnv()
		ctx := vm.Bytes([]byte{9}, false)
		allocs := testing.AllocsPerRun(100, func() {
			if r0, err := prog.Run(env, ctx); err != nil || r0 != 9 {
				t.Fatalf("r0 = %d, %v", r0, err)
			}
		})
		if allocs != 0 {
			t.Errorf("checked=%v: %v allocations per run", prog.Checked(), allocs)
		}
	}
}

// TestConcurrent runs one program on several goroutines at once, each with
// its own Env, all adding atomically to one counter. Run with -race.
func TestConcurrent(t *testing.T) {
	src := `
		mov %r6, %r1
		stdw [%r10-8], 0
		mov %r7, 0
	loop:
		ldxdw %r2, [%r10-8]
		add %r2, 1
		stxdw [%r10-8], %r2
		mov %r1, 1
		lock add [%r6], %r1
		add %r7, 1
		jlt %r7, 100, loop
		ldxdw %r0, [%r10-8]
		exit`
	for _, mk := range []func(*vm.Image) *vm.Program{vm.NewChecked, vm.NewVerified} {
		prog := mk(load(t, src, vm.Options{}))
		counter := new(uint64)
		ctx := vm.Region{Base: unsafe.Pointer(counter), Size: 8, Writable: true}
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env := vm.NewEnv()
				for i := 0; i < 200; i++ {
					if r0, err := prog.Run(env, ctx); err != nil || r0 != 100 {
						t.Errorf("r0 = %d, %v", r0, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if *counter != 4*200*100 {
			t.Errorf("checked=%v: counter %d", prog.Checked(), *counter)
		}
	}
}
