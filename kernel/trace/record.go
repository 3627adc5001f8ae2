package trace

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// MaxRecordSize is the largest record (PERF_MAX_TRACE_SIZE): a firing
// whose record would be larger is dropped and counted, as Linux's
// perf_trace_buf_alloc refuses it.
const MaxRecordSize = 8192

// maxNest is how many firings may be in progress on one CPU at once, one
// per context that can interrupt another (task, soft interrupt, hard
// interrupt, NMI: Linux's PERF_NR_CONTEXTS buffers per CPU).
const maxNest = 4

// cpuBuffers are one CPU's record buffers, one per nesting level, 8-byte
// aligned so programs read fields with aligned loads.
type cpuBuffers struct {
	busy atomic.Uint32 // bit i set: buf[i] is in use
	buf  [maxNest][MaxRecordSize / 8]uint64
}

var buffers atomic.Pointer[[]*cpuBuffers]

// SetCPUs preallocates record buffers for CPUs 0..n-1; the kernel calls it
// at boot with the number of possible CPUs. It only grows: buffers in use
// stay valid. Firings on a CPU without buffers are dropped and counted.
func SetCPUs(n int) {
	registerMu.Lock()
	defer registerMu.Unlock()
	var cur []*cpuBuffers
	if p := buffers.Load(); p != nil {
		cur = *p
	}
	if n <= len(cur) {
		return
	}
	next := append([]*cpuBuffers(nil), cur...)
	for len(next) < n {
		next = append(next, new(cpuBuffers))
	}
	buffers.Store(&next)
}

// RecordSize is the size of a record whose fixed part and dynamic data
// end at end: Linux sizes perf trace records so that, behind the u32 size
// of a raw sample, they end 8-byte aligned (perf_trace_buf_alloc's
// ALIGN(size + sizeof(u32), sizeof(u64)) - sizeof(u32)).
func RecordSize(end int) int { return (end+4+7)&^7 - 4 }

// record is a record being built in a CPU buffer.
type record struct {
	b   []byte
	dyn int // where the next dynamic data goes
	cb  *cpuBuffers
	bit uint32
}

// begin claims a buffer of c.CPU for a record with dynLen bytes of dynamic
// data and writes the common header; ok is false (and the firing counted
// as missed) when there is none.
func (tp *Tracepoint) begin(c Ctx, dynLen int) (r record, ok bool) {
	size := RecordSize(tp.fixedSize + dynLen)
	bufs := buffers.Load()
	if size > MaxRecordSize || bufs == nil || c.CPU < 0 || c.CPU >= len(*bufs) {
		tp.missed.Add(1)
		return record{}, false
	}
	cb := (*bufs)[c.CPU]
	var level int
	for {
		busy := cb.busy.Load()
		free := ^busy & (1<<maxNest - 1)
		if free == 0 {
			tp.missed.Add(1)
			return record{}, false
		}
		bit := free & -free
		if cb.busy.CompareAndSwap(busy, busy|bit) {
			r.bit = bit
			for bit > 1 {
				bit >>= 1
				level++
			}
			break
		}
	}
	r.cb = cb
	r.b = unsafe.Slice((*byte)(unsafe.Pointer(&cb.buf[level][0])), MaxRecordSize)[:size]
	clear(r.b)
	r.dyn = tp.fixedSize
	binary.LittleEndian.PutUint16(r.b[0:], tp.id)
	r.b[2] = c.Flags
	r.b[3] = c.PreemptCount
	binary.LittleEndian.PutUint32(r.b[4:], uint32(c.PID))
	return r, true
}

// commit hands the record to the probes and frees its buffer.
func (tp *Tracepoint) commit(c Ctx, r record) {
	tp.deliver(c, r.b)
	r.cb.busy.And(^r.bit)
}

func (r *record) u8(off int, v uint8)   { r.b[off] = v }
func (r *record) u32(off int, v uint32) { binary.LittleEndian.PutUint32(r.b[off:], v) }
func (r *record) u64(off int, v uint64) { binary.LittleEndian.PutUint64(r.b[off:], v) }

// chars writes s into a char[n] field, cut to leave room for the NUL the
// cleared buffer already holds (strscpy into a fixed array).
func (r *record) chars(f Field, s string) {
	if len(s) > f.Size-1 {
		s = s[:f.Size-1]
	}
	copy(r.b[f.Offset:], s)
}

// str appends s and its NUL as dynamic data and points the __data_loc
// field at off to it: offset in the low 16 bits, length (NUL included) in
// the high 16, as __assign_str and __get_str agree.
func (r *record) str(off int, s string) {
	n := len(s) + 1
	copy(r.b[r.dyn:], s)
	r.u32(off, uint32(n)<<16|uint32(r.dyn))
	r.dyn += n
}
