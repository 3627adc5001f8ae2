//go:build tamago && riscv64

#include "go_asm.h"
#include "textflag.h"
#include "csr.h"

// Hachi's machine-mode trap vector (mtvec, direct mode). mscratch holds the
// top of the trap stack (the M's gsignal stack) while no trap runs, 0
// while one does: a trap taken inside a trap handler stays on the current
// stack. Breakpoints (mcause 3) and the machine timer interrupt go to
// trapGo; any other trap is handed, registers restored, to the handler
// mtvec had before (TamaGo's, which prints the cause and panics).

// addi sp, sp, imm: stack moves on the trap stack, which the linker's
// nosplit accounting (of goroutine stacks) must not count.
#define ADDI_SP(imm)		WORD $(0x00010113 | (((imm)&0xfff)<<20))

// trapFrame (trap.go): struct pt_regs, the FP registers, and what the
// exit needs. xN is at 8*N in pt_regs (pc at 0).
#define F_STATUS	256
#define F_BADADDR	264
#define F_CAUSE		272
#define F_ORIGA0	280
#define F_FP		trapFrame_fp
#define F_FCSR		trapFrame_fcsr
#define F_TOP		trapFrame_top
#define F_G		trapFrame_g
#define FRAME		trapFrame__size

// runtime.g and runtime.m (Go 1.26 runtime/runtime2.go).
#define G_M		48
#define M_GSIGNAL	72

#define CAUSE_BREAKPOINT	3
// The interrupt bit (63) with the machine timer interrupt's code (7).
#define CAUSE_MACHINE_TIMER	0x8000000000000007

TEXT ·trapEntry(SB),NOSPLIT|NOFRAME,$0
	CSRRW(2, MSCRATCH, 2)		// swap sp and mscratch
	BEQ	X2, ZERO, nested
	// From outside a trap: sp is the trap stack's top, mscratch the
	// interrupted sp.
	ADDI_SP(-FRAME)
	MOV	X5, 40(X2)
	CSRRS(5, MSCRATCH, 0)
	MOV	X5, 16(X2)		// the interrupted sp
	ADD	$FRAME, X2, X5
	MOV	X5, F_TOP(X2)		// the top, for mscratch at exit
	CSRRW(0, MSCRATCH, 0)		// in a trap
	JMP	saved
nested:
	CSRRW(2, MSCRATCH, 2)		// back: sp is the handler's sp, mscratch 0
	ADDI_SP(-FRAME)
	MOV	X5, 40(X2)
	ADD	$FRAME, X2, X5
	MOV	X5, 16(X2)
	MOV	ZERO, F_TOP(X2)		// nested: mscratch stays 0 at exit
saved:
	MOV	X1, 8(X2)
	MOV	X3, 24(X2)
	MOV	TP, 32(X2)
	MOV	X6, 48(X2)
	MOV	X7, 56(X2)
	MOV	X8, 64(X2)
	MOV	X9, 72(X2)
	MOV	X10, 80(X2)
	MOV	X11, 88(X2)
	MOV	X12, 96(X2)
	MOV	X13, 104(X2)
	MOV	X14, 112(X2)
	MOV	X15, 120(X2)
	MOV	X16, 128(X2)
	MOV	X17, 136(X2)
	MOV	X18, 144(X2)
	MOV	X19, 152(X2)
	MOV	X20, 160(X2)
	MOV	X21, 168(X2)
	MOV	X22, 176(X2)
	MOV	X23, 184(X2)
	MOV	X24, 192(X2)
	MOV	X25, 200(X2)
	MOV	X26, 208(X2)
	MOV	g, 216(X2)
	MOV	X28, 224(X2)
	MOV	X29, 232(X2)
	MOV	X30, 240(X2)
	MOV	X31, 248(X2)
	MOV	X10, F_ORIGA0(X2)
	CSRRS(5, MEPC, 0)
	MOV	X5, 0(X2)
	CSRRS(5, MSTATUS, 0)
	MOV	X5, F_STATUS(X2)
	CSRRS(5, MTVAL, 0)
	MOV	X5, F_BADADDR(X2)
	CSRRS(5, MCAUSE, 0)
	MOV	X5, F_CAUSE(X2)
	MOVD	F0, (F_FP+0*8)(X2)
	MOVD	F1, (F_FP+1*8)(X2)
	MOVD	F2, (F_FP+2*8)(X2)
	MOVD	F3, (F_FP+3*8)(X2)
	MOVD	F4, (F_FP+4*8)(X2)
	MOVD	F5, (F_FP+5*8)(X2)
	MOVD	F6, (F_FP+6*8)(X2)
	MOVD	F7, (F_FP+7*8)(X2)
	MOVD	F8, (F_FP+8*8)(X2)
	MOVD	F9, (F_FP+9*8)(X2)
	MOVD	F10, (F_FP+10*8)(X2)
	MOVD	F11, (F_FP+11*8)(X2)
	MOVD	F12, (F_FP+12*8)(X2)
	MOVD	F13, (F_FP+13*8)(X2)
	MOVD	F14, (F_FP+14*8)(X2)
	MOVD	F15, (F_FP+15*8)(X2)
	MOVD	F16, (F_FP+16*8)(X2)
	MOVD	F17, (F_FP+17*8)(X2)
	MOVD	F18, (F_FP+18*8)(X2)
	MOVD	F19, (F_FP+19*8)(X2)
	MOVD	F20, (F_FP+20*8)(X2)
	MOVD	F21, (F_FP+21*8)(X2)
	MOVD	F22, (F_FP+22*8)(X2)
	MOVD	F23, (F_FP+23*8)(X2)
	MOVD	F24, (F_FP+24*8)(X2)
	MOVD	F25, (F_FP+25*8)(X2)
	MOVD	F26, (F_FP+26*8)(X2)
	MOVD	F27, (F_FP+27*8)(X2)
	MOVD	F28, (F_FP+28*8)(X2)
	MOVD	F29, (F_FP+29*8)(X2)
	MOVD	F30, (F_FP+30*8)(X2)
	MOVD	F31, (F_FP+31*8)(X2)
	CSRRS(5, FCSR, 0)
	MOV	X5, F_FCSR(X2)

	// Only breakpoints and the timer are Hachi's, and only with a g.
	MOV	F_CAUSE(X2), X5
	MOV	$CAUSE_BREAKPOINT, X6
	BEQ	X5, X6, ours
	MOV	$CAUSE_MACHINE_TIMER, X6
	BNE	X5, X6, foreign
ours:
	BEQ	g, ZERO, foreign
	MOV	G_M(g), X5
	BEQ	X5, ZERO, foreign
	MOV	M_GSIGNAL(X5), X5
	BEQ	X5, ZERO, foreign
	MOV	g, F_G(X2)
	MOV	X5, g

	// trapGo(frame, cpu 0) bool
	MOV	X2, X8			// the frame (X8 is restored below)
	ADDI_SP(-32)
	MOV	X8, 8(X2)
	MOV	ZERO, 16(X2)
	CALL	·trapGo(SB)
	MOVBU	24(X2), X9
	ADDI_SP(32)
	MOV	F_G(X2), g
	BEQ	X9, ZERO, foreign

	// Resume at the (new) pc, with the mstatus of this trap as trapGo
	// left it (its MPIE, which MRET makes MIE, may have changed): a trap
	// taken inside it changed MPP and MPIE (MRET sets MPP to the least
	// privileged mode).
	MOV	0(X2), X5
	CSRRW(0, MEPC, 5)
	MOV	F_STATUS(X2), X5
	CSRRW(0, MSTATUS, 5)
	MOV	F_TOP(X2), X5
	BEQ	X5, ZERO, 2(PC)		// nested: mscratch stays 0
	CSRRW(0, MSCRATCH, 5)
	CALL	trapRestore<>(SB)
	MOV	248(X2), X31
	MOV	16(X2), X2
	MRET

foreign:
	MOV	F_STATUS(X2), X5
	CSRRW(0, MSTATUS, 5)
	MOV	F_TOP(X2), X5
	BEQ	X5, ZERO, 2(PC)
	CSRRW(0, MSCRATCH, 5)
	CALL	trapRestore<>(SB)
	// X31 is lost on this path: it holds where to go (TamaGo's handler
	// never returns).
	MOV	·trapPrevVector(SB), X31
	MOV	16(X2), X2
	JMP	(X31)

// trapRestore<> restores the FP registers and x1, x3..x30 from the frame
// at sp; it returns through x1 before x1 is restored, so x1 comes last.
TEXT trapRestore<>(SB),NOSPLIT|NOFRAME,$0
	MOV	F_FCSR(X2), X5
	CSRRW(0, FCSR, 5)
	MOVD	(F_FP+0*8)(X2), F0
	MOVD	(F_FP+1*8)(X2), F1
	MOVD	(F_FP+2*8)(X2), F2
	MOVD	(F_FP+3*8)(X2), F3
	MOVD	(F_FP+4*8)(X2), F4
	MOVD	(F_FP+5*8)(X2), F5
	MOVD	(F_FP+6*8)(X2), F6
	MOVD	(F_FP+7*8)(X2), F7
	MOVD	(F_FP+8*8)(X2), F8
	MOVD	(F_FP+9*8)(X2), F9
	MOVD	(F_FP+10*8)(X2), F10
	MOVD	(F_FP+11*8)(X2), F11
	MOVD	(F_FP+12*8)(X2), F12
	MOVD	(F_FP+13*8)(X2), F13
	MOVD	(F_FP+14*8)(X2), F14
	MOVD	(F_FP+15*8)(X2), F15
	MOVD	(F_FP+16*8)(X2), F16
	MOVD	(F_FP+17*8)(X2), F17
	MOVD	(F_FP+18*8)(X2), F18
	MOVD	(F_FP+19*8)(X2), F19
	MOVD	(F_FP+20*8)(X2), F20
	MOVD	(F_FP+21*8)(X2), F21
	MOVD	(F_FP+22*8)(X2), F22
	MOVD	(F_FP+23*8)(X2), F23
	MOVD	(F_FP+24*8)(X2), F24
	MOVD	(F_FP+25*8)(X2), F25
	MOVD	(F_FP+26*8)(X2), F26
	MOVD	(F_FP+27*8)(X2), F27
	MOVD	(F_FP+28*8)(X2), F28
	MOVD	(F_FP+29*8)(X2), F29
	MOVD	(F_FP+30*8)(X2), F30
	MOVD	(F_FP+31*8)(X2), F31
	MOV	24(X2), X3
	MOV	32(X2), TP
	MOV	40(X2), X5
	MOV	48(X2), X6
	MOV	56(X2), X7
	MOV	64(X2), X8
	MOV	72(X2), X9
	MOV	80(X2), X10
	MOV	88(X2), X11
	MOV	96(X2), X12
	MOV	104(X2), X13
	MOV	112(X2), X14
	MOV	120(X2), X15
	MOV	128(X2), X16
	MOV	136(X2), X17
	MOV	144(X2), X18
	MOV	152(X2), X19
	MOV	160(X2), X20
	MOV	168(X2), X21
	MOV	176(X2), X22
	MOV	184(X2), X23
	MOV	192(X2), X24
	MOV	200(X2), X25
	MOV	208(X2), X26
	MOV	216(X2), g
	MOV	224(X2), X28
	MOV	232(X2), X29
	MOV	240(X2), X30
	MOV	X1, X31
	MOV	8(X2), X1
	JMP	(X31)

// func trapSetVector(entry uint64) (prev uint64)
TEXT ·trapSetVector(SB),NOSPLIT,$0-16
	MOV	entry+0(FP), X5
	CSRRW(6, MTVEC, 5)
	MOV	X6, prev+8(FP)
	RET

// func trapSetScratch(v uint64)
TEXT ·trapSetScratch(SB),NOSPLIT,$0-8
	MOV	v+0(FP), X5
	CSRRW(0, MSCRATCH, 5)
	RET

// func trapEntryAddr() uint64
TEXT ·trapEntryAddr(SB),NOSPLIT,$0-8
	MOV	$·trapEntry(SB), X5
	MOV	X5, ret+0(FP)
	RET

// func trapFenceI()
//
// Instruction fetch sees the stores before it (Zifencei).
TEXT ·trapFenceI(SB),NOSPLIT,$0
	FENCE_I
	RET

// func trapEbreak()
//
// A breakpoint that is nobody's probe.
TEXT ·trapEbreak(SB),NOSPLIT,$0
	WORD	$0x00100073
	RET
