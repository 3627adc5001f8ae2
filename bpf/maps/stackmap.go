package maps

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// StackTrace is BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): stack
// traces stored by bpf_get_stackid under an id, the hash of the trace
// modulo the number of buckets (roundup_pow_of_two(max_entries)); user
// space reads a trace by id as value_size/8 u64 addresses, zero-padded.
// max_entries preallocated traces circulate through a lock-free free
// list; a trace's words are read and written atomically, since user space
// may read a trace while a program replaces it.
// BPF_F_STACK_BUILD_ID (traces as build id + offset) is not supported:
// Hachi does not read ELF build ids of user code (ENOTSUPP).
type StackTrace struct {
	base
	buckets []atomic.Uint32 // each bucket's trace: its pool id (index + 1), 0 for none
	mask    uint32
	depth   uint32 // value_size / 8
	pool    []stackBucket
	free    freeList
}

var (
	_ Map              = (*StackTrace)(nil)
	_ LookupAndDeleter = (*StackTrace)(nil)
	_ Freezer          = (*StackTrace)(nil)
)

type stackBucket struct {
	hash     atomic.Uint32
	n        atomic.Uint32
	ips      []uint64
	freeNext atomic.Uint32
}

// Buckets name their traces by pool id, not by pointer: bpf_get_stackid
// and a program's delete replace them in trap context, where storing a
// pointer into the heap (an atomic.Pointer's Swap too) would run the GC
// write barrier that the trap may have interrupted.

// trace is the trace of pool id k, nil for 0.
func (s *StackTrace) trace(k uint32) *stackBucket {
	if k == 0 {
		return nil
	}
	return &s.pool[k-1]
}

// stackCreateFlags is STACK_CREATE_FLAG_MASK.
const stackCreateFlags = linux.BPF_F_NUMA_NODE | linux.BPF_F_RDONLY | linux.BPF_F_WRONLY | linux.BPF_F_STACK_BUILD_ID

func newStackTrace(spec Spec, host Host) (*StackTrace, error) {
	// stack_map_alloc
	if spec.Flags&^stackCreateFlags != 0 {
		return nil, linux.EINVAL
	}
	if spec.MaxEntries == 0 || spec.KeySize != 4 || spec.ValueSize < 8 || spec.ValueSize%8 != 0 {
		return nil, linux.EINVAL
	}
	if spec.Flags&linux.BPF_F_STACK_BUILD_ID != 0 {
		return nil, linux.ENOTSUPP
	}
	if spec.ValueSize/8 > perfEventMaxStack {
		return nil, linux.EINVAL
	}
	nb := roundUpPow2(uint64(spec.MaxEntries))
	if nb > 1<<31 {
		return nil, linux.E2BIG
	}
	depth := spec.ValueSize / 8
	if err := host.ChargeMemory(nb*8 + uint64(spec.MaxEntries)*(uint64(spec.ValueSize)+48)); err != nil {
		return nil, err
	}
	ncpu := host.PossibleCPUs()
	s := &StackTrace{
		base:    newBase(spec, ncpu),
		buckets: make([]atomic.Uint32, nb),
		mask:    uint32(nb - 1),
		depth:   depth,
		pool:    make([]stackBucket, spec.MaxEntries),
		free:    newFreeList(ncpu),
	}
	ips := make([]uint64, uint64(spec.MaxEntries)*uint64(depth))
	for i := len(s.pool) - 1; i >= 0; i-- {
		s.pool[i].ips = ips[uint64(i)*uint64(depth):][:depth]
		s.free.push(s, i%ncpu, uint32(i)+1)
	}
	return s, nil
}

func (s *StackTrace) freeLink(id uint32) *atomic.Uint32 { return &s.pool[id-1].freeNext }

// MaxDepth is how many frames a trace holds (value_size / 8).
func (s *StackTrace) MaxDepth() int { return int(s.depth) }

// GetStackID is __bpf_get_stackid for a trace whose frames to skip were
// already dropped: the trace's id, existing or new. flags are
// bpf_get_stackid's (BPF_F_FAST_STACK_CMP: a hash match is enough;
// BPF_F_REUSE_STACKID: replace a different trace with the same id, else
// EEXIST). Frames past MaxDepth are dropped. ENOMEM when no trace is free,
// EFAULT for an empty trace.
func (s *StackTrace) GetStackID(cpu int, ips []uint64, flags uint64) (uint32, error) {
	if len(ips) == 0 {
		return 0, linux.EFAULT
	}
	if uint32(len(ips)) > s.depth {
		ips = ips[:s.depth]
	}
	hash := hashTrace(ips)
	id := hash & s.mask
	old := s.trace(s.buckets[id].Load())
	match := old != nil && old.hash.Load() == hash
	if match && flags&linux.BPF_F_FAST_STACK_CMP != 0 {
		return id, nil
	}
	if match && old.n.Load() == uint32(len(ips)) && equalIPs(old.ips, ips) {
		return id, nil
	}
	if old != nil && flags&linux.BPF_F_REUSE_STACKID == 0 {
		return 0, linux.EEXIST
	}
	k := s.free.pop(s, cpu)
	if k == 0 {
		return 0, linux.ENOMEM
	}
	b := &s.pool[k-1]
	for i, ip := range ips {
		atomic.StoreUint64(&b.ips[i], ip)
	}
	b.hash.Store(hash)
	b.n.Store(uint32(len(ips)))
	if prev := s.buckets[id].Swap(k); prev != 0 {
		s.free.push(s, cpu, prev)
	}
	return id, nil
}

func hashTrace(ips []uint64) uint32 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ips))), len(ips)*8)
	return hashKey(b, 0)
}

// equalIPs compares a stored trace with ips (as long as the trace's n).
func equalIPs(stored, ips []uint64) bool {
	for i, ip := range ips {
		if atomic.LoadUint64(&stored[i]) != ip {
			return false
		}
	}
	return true
}

// LookupElem implements Map: programs cannot read traces (nil; Linux's
// verifier refuses the call).
func (s *StackTrace) LookupElem(int, []byte) unsafe.Pointer { return nil }

// UpdateElem implements Map: EINVAL.
func (s *StackTrace) UpdateElem(int, []byte, []byte, uint64) error { return linux.EINVAL }

// DeleteElem implements Map (stack_map_delete_elem).
func (s *StackTrace) DeleteElem(cpu int, key []byte) error {
	id := le32(key)
	if id > s.mask {
		return linux.E2BIG
	}
	k := s.buckets[id].Swap(0)
	if k == 0 {
		return linux.ENOENT
	}
	s.free.push(s, cpu, k)
	return nil
}

// Lookup implements Map (bpf_stackmap_copy): the trace's addresses, then
// zeros up to value_size.
func (s *StackTrace) Lookup(key, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	id := le32(key)
	if id > s.mask {
		return linux.ENOENT
	}
	b := s.trace(s.buckets[id].Load())
	if b == nil {
		return linux.ENOENT
	}
	value = value[:s.info.ValueSize]
	clear(value)
	n := min(b.n.Load(), s.depth)
	for i := range n {
		binary.LittleEndian.PutUint64(value[i*8:], atomic.LoadUint64(&b.ips[i]))
	}
	return nil
}

// Update implements Map: EINVAL (traces come from bpf_get_stackid).
func (s *StackTrace) Update(_, _ []byte, _ uint64) error {
	if err := s.sysWritable(); err != nil {
		return err
	}
	return linux.EINVAL
}

// Delete implements Map.
func (s *StackTrace) Delete(key []byte) error {
	if err := s.sysWritable(); err != nil {
		return err
	}
	return s.DeleteElem(-1, key)
}

// NextKey implements Map (stack_map_get_next_key): ids in increasing
// order; an absent or invalid key restarts from the first.
func (s *StackTrace) NextKey(key, next []byte) error {
	id := uint32(0)
	if key != nil {
		if k := le32(key); k <= s.mask && s.buckets[k].Load() != 0 {
			id = k + 1
		}
	}
	for ; id <= s.mask; id++ {
		if s.buckets[id].Load() != 0 {
			putLE32(next, id)
			return nil
		}
	}
	return linux.ENOENT
}

// LookupAndDelete implements LookupAndDeleter (Linux 6.x's
// stack_map_lookup_and_delete_elem): the trace, then its id is freed.
func (s *StackTrace) LookupAndDelete(key, value []byte, flags uint64) error {
	if err := s.sysWritable(); err != nil {
		return err
	}
	if err := s.Lookup(key, value, flags); err != nil {
		return err
	}
	if k := s.buckets[le32(key)].Swap(0); k != 0 {
		s.free.push(s, -1, k)
		return nil
	}
	return linux.ENOENT
}
