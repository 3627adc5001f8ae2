//go:build tamago && amd64

#include "textflag.h"

#define IA32_TSC_AUX        0xc0000103
#define LAPIC_BASE          0xfee00000
#define LAPIC_ID_REG        0xfee00020

// func rdtsc() uint64
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func inb(port uint16) uint8
TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

// func outb(port uint16, val uint8)
TEXT ·outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	val+2(FP), AX
	OUTB
	RET

// func lapicID() uint32
TEXT ·lapicID(SB),NOSPLIT,$0-4
	MOVL	$LAPIC_ID_REG, BX
	MOVL	(BX), AX
	SHRL	$24, AX
	MOVL	AX, ret+0(FP)
	RET

// func cpuIndexRDTSCP() uint32
//
// The CPU index cached in IA32_TSC_AUX (plus one, zero meaning not yet
// set), read by RDTSCP: no VM exit, no memory access. The first call on a
// CPU reads its LAPIC ID and caches it. The function makes no call, so the
// goroutine cannot move to another CPU in between.
TEXT ·cpuIndexRDTSCP(SB),NOSPLIT,$0-4
	RDTSCP
	TESTL	CX, CX
	JZ	first
	DECL	CX
	MOVL	CX, ret+0(FP)
	RET
first:
	MOVL	$LAPIC_ID_REG, BX
	MOVL	(BX), AX
	SHRL	$24, AX
	MOVL	AX, ret+0(FP)
	INCL	AX
	XORL	DX, DX
	MOVL	$IA32_TSC_AUX, CX
	WRMSR
	RET

// func lapicRead(off uint32) uint32
TEXT ·lapicRead(SB),NOSPLIT,$0-12
	MOVL	$LAPIC_BASE, AX
	MOVL	off+0(FP), BX
	ADDQ	BX, AX
	MOVL	(AX), CX
	MOVL	CX, ret+8(FP)
	RET

// func lapicWrite(off uint32, val uint32)
TEXT ·lapicWrite(SB),NOSPLIT,$0-8
	MOVL	$LAPIC_BASE, AX
	MOVL	off+0(FP), BX
	ADDQ	BX, AX
	MOVL	val+4(FP), CX
	MOVL	CX, (AX)
	RET

// func stiHalt()
//
// Enables interrupts and halts until one comes: the timer's, an IPI or a
// device's. STI delays interrupts until after the next instruction, so
// one already pending (a timer set to expire at once) is taken in HLT and
// ends it.
TEXT ·stiHalt(SB),NOSPLIT,$0
	STI
	HLT
	RET

// func idtGatePresent(vector uint32) bool
TEXT ·idtGatePresent(SB),NOSPLIT,$16-9
	SIDT	0(SP)
	MOVL	vector+0(FP), AX
	SHLQ	$4, AX
	MOVWLZX	0(SP), BX	// limit
	LEAQ	15(AX), CX
	CMPQ	CX, BX
	JA	absent
	MOVQ	2(SP), BX	// base
	ADDQ	AX, BX
	MOVB	5(BX), AX	// type and attributes: P is bit 7
	SHRB	$7, AX
	MOVB	AX, ret+8(FP)
	RET
absent:
	MOVB	$0, ret+8(FP)
	RET

// func pause()
TEXT ·pause(SB),NOSPLIT,$0
	PAUSE
	RET

// func haltForever()
TEXT ·haltForever(SB),NOSPLIT,$0
	CLI
	HLT
	RET

// func irqDisable() (flags uint64)
//
// Disables interrupts on this CPU and returns RFLAGS as it was, for
// irqRestore.
TEXT ·irqDisable(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ	AX
	CLI
	MOVQ	AX, flags+0(FP)
	RET

// func irqRestore(flags uint64)
//
// Enables interrupts again if flags (from irqDisable) had IF set.
TEXT ·irqRestore(SB),NOSPLIT,$0-8
	MOVQ	flags+0(FP), AX
	TESTQ	$0x200, AX
	JZ	off
	STI
off:
	RET

// func lapicSendIPI(apicID, icr uint32)
//
// Sends the IPI icr (the ICR's low word: vector, delivery mode, level) to
// the CPU of local APIC ID apicID (physical destination, Intel SDM vol.
// 3A, 11.6.1) and waits for its delivery. Interrupts are off meanwhile so
// that no interrupt handler sends an IPI between the two ICR writes.
TEXT ·lapicSendIPI(SB),NOSPLIT,$0-8
	PUSHFQ
	CLI
	MOVL	apicID+0(FP), AX
	SHLL	$24, AX
	MOVL	$(LAPIC_BASE+0x310), BX
	MOVL	AX, (BX)
	MOVL	icr+4(FP), AX
	MOVL	$(LAPIC_BASE+0x300), BX
	MOVL	AX, (BX)
wait:
	PAUSE
	MOVL	(BX), AX
	TESTL	$(1<<12), AX		// delivery status: send pending
	JNZ	wait
	POPFQ
	RET

// func invlpg(addr uint64)
TEXT ·invlpg(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	INVLPG	(AX)
	RET
