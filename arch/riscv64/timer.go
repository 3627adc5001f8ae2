//go:build tamago && riscv64

package riscv64

import (
	"sync"
	"unsafe"

	"github.com/usbarmory/tamago/soc/sifive/fu540"

	"hachi/perf"
	"hachi/syscall/linux"
)

// The per-CPU sampling timer (kernel.Timer) is the hart's CLINT
// comparator, mtimecmp: the machine timer interrupt (mcause 7) is pending
// while mtime >= mtimecmp. It is taken through Hachi's trap vector
// (trap.s), which saves the interrupted registers as pt_regs and calls
// timerInterrupt on the M's gsignal stack with interrupts disabled.
//
// Once StartTimer has run, Go code runs with machine interrupts enabled
// (mstatus.MIE) and mie enabling the timer alone: no other interrupt
// source can trap. mtimecmp holds the armed deadline, or all ones when
// none is armed (mtime never reaches it). The idle loop shares the
// comparator: it programs the earlier of its wake-up and the deadline
// with interrupts disabled, waits, and puts the deadline back before
// enabling them again, so an expired deadline interrupts the hart just
// after the wait (idle.go).

// cpuTimer is a CPU's timer state, changed only on that CPU with its
// interrupts disabled.
type cpuTimer struct {
	// deadline is the armed deadline in mtime ticks, 0 when none is.
	deadline uint64
	// compare is the value last written to the hart's mtimecmp, 0 before
	// the first write. A write is a store to the CLINT, which QEMU
	// emulates at a cost of microseconds (it reprograms a host timer):
	// setCompare skips writing the value the comparator holds.
	compare uint64
}

// setCompare sets the calling hart's comparator to v (interrupts
// disabled).
func (t *cpuTimer) setCompare(v uint64) {
	if t.compare != v {
		write64(mtimecmp(), v)
		t.compare = v
	}
}

// nsPerTick is the length of an mtime tick (RTCCLK, 1 MHz).
const nsPerTick = 1e9 / fu540.RTCCLK

var (
	timers [numCPU]cpuTimer
	// timerHandler is the kernel's handler (SetTimerHandler).
	timerHandler func(cpu int, regs *perf.Regs)

	timerOnce sync.Once
	errTimer  error
)

// StartTimer installs the trap vector and enables the machine timer
// interrupt on the calling hart: mie enables it alone, then mstatus.MIE
// enables interrupts for good. Before it, ArmTimer programs the comparator
// but no interrupt is taken.
func StartTimer() error {
	timerOnce.Do(func() {
		if err := trapInit(); err != nil {
			errTimer = err
			return
		}
		interruptsOff()
		t := &timers[CPUID()]
		t.compare = 0
		t.setCompare(compareValue(t.deadline))
		setInterruptEnable(mieMTIE)
		interruptsRestore(mstatusMIE)
	})
	return errTimer
}

// SetTimerHandler installs the function that timer interrupts call
// (kernel.Timer's SetHandler), in interrupt context: on the gsignal stack,
// interrupts disabled, with the interrupted registers, which it must not
// keep after it returns.
func SetTimerHandler(h func(cpu int, regs *perf.Regs)) {
	on := interruptsOff()
	timerHandler = h
	interruptsRestore(on)
}

// ArmTimer asks for one timer interrupt on cpu at or after deadline, in
// Nanotime's clock (kernel.Timer's Arm); 0 cancels. It replaces the
// previous deadline and may be called from the handler. Go runs on one
// hart, so cpu is always the caller's: any other is not a CPU.
func ArmTimer(cpu int, deadline uint64) {
	if cpu != CPUID() {
		return
	}
	ticks := deadlineTicks(deadline)
	on := interruptsOff()
	t := &timers[cpu]
	t.deadline = ticks
	t.setCompare(compareValue(ticks))
	interruptsRestore(on)
}

// deadlineTicks converts a deadline in Nanotime's clock to the first
// mtime tick at or after it (at least 1: 0 is no deadline); 0 stays 0.
func deadlineTicks(deadline uint64) uint64 {
	if deadline == 0 {
		return 0
	}
	ns := int64(deadline) - fu540.CLINT.TimerOffset
	if ns <= 0 {
		return 1
	}
	return max(1, (uint64(ns)+nsPerTick-1)/nsPerTick)
}

// compareValue is mtimecmp for a deadline in ticks: all ones for none.
func compareValue(ticks uint64) uint64 {
	if ticks == 0 {
		return ^uint64(0)
	}
	return ticks
}

// mtimecmp is the address of the calling hart's comparator.
//
//go:nosplit
func mtimecmp() uint64 {
	return clintMTIMECMP + 8*hartID()
}

// timerInterrupt is the machine timer interrupt on cpu, frame the
// interrupted registers. The deadline is consumed before the handler
// runs, which re-arms as it needs; the comparator is changed once, by
// that re-arming or after the handler (the interrupt stays pending
// meanwhile, masked). It allocates nothing: the perf.Regs lives on the
// trap stack.
func timerInterrupt(frame *trapFrame, cpu int) {
	t := &timers[cpu]
	if t.deadline == 0 || read64(clintMTIME) < t.deadline {
		// Not due: the comparator changed while the interrupt was
		// being raised. Program the deadline again, writing even
		// the value it holds.
		t.compare = 0
		t.setCompare(compareValue(t.deadline))
		return
	}
	t.deadline = 0
	if h := timerHandler; h != nil {
		regs := perf.Regs{
			Frame: unsafe.Pointer(&frame.regs),
			Size:  unsafe.Sizeof(linux.UserRegsRISCV64{}),
			IP:    frame.regs.Pc,
			// Go runs in machine mode: the interrupted code is
			// the kernel's.
			User: false,
		}
		h(cpu, hideRegs(&regs))
	}
	if t.deadline == 0 {
		t.setCompare(compareValue(0))
	}
}

// hideRegs returns r as a pointer that escape analysis does not follow,
// so that a perf.Regs passed to the handler (a function value, which
// escape analysis cannot see into) stays on the stack instead of being
// allocated: the handler does not keep it (SetTimerHandler).
func hideRegs(r *perf.Regs) (hidden *perf.Regs) {
	*(*uintptr)(unsafe.Pointer(&hidden)) = uintptr(unsafe.Pointer(r))
	return hidden
}
