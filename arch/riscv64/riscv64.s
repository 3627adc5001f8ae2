//go:build tamago && riscv64

#include "textflag.h"
#include "csr.h"

// func hartID() uint64
TEXT ·hartID(SB),NOSPLIT,$0-8
	CSRRS(5, MHARTID, 0)
	MOV	T0, ret+0(FP)
	RET

// func read64(addr uint64) uint64
TEXT ·read64(SB),NOSPLIT,$0-16
	MOV	addr+0(FP), T1
	MOV	(T1), T0
	MOV	T0, ret+8(FP)
	RET

// func write64(addr uint64, val uint64)
TEXT ·write64(SB),NOSPLIT,$0-16
	MOV	addr+0(FP), T1
	MOV	val+8(FP), T0
	MOV	T0, (T1)
	RET

// func write32(addr uint64, val uint32)
TEXT ·write32(SB),NOSPLIT,$0-12
	MOV	addr+0(FP), T1
	MOVWU	val+8(FP), T0
	MOVW	T0, (T1)
	RET

// func interruptsOff() (enabled uint64)
//
// Clears mstatus.MIE and returns its previous value (MSTATUS_MIE or 0).
TEXT ·interruptsOff(SB),NOSPLIT,$0-8
	CSRRCI(5, MSTATUS, MSTATUS_MIE)
	AND	$MSTATUS_MIE, T0
	MOV	T0, enabled+0(FP)
	RET

// func interruptsRestore(enabled uint64)
//
// Sets mstatus.MIE again if enabled (interruptsOff's result) has it.
TEXT ·interruptsRestore(SB),NOSPLIT,$0-8
	MOV	enabled+0(FP), T0
	CSRRS(0, MSTATUS, 5)
	RET

// func idleResume(enabled uint64)
//
// interruptsRestore for the idle loop, under its own name: a timer
// interrupt that came due during the wait is taken here, and a sample of
// an idle CPU names the idle loop, as Linux's name its idle function.
TEXT ·idleResume(SB),NOSPLIT,$0-8
	MOV	enabled+0(FP), T0
	CSRRS(0, MSTATUS, 5)
	RET

// func setInterruptEnable(mie uint64)
TEXT ·setInterruptEnable(SB),NOSPLIT,$0-8
	MOV	mie+0(FP), T0
	CSRRW(0, MIE, 5)
	RET

// func waitTimer()
//
// Waits for interrupt (WFI) with the machine timer interrupt enabled in
// mie for the wait, then gives mie back its value. The caller has
// mstatus.MIE clear: WFI resumes when the timer is pending (mtime reached
// mtimecmp), no trap is taken.
TEXT ·waitTimer(SB),NOSPLIT,$0
	MOV	$MIE_MTIE, T0
	CSRRS(6, MIE, 5)		// t1 = mie before
	WFI
	CSRRW(0, MIE, 6)
	RET

// func semihosting(op uint64, arg uint64) uint64
//
// The semihosting trap: EBREAK between the two marker instructions, all
// three uncompressed and in one page (PCALIGN keeps them in a 16-byte block).
TEXT ·semihosting(SB),NOSPLIT,$0-24
	MOV	op+0(FP), A0
	MOV	arg+8(FP), A1
	PCALIGN	$16
	WORD	$0x01f01013	// slli zero, zero, 0x1f
	WORD	$0x00100073	// ebreak
	WORD	$0x40705013	// srai zero, zero, 7
	MOV	A0, ret+16(FP)
	RET
