//go:build tamago && amd64

#include "go_asm.h"
#include "textflag.h"

// Trap entries of Hachi's own IDT gates: the breakpoint (#BP, vector 3,
// on IST1), the sampling timer (timerVector, on IST1) and the IPI that
// sets up and synchronises the other CPUs.
// Offsets below are checked against the Go declarations by trapInit
// (trapCheckLayout) and by the tamago tests.

// trapCPU (trap.go): per-CPU block, its address is the CPU's GS base.
// The TSS is its first field (Intel SDM vol. 3A, 8.7: IST1 at 0x24,
// IST2 at 0x2c).
#define CPU_IST1	0x24
#define CPU_IST2	0x2c
#define CPU_INDEX	trapCPU_index
#define CPU_TIMER_LVT	trapCPU_timerLVT

// runtime.g and runtime.m (Go 1.26 runtime/runtime2.go).
#define G_STACK_LO	0
#define G_STACK_HI	8
#define G_STACKGUARD0	16
#define G_M		48
#define M_GSIGNAL	72

// stackGuard is the runtime's stackGuard on amd64 (928: StackNosplit 800
// + StackSmall 128): the distance from stack.lo to stackguard0.
#define STACKGUARD	928
// NESTED is the bottom of the gsignal stack kept for a trap taken inside
// a trap handler (see trap.go).
#define NESTED		8192
// NESTED_FLOOR is the bottom of that part kept to detect a third trap.
#define NESTED_FLOOR	2048

#define LAPIC_ID	0xfee00020
#define LAPIC_EOI	0xfee000b0
#define LAPIC_LVT_TIMER	0xfee00320
#define LAPIC_TIMER_INITIAL	0xfee00380
#define LAPIC_TIMER_DIVIDE	0xfee003e0
#define MSR_GS_BASE	0xc0000101

// GS-relative moves with a 32-bit absolute offset (mov r64, gs:[disp32]
// and mov gs:[disp32], r64; mov dword gs:[disp32], imm32), which the Go
// assembler does not spell.
#define GS_LOAD_BX(off)		BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x1c; BYTE $0x25; LONG $off
#define GS_STORE_BX(off)	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x1c; BYTE $0x25; LONG $off
#define GS_STORE_SI(off)	BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x34; BYTE $0x25; LONG $off
#define GS_STORE_IMM32(off, imm)	BYTE $0x65; BYTE $0xc7; BYTE $0x04; BYTE $0x25; LONG $off; LONG $imm
#define GS_LOAD_AX(off)		BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x04; BYTE $0x25; LONG $off

// PUSH_PT_REGS pushes orig_ax (-1: not a system call) and the general
// registers below the frame the CPU pushed (SS, RSP, RFLAGS, CS, RIP):
// Linux's struct pt_regs. The assembler's push count must balance at RET,
// so orig_ax is pushed as raw bytes (PUSHQ $-1).
#define PUSH_PT_REGS \
	BYTE	$0x6a; BYTE $0xff; \
	PUSHQ	DI; \
	PUSHQ	SI; \
	PUSHQ	DX; \
	PUSHQ	CX; \
	PUSHQ	AX; \
	PUSHQ	R8; \
	PUSHQ	R9; \
	PUSHQ	R10; \
	PUSHQ	R11; \
	PUSHQ	BX; \
	PUSHQ	BP; \
	PUSHQ	R12; \
	PUSHQ	R13; \
	PUSHQ	R14; \
	PUSHQ	R15

// POP_PT_REGS restores the general registers PUSH_PT_REGS saved, leaving
// orig_ax on the stack.
#define POP_PT_REGS \
	POPQ	R15; \
	POPQ	R14; \
	POPQ	R13; \
	POPQ	R12; \
	POPQ	BP; \
	POPQ	BX; \
	POPQ	R11; \
	POPQ	R10; \
	POPQ	R9; \
	POPQ	R8; \
	POPQ	AX; \
	POPQ	CX; \
	POPQ	DX; \
	POPQ	SI; \
	POPQ	DI

// SAVE_FPU sets R12 to the pt_regs just pushed and saves the FPU/SSE
// state below it (the Go code uses X registers, and its ABI wrappers
// zero X15); the Go code keeps no register, so R12 is kept on the stack.
#define SAVE_FPU \
	MOVQ	SP, R12; \
	CLD; \
	SUBQ	$512, SP; \
	ANDQ	$~15, SP; \
	FXSAVE64	(SP); \
	PUSHQ	R12; \
	PUSHQ	R12

// RESTORE_FPU undoes SAVE_FPU: R12 and SP are the pt_regs again.
#define RESTORE_FPU \
	POPQ	R12; \
	POPQ	R12; \
	FXRSTOR64	(SP); \
	MOVQ	R12, SP

// FIND_GSIGNAL loads the interrupted g into AX, its m's gsignal into DX
// and gsignal's stack.lo into SI, or jumps to none when there is no g, m
// or gsignal (code that runs before the runtime set them up).
#define FIND_GSIGNAL(none) \
	MOVQ	(TLS), AX; \
	TESTQ	AX, AX; \
	JZ	none; \
	MOVQ	G_M(AX), CX; \
	TESTQ	CX, CX; \
	JZ	none; \
	MOVQ	M_GSIGNAL(CX), DX; \
	TESTQ	DX, DX; \
	JZ	none; \
	MOVQ	G_STACK_LO(DX), SI

// ENTER_GSIGNAL makes gsignal (DX) the TLS g and R14 for Go code that may
// use its stack down to SI: IST1 moves to SI (a trap taken inside the Go
// code enters there) and gsignal's stackguard0 to SI + STACKGUARD (going
// deeper throws instead of overwriting). It pushes what LEAVE_GSIGNAL
// restores: the interrupted g (AX), IST1, gsignal's stack guard and
// gsignal.
#define ENTER_GSIGNAL \
	GS_LOAD_BX(CPU_IST1); \
	PUSHQ	AX; \
	PUSHQ	BX; \
	PUSHQ	G_STACKGUARD0(DX); \
	PUSHQ	DX; \
	GS_STORE_SI(CPU_IST1); \
	LEAQ	STACKGUARD(SI), DI; \
	MOVQ	DI, G_STACKGUARD0(DX); \
	MOVQ	DX, (TLS); \
	MOVQ	DX, R14

// LEAVE_GSIGNAL puts back IST1, gsignal's stack guard and the
// interrupted g as TLS g.
#define LEAVE_GSIGNAL \
	POPQ	DX; \
	POPQ	G_STACKGUARD0(DX); \
	POPQ	BX; \
	GS_STORE_BX(CPU_IST1); \
	POPQ	AX; \
	MOVQ	AX, (TLS)

// trapBreakpointEntry is the #BP gate (IST1). It saves the pt_regs and
// the FPU/SSE state, makes the M's gsignal (whose stack the IST stack is)
// the TLS g, and runs trapBreakpoint(frame, cpu); it returns whether the
// breakpoint was a probe's. If it was not (or no g can be found),
// everything is put back and TamaGo's own vector 3 handler runs as if
// called directly.
TEXT ·trapBreakpointEntry(SB),NOSPLIT|NOFRAME,$0
	PUSH_PT_REGS
	SAVE_FPU
	MOVQ	$0, R13		// R13: handled
	FIND_GSIGNAL(restore_regs)

	// The Go code of this trap may use the gsignal stack down to its
	// floor: stack.lo + NESTED for a trap from outside (the part below
	// is left for a trap taken inside this one, which IST1 now points
	// to), stack.lo + NESTED_FLOOR for a trap taken inside a trap
	// handler. A trap inside that one (it never runs a handler, so it
	// should not happen) cannot be served: TamaGo's handler reports it.
	CMPQ	AX, DX
	JNE	outer
	ADDQ	$NESTED_FLOOR, SI
	CMPQ	R12, SI
	JCS	restore_regs
	JMP	floor
outer:
	ADDQ	$NESTED, SI
floor:
	ENTER_GSIGNAL
	GS_LOAD_AX(CPU_INDEX)
	SUBQ	$24, SP
	MOVQ	R12, 0(SP)
	MOVQ	AX, 8(SP)
	CALL	·trapBreakpoint(SB)
	MOVBQZX	16(SP), R13
	ADDQ	$24, SP
	LEAVE_GSIGNAL

restore_regs:
	RESTORE_FPU
	TESTQ	R13, R13
	JNZ	pop
	// Not a probe's: orig_ax becomes TamaGo's gate, which the RET
	// below jumps to with the hardware frame on the stack.
	MOVQ	·trapPrevBreakpoint(SB), AX
	MOVQ	AX, 120(SP)
pop:
	POP_PT_REGS
	CMPQ	0(SP), $-1
	JNE	foreign
	LEAQ	8(SP), SP	// orig_ax
	IRETQ
foreign:
	// TamaGo's gate: a CALL into its exception handler, which finds
	// the vector from the return address it pushes.
	RET

// trapTimerEntry is the gate of timerVector (IST1): the local APIC
// timer's sampling deadline, or another CPU's IPI asking this one to
// program its timer again. Like the breakpoint it saves the pt_regs and
// runs trapTimer(frame, cpu) on gsignal, which may use the stack down to
// stack.lo + NESTED (a breakpoint hit in it enters below). Interrupt
// gates clear IF and no trap handler sets it, so the gate never
// interrupts a trap handler: if it finds gsignal running anyway, or no g
// (code running before the runtime set it up), it cannot run Go code and
// asks the timer for another interrupt shortly (timerRetryCount).
// It signals the end of the interrupt to the local APIC, then returns to
// the interrupted code.
TEXT ·trapTimerEntry(SB),NOSPLIT|NOFRAME,$0
	PUSH_PT_REGS
	SAVE_FPU
	FIND_GSIGNAL(retry)
	CMPQ	AX, DX
	JEQ	retry
	ADDQ	$NESTED, SI
	ENTER_GSIGNAL
	GS_LOAD_AX(CPU_INDEX)
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	MOVQ	AX, 8(SP)
	CALL	·trapTimer(SB)
	ADDQ	$16, SP
	LEAVE_GSIGNAL
	JMP	eoi
retry:
	MOVL	$LAPIC_TIMER_DIVIDE, AX
	MOVL	$const_timerDivideBy1, (AX)
	MOVL	$LAPIC_LVT_TIMER, AX
	MOVL	$const_timerVector, (AX)
	GS_STORE_IMM32(CPU_TIMER_LVT, const_timerVector)
	MOVL	·timerRetryCount(SB), BX
	MOVL	$LAPIC_TIMER_INITIAL, AX
	MOVL	BX, (AX)
eoi:
	MOVL	$LAPIC_EOI, AX
	MOVL	$0, (AX)
	RESTORE_FPU
	POP_PT_REGS
	LEAQ	8(SP), SP	// orig_ax
	IRETQ

// trapIPIEntry is the gate of trapIPIVector: the per-CPU set-up
// (trapIPIOp == ipiInit), or nothing but the interrupt return, which
// serialises instruction fetch after code was changed (Intel SDM vol. 3A,
// 8.1.3: cross-modifying code). It acknowledges by counting in
// trapIPIAcks.
TEXT ·trapIPIEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	MOVL	·trapIPIOp(SB), AX
	CMPL	AX, $1
	JNE	ack
	CALL	trapSetupCPU<>(SB)
ack:
	LOCK
	INCL	·trapIPIAcks(SB)
	MOVL	$LAPIC_EOI, AX
	MOVL	$0, (AX)
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	IRETQ

// trapSetupCPU<> sets up the running CPU for traps: its index is its
// local APIC ID; it loads Hachi's GDT and the CPU's TSS (for the IST
// stacks), points GS at the CPU's trapCPU and IST1 at the top of its M's
// gsignal stack. Changes AX, BX, CX, DX, SI, DI.
TEXT trapSetupCPU<>(SB),NOSPLIT|NOFRAME,$0
	MOVL	$LAPIC_ID, BX
	MOVL	(BX), SI
	SHRL	$24, SI			// SI: CPU index
	MOVQ	$·trapGDTR(SB), AX
	LGDT	(AX)
	MOVQ	SI, AX
	SHLQ	$4, AX
	ADDQ	$0x18, AX		// TSS selector: 0x18 + 16*index
	MOVQ	$·trapGDT(SB), BX	// mark the TSS available: LTR of a
	MOVB	$0x89, 5(BX)(AX*1)	// busy one faults (set-up again)
	LTR	AX
	MOVQ	$·trapCPUs(SB), DI
	MOVQ	SI, AX
	IMULQ	$trapCPU__size, AX
	ADDQ	AX, DI			// DI: this CPU's trapCPU
	MOVQ	SI, CPU_INDEX(DI)
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	MOVL	$MSR_GS_BASE, CX
	WRMSR
	MOVQ	(TLS), AX		// g -> m -> gsignal -> stack.hi
	TESTQ	AX, AX
	JZ	nog
	MOVQ	G_M(AX), AX
	TESTQ	AX, AX
	JZ	nog
	MOVQ	M_GSIGNAL(AX), AX
	TESTQ	AX, AX
	JZ	nog
	MOVQ	G_STACK_HI(AX), AX
	ANDQ	$~15, AX
	MOVQ	AX, CPU_IST1(DI)
nog:
	MOVQ	DI, AX			// IST2: the top of the CPU's IPI stack
	ADDQ	$trapCPU__size, AX
	MOVQ	AX, CPU_IST2(DI)
	RET

// func trapSetupAll(icr uint32) int
//
// trapSetupCPU<> on the running CPU, then the IPI icr (the set-up IPI to
// every other CPU, or 0: none); returns the running CPU's index.
// Interrupts are off in between, so that the caller cannot move to
// another CPU.
TEXT ·trapSetupAll(SB),NOSPLIT,$0-16
	PUSHFQ
	CLI
	CALL	trapSetupCPU<>(SB)
	MOVL	icr+0(FP), AX
	TESTL	AX, AX
	JZ	done
	MOVL	$0xfee00300, BX
	MOVL	AX, (BX)
wait:
	PAUSE
	MOVL	(BX), AX
	TESTL	$(1<<12), AX
	JNZ	wait
done:
	POPFQ
	MOVQ	SI, ret+8(FP)
	RET

// func trapSendIPIOthers(icr uint32)
//
// Sends an IPI to every other CPU (ICR destination shorthand "all
// excluding self", Intel SDM vol. 3A, 11.6.1) and waits for its
// delivery.
TEXT ·trapSendIPIOthers(SB),NOSPLIT,$0-4
	MOVL	icr+0(FP), AX
	MOVL	$0xfee00300, BX
	MOVL	AX, (BX)
wait:
	PAUSE
	MOVL	(BX), AX
	TESTL	$(1<<12), AX		// delivery status: send pending
	JNZ	wait
	RET

// func trapSIDT() uint64
//
// The IDT's base address.
TEXT ·trapSIDT(SB),NOSPLIT,$16-8
	SIDT	0(SP)
	MOVQ	2(SP), AX
	MOVQ	AX, ret+0(FP)
	RET

// func trapGSBase() uint64
TEXT ·trapGSBase(SB),NOSPLIT,$0-8
	MOVL	$MSR_GS_BASE, CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func trapEntries() (breakpoint, ipi, timer uint64)
TEXT ·trapEntries(SB),NOSPLIT,$0-24
	MOVQ	$·trapBreakpointEntry(SB), AX
	MOVQ	AX, breakpoint+0(FP)
	MOVQ	$·trapIPIEntry(SB), AX
	MOVQ	AX, ipi+8(FP)
	MOVQ	$·trapTimerEntry(SB), AX
	MOVQ	AX, timer+16(FP)
	RET

// func trapInt3()
//
// A breakpoint that is nobody's probe: TamaGo's handler must get it.
TEXT ·trapInt3(SB),NOSPLIT,$0
	BYTE	$0xcc
	RET
