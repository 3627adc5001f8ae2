package maps

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// LPMTrie is BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest prefix
// match over keys laid out as struct bpf_lpm_trie_key: a u32 prefix length
// in host byte order, then data_size bytes whose bits are matched from
// the most significant bit of the first byte (network order for IP
// addresses).
//
// The trie is Linux's: a path-compressed binary trie where a node matches
// prefixlen bits of its data and has up to two children chosen by the next
// bit; "intermediate" nodes, without a value, join two subtrees whose
// prefixes diverge; every intermediate node has exactly two children.
// Lookups take no lock (children and the intermediate flag are atomic,
// the rest of a node never changes once published); updates and deletes
// serialise on the trie's spinlock and publish new nodes. Values live in
// chunks of slots the trie owns; a replaced or deleted element's slot is
// reused at once, as a preallocated hash table's elements are.
//
// Behaviour follows current Linux: an update of an existing prefix in a
// full trie succeeds (Linux 6.1 answered ENOSPC), adding past max_entries
// gives ENOSPC.
type LPMTrie struct {
	base
	host      Host
	lock      spinLock
	root      atomic.Pointer[lpmNode]
	dataSize  uint32
	maxPrefix uint32
	entries   uint32 // elements (non-intermediate nodes), under lock
	values    slotPool
}

var (
	_ Map     = (*LPMTrie)(nil)
	_ Freezer = (*LPMTrie)(nil)
)

type lpmNode struct {
	prefixlen uint32
	data      []byte
	value     unsafe.Pointer
	slot      uint32
	im        atomic.Bool
	child     [2]atomic.Pointer[lpmNode]
}

// Limits of lpm_trie.c.
const (
	lpmDataSizeMax = 256
	lpmDataSizeMin = 1
	lpmNodeSize    = 24 // sizeof(struct lpm_trie_node) without data (Linux 6.18; 40 in 6.1)
	lpmValSizeMax  = kmallocMaxSize - lpmDataSizeMax - lpmNodeSize
	lpmKeyHdr      = 4 // sizeof(struct bpf_lpm_trie_key_hdr)
)

// lpmCreateFlags is LPM_CREATE_FLAG_MASK.
const lpmCreateFlags = linux.BPF_F_NO_PREALLOC | linux.BPF_F_NUMA_NODE | accessMask

func newLPMTrie(spec Spec, host Host) (*LPMTrie, error) {
	// trie_alloc
	if spec.MaxEntries == 0 || spec.Flags&linux.BPF_F_NO_PREALLOC == 0 ||
		spec.Flags&^lpmCreateFlags != 0 || !flagsAccessOK(spec.Flags) ||
		spec.KeySize < lpmKeyHdr+lpmDataSizeMin || spec.KeySize > lpmKeyHdr+lpmDataSizeMax ||
		spec.ValueSize < 1 || spec.ValueSize > lpmValSizeMax {
		return nil, linux.EINVAL
	}
	t := &LPMTrie{
		base:     newBase(spec, host.PossibleCPUs()),
		host:     host,
		dataSize: spec.KeySize - lpmKeyHdr,
	}
	t.maxPrefix = t.dataSize * 8
	// One slot more than elements: a replacement holds both values for a
	// moment.
	t.values = newSlotPool(host, spec.ValueSize, spec.MaxEntries+1)
	return t, nil
}

// extractBit is bit index of data, counting from the most significant bit
// of data[0].
func extractBit(data []byte, index uint32) int {
	return int(data[index/8]>>(7-index%8)) & 1
}

// matchLen is longest_prefix_match: how many leading bits of the node's
// data and the key's data agree, up to the shorter prefix length.
func (t *LPMTrie) matchLen(n *lpmNode, prefixlen uint32, data []byte) uint32 {
	limit := min(n.prefixlen, prefixlen)
	var m uint32
	for i := uint32(0); m < limit; i++ {
		if x := n.data[i] ^ data[i]; x != 0 {
			m += uint32(bits.LeadingZeros8(x))
			break
		}
		m += 8
	}
	return min(m, limit)
}

// splitKey reads a key's prefix length and data.
func (t *LPMTrie) splitKey(key []byte) (uint32, []byte) {
	return binary.NativeEndian.Uint32(key), key[lpmKeyHdr:][:t.dataSize]
}

// lookup is trie_lookup_elem: the longest matching element, or nil.
func (t *LPMTrie) lookup(key []byte) *lpmNode {
	prefixlen, data := t.splitKey(key)
	if prefixlen > t.maxPrefix {
		return nil
	}
	var found *lpmNode
	for n := t.root.Load(); n != nil; {
		m := t.matchLen(n, prefixlen, data)
		if m == t.maxPrefix {
			if !n.im.Load() {
				found = n
			}
			break
		}
		if m < n.prefixlen {
			break
		}
		if !n.im.Load() {
			found = n
		}
		n = n.child[extractBit(data, n.prefixlen)].Load()
	}
	return found
}

// LookupElem implements Map: lock free.
func (t *LPMTrie) LookupElem(_ int, key []byte) unsafe.Pointer {
	if n := t.lookup(key); n != nil {
		return n.value
	}
	return nil
}

// Lookup implements Map: the longest-prefix match, as from a program.
func (t *LPMTrie) Lookup(key, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	n := t.lookup(key)
	if n == nil {
		return linux.ENOENT
	}
	copyOut(value[:t.info.ValueSize], n.value)
	return nil
}

// addElemCheck is trie_check_add_elem: adding a new element.
func (t *LPMTrie) addElemCheck(flags uint64) error {
	if flags == linux.BPF_EXIST {
		return linux.ENOENT
	}
	if t.entries == t.info.MaxEntries {
		return linux.ENOSPC
	}
	t.entries++
	return nil
}

// update is trie_update_elem.
func (t *LPMTrie) update(cpu int, key, value []byte, flags uint64) error {
	if flags > linux.BPF_EXIST {
		return linux.EINVAL
	}
	prefixlen, data := t.splitKey(key)
	if prefixlen > t.maxPrefix {
		return linux.EINVAL
	}
	if err := t.lock.lock(t.host, cpu); err != nil {
		return err
	}
	defer t.lock.unlock()

	// Find where the new node goes: walk while the node's prefix is a
	// proper prefix of the key's.
	slot := &t.root
	var n *lpmNode
	var m uint32
	for n = slot.Load(); n != nil; n = slot.Load() {
		m = t.matchLen(n, prefixlen, data)
		if n.prefixlen != m || n.prefixlen == prefixlen || n.prefixlen == t.maxPrefix {
			break
		}
		slot = &n.child[extractBit(data, n.prefixlen)]
	}
	newNode := func() (*lpmNode, error) {
		vp, id, err := t.values.alloc()
		if err != nil {
			return nil, err
		}
		copyIn(vp, value[:t.info.ValueSize])
		return &lpmNode{prefixlen: prefixlen, data: append([]byte(nil), data...), value: vp, slot: id}, nil
	}
	if n == nil {
		if err := t.addElemCheck(flags); err != nil {
			return err
		}
		nn, err := newNode()
		if err != nil {
			t.entries--
			return err
		}
		slot.Store(nn)
		return nil
	}
	if n.prefixlen == m {
		// The same prefix: replace the node, keeping its children.
		if !n.im.Load() {
			if flags == linux.BPF_NOEXIST {
				return linux.EEXIST
			}
		} else if err := t.addElemCheck(flags); err != nil {
			return err
		}
		nn, err := newNode()
		if err != nil {
			if n.im.Load() {
				t.entries--
			}
			return err
		}
		nn.child[0].Store(n.child[0].Load())
		nn.child[1].Store(n.child[1].Load())
		slot.Store(nn)
		if !n.im.Load() {
			t.values.release(n.slot)
		}
		return nil
	}
	if err := t.addElemCheck(flags); err != nil {
		return err
	}
	nn, err := newNode()
	if err != nil {
		t.entries--
		return err
	}
	if m == prefixlen {
		// The new prefix covers n's: it becomes n's parent.
		nn.child[extractBit(n.data, m)].Store(n)
		slot.Store(nn)
		return nil
	}
	// The prefixes diverge after m bits: join them under an intermediate.
	im := &lpmNode{prefixlen: m, data: append([]byte(nil), n.data...)}
	im.im.Store(true)
	if extractBit(data, m) == 1 {
		im.child[0].Store(n)
		im.child[1].Store(nn)
	} else {
		im.child[0].Store(nn)
		im.child[1].Store(n)
	}
	slot.Store(im)
	return nil
}

// remove is trie_delete_elem.
func (t *LPMTrie) remove(cpu int, key []byte) error {
	prefixlen, data := t.splitKey(key)
	if prefixlen > t.maxPrefix {
		return linux.EINVAL
	}
	if err := t.lock.lock(t.host, cpu); err != nil {
		return err
	}
	defer t.lock.unlock()
	trim, trim2 := &t.root, &t.root
	var parent, n *lpmNode
	var m uint32
	for n = trim.Load(); n != nil; n = trim.Load() {
		m = t.matchLen(n, prefixlen, data)
		if n.prefixlen != m || n.prefixlen == prefixlen {
			break
		}
		parent, trim2 = n, trim
		trim = &n.child[extractBit(data, n.prefixlen)]
	}
	if n == nil || n.prefixlen != prefixlen || n.prefixlen != m || n.im.Load() {
		return linux.ENOENT
	}
	t.entries--
	c0, c1 := n.child[0].Load(), n.child[1].Load()
	if c0 != nil && c1 != nil {
		// Two children: the node stays as an intermediate.
		n.im.Store(true)
		t.values.release(n.slot)
		return nil
	}
	if parent != nil && parent.im.Load() && c0 == nil && c1 == nil {
		// A leaf under an intermediate: the intermediate goes too, its
		// other child takes its place.
		if parent.child[0].Load() == n {
			trim2.Store(parent.child[1].Load())
		} else {
			trim2.Store(parent.child[0].Load())
		}
		t.values.release(n.slot)
		return nil
	}
	switch {
	case c0 != nil:
		trim.Store(c0)
	case c1 != nil:
		trim.Store(c1)
	default:
		trim.Store(nil)
	}
	t.values.release(n.slot)
	return nil
}

// UpdateElem implements Map. The trie's nodes are allocated and linked by
// pointers: a program in trap context gets ENOMEM (see Host.InTrap).
func (t *LPMTrie) UpdateElem(cpu int, key, value []byte, flags uint64) error {
	if t.host.InTrap(cpu) {
		return linux.ENOMEM
	}
	return t.update(cpu, key, value, flags)
}

// DeleteElem implements Map: EBUSY for a program in trap context, which
// may not unlink nodes (pointer stores; see Host.InTrap).
func (t *LPMTrie) DeleteElem(cpu int, key []byte) error {
	if t.host.InTrap(cpu) {
		return linux.EBUSY
	}
	return t.remove(cpu, key)
}

// Update implements Map.
func (t *LPMTrie) Update(key, value []byte, flags uint64) error {
	if err := t.sysWritable(); err != nil {
		return err
	}
	return t.update(-1, key, value, flags)
}

// Delete implements Map.
func (t *LPMTrie) Delete(key []byte) error {
	if err := t.sysWritable(); err != nil {
		return err
	}
	return t.remove(-1, key)
}

// NextKey implements Map (trie_get_next_key): postorder, so that more
// specific prefixes come before the prefixes containing them; an absent
// or invalid key starts from the leftmost element.
func (t *LPMTrie) NextKey(key, next []byte) error {
	root := t.root.Load()
	if root == nil {
		return linux.ENOENT
	}
	var found *lpmNode
	if key != nil {
		prefixlen, data := t.splitKey(key)
		if prefixlen <= t.maxPrefix {
			found = t.nextAfter(root, prefixlen, data)
			if found == nil {
				return linux.ENOENT
			}
		}
	}
	if found == nil {
		found = leftmost(root)
	}
	binary.NativeEndian.PutUint32(next, found.prefixlen)
	copy(next[lpmKeyHdr:], found.data)
	return nil
}

// nextAfter is the element after the one exactly matching the key, in
// postorder: nil if that was the last; the leftmost element if the key is
// not an element.
func (t *LPMTrie) nextAfter(root *lpmNode, prefixlen uint32, data []byte) *lpmNode {
	var stack []*lpmNode
	var n *lpmNode
	var m uint32
	for n = root; n != nil; {
		stack = append(stack, n)
		m = t.matchLen(n, prefixlen, data)
		if n.prefixlen != m || n.prefixlen == prefixlen {
			break
		}
		n = n.child[extractBit(data, n.prefixlen)].Load()
	}
	if n == nil || n.prefixlen != m || n.im.Load() {
		return leftmost(root)
	}
	for k := len(stack) - 1; k > 0; k-- {
		n, parent := stack[k], stack[k-1]
		if parent.child[0].Load() == n {
			if right := parent.child[1].Load(); right != nil {
				return leftmost(right)
			}
		}
		if !parent.im.Load() {
			return parent
		}
	}
	return nil
}

// leftmost is the first element of the subtree at n in postorder
// (intermediate nodes always have two children, so there is one).
func leftmost(n *lpmNode) *lpmNode {
	var found *lpmNode
	for n != nil {
		if n.im.Load() {
			n = n.child[0].Load()
			continue
		}
		found = n
		if n = n.child[0].Load(); n == nil {
			n = found.child[1].Load()
		}
	}
	return found
}

// slotPool is value storage that grows by chunks, for maps without
// preallocation: slots are never given back to Go while the map lives, so
// addresses programs hold stay valid. The owner's lock serialises it.
type slotPool struct {
	host   Host
	stride uintptr
	limit  uint32
	used   uint32 // slots ever handed out
	chunks [][]uint64
	free   []uint32
}

// slotChunk is how many slots a chunk holds.
const slotChunk = 64

func newSlotPool(host Host, valueSize, limit uint32) slotPool {
	return slotPool{host: host, stride: uintptr(roundUp8(valueSize)), limit: limit}
}

func (p *slotPool) at(id uint32) unsafe.Pointer {
	return unsafe.Pointer(&p.chunks[id/slotChunk][uintptr(id%slotChunk)*p.stride/8])
}

// alloc hands out a zeroed slot.
func (p *slotPool) alloc() (unsafe.Pointer, uint32, error) {
	if n := len(p.free); n > 0 {
		id := p.free[n-1]
		p.free = p.free[:n-1]
		vp := p.at(id)
		zeroSlot(vp, p.stride)
		return vp, id, nil
	}
	if p.used >= p.limit {
		return nil, 0, linux.ENOSPC
	}
	if p.used%slotChunk == 0 {
		words, err := allocWords(p.host, uint64(slotChunk)*uint64(p.stride)/8)
		if err != nil {
			return nil, 0, err
		}
		p.chunks = append(p.chunks, words)
		// Room on the free list for every slot there is, so that a delete
		// (which a program may do) never allocates.
		p.free = slices.Grow(p.free, slotChunk)
	}
	id := p.used
	p.used++
	return p.at(id), id, nil
}

// release returns a slot for reuse.
func (p *slotPool) release(id uint32) { p.free = append(p.free, id) }
