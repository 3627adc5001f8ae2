//go:build tamago && riscv64

package riscv64

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"hachi/kprobe"
	"hachi/syscall/linux"
)

// Hachi's machine-mode trap vector for kprobes and the sampling timer
// (trap.s). TamaGo's own vector prints the cause and panics, never
// resuming; Hachi's takes the breakpoints (mcause 3) and the machine timer
// interrupt (timer.go) and hands every other trap, registers restored, to
// TamaGo's.
//
// The handler runs on the M's gsignal stack with gsignal as g (X27), as
// on amd64 (see arch/amd64/trap.go): the stack bounds are the stack's, the
// runtime treats it as signal context. Machine mode has no stack switch
// of its own: mscratch holds the stack's top while no trap runs and 0
// while one does, so a trap inside a trap handler stays on the handler's
// stack, below its frames. Handlers run with interrupts disabled (the
// trap cleared mstatus.MIE): only a breakpoint can nest.

// trapFrame is what the trap entry saves: struct pt_regs, then the FP
// state, the stack top to restore mscratch with (0 for a nested trap) and
// the interrupted g.
type trapFrame struct {
	regs linux.PtRegsRISCV64
	fp   [32]uint64
	fcsr uint64
	top  uint64
	g    uint64
	_    uint64 // 16-byte aligned size
}

// Runtime layout (Go 1.26 runtime/runtime2.go), checked at set-up.
const (
	gM           = 48
	gStackLo     = 0
	gStackHi     = 8
	mGsignal     = 72
	gsignalStack = 32 << 10
)

var (
	// trapPrevVector is TamaGo's mtvec, for the traps that are not
	// Hachi's.
	trapPrevVector uint64
	// trapKprobes handles the breakpoints once set.
	trapKprobes *kprobe.Manager

	trapOnce sync.Once
	errTrap  error
)

// defined in trap.s
func trapSetVector(entry uint64) (prev uint64)
func trapSetScratch(v uint64)
func trapEntryAddr() uint64
func trapFenceI()
func trapEbreak()

// Causes (mcause) that trap.s hands to trapGo.
const (
	causeBreakpoint   = 3
	causeMachineTimer = 1<<63 | 7
)

// mstatus.MPIE: mstatus.MIE as it was when the trap was taken, which MRET
// restores.
const mstatusMPIE = 1 << 7

// trapGo is the Go side of the traps that are Hachi's, on gsignal with
// interrupts disabled: frame is the trapped pt_regs. It reports whether
// the trap was handled (else TamaGo's vector gets it).
func trapGo(frame *trapFrame, cpu int) bool {
	switch frame.regs.Cause {
	case causeMachineTimer:
		timerInterrupt(frame, cpu)
		return true
	case causeBreakpoint:
		return trapBreakpoint(frame, cpu)
	}
	return false
}

// stepInterrupts is, for each CPU stepping through a kprobe's out-of-line
// slot, whether interrupts were enabled before the step (its mstatus.MPIE
// bit).
var stepInterrupts [numCPU]uint64

// trapBreakpoint handles a breakpoint: frame's pc is at the ebreak.
//
// Interrupts stay disabled while the hart runs a probed instruction in
// its slot, from the probe's breakpoint to the slot's closing one, as
// Linux's riscv kprobes do (kprobes_save_local_irqflag): the kprobe
// manager keeps one step in flight per CPU, which a probe hit in an
// interrupt handler would replace.
func trapBreakpoint(frame *trapFrame, cpu int) bool {
	m := trapKprobes
	if m == nil {
		return false
	}
	from := frame.regs.Pc
	if !m.Trap(cpu, from, unsafe.Pointer(&frame.regs)) {
		return false
	}
	switch was, is := inSlots(from), inSlots(frame.regs.Pc); {
	case !was && is:
		stepInterrupts[cpu] = frame.regs.Status & mstatusMPIE
		frame.regs.Status &^= mstatusMPIE
	case was && !is:
		frame.regs.Status |= stepInterrupts[cpu]
	}
	return true
}

func word(addr uint64) *uint64 {
	var p *uint64
	*(*uintptr)(unsafe.Pointer(&p)) = uintptr(addr)
	return p
}

// trapInit points mscratch at the top of the M's gsignal stack and
// installs the vector. Go runs on one hart.
func trapInit() error {
	trapOnce.Do(func() {
		gp, _ := runtime.GetG()
		m := *word(uint64(gp) + gM)
		if m == 0 {
			errTrap = errors.New("riscv64: traps: no m in g")
			return
		}
		gs := *word(m + mGsignal)
		if gs == 0 || *word(gs + gM) != m {
			errTrap = errors.New("riscv64: traps: m.gsignal not where Go 1.26 keeps it")
			return
		}
		lo, hi := *word(gs + gStackLo), *word(gs + gStackHi)
		if hi-lo != gsignalStack {
			errTrap = fmt.Errorf("riscv64: traps: gsignal stack of %d bytes, want %d", hi-lo, gsignalStack)
			return
		}
		trapSetScratch(hi &^ 15)
		trapPrevVector = trapSetVector(trapEntryAddr())
	})
	return errTrap
}
