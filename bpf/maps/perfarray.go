package maps

import (
	"unsafe"

	"hachi/syscall/linux"
)

// PerfEvent is an open perf event as a PERF_EVENT_ARRAY holds it; the perf
// subsystem implements it, and the bpf() layer passes it to UpdateObject
// after resolving the fd user space stored.
type PerfEvent interface {
	// BPFOutput reports whether the event is a PERF_TYPE_SOFTWARE,
	// PERF_COUNT_SW_BPF_OUTPUT event, the only kind bpf_perf_event_output
	// writes to.
	BPFOutput() bool
	// OnCPU is the CPU the event is active on (event->oncpu), -1 when it
	// is not active.
	OnCPU() int
	// Output writes a PERF_RECORD_SAMPLE whose raw data is data into the
	// event's buffer (perf_event_output), on the event's CPU, from program
	// context: it must not block or allocate. A full buffer counts a lost
	// record and answers ENOSPC.
	Output(cpu int, data []byte) error
}

// PerfEventArray is BPF_MAP_TYPE_PERF_EVENT_ARRAY: perf events indexed by
// (usually) CPU, for bpf_perf_event_output.
type PerfEventArray struct {
	fdArray[perfEntry]
}

type perfEntry struct{ ev PerfEvent }

var (
	_ ObjectMap = (*PerfEventArray)(nil)
	_ Freezer   = (*PerfEventArray)(nil)
)

func newPerfEventArray(spec Spec, host Host) (*PerfEventArray, error) {
	a := &PerfEventArray{}
	if err := a.init(spec, host); err != nil {
		return nil, err
	}
	return a, nil
}

// Output is __bpf_perf_event_output: flags selects the slot (its low 32
// bits, BPF_F_CURRENT_CPU for cpu's); EINVAL for other flag bits or an
// event that is not a BPF output event, E2BIG past max_entries, ENOENT for
// an empty slot, EOPNOTSUPP when the event is not active on cpu.
func (a *PerfEventArray) Output(cpu int, flags uint64, data []byte) error {
	if flags&^linux.BPF_F_INDEX_MASK != 0 {
		return linux.EINVAL
	}
	index := flags & linux.BPF_F_INDEX_MASK
	if index == linux.BPF_F_CURRENT_CPU {
		index = uint64(cpu)
	}
	if index >= uint64(a.max) {
		return linux.E2BIG
	}
	e := a.slots[index].Load()
	if e == nil {
		return linux.ENOENT
	}
	if !e.ev.BPFOutput() {
		return linux.EINVAL
	}
	if e.ev.OnCPU() != cpu {
		return linux.EOPNOTSUPP
	}
	return e.ev.Output(cpu, data)
}

// UpdateObject implements ObjectMap: obj must be a PerfEvent (EINVAL
// otherwise).
func (a *PerfEventArray) UpdateObject(key []byte, obj any, flags uint64) error {
	ev, ok := obj.(PerfEvent)
	if !ok {
		return linux.EINVAL
	}
	return a.set(key, &perfEntry{ev}, flags)
}

// LookupObject implements ObjectMap: Linux gives user space no way to read
// a perf event array back (ENOTSUPP).
func (a *PerfEventArray) LookupObject([]byte) (any, error) { return nil, linux.ENOTSUPP }

// LookupElem implements Map: programs cannot read a perf event array (nil).
func (a *PerfEventArray) LookupElem(int, []byte) unsafe.Pointer { return nil }

// Lookup implements Map: ENOTSUPP, as LookupObject.
func (a *PerfEventArray) Lookup(_, _ []byte, _ uint64) error { return linux.ENOTSUPP }
