//go:build tamago && amd64

package amd64

import (
	"math/bits"
	"slices"
)

// The clock is the TSC, calibrated at boot against the 8254 PIT (1.193182
// MHz): TamaGo's frequency from CPUID leaf 0x15 is wrong under TCG, where
// RDTSC reads the host's TSC. Like Linux's arch/x86/kernel/tsc.c
// (pit_calibrate_tsc), with several short samples (Linux's quick_pit_calibrate
// also rejects disturbed samples).
const (
	pitHz       = 1193182
	pitCommand  = 0x43
	pitChannel0 = 0x40
)

// tscHz is the TSC frequency; ns = (tsc-tscBase) * tscMult >> 32.
var (
	tscHz   uint64
	tscBase uint64
	tscMult uint64 = 1 << 32 // until calibrated: 1 tick = 1 ns
)

// defined in amd64.s
func rdtsc() uint64
func inb(port uint16) uint8
func outb(port uint16, val uint8)

// pitCount latches and reads PIT channel 0's counter.
func pitCount() uint16 {
	outb(pitCommand, 0x00) // latch channel 0
	lo := inb(pitChannel0)
	hi := inb(pitChannel0)
	return uint16(hi)<<8 | uint16(lo)
}

// calibrateTSC measures the TSC frequency against the PIT over
// calibIntervals intervals of calibCycles TSC cycles each (2.4 ms at 2.1 GHz)
// and keeps the median of the per-interval ratios: the host may deschedule
// the vCPU or delay a PIT read in one interval (seen under TCG on a loaded
// host), not in most. The PIT is not read during an interval, only at its
// ends; an interval must stay under the PIT's 55 ms wrap-around, true for
// any TSC above 100 MHz.
func calibrateTSC() {
	const (
		calibIntervals = 21
		calibCycles    = 5_000_000
	)
	outb(pitCommand, 0x30) // channel 0, lobyte/hibyte, mode 0, binary
	outb(pitChannel0, 0)   // count 0x10000: the counter runs modulo 2^16
	outb(pitChannel0, 0)

	var hz [calibIntervals]uint64
	prevCount, prevTSC := pitCount(), rdtsc()
	for i := range hz {
		for rdtsc()-prevTSC < calibCycles {
		}
		count, tsc := pitCount(), rdtsc()
		if ticks := uint64(prevCount - count); ticks != 0 { // counts down, wraps
			hz[i] = (tsc - prevTSC) * pitHz / ticks
		}
		prevCount, prevTSC = count, tsc
	}
	slices.Sort(hz[:])
	median := hz[calibIntervals/2]
	if median == 0 {
		print("amd64: the PIT does not count (QEMU needs -M microvm,pit=on), TSC taken as 1 GHz\n")
		median = 1e9
	}
	setTSCFrequency(median)
}

// setTSCFrequency switches the clock to hz, keeping it continuous.
func setTSCFrequency(hz uint64) {
	now := uint64(Nanotime())
	tsc := rdtsc()
	// base such that (tsc-base) ticks at hz are now ns (modulo 2^64)
	hi, lo := bits.Mul64(now, hz)
	ticks, _ := bits.Div64(hi, lo, 1e9)
	tscBase = tsc - ticks
	tscMult = (uint64(1e9) << 32) / hz
	tscHz = hz
	// TamaGo's CPU.GetTime/SetAlarm use its float multiplier.
	cpu.TimerMultiplier = 1e9 / float64(hz)
	cpu.TimerOffset = int64(now) - int64(float64(tsc)*cpu.TimerMultiplier)
}

// TSCFrequency returns the calibrated TSC frequency in Hz.
func TSCFrequency() uint64 {
	return tscHz
}

// Nanotime returns the nanoseconds since boot (the runtime's monotonic
// clock).
//
//go:nosplit
func Nanotime() int64 {
	hi, lo := bits.Mul64(rdtsc()-tscBase, tscMult)
	return int64(hi<<32 | lo>>32)
}
