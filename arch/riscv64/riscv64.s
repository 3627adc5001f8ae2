//go:build tamago && riscv64

#include "textflag.h"

// CSR instructions by encoding (opcode SYSTEM), t0 = x5.
#define CSRR_MHARTID_T0	WORD	$0xf14022f3	// csrrs t0, mhartid, zero
#define CSRS_MIE_T0	WORD	$0x3042a073	// csrrs zero, mie, t0
#define CSRC_MIE_T0	WORD	$0x3042b073	// csrrc zero, mie, t0
#define WFI		WORD	$0x10500073

#define MIE_MTIE	(1<<7)

// func hartID() uint64
TEXT ·hartID(SB),NOSPLIT,$0-8
	CSRR_MHARTID_T0
	MOV	T0, ret+0(FP)
	RET

// func read64(addr uint64) uint64
TEXT ·read64(SB),NOSPLIT,$0-16
	MOV	addr+0(FP), T1
	MOV	(T1), T0
	MOV	T0, ret+8(FP)
	RET

// func write32(addr uint64, val uint32)
TEXT ·write32(SB),NOSPLIT,$0-12
	MOV	addr+0(FP), T1
	MOVWU	val+8(FP), T0
	MOVW	T0, (T1)
	RET

// func waitTimer(mtimecmp uint64, deadline uint64)
//
// Sets the hart's mtimecmp to deadline and waits for interrupt with only
// the machine timer interrupt enabled in mie (mstatus.MIE stays 0: WFI
// resumes when it is pending, no trap is taken).
TEXT ·waitTimer(SB),NOSPLIT,$0-16
	MOV	mtimecmp+0(FP), T1
	MOV	deadline+8(FP), T0
	MOV	T0, (T1)
	MOV	$MIE_MTIE, T0
	CSRS_MIE_T0
	WFI
	MOV	$MIE_MTIE, T0
	CSRC_MIE_T0
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
