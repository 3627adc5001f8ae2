package maps

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Array is BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY
// (kernel/bpf/arraymap.c): max_entries preallocated, zeroed values indexed
// by a u32 key; elements cannot be deleted. Values are 8-byte aligned
// slots of round_up(value_size, 8) bytes. Per-CPU arrays keep each CPU's
// slots together (CPU-major), so CPUs updating the same index do not
// share cache lines, as Linux's per-CPU areas do.
type Array struct {
	base
	values    unsafe.Pointer // slot 0 (of CPU 0)
	mem       []byte         // the storage, kept alive with the map
	stride    uintptr        // round_up(value_size, 8)
	cpuStride uintptr        // bytes of one CPU's slots (0 for plain arrays)
	max       uint32
	ncpu      uint
	percpu    bool
	forEach   forEachKeys
}

var (
	_ Map          = (*Array)(nil)
	_ PerCPUMap    = (*Array)(nil)
	_ ForEacher    = (*Array)(nil)
	_ Batcher      = (*Array)(nil)
	_ Freezer      = (*Array)(nil)
	_ Mmapper      = (*Array)(nil)
	_ DirectValuer = (*Array)(nil)

	_ vm.LookupInliner = (*Array)(nil)
)

// arrayCreateFlags is ARRAY_CREATE_FLAG_MASK.
const arrayCreateFlags = linux.BPF_F_NUMA_NODE | linux.BPF_F_MMAPABLE | accessMask |
	linux.BPF_F_PRESERVE_ELEMS | linux.BPF_F_INNER_MAP

// arrayAllocCheck is array_map_alloc_check, shared by the fd arrays.
func arrayAllocCheck(spec Spec) error {
	percpu := spec.Type == linux.BPF_MAP_TYPE_PERCPU_ARRAY
	if spec.MaxEntries == 0 || spec.KeySize != 4 || spec.ValueSize == 0 ||
		spec.Flags&^arrayCreateFlags != 0 || !flagsAccessOK(spec.Flags) ||
		(percpu && numaNode(spec) != numaNoNode) {
		return linux.EINVAL
	}
	if spec.Type != linux.BPF_MAP_TYPE_ARRAY && spec.Flags&(linux.BPF_F_MMAPABLE|linux.BPF_F_INNER_MAP) != 0 {
		return linux.EINVAL
	}
	if spec.Type != linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY && spec.Flags&linux.BPF_F_PRESERVE_ELEMS != 0 {
		return linux.EINVAL
	}
	if spec.ValueSize > 1<<31-1 {
		return linux.E2BIG
	}
	if percpu && roundUp8(spec.ValueSize) > pcpuMinUnitSize {
		return linux.E2BIG
	}
	return nil
}

func newArray(spec Spec, host Host) (*Array, error) {
	if err := arrayAllocCheck(spec); err != nil {
		return nil, err
	}
	ncpu := host.PossibleCPUs()
	a := &Array{
		base:   newBase(spec, ncpu),
		stride: uintptr(roundUp8(spec.ValueSize)),
		max:    spec.MaxEntries,
		ncpu:   uint(ncpu),
		percpu: spec.Type == linux.BPF_MAP_TYPE_PERCPU_ARRAY,
	}
	size := uint64(a.max) * uint64(a.stride)
	if a.percpu {
		a.cpuStride = uintptr(size)
		size *= uint64(ncpu)
	}
	var err error
	if spec.Flags&linux.BPF_F_MMAPABLE != 0 {
		a.mem, err = allocPages(host, (size+PageSize-1)&^(PageSize-1))
	} else {
		var words []uint64
		words, err = allocWords(host, size/8)
		a.mem = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), size)
	}
	if err != nil {
		return nil, err
	}
	a.values = unsafe.Pointer(unsafe.SliceData(a.mem))
	a.forEach.init(ncpu)
	return a, nil
}

// slot is the address of index i's value in cpu's slots (i < max); a
// plain array's cpuStride is 0, so every CPU has the one slot.
func (a *Array) slot(i uint32, cpu int) unsafe.Pointer {
	return unsafe.Add(a.values, uintptr(i)*a.stride+uintptr(cpu)*a.cpuStride)
}

// LookupElem implements Map (array_map_lookup_elem,
// percpu_array_map_lookup_elem): no lock, no allocation, small enough to
// inline into the helper. The index is masked after the bounds check, as
// Linux masks it with index_mask, so that a mispredicted check does not
// read past the array (Spectre v1); the mask is array_index_nospec's (all
// ones in range, zero outside), which needs no storage rounded up to a
// power of two.
func (a *Array) LookupElem(cpu int, key []byte) unsafe.Pointer {
	i := uint64(binary.LittleEndian.Uint32(key))
	max := uint64(a.max)
	if i >= max || uint(cpu) >= a.ncpu {
		return nil
	}
	i &= uint64(int64(i-max) >> 63)
	return unsafe.Add(a.values, uintptr(i)*a.stride+uintptr(cpu)*a.cpuStride)
}

// InlineLookup implements vm.LookupInliner: verified programs compute a
// value's address in the interpreter, with the same bounds and mask as
// LookupElem (array_map_gen_lookup, percpu_array_map_gen_lookup).
func (a *Array) InlineLookup() (vm.InlineLookup, bool) {
	return vm.InlineLookup{
		Array: &vm.ArrayLayout{Values: a.values, ElemSize: uint64(a.stride), MaxEntries: a.max,
			CPUs: uint32(a.ncpu), CPUStride: uint64(a.cpuStride)},
		KeySize: 4, ValueSize: a.info.ValueSize, Writable: a.info.Flags&linux.BPF_F_RDONLY_PROG == 0,
	}, true
}

// LookupPerCPUElem implements PerCPUMap (percpu_array_map_lookup_percpu_elem);
// a plain array has no per-CPU slots and answers nil.
func (a *Array) LookupPerCPUElem(key []byte, cpu int) unsafe.Pointer {
	if !a.percpu {
		return nil
	}
	return a.LookupElem(cpu, key)
}

// updateCheck is array_map_update_elem's order of tests.
func (a *Array) updateCheck(key []byte, flags uint64) (uint32, error) {
	if flags&^linux.BPF_F_LOCK > linux.BPF_EXIST {
		return 0, linux.EINVAL
	}
	i := le32(key)
	if i >= a.max {
		return 0, linux.E2BIG // all elements exist: none can be added
	}
	if flags&linux.BPF_NOEXIST != 0 {
		return 0, linux.EEXIST
	}
	if flags&linux.BPF_F_LOCK != 0 {
		return 0, linux.EINVAL // no bpf_spin_lock in the value
	}
	return i, nil
}

// UpdateElem implements Map: it overwrites cpu's slot in place.
func (a *Array) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	i, err := a.updateCheck(key, flags)
	if err != nil {
		return err
	}
	if uint(cpu) >= a.ncpu {
		return linux.EINVAL
	}
	copyIn(a.slot(i, cpu), value[:a.info.ValueSize])
	return nil
}

// DeleteElem implements Map: array elements cannot be deleted (EINVAL).
func (a *Array) DeleteElem(int, []byte) error { return linux.EINVAL }

// Lookup implements Map: per-CPU arrays copy every CPU's slot, padding
// included (bpf_percpu_array_copy).
func (a *Array) Lookup(key, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	i := le32(key)
	if i >= a.max {
		return linux.ENOENT
	}
	if !a.percpu {
		copyOut(value[:a.info.ValueSize], a.slot(i, 0))
		return nil
	}
	for cpu := 0; cpu < a.info.CPUs; cpu++ {
		copyOut(value[uintptr(cpu)*a.stride:][:a.stride], a.slot(i, cpu))
	}
	return nil
}

// Update implements Map (bpf_percpu_array_update for per-CPU arrays).
func (a *Array) Update(key, value []byte, flags uint64) error {
	if err := a.sysWritable(); err != nil {
		return err
	}
	i, err := a.updateCheck(key, flags)
	if err != nil {
		return err
	}
	if !a.percpu {
		copyIn(a.slot(i, 0), value[:a.info.ValueSize])
		return nil
	}
	for cpu := 0; cpu < a.info.CPUs; cpu++ {
		copyIn(a.slot(i, cpu), value[uintptr(cpu)*a.stride:][:a.stride])
	}
	return nil
}

// Delete implements Map: EINVAL, after the frozen test as bpf(2) does it.
func (a *Array) Delete([]byte) error {
	if err := a.sysWritable(); err != nil {
		return err
	}
	return linux.EINVAL
}

// NextKey implements Map (array_map_get_next_key): a missing or
// out-of-range key gives index 0, the last index ENOENT.
func (a *Array) NextKey(key, next []byte) error {
	return arrayNextKey(a.max, key, next)
}

// arrayNextKey is array_map_get_next_key for every array kind.
func arrayNextKey(max uint32, key, next []byte) error {
	i := uint32(1<<32 - 1)
	if key != nil {
		i = le32(key)
	}
	if i >= max {
		putLE32(next, 0)
		return nil
	}
	if i == max-1 {
		return linux.ENOENT
	}
	putLE32(next, i+1)
	return nil
}

// ForEachElem implements ForEacher (bpf_for_each_array_elem).
func (a *Array) ForEachElem(cpu int, v Visitor) uint64 {
	if uint(cpu) >= a.ncpu {
		return 0
	}
	key := a.forEach.enter(cpu)
	defer a.forEach.leave(cpu)
	var n uint64
	for i := uint32(0); i < a.max; i++ {
		atomic.StoreUint32(key, i)
		n++
		if v.Visit(unsafe.Pointer(key), a.slot(i, cpu)) {
			break
		}
	}
	return n
}

// Mmap implements Mmapper (array_map_mmap): BPF_F_MMAPABLE arrays only,
// within the page-rounded value area.
func (a *Array) Mmap(pgoff, length uint64, writable bool) ([]byte, error) {
	if a.info.Flags&linux.BPF_F_MMAPABLE == 0 {
		return nil, linux.EINVAL
	}
	if length == 0 || length%PageSize != 0 || pgoff > uint64(len(a.mem))/PageSize ||
		pgoff*PageSize+length > uint64(len(a.mem)) {
		return nil, linux.EINVAL
	}
	if err := a.mmapOpened(writable); err != nil {
		return nil, err
	}
	return a.mem[pgoff*PageSize:][:length], nil
}

// DirectValue implements DirectValuer (array_map_direct_value_addr): the
// value of a single-element plain array, for `lddw map_value`; ENOTSUPP
// otherwise.
func (a *Array) DirectValue() (unsafe.Pointer, uint32, error) {
	if a.percpu || a.max != 1 {
		return nil, 0, linux.ENOTSUPP
	}
	return a.values, a.info.ValueSize, nil
}

// LookupBatch implements Batcher (generic_map_lookup_batch).
func (a *Array) LookupBatch(inBatch, keys, values []byte, count uint32, del bool, elemFlags uint64) (uint32, []byte, error) {
	if del {
		return 0, nil, linux.ENOTSUPP // arrays have no lookup_and_delete_batch
	}
	return genericLookupBatch(a, inBatch, keys, values, count, elemFlags)
}

// UpdateBatch implements Batcher (generic_map_update_batch).
func (a *Array) UpdateBatch(keys, values []byte, count uint32, elemFlags uint64) (uint32, error) {
	return genericUpdateBatch(a, keys, values, count, elemFlags)
}

// DeleteBatch implements Batcher: arrays have no delete_batch (ENOTSUPP).
func (a *Array) DeleteBatch([]byte, uint32, uint64) (uint32, error) {
	return 0, linux.ENOTSUPP
}

// forEachKeys is the per-CPU memory an array's for_each hands its callback
// as the key: Linux passes the address of a u32 on its own stack, which a
// Go kernel cannot (goroutine stacks move). One word per CPU and nesting
// level (a callback may iterate the same map again, up to the call-frame
// limit).
type forEachKeys struct {
	keys  []uint32 // [cpu*forEachDepth + level]
	depth []int32  // nesting level per CPU
}

// forEachDepth bounds nested iterations of one map on one CPU: each needs
// a call frame (MAX_CALL_FRAMES is 8).
const forEachDepth = 8

func (f *forEachKeys) init(ncpu int) {
	f.keys = make([]uint32, ncpu*forEachDepth)
	f.depth = make([]int32, ncpu)
}

// enter returns cpu's key word for a new iteration; leave ends it.
func (f *forEachKeys) enter(cpu int) *uint32 {
	level := atomic.AddInt32(&f.depth[cpu], 1) - 1
	if level >= forEachDepth {
		level = forEachDepth - 1
	}
	return &f.keys[cpu*forEachDepth+int(level)]
}

func (f *forEachKeys) leave(cpu int) { atomic.AddInt32(&f.depth[cpu], -1) }
