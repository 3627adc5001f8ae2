package perf

import (
	"math/bits"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// Mmap is perf_mmap: the memory of a shared mapping of length bytes at
// page offset pgoff, for the kernel to map into the calling process.
// The mapping is 1 + 2^n pages: the control page (struct
// perf_event_mmap_page) and the data ring. The first mapping allocates
// the ring; later ones (through this event or through events that
// redirected their output to it) must have the same size and share it.
// A read-only mapping makes the ring overwrite old records instead of
// honouring data_tail, as Linux's does.
//
// EINVAL for a private mapping, a non-zero offset (Hachi's PMUs have no
// AUX area), or a size that is not 1 + 2^n pages or differs from the
// ring's. Hachi keeps no perf_event_mlock_kb budget: its callers are root.
func (e *Event) Mmap(pgoff, length uint64, shared, writable bool) ([]byte, error) {
	if !shared || pgoff != 0 || length < syscall.PageSize || length%syscall.PageSize != 0 {
		return nil, linux.EINVAL
	}
	nrPages := length/syscall.PageSize - 1
	if nrPages != 0 && bits.OnesCount64(nrPages) != 1 {
		return nil, linux.EINVAL
	}
	if nrPages > 1<<20 { // a 4 GiB ring: larger than anyone maps
		return nil, linux.ENOMEM
	}
	e.mmapMu.Lock()
	defer e.mmapMu.Unlock()
	if r := e.rb.Load(); r != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if uint64(len(r.data))/syscall.PageSize != nrPages || r.mmapCount == 0 {
			return nil, linux.EINVAL
		}
		r.mmapCount++
		e.mmapCount++
		return r.mem, nil
	}
	var watermark uint64
	if has(&e.attr, linux.PerfAttrWatermark) {
		watermark = uint64(e.attr.WakeupEvents) // the union's wakeup_watermark
	}
	r := newRing(int(nrPages), watermark, writable)
	r.mmapCount = 1
	e.mmapCount = 1
	e.setRing(r)
	e.updateUserpage()
	return r.mem, nil
}

// Munmap is perf_mmap_close for a mapping Mmap made through e: when the
// ring's last mapping goes, every event writing to it loses it (their
// output then fails, counted nowhere, as with no ring at all).
func (e *Event) Munmap() {
	e.mmapMu.Lock()
	r := e.rb.Load()
	if r == nil || e.mmapCount == 0 {
		e.mmapMu.Unlock()
		return
	}
	e.mmapCount--
	r.mu.Lock()
	r.mmapCount--
	last := r.mmapCount == 0
	users := append([]*Event(nil), r.users...)
	r.mu.Unlock()
	e.mmapMu.Unlock()
	if last {
		for _, u := range users {
			u.setRing(nil)
		}
	}
}

// setRing is ring_buffer_attach: the event's output goes to r (nil: none).
func (e *Event) setRing(r *ring) {
	old := e.rb.Swap(r)
	if old == r {
		return
	}
	if old != nil {
		old.mu.Lock()
		for i, u := range old.users {
			if u == e {
				old.users = append(old.users[:i:i], old.users[i+1:]...)
				break
			}
		}
		old.mu.Unlock()
		// Readers polling the old ring must not sleep forever.
		old.wake()
	}
	if r != nil {
		r.mu.Lock()
		r.users = append(r.users, e)
		r.mu.Unlock()
	}
}

// setOutput is perf_event_set_output: e's records go to out's ring (nil:
// back to none). EINVAL for a circular redirect, events on different CPUs
// or tasks, different clocks, when e has a mapping of its own, or when out
// has no mapped ring.
func (e *Event) setOutput(out *Event) error {
	if out != nil {
		if out == e || out.cpu != e.cpu || out.cpu == -1 && out.tid != e.tid || out.clock != e.clock ||
			has(&out.attr, linux.PerfAttrWriteBackward) != has(&e.attr, linux.PerfAttrWriteBackward) {
			return linux.EINVAL
		}
	}
	e.mmapMu.Lock()
	defer e.mmapMu.Unlock()
	if e.mmapCount > 0 {
		return linux.EINVAL
	}
	var r *ring
	if out != nil {
		r = out.rb.Load()
		if r == nil {
			return linux.EINVAL
		}
		r.mu.Lock()
		mapped := r.mmapCount > 0
		r.mu.Unlock()
		if !mapped {
			return linux.EINVAL
		}
	}
	e.setRing(r)
	return nil
}
