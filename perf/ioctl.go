package perf

import (
	"encoding/binary"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// Ioctl is ioctl(2) on the perf event descriptor fd of t (perf_ioctl):
// EBADF if fd is not open, ENOTTY if it is not a perf event.
func (s *System) Ioctl(t *syscall.Task, fd int32, cmd uint32, arg uint64) (int, error) {
	f, err := t.Files.Get(int(fd))
	if err != nil {
		return -1, err
	}
	defer f.DecRef()
	e, ok := f.Object().(*Event)
	if !ok {
		return -1, linux.ENOTTY
	}
	return e.Ioctl(t, cmd, arg)
}

// Ioctl is _perf_ioctl: cmd with its argument arg (a value or an address
// in t's memory). Unknown commands are ENOTTY.
//
//   - ENABLE, DISABLE, RESET: the event, or with PERF_IOC_FLAG_GROUP in arg
//     its whole group.
//   - REFRESH: arg more samples, then the event disables itself (EINVAL for
//     a counting event, or an inherited one).
//   - PERIOD: the u64 at arg is the new sample period or frequency (EINVAL
//     for 0, for a counting event, past the maximum rate in frequency mode,
//     or with bit 63 set in period mode).
//   - ID: the event id is written to arg.
//   - SET_OUTPUT: arg is an event descriptor whose ring gets this event's
//     records, or -1 to undo it.
//   - SET_FILTER: EINVAL (Hachi has no trace filter expressions).
//   - SET_BPF: arg is a program descriptor (AttachBPF's rules).
//   - PAUSE_OUTPUT: arg non-zero pauses writing to the ring (records are
//     lost, and counted), zero resumes (EINVAL without a ring).
//   - QUERY_BPF: struct perf_event_query_bpf at arg gets the ids of the
//     programs on the tracepoint (EINVAL for other events, E2BIG for
//     ids_len past 64, ENOSPC when ids_len is too small; prog_cnt is set).
//   - MODIFY_ATTRIBUTES: EINVAL, as Linux answers for events other than
//     breakpoints.
func (e *Event) Ioctl(t *syscall.Task, cmd uint32, arg uint64) (int, error) {
	s := e.sys
	var apply func(*Event)
	switch cmd {
	case linux.PERF_EVENT_IOC_ENABLE:
		apply = func(x *Event) { x.setEnabled(true) }
	case linux.PERF_EVENT_IOC_DISABLE:
		apply = func(x *Event) { x.setEnabled(false) }
	case linux.PERF_EVENT_IOC_RESET:
		apply = (*Event).reset
	case linux.PERF_EVENT_IOC_REFRESH:
		return 0, e.refresh(int32(arg))
	case linux.PERF_EVENT_IOC_PERIOD:
		var b [8]byte
		if err := t.Mem.CopyIn(arg, b[:]); err != nil {
			return -1, linux.EFAULT
		}
		return 0, e.setPeriodValue(binary.LittleEndian.Uint64(b[:]))
	case linux.PERF_EVENT_IOC_ID:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], e.primaryID())
		if err := t.Mem.CopyOut(arg, b[:]); err != nil {
			return -1, linux.EFAULT
		}
		return 0, nil
	case linux.PERF_EVENT_IOC_SET_OUTPUT:
		if int32(arg) == -1 {
			return 0, e.setOutput(nil)
		}
		f, err := t.Files.Get(int(int32(arg)))
		if err != nil {
			return -1, linux.EBADF
		}
		defer f.DecRef()
		out, ok := f.Object().(*Event)
		if !ok {
			return -1, linux.EBADF
		}
		return 0, e.setOutput(out)
	case linux.PERF_EVENT_IOC_SET_FILTER:
		return -1, linux.EINVAL
	case linux.PERF_EVENT_IOC_SET_BPF:
		return 0, e.setBPF(t, int32(arg))
	case linux.PERF_EVENT_IOC_PAUSE_OUTPUT:
		r := e.rb.Load()
		if r == nil || len(r.data) == 0 {
			return -1, linux.EINVAL
		}
		r.paused.Store(arg != 0)
		return 0, nil
	case linux.PERF_EVENT_IOC_QUERY_BPF:
		return 0, e.queryBPF(t, arg)
	case linux.PERF_EVENT_IOC_MODIFY_ATTRIBUTES:
		if _, err := CopyAttr(t.Mem, arg); err != nil {
			return -1, err
		}
		return -1, linux.EINVAL
	default:
		return -1, linux.ENOTTY
	}
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	members := []*Event{e}
	if uint32(arg)&linux.PERF_IOC_FLAG_GROUP != 0 {
		// perf_event_for_each: the leader and its siblings.
		members = append([]*Event{e.leader}, e.leader.siblings...)
	}
	for _, x := range members {
		x.syncLimit()
		apply(x)
	}
	return 0, nil
}

// refresh is _perf_event_refresh.
func (e *Event) refresh(n int32) error {
	if has(&e.attr, linux.PerfAttrInherit) || !sampling(&e.attr) {
		return linux.EINVAL
	}
	e.sys.ctxMu.Lock()
	defer e.sys.ctxMu.Unlock()
	e.syncLimit()
	e.eventLimit.Add(n)
	e.setEnabled(true)
	return nil
}

// setPeriodValue is _perf_event_period and __perf_event_period.
func (e *Event) setPeriodValue(v uint64) error {
	a := &e.attr
	if !sampling(a) || v == 0 {
		return linux.EINVAL
	}
	freq := has(a, linux.PerfAttrFreq)
	if freq && v > e.sys.MaxSampleRate || !freq && v&(1<<63) != 0 {
		return linux.EINVAL
	}
	e.sys.ctxMu.Lock()
	defer e.sys.ctxMu.Unlock()
	a.SamplePeriod = v
	e.samplePeriod.Store(v)
	e.periodLeft.Store(0)
	if e.running {
		// Stop and start again with the new period, as Linux does for
		// an active event.
		now := e.sys.host.Now()
		e.enabled = false
		e.schedule(now)
		e.enabled = true
		e.schedule(now)
	}
	return nil
}

// setBPF is PERF_EVENT_IOC_SET_BPF: bpf_prog_get (EBADF for a closed
// descriptor, EINVAL for one that is not a program), then AttachBPF.
func (e *Event) setBPF(t *syscall.Task, fd int32) error {
	f, err := t.Files.Get(int(fd))
	if err != nil {
		return linux.EBADF
	}
	defer f.DecRef()
	p, ok := f.Object().(ProgramRef)
	if !ok {
		return linux.EINVAL
	}
	p.Hold()
	if err := e.AttachBPF(p, 0); err != nil {
		p.Put()
		return err
	}
	return nil
}

// queryBPF is perf_event_query_prog_array.
func (e *Event) queryBPF(t *syscall.Task, addr uint64) error {
	if !perfmonCapable(t) {
		return linux.EPERM
	}
	if e.attr.Type != linux.PERF_TYPE_TRACEPOINT {
		return linux.EINVAL
	}
	var q [8]byte
	if err := t.Mem.CopyIn(addr, q[:]); err != nil {
		return linux.EFAULT
	}
	idsLen := binary.LittleEndian.Uint32(q[:])
	if idsLen > maxTraceProgs {
		return linux.E2BIG
	}
	ids := e.tp.progs.ids()
	var cnt [4]byte
	binary.LittleEndian.PutUint32(cnt[:], uint32(len(ids)))
	// bpf_prog_array_copy_info: ids_len 0 only asks for the count.
	var result error
	if idsLen != 0 && uint32(len(ids)) > idsLen {
		ids, result = ids[:idsLen], linux.ENOSPC
	}
	if idsLen == 0 {
		ids = nil
	}
	out := make([]byte, 4*idsLen)
	for i, id := range ids {
		binary.LittleEndian.PutUint32(out[4*i:], id)
	}
	if t.Mem.CopyOut(addr+4, cnt[:]) != nil || t.Mem.CopyOut(addr+8, out) != nil {
		return linux.EFAULT
	}
	return result
}
