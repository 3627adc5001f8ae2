package perf

import (
	"sync/atomic"

	"hachi/bpf/vm"
	"hachi/kernel/trace"
	"hachi/syscall/linux"
)

// tpProbe is perf's probe on one tracepoint (perf_trace_<event> with the
// trace event's perf_events list and prog_array): registered with the
// tracepoint while at least one perf event is open on it.
type tpProbe struct {
	sys    *System
	tp     *trace.Tracepoint
	events atomic.Pointer[[]*Event]
	progs  progArray
	users  int // open events, under sys.tpMu
}

var _ trace.Probe = (*tpProbe)(nil)

// kernelRegs stand for the registers of a tracepoint hit: kernel mode,
// which is what exclude_kernel tests.
var kernelRegs = Regs{}

// Hit implements trace.Probe (perf_trace_run_bpf_submit): the trace
// event's programs run first on the record (read-only, as the verifier
// allows them to read it); unless they all return non-zero, no event
// sees the hit. Then every matching event counts it and, if sampling,
// writes a sample whose raw data is the record.
//
// Unlike Linux, the record's first 8 bytes (the common header) are not
// overwritten with a pointer to the registers before the programs run:
// programs cannot read them (tp_prog_is_valid_access), and raw samples
// keep their header intact instead of carrying a kernel address.
func (p *tpProbe) Hit(_ *trace.Tracepoint, c trace.Ctx, rec []byte) {
	if p.sys.runArray(c.CPU, &p.progs, vm.Bytes(rec, false), &kernelRegs) == 0 {
		return
	}
	evs := p.events.Load()
	if evs == nil {
		return
	}
	for _, e := range *evs {
		if !e.matches(c.CPU, &kernelRegs) {
			continue
		}
		sd := sampleData{raw: rec, hasRaw: true}
		e.swHit(c.CPU, 1, &sd, &kernelRegs)
	}
}

// tpInit is perf_trace_init for a PERF_TYPE_TRACEPOINT event: config
// names the tracepoint by id (EINVAL if none has it, as Linux's
// perf_trace_init answers), raw samples need tracepoint privilege
// (perf_trace_event_perm), and the first event on a tracepoint registers
// perf's probe on it.
func (s *System) tpInit(e *Event, allowTracepoint func() error) error {
	tp, ok := trace.ByID(e.attr.Config)
	if !ok {
		return linux.EINVAL
	}
	if e.attr.SampleType&linux.PERF_SAMPLE_RAW != 0 {
		if err := allowTracepoint(); err != nil {
			return err
		}
	}
	s.tpMu.Lock()
	defer s.tpMu.Unlock()
	p := s.tracer[tp.ID()]
	if p == nil {
		p = &tpProbe{sys: s, tp: tp}
		if err := tp.Register(p); err != nil {
			return err
		}
		s.tracer[tp.ID()] = p
	}
	p.users++
	var cur []*Event
	if l := p.events.Load(); l != nil {
		cur = *l
	}
	next := append(append([]*Event(nil), cur...), e)
	p.events.Store(&next)
	e.tp = p
	return nil
}

// tpRemove undoes tpInit when the event is released.
func (s *System) tpRemove(e *Event) {
	s.tpMu.Lock()
	defer s.tpMu.Unlock()
	p := e.tp
	var next []*Event
	if l := p.events.Load(); l != nil {
		for _, x := range *l {
			if x != e {
				next = append(next, x)
			}
		}
	}
	if len(next) == 0 {
		p.events.Store(nil)
	} else {
		p.events.Store(&next)
	}
	p.users--
	if p.users == 0 {
		_ = p.tp.Unregister(p)
		delete(s.tracer, p.tp.ID())
	}
}
