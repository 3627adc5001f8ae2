package maps

import (
	"math/rand/v2"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// BloomFilter is BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c): a
// set of values (key_size 0) that answers "maybe present" or "absent".
// Values go in with push and are tested with peek; there is no deletion.
// map_extra's low 4 bits give the number of hash functions (default 5);
// the bit array holds max_entries x hashes x 7/5 bits (1/ln 2), rounded up
// to a power of two (at least 64), or 2^32 bits when that overflows.
type BloomFilter struct {
	base
	words  []uint64
	mask   uint32 // bit index mask
	hashes uint32
	seed   uint32
}

var (
	_ Map     = (*BloomFilter)(nil)
	_ Queuer  = (*BloomFilter)(nil)
	_ Freezer = (*BloomFilter)(nil)
)

// bloomCreateFlags is BLOOM_CREATE_FLAG_MASK.
const bloomCreateFlags = linux.BPF_F_NUMA_NODE | linux.BPF_F_ZERO_SEED | accessMask

// bloomDefaultHashes is the number of hash functions when map_extra is 0.
const bloomDefaultHashes = 5

func newBloomFilter(spec Spec, host Host) (*BloomFilter, error) {
	// bloom_map_alloc_check, then bloom_map_alloc
	if spec.ValueSize > kmallocMaxSize {
		return nil, linux.E2BIG
	}
	if spec.KeySize != 0 || spec.ValueSize == 0 || spec.MaxEntries == 0 ||
		spec.Flags&^bloomCreateFlags != 0 || !flagsAccessOK(spec.Flags) || spec.Extra&^0xf != 0 {
		return nil, linux.EINVAL
	}
	hashes := uint32(spec.Extra)
	if hashes == 0 {
		hashes = bloomDefaultHashes
	}
	var nbits uint64
	n := uint64(spec.MaxEntries) * uint64(hashes)
	if n > 1<<32-1 || (n/5)*7 > 1<<32-1 || (n/5)*7 > 1<<31 {
		nbits = 1 << 32
	} else {
		nbits = max(roundUpPow2((n/5)*7), 64)
	}
	words, err := allocWords(host, nbits/64)
	if err != nil {
		return nil, err
	}
	b := &BloomFilter{
		base:   newBase(spec, host.PossibleCPUs()),
		words:  words,
		mask:   uint32(nbits - 1),
		hashes: hashes,
	}
	if spec.Flags&linux.BPF_F_ZERO_SEED == 0 {
		b.seed = rand.Uint32()
	}
	return b, nil
}

// bit is the bit index hash function i gives value.
func (b *BloomFilter) bit(value []byte, i uint32) uint32 {
	return hashKey(value, b.seed+i) & b.mask
}

// PushElem implements Queuer (bloom_map_push_elem): flags must be BPF_ANY.
func (b *BloomFilter) PushElem(_ int, value []byte, flags uint64) error {
	if flags != linux.BPF_ANY {
		return linux.EINVAL
	}
	value = value[:b.info.ValueSize]
	for i := uint32(0); i < b.hashes; i++ {
		h := b.bit(value, i)
		atomic.OrUint64(&b.words[h/64], 1<<(h%64))
	}
	return nil
}

// PeekElem implements Queuer (bloom_map_peek_elem): nil if the value may
// be in the set (false positives happen), ENOENT if it is certainly not.
func (b *BloomFilter) PeekElem(_ int, value []byte) error {
	value = value[:b.info.ValueSize]
	for i := uint32(0); i < b.hashes; i++ {
		h := b.bit(value, i)
		if atomic.LoadUint64(&b.words[h/64])&(1<<(h%64)) == 0 {
			return linux.ENOENT
		}
	}
	return nil
}

// PopElem implements Queuer: a bloom filter cannot remove (EOPNOTSUPP).
func (b *BloomFilter) PopElem(int, []byte) error { return linux.EOPNOTSUPP }

// LookupElem implements Map: programs use peek (nil).
func (b *BloomFilter) LookupElem(int, []byte) unsafe.Pointer { return nil }

// UpdateElem implements Map: programs use push (EINVAL).
func (b *BloomFilter) UpdateElem(int, []byte, []byte, uint64) error { return linux.EINVAL }

// DeleteElem implements Map: EOPNOTSUPP.
func (b *BloomFilter) DeleteElem(int, []byte) error { return linux.EOPNOTSUPP }

// Lookup implements Map: from bpf(2) (no key) it tests the value passed
// in value, like a program's peek.
func (b *BloomFilter) Lookup(_, value []byte, flags uint64) error {
	if err := lookupFlags(flags); err != nil {
		return err
	}
	return b.PeekElem(-1, value)
}

// Update implements Map: from bpf(2) (no key) it adds value, like push.
func (b *BloomFilter) Update(_, value []byte, flags uint64) error {
	if err := b.sysWritable(); err != nil {
		return err
	}
	return b.PushElem(-1, value, flags)
}

// Delete implements Map: EOPNOTSUPP.
func (b *BloomFilter) Delete([]byte) error {
	if err := b.sysWritable(); err != nil {
		return err
	}
	return linux.EOPNOTSUPP
}

// NextKey implements Map: EOPNOTSUPP, there are no keys.
func (b *BloomFilter) NextKey(_, _ []byte) error { return linux.EOPNOTSUPP }
