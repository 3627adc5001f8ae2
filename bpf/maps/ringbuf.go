package maps

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"hachi/syscall/linux"
)

// RingBuf is BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c), laid out as
// Linux lays it out so that the unmodified readers of libbpf and
// cilium/ebpf consume it once the kernel maps it into a process:
//
//	page 0          kernel-only meta page (Linux's struct bpf_ringbuf head)
//	page 1          consumer page: u64 consumer_pos (user space writes it)
//	page 2          producer page: u64 producer_pos
//	pages 3..       data area, max_entries bytes (a power-of-two number of pages)
//	                followed by a second data area of the same size
//
// User space maps page 1 read-write at offset 0, and pages 2.. read-only at
// offset PageSize, seeing producer page, data and second data contiguously.
// Each record is an 8-byte header (u32 len with BPF_RINGBUF_BUSY_BIT and
// BPF_RINGBUF_DISCARD_BIT, u32 pg_off: the header's page index from page
// 0) followed by the sample, padded to 8 bytes.
//
// Wrap-around. Linux maps the data pages twice in a row, so a record that
// runs past the end of the data area continues at its start, and both
// producers and consumers address records as contiguous memory. Hachi may
// have no MMU to do that (riscv64 runs in machine mode), so the second data
// area is real memory of its own: the producer writes a record
// contiguously from its header, into the second area when it runs past the
// end, and at commit, before the busy bit clears, copies the part past the
// end to the start of the first area. After that both views hold the
// record: a reader that reads contiguously from the header (libbpf) and
// one that masks the sample's start position into the first area
// (cilium/ebpf, whose sample begins at (cons_pos + 8) & mask) see the same
// bytes. The copy goes only to space the record itself owns (its
// positions modulo the size), which no other record or reader uses until
// the consumer moves past it.
type RingBuf struct {
	base
	host    Host
	lock    spinLock
	mem     []byte
	cons    *uint64 // consumer_pos
	prod    *uint64 // producer_pos
	data    unsafe.Pointer
	size    uint64 // data area size (max_entries)
	mask    uint64
	pending uint64 // pending_pos: oldest record not yet committed, under lock
	wakeup  atomic.Pointer[func()]
}

var (
	_ Map     = (*RingBuf)(nil)
	_ Mmapper = (*RingBuf)(nil)
	_ Freezer = (*RingBuf)(nil)
)

// Ring buffer layout, in pages from the start of the allocation.
const (
	ringMetaPages = 1 // RINGBUF_PGOFF
	ringPosPages  = 2 // RINGBUF_POS_PAGES: consumer and producer pages
	ringDataPage  = ringMetaPages + ringPosPages
	// ringMaxRecordSize is RINGBUF_MAX_RECORD_SZ.
	ringMaxRecordSize = (1<<32 - 1) / 4
	// ringMaxDataSize is RINGBUF_MAX_DATA_SZ: pg_off is 24 bits of pages.
	ringMaxDataSize = ((1 << 24) - ringPosPages - ringMetaPages) * PageSize
)

func newRingBuf(spec Spec, host Host) (*RingBuf, error) {
	if spec.Flags&^linux.BPF_F_NUMA_NODE != 0 {
		return nil, linux.EINVAL
	}
	size := uint64(spec.MaxEntries)
	if spec.KeySize != 0 || spec.ValueSize != 0 || size == 0 || size&(size-1) != 0 || size%PageSize != 0 {
		return nil, linux.EINVAL
	}
	if size > ringMaxDataSize {
		return nil, linux.E2BIG
	}
	mem, err := allocPages(host, ringDataPage*PageSize+2*size)
	if err != nil {
		return nil, err
	}
	rb := &RingBuf{
		base: newBase(spec, host.PossibleCPUs()),
		host: host,
		mem:  mem,
		cons: (*uint64)(unsafe.Pointer(&mem[ringMetaPages*PageSize])),
		prod: (*uint64)(unsafe.Pointer(&mem[(ringMetaPages+1)*PageSize])),
		data: unsafe.Pointer(&mem[ringDataPage*PageSize]),
		size: size,
		mask: size - 1,
	}
	registerRing(rb)
	return rb, nil
}

// SetWakeup installs the function a commit calls to wake readers (Linux
// queues irq_work that wakes the map's wait queue for epoll). It runs in
// the committing program's context: it must not block or allocate.
func (rb *RingBuf) SetWakeup(fn func()) {
	if fn == nil {
		rb.wakeup.Store(nil)
		return
	}
	rb.wakeup.Store(&fn)
}

// Readable reports whether records wait for the consumer (ringbuf_map_poll:
// EPOLLIN when there is data).
func (rb *RingBuf) Readable() bool {
	return atomic.LoadUint64(rb.prod) != atomic.LoadUint64(rb.cons)
}

func (rb *RingBuf) header(off uint64) *uint32 { return (*uint32)(unsafe.Add(rb.data, off)) }

// Reserve is __bpf_ringbuf_reserve: room for a sample of size bytes,
// marked busy, or nil when it does not fit (the consumer is too far
// behind) or the lock is held by this CPU (a re-entered program).
func (rb *RingBuf) Reserve(cpu int, size uint64) unsafe.Pointer {
	if size > ringMaxRecordSize {
		return nil
	}
	n := (size + linux.BPF_RINGBUF_HDR_SZ + 7) &^ 7
	if n > rb.size {
		return nil
	}
	cons := atomic.LoadUint64(rb.cons)
	if rb.lock.lock(rb.host, cpu) != nil {
		return nil
	}
	prod := *rb.prod
	// Skip past records committed since the last reservation.
	pend := rb.pending
	for pend < prod {
		l := atomic.LoadUint32(rb.header(pend & rb.mask))
		if l&linux.BPF_RINGBUF_BUSY_BIT != 0 {
			break
		}
		pend += recordLen(l)
	}
	rb.pending = pend
	next := prod + n
	// Neither the consumer nor the oldest uncommitted record may be
	// overrun: both are kept at most size-1 bytes behind.
	if next-cons > rb.mask || next-pend > rb.mask {
		rb.lock.unlock()
		return nil
	}
	off := prod & rb.mask
	hdr := unsafe.Add(rb.data, off)
	atomic.StoreUint32((*uint32)(hdr), uint32(size)|linux.BPF_RINGBUF_BUSY_BIT)
	atomic.StoreUint32((*uint32)(unsafe.Add(hdr, 4)), uint32(ringDataPage+off/PageSize))
	atomic.StoreUint64(rb.prod, next)
	rb.lock.unlock()
	return unsafe.Add(hdr, linux.BPF_RINGBUF_HDR_SZ)
}

// recordLen is the space a record with header length word l occupies
// (libbpf's roundup_len).
func recordLen(l uint32) uint64 {
	l &^= linux.BPF_RINGBUF_BUSY_BIT | linux.BPF_RINGBUF_DISCARD_BIT
	return (uint64(l) + linux.BPF_RINGBUF_HDR_SZ + 7) &^ 7
}

// commit is bpf_ringbuf_commit for the record whose header is at data
// offset off.
func (rb *RingBuf) commit(off uint64, flags uint64, discard bool) {
	hdr := rb.header(off)
	l := atomic.LoadUint32(hdr)
	if end := off + recordLen(l); end > rb.size {
		// The record ran into the second data area: mirror that part to
		// the start of the first before it becomes visible.
		copy(unsafe.Slice((*byte)(rb.data), end-rb.size), unsafe.Slice((*byte)(unsafe.Add(rb.data, rb.size)), end-rb.size))
	}
	l &^= linux.BPF_RINGBUF_BUSY_BIT
	if discard {
		l |= linux.BPF_RINGBUF_DISCARD_BIT
	}
	atomic.StoreUint32(hdr, l)
	cons := atomic.LoadUint64(rb.cons) & rb.mask
	if flags&linux.BPF_RB_FORCE_WAKEUP != 0 || (cons == off && flags&linux.BPF_RB_NO_WAKEUP == 0) {
		if fn := rb.wakeup.Load(); fn != nil {
			(*fn)()
		}
	}
}

// Output is bpf_ringbuf_output: reserve, copy, submit; EAGAIN when the
// record does not fit, EINVAL for unknown flags.
func (rb *RingBuf) Output(cpu int, data []byte, flags uint64) error {
	if flags&^(linux.BPF_RB_NO_WAKEUP|linux.BPF_RB_FORCE_WAKEUP) != 0 {
		return linux.EINVAL
	}
	p := rb.Reserve(cpu, uint64(len(data)))
	if p == nil {
		return linux.EAGAIN
	}
	copy(unsafe.Slice((*byte)(p), len(data)), data)
	rb.commit(uint64(uintptr(p)-uintptr(rb.data))-linux.BPF_RINGBUF_HDR_SZ, flags, false)
	return nil
}

// Query is bpf_ringbuf_query: available data, ring size, consumer or
// producer position; 0 for unknown flags.
func (rb *RingBuf) Query(flags uint64) uint64 {
	switch flags {
	case linux.BPF_RB_AVAIL_DATA:
		return atomic.LoadUint64(rb.prod) - atomic.LoadUint64(rb.cons)
	case linux.BPF_RB_RING_SIZE:
		return rb.size
	case linux.BPF_RB_CONS_POS:
		return atomic.LoadUint64(rb.cons)
	case linux.BPF_RB_PROD_POS:
		return atomic.LoadUint64(rb.prod)
	}
	return 0
}

// RingBufCommit is bpf_ringbuf_submit (discard false) and
// bpf_ringbuf_discard (discard true) for the sample at address sample,
// which only names its ring buffer as Linux's helpers do (through the
// ring buffers' registry, not by trusting the address). It reports false,
// doing nothing, unless sample is a reserved, uncommitted sample of a live
// ring buffer.
func RingBufCommit(sample uintptr, flags uint64, discard bool) bool {
	rb := ringOf(sample)
	if rb == nil {
		return false
	}
	off := uint64(sample-uintptr(rb.data)) - linux.BPF_RINGBUF_HDR_SZ
	if off%8 != 0 || off >= rb.size || atomic.LoadUint32(rb.header(off))&linux.BPF_RINGBUF_BUSY_BIT == 0 {
		return false
	}
	rb.commit(off, flags, discard)
	return true
}

// LookupElem implements Map: ring buffers have no elements (nil).
func (rb *RingBuf) LookupElem(int, []byte) unsafe.Pointer { return nil }

// UpdateElem implements Map: ENOTSUPP.
func (rb *RingBuf) UpdateElem(int, []byte, []byte, uint64) error { return linux.ENOTSUPP }

// DeleteElem implements Map: ENOTSUPP.
func (rb *RingBuf) DeleteElem(int, []byte) error { return linux.ENOTSUPP }

// Lookup implements Map: ENOTSUPP (ringbuf_map_lookup_elem).
func (rb *RingBuf) Lookup(_, _ []byte, _ uint64) error { return linux.ENOTSUPP }

// Update implements Map: ENOTSUPP.
func (rb *RingBuf) Update(_, _ []byte, _ uint64) error {
	if err := rb.sysWritable(); err != nil {
		return err
	}
	return linux.ENOTSUPP
}

// Delete implements Map: ENOTSUPP.
func (rb *RingBuf) Delete([]byte) error {
	if err := rb.sysWritable(); err != nil {
		return err
	}
	return linux.ENOTSUPP
}

// NextKey implements Map: ENOTSUPP.
func (rb *RingBuf) NextKey(_, _ []byte) error { return linux.ENOTSUPP }

// Mmap implements Mmapper (ringbuf_map_mmap_kern): offset 0 is the
// consumer page, the only page that may be mapped writable (EPERM
// otherwise); read-only mappings may cover the producer page and both data
// areas.
func (rb *RingBuf) Mmap(pgoff, length uint64, writable bool) ([]byte, error) {
	if writable && (pgoff != 0 || length != PageSize) {
		return nil, linux.EPERM
	}
	view := rb.mem[ringMetaPages*PageSize:]
	if length == 0 || length%PageSize != 0 || pgoff > uint64(len(view))/PageSize ||
		pgoff*PageSize+length > uint64(len(view)) {
		return nil, linux.EINVAL
	}
	if err := rb.mmapOpened(writable); err != nil {
		return nil, err
	}
	return view[pgoff*PageSize:][:length], nil
}

// Reader returns a consumer of rb reading its memory directly, the way a
// process reads its mappings: for tests and for the kernel's own use.
func (rb *RingBuf) Reader() *RingReader {
	view := rb.mem[ringMetaPages*PageSize:]
	return NewRingReader(view[:PageSize], view[PageSize:])
}

// RingReader consumes a ring buffer from the two mappings user space
// makes: the consumer page, and the producer page followed by the data
// area mapped twice. It reads exactly as libbpf's ring_buffer__consume
// does (tools/lib/bpf/ringbuf.c), so the kernel can use it and tests can
// hold the producer to what libbpf expects.
type RingReader struct {
	cons *uint64
	prod *uint64
	data []byte
	mask uint64
}

// NewRingReader makes a reader from the consumer page (PageSize bytes)
// and the read-only mapping (PageSize + 2 x data size bytes).
func NewRingReader(consumer, producer []byte) *RingReader {
	size := uint64(len(producer)-PageSize) / 2
	return &RingReader{
		cons: (*uint64)(unsafe.Pointer(unsafe.SliceData(consumer))),
		prod: (*uint64)(unsafe.Pointer(unsafe.SliceData(producer))),
		data: producer[PageSize:],
		mask: size - 1,
	}
}

// Consume hands up to n committed samples (n <= 0: all) to fn in order,
// skipping discarded ones, and advances the consumer position past each,
// stopping at a busy record. An error from fn stops it after that sample
// is consumed. It returns the number of samples fn received.
func (r *RingReader) Consume(n int, fn func(sample []byte) error) (int, error) {
	count := 0
	cons := atomic.LoadUint64(r.cons)
	for {
		progress := false
		prod := atomic.LoadUint64(r.prod)
		for cons < prod {
			off := cons & r.mask
			l := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
			if l&linux.BPF_RINGBUF_BUSY_BIT != 0 {
				return count, nil
			}
			progress = true
			cons += recordLen(l)
			if l&linux.BPF_RINGBUF_DISCARD_BIT == 0 {
				sample := r.data[off+linux.BPF_RINGBUF_HDR_SZ:][:l]
				err := fn(sample)
				if err != nil {
					atomic.StoreUint64(r.cons, cons)
					return count, err
				}
				count++
			}
			atomic.StoreUint64(r.cons, cons)
			if n > 0 && count >= n {
				return count, nil
			}
		}
		if !progress {
			return count, nil
		}
	}
}

// Available is producer_pos - consumer_pos as the reader sees them.
func (r *RingReader) Available() uint64 {
	return atomic.LoadUint64(r.prod) - atomic.LoadUint64(r.cons)
}

// The registry of live ring buffers, by address range, so that
// RingBufCommit can find a sample's ring buffer without trusting the
// sample's address: sorted, copy-on-write for lock-free lookups, holding
// weak references so that ring buffers can be freed.
var ringRegistry struct {
	sync.Mutex
	list atomic.Pointer[[]ringRange]
	ids  uint64
}

type ringRange struct {
	start, end uintptr // the data areas
	id         uint64  // registration number: addresses are reused, ids not
	rb         weak.Pointer[RingBuf]
}

func registerRing(rb *RingBuf) {
	start := uintptr(rb.data)
	ringRegistry.Lock()
	defer ringRegistry.Unlock()
	ringRegistry.ids++
	id := ringRegistry.ids
	var list []ringRange
	if old := ringRegistry.list.Load(); old != nil {
		for _, r := range *old {
			if r.rb.Value() != nil {
				list = append(list, r)
			}
		}
	}
	list = append(list, ringRange{start: start, end: start + uintptr(2*rb.size), id: id, rb: weak.Make(rb)})
	sort.Slice(list, func(i, j int) bool { return list[i].start < list[j].start })
	ringRegistry.list.Store(&list)
	runtime.AddCleanup(rb, unregisterRing, id)
}

// unregisterRing drops a collected ring buffer's entry (by id: a new ring
// buffer may already live at the same address).
func unregisterRing(id uint64) {
	ringRegistry.Lock()
	defer ringRegistry.Unlock()
	old := ringRegistry.list.Load()
	if old == nil {
		return
	}
	var list []ringRange
	for _, r := range *old {
		if r.id != id && r.rb.Value() != nil {
			list = append(list, r)
		}
	}
	ringRegistry.list.Store(&list)
}

// ringOf is the live ring buffer whose first data area holds the sample
// at addr.
func ringOf(addr uintptr) *RingBuf {
	list := ringRegistry.list.Load()
	if list == nil {
		return nil
	}
	l := *list
	lo, hi := 0, len(l) // find the last range starting at or below addr
	for lo < hi {
		mid := int(uint(lo+hi) / 2)
		if l[mid].start <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return nil
	}
	r := &l[lo-1]
	if addr-r.start < linux.BPF_RINGBUF_HDR_SZ || addr >= r.end {
		return nil
	}
	return r.rb.Value()
}
