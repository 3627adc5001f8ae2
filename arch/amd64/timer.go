//go:build tamago && amd64

package amd64

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/perf"
	"hachi/syscall/linux"
)

// The sampling timer behind perf's CPU clock events (kernel.Board.Timer),
// as Linux's per-CPU hrtimers are for perf_swevent_hrtimer: one deadline
// per CPU, whose interrupt runs the kernel's handler on that CPU with the
// interrupted registers.
//
// Each CPU has one local APIC timer (one-shot, divide by 1), which the
// idle loop already uses to bound its halts; it counts towards the
// earlier of the CPU's sampling deadline and, while the CPU halts, the
// idle deadline. Its vector says which one it was programmed for: the
// idle deadline keeps idleVector, whose TamaGo gate only acknowledges it,
// so idle CPUs without sampling cost what they did before; a sampling
// deadline uses timerVector, Hachi's own gate (trapTimerEntry on IST1,
// see trap.go), which saves the registers as struct pt_regs and calls
// trapTimer on the CPU's gsignal, with interrupts off. trapTimer runs the
// handler if the deadline has passed, then programs the timer for the
// deadline the handler left; after a halt, idle programs it back for the
// sampling deadline if it had been counting for the idle one. The QEMU
// -cpu max of TCG has no TSC-deadline mode (CPUID.01H:ECX[24]), so
// deadlines become counts of the timer, rounded up; an interrupt that
// comes early (a count cut to maxTimerDelta, or an old programming) finds
// its deadline not passed and only programs the timer again.
//
// Only a CPU can program its own local APIC timer, so ArmTimer for
// another CPU stores the deadline and sends that CPU an IPI on
// timerVector, whose gate programs the timer from the stored deadline; a
// cancel sends none (an interrupt that finds no deadline stops the
// timer). On the CPU itself ArmTimer programs the timer with interrupts
// off, unless it runs in the timer's handler, whose gate programs it on
// the way out.

const (
	// timerVector is the sampling timer's interrupt: the local APIC
	// timer counting towards a sampling deadline, and the IPI that asks
	// a CPU to program its timer again.
	timerVector = 0xf0

	// timerRetry is how soon the timer interrupts again when its gate
	// found no g to run Go code on (see trapTimerEntry).
	timerRetry = 100_000 // ns

	// maxTimerDelta bounds the time one programming of the timer counts
	// (the count register has 32 bits): a later deadline is reached by
	// programming it again when the shorter count runs out.
	maxTimerDelta = 1_000_000_000 // ns

	// icrAssert is an IPI's ICR low word besides its vector: fixed
	// delivery, physical destination, assert, edge (Intel SDM vol. 3A,
	// 11.6.1).
	icrAssert = 1 << 14
)

// timerCPU is a CPU's sampling timer.
type timerCPU struct {
	// deadline is the requested interrupt in Nanotime's clock (0:
	// none); ArmTimer stores it from any CPU.
	deadline atomic.Uint64
	// inHandler is set while the handler runs; only the CPU uses it,
	// with interrupts off.
	inHandler bool
	// frame is the copy of the interrupted registers the handler sees
	// through regs (regs.Frame points to it for good, so that the
	// interrupt stores no pointer: no write barrier runs there).
	frame linux.PtRegsAMD64
	regs  perf.Regs
	_     [64]byte
}

var (
	timerCPUs    [maxTrapCPUs]timerCPU
	timerHandler atomic.Pointer[func(cpu int, regs *perf.Regs)]

	// timerOn is set once the gate is installed; timerRetryCount is
	// timerRetry as a count of the local APIC timer, which the gate
	// programs when it cannot run Go code.
	timerOn         atomic.Bool
	timerRetryCount uint32
	// timerNumCPU is NumCPU once the timer started.
	timerNumCPU int

	timerOnce sync.Once
	errTimer  error
)

// StartTimer installs the sampling timer's gate, setting up the trap
// entries of every CPU the first time (see Kprobes); ArmTimer and
// SetTimerHandler then are the board's kernel.Timer.
func StartTimer() error {
	timerOnce.Do(func() {
		if lapicTimerHz == 0 {
			errTimer = errors.New("amd64: timer: the local APIC timer's rate is unknown")
			return
		}
		if errTimer = trapInit(); errTimer != nil {
			return
		}
		for i := range timerCPUs {
			t := &timerCPUs[i]
			t.regs = perf.Regs{Frame: unsafe.Pointer(&t.frame), Size: unsafe.Sizeof(t.frame)}
		}
		timerRetryCount = timerCount(timerRetry)
		timerNumCPU = NumCPU()
		_, _, entry := trapEntries()
		setGate(timerVector, entry, 1)
		timerOn.Store(true)
	})
	return errTimer
}

// SetTimerHandler installs the function the timer's interrupt calls, on
// the interrupted CPU with the interrupted registers, in interrupt
// context: on the CPU's gsignal stack (24 KiB), with interrupts off; it
// must not allocate nor block.
func SetTimerHandler(h func(cpu int, regs *perf.Regs)) {
	if h == nil {
		timerHandler.Store(nil)
		return
	}
	timerHandler.Store(&h)
}

// ArmTimer asks for one interrupt on cpu at or after deadline (in
// Nanotime's clock), replacing any earlier request; deadline 0 cancels
// it. It may be called from any CPU, and from the handler. Before
// StartTimer it does nothing. It and all it calls are nosplit: no
// preemption can move a goroutine to another CPU in it, so a caller that
// must stay on its CPU (a loop that only calls nosplit code) may call it.
//
//go:nosplit
func ArmTimer(cpu int, deadline uint64) {
	if !timerOn.Load() || cpu < 0 || cpu >= timerNumCPU {
		return
	}
	timerCPUs[cpu].deadline.Store(deadline)
	if timerArmHere(cpu) || deadline == 0 {
		return
	}
	lapicSendIPI(uint32(cpu), timerVector|icrAssert)
}

// timerArmHere programs the timer for its deadline if the caller runs on
// cpu, and reports whether it does. Interrupts are off in between, and
// what it calls is nosplit (no preemption check can move the goroutine),
// so the CPU cannot change under it.
//
//go:nosplit
func timerArmHere(cpu int) bool {
	flags := irqDisable()
	here := CPUID() == cpu
	if here && !timerCPUs[cpu].inHandler {
		timerProgram(cpu)
	}
	irqRestore(flags)
	return here
}

// trapTimer is the Go side of the timer's gate, on the CPU's gsignal with
// interrupts off: frame is the interrupted pt_regs. If the deadline has
// passed it is taken (a concurrent ArmTimer's new one stays) and the
// handler runs; a breakpoint hit in the handler counts as a kprobe miss
// (the nested trap has only the gsignal stack's reserve). Then the timer
// is programmed for the deadline that is left.
func trapTimer(frame *linux.PtRegsAMD64, cpu int) {
	t := &timerCPUs[cpu]
	if d := t.deadline.Load(); d != 0 && uint64(Nanotime()) >= d && t.deadline.CompareAndSwap(d, 0) {
		if h := timerHandler.Load(); h != nil {
			t.frame = *frame
			t.regs.IP = frame.Ip
			t.regs.User = frame.Cs&3 != 0
			kp := trapKprobes
			if kp != nil {
				kp.EnterHandler(cpu)
			}
			t.inHandler = true
			(*h)(cpu, &t.regs)
			t.inHandler = false
			if kp != nil {
				kp.ExitHandler(cpu)
			}
		}
	}
	timerProgram(cpu)
}

// timerProgram sets the timer of cpu, the running CPU, counting towards
// its sampling deadline, or stops it when there is none. Interrupts are
// off.
//
//go:nosplit
func timerProgram(cpu int) {
	d := timerCPUs[cpu].deadline.Load()
	if d == 0 {
		lapicWrite(lapicTimerInitial, 0)
		return
	}
	timerStart(cpu, timerVector, int64(d)-Nanotime())
}

// timerStart sets the timer of cpu, the running CPU, to interrupt on
// vector in ns nanoseconds. Interrupts are off.
//
//go:nosplit
func timerStart(cpu int, vector uint32, ns int64) {
	if lvt := &trapCPUs[cpu].timerLVT; *lvt != vector {
		if *lvt == 0 {
			lapicWrite(lapicTimerDivide, timerDivideBy1)
		}
		lapicWrite(lapicLVTTimer, vector) // one-shot, unmasked
		*lvt = vector
	}
	lapicWrite(lapicTimerInitial, timerCount(ns))
}

// timerCount is the local APIC timer count of ns nanoseconds (at most
// maxTimerDelta), rounded up, at least 1 (0 would stop the timer).
//
//go:nosplit
func timerCount(ns int64) uint32 {
	ns = min(max(ns, 0), maxTimerDelta)
	count := (uint64(ns)*lapicTimerHz + 1e9 - 1) / 1e9
	return uint32(min(max(count, 1), math.MaxUint32))
}

// timerHalt halts cpu, the running CPU, for at most ns nanoseconds from
// now, or until its sampling deadline if that comes first, then programs
// the timer back for the sampling deadline if it counted for the idle
// one.
// Interrupts are off from choosing the deadline to the halt (STI's
// shadow: a timer that expired meanwhile wakes HLT), so that an IPI
// that moved the sampling deadline meanwhile is served after the timer
// was set, and wakes the halt.
func timerHalt(cpu int, now, ns int64) {
	t := &timerCPUs[cpu]
	flags := irqDisable()
	vector := uint32(idleVector)
	if d := int64(t.deadline.Load()); d != 0 && d-now < ns {
		vector, ns = timerVector, d-now
	}
	timerStart(cpu, vector, ns)
	stiHalt()
	irqDisable()
	if trapCPUs[cpu].timerLVT == idleVector && t.deadline.Load() != 0 {
		timerProgram(cpu)
	}
	irqRestore(flags)
}
