//go:build tamago && riscv64

package riscv64

import "github.com/usbarmory/tamago/soc/sifive/fu540"

// CLINT registers (FU540-C000 manual, 9.1).
const (
	clintMTIMECMP = fu540.CLINT_BASE + 0x4000 // + 8*hart
	clintMTIME    = fu540.CLINT_BASE + 0xbff8
)

// mstatus.MIE (machine interrupts enabled) and mie.MTIE (the machine timer
// interrupt enabled), as csr.h.
const (
	mstatusMIE = 1 << 3
	mieMTIE    = 1 << 7
)

// defined in riscv64.s
func hartID() uint64
func read64(addr uint64) uint64
func write64(addr uint64, val uint64)
func write32(addr uint64, val uint32)
func interruptsOff() (enabled uint64)
func interruptsRestore(enabled uint64)
func idleResume(enabled uint64)
func setInterruptEnable(mie uint64)
func waitTimer()

// idle is the runtime's goos.Idle: it waits for interrupt (WFI) until the
// next timer, in machine timer ticks (RTCCLK). Interrupts are disabled
// during the wait and the machine timer interrupt enabled in mie, so the
// timer ends WFI without trapping. The comparator is the sampling timer's
// too (timer.go): the wait ends at the earlier of the two deadlines, and
// the sampling deadline is programmed back before interrupts are enabled
// again, which takes its interrupt then if it has passed. With no timer
// pending (until is math.MaxInt64) it waits at most one second: there is
// no other wake-up source yet.
func idle(until int64) {
	now := fu540.CLINT.Nanotime()
	if until <= now {
		return
	}
	if max := now + 1e9; until > max {
		until = max
	}
	ticks := uint64(until-fu540.CLINT.TimerOffset) / nsPerTick
	on := interruptsOff()
	t := &timers[CPUID()]
	if t.deadline != 0 && t.deadline < ticks {
		ticks = t.deadline
	}
	t.setCompare(ticks)
	waitTimer()
	t.setCompare(compareValue(t.deadline))
	idleResume(on)
}
