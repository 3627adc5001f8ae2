package asm_test

import (
	"fmt"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
)

func ExampleAssemble() {
	insns, err := asm.Assemble(`
		mov %r0, 0
	loop:
		add %r0, 3
		jlt %r0, 10, loop   # labels, or +N / -N
		exit`)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", isa.Encode(insns))
	// Output:
	// b7 00 00 00 00 00 00 00 07 00 00 00 03 00 00 00 a5 00 fe ff 0a 00 00 00 95 00 00 00 00 00 00 00
}

func ExampleDisassemble() {
	insns, _ := asm.Assemble("ldxdw %r0, [%r1+8]\nlock fetch add [%r10-8], %r0\nexit")
	text, _ := asm.Disassemble(insns, asm.Conformance)
	fmt.Print(text)
	text, _ = asm.Disassemble(insns, asm.LLVM)
	fmt.Print(text)
	// Output:
	// ldxdw %r0, [%r1+8]
	// lock fetch add [%r10-8], %r0
	// exit
	//      0:	r0 = *(u64 *)(r1 + 8)
	//      1:	r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)
	//      2:	exit
}
