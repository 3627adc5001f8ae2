package maps

import "sync/atomic"

// The LRU of LRU_HASH and LRU_PERCPU_HASH, an approximation of Linux's
// (kernel/bpf/bpf_lru_list.c) with the same ingredients and a simpler
// layout.
//
// Policy. Every element is on one list of its LRU: free, inactive or
// active. A lookup only sets the element's reference bit (no lock, no list
// move, and only when the bit is clear, as bpf_lru_node_set_ref does). A
// new element goes to the head of the inactive list. When an update needs
// an element and none is free, the LRU shrinks:
//
//  1. If the inactive list is shorter than the active one, up to lruScan
//     elements are taken from the active tail: referenced ones have their
//     bit cleared and go back to the active head, the others move to the
//     inactive head (__bpf_lru_list_rotate_active).
//  2. Elements are taken from the inactive tail, then from the active
//     tail (second chance, like a clock): referenced ones are cleared and
//     go to the active head; the first unreferenced one that can be removed
//     from the hash table is evicted (__bpf_lru_list_shrink_inactive).
//     Linux scans a fixed number of elements per step; scanning until an
//     unreferenced one turns up keeps a hot set larger than that number
//     from being evicted, at a cost bounded by the list lengths.
//  3. If all were referenced or busy, the inactive tail (else the active
//     tail) is evicted regardless of its bit (__bpf_lru_list_shrink's
//     forced path).
//
// An element is evicted only when the table is full: unlike Linux's common
// LRU, which keeps per-CPU local free lists and may evict while some CPU
// still holds free elements, Hachi's common LRU has one free list, so all
// max_entries elements are usable. With BPF_F_NO_COMMON_LRU each CPU has an
// LRU of max_entries / CPUs elements (max_entries is rounded to a multiple
// of the CPU count, as Linux does), and an update takes from the running
// CPU's LRU, evicting there even if another CPU's LRU has free elements:
// Linux's per-CPU LRU behaves the same way.
//
// Locking: one spinlock per LRU, taken before bucket locks (an eviction
// takes the victim's bucket lock), never after. An element a program
// releases while its CPU holds the LRU lock (a re-entered program) goes to
// a lock-free pending stack that the next lock holder drains.
type lru struct {
	lists  []lruList
	percpu bool
	next   atomic.Uint32 // rotates the syscall side over per-CPU LRUs
}

// lruScan is how many elements one shrink step examines
// (BPF_LRU_LIST_*_SCAN's role).
const lruScan = 16

// Element list membership.
const (
	lruNone     = 0 // taken (being inserted) or evicted and not yet freed
	lruFree     = 1
	lruInactive = 2
	lruActive   = 3
)

type lruList struct {
	lock     spinLock
	free     uint32 // stack through lruNext
	inactive lruQueue
	active   lruQueue
	pending  atomic.Uint32 // releases deferred by EBUSY, through pendNext
	_        [32]byte
}

// lruQueue is a doubly linked list of element ids, head most recent.
type lruQueue struct {
	head, tail uint32
	n          int
}

func newLRU(h *Hash, ncpu int, percpu bool, total uint32) *lru {
	l := &lru{percpu: percpu}
	n := 1
	if percpu {
		n = ncpu
	}
	l.lists = make([]lruList, n)
	for id := total; id >= 1; id-- {
		e := h.elem(id)
		owner := 0
		if percpu {
			owner = int(id-1) % n
		}
		e.lruOwner = uint32(owner)
		list := &l.lists[owner]
		e.lruNext = list.free
		e.lruWhere = lruFree
		list.free = id
	}
	return l
}

// list is the LRU an update on cpu takes elements from.
func (l *lru) list(cpu int) *lruList {
	if !l.percpu {
		return &l.lists[0]
	}
	if cpu < 0 {
		return &l.lists[l.next.Add(1)%uint32(len(l.lists))]
	}
	return &l.lists[cpu%len(l.lists)]
}

// pushHead puts id at the head of q.
func (q *lruQueue) pushHead(h *Hash, id uint32, where uint8) {
	e := h.elem(id)
	e.lruPrev, e.lruNext, e.lruWhere = 0, q.head, where
	if q.head != 0 {
		h.elem(q.head).lruPrev = id
	} else {
		q.tail = id
	}
	q.head = id
	q.n++
}

// remove takes id out of q.
func (q *lruQueue) remove(h *Hash, id uint32) {
	e := h.elem(id)
	if e.lruPrev != 0 {
		h.elem(e.lruPrev).lruNext = e.lruNext
	} else {
		q.head = e.lruNext
	}
	if e.lruNext != 0 {
		h.elem(e.lruNext).lruPrev = e.lruPrev
	} else {
		q.tail = e.lruPrev
	}
	e.lruPrev, e.lruNext, e.lruWhere = 0, 0, lruNone
	q.n--
}

// unlinkLocked takes id off whatever list holds it.
func (list *lruList) unlinkLocked(h *Hash, id uint32) {
	switch h.elem(id).lruWhere {
	case lruInactive:
		list.inactive.remove(h, id)
	case lruActive:
		list.active.remove(h, id)
	}
}

// freeLocked puts id on the free stack.
func (list *lruList) freeLocked(h *Hash, id uint32) {
	list.unlinkLocked(h, id)
	e := h.elem(id)
	e.lruNext, e.lruWhere = list.free, lruFree
	list.free = id
}

// drainLocked frees the elements whose release was deferred.
func (list *lruList) drainLocked(h *Hash) {
	for id := list.pending.Swap(0); id != 0; {
		next := h.elem(id).pendNext
		list.freeLocked(h, id)
		id = next
	}
}

// alloc takes an element for an update on cpu, evicting if none is free,
// and puts it at the inactive head; 0 if nothing could be freed (ENOMEM).
func (l *lru) alloc(h *Hash, cpu int) (uint32, error) {
	list := l.list(cpu)
	if err := list.lock.lock(h.host, cpu); err != nil {
		return 0, err
	}
	defer list.lock.unlock()
	list.drainLocked(h)
	if list.free == 0 {
		l.shrinkLocked(h, list, cpu)
	}
	id := list.free
	if id == 0 {
		return 0, nil
	}
	e := h.elem(id)
	list.free = e.lruNext
	h.nodeOf(id).ref.Store(0)
	list.inactive.pushHead(h, id, lruInactive)
	return id, nil
}

// release returns an element that left the hash table (or never entered
// it) to its LRU's free stack.
func (l *lru) release(h *Hash, cpu int, id uint32) {
	e := h.elem(id)
	list := &l.lists[e.lruOwner]
	if list.lock.lock(h.host, cpu) != nil {
		for {
			old := list.pending.Load()
			e.pendNext = old
			if list.pending.CompareAndSwap(old, id) {
				return
			}
		}
	}
	list.drainLocked(h)
	list.freeLocked(h, id)
	list.lock.unlock()
}

// shrinkLocked frees one element of list by evicting it from the table.
func (l *lru) shrinkLocked(h *Hash, list *lruList, cpu int) {
	if list.inactive.n < list.active.n {
		// Keep the inactive list the longer: demote the active tail.
		for k := 0; k < lruScan && list.active.tail != 0; k++ {
			id := list.active.tail
			list.active.remove(h, id)
			if n := h.nodeOf(id); n.ref.Load() != 0 {
				n.ref.Store(0)
				list.active.pushHead(h, id, lruActive)
			} else {
				list.inactive.pushHead(h, id, lruInactive)
			}
		}
	}
	// Second chance over the inactive list, then the active one: a
	// referenced element loses its bit and moves to the active head; the
	// first unreferenced one that can leave the table is evicted. Each
	// element is examined at most once per shrink, and only elements
	// referenced since their last examination are moved, so the work is
	// bounded by the list lengths and cheap on average.
	busy := 0
	for _, q := range []*lruQueue{&list.inactive, &list.active} {
		for k := q.n; k > 0 && q.tail != 0 && busy < lruScan; k-- {
			id := q.tail
			n := h.nodeOf(id)
			q.remove(h, id)
			if n.ref.Load() != 0 {
				n.ref.Store(0)
				list.active.pushHead(h, id, lruActive)
				continue
			}
			if h.evict(cpu, id) {
				list.freeLocked(h, id)
				return
			}
			// In flight (being inserted or deleted): look further.
			busy++
			q.pushHead(h, id, lruWhere(q, list))
		}
	}
	// Everything was referenced or busy: evict regardless of the bit.
	for _, q := range []*lruQueue{&list.inactive, &list.active} {
		for id, k := q.tail, 0; id != 0 && k < lruScan; id, k = h.elem(id).lruPrev, k+1 {
			if h.evict(cpu, id) {
				list.freeLocked(h, id)
				return
			}
		}
	}
}

// lruWhere is the membership value of queue q of list.
func lruWhere(q *lruQueue, list *lruList) uint8 {
	if q == &list.active {
		return lruActive
	}
	return lruInactive
}
