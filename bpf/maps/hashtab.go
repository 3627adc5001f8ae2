package maps

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Hash is BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH
// (kernel/bpf/hashtab.c), and the table under HASH_OF_MAPS.
//
// Layout. n_buckets = roundup_pow_of_two(max_entries) buckets, each a
// chain head and a spinlock. Elements live in chunks the map owns: all
// allocated at creation (the default, like Linux's prealloc), or added 256
// at a time as the table fills (BPF_F_NO_PREALLOC). What a lookup reads of
// an element (chain link, hash, LRU reference bit: htabNode), its key and
// its value are one record, so that a lookup of a small key touches the
// bucket and one cache line, as with Linux's struct htab_elem; per-CPU
// values are kept apart, CPU-major inside a chunk; free list and LRU
// links, which lookups never read, are in a third array. Chains link
// element ids (index + 1) and end with a "nulls" marker naming their
// bucket, like Linux's hlist_nulls.
//
// Concurrency. Lookups take no lock: they follow the chain with atomic
// loads and compare hash and key word by word. Writers hold the bucket
// lock. A deleted element returns to a free list at once and may be
// reused at once, as in Linux's preallocated tables: a lookup racing with
// that reuse can walk into another bucket's chain, sees a nulls marker
// that is not its own bucket's, and restarts. Replacing the value of an
// existing key links a new element before unlinking the old, so a
// concurrent lookup sees the old or the new value, never a mix; per-CPU
// tables update the slot in place, as Linux does.
type Hash struct {
	base
	seed     uint32
	mask     uint32 // n_buckets - 1
	buckets  []bucket
	keySize  uint32
	keyWords uint32
	valWords uint32 // round_up(value_size, 8) / 8
	recWords uint32 // words of a record: node, key, value (not per-CPU)
	ncpu     int
	percpu   bool
	objects  bool // HASH_OF_MAPS: values are inner map handles

	chunkShift uint32
	chunkLen   uint32
	chunks     []atomic.Pointer[htabChunk]
	total      uint32 // elements in all chunks, when grown fully
	growMu     sync.Mutex
	host       Host

	free  freeList
	lru   *lru
	count atomic.Int64 // elements in the table (non-LRU)
	max   int64

	// single is the only chunk of a preallocated table, which chunkOf
	// finds without the chunk table; nil for BPF_F_NO_PREALLOC tables.
	single *htabChunk
	// hashStart is hashKey's state before the key: the seed and the key
	// size, mixed once for the table.
	hashStart uint64
}

var (
	_ Map              = (*Hash)(nil)
	_ PerCPUMap        = (*Hash)(nil)
	_ LookupAndDeleter = (*Hash)(nil)
	_ ForEacher        = (*Hash)(nil)
	_ Batcher          = (*Hash)(nil)
	_ Freezer          = (*Hash)(nil)

	_ vm.LookupInliner = (*Hash)(nil)
)

type bucket struct {
	head atomic.Uint32 // element id, or nullsBit|bucket index
	lock spinLock
}

// nullsBit marks a chain's end; the low bits name the bucket.
const nullsBit = 1 << 31

// htabNode is the start of an element's record: what lookups read.
type htabNode struct {
	next atomic.Uint32 // chain link
	hash atomic.Uint32
	ref  atomic.Uint32 // LRU reference bit
	gen  atomic.Uint32 // bumped when the element is reused
}

// nodeWords is the size of an htabNode in words: a record's key follows.
const nodeWords = uint32(unsafe.Sizeof(htabNode{}) / 8)

// htabElem is the rest of an element's index data, which lookups never
// read: free list and LRU links.
type htabElem struct {
	freeNext atomic.Uint32 // free list link
	lruPrev  uint32        // LRU links and state, under the LRU lock
	lruNext  uint32
	lruOwner uint32
	pendNext uint32
	lruWhere uint8
}

type htabChunk struct {
	elems  []htabElem
	recs   []uint64 // records of recWords words: node, key, value
	values []uint64 // per-CPU tables: the values, CPU-major
	inner  []atomic.Pointer[vm.MapHandle]
}

// htabCreateFlags is HTAB_CREATE_FLAG_MASK.
const htabCreateFlags = linux.BPF_F_NO_PREALLOC | linux.BPF_F_NO_COMMON_LRU | linux.BPF_F_NUMA_NODE |
	accessMask | linux.BPF_F_ZERO_SEED

// htabAllocCheck is htab_map_alloc_check.
func htabAllocCheck(spec Spec) error {
	percpu := spec.Type == linux.BPF_MAP_TYPE_PERCPU_HASH || spec.Type == linux.BPF_MAP_TYPE_LRU_PERCPU_HASH
	lruKind := spec.Type == linux.BPF_MAP_TYPE_LRU_HASH || spec.Type == linux.BPF_MAP_TYPE_LRU_PERCPU_HASH
	percpuLRU := spec.Flags&linux.BPF_F_NO_COMMON_LRU != 0
	prealloc := spec.Flags&linux.BPF_F_NO_PREALLOC == 0
	if spec.Flags&^htabCreateFlags != 0 || !flagsAccessOK(spec.Flags) {
		return linux.EINVAL
	}
	if !lruKind && percpuLRU {
		return linux.EINVAL
	}
	if lruKind && !prealloc {
		return linux.ENOTSUPP
	}
	if numaNode(spec) != numaNoNode && (percpu || percpuLRU) {
		return linux.EINVAL
	}
	if spec.MaxEntries == 0 || spec.KeySize == 0 || spec.ValueSize == 0 {
		return linux.EINVAL
	}
	if uint64(spec.KeySize)+uint64(spec.ValueSize) >= kmallocMaxSize-htabElemSize {
		return linux.E2BIG
	}
	if percpu && roundUp8(spec.ValueSize) > pcpuMinUnitSize {
		return linux.E2BIG
	}
	return nil
}

// htabElemSize is sizeof(struct htab_elem) on 64-bit Linux, which enters
// the key+value size limit.
const htabElemSize = 48

// hashChunkLen is how many elements a chunk of a BPF_F_NO_PREALLOC table
// holds.
const hashChunkLen = 256

func newHash(spec Spec, host Host) (*Hash, error) {
	if err := htabAllocCheck(spec); err != nil {
		return nil, err
	}
	return allocHash(spec, host, false)
}

// allocHash is htab_map_alloc.
func allocHash(spec Spec, host Host, objects bool) (*Hash, error) {
	ncpu := host.PossibleCPUs()
	lruKind := spec.Type == linux.BPF_MAP_TYPE_LRU_HASH || spec.Type == linux.BPF_MAP_TYPE_LRU_PERCPU_HASH
	percpuLRU := spec.Flags&linux.BPF_F_NO_COMMON_LRU != 0
	h := &Hash{
		base:     newBase(spec, ncpu),
		keySize:  spec.KeySize,
		keyWords: (spec.KeySize + 7) / 8,
		valWords: roundUp8(spec.ValueSize) / 8,
		ncpu:     ncpu,
		percpu:   spec.Type == linux.BPF_MAP_TYPE_PERCPU_HASH || spec.Type == linux.BPF_MAP_TYPE_LRU_PERCPU_HASH,
		objects:  objects,
		host:     host,
	}
	h.recWords = nodeWords + h.keyWords
	if !h.percpu {
		h.recWords += h.valWords
	}
	if percpuLRU {
		// Each CPU's LRU gets the same number (at least one) of elements.
		n := uint64(ncpu)
		rounded := (uint64(spec.MaxEntries) + n - 1) / n * n
		if rounded > 1<<32-1 {
			rounded = uint64(spec.MaxEntries) / n * n
		}
		h.info.MaxEntries = uint32(rounded)
	}
	nb := roundUpPow2(uint64(h.info.MaxEntries))
	if nb > 1<<32-1 || nb > (1<<32-1)/16 {
		return nil, linux.E2BIG // n_buckets overflows, or > U32_MAX / sizeof(struct bucket)
	}
	h.mask = uint32(nb - 1)
	h.max = int64(h.info.MaxEntries)
	h.total = h.info.MaxEntries
	if !h.percpu && !lruKind {
		// Linux's extra_elems: an update replacing a key holds one more
		// element for a moment; one per CPU, and one for the syscall side.
		h.total += uint32(ncpu) + 1
	}
	if spec.Flags&linux.BPF_F_ZERO_SEED == 0 {
		h.seed = rand.Uint32()
	}
	h.hashStart = hashStart(spec.KeySize, h.seed)
	prealloc := spec.Flags&linux.BPF_F_NO_PREALLOC == 0
	h.chunkLen = hashChunkLen
	if prealloc {
		h.chunkLen = uint32(roundUpPow2(uint64(h.total)))
	}
	for 1<<h.chunkShift < h.chunkLen {
		h.chunkShift++
	}
	nchunks := (uint64(h.total) + uint64(h.chunkLen) - 1) / uint64(h.chunkLen)
	if err := host.ChargeMemory(nb*16 + nchunks*8); err != nil {
		return nil, err
	}
	h.buckets = make([]bucket, nb)
	for i := range h.buckets {
		h.buckets[i].head.Store(nullsBit | uint32(i))
	}
	h.chunks = make([]atomic.Pointer[htabChunk], nchunks)
	h.free = newFreeList(ncpu)
	if prealloc {
		c, err := h.newChunk(h.total)
		if err != nil {
			return nil, err
		}
		h.chunks[0].Store(c)
		h.single = c
		if lruKind {
			h.lru = newLRU(h, ncpu, percpuLRU, h.total)
		} else {
			h.pushChunk(0, h.total)
		}
	} else if !h.grow() {
		// The first chunk, like bpf_mem_alloc's prefill: programs in
		// trap context take elements but cannot add chunks.
		return nil, linux.ENOMEM
	}
	return h, nil
}

// newChunk allocates the storage of n elements.
func (h *Hash) newChunk(n uint32) (*htabChunk, error) {
	pcpu := uint64(0) // words of per-CPU values per element
	if h.percpu {
		pcpu = uint64(h.valWords) * uint64(h.ncpu)
	}
	size := uint64(n) * (uint64(unsafe.Sizeof(htabElem{})) + 8*uint64(h.recWords) + 8*pcpu)
	if h.objects {
		size += uint64(n) * 8
	}
	if err := h.host.ChargeMemory(size); err != nil {
		return nil, err
	}
	c := &htabChunk{
		elems: make([]htabElem, n),
		recs:  make([]uint64, uint64(n)*uint64(h.recWords)),
	}
	if h.percpu {
		c.values = make([]uint64, uint64(n)*pcpu)
	}
	if h.objects {
		c.inner = make([]atomic.Pointer[vm.MapHandle], n)
	}
	return c, nil
}

// pushChunk puts the elements of chunk k (the first n) on the free list,
// spread over the CPUs' stacks, lowest ids on top.
func (h *Hash) pushChunk(k int, n uint32) {
	first := uint32(k)<<h.chunkShift + 1
	for id := first + n - 1; id >= first; id-- {
		h.free.push(h, int(id-first)%h.ncpu, id)
	}
}

// grow adds a chunk to a BPF_F_NO_PREALLOC table: false when the table
// has all its chunks or the memory is refused.
func (h *Hash) grow() bool {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	for k := range h.chunks {
		if h.chunks[k].Load() != nil {
			continue
		}
		n := h.chunkLen
		if rest := h.total - uint32(k)*h.chunkLen; rest < n {
			n = rest
		}
		c, err := h.newChunk(n)
		if err != nil {
			return false
		}
		h.chunks[k].Store(c)
		h.pushChunk(k, n)
		return true
	}
	return false
}

// chunkOf is the chunk and slot of element id.
func (h *Hash) chunkOf(id uint32) (*htabChunk, uint32) {
	i := id - 1
	if c := h.single; c != nil {
		return c, i
	}
	return h.chunks[i>>h.chunkShift].Load(), i & (h.chunkLen - 1)
}

func (h *Hash) freeLink(id uint32) *atomic.Uint32 { return &h.elem(id).freeNext }

// elem is element id's free list and LRU data.
func (h *Hash) elem(id uint32) *htabElem {
	c, i := h.chunkOf(id)
	return &c.elems[i]
}

// rec is the offset of slot i's record in its chunk's recs.
func (h *Hash) rec(i uint32) uintptr { return uintptr(i) * uintptr(h.recWords) }

// node is the node of slot i of c.
func (h *Hash) node(c *htabChunk, i uint32) *htabNode {
	return (*htabNode)(unsafe.Pointer(&c.recs[h.rec(i)]))
}

// nodeOf is element id's node.
func (h *Hash) nodeOf(id uint32) *htabNode {
	c, i := h.chunkOf(id)
	return h.node(c, i)
}

// keyWordsOf is the key of slot i of c.
func (h *Hash) keyWordsOf(c *htabChunk, i uint32) []uint64 {
	off := h.rec(i) + uintptr(nodeWords)
	return c.recs[off : off+uintptr(h.keyWords)]
}

// keyOf is the first word of the key of slot i of c.
func (h *Hash) keyOf(c *htabChunk, i uint32) unsafe.Pointer {
	return unsafe.Pointer(&c.recs[h.rec(i)+uintptr(nodeWords)])
}

// recAt is the address of slot i's record in c, for the lookups' fast
// paths: slots come from ids the table itself links, so no bounds check.
func (h *Hash) recAt(c *htabChunk, i uint32) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(c.recs)), uintptr(i)*uintptr(h.recWords)*8)
}

// valueAt is valueOf for slot i of c whose record is at rec.
func (h *Hash) valueAt(c *htabChunk, i uint32, rec unsafe.Pointer, cpu int) unsafe.Pointer {
	if h.percpu {
		return h.valueOf(c, i, cpu)
	}
	return unsafe.Add(rec, uintptr(nodeWords+h.keyWords)*8)
}

// valueOf is the value of slot i of c: cpu's slot for per-CPU tables, else
// the only one, after the key in the record.
func (h *Hash) valueOf(c *htabChunk, i uint32, cpu int) unsafe.Pointer {
	if h.percpu {
		off := (uintptr(cpu)*uintptr(h.chunkLenOf(c)) + uintptr(i)) * uintptr(h.valWords)
		return unsafe.Pointer(&c.values[off])
	}
	return unsafe.Pointer(&c.recs[h.rec(i)+uintptr(nodeWords+h.keyWords)])
}

func (h *Hash) chunkLenOf(c *htabChunk) uint32 { return uint32(len(c.elems)) }

// Constants of the key hash.
const (
	hashM1 = 0x9e3779b97f4a7c15
	hashM2 = 0xd6e8feb86659fd93
)

// hashKey is the table's hash of a key: seeded, one multiply per 8 bytes
// and two to finish. (Linux uses jhash; any well-mixing hash will do, the
// seed being random per table.)
func hashKey(key []byte, seed uint32) uint32 {
	h := hashStart(uint32(len(key)), seed)
	for len(key) > 8 {
		h = hashStep(h, binary.LittleEndian.Uint64(key))
		key = key[8:]
	}
	return hashFinish(h, loadWord(key))
}

// hashStart, hashStep and hashFinish are hashKey's parts: the state for a
// key of n bytes, one 8-byte word of the key but the last, and the last
// (zero-padded) word. The lookups' fast paths, which know the key size,
// call them directly.
func hashStart(n uint32, seed uint32) uint64 { return (uint64(seed) | uint64(n)<<32) * hashM1 }

func hashStep(h, w uint64) uint64 {
	h = (h ^ w) * hashM2
	return h ^ h>>29
}

func hashFinish(h, w uint64) uint32 {
	h = (h ^ w) * hashM2
	h = (h ^ h>>32) * hashM1
	return uint32(h >> 32)
}

// loadWord is the little-endian, zero-padded word of up to 8 bytes.
func loadWord(b []byte) uint64 {
	switch len(b) {
	case 8:
		return binary.LittleEndian.Uint64(b)
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return loadTail(b)
}

// keyEqual compares key with the stored key of element slot i of c.
func (h *Hash) keyEqual(c *htabChunk, i uint32, key []byte) bool {
	stored := h.keyWordsOf(c, i)
	k := 0
	for len(key) >= 8 {
		if atomic.LoadUint64(&stored[k]) != binary.LittleEndian.Uint64(key) {
			return false
		}
		key = key[8:]
		k++
	}
	if len(key) == 0 {
		return true
	}
	var tail uint64
	if len(key) == 4 {
		tail = uint64(binary.LittleEndian.Uint32(key))
	} else {
		tail = loadTail(key)
	}
	return atomic.LoadUint64(&stored[k]) == tail
}

// find is the lock-free lookup: the id of key's element, or 0.
func (h *Hash) find(key []byte, hash uint32) uint32 {
	b := hash & h.mask
	head := &h.buckets[b].head
again:
	ref := head.Load()
	for ref&nullsBit == 0 {
		c, i := h.chunkOf(ref)
		e := h.node(c, i)
		if e.hash.Load() == hash && h.keyEqual(c, i, key) {
			return ref
		}
		ref = e.next.Load()
	}
	if ref != nullsBit|b {
		goto again // walked into another bucket's chain through a reused element
	}
	return 0
}

// findLocked is find under the bucket lock: no element moves meanwhile.
func (h *Hash) findLocked(b *bucket, key []byte, hash uint32) uint32 {
	for ref := b.head.Load(); ref&nullsBit == 0; {
		c, i := h.chunkOf(ref)
		e := h.node(c, i)
		if e.hash.Load() == hash && h.keyEqual(c, i, key) {
			return ref
		}
		ref = e.next.Load()
	}
	return 0
}

// linkLocked puts id at the head of b's chain.
func (h *Hash) linkLocked(b *bucket, id uint32) {
	h.nodeOf(id).next.Store(b.head.Load())
	b.head.Store(id)
}

// unlinkLocked takes id out of b's chain; false if it is not there. The
// element keeps its link so lookups standing on it can go on.
func (h *Hash) unlinkLocked(b *bucket, id uint32) bool {
	next := h.nodeOf(id).next.Load()
	if b.head.Load() == id {
		b.head.Store(next)
		return true
	}
	for ref := b.head.Load(); ref&nullsBit == 0; {
		e := h.nodeOf(ref)
		n := e.next.Load()
		if n == id {
			e.next.Store(next)
			return true
		}
		ref = n
	}
	return false
}

// setKey writes key and hash into element id before it is linked. It
// first bumps the element's generation, so that a syscall-side lookup
// copying the element's old value sees the reuse (see Lookup).
func (h *Hash) setKey(id uint32, key []byte, hash uint32) {
	c, i := h.chunkOf(id)
	n := h.node(c, i)
	n.gen.Add(1)
	copyIn(h.keyOf(c, i), key)
	n.hash.Store(hash)
}

// setValue writes an element's value: from a program (cpu >= 0) into cpu's
// slot, zeroing the other CPUs' slots of a new per-CPU element
// (pcpu_init_value) and the padding of all its slots, so a reused element
// shows nothing of its past; from the syscall side every CPU's slot.
func (h *Hash) setValue(id uint32, cpu int, value []byte, fresh bool) {
	c, i := h.chunkOf(id)
	if !h.percpu {
		copyIn(h.valueOf(c, i, 0), value[:h.info.ValueSize])
		return
	}
	stride := int(h.valWords) * 8
	for k := 0; k < h.ncpu; k++ {
		switch {
		case cpu < 0:
			copyIn(h.valueOf(c, i, k), value[k*stride:][:stride])
		case k == cpu:
			if fresh {
				zeroSlot(h.valueOf(c, i, k), uintptr(stride))
			}
			copyIn(h.valueOf(c, i, k), value[:h.info.ValueSize])
		case fresh:
			zeroSlot(h.valueOf(c, i, k), uintptr(stride))
		}
	}
}

// takeElem gets an element for a new key, growing a BPF_F_NO_PREALLOC
// table if needed; 0 when the table has none left. A pop racing with
// pushes can find every stack empty for a moment, so it tries a few times
// before concluding.
func (h *Hash) takeElem(cpu int) uint32 {
	for tries := 0; tries < takeTries; {
		if id := h.free.pop(h, cpu); id != 0 {
			return id
		}
		if cpu >= 0 && h.host.InTrap(cpu) || !h.grow() {
			tries++
		}
	}
	return 0
}

// takeTries is how many times takeElem scans the free lists.
const takeTries = 4

// checkFlags is check_flags.
func checkFlags(exists bool, flags uint64) error {
	switch {
	case exists && flags&^linux.BPF_F_LOCK == linux.BPF_NOEXIST:
		return linux.EEXIST
	case !exists && flags&^linux.BPF_F_LOCK == linux.BPF_EXIST:
		return linux.ENOENT
	}
	return nil
}

// update is htab_map_update_elem and its per-CPU and LRU variants; cpu < 0
// is the syscall side, whose per-CPU values hold every CPU's slot.
func (h *Hash) update(cpu int, key, value []byte, flags uint64, inner *vm.MapHandle) error {
	if h.lru != nil {
		if flags > linux.BPF_EXIST {
			return linux.EINVAL
		}
		if h.percpu {
			return h.updateLRUPerCPU(cpu, key, value, flags)
		}
		return h.updateLRU(cpu, key, value, flags)
	}
	if flags&^linux.BPF_F_LOCK > linux.BPF_EXIST {
		return linux.EINVAL
	}
	if flags&linux.BPF_F_LOCK != 0 {
		return linux.EINVAL // no bpf_spin_lock in the value
	}
	key = key[:h.keySize]
	hash := hashKey(key, h.seed)
	b := &h.buckets[hash&h.mask]
	if err := b.lock.lock(h.host, cpu); err != nil {
		return err
	}
	old := h.findLocked(b, key, hash)
	if err := checkFlags(old != 0, flags); err != nil {
		b.lock.unlock()
		return err
	}
	if h.percpu && old != 0 {
		h.setValue(old, cpu, value, false)
		b.lock.unlock()
		return nil
	}
	if old == 0 && h.count.Add(1) > h.max {
		h.count.Add(-1)
		b.lock.unlock()
		return linux.E2BIG
	}
	id := h.takeElem(cpu)
	if id == 0 {
		if old == 0 {
			h.count.Add(-1)
			b.lock.unlock()
			if h.info.Flags&linux.BPF_F_NO_PREALLOC != 0 {
				return linux.ENOMEM
			}
			return linux.E2BIG
		}
		// More replacements in flight than spare elements: overwrite in
		// place rather than fail.
		h.setValue(old, cpu, value, false)
		h.setInner(old, inner)
		b.lock.unlock()
		return nil
	}
	h.setKey(id, key, hash)
	h.setValue(id, cpu, value, true)
	h.setInner(id, inner)
	h.linkLocked(b, id)
	if old != 0 {
		h.unlinkLocked(b, old)
	}
	b.lock.unlock()
	if old != 0 {
		h.free.push(h, cpu, old)
	}
	return nil
}

// setInner stores the inner map of a HASH_OF_MAPS element.
func (h *Hash) setInner(id uint32, inner *vm.MapHandle) {
	if h.objects {
		c, i := h.chunkOf(id)
		c.inner[i].Store(inner)
	}
}

// updateLRU is htab_lru_map_update_elem: the element is taken (evicting if
// needed) before the bucket lock, which an eviction may need.
func (h *Hash) updateLRU(cpu int, key, value []byte, flags uint64) error {
	key = key[:h.keySize]
	hash := hashKey(key, h.seed)
	id, err := h.lru.alloc(h, cpu)
	if err != nil {
		return err
	}
	if id == 0 {
		return linux.ENOMEM
	}
	h.setKey(id, key, hash)
	h.setValue(id, cpu, value, true)
	b := &h.buckets[hash&h.mask]
	if err := b.lock.lock(h.host, cpu); err != nil {
		h.lru.release(h, cpu, id)
		return err
	}
	old := h.findLocked(b, key, hash)
	if err := checkFlags(old != 0, flags); err != nil {
		b.lock.unlock()
		h.lru.release(h, cpu, id)
		return err
	}
	h.linkLocked(b, id)
	if old != 0 {
		h.nodeOf(id).ref.Store(1) // the key was in use
		h.unlinkLocked(b, old)
	}
	b.lock.unlock()
	if old != 0 {
		h.lru.release(h, cpu, old)
	}
	return nil
}

// updateLRUPerCPU is __htab_lru_percpu_map_update_elem: an existing
// element is updated in place.
func (h *Hash) updateLRUPerCPU(cpu int, key, value []byte, flags uint64) error {
	key = key[:h.keySize]
	hash := hashKey(key, h.seed)
	var id uint32
	if flags != linux.BPF_EXIST {
		var err error
		if id, err = h.lru.alloc(h, cpu); err != nil {
			return err
		}
		if id == 0 {
			return linux.ENOMEM
		}
	}
	b := &h.buckets[hash&h.mask]
	err := b.lock.lock(h.host, cpu)
	if err == nil {
		old := h.findLocked(b, key, hash)
		if err = checkFlags(old != 0, flags); err == nil {
			if old != 0 {
				h.nodeOf(old).ref.Store(1)
				h.setValue(old, cpu, value, false)
			} else {
				h.setKey(id, key, hash)
				h.setValue(id, cpu, value, true)
				h.linkLocked(b, id)
				id = 0
			}
		}
		b.lock.unlock()
	}
	if id != 0 {
		h.lru.release(h, cpu, id)
	}
	return err
}

// evict removes element id from the table for the LRU, which holds its
// lock (htab_lru_map_delete_node): false if it is not linked or its bucket
// is busy on this CPU.
func (h *Hash) evict(cpu int, id uint32) bool {
	b := &h.buckets[h.nodeOf(id).hash.Load()&h.mask]
	if b.lock.lock(h.host, cpu) != nil {
		return false
	}
	ok := h.unlinkLocked(b, id)
	if ok {
		h.setInner(id, nil)
	}
	b.lock.unlock()
	return ok
}

// remove deletes key's element (htab_map_delete_elem,
// htab_lru_map_delete_elem); copy, if not nil, receives its value first
// (lookup-and-delete).
func (h *Hash) remove(cpu int, key []byte, copyTo []byte) error {
	key = key[:h.keySize]
	hash := hashKey(key, h.seed)
	b := &h.buckets[hash&h.mask]
	if err := b.lock.lock(h.host, cpu); err != nil {
		return err
	}
	id := h.findLocked(b, key, hash)
	if id == 0 {
		b.lock.unlock()
		return linux.ENOENT
	}
	if copyTo != nil {
		h.copyValueOut(id, copyTo)
	}
	h.unlinkLocked(b, id)
	h.setInner(id, nil)
	b.lock.unlock()
	if h.lru != nil {
		h.lru.release(h, cpu, id)
	} else {
		h.count.Add(-1)
		h.free.push(h, cpu, id)
	}
	return nil
}

// copyValueOut copies element id's value the syscall way: every CPU's slot,
// padded, for per-CPU tables.
func (h *Hash) copyValueOut(id uint32, value []byte) {
	c, i := h.chunkOf(id)
	if !h.percpu {
		copyOut(value[:h.info.ValueSize], h.valueOf(c, i, 0))
		return
	}
	stride := int(h.valWords) * 8
	for k := 0; k < h.ncpu; k++ {
		copyOut(value[k*stride:][:stride], h.valueOf(c, i, k))
	}
}

// LookupElem implements Map (htab_map_lookup_elem and variants): lock
// free; an LRU lookup sets the element's reference bit. Keys of up to 16
// bytes (the common case: pids, indexes, addresses, flow keys) take a fast
// path comparing one or two words per element.
func (h *Hash) LookupElem(cpu int, key []byte) unsafe.Pointer {
	if uint(cpu) >= uint(h.ncpu) {
		return nil
	}
	key = key[:h.keySize]
	switch h.keyWords {
	case 1:
		return h.lookup1(cpu, loadWord(key))
	case 2:
		return h.lookup2(cpu, binary.LittleEndian.Uint64(key), loadWord(key[8:]))
	}
	id := h.find(key, hashKey(key, h.seed))
	if id == 0 {
		return nil
	}
	c, i := h.chunkOf(id)
	h.touch(h.node(c, i))
	return h.valueOf(c, i, cpu)
}

// touch sets an LRU element's reference bit (bpf_lru_node_set_ref),
// writing only when it is clear so that hot elements stay shared in every
// CPU's cache.
func (h *Hash) touch(e *htabNode) {
	if h.lru != nil && e.ref.Load() == 0 {
		e.ref.Store(1)
	}
}

// lookup1 is LookupElem for a key of one word w.
func (h *Hash) lookup1(cpu int, w uint64) unsafe.Pointer {
	hash := hashFinish(h.hashStart, w)
	b := hash & h.mask
	head := &h.buckets[b].head
	single := h.single
	for {
		ref := head.Load()
		for ref&nullsBit == 0 {
			c, i := single, ref-1
			if c == nil {
				c, i = h.chunkOf(ref)
			}
			rec := h.recAt(c, i)
			e := (*htabNode)(rec)
			if e.hash.Load() == hash && atomic.LoadUint64((*uint64)(unsafe.Add(rec, nodeWords*8))) == w {
				h.touch(e)
				return h.valueAt(c, i, rec, cpu)
			}
			ref = e.next.Load()
		}
		if ref == nullsBit|b {
			return nil
		}
		// Walked into another bucket's chain through a reused element.
	}
}

// lookup2 is LookupElem for a key of two words.
func (h *Hash) lookup2(cpu int, w0, w1 uint64) unsafe.Pointer {
	hash := hashFinish(hashStep(h.hashStart, w0), w1)
	b := hash & h.mask
	head := &h.buckets[b].head
	single := h.single
	for {
		ref := head.Load()
		for ref&nullsBit == 0 {
			c, i := single, ref-1
			if c == nil {
				c, i = h.chunkOf(ref)
			}
			rec := h.recAt(c, i)
			e := (*htabNode)(rec)
			if e.hash.Load() == hash {
				k := (*[2]uint64)(unsafe.Add(rec, nodeWords*8))
				if atomic.LoadUint64(&k[0]) == w0 && atomic.LoadUint64(&k[1]) == w1 {
					h.touch(e)
					return h.valueAt(c, i, rec, cpu)
				}
			}
			ref = e.next.Load()
		}
		if ref == nullsBit|b {
			return nil
		}
	}
}

// InlineLookup implements vm.LookupInliner: verified programs call the
// table's lookup directly, one specialised for 4, 8 and 16-byte keys, as
// Linux calls __htab_map_lookup_elem from the program. Hash of maps tables
// have none: their values are maps.
func (h *Hash) InlineLookup() (vm.InlineLookup, bool) {
	if h.objects {
		return vm.InlineLookup{}, false
	}
	l := vm.InlineLookup{KeySize: h.keySize, ValueSize: h.info.ValueSize,
		Writable: h.info.Flags&linux.BPF_F_RDONLY_PROG == 0, Lookup: h.lookupKey}
	switch h.keySize {
	case 4:
		l.Lookup = h.lookupKey4
	case 8:
		l.Lookup = h.lookupKey8
	case 16:
		l.Lookup = h.lookupKey16
	}
	return l, true
}

// The direct lookups of InlineLookup: key is the address of key_size
// bytes of program memory, which the verifier proved readable; cpu is
// checked as LookupElem checks it.

func (h *Hash) lookupKey(cpu uint32, key unsafe.Pointer) unsafe.Pointer {
	return h.LookupElem(int(cpu), unsafe.Slice((*byte)(key), h.keySize))
}

func (h *Hash) lookupKey4(cpu uint32, key unsafe.Pointer) unsafe.Pointer {
	if cpu >= uint32(h.ncpu) {
		return nil
	}
	return h.lookup1(int(cpu), uint64(binary.LittleEndian.Uint32((*[4]byte)(key)[:])))
}

func (h *Hash) lookupKey8(cpu uint32, key unsafe.Pointer) unsafe.Pointer {
	if cpu >= uint32(h.ncpu) {
		return nil
	}
	return h.lookup1(int(cpu), binary.LittleEndian.Uint64((*[8]byte)(key)[:]))
}

func (h *Hash) lookupKey16(cpu uint32, key unsafe.Pointer) unsafe.Pointer {
	if cpu >= uint32(h.ncpu) {
		return nil
	}
	k := (*[16]byte)(key)
	return h.lookup2(int(cpu), binary.LittleEndian.Uint64(k[:8]), binary.LittleEndian.Uint64(k[8:]))
}

// LookupPerCPUElem implements PerCPUMap (htab_percpu_map_lookup_percpu_elem);
// nil for tables without per-CPU values.
func (h *Hash) LookupPerCPUElem(key []byte, cpu int) unsafe.Pointer {
	if !h.percpu {
		return nil
	}
	return h.LookupElem(cpu, key)
}

// UpdateElem implements Map.
func (h *Hash) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	if uint(cpu) >= uint(h.ncpu) {
		return linux.EINVAL
	}
	return h.update(cpu, key, value, flags, nil)
}

// DeleteElem implements Map.
func (h *Hash) DeleteElem(cpu int, key []byte) error {
	if uint(cpu) >= uint(h.ncpu) {
		return linux.EINVAL
	}
	return h.remove(cpu, key, nil)
}

// Lookup implements Map. It does not touch the LRU reference bit
// (map_lookup_elem_sys_only), so that user space walking the map does not
// disturb eviction. Linux copies under rcu_read_lock, which keeps a
// deleted element from being reused for another key meanwhile only in
// BPF_F_NO_PREALLOC tables; here every table reuses at once, so the copy
// is checked afterwards (the element's generation and key unchanged, like
// a seqlock read) and retried, and user space never reads another key's
// value.
func (h *Hash) Lookup(key, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	key = key[:h.keySize]
	hash := hashKey(key, h.seed)
	for {
		id := h.find(key, hash)
		if id == 0 {
			return linux.ENOENT
		}
		c, i := h.chunkOf(id)
		e := h.node(c, i)
		gen := e.gen.Load()
		h.copyValueOut(id, value)
		if e.gen.Load() == gen && e.hash.Load() == hash && h.keyEqual(c, i, key) {
			return nil
		}
	}
}

// Update implements Map.
func (h *Hash) Update(key, value []byte, flags uint64) error {
	if err := h.sysWritable(); err != nil {
		return err
	}
	return h.update(-1, key, value, flags, nil)
}

// Delete implements Map.
func (h *Hash) Delete(key []byte) error {
	if err := h.sysWritable(); err != nil {
		return err
	}
	return h.remove(-1, key, nil)
}

// LookupAndDelete implements LookupAndDeleter
// (htab_map_lookup_and_delete_elem).
func (h *Hash) LookupAndDelete(key, value []byte, flags uint64) error {
	if err := h.sysWritable(); err != nil {
		return err
	}
	if err := lookupFlags(flags); err != nil {
		return err
	}
	return h.remove(-1, key, value)
}

// NextKey implements Map (htab_map_get_next_key): the next element in its
// chain, else the first element of the following non-empty bucket; an
// absent key restarts from the first bucket.
func (h *Hash) NextKey(key, next []byte) error {
	b := uint32(0)
	if key != nil {
		key = key[:h.keySize]
		hash := hashKey(key, h.seed)
		if id := h.find(key, hash); id != 0 {
			if n := h.nodeOf(id).next.Load(); n&nullsBit == 0 {
				h.copyKeyOut(n, next)
				return nil
			}
			b = hash&h.mask + 1
		}
	}
	for ; b <= h.mask; b++ {
		if first := h.buckets[b].head.Load(); first&nullsBit == 0 {
			h.copyKeyOut(first, next)
			return nil
		}
	}
	return linux.ENOENT
}

func (h *Hash) copyKeyOut(id uint32, dst []byte) {
	c, i := h.chunkOf(id)
	copyOut(dst[:h.keySize], h.keyOf(c, i))
}

// ForEachElem implements ForEacher (bpf_for_each_hash_elem): the key
// handed to the visitor is the element's own key storage.
func (h *Hash) ForEachElem(cpu int, v Visitor) uint64 {
	if uint(cpu) >= uint(h.ncpu) {
		return 0
	}
	var n uint64
	for b := range h.buckets {
		for ref := h.buckets[b].head.Load(); ref&nullsBit == 0; {
			c, i := h.chunkOf(ref)
			n++
			if v.Visit(h.keyOf(c, i), h.valueOf(c, i, cpu)) {
				return n
			}
			ref = h.node(c, i).next.Load()
		}
	}
	return n
}

// Len is the number of elements in the table (for tests and map info).
func (h *Hash) Len() int {
	n := 0
	for b := range h.buckets {
		for ref := h.buckets[b].head.Load(); ref&nullsBit == 0; ref = h.nodeOf(ref).next.Load() {
			n++
		}
	}
	return n
}

// LookupBatch implements Batcher (__htab_map_lookup_and_delete_batch):
// whole buckets at a time, the position being the next bucket index (a
// u32). A first bucket larger than count gives ENOSPC; reaching the last
// bucket gives ENOENT.
func (h *Hash) LookupBatch(inBatch, keys, values []byte, count uint32, del bool, elemFlags uint64) (uint32, []byte, error) {
	if err := batchElemFlags(elemFlags); err != nil {
		return 0, nil, err
	}
	if del {
		if err := h.sysWritable(); err != nil {
			return 0, nil, err
		}
	}
	if count == 0 {
		return 0, nil, nil
	}
	batch := uint32(0)
	if inBatch != nil {
		batch = le32(inBatch)
	}
	if batch > h.mask {
		return 0, nil, linux.ENOENT
	}
	ks, vs := int(h.keySize), h.info.SyscallValueSize()
	var total uint32
	var err error
	for {
		b := &h.buckets[batch]
		n := uint32(0)
		if b.head.Load()&nullsBit == 0 {
			b.lock.lock(h.host, -1)
			for ref := b.head.Load(); ref&nullsBit == 0; ref = h.nodeOf(ref).next.Load() {
				n++
			}
			if n > count-total {
				b.lock.unlock()
				if total == 0 {
					err = linux.ENOSPC
				}
				break
			}
			var freed []uint32
			for ref := b.head.Load(); ref&nullsBit == 0; ref = h.nodeOf(ref).next.Load() {
				h.copyKeyOut(ref, keys[int(total)*ks:])
				h.copyValueOut(ref, values[int(total)*vs:])
				total++
				if del {
					freed = append(freed, ref)
				}
			}
			for _, id := range freed {
				h.unlinkLocked(b, id)
				h.setInner(id, nil)
			}
			b.lock.unlock()
			for _, id := range freed {
				if h.lru != nil {
					h.lru.release(h, -1, id)
				} else {
					h.count.Add(-1)
					h.free.push(h, -1, id)
				}
			}
		}
		batch++
		if batch > h.mask {
			err = linux.ENOENT
			break
		}
	}
	out := make([]byte, 4)
	putLE32(out, batch)
	return total, out, err
}

// UpdateBatch implements Batcher (generic_map_update_batch).
func (h *Hash) UpdateBatch(keys, values []byte, count uint32, elemFlags uint64) (uint32, error) {
	return genericUpdateBatch(h, keys, values, count, elemFlags)
}

// DeleteBatch implements Batcher (generic_map_delete_batch).
func (h *Hash) DeleteBatch(keys []byte, count uint32, elemFlags uint64) (uint32, error) {
	return genericDeleteBatch(h, keys, count, elemFlags)
}
