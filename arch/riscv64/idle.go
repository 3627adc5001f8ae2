//go:build tamago && riscv64

package riscv64

import "github.com/usbarmory/tamago/soc/sifive/fu540"

// CLINT registers (FU540-C000 manual, 9.1).
const (
	clintMTIMECMP = fu540.CLINT_BASE + 0x4000 // + 8*hart
	clintMTIME    = fu540.CLINT_BASE + 0xbff8
)

// defined in riscv64.s
func hartID() uint64
func read64(addr uint64) uint64
func write32(addr uint64, val uint32)
func waitTimer(mtimecmp uint64, deadline uint64)

// idle is the runtime's goos.Idle: it waits for interrupt (WFI) until the
// next timer, in machine timer ticks (RTCCLK). The machine timer interrupt
// is enabled in mie but not globally (mstatus.MIE), so it ends WFI without
// trapping. With no timer pending (until is math.MaxInt64) it waits at most
// one second: there is no other wake-up source yet.
func idle(until int64) {
	now := fu540.CLINT.Nanotime()
	if until <= now {
		return
	}
	if max := now + 1e9; until > max {
		until = max
	}
	ticks := uint64(until-fu540.CLINT.TimerOffset) / (1e9 / fu540.RTCCLK)
	waitTimer(clintMTIMECMP+8*hartID(), ticks)
}
