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

// Hachi's machine-mode trap vector for kprobes (trap.s). TamaGo's own
// vector prints the cause and panics, never resuming; Hachi's takes the
// breakpoints (mcause 3) and hands every other trap, registers restored,
// to TamaGo's.
//
// The handler runs on the M's gsignal stack with gsignal as g (X27), as
// on amd64 (see arch/amd64/trap.go): the stack bounds are the stack's, the
// runtime treats it as signal context. Machine mode has no stack switch
// of its own: mscratch holds the stack's top while no trap runs and 0
// while one does, so a trap inside a trap handler stays on the handler's
// stack, below its frames.

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

// trapBreakpoint is the Go side of a breakpoint trap, on gsignal: frame
// is the trapped pt_regs (pc at the ebreak).
func trapBreakpoint(frame *trapFrame, cpu int) bool {
	m := trapKprobes
	if m == nil {
		return false
	}
	return m.Trap(cpu, frame.regs.Pc, unsafe.Pointer(&frame.regs))
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
