package perf

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"hachi/bpf/maps"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// kind is what an event counts, fixed at creation.
type kind uint8

const (
	kindBPFOutput kind = iota
	kindDummy
	kindCPUClock
	kindTracepoint
	kindKprobe
)

// Event is an open perf event (struct perf_event): the object behind a
// perf event file descriptor. It is a syscall.FileObject and the
// maps.PerfEvent a PERF_EVENT_ARRAY slot holds.
type Event struct {
	sys  *System
	attr Attr
	kind kind
	id   uint64
	cpu  int   // -1: follows a task
	tid  int32 // -1: not bound to a task
	// clock is the clockid samples are timed with (use_clockid), -1 for
	// perf_clock: events sharing a group or a ring must agree.
	clock int32

	leader *Event
	// siblings of a group leader, under sys.ctxMu.
	siblings []*Event

	// enabled is the user's wish (ENABLE/DISABLE, attr.disabled); active
	// is enabled with the group leader enabled: the event counts and
	// samples (PERF_EVENT_STATE_ACTIVE). Both change under sys.ctxMu.
	enabled bool
	running bool        // active as the syscall side last set it
	active  atomic.Bool // what the trap side tests
	// limitHit: the REFRESH budget stopped the event from trap context.
	limitHit atomic.Bool

	count       atomic.Uint64
	lostSamples atomic.Uint64 // PERF_FORMAT_LOST
	// Times for read_format's TOTAL_TIME_*: accumulated, plus since
	// enabledAt / activeAt while (0 when not) enabled / active.
	timeEnabled atomic.Uint64
	timeRunning atomic.Uint64
	enabledAt   atomic.Uint64
	activeAt    atomic.Uint64

	// Sampling (struct hw_perf_event): the period, what is left of it
	// (negative counts up to the next overflow), the period of the last
	// sample, and the REFRESH budget.
	samplePeriod atomic.Uint64
	periodLeft   atomic.Int64
	lastPeriod   atomic.Uint64
	eventLimit   atomic.Int32

	// CPU clock: the time the count was last brought up to date, and the
	// next timer deadline.
	clockPrev     atomic.Uint64
	clockDeadline atomic.Uint64

	rb        atomic.Pointer[ring] // where output goes: own or SET_OUTPUT's
	mmapMu    sync.Mutex
	mmapCount int // mappings of this event's ring made through this event

	prog atomic.Pointer[attachedProg] // event->prog

	tp *tpProbe    // tracepoint events: the probe the event hangs on
	kp *kprobeSite // kprobe events: the probe placed for it

	headerSize, idHeaderSize uint64
	released                 bool // under sys.ctxMu
}

var (
	_ syscall.FileObject = (*Event)(nil)
	_ maps.PerfEvent     = (*Event)(nil)
)

// ID is the event's id (PERF_EVENT_IOC_ID, PERF_SAMPLE_ID/STREAM_ID).
func (e *Event) ID() uint64 { return e.id }

// Attr is the event's perf_event_attr as it was opened (sample_period
// holds the CPU clock's period once a frequency has been converted).
func (e *Event) Attr() Attr { return e.attr }

// primaryID is primary_event_id: Hachi has no inherited children, so an
// event is its own primary.
func (e *Event) primaryID() uint64 { return e.id }

// BPFOutput implements maps.PerfEvent.
func (e *Event) BPFOutput() bool { return e.kind == kindBPFOutput }

// OnCPU implements maps.PerfEvent: the CPU the event is active on
// (event->oncpu), -1 if none. A task-bound event is on the CPU its task
// is running on.
func (e *Event) OnCPU() int {
	if !e.active.Load() {
		return -1
	}
	if e.tid < 0 {
		return e.cpu
	}
	for c := range e.sys.cpus {
		if _, tid := e.sys.host.Current(c); tid == e.tid && (e.cpu < 0 || e.cpu == c) {
			return c
		}
	}
	return -1
}

// Output implements maps.PerfEvent: bpf_perf_event_output's
// perf_event_output of a PERF_RECORD_SAMPLE with data as its raw data,
// from a program running on cpu. The sample's IP and cpumode come from the
// registers of the hit that ran the program when perf ran it (a kprobe or
// a perf_event sample); a tracepoint hit has no register frame in Hachi
// (Linux's perf_fetch_caller_regs), so its samples carry IP 0.
func (e *Event) Output(cpu int, data []byte) error {
	c := e.sys.cpu(cpu)
	if c == nil {
		return linux.EINVAL // no such CPU: not a program's
	}
	var sd sampleData
	var regs *Regs
	if c.regsSet {
		regs = &Regs{IP: c.regsIP, User: c.regsUser}
	}
	e.fill(&sd, cpu, regs)
	sd.raw, sd.hasRaw = data, true
	sd.period = 0
	return e.output(&sd)
}

// matches is the filter of a hit on cpu (perf_tp_event_match,
// perf_exclude_event): the event is active, bound to that CPU or to the
// task running there, and not excluding the mode regs ran in.
func (e *Event) matches(cpu int, regs *Regs) bool {
	if !e.active.Load() {
		return false
	}
	if e.cpu >= 0 && e.cpu != cpu {
		return false
	}
	if e.tid >= 0 {
		if _, tid := e.sys.host.Current(cpu); tid != e.tid {
			return false
		}
	}
	if regs != nil {
		if regs.User && has(&e.attr, linux.PerfAttrExcludeUser) {
			return false
		}
		if !regs.User && has(&e.attr, linux.PerfAttrExcludeKernel) {
			return false
		}
	}
	return true
}

// readCount is perf_event_read's value: the count, with the CPU clock
// brought up to date.
func (e *Event) readCount() uint64 {
	if e.kind == kindCPUClock {
		e.clockUpdate()
	}
	return e.count.Load()
}

// times are the enabled and running times up to now.
func (e *Event) times() (enabled, running uint64) {
	now := e.sys.host.Now()
	enabled, running = e.timeEnabled.Load(), e.timeRunning.Load()
	if at := e.enabledAt.Load(); at != 0 {
		enabled += now - at
	}
	if at := e.activeAt.Load(); at != 0 {
		running += now - at
	}
	return enabled, running
}

// readOne fills vals as perf_read_one / perf_output_read_one lay out an
// event read alone and returns how many values it wrote.
func (e *Event) readOne(vals []uint64) int {
	rf := e.attr.ReadFormat
	n := 0
	vals[n] = e.readCount()
	n++
	enabled, running := e.times()
	if rf&linux.PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
		vals[n] = enabled
		n++
	}
	if rf&linux.PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
		vals[n] = running
		n++
	}
	if rf&linux.PERF_FORMAT_ID != 0 {
		vals[n] = e.primaryID()
		n++
	}
	if rf&linux.PERF_FORMAT_LOST != 0 {
		vals[n] = e.lostSamples.Load()
		n++
	}
	return n
}

// readSize is event->read_size (__perf_event_read_size) for the group the
// event is in.
func (e *Event) readSize() int {
	rf := e.attr.ReadFormat
	entry, size, nr := 8, 0, 1
	if rf&linux.PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
		size += 8
	}
	if rf&linux.PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
		size += 8
	}
	if rf&linux.PERF_FORMAT_ID != 0 {
		entry += 8
	}
	if rf&linux.PERF_FORMAT_LOST != 0 {
		entry += 8
	}
	if rf&linux.PERF_FORMAT_GROUP != 0 {
		nr += len(e.leader.siblings)
		size += 8
	}
	return size + entry*nr
}

// Read is read(2) on the event (perf_read): the counter laid out by
// read_format, alone or, with PERF_FORMAT_GROUP, the whole group (the
// leader first). A buffer shorter than that is ENOSPC.
func (e *Event) Read(p []byte) (int, error) {
	e.sys.ctxMu.Lock()
	defer e.sys.ctxMu.Unlock()
	size := e.readSize()
	if len(p) < size {
		return 0, linux.ENOSPC
	}
	rf := e.attr.ReadFormat
	var vals []uint64
	if rf&linux.PERF_FORMAT_GROUP == 0 {
		var buf [5]uint64
		vals = buf[:e.readOne(buf[:])]
	} else {
		// perf_read_group: nr, the times of the leader, then each
		// member's value, id and lost.
		l := e.leader
		enabled, running := l.times()
		vals = append(vals, uint64(1+len(l.siblings)))
		if rf&linux.PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
			vals = append(vals, enabled)
		}
		if rf&linux.PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
			vals = append(vals, running)
		}
		for _, m := range append([]*Event{l}, l.siblings...) {
			vals = append(vals, m.readCount())
			if rf&linux.PERF_FORMAT_ID != 0 {
				vals = append(vals, m.primaryID())
			}
			if rf&linux.PERF_FORMAT_LOST != 0 {
				vals = append(vals, m.lostSamples.Load())
			}
		}
	}
	for i, v := range vals {
		binary.LittleEndian.PutUint64(p[8*i:], v)
	}
	return 8 * len(vals), nil
}

// Poll is perf_poll: EPOLLHUP without a ring, otherwise EPOLLIN once
// data became due for the reader since the last Poll (the flag is
// consumed, as Linux's atomic_xchg(&rb->poll, 0)).
func (e *Event) Poll() uint32 {
	r := e.rb.Load()
	if r == nil {
		return EPOLLHUP
	}
	return r.poll.Swap(0)
}

// AddWaiter makes w be told when the event's ring has data for its
// readers, until remove is called: what the kernel's poll and epoll
// register (the event's wait queue). EINVAL if the event has no ring yet.
func (e *Event) AddWaiter(w Waker) (remove func(), err error) {
	r := e.rb.Load()
	if r == nil {
		return nil, linux.EINVAL
	}
	return r.addWaiter(w), nil
}

// setEnabled is _perf_event_enable / _perf_event_disable, under ctxMu.
func (e *Event) setEnabled(on bool) {
	if e.enabled == on {
		return
	}
	now := e.sys.host.Now()
	e.enabled = on
	if on {
		e.enabledAt.Store(now)
	} else if at := e.enabledAt.Swap(0); at != 0 {
		e.timeEnabled.Add(now - at)
	}
	if e.leader == e {
		for _, s := range e.siblings {
			s.schedule(now)
		}
	}
	e.schedule(now)
	e.updateUserpage()
}

// schedule makes the event active exactly when it and its group leader
// are enabled (event_sched_in / event_sched_out), under ctxMu.
func (e *Event) schedule(now uint64) {
	want := e.enabled && e.leader.enabled && !e.released
	if want == e.running {
		return
	}
	e.running = want
	if want {
		e.activeAt.Store(now)
		e.clockPrev.Store(now)
		e.active.Store(true)
		if e.kind == kindCPUClock {
			e.sys.clockStart(e, now)
		}
		return
	}
	e.active.Store(false)
	if e.kind == kindCPUClock {
		e.sys.clockStop(e, now)
	}
	if at := e.activeAt.Swap(0); at != 0 {
		e.timeRunning.Add(now - at)
	}
}

// reset is _perf_event_reset: the count starts again from zero.
func (e *Event) reset() {
	if e.kind == kindCPUClock {
		e.clockPrev.Store(e.sys.host.Now())
	}
	e.count.Store(0)
	e.updateUserpage()
}

// updateUserpage refreshes the control page of the event's ring.
func (e *Event) updateUserpage() {
	if r := e.rb.Load(); r != nil {
		enabled, running := e.times()
		r.updateUserpage(e.readCount(), enabled, running)
	}
}

// Release implements syscall.FileObject: the last descriptor is closed
// (perf_release): the event stops, leaves its group (siblings become
// leaders of their own, as perf_group_detach does), drops its program,
// its probe and its ring.
func (e *Event) Release() {
	s := e.sys
	s.ctxMu.Lock()
	now := s.host.Now()
	e.released = true
	e.schedule(now)
	if e.leader == e {
		for _, sib := range e.siblings {
			sib.leader = sib
			sib.schedule(now)
		}
		e.siblings = nil
	} else {
		l := e.leader
		for i, sib := range l.siblings {
			if sib == e {
				l.siblings = append(l.siblings[:i:i], l.siblings[i+1:]...)
				break
			}
		}
	}
	s.ctxMu.Unlock()
	e.detachBPF()
	switch e.kind {
	case kindTracepoint:
		s.tpRemove(e)
	case kindKprobe:
		e.kp.close(e)
	}
	e.setRing(nil)
}
