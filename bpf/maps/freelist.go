package maps

import "sync/atomic"

// freeLinks is the owner of the elements a freeList links: it gives the
// link word of element id (ids start at 1).
type freeLinks interface {
	freeLink(id uint32) *atomic.Uint32
}

// freeList holds the free elements of a map (hash table elements, stack
// traces): one lock-free stack
// per CPU, like kernel/bpf/percpu_freelist.c's per-CPU lists. A CPU pops
// from and pushes to its own stack and steals from the others when its own
// is empty. Being lock-free it cannot deadlock when a program interrupts a
// holder on its own CPU, and never fails a push.
//
// Each stack head packs an element id (low 32 bits) with a tag that every
// successful pop and push increments, so a pop that raced with a pop and
// re-push of the same element (ABA) fails its compare-and-swap and retries.
type freeList struct {
	stacks []freeStack
	next   atomic.Uint32 // rotates the syscall side over the stacks
}

type freeStack struct {
	head atomic.Uint64 // tag<<32 | element id (0: empty)
	_    [56]byte
}

func newFreeList(ncpu int) freeList { return freeList{stacks: make([]freeStack, ncpu)} }

// home is the stack cpu uses; the syscall side (cpu < 0) rotates.
func (f *freeList) home(cpu int) int {
	if cpu < 0 {
		return int(f.next.Add(1) % uint32(len(f.stacks)))
	}
	return cpu % len(f.stacks)
}

// push returns element id of o to cpu's stack.
func (f *freeList) push(o freeLinks, cpu int, id uint32) {
	s := &f.stacks[f.home(cpu)]
	next := o.freeLink(id)
	for {
		old := s.head.Load()
		next.Store(uint32(old))
		if s.head.CompareAndSwap(old, (old>>32+1)<<32|uint64(id)) {
			return
		}
	}
}

// pop takes a free element of o, from cpu's stack first; 0 when all are
// empty.
func (f *freeList) pop(o freeLinks, cpu int) uint32 {
	start := f.home(cpu)
	for k := range f.stacks {
		s := &f.stacks[(start+k)%len(f.stacks)]
		for {
			old := s.head.Load()
			id := uint32(old)
			if id == 0 {
				break
			}
			if s.head.CompareAndSwap(old, (old>>32+1)<<32|uint64(o.freeLink(id).Load())) {
				return id
			}
		}
	}
	return 0
}
