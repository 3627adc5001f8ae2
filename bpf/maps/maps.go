// Package maps owns the eBPF map kinds, with Linux's semantics and numbers:
// ARRAY, PERCPU_ARRAY, HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH, QUEUE,
// STACK, RINGBUF, PERF_EVENT_ARRAY, PROG_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS,
// LPM_TRIE, BLOOM_FILTER and STACK_TRACE, one file per kind as Linux has
// arraymap.c, hashtab.c, ringbuf.c, ...
//
// # Two faces
//
// Every operation Linux offers both to programs and to bpf(2) has two
// methods here. The program side (LookupElem, UpdateElem, DeleteElem, the
// push/pop/peek of Queuer, ...) is what helpers call: it takes the running
// CPU, returns the address of the value inside the map (no copy, no
// allocation, no lock for array and per-CPU lookups) and reports errors as
// linux.Errno values the helper turns into -errno. The syscall side (Lookup,
// Update, Delete, NextKey, ...) copies bytes in and out; per-CPU maps
// exchange the values of all possible CPUs at once, each rounded up to 8
// bytes, as libbpf and cilium/ebpf expect (Info.SyscallValueSize).
//
// Arrays and hash tables also give the interpreter an inline form of their
// lookup (vm.LookupInliner, Linux's map_gen_lookup): an array's layout, a
// hash table's lookup specialised for its key size, which verified
// programs run in place of the helper.
//
// # Memory model
//
// Values are bytes in storage the map owns for its whole life (preallocated
// slabs, like Linux's default prealloc; slabs grown by chunks for
// BPF_F_NO_PREALLOC and the LPM trie). A program holds a value's address as
// a plain integer the garbage collector cannot see, so value storage is
// never given back while the map lives: deleted elements go to a free list
// and, as in Linux, may be reused at once. Index structures (hash chains,
// trie nodes) are read without locks; writers serialise on per-bucket or
// per-map spinlocks. Syscall-side copies go word by word with atomic loads
// and stores, so they race with programs exactly as Linux's memcpy does
// (values can tear between words) but never corrupt the map.
//
// # Concurrency contract with the kernel
//
// Programs run with the CPU they run on fixed (Linux's migrate_disable),
// and pass that CPU to the program side. A program that re-enters a map
// whose spinlock its own CPU holds gets EBUSY, like Linux's per-CPU
// map_locked counters. As Linux's bpf_disable_instrumentation does, the
// kernel must not run programs on a CPU while that CPU is inside a
// syscall-side map operation: the syscall side does not know its CPU.
package maps

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// PageSize is the page size of both supported architectures (x86_64 and
// riscv64); mmap offsets and ring buffer sizes are counted in it.
const PageSize = 4096

// Map is what every map kind offers: the common operations of Linux's
// struct bpf_map_ops, with the two faces described in the package
// documentation. Kinds that cannot do an operation return Linux's errno
// for it (EINVAL, ENOTSUPP, EOPNOTSUPP), never panic.
type Map interface {
	// Info describes the map as created (max_entries may have been
	// adjusted, as Linux does for BPF_F_NO_COMMON_LRU).
	Info() Info

	// LookupElem is map_lookup_elem from a program running on cpu: the
	// address of key's value (cpu's slot for per-CPU maps), or nil.
	LookupElem(cpu int, key []byte) unsafe.Pointer
	// UpdateElem is map_update_elem from a program: value holds
	// value_size bytes; per-CPU maps write cpu's slot.
	UpdateElem(cpu int, key, value []byte, flags uint64) error
	// DeleteElem is map_delete_elem from a program.
	DeleteElem(cpu int, key []byte) error

	// Lookup is BPF_MAP_LOOKUP_ELEM: it copies key's value into value,
	// which holds Info().SyscallValueSize() bytes.
	Lookup(key, value []byte, flags uint64) error
	// Update is BPF_MAP_UPDATE_ELEM, value as for Lookup.
	Update(key, value []byte, flags uint64) error
	// Delete is BPF_MAP_DELETE_ELEM.
	Delete(key []byte) error
	// NextKey is BPF_MAP_GET_NEXT_KEY: the key after key in the map's
	// order, or the first key when key is nil or absent; ENOENT after the
	// last.
	NextKey(key, next []byte) error
}

// PerCPUMap is a map with one value slot per possible CPU.
type PerCPUMap interface {
	Map
	// LookupPerCPUElem is bpf_map_lookup_percpu_elem: key's value in the
	// slot of cpu, or nil (also for cpu >= the number of possible CPUs).
	LookupPerCPUElem(key []byte, cpu int) unsafe.Pointer
}

// Queuer is a map of values without keys: QUEUE, STACK and (push and peek
// only) BLOOM_FILTER. Program and syscall side share these methods; cpu is
// the caller's CPU, or -1 from a system call.
type Queuer interface {
	Map
	// PushElem is map_push_elem: BPF_EXIST makes room when full.
	PushElem(cpu int, value []byte, flags uint64) error
	// PopElem is map_pop_elem: it copies the next value out and removes it.
	PopElem(cpu int, value []byte) error
	// PeekElem is map_peek_elem: it copies the next value out.
	PeekElem(cpu int, value []byte) error
}

// LookupAndDeleter is BPF_MAP_LOOKUP_AND_DELETE_ELEM.
type LookupAndDeleter interface {
	LookupAndDelete(key, value []byte, flags uint64) error
}

// Visitor is called by ForEachElem with the addresses of an element's key
// and value (cpu's slot for per-CPU maps); it returns true to stop.
type Visitor interface {
	Visit(key, value unsafe.Pointer) (stop bool)
}

// ForEacher is bpf_for_each_map_elem (map_for_each_callback).
type ForEacher interface {
	// ForEachElem visits the elements as cpu sees them, stopping when the
	// visitor asks, and returns how many it visited (the stopping one
	// included), as Linux counts.
	ForEachElem(cpu int, v Visitor) uint64
}

// Batcher is BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH.
type Batcher interface {
	// LookupBatch copies up to count elements after the position inBatch
	// (nil: from the start) into keys and values, and returns how many it
	// copied and the position to continue from (opaque, key_size bytes
	// for arrays, 4 for hashes). ENOENT tells the last batch, which may
	// hold elements. With del set the elements are deleted too.
	LookupBatch(inBatch []byte, keys, values []byte, count uint32, del bool, elemFlags uint64) (n uint32, outBatch []byte, err error)
	// UpdateBatch updates count elements and returns how many succeeded.
	UpdateBatch(keys, values []byte, count uint32, elemFlags uint64) (uint32, error)
	// DeleteBatch deletes count elements and returns how many succeeded.
	DeleteBatch(keys []byte, count uint32, elemFlags uint64) (uint32, error)
}

// Freezer is BPF_MAP_FREEZE: after it, the syscall side may only read.
type Freezer interface {
	Freeze() error
	Frozen() bool
}

// Mmapper is a map user space can mmap (map_mmap): BF_F_MMAPABLE arrays
// and ring buffers.
type Mmapper interface {
	// Mmap returns the memory of a mapping of length bytes at page offset
	// pgoff (page aligned, whole pages), for the kernel to map into a
	// process. It counts writable mappings until MmapClosed.
	Mmap(pgoff, length uint64, writable bool) ([]byte, error)
	// MmapClosed tells that a mapping made by Mmap is gone.
	MmapClosed(writable bool)
}

// DirectValuer is a map whose value a program may address directly (`lddw
// rX, map_value FD, OFF`, map_direct_value_addr): single-element arrays.
type DirectValuer interface {
	DirectValue() (unsafe.Pointer, uint32, error)
}

// ObjectMap is a map whose values are kernel objects that user space names
// by file descriptor (Linux's fd maps: map_fd_get_ptr, map_fd_put_ptr,
// map_fd_sys_lookup_elem). The bpf() layer resolves the fd and calls
// UpdateObject; it turns the object LookupObject returns into the id user
// space reads. Their Update on raw bytes answers EINVAL, and so does
// Lookup, except for PERF_EVENT_ARRAY whose entries Linux never reports
// (ENOTSUPP).
type ObjectMap interface {
	Map
	// UpdateObject stores obj at key (flags must be BPF_ANY).
	UpdateObject(key []byte, obj any, flags uint64) error
	// LookupObject is the object stored at key, or ENOENT.
	LookupObject(key []byte) (any, error)
}

// Spec is the part of BPF_MAP_CREATE's attributes a map kind uses.
type Spec struct {
	Type       linux.BPFMapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// NumaNode is read when Flags has BPF_F_NUMA_NODE.
	NumaNode uint32
	// Extra is map_extra (the bloom filter's number of hash functions).
	Extra uint64
	// Inner is the map inner_map_fd names, for ARRAY_OF_MAPS and
	// HASH_OF_MAPS: the template inner maps must match. The bpf() layer
	// passes nil when the fd does not name a map (creation fails EBADF).
	Inner Map
}

// Info is a created map's description (struct bpf_map_info's basics).
type Info struct {
	Type       linux.BPFMapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	Extra      uint64
	// CPUs is the number of possible CPUs per-CPU values are kept for.
	CPUs int
}

// PerCPU reports whether the map keeps a value per possible CPU.
func (i Info) PerCPU() bool {
	switch i.Type {
	case linux.BPF_MAP_TYPE_PERCPU_ARRAY, linux.BPF_MAP_TYPE_PERCPU_HASH, linux.BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true
	}
	return false
}

// SyscallValueSize is the size of the value buffer of the syscall side
// (bpf_map_value_size): round_up(value_size, 8) per possible CPU for
// per-CPU maps, value_size otherwise (4, the fd or id, for fd maps).
func (i Info) SyscallValueSize() int {
	if i.PerCPU() {
		return int(roundUp8(i.ValueSize)) * i.CPUs
	}
	return int(i.ValueSize)
}

// Host is what maps need from the kernel they live in.
type Host interface {
	// PossibleCPUs is num_possible_cpus(): per-CPU maps keep a slot for
	// each CPU id 0..PossibleCPUs()-1, and user space sizes per-CPU value
	// buffers from /sys/devices/system/cpu/possible.
	PossibleCPUs() int
	// ChargeMemory is asked before a map allocates n bytes (at creation,
	// or when a growing map adds a chunk); an error refuses the
	// allocation, like Linux's memcg charge or a failing vmalloc (ENOMEM).
	ChargeMemory(n uint64) error
	// InTrap reports whether cpu is running a program in trap context (a
	// breakpoint, the sampling timer's interrupt), where nothing may
	// allocate, block or store a pointer into the heap. There the maps
	// that would (a BPF_F_NO_PREALLOC hash growing, an LPM trie
	// changing) refuse, as Linux's bpf_mem_alloc fails in NMI context
	// when its per-CPU cache is empty.
	InTrap(cpu int) bool
	// SyscallCPU is the CPU the calling goroutine runs on, for the locks
	// a system call takes (see spinLock); -1 when unknown, as where
	// goroutines simulate CPUs.
	SyscallCPU() int
}

// FixedHost is a Host with a fixed number of CPUs and a bound on each
// allocation: for tests, and for kernels with no memory accounting.
type FixedHost struct {
	CPUs int
	// MemoryLimit bounds one allocation; 0 means DefaultMemoryLimit.
	MemoryLimit uint64
}

// DefaultMemoryLimit is FixedHost's bound on one allocation.
const DefaultMemoryLimit = 1 << 30

// PossibleCPUs implements Host.
func (h FixedHost) PossibleCPUs() int { return h.CPUs }

// InTrap implements Host: never (programs run from goroutines).
func (h FixedHost) InTrap(int) bool { return false }

// SyscallCPU implements Host: unknown (goroutines simulate the CPUs).
func (h FixedHost) SyscallCPU() int { return -1 }

// ChargeMemory implements Host: ENOMEM past the limit.
func (h FixedHost) ChargeMemory(n uint64) error {
	limit := h.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	if n > limit {
		return linux.ENOMEM
	}
	return nil
}

// Limits of Linux that creation checks use.
const (
	// kmallocMaxSize is KMALLOC_MAX_SIZE on x86_64 and riscv64 (4 MiB):
	// keys and values past it could not be copied by bpf(2).
	kmallocMaxSize = 4 << 20
	// pcpuMinUnitSize is PCPU_MIN_UNIT_SIZE, the largest per-CPU value.
	pcpuMinUnitSize = 32 << 10
	// perfEventMaxStack is sysctl_perf_event_max_stack's default.
	perfEventMaxStack = 127
	// numaNoNode is NUMA_NO_NODE; Hachi has the one NUMA node 0.
	numaNoNode = -1
)

// Flag sets of Linux's per-kind *_CREATE_FLAG_MASK.
const (
	accessMask = linux.BPF_F_RDONLY | linux.BPF_F_RDONLY_PROG | linux.BPF_F_WRONLY | linux.BPF_F_WRONLY_PROG
)

// New creates a map, with map_create's checks and then the kind's own
// (map_alloc_check, map_alloc), each refusal with Linux's errno. Kinds
// Hachi does not have (sockmaps, devmaps, cgroup and local storage,
// struct_ops, user ring buffers) answer EINVAL, as a Linux built without
// them does.
func New(spec Spec, host Host) (Map, error) {
	if spec.Extra != 0 && spec.Type != linux.BPF_MAP_TYPE_BLOOM_FILTER {
		return nil, linux.EINVAL
	}
	if spec.Flags&linux.BPF_F_RDONLY != 0 && spec.Flags&linux.BPF_F_WRONLY != 0 {
		return nil, linux.EINVAL // bpf_get_file_flag
	}
	if node := numaNode(spec); node != numaNoNode && node != 0 {
		return nil, linux.EINVAL
	}
	ncpu := host.PossibleCPUs()
	if ncpu <= 0 {
		return nil, linux.EINVAL
	}
	switch spec.Type {
	case linux.BPF_MAP_TYPE_ARRAY, linux.BPF_MAP_TYPE_PERCPU_ARRAY:
		return newArray(spec, host)
	case linux.BPF_MAP_TYPE_PROG_ARRAY:
		return newProgArray(spec, host)
	case linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		return newPerfEventArray(spec, host)
	case linux.BPF_MAP_TYPE_ARRAY_OF_MAPS:
		return newArrayOfMaps(spec, host)
	case linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_PERCPU_HASH,
		linux.BPF_MAP_TYPE_LRU_HASH, linux.BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return newHash(spec, host)
	case linux.BPF_MAP_TYPE_HASH_OF_MAPS:
		return newHashOfMaps(spec, host)
	case linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK:
		return newQueueStack(spec, host)
	case linux.BPF_MAP_TYPE_RINGBUF:
		return newRingBuf(spec, host)
	case linux.BPF_MAP_TYPE_LPM_TRIE:
		return newLPMTrie(spec, host)
	case linux.BPF_MAP_TYPE_BLOOM_FILTER:
		return newBloomFilter(spec, host)
	case linux.BPF_MAP_TYPE_STACK_TRACE:
		return newStackTrace(spec, host)
	}
	return nil, linux.EINVAL
}

// numaNode is bpf_map_attr_numa_node.
func numaNode(spec Spec) int {
	if spec.Flags&linux.BPF_F_NUMA_NODE != 0 {
		return int(int32(spec.NumaNode))
	}
	return numaNoNode
}

// flagsAccessOK is bpf_map_flags_access_ok: a map cannot be both read-only
// and write-only for programs.
func flagsAccessOK(flags uint32) bool {
	both := uint32(linux.BPF_F_RDONLY_PROG | linux.BPF_F_WRONLY_PROG)
	return flags&both != both
}

// base is what every kind shares: its description, the frozen state and
// the count of writable mappings (bpf_map's frozen, writecnt).
type base struct {
	info     Info
	frozen   atomic.Bool
	writecnt atomic.Int64
	freezeMu sync.Mutex
}

func newBase(spec Spec, ncpu int) base {
	return base{info: Info{
		Type: spec.Type, KeySize: spec.KeySize, ValueSize: spec.ValueSize,
		MaxEntries: spec.MaxEntries, Flags: spec.Flags, Extra: spec.Extra, CPUs: ncpu,
	}}
}

// Info implements Map.
func (b *base) Info() Info { return b.info }

// KeySize is key_size, cheaper than Info for helpers' fast paths.
func (b *base) KeySize() uint32 { return b.info.KeySize }

// ValueSize is value_size.
func (b *base) ValueSize() uint32 { return b.info.ValueSize }

// Flags is map_flags.
func (b *base) Flags() uint32 { return b.info.Flags }

// Freeze implements Freezer like kernel/bpf/syscall.c:map_freeze: EPERM
// if already frozen (the map has lost FMODE_CAN_WRITE), EBUSY while it is
// mapped writable.
func (b *base) Freeze() error {
	b.freezeMu.Lock()
	defer b.freezeMu.Unlock()
	if b.frozen.Load() {
		return linux.EPERM
	}
	if b.writecnt.Load() > 0 {
		return linux.EBUSY
	}
	b.frozen.Store(true)
	return nil
}

// Frozen implements Freezer.
func (b *base) Frozen() bool { return b.frozen.Load() }

// sysWritable is the syscall side's test before it changes the map: a
// frozen map has lost FMODE_CAN_WRITE (map_get_sys_perms), hence EPERM.
func (b *base) sysWritable() error {
	if b.frozen.Load() {
		return linux.EPERM
	}
	return nil
}

// mmapOpened counts a writable mapping, refusing it once frozen
// (bpf_map_mmap).
func (b *base) mmapOpened(writable bool) error {
	if !writable {
		return nil
	}
	b.freezeMu.Lock()
	defer b.freezeMu.Unlock()
	if b.frozen.Load() {
		return linux.EPERM
	}
	b.writecnt.Add(1)
	return nil
}

// MmapClosed implements Mmapper for the kinds that embed base.
func (b *base) MmapClosed(writable bool) {
	if writable {
		b.writecnt.Add(-1)
	}
}

// lookupFlags checks the flags of a syscall-side lookup: only BPF_F_LOCK
// is known, and it needs a bpf_spin_lock in the value, which maps created
// without BTF never have (Linux answers EINVAL then too).
func lookupFlags(flags uint64) error {
	if flags != 0 {
		return linux.EINVAL
	}
	return nil
}

// le32 is the u32 at the start of a key.
func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// putLE32 stores v at the start of b.
func putLE32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// roundUp8 is round_up(n, 8).
func roundUp8(n uint32) uint32 { return (n + 7) &^ 7 }

// roundUpPow2 is roundup_pow_of_two for n >= 1, in 64 bits.
func roundUpPow2(n uint64) uint64 {
	p := uint64(1)
	for p < n {
		p <<= 1
	}
	return p
}
