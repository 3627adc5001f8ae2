//go:build tamago && riscv64

package riscv64

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
	if s.periodic != 0 {
		ArmTimer(cpu, uint64(now+s.periodic))
	}
	s.hits.Add(1)
}

func startTimer(t testing.TB) {
	t.Helper()
	if err := StartTimer(); err != nil {
		t.Fatal(err)
	}
	timerSeen.periodic = 0
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
// interrupt.
func TestTimerCancel(t *testing.T) {
	startTimer(t)
	hits := timerSeen.hits.Load()
	now := Nanotime()
	ArmTimer(0, uint64(now+1e6))
	ArmTimer(0, 0)
	if spinUntilHit(hits, now+5e6) {
		t.Errorf("a cancelled deadline interrupted")
	}
	now = Nanotime()
	ArmTimer(0, uint64(now+1e6))
	ArmTimer(0, uint64(now+20e6))
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
	if slept < 50e6 || slept > 150e6 {
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
	if timerSeen.hits.Load() != hits+1 {
		t.Fatalf("%d interrupts during the sleep, want 1", timerSeen.hits.Load()-hits)
	}
	if at := timerSeen.at - start; at < 5e6 || at >= 30e6 {
		t.Errorf("the deadline 5 ms into a 30 ms sleep interrupted at %d ns", at)
	}
}

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

// BenchmarkTimerInterrupt is the cost of one timer interrupt with a
// handler that does little (recordTimer): arming a passed deadline takes
// the interrupt as ArmTimer enables interrupts again. BenchmarkArmTimer
// is the arming alone.
func BenchmarkTimerInterrupt(b *testing.B) {
	startTimer(b)
	hits := timerSeen.hits.Load()
	for b.Loop() {
		ArmTimer(0, 1)
	}
	if n := timerSeen.hits.Load() - hits; n != uint64(b.N) {
		b.Fatalf("%d interrupts for %d deadlines", n, b.N)
	}
}

func BenchmarkArmTimer(b *testing.B) {
	startTimer(b)
	deadline := uint64(Nanotime() + 3600e9)
	for b.Loop() {
		ArmTimer(0, deadline)
	}
}
