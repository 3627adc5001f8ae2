// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "go_asm.h"
#include "go_tls.h"
#include "textflag.h"

// The ELF entry point. The loader (QEMU's PVH boot, see the linker's
// .note.pvh) enters it in 32-bit protected mode: the JMP encodes the same
// in both modes. The board's runtime/goos.CPUInit switches to long mode, sets
// the stack pointer below RamStart+RamSize-RamStackOffset and jumps to
// _rt0_tamago_start.
TEXT _rt0_amd64_tamago(SB),NOSPLIT|NOFRAME,$0
	JMP	runtime∕goos·CPUInit(SB)

// _rt0_tamago_start initializes the runtime on the boot CPU, like rt0_go
// does for hosted systems, with the board hooks Hwinit0 (before the
// runtime exists) and Hwinit1 (after schedinit, before package init).
TEXT _rt0_tamago_start(SB),NOSPLIT|NOFRAME|TOPFRAME,$0
	ANDQ	$~15, SP
	MOVQ	$0, BP

	// g0 runs on the boot stack, 64 kB below the stack pointer (the
	// heap stops there, see mem_tamago.go).
	MOVQ	$runtime·g0(SB), DI
	LEAQ	(-64*1024)(SP), BX
	MOVQ	BX, g_stackguard0(DI)
	MOVQ	BX, g_stackguard1(DI)
	MOVQ	BX, (g_stack+stack_lo)(DI)
	MOVQ	SP, (g_stack+stack_hi)(DI)

	// processor information used by the runtime (as in rt0_go)
	MOVL	$0, AX
	CPUID
	CMPL	AX, $0
	JE	nocpuinfo
	CMPL	BX, $0x756E6547  // "Genu"
	JNE	notintel
	CMPL	DX, $0x49656E69  // "ineI"
	JNE	notintel
	CMPL	CX, $0x6C65746E  // "ntel"
	JNE	notintel
	MOVB	$1, runtime·isIntel(SB)
notintel:
	MOVL	$1, AX
	CPUID
	MOVL	AX, runtime·processorVersionInfo(SB)
nocpuinfo:

	// TLS through FS_BASE, g at -8(FS)
	LEAQ	runtime·m0+m_tls(SB), DI
	CALL	runtime·settls(SB)

	get_tls(BX)
	LEAQ	runtime·g0(SB), CX
	MOVQ	CX, g(BX)
	MOVQ	CX, R14
	LEAQ	runtime·m0(SB), AX
	MOVQ	CX, m_g0(AX)
	MOVQ	AX, g_m(CX)

	CLD	// convention is D is always left cleared

	CALL	runtime·check(SB)
	CALL	runtime·hwinit0(SB)
	CALL	runtime·osinit(SB)
	CALL	runtime·schedinit(SB)
	CALL	runtime·hwinit1(SB)

	// create a new goroutine to start program
	MOVQ	$runtime·mainPC(SB), AX
	PUSHQ	AX
	CALL	runtime·newproc(SB)
	POPQ	AX

	// start this M
	CALL	runtime·mstart(SB)

	CALL	runtime·abort(SB)	// mstart should never return
	RET

// settls(DI) sets FS_BASE so that -8(FS) is the word at DI, like the
// arch_prctl(ARCH_SET_FS) of hosted systems: the TLS slot for g is m.tls[0].
TEXT runtime·settls(SB),NOSPLIT|NOFRAME,$0
	ADDQ	$8, DI
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX	// IA32_FS_BASE
	WRMSR
	RET

// mstart_tamago is where a CPU started by newosproc (through the board's
// goos.Task) enters the runtime: SP is the top of m.g0's stack, R13 is the
// M and FS_BASE was set by settls(&m.tls[0]). g becomes m.g0.
TEXT runtime·mstart_tamago(SB),NOSPLIT|NOFRAME|TOPFRAME,$0
	MOVQ	$0, BP
	MOVQ	m_g0(R13), DX
	get_tls(CX)
	MOVQ	DX, g(CX)
	MOVQ	DX, R14
	CLD
	CALL	runtime·mstart(SB)
	CALL	runtime·abort(SB)
	RET

// WakeG asks the scheduler to wake the goroutine in AX, parked in
// time.Sleep, as soon as possible. It is called by interrupt handlers: it
// takes no lock, does not allocate and changes no register but AX, which
// returns 0 on success and 1 if the request could not be queued.
TEXT runtime·WakeG(SB),NOSPLIT|NOFRAME,$0-0
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	MOVQ	AX, DX
	TESTQ	DX, DX
	JZ	fail
	LEAQ	runtime·wakeQueue(SB), BX
	MOVQ	$const_wakeQueueLen, CX
next:
	XORQ	AX, AX
	LOCK
	CMPXCHGQ	DX, (BX)
	JEQ	ok	// free slot taken
	CMPQ	AX, DX
	JEQ	ok	// already queued
	ADDQ	$8, BX
	DECQ	CX
	JNZ	next
fail:
	MOVQ	$1, AX
	JMP	done
ok:
	MOVQ	$0, AX
done:
	POPQ	DX
	POPQ	CX
	POPQ	BX
	RET
