package sys

import (
	"sync"

	"hachi/syscall/linux"
)

// idMax is the exclusive upper bound of object ids: Linux allocates them
// with idr_alloc_cyclic(idr, obj, 1, INT_MAX), so ids run from 1 to
// INT_MAX-1.
const idMax = 1<<31 - 1

// idr is an id space of one object kind (prog_idr, map_idr, link_idr,
// btf_idr): ids are allocated cyclically from 1 as idr_alloc_cyclic does,
// so an id is not reused until the space wraps, and never while its object
// lives.
type idr[T any] struct {
	mu   sync.Mutex
	objs map[uint32]T
	next uint32 // where the next allocation starts looking
}

// alloc gives obj an id; ENOSPC when every id is taken.
func (r *idr[T]) alloc(obj T) (uint32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.objs == nil {
		r.objs = map[uint32]T{}
	}
	if len(r.objs) >= idMax-1 {
		return 0, linux.ENOSPC
	}
	id := r.next
	if id == 0 {
		id = 1
	}
	for {
		if id >= idMax {
			id = 1
		}
		if _, used := r.objs[id]; !used {
			break
		}
		id++
	}
	r.objs[id] = obj
	r.next = id + 1
	return id, nil
}

// remove frees id.
func (r *idr[T]) remove(id uint32) {
	r.mu.Lock()
	delete(r.objs, id)
	r.mu.Unlock()
}

// find returns the object with id, under the idr's lock so that take can
// get a reference before the object can be freed (idr_find and
// *_inc_not_zero under the idr spinlock).
func (r *idr[T]) find(id uint32, take func(T) bool) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	obj, ok := r.objs[id]
	if !ok || !take(obj) {
		var zero T
		return zero, false
	}
	return obj, true
}

// nextID is idr_get_next: the smallest id >= start in use.
func (r *idr[T]) nextID(start uint32) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	best, found := uint32(0), false
	for id := range r.objs {
		if id >= start && (!found || id < best) {
			best, found = id, true
		}
	}
	return best, found
}

func (r *idr[T]) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.objs)
}
