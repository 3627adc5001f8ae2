//go:build tamago && riscv64

package riscv64

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

// timerSeen is what recordTimer saw of the last interrupt.
var timerSeen struct {
	hits         atomic.Uint64
	at           int64 // Nanotime in the handler
	cpu          int
	pc, sp, ip   uint64
	size         uintptr
	user, frame  bool
	periodic     int64 // when not 0, the handler re-arms this far ahead
	rearms       int   // else, while not 0, it re-arms a passed deadline
	callProbed   bool  // the handler calls probetest.Sum4
	interruptsOn bool  // mstatus.MIE seen in the handler
}

// recordTimer is a timer handler that keeps what it sees, as a perf
// handler would read it.
func recordTimer(cpu int, regs *perf.Regs) {
	now := Nanotime()
	s := &timerSeen
	s.at, s.cpu = now, cpu
	s.frame = regs.Frame != nil
	if s.frame {
		u := (*linux.UserRegsRISCV64)(regs.Frame)
		s.pc, s.sp = u.Pc, u.Sp
	}
	s.ip, s.size, s.user = regs.IP, regs.Size, regs.User
	on := interruptsOff()
	s.interruptsOn = on != 0
	interruptsRestore(on)
	if s.callProbed {
		probetest.Sum4(1, 2, 3, 4)
	}
	if s.periodic != 0 {
		ArmTimer(cpu, uint64(now+s.periodic))
	} else if s.rearms != 0 {
		s.rearms--
		ArmTimer(cpu, 1)
	}
	s.hits.Add(1)
}

func startTimer(t testing.TB) {
	t.Helper()
	if err := StartTimer(); err != nil {
		t.Fatal(err)
	}
	timerSeen.periodic, timerSeen.rearms, timerSeen.callProbed = 0, 0, false
	SetTimerHandler(recordTimer)
	t.Cleanup(func() {
		ArmTimer(0, 0)
		SetTimerHandler(nil)
	})
}

// spinUntilHit runs on the CPU until the handler has run more than hits
// times or limit has passed; it reports whether it ran.
//
//go:noinline
func spinUntilHit(hits uint64, limit int64) bool {
	for timerSeen.hits.Load() <= hits {
		if Nanotime() > limit {
			return false
		}
	}
	return true
}

// stackBounds is the calling goroutine's stack.
func stackBounds() (lo, hi uint64) {
	gp, _ := runtime.GetG()
	return *word(uint64(gp) + gStackLo), *word(uint64(gp) + gStackHi)
}

// TestTimerInterrupt arms deadlines while the CPU is busy and checks that
// the handler runs once for each, at or after it, with the interrupted
// registers: pc in the kernel's text, sp in the busy goroutine's stack,
// in machine (kernel) mode, interrupts disabled in the handler.
func TestTimerInterrupt(t *testing.T) {
	startTimer(t)
	textStart, textEnd := runtime.TextRegion()
	for i := range 20 {
		hits := timerSeen.hits.Load()
		deadline := Nanotime() + int64(500+100*i)*1000
		ArmTimer(0, uint64(deadline))
		if !spinUntilHit(hits, deadline+1e9) {
			t.Fatalf("no interrupt 1 s after the deadline")
		}
		lo, hi := stackBounds()
		s := &timerSeen
		switch {
		case s.hits.Load() != hits+1:
			t.Errorf("%d interrupts for one deadline", s.hits.Load()-hits)
		case s.at < deadline:
			t.Errorf("handler ran at %d, %d ns before the deadline", s.at, deadline-s.at)
		case s.cpu != 0:
			t.Errorf("cpu %d", s.cpu)
		case !s.frame || s.size != 256 || s.user:
			t.Errorf("regs: frame %v, size %d, user %v", s.frame, s.size, s.user)
		case s.ip != s.pc:
			t.Errorf("IP %#x, frame pc %#x", s.ip, s.pc)
		case s.pc < uint64(textStart) || s.pc >= uint64(textEnd):
			t.Errorf("pc %#x outside the text [%#x, %#x)", s.pc, textStart, textEnd)
		case s.sp < lo || s.sp >= hi:
			t.Errorf("sp %#x outside the goroutine's stack [%#x, %#x)", s.sp, lo, hi)
		case s.interruptsOn:
			t.Errorf("interrupts enabled in the handler")
		}
	}
	if on := interruptsOff(); on == 0 {
		t.Errorf("interrupts disabled after the handler")
	} else {
		interruptsRestore(on)
	}
}

// TestTimerCancel checks that a cancelled or replaced deadline does not
// interrupt. Each deadline is replaced with interrupts disabled, so that
// it is replaced before it passes even if the host stops QEMU for longer
// than the deadline is away.
func TestTimerCancel(t *testing.T) {
	startTimer(t)
	hits := timerSeen.hits.Load()
	now := Nanotime()
	on := interruptsOff()
	ArmTimer(0, uint64(now+1e6))
	ArmTimer(0, 0)
	interruptsRestore(on)
	if spinUntilHit(hits, now+5e6) {
		t.Errorf("a cancelled deadline interrupted")
	}
	now = Nanotime()
	on = interruptsOff()
	ArmTimer(0, uint64(now+1e6))
	ArmTimer(0, uint64(now+20e6))
	interruptsRestore(on)
	if spinUntilHit(hits, now+10e6) {
		t.Errorf("a deadline replaced by a later one interrupted at %d ns", timerSeen.at-now)
	}
	if !spinUntilHit(hits, now+1e9) {
		t.Errorf("the later deadline did not interrupt")
	}
	if timerSeen.at < now+20e6 {
		t.Errorf("the later deadline interrupted %d ns early", now+20e6-timerSeen.at)
	}
}

// TestTimerPast checks that a deadline already passed interrupts at once.
func TestTimerPast(t *testing.T) {
	startTimer(t)
	hits := timerSeen.hits.Load()
	ArmTimer(0, 1)
	if got := timerSeen.hits.Load(); got != hits+1 {
		t.Errorf("%d interrupts after arming a passed deadline, want 1", got-hits)
	}
}

// TestTimerIdle checks the comparator shared with the idle loop: while
// the goroutine sleeps (the hart waits in idle), a handler that re-arms
// every millisecond keeps running, and the sleep still ends on time; an
// armed deadline earlier than the sleep's end interrupts during it.
func TestTimerIdle(t *testing.T) {
	startTimer(t)
	timerSeen.periodic = 1e6
	hits := timerSeen.hits.Load()
	start := Nanotime()
	ArmTimer(0, uint64(start+1e6))
	time.Sleep(50 * time.Millisecond)
	ArmTimer(0, 0)
	slept := Nanotime() - start
	n := timerSeen.hits.Load() - hits
	timerSeen.periodic = 0
	t.Logf("%d interrupts in %d ns", n, slept)
	skipIfStarved(t, slept, 50e6)
	if slept < 50e6 {
		t.Errorf("a 50 ms sleep took %d ns", slept)
	}
	// One per millisecond at most; under TCG some are late.
	if max := uint64(slept/1e6) + 1; n < 25 || n > max {
		t.Errorf("%d interrupts in %d ns at 1 kHz, want 25 to %d", n, slept, max)
	}

	hits = timerSeen.hits.Load()
	start = Nanotime()
	ArmTimer(0, uint64(start+5e6))
	time.Sleep(30 * time.Millisecond)
	slept = Nanotime() - start
	skipIfStarved(t, slept, 30e6)
	if timerSeen.hits.Load() != hits+1 {
		t.Fatalf("%d interrupts during the sleep, want 1", timerSeen.hits.Load()-hits)
	}
	if at := timerSeen.at - start; at < 5e6 || at >= 30e6 {
		t.Errorf("the deadline 5 ms into a 30 ms sleep interrupted at %d ns", at)
	}
}

// skipIfStarved skips a timing test whose sleep of want ns took half as
// long again: the guest clock is the host's, and a loaded host leaves
// QEMU's thread waiting for that long (the idle loop wakes on time
// otherwise: a few hundred microseconds late under TCG).
func skipIfStarved(t *testing.T, took, want int64) {
	t.Helper()
	if took > want*3/2 {
		t.Skipf("a %d ns sleep took %d ns: the host did not run QEMU", want, took)
	}
}

// TestTimerDuringKprobeStep runs a probed function in a loop while the
// timer interrupts every 20 µs, its handler calling the probed function
// too. A probe hit steps through the probed instruction's slot; were the
// timer taken during the step, the handler's own hit would replace the
// step in flight and the slot's closing breakpoint would be nobody's:
// interrupts stay masked during steps. Every call is counted once.
func TestTimerDuringKprobeStep(t *testing.T) {
	startTimer(t)
	m, err := Kprobes()
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Place(perf.KprobeSpec{Symbol: "hachi/kprobe/probetest.Sum4"}, nopProbe{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unregister()
	hits := timerSeen.hits.Load()
	timerSeen.callProbed, timerSeen.periodic = true, 20e3
	ArmTimer(0, uint64(Nanotime()+20e3))
	calls := uint64(0)
	for end := Nanotime() + 200e6; Nanotime() < end; calls++ {
		if probetest.Sum4(1, 2, 3, 4) != 30 {
			t.Fatal("Sum4(1, 2, 3, 4) != 30")
		}
	}
	ArmTimer(0, 0)
	timerSeen.callProbed, timerSeen.periodic = false, 0
	interrupts := timerSeen.hits.Load() - hits
	t.Logf("%d calls, %d interrupts calling too", calls, interrupts)
	if interrupts < 100 {
		t.Errorf("%d interrupts in 200 ms at 50 kHz", interrupts)
	}
	if p.Hits() != calls+interrupts || p.Missed() != 0 {
		t.Errorf("%d hits, %d missed, for %d calls and %d from interrupts", p.Hits(), p.Missed(), calls, interrupts)
	}
	if on := interruptsOff(); on == 0 {
		t.Errorf("interrupts disabled after the probe hits")
	} else {
		interruptsRestore(on)
	}
}

// nopProbe is a kprobe handler that does nothing (the probe counts hits).
type nopProbe struct{}

func (nopProbe) Hit(int, *perf.Regs) {}

// TestTimerNoAllocs checks that the interrupt path allocates nothing.
func TestTimerNoAllocs(t *testing.T) {
	startTimer(t)
	allocs := testing.AllocsPerRun(50, func() {
		hits := timerSeen.hits.Load()
		deadline := Nanotime() + 200e3
		ArmTimer(0, uint64(deadline))
		if !spinUntilHit(hits, deadline+1e9) {
			t.Fatal("no interrupt")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per timer interrupt", allocs)
	}
}

// BenchmarkTimerInterrupt is the cost of one timer interrupt, entry to
// exit, with a handler that re-arms (recordTimer): b.N interrupts in a
// row, each handler arming the same passed deadline, which interrupts
// again as soon as the previous one returns. The comparator keeps its
// value (setCompare writes nothing): BenchmarkArmTimer is the cost of a
// write.
func BenchmarkTimerInterrupt(b *testing.B) {
	startTimer(b)
	hits := timerSeen.hits.Load()
	timerSeen.rearms = b.N - 1
	b.ResetTimer()
	ArmTimer(0, 1)
	b.StopTimer()
	if n := timerSeen.hits.Load() - hits; n != uint64(b.N) {
		b.Fatalf("%d interrupts for %d deadlines", n, b.N)
	}
}

// BenchmarkArmTimer is the cost of arming: a comparator write, mostly
// (deadlines alternate, so that each is written).
func BenchmarkArmTimer(b *testing.B) {
	startTimer(b)
	deadline := uint64(Nanotime() + 3600e9)
	for i := 0; b.Loop(); i++ {
		ArmTimer(0, deadline+uint64(i&1)*1000)
	}
}

// BenchmarkTimerPeriodic is the baseline of BenchmarkSampleCPUClock (in
// riscv64_test): how much a timer interrupting every 100 µs, with a
// handler that only re-arms (recordTimer), slows busy work down, per
// interrupt. Each op runs the work without the timer, then with it.
// Under TCG this is mostly QEMU's: each deadline is a host timer whose
// expiry QEMU's main loop delivers to the vCPU thread.
func BenchmarkTimerPeriodic(b *testing.B) {
	startTimer(b)
	work := func() {
		x := timerSink
		for range 1000 * 4096 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		timerSink = x
	}
	var plain, timed int64
	var n uint64
	for b.Loop() {
		t0 := Nanotime()
		work()
		t1 := Nanotime()
		hits := timerSeen.hits.Load()
		timerSeen.periodic = 100e3
		ArmTimer(0, uint64(t1+100e3))
		work()
		timerSeen.periodic = 0
		ArmTimer(0, 0)
		n += timerSeen.hits.Load() - hits
		plain += t1 - t0
		timed += Nanotime() - t1
	}
	if n == 0 {
		b.Fatal("no interrupts")
	}
	b.ReportMetric(float64(n)/float64(b.N), "interrupts/op")
	b.ReportMetric(float64(timed-plain)/float64(n), "ns/interrupt")
}

// timerSink keeps BenchmarkTimerPeriodic's work from being optimised
// away.
var timerSink uint64
