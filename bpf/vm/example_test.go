package vm_test

import (
	"errors"
	"fmt"

	"hachi/bpf/asm"
	"hachi/bpf/vm"
)

// A program that reads its context, calls a helper and returns. Checked
// mode: a wrong access would be an error naming the instruction.
func ExampleProgram_Run() {
	insns, err := asm.Assemble(`
		ldxw %r1, [%r1+4]   # r1 = the second word of the context
		call 7              # a helper of this kernel: doubles its argument
		exit`)
	if err != nil {
		panic(err)
	}
	helpers := vm.Helpers{7: func(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return 2 * r1 }}
	img, err := vm.Load(insns, vm.Options{Helpers: helpers})
	if err != nil {
		panic(err)
	}
	prog := vm.NewChecked(img)
	env := vm.NewEnv() // one per CPU, reused by every run
	ctx := []byte{0, 0, 0, 0, 21, 0, 0, 0}
	r0, err := prog.Run(env, vm.Bytes(ctx, false))
	fmt.Println(r0, err)

	// A context too short for the load: a fault at instruction 0.
	_, err = prog.Run(env, vm.Bytes(ctx[:6], false))
	var fault *vm.Error
	fmt.Println(errors.As(err, &fault), fault.Index, errors.Is(err, vm.ErrMemory))
	// Output:
	// 42 <nil>
	// true 0 true
}
