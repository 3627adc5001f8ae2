//go:build tamago && amd64

package amd64

import (
	"runtime"
	"sync/atomic"

	tamago "github.com/usbarmory/tamago/amd64"
)

// defined in amd64.s
func lapicID() uint32
func cpuIndexRDTSCP() uint32
func lapicRead(off uint32) uint32
func lapicWrite(off uint32, val uint32)
func stiHalt()
func irqDisable() (flags uint64)
func irqRestore(flags uint64)
func lapicSendIPI(apicID, icr uint32)
func idtGatePresent(vector uint32) bool
func pause()
func haltForever()
func invlpg(addr uint64)

const (
	lapicBase = tamago.LAPIC_BASE

	// idleVector is the interrupt of the idle timer: TamaGo's IDT sends
	// it to a handler that only acknowledges it (tamago.IRQ_WAKEUP).
	idleVector = tamago.IRQ_WAKEUP

	// Local APIC timer registers (Intel SDM vol. 3A, 11.5.4).
	lapicLVTTimer     = 0x320
	lapicTimerInitial = 0x380
	lapicTimerCurrent = 0x390
	lapicTimerDivide  = 0x3e0
	lvtMasked         = 1 << 16
	timerDivideBy1    = 0b1011

	// maxHalt bounds how long an idle CPU halts: a CPU does not learn
	// that another made work runnable (there is no wake-up IPI yet), nor
	// that the GC stops the world, before its halt ends.
	maxHalt = 1_000_000 // ns
)

var (
	hasRDTSCP bool

	// lapicTimerHz is the local APIC timer's rate with divide-by-1 (the
	// bus clock: 1 GHz under QEMU), measured against the TSC.
	lapicTimerHz uint64

	// haltOK is set once idle CPUs may halt: the idle timer's vector is
	// in the IDT and the LAPIC timer rate is known.
	haltOK atomic.Bool
)

// initCPUIdentity detects RDTSCP (CPUID 0x80000001, EDX bit 27), enables
// the boot CPU's local APIC and measures its timer against the TSC.
func initCPUIdentity() {
	_, _, _, edx := cpu.CPUID(0x80000001, 0)
	hasRDTSCP = edx&(1<<27) != 0
	cpu.LAPIC.Enable()
	calibrateLAPICTimer()
}

// calibrateLAPICTimer counts the LAPIC timer down (masked) for 2 ms of TSC
// time. The rate only sets how long an idle CPU halts: idle checks the
// clock again when it wakes up.
func calibrateLAPICTimer() {
	lapicWrite(lapicTimerDivide, timerDivideBy1)
	lapicWrite(lapicLVTTimer, lvtMasked|idleVector)
	lapicWrite(lapicTimerInitial, ^uint32(0))
	start := rdtsc()
	for rdtsc()-start < tscHz/500 {
	}
	counted := uint64(^uint32(0) - lapicRead(lapicTimerCurrent))
	cycles := rdtsc() - start
	lapicWrite(lapicTimerInitial, 0)
	if counted != 0 && cycles != 0 {
		lapicTimerHz = counted * tscHz / cycles
	}
}

// CPUID returns the index of the CPU running the caller, from 0 to
// NumCPU()-1 (its local APIC ID: QEMU numbers them from 0). It costs one
// RDTSCP. The caller may run on another CPU by the time it uses the result
// unless it cannot be rescheduled in between (no function call that may
// yield).
//
//go:nosplit
func CPUID() int {
	if hasRDTSCP {
		return int(cpuIndexRDTSCP())
	}
	return int(lapicID())
}

// IdleMode says how idle CPUs wait: "halt" (HLT, woken by the local APIC
// timer) or "spin" (the timer could not be measured).
func IdleMode() string {
	if haltOK.Load() {
		return "halt"
	}
	return "spin"
}

// idle is the runtime's goos.Idle: it halts this CPU until the next timer
// (until, in Nanotime) or for at most maxHalt, whichever comes first; a
// sampling deadline (timer.go) that comes first ends the halt too. It runs
// on the M's g0, which stays on its CPU.
func idle(until int64) {
	now := Nanotime()
	if until <= now {
		return
	}
	id := CPUID()
	if !haltOK.Load() || id >= len(timerCPUs) {
		pause()
		return
	}
	timerHalt(id, now, min(until-now, maxHalt))
}

// interruptHandlers holds, per vector, the function that serves it.
var interruptHandlers [256]atomic.Pointer[func(vector int)]

// SetInterruptHandler makes fn serve the interrupt vector (32-254), or
// stops serving it when fn is nil. Handlers run in a goroutine, woken by
// the interrupt (TamaGo's CPU.ServiceInterrupts), not in interrupt context.
func SetInterruptHandler(vector int, fn func(vector int)) {
	if fn == nil {
		interruptHandlers[vector].Store(nil)
		return
	}
	interruptHandlers[vector].Store(&fn)
}

func serveInterrupt(vector int) {
	if vector < 0 || vector >= len(interruptHandlers) {
		return
	}
	if fn := interruptHandlers[vector].Load(); fn != nil {
		(*fn)(vector)
	}
}

// startInterrupts fills the IDT for vectors 32-255 (TamaGo's
// ServiceInterrupts, whose goroutine then serves them) and, once the idle
// timer's vector is there, lets idle CPUs halt.
func startInterrupts() {
	go cpu.ServiceInterrupts(serveInterrupt)
	for !idtGatePresent(idleVector) {
		runtime.Gosched()
	}
	if lapicTimerHz != 0 {
		haltOK.Store(true)
	}
}
