package maps

import (
	"unsafe"

	"hachi/syscall/linux"
)

// QueueStack is BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO)
// (kernel/bpf/queue_stack_maps.c): keyless maps of up to max_entries
// values in a ring of max_entries+1 slots, under one spinlock. Values are
// copied in and out, never addressed by programs, so plain bytes under the
// lock suffice.
type QueueStack struct {
	base
	host  Host
	lock  spinLock
	stack bool
	size  uint32 // max_entries + 1 slots: head == tail means empty
	head  uint32 // next slot to write
	tail  uint32 // oldest value
	data  []byte
}

var (
	_ Map     = (*QueueStack)(nil)
	_ Queuer  = (*QueueStack)(nil)
	_ Freezer = (*QueueStack)(nil)
)

// queueStackCreateFlags is QUEUE_STACK_CREATE_FLAG_MASK.
const queueStackCreateFlags = linux.BPF_F_NUMA_NODE | accessMask

func newQueueStack(spec Spec, host Host) (*QueueStack, error) {
	// queue_stack_map_alloc_check
	if spec.MaxEntries == 0 || spec.KeySize != 0 || spec.ValueSize == 0 ||
		spec.Flags&^queueStackCreateFlags != 0 || !flagsAccessOK(spec.Flags) {
		return nil, linux.EINVAL
	}
	if spec.ValueSize > kmallocMaxSize {
		return nil, linux.E2BIG
	}
	size := uint64(spec.MaxEntries) + 1
	if err := host.ChargeMemory(size * uint64(spec.ValueSize)); err != nil {
		return nil, err
	}
	if size*uint64(spec.ValueSize) > 1<<62 {
		return nil, linux.ENOMEM
	}
	return &QueueStack{
		base:  newBase(spec, host.PossibleCPUs()),
		host:  host,
		stack: spec.Type == linux.BPF_MAP_TYPE_STACK,
		size:  uint32(size),
		data:  make([]byte, size*uint64(spec.ValueSize)),
	}, nil
}

func (q *QueueStack) slot(i uint32) []byte {
	vs := uint64(q.info.ValueSize)
	return q.data[uint64(i)*vs:][:vs]
}

func (q *QueueStack) empty() bool { return q.head == q.tail }

func (q *QueueStack) full() bool {
	next := q.head + 1
	if next >= q.size {
		next = 0
	}
	return next == q.tail
}

// get is __queue_map_get and __stack_map_get: an empty map zeroes value
// and answers ENOENT.
func (q *QueueStack) get(cpu int, value []byte, del bool) error {
	value = value[:q.info.ValueSize]
	if err := q.lock.lock(q.host, cpu); err != nil {
		return err
	}
	defer q.lock.unlock()
	if q.empty() {
		clear(value)
		return linux.ENOENT
	}
	if !q.stack {
		copy(value, q.slot(q.tail))
		if del {
			if q.tail++; q.tail >= q.size {
				q.tail = 0
			}
		}
		return nil
	}
	i := q.head - 1
	if q.head == 0 {
		i = q.size - 1
	}
	copy(value, q.slot(i))
	if del {
		q.head = i
	}
	return nil
}

// PushElem implements Queuer (queue_stack_map_push_elem): when full,
// BPF_EXIST drops the oldest value to make room, otherwise E2BIG.
func (q *QueueStack) PushElem(cpu int, value []byte, flags uint64) error {
	if flags&linux.BPF_NOEXIST != 0 || flags > linux.BPF_EXIST {
		return linux.EINVAL
	}
	if err := q.lock.lock(q.host, cpu); err != nil {
		return err
	}
	defer q.lock.unlock()
	if q.full() {
		if flags&linux.BPF_EXIST == 0 {
			return linux.E2BIG
		}
		if q.tail++; q.tail >= q.size {
			q.tail = 0
		}
	}
	copy(q.slot(q.head), value[:q.info.ValueSize])
	if q.head++; q.head >= q.size {
		q.head = 0
	}
	return nil
}

// PopElem implements Queuer.
func (q *QueueStack) PopElem(cpu int, value []byte) error { return q.get(cpu, value, true) }

// PeekElem implements Queuer.
func (q *QueueStack) PeekElem(cpu int, value []byte) error { return q.get(cpu, value, false) }

// LookupElem implements Map: queues and stacks have no keyed lookup (NULL).
func (q *QueueStack) LookupElem(int, []byte) unsafe.Pointer { return nil }

// UpdateElem implements Map: EINVAL (programs use push).
func (q *QueueStack) UpdateElem(int, []byte, []byte, uint64) error { return linux.EINVAL }

// DeleteElem implements Map: EINVAL (programs use pop).
func (q *QueueStack) DeleteElem(int, []byte) error { return linux.EINVAL }

// Lookup implements Map: BPF_MAP_LOOKUP_ELEM (with no key) peeks.
func (q *QueueStack) Lookup(_, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	return q.get(-1, value, false)
}

// Update implements Map: BPF_MAP_UPDATE_ELEM (with no key) pushes.
func (q *QueueStack) Update(_, value []byte, flags uint64) error {
	if err := q.sysWritable(); err != nil {
		return err
	}
	return q.PushElem(-1, value, flags)
}

// Delete implements Map: EINVAL (queue_stack_map_delete_elem).
func (q *QueueStack) Delete([]byte) error {
	if err := q.sysWritable(); err != nil {
		return err
	}
	return linux.EINVAL
}

// NextKey implements Map: EINVAL, there are no keys.
func (q *QueueStack) NextKey(_, _ []byte) error { return linux.EINVAL }

// LookupAndDelete implements LookupAndDeleter: BPF_MAP_LOOKUP_AND_DELETE_ELEM
// pops; flags must be 0.
func (q *QueueStack) LookupAndDelete(_, value []byte, flags uint64) error {
	if err := q.sysWritable(); err != nil {
		return err
	}
	if flags != 0 {
		return linux.EINVAL
	}
	return q.get(-1, value, true)
}
