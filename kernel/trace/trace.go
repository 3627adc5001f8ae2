// Package trace owns Hachi's static tracepoints, Linux's kernel/trace for
// the parts eBPF tools use: the tracepoints themselves (an id, a
// `subsystem:name`, fields at fixed offsets), their tracefs description
// (events/<sys>/<name>/format and id, byte for byte as Linux prints them),
// the records they produce (the 8-byte common header, fixed fields,
// __data_loc strings) and the fire functions the kernel calls at each
// trace site.
//
// A fire function costs one atomic load when nothing is attached, like a
// Linux tracepoint behind its static key. When a probe is attached (perf's
// tracepoint PMU, see package perf), the record is built in a per-CPU
// buffer preallocated by SetCPUs and handed to the probes: nothing
// allocates, nothing blocks, so trace sites may sit in trap context.
//
// The package is portable: fire sites pass the CPU and task they run on in
// a Ctx, so host tests fire tracepoints from goroutines standing for CPUs.
package trace

import (
	"sync"
	"sync/atomic"
)

// Ctx is where a tracepoint fires: what Linux takes from current and the
// CPU's state for the common fields of every record
// (tracing_generic_entry_update).
type Ctx struct {
	// CPU is the CPU the fire site runs on (smp_processor_id).
	CPU int
	// PID is the current thread's id, 0 for the idle task: common_pid.
	PID int32
	// Flags are the TRACE_FLAG_* bits of common_flags (interrupts off,
	// hard or soft interrupt context...).
	Flags uint8
	// PreemptCount is common_preempt_count: the preemption depth in its
	// low 4 bits, migrate-disable depth in the high 4, as Linux packs it.
	PreemptCount uint8
}

// Bits of common_flags (enum trace_flag_type in kernel/trace/trace.h).
const (
	TRACE_FLAG_IRQS_OFF        = 0x01
	TRACE_FLAG_NEED_RESCHED    = 0x04
	TRACE_FLAG_HARDIRQ         = 0x08
	TRACE_FLAG_SOFTIRQ         = 0x10
	TRACE_FLAG_PREEMPT_RESCHED = 0x20
	TRACE_FLAG_NMI             = 0x40
	TRACE_FLAG_BH_OFF          = 0x80
)

// Probe is what a tracepoint calls when it fires with something attached,
// like the functions Linux registers with tracepoint_probe_register (perf's
// perf_trace_<event>). It runs at the trace site, possibly in trap
// context: it must not allocate or block, and must not keep rec, which is
// the CPU's buffer and is reused by the next firing.
type Probe interface {
	// Hit receives the record of one firing on ctx.CPU: the common header,
	// the fixed fields and the dynamic data, len(rec) bytes as Linux sizes
	// a perf trace record (so that a raw sample of it is 8-byte aligned).
	Hit(tp *Tracepoint, ctx Ctx, rec []byte)
}

// Tracepoint is one static tracepoint (struct trace_event_call).
type Tracepoint struct {
	system, name string
	id           uint16
	fields       []Field
	printFmt     string
	fixedSize    int // common header and fixed fields: where dynamic data starts

	// probes is the attached probes, replaced whole on change so the
	// fire path reads it with one atomic load; nil when none are.
	probes atomic.Pointer[[]Probe]
	// missed counts firings dropped for want of a buffer (nesting deeper
	// than maxNest, a CPU beyond SetCPUs, a record over MaxRecordSize).
	missed atomic.Uint64
}

// System is the subsystem, the first half of `system:name`.
func (tp *Tracepoint) System() string { return tp.system }

// Name is the event name, the second half of `system:name`.
func (tp *Tracepoint) Name() string { return tp.name }

// ID is the event id: perf_event_attr.config of a PERF_TYPE_TRACEPOINT
// event, common_type of its records, the content of its tracefs id file.
func (tp *Tracepoint) ID() uint16 { return tp.id }

// Fields are the fields after the common header, in record order.
func (tp *Tracepoint) Fields() []Field { return tp.fields }

// FixedSize is the size of the record before its dynamic data: the
// largest context offset a program reading only fixed fields may reach
// (Linux's trace_event_get_offsets, checked against max_ctx_offset).
func (tp *Tracepoint) FixedSize() int { return tp.fixedSize }

// Missed is how many firings were dropped for want of a buffer.
func (tp *Tracepoint) Missed() uint64 { return tp.missed.Load() }

// Enabled reports whether any probe is attached: the static key a fire
// function tests before doing anything else.
func (tp *Tracepoint) Enabled() bool { return tp.probes.Load() != nil }

var registerMu sync.Mutex

// Register attaches p (tracepoint_probe_register). Attaching the same
// probe twice is an error in Linux (EEXIST) and here.
func (tp *Tracepoint) Register(p Probe) error {
	registerMu.Lock()
	defer registerMu.Unlock()
	var old []Probe
	if cur := tp.probes.Load(); cur != nil {
		old = *cur
	}
	for _, q := range old {
		if q == p {
			return errExist
		}
	}
	next := append(append(make([]Probe, 0, len(old)+1), old...), p)
	tp.probes.Store(&next)
	return nil
}

// Unregister detaches p (tracepoint_probe_unregister); ENOENT if it was
// not attached. A firing already running may still call p once.
func (tp *Tracepoint) Unregister(p Probe) error {
	registerMu.Lock()
	defer registerMu.Unlock()
	cur := tp.probes.Load()
	if cur == nil {
		return errNoEnt
	}
	next := make([]Probe, 0, len(*cur))
	for _, q := range *cur {
		if q != p {
			next = append(next, q)
		}
	}
	switch {
	case len(next) == len(*cur):
		return errNoEnt
	case len(next) == 0:
		tp.probes.Store(nil)
	default:
		tp.probes.Store(&next)
	}
	return nil
}

// deliver hands a finished record to the probes.
func (tp *Tracepoint) deliver(c Ctx, rec []byte) {
	if ps := tp.probes.Load(); ps != nil {
		for _, p := range *ps {
			p.Hit(tp, c, rec)
		}
	}
}

// The registry of every tracepoint, in id order.
var (
	all    []*Tracepoint
	byName = map[string]*Tracepoint{}
)

// firstID is the id of the first tracepoint. Linux hands out event ids
// dynamically after its fixed ftrace record types; tools read them from
// tracefs and never assume a value.
const firstID = 32

// define registers a tracepoint at package initialisation, laying its
// fields out after the common header.
func define(system, name, printFmt string, fields ...Field) *Tracepoint {
	tp := &Tracepoint{system: system, name: name, printFmt: printFmt,
		id: uint16(firstID + len(all))}
	off := CommonHeaderSize
	for _, f := range fields {
		// C layout: each field at its natural alignment.
		align := f.align()
		off = (off + align - 1) &^ (align - 1)
		f.Offset = off
		off += f.Size
		tp.fields = append(tp.fields, f)
	}
	tp.fixedSize = off
	all = append(all, tp)
	byName[system+":"+name] = tp
	return tp
}

// All returns every tracepoint in id order.
func All() []*Tracepoint { return append([]*Tracepoint(nil), all...) }

// Lookup finds a tracepoint by `system:name`.
func Lookup(systemName string) (*Tracepoint, bool) {
	tp, ok := byName[systemName]
	return tp, ok
}

// ByID finds a tracepoint by id (what perf_trace_init does with
// attr.config).
func ByID(id uint64) (*Tracepoint, bool) {
	i := id - firstID
	if id < firstID || i >= uint64(len(all)) {
		return nil, false
	}
	return all[i], true
}
