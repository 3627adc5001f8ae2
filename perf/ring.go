package perf

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// ring is a perf ring buffer (kernel/events/ring_buffer.c, struct
// perf_buffer): one control page, struct perf_event_mmap_page, followed by
// 2^n data pages written as a ring. The writer (kernel) advances
// data_head, the reader (user space) data_tail; the writer never overtakes
// the tail unless the mapping is read-only (overwrite mode).
//
// Writers of one ring run on one CPU at a time, possibly nested (a
// tracepoint hit interrupting a timer sample): the events that share a
// ring are bound to one CPU or one task (perf_event_set_output refuses
// others), and bpf_perf_event_output writes only to the event of the
// CPU it runs on. Space is reserved with compare-and-swap on head, and
// data_head is published only by the outermost writer, as Linux's
// perf_output_begin / perf_output_put_handle do.
type ring struct {
	mem  []byte // the whole mapping: control page and data pages
	data []byte // the data pages
	mask uint64 // len(data)-1

	head      atomic.Uint64 // rb->head: reserved up to here
	nest      atomic.Int32  // writers in progress
	lost      atomic.Uint64 // records lost since the last LOST record
	wakeup    atomic.Uint64 // rb->wakeup: bumps when readers must be woken
	events    atomic.Int64  // samples since the last wakeup_events wakeup
	watermark uint64        // bytes between wakeups
	overwrite bool          // read-only mapping: data_tail is not honoured
	paused    atomic.Bool   // PERF_EVENT_IOC_PAUSE_OUTPUT, or no data pages
	poll      atomic.Uint32 // EPOLLIN once woken, cleared by Poll

	waiters atomic.Pointer[[]Waker]

	mu         sync.Mutex // syscall side: users, mmapCount
	mmapCount  int
	users      []*Event // events whose output goes here
	lockSerial uint32   // userpage lock sequence, under mu
}

// Waker is told, from trap context, that an event's ring has data for its
// readers (Linux's perf_event_wakeup through irq_work): the kernel's poll
// and epoll implement it, and must not allocate or block in Wake.
type Waker interface {
	Wake()
}

// Poll event bits (<uapi/linux/eventpoll.h>).
const (
	EPOLLIN  = 0x001
	EPOLLHUP = 0x010
)

// newRing allocates a ring of nrPages data pages (0 or a power of two)
// with the control page filled as perf_event_init_userpage does. A zero
// watermark means half the data (ring_buffer_init).
func newRing(nrPages int, watermark uint64, writable bool) *ring {
	size := (1 + nrPages) * syscall.PageSize
	// Page-aligned memory the kernel can map into a process.
	backing := make([]byte, size+syscall.PageSize-1)
	skip := (syscall.PageSize - int(uintptr(unsafe.Pointer(&backing[0]))%syscall.PageSize)) % syscall.PageSize
	mem := backing[skip : skip+size : skip+size]
	r := &ring{mem: mem, data: mem[syscall.PageSize:], overwrite: !writable}
	dataSize := uint64(len(r.data))
	if dataSize > 0 {
		r.mask = dataSize - 1
	}
	if watermark != 0 {
		r.watermark = min(watermark, dataSize)
	}
	if r.watermark == 0 {
		r.watermark = dataSize / 2
	}
	if nrPages == 0 {
		// perf_output_begin only checks paused: no pages, no output.
		r.paused.Store(true)
	}
	p := r.page()
	// cap_bit0_is_deprecated: the cap_user_* bits below are valid.
	p.Capabilities = 1 << 1
	p.Size = uint32(unsafe.Offsetof(p.DataHead) - 116*8)
	p.DataOffset = syscall.PageSize
	p.DataSize = dataSize
	return r
}

// page is the control page.
func (r *ring) page() *linux.PerfEventMmapPage {
	return (*linux.PerfEventMmapPage)(unsafe.Pointer(&r.mem[0]))
}

func (r *ring) dataHead() *uint64 { return &r.page().DataHead }
func (r *ring) dataTail() *uint64 { return &r.page().DataTail }

// handle is a reservation being written (struct perf_output_handle).
type handle struct {
	r      *ring
	pos    uint64 // next byte to write, as a ring offset
	end    uint64
	wakeup uint64
}

// begin reserves size bytes (perf_output_begin). It counts the record
// lost, and fails, when the ring is paused or full; when records were
// lost before, it writes the PERF_RECORD_LOST record first, as Linux does.
func (r *ring) begin(ev *Event, size uint64, sd *sampleData) (h handle, ok bool) {
	if r.paused.Load() {
		if len(r.data) > 0 {
			r.lost.Add(1)
			ev.lostSamples.Add(1)
		}
		return handle{}, false
	}
	r.nest.Add(1)
	h = handle{r: r, wakeup: r.wakeup.Load()}
	lostSize := uint64(0)
	if r.lost.Load() != 0 {
		lostSize = 24 + ev.idSampleSize(sd)
		size += lostSize
	}
	var offset, head uint64
	for {
		tail := atomic.LoadUint64(r.dataTail()) // A: pairs with the reader's barrier D
		offset = r.head.Load()
		head = offset + size
		if !r.overwrite && !hasSpace(offset, tail, uint64(len(r.data)), size) {
			r.lost.Add(1)
			ev.lostSamples.Add(1)
			r.put(&h)
			return handle{}, false
		}
		if r.head.CompareAndSwap(offset, head) {
			break
		}
	}
	if head-r.wakeup.Load() > r.watermark {
		r.wakeup.Add(r.watermark)
	}
	h.pos, h.end = offset, head
	if lostSize != 0 {
		h.put32(linux.PERF_RECORD_LOST)
		h.put16(0)
		h.put16(uint16(lostSize))
		h.put64(ev.primaryID())
		h.put64(r.lost.Swap(0))
		ev.writeIDSample(&h, sd)
	}
	return h, true
}

// hasSpace is ring_buffer_has_space for a forward ring: CIRC_SPACE keeps
// one byte free, so head never catches up with tail.
func hasSpace(head, tail, dataSize, size uint64) bool {
	if dataSize == 0 {
		return false
	}
	return (tail-(head+1))&(dataSize-1) >= size
}

// end finishes a reservation (perf_output_end).
func (r *ring) end(h *handle) { r.put(h) }

// put is perf_output_put_handle: only the outermost writer publishes
// data_head (with release ordering: the record bytes are visible before
// the head that covers them), then re-checks for a nested writer that
// reserved after it read head, and finally wakes readers if a wakeup
// became due.
func (r *ring) put(h *handle) {
	if r.nest.Load() > 1 {
		r.nest.Add(-1)
		return
	}
	for {
		head := r.head.Load()
		atomic.StoreUint64(r.dataHead(), head) // B: release, pairs with the reader's acquire C
		r.nest.Store(0)
		if head == r.head.Load() {
			break
		}
		r.nest.Add(1)
	}
	if h.wakeup != r.wakeup.Load() {
		r.wake()
	}
}

// wake is perf_output_wakeup: the ring polls readable and its waiters
// are told.
func (r *ring) wake() {
	r.poll.Store(EPOLLIN)
	if ws := r.waiters.Load(); ws != nil {
		for _, w := range *ws {
			w.Wake()
		}
	}
}

// countSample is perf_output_sample's wakeup_events accounting: without
// a byte watermark, every wakeup_events samples wake the readers.
func (r *ring) countSample(a *Attr) {
	if has(a, linux.PerfAttrWatermark) || a.WakeupEvents == 0 {
		return
	}
	n := int64(a.WakeupEvents)
	if r.events.Add(1) >= n {
		r.events.Add(-n)
		r.wakeup.Add(1)
	}
}

// The handle's writers: little-endian values and bytes at the reserved
// position, wrapping around the end of the data pages.

func (h *handle) put(b []byte) {
	for len(b) > 0 {
		at := h.pos & h.r.mask
		n := copy(h.r.data[at:], b)
		b = b[n:]
		h.pos += uint64(n)
	}
}

func (h *handle) zero(n uint64) {
	for n > 0 {
		at := h.pos & h.r.mask
		chunk := min(n, uint64(len(h.r.data))-at)
		clear(h.r.data[at : at+chunk])
		n -= chunk
		h.pos += chunk
	}
}

// Records are 8-byte aligned and the data size a multiple of 8, so an
// aligned value never straddles the end: it is stored in place.
func (h *handle) put64(v uint64) {
	at := h.pos & h.r.mask
	*(*uint64)(unsafe.Pointer(&h.r.data[at])) = v
	h.pos += 8
}

func (h *handle) put32(v uint32) {
	at := h.pos & h.r.mask
	*(*uint32)(unsafe.Pointer(&h.r.data[at])) = v
	h.pos += 4
}

func (h *handle) put16(v uint16) {
	at := h.pos & h.r.mask
	*(*uint16)(unsafe.Pointer(&h.r.data[at])) = v
	h.pos += 2
}

// addWaiter registers w until the returned function is called.
func (r *ring) addWaiter(w Waker) (remove func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cur []Waker
	if p := r.waiters.Load(); p != nil {
		cur = *p
	}
	next := append(append([]Waker(nil), cur...), w)
	r.waiters.Store(&next)
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		var kept []Waker
		if p := r.waiters.Load(); p != nil {
			for _, x := range *p {
				if x != w {
					kept = append(kept, x)
				}
			}
		}
		if len(kept) == 0 {
			r.waiters.Store(nil)
		} else {
			r.waiters.Store(&kept)
		}
	}
}

// updateUserpage is perf_event_update_userpage for a software event:
// index 0 (no hardware counter to read with rdpmc), offset the count,
// times enabled and running, under the lock sequence readers check.
func (r *ring) updateUserpage(count, enabled, running uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.page()
	r.lockSerial++
	atomic.StoreUint32(&p.Lock, r.lockSerial)
	atomic.StoreUint32(&p.Index, 0)
	atomic.StoreInt64(&p.Offset, int64(count))
	atomic.StoreUint64(&p.TimeEnabled, enabled)
	atomic.StoreUint64(&p.TimeRunning, running)
	r.lockSerial++
	atomic.StoreUint32(&p.Lock, r.lockSerial)
}
