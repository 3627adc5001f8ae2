package kernel

import (
	"strconv"
	"sync/atomic"
	"time"

	"hachi/syscall/linux"
)

// The trace pipe: bpf_trace_printk's messages, read from
// /sys/kernel/tracing/trace_pipe, like Linux's ftrace ring buffer in its
// default overwrite mode for the one event that writes to it here
// (bpf_trace_printk, kernel/trace/bpf_trace.h).
//
// Each CPU has a ring of fixed-size slots that programs on that CPU write
// without allocating or locking: a writer claims a slot with an atomic
// increment and publishes it with a sequence number (odd while writing), so
// a program interrupting another on the same CPU (a probe in a trap) takes
// the next slot. When a ring is full the oldest messages are overwritten,
// and the reader counts them as lost. The reader merges the CPUs' rings in
// timestamp order, as Linux's trace_pipe iterator does.

const (
	// pipeSlots is how many messages each CPU's ring keeps (a power of two).
	pipeSlots = 128
	// pipeMsgSize bounds a message: BPF_TRACE_PRINTK_SIZE, the size of
	// the buffer bpf_trace_printk formats into.
	pipeMsgSize = 1024
)

// pipeEntry is one message as a program printed it, with the context Linux
// records in every trace entry (struct trace_entry) and the timestamp.
type pipeEntry struct {
	ts    uint64 // ns since boot (the "local" trace clock)
	pid   int32
	flags uint8 // latFlag* bits
	comm  [taskCommLen]byte
	n     uint16
	msg   [pipeMsgSize]byte
}

// Context bits of an entry, printed as the latency columns.
const (
	latIRQsOff = 1 << iota // 'd': interrupts disabled (a trap)
	latHardIRQ             // 'h': in an interrupt handler
)

type pipeSlot struct {
	// seq is 2*i+1 while message i is written to the slot, 2*i+2 once
	// it is complete.
	seq atomic.Uint64
	e   pipeEntry
}

type pipeRing struct {
	head  atomic.Uint64 // messages claimed so far
	tail  uint64        // reader: next message to read
	slots [pipeSlots]pipeSlot
}

type tracePipe struct {
	rings []*pipeRing
	// open is set while a reader has trace_pipe open: Linux lets one
	// reader consume it at a time (EBUSY for others).
	open atomic.Bool
	// lost counts messages overwritten before the reader got them.
	lost atomic.Uint64
}

func newTracePipe(ncpu int) *tracePipe {
	p := &tracePipe{rings: make([]*pipeRing, ncpu)}
	for i := range p.rings {
		p.rings[i] = new(pipeRing)
	}
	return p
}

// write records msg printed on cpu by task t. It allocates nothing and
// never blocks: it runs in program context, possibly in a trap.
func (p *tracePipe) write(cpu int, t *Task, flags uint8, ts uint64, msg []byte) {
	if cpu < 0 || cpu >= len(p.rings) {
		return
	}
	r := p.rings[cpu]
	i := r.head.Add(1) - 1
	s := &r.slots[i%pipeSlots]
	s.seq.Store(2*i + 1)
	s.e.ts, s.e.pid, s.e.flags, s.e.comm = ts, t.pid, flags, t.comm
	s.e.n = uint16(copy(s.e.msg[:], msg))
	s.seq.Store(2*i + 2)
}

// next copies the oldest complete message of ring r into e without
// consuming it; false when the ring has none ready. Messages overwritten
// before they were read are skipped and counted as lost.
func (p *tracePipe) next(r *pipeRing, e *pipeEntry) bool {
	for {
		head := r.head.Load()
		if head-r.tail > pipeSlots {
			p.lost.Add(head - pipeSlots - r.tail)
			r.tail = head - pipeSlots
		}
		if r.tail == head {
			return false
		}
		s := &r.slots[r.tail%pipeSlots]
		want := 2*r.tail + 2
		seq := s.seq.Load()
		if seq < want {
			return false // still being written
		}
		if seq == want {
			*e = s.e
			if s.seq.Load() == want {
				return true
			}
		}
		// overwritten by a writer that lapped the reader
		p.lost.Add(1)
		r.tail++
	}
}

// read appends the oldest message of all CPUs, formatted as a trace_pipe
// line, to b and consumes it; false when there is none.
func (p *tracePipe) read(b []byte) ([]byte, bool) {
	var e, best pipeEntry
	bestCPU := -1
	for cpu, r := range p.rings {
		if p.next(r, &e) && (bestCPU < 0 || e.ts < best.ts) {
			best, bestCPU = e, cpu
		}
	}
	if bestCPU < 0 {
		return b, false
	}
	p.rings[bestCPU].tail++
	return appendPipeLine(b, bestCPU, &best), true
}

// appendPipeLine formats e as Linux's trace_pipe prints it with its default
// options (trace_print_context with irq-info, then the event): the task's
// name right-aligned in 16 columns, a dash, the pid left-aligned in 7, the
// CPU in 3 digits, the latency columns (interrupts off, need-resched, hard
// or soft interrupt, preemption depth, migration disabled; '.' for none),
// the timestamp in seconds with microseconds, the event name, and the
// message followed by the newline the event's print format adds (so a
// message ending in "\n" leaves an empty line, as on Linux).
func appendPipeLine(b []byte, cpu int, e *pipeEntry) []byte {
	comm := e.comm[:]
	for i, c := range comm {
		if c == 0 {
			comm = comm[:i]
			break
		}
	}
	if e.pid == 0 {
		comm = []byte("<idle>") // trace_find_cmdline's name for pid 0
	}
	b = appendPadded(b, string(comm), 16, true)
	b = append(b, '-')
	b = appendPadded(b, strconv.Itoa(int(e.pid)), 7, false)
	b = append(b, " ["...)
	b = appendPadded(b, strconv.Itoa(cpu), -3, true)
	b = append(b, "] "...)
	lat := [5]byte{'.', '.', '.', '.', '.'}
	if e.flags&latIRQsOff != 0 {
		lat[0] = 'd'
	}
	if e.flags&latHardIRQ != 0 {
		lat[2] = 'h'
	}
	b = append(b, lat[:]...)
	b = append(b, ' ')
	us := e.ts / 1000
	b = appendPadded(b, strconv.FormatUint(us/1e6, 10), 5, true)
	b = append(b, '.')
	b = appendPadded(b, strconv.FormatUint(us%1e6, 10), -6, true)
	b = append(b, ": bpf_trace_printk: "...)
	b = append(b, e.msg[:e.n]...)
	return append(b, '\n')
}

// appendPadded appends s padded to width columns: with spaces on the left
// (right-aligned) or right, or with zeros on the left for a negative width
// (printf's %5s, %-7s and %03s).
func appendPadded(b []byte, s string, width int, right bool) []byte {
	pad := byte(' ')
	if width < 0 {
		width, pad = -width, '0'
	}
	if !right {
		b = append(b, s...)
	}
	for i := len(s); i < width; i++ {
		b = append(b, pad)
	}
	if right {
		b = append(b, s...)
	}
	return b
}

// pipePollInterval is how often a blocking read of trace_pipe looks for
// messages: writers run in program context and cannot wake a reader.
const pipePollInterval = 10 * time.Millisecond

// pipeFile is an open trace_pipe: reads consume messages.
type pipeFile struct {
	p        *tracePipe
	nonblock bool
	pending  []byte // formatted bytes a short read left
}

// openPipe opens trace_pipe; EBUSY while another reader has it open.
func (p *tracePipe) openPipe(nonblock bool) (*pipeFile, error) {
	if !p.open.CompareAndSwap(false, true) {
		return nil, linux.EBUSY
	}
	return &pipeFile{p: p, nonblock: nonblock}, nil
}

// read implements reader: lines while they fit in dst (the rest of a line
// that does not is kept for the next read), waiting for the first one
// unless the file is non-blocking (EAGAIN then).
func (f *pipeFile) read(dst []byte) (int, error) {
	for len(f.pending) == 0 {
		var ok bool
		if f.pending, ok = f.p.read(f.pending); ok {
			break
		}
		if f.nonblock {
			return 0, linux.EAGAIN
		}
		time.Sleep(pipePollInterval)
	}
	for len(f.pending) < len(dst) {
		var ok bool
		if f.pending, ok = f.p.read(f.pending); !ok {
			break
		}
	}
	n := copy(dst, f.pending)
	f.pending = f.pending[:copy(f.pending, f.pending[n:])]
	return n, nil
}

// Release implements syscall.FileObject.
func (f *pipeFile) Release() { f.p.open.Store(false) }
