// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "go_asm.h"
#include "textflag.h"

// The ELF entry point. The board's runtime/goos.CPUInit sets the machine
// state and the stack pointer below RamStart+RamSize-RamStackOffset and
// jumps to _rt0_tamago_start.
TEXT _rt0_riscv64_tamago(SB),NOSPLIT|NOFRAME,$0
	JMP	runtime∕goos·CPUInit(SB)

// _rt0_tamago_start initializes the runtime on the boot hart, like rt0_go
// does for hosted systems, with the board hooks Hwinit0 (before the
// runtime exists) and Hwinit1 (after schedinit, before package init).
TEXT _rt0_tamago_start(SB),NOSPLIT|NOFRAME|TOPFRAME,$0
	AND	$~15, X2
	// g0 runs on the boot stack, 64 kB below the stack pointer (the
	// heap stops there, see mem_tamago.go).
	MOV	$(-64*1024), T0
	ADD	T0, X2, T1
	MOV	$runtime·g0(SB), g
	MOV	T1, g_stackguard0(g)
	MOV	T1, g_stackguard1(g)
	MOV	T1, (g_stack+stack_lo)(g)
	MOV	X2, (g_stack+stack_hi)(g)

	MOV	$runtime·m0(SB), T0
	MOV	g, m_g0(T0)
	MOV	T0, g_m(g)

	CALL	runtime·check(SB)
	CALL	runtime·hwinit0(SB)
	CALL	runtime·osinit(SB)
	CALL	runtime·schedinit(SB)
	CALL	runtime·hwinit1(SB)

	// create a new goroutine to start program
	MOV	$runtime·mainPC(SB), T0
	SUB	$16, X2
	MOV	T0, 8(X2)
	MOV	ZERO, 0(X2)
	CALL	runtime·newproc(SB)
	ADD	$16, X2

	// start this M
	CALL	runtime·mstart(SB)

	WORD	$0	// crash if reached
	RET

// mstart_tamago would start a hart for newosproc; the riscv64 boards start
// no other hart (there is no goos.Task), so it is never reached.
TEXT runtime·mstart_tamago(SB),NOSPLIT|NOFRAME|TOPFRAME,$0
	WORD	$0
	RET
