package syscall

import (
	"sort"
	"sync"

	"hachi/syscall/linux"
)

// SliceSpace is an AddressSpace made of byte slices mapped at chosen
// addresses: the user memory of host tests and host tools, which drive the
// bpf() layer through the same byte-level interface a process uses. The
// slices are shared, not copied: what the kernel side writes is seen in
// them. Address 0 and the page after every mapping Place makes stay
// unmapped, so NULL and overruns fault as they would in a process.
type SliceSpace struct {
	mu      sync.Mutex
	regions []region // sorted by addr, never overlapping
	next    uint64   // where Place looks first
}

type region struct {
	addr     uint64
	b        []byte
	readOnly bool
}

func (r region) end() uint64 { return r.addr + uint64(len(r.b)) }

// placeBase is where Place starts: far from 0, as a process's heap is.
const placeBase = 0x10000

// NewSliceSpace returns an empty address space.
func NewSliceSpace() *SliceSpace { return &SliceSpace{next: placeBase} }

// Map maps b at addr. It fails with EINVAL when b is empty, when the range
// wraps around, covers address 0, or overlaps a mapping.
func (s *SliceSpace) Map(addr uint64, b []byte, readOnly bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mapLocked(addr, b, readOnly)
}

func (s *SliceSpace) mapLocked(addr uint64, b []byte, readOnly bool) error {
	end := addr + uint64(len(b))
	if len(b) == 0 || addr == 0 || end < addr {
		return linux.EINVAL
	}
	i := sort.Search(len(s.regions), func(i int) bool { return s.regions[i].end() > addr })
	if i < len(s.regions) && s.regions[i].addr < end {
		return linux.EINVAL
	}
	s.regions = append(s.regions, region{})
	copy(s.regions[i+1:], s.regions[i:])
	s.regions[i] = region{addr: addr, b: b, readOnly: readOnly}
	return nil
}

// Place maps b at a page-aligned address no mapping uses, followed by an
// unmapped guard page, and returns the address. An empty b gets a
// one-byte reservation (so its address is distinct and valid) that
// copies of zero bytes never touch.
func (s *SliceSpace) Place(b []byte) uint64 { return s.place(b, false) }

// PlaceEnd is Place with b's last byte just before the guard page: a
// buffer followed directly by unmapped memory, to test that copies stop at
// the right byte.
func (s *SliceSpace) PlaceEnd(b []byte) uint64 { return s.place(b, true) }

func (s *SliceSpace) place(b []byte, atEnd bool) uint64 {
	if len(b) == 0 {
		b = make([]byte, 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(len(b))
	for {
		start := s.next
		end := roundUpPage(start + n)
		if atEnd {
			start = end - n
		}
		s.next = end + PageSize
		if s.mapLocked(start, b, false) == nil {
			return start
		}
	}
}

func roundUpPage(n uint64) uint64 { return (n + PageSize - 1) &^ (PageSize - 1) }

// Unmap removes the mapping that starts at addr (EINVAL if none does).
func (s *SliceSpace) Unmap(addr uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.regions {
		if r.addr == addr {
			s.regions = append(s.regions[:i], s.regions[i+1:]...)
			return nil
		}
	}
	return linux.EINVAL
}

// CopyIn implements AddressSpace.
func (s *SliceSpace) CopyIn(addr uint64, dst []byte) error {
	return s.copy(addr, dst, false)
}

// CopyOut implements AddressSpace; read-only mappings fault.
func (s *SliceSpace) CopyOut(addr uint64, src []byte) error {
	return s.copy(addr, src, true)
}

// copy moves p to or from user memory at addr, crossing from one mapping
// into the next only when they are contiguous.
func (s *SliceSpace) copy(addr uint64, p []byte, out bool) error {
	if len(p) == 0 {
		return nil
	}
	if addr+uint64(len(p)) < addr {
		return linux.EFAULT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.regions), func(i int) bool { return s.regions[i].end() > addr })
	for len(p) > 0 {
		if i >= len(s.regions) || s.regions[i].addr > addr {
			return linux.EFAULT
		}
		r := s.regions[i]
		if out && r.readOnly {
			return linux.EFAULT
		}
		in := r.b[addr-r.addr:]
		var n int
		if out {
			n = copy(in, p)
		} else {
			n = copy(p, in)
		}
		p = p[n:]
		addr += uint64(n)
		i++
	}
	return nil
}
