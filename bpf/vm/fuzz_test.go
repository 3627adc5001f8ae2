package vm_test

import (
	"bytes"
	"io/fs"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
	"hachi/bpf/vm/vmtest"
)

// fuzzOptions gives fuzzed programs the conformance helper, bpf_loop for
// callbacks, and a prog array (map fd 1) for tail calls.
func fuzzOptions(array progArray) vm.Options {
	return vm.Options{
		Helpers:  vm.Helpers{5: vmtest.Identity, 181: loopHelper},
		Resolver: testResolver{maps: map[int32]*vm.MapHandle{1: vm.NewMapHandle(array)}},
	}
}

// runTwice loads a program and runs it checked and then, if that succeeds,
// fast, from the same state: the same Image (so the same addresses of maps
// and functions), the same Env with a cleared stack and the same context
// buffer with its contents restored, so that even a program whose path
// depends on addresses takes the same path twice.
func runTwice(t *testing.T, insns []isa.Instruction, mem []byte) {
	array := make(progArray, 2)
	img, err := vm.Load(insns, fuzzOptions(array))
	if err != nil {
		return
	}
	env := vm.NewEnv()
	env.StepLimit = 1 << 14
	ctx := bytes.Clone(mem)
	run := func(prog *vm.Program) (uint64, []byte, error) {
		array[0] = prog
		copy(ctx, mem)
		vm.ClearStack(env)
		env.Packet = vm.Bytes(ctx, false)
		r0, err := prog.Run(env, vm.Bytes(ctx, true))
		return r0, bytes.Clone(ctx), err
	}
	r0, after, err := run(vm.NewChecked(img))
	if err != nil {
		return
	}
	r0Fast, afterFast, err := run(vm.NewVerified(img))
	if err != nil || r0Fast != r0 || !bytes.Equal(afterFast, after) {
		text, _ := asm.Disassemble(insns, asm.Conformance)
		t.Fatalf("checked: %#x % x; fast: %#x % x, %v\n%s", r0, after, r0Fast, afterFast, err, text)
	}
}

// FuzzChecked: no bytecode makes a checked run panic or touch memory
// outside its regions (the race detector's checkptr and the Go runtime
// would catch a stray pointer). And any program that runs to the end in
// checked mode (so every access it made was in bounds) computes the same
// r0 and memory in the fast mode: the two loops agree.
func FuzzChecked(f *testing.F) {
	if _, err := vmtest.SuiteDir(); err == nil {
		suite := vmtest.Suite(f)
		seeds, _ := fs.Glob(suite, "tests/*.data")
		for _, name := range seeds {
			text, err := fs.ReadFile(suite, name)
			if err != nil {
				f.Fatal(err)
			}
			d, err := asm.ParseDataFile(string(text))
			if err != nil {
				continue
			}
			if insns, err := d.Program(); err == nil {
				f.Add(isa.Encode(insns), d.Mem)
			}
		}
	}
	for _, src := range []string{
		"lddw %r2, map_fd 1\nmov %r3, 0\nldxb %r4, [%r1]\nadd %r4, 1\nstxb [%r1], %r4\ncall 12\nmov %r0, 0\nexit",
		"mov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit",
		"mov %r6, %r1\nldabsh 2\nldindb %r6, 0\nexit",
	} {
		insns, err := asm.Assemble(src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(isa.Encode(insns), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	}
	f.Fuzz(func(t *testing.T, code, mem []byte) {
		if insns, err := isa.Decode(code); err == nil {
			runTwice(t, insns, mem)
		}
	})
}
