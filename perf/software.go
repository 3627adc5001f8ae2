package perf

import (
	"hachi/syscall/linux"
)

// swHit is perf_swevent_event: nr occurrences of what the event counts,
// on cpu; a sampling event overflows every sample_period of them and
// writes a sample (or runs its program) each time.
func (e *Event) swHit(cpu int, nr uint64, sd *sampleData, regs *Regs) {
	e.count.Add(nr)
	if !sampling(&e.attr) {
		return
	}
	if e.attr.SampleType&linux.PERF_SAMPLE_PERIOD != 0 {
		sd.period = nr
		e.overflow(cpu, sd, regs)
		return
	}
	sd.period = e.lastPeriod.Load()
	if nr == 1 && e.samplePeriod.Load() == 1 {
		e.overflow(cpu, sd, regs)
		return
	}
	if e.periodLeft.Add(int64(nr)) < 0 {
		return
	}
	for n := e.setPeriod(); n > 0; n-- {
		if e.overflow(cpu, sd, regs) {
			break
		}
	}
}

// setPeriod is perf_swevent_set_period: how many periods have elapsed,
// with period_left moved back below zero.
func (e *Event) setPeriod() uint64 {
	period := e.lastPeriod.Load()
	e.lastPeriod.Store(e.samplePeriod.Load())
	for {
		old := e.periodLeft.Load()
		if old < 0 || period == 0 {
			return 0
		}
		nr := (period + uint64(old)) / period
		if e.periodLeft.CompareAndSwap(old, old-int64(nr*period)) {
			return nr
		}
	}
}

// startPeriod is perf_swevent_add's set-up of a sampling event.
func (e *Event) startPeriod() {
	p := e.samplePeriod.Load()
	e.lastPeriod.Store(p)
	e.periodLeft.Store(int64(p))
	e.setPeriod()
}

// overflow is __perf_event_overflow: the REFRESH budget, the event's
// program (a PERF_EVENT program decides whether the sample is written),
// then the sample. It reports true when the budget ran out and the event
// stopped.
func (e *Event) overflow(cpu int, sd *sampleData, regs *Regs) (stopped bool) {
	if limit := e.eventLimit.Load(); limit != 0 && e.eventLimit.Add(-1) == 0 {
		// perf_event_disable_inatomic: the event stops now; the
		// syscall side records it as disabled (syncLimit).
		e.active.Store(false)
		e.limitHit.Store(true)
		stopped = true
	}
	e.fill(sd, cpu, regs)
	if !e.tracing() {
		if ap := e.prog.Load(); ap != nil && e.sys.runOverflow(cpu, ap, sd, regs) == 0 {
			return stopped
		}
	}
	_ = e.output(sd)
	return stopped
}

// syncLimit records, under ctxMu, that the REFRESH budget stopped the
// event from trap context.
func (e *Event) syncLimit() {
	if e.limitHit.Swap(false) {
		e.setEnabled(false)
	}
}

// CPU clock events (cpu_clock_event_*): a nanosecond count of the time
// the event is active, sampling from the per-CPU timer.

// clockUpdate is cpu_clock_event_update: the time since the last update
// joins the count.
func (e *Event) clockUpdate() {
	if !e.active.Load() {
		return
	}
	now := e.sys.host.Now()
	prev := e.clockPrev.Swap(now)
	if now > prev {
		e.count.Add(now - prev)
	}
}

// clockPeriod is the timer period of a sampling CPU clock event.
func (e *Event) clockPeriod() uint64 { return max(minClockPeriod, e.samplePeriod.Load()) }

// clockStart is cpu_clock_event_start for a sampling event (the count
// runs from clockPrev, set by schedule): a timer one period away.
func (s *System) clockStart(e *Event, now uint64) {
	if !sampling(&e.attr) {
		return
	}
	e.startPeriod()
	e.clockDeadline.Store(now + e.clockPeriod())
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	c := s.cpus[e.cpu]
	var cur []*Event
	if l := c.clocks.Load(); l != nil {
		cur = *l
	}
	next := append(append([]*Event(nil), cur...), e)
	c.clocks.Store(&next)
	s.rearm(e.cpu, next)
}

// clockStop is cpu_clock_event_stop: the count is brought up to date and
// the timer stops.
func (s *System) clockStop(e *Event, now uint64) {
	if prev := e.clockPrev.Swap(now); now > prev {
		e.count.Add(now - prev)
	}
	if !sampling(&e.attr) {
		return
	}
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	c := s.cpus[e.cpu]
	var next []*Event
	if l := c.clocks.Load(); l != nil {
		for _, x := range *l {
			if x != e {
				next = append(next, x)
			}
		}
	}
	if len(next) == 0 {
		c.clocks.Store(nil)
	} else {
		c.clocks.Store(&next)
	}
	s.rearm(e.cpu, next)
}

// rearm arms cpu's timer for the earliest deadline of its clock events.
func (s *System) rearm(cpu int, clocks []*Event) {
	var next uint64
	for _, e := range clocks {
		if d := e.clockDeadline.Load(); e.active.Load() && (next == 0 || d < next) {
			next = d
		}
	}
	s.host.Arm(cpu, next)
}

// TimerExpired is the per-CPU timer interrupt for CPU clock sampling
// (perf_swevent_hrtimer), called by the kernel on cpu at time now with
// the interrupted registers (nil if it has none). Each due event brings
// its count up to date, samples unless it excludes the interrupted mode
// (or the idle task, with exclude_idle), and moves its deadline forward
// by whole periods past now (hrtimer_forward_now); then the timer is
// armed for the earliest deadline. It allocates nothing.
func (s *System) TimerExpired(cpu int, now uint64, regs *Regs) {
	c := s.cpu(cpu)
	if c == nil {
		return
	}
	l := c.clocks.Load()
	if l == nil {
		s.host.Arm(cpu, 0)
		return
	}
	var next uint64
	for _, e := range *l {
		if !e.active.Load() {
			continue
		}
		deadline := e.clockDeadline.Load()
		if deadline > now {
			if next == 0 || deadline < next {
				next = deadline
			}
			continue
		}
		e.clockUpdate()
		stopped := false
		if regs != nil && !e.excludes(cpu, regs) {
			sd := sampleData{period: e.lastPeriod.Load()}
			stopped = e.overflow(cpu, &sd, regs)
		}
		period := e.clockPeriod()
		deadline += period * ((now-deadline)/period + 1)
		e.clockDeadline.Store(deadline)
		if !stopped && (next == 0 || deadline < next) {
			next = deadline
		}
	}
	s.host.Arm(cpu, next)
}

// excludes is perf_exclude_event with the timer's exclude_idle test.
func (e *Event) excludes(cpu int, regs *Regs) bool {
	if regs.User && has(&e.attr, linux.PerfAttrExcludeUser) || !regs.User && has(&e.attr, linux.PerfAttrExcludeKernel) {
		return true
	}
	if has(&e.attr, linux.PerfAttrExcludeIdle) {
		if _, tid := e.sys.host.Current(cpu); tid == 0 {
			return true
		}
	}
	return false
}
