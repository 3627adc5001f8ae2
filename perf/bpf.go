package perf

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Program is a loaded BPF program as events run it. The bpf() layer's
// program objects implement it: the file a program fd names must hold one
// (its Object()), and BPF_LINK_CREATE passes one to AttachBPF.
type Program interface {
	// Type is the program type: KPROBE for kprobe events, TRACEPOINT for
	// tracepoint events, PERF_EVENT for software sampling events.
	Type() linux.BPFProgType
	// ID is the program id (PERF_EVENT_IOC_QUERY_BPF).
	ID() uint32
	// MaxCtxOffset is one past the largest context offset the program
	// reads (prog->aux->max_ctx_offset): a tracepoint program reading
	// past the tracepoint's fixed fields is refused (EACCES).
	MaxCtxOffset() int
	// Run runs the program on env (the CPU's preallocated state) with ctx
	// as its context and returns r0, like bpf_prog_run, keeping the
	// program's run statistics. It is called from trap context.
	Run(env *vm.Env, ctx vm.Region) uint64
	// CountMissed counts a run skipped because a program was already
	// running on the CPU (bpf_prog_inc_misses_counter).
	CountMissed()
	// Put drops the reference an event held on the program (bpf_prog_put).
	Put()
}

// ProgramRef is how PERF_EVENT_IOC_SET_BPF takes a reference on the
// program a descriptor names (bpf_prog_get): the file's Object() must
// implement it. Hold takes a reference Program.Put drops.
type ProgramRef interface {
	Program
	Hold()
}

// maxTraceProgs is BPF_TRACE_MAX_PROGS: programs on one tracepoint.
const maxTraceProgs = 64

// attachedProg is a program attached to an event with its bpf_cookie.
type attachedProg struct {
	prog   Program
	cookie uint64
}

// progArray is a trace event's prog_array: the programs of every perf
// event on it, run in attach order; replaced whole on change.
type progArray struct {
	mu   sync.Mutex
	list atomic.Pointer[[]attachedProg]
}

func (a *progArray) add(p attachedProg) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var cur []attachedProg
	if l := a.list.Load(); l != nil {
		cur = *l
	}
	if len(cur) >= maxTraceProgs {
		return linux.E2BIG
	}
	next := append(append([]attachedProg(nil), cur...), p)
	a.list.Store(&next)
	return nil
}

func (a *progArray) remove(p Program) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.list.Load()
	if l == nil {
		return
	}
	var next []attachedProg
	removed := false
	for _, x := range *l {
		if x.prog == p && !removed {
			removed = true
			continue
		}
		next = append(next, x)
	}
	if len(next) == 0 {
		a.list.Store(nil)
	} else {
		a.list.Store(&next)
	}
}

// ids is bpf_prog_array_copy_info: the ids of the attached programs.
func (a *progArray) ids() []uint32 {
	var ids []uint32
	if l := a.list.Load(); l != nil {
		for _, x := range *l {
			ids = append(ids, x.prog.ID())
		}
	}
	return ids
}

// tracing reports perf_event_is_tracing: the event is a tracepoint or a
// kprobe, whose programs live on the trace event and run on every hit.
func (e *Event) tracing() bool { return e.kind == kindTracepoint || e.kind == kindKprobe }

// progs is the trace event's program array of a tracing event.
func (e *Event) progs() *progArray {
	if e.kind == kindTracepoint {
		return &e.tp.progs
	}
	return &e.kp.progs
}

var bpfMu sync.Mutex // bpf_event_mutex

// AttachBPF is perf_event_set_bpf_prog: it attaches p with bpf_cookie
// cookie, the way PERF_EVENT_IOC_SET_BPF (cookie 0) and
// BPF_LINK_CREATE(BPF_PERF_EVENT) do. On success the event owns one
// reference to p, which the caller gives it, and drops it (p.Put) when
// the program is detached (DetachBPF, the event's release).
//
// A kprobe event takes KPROBE programs, a tracepoint event TRACEPOINT
// programs that read no further than the tracepoint's fixed fields
// (EACCES otherwise), any other event PERF_EVENT programs, which then run
// at each sample (overflow). EINVAL for another type, EEXIST when the
// event has a program already, E2BIG past 64 programs on one tracepoint.
func (e *Event) AttachBPF(p Program, cookie uint64) error {
	bpfMu.Lock()
	defer bpfMu.Unlock()
	if !e.tracing() {
		// perf_event_set_bpf_handler
		if e.prog.Load() != nil {
			return linux.EEXIST
		}
		if p.Type() != linux.BPF_PROG_TYPE_PERF_EVENT {
			return linux.EINVAL
		}
		e.prog.Store(&attachedProg{p, cookie})
		return nil
	}
	switch {
	case e.kind == kindKprobe && p.Type() != linux.BPF_PROG_TYPE_KPROBE,
		e.kind == kindTracepoint && p.Type() != linux.BPF_PROG_TYPE_TRACEPOINT:
		return linux.EINVAL
	}
	if e.kind == kindTracepoint && p.MaxCtxOffset() > e.tp.tp.FixedSize() {
		return linux.EACCES
	}
	// perf_event_attach_bpf_prog
	if e.prog.Load() != nil {
		return linux.EEXIST
	}
	ap := attachedProg{p, cookie}
	if err := e.progs().add(ap); err != nil {
		return err
	}
	e.prog.Store(&ap)
	return nil
}

// DetachBPF is perf_event_free_bpf_prog: the event's program stops
// running and its reference is dropped. A BPF link's release calls it.
func (e *Event) DetachBPF() { e.detachBPF() }

func (e *Event) detachBPF() {
	bpfMu.Lock()
	ap := e.prog.Swap(nil)
	if ap != nil && e.tracing() {
		e.progs().remove(ap.prog)
	}
	bpfMu.Unlock()
	if ap != nil {
		ap.prog.Put()
	}
}

// runArray is trace_call_bpf: the programs of a trace event, unless a
// program is already running on the CPU (then each counts a miss and the
// hit is dropped: 0). It returns the AND of their results (1 with no
// program), as bpf_prog_run_array does.
func (s *System) runArray(cpu int, a *progArray, ctx vm.Region, regs *Regs) uint64 {
	l := a.list.Load()
	if l == nil {
		return 1
	}
	c := s.cpu(cpu)
	if c == nil {
		return 0
	}
	if c.active.Add(1) != 1 {
		for _, x := range *l {
			x.prog.CountMissed()
		}
		c.active.Add(-1)
		return 0
	}
	c.setRegs(regs)
	ret := uint64(1)
	for _, x := range *l {
		c.env.Cookie = x.cookie
		ret &= x.prog.Run(c.env, ctx)
	}
	c.setRegs(nil)
	c.active.Add(-1)
	return ret
}

// runOverflow is bpf_overflow_handler: the PERF_EVENT program of a
// sampling event, with struct bpf_perf_event_data {regs, sample_period,
// addr} as its context. A zero result drops the sample; so does
// recursion (Linux counts no miss there).
func (s *System) runOverflow(cpu int, ap *attachedProg, sd *sampleData, regs *Regs) uint64 {
	c := s.cpu(cpu)
	if c == nil {
		return 0
	}
	if c.active.Add(1) != 1 {
		c.active.Add(-1)
		return 0
	}
	n := uintptr(0)
	if regs != nil && regs.Frame != nil {
		n = min(regs.Size, maxRegsSize)
		copy(c.ctx[:n], unsafe.Slice((*byte)(regs.Frame), n))
	}
	putU64(c.ctx[n:], sd.period)
	putU64(c.ctx[n+8:], sd.addr)
	c.setRegs(regs)
	c.env.Cookie = ap.cookie
	ret := ap.prog.Run(c.env, vm.Bytes(c.ctx[:n+16], false))
	c.setRegs(nil)
	c.active.Add(-1)
	return ret
}

func putU64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// regsRegion is the context of a kprobe program: the registers as saved.
func regsRegion(regs *Regs) vm.Region {
	if regs == nil {
		return vm.Region{}
	}
	return vm.Region{Base: regs.Frame, Size: regs.Size}
}
