package maps

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

func TestHashSemantics(t *testing.T) {
	for _, flags := range []uint32{0, linux.BPF_F_NO_PREALLOC} {
		t.Run(fmt.Sprintf("flags%d", flags), func(t *testing.T) {
			h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 300, Flags: flags}).(*Hash)
			for i := uint64(0); i < 300; i++ {
				wantErr(t, "insert", h.UpdateElem(int(i%testCPUs), u64(i), u64(i*3), linux.BPF_NOEXIST), 0)
			}
			if h.Len() != 300 {
				t.Fatalf("len %d", h.Len())
			}
			wantErr(t, "insert into a full table", h.UpdateElem(0, u64(1000), u64(0), 0), linux.E2BIG)
			wantErr(t, "replace in a full table", h.UpdateElem(0, u64(7), u64(70), linux.BPF_EXIST), 0)
			wantErr(t, "NOEXIST on an existing key", h.UpdateElem(0, u64(7), u64(70), linux.BPF_NOEXIST), linux.EEXIST)
			wantErr(t, "EXIST on a missing key", h.UpdateElem(0, u64(1000), u64(70), linux.BPF_EXIST), linux.ENOENT)
			for i := uint64(0); i < 300; i++ {
				p := h.LookupElem(1, u64(i))
				want := i * 3
				if i == 7 {
					want = 70
				}
				if p == nil || word(p) != want {
					t.Fatalf("lookup %d: %v", i, p)
				}
			}
			wantErr(t, "delete", h.DeleteElem(2, u64(5)), 0)
			wantErr(t, "delete again", h.DeleteElem(2, u64(5)), linux.ENOENT)
			if h.LookupElem(0, u64(5)) != nil {
				t.Fatal("deleted key still found")
			}
			wantErr(t, "insert after a delete", h.UpdateElem(3, u64(1000), u64(1), 0), 0)
			out := make([]byte, 8)
			wantErr(t, "lookup and delete", h.LookupAndDelete(u64(1000), out, 0), 0)
			if le32(out) != 1 || h.LookupElem(0, u64(1000)) != nil {
				t.Fatal("lookup and delete")
			}
		})
	}
}

// TestHashReplaceKeepsOldValue checks Linux's replace semantics: a new
// element is linked before the old one is unlinked, so a program holding
// the old value's address keeps reading the old value (until the element
// is reused), and lookups after the update see the new one.
func TestHashReplaceKeepsOldValue(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}).(*Hash)
	h.UpdateElem(0, u32(1), u64(10), 0)
	old := h.LookupElem(0, u32(1))
	h.UpdateElem(0, u32(1), u64(20), 0)
	if word(old) != 10 {
		t.Fatalf("old value changed in place to %d", word(old))
	}
	if p := h.LookupElem(0, u32(1)); p == old || word(p) != 20 {
		t.Fatal("lookup after replace")
	}
	// Per-CPU tables update in place.
	pc := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}).(*Hash)
	pc.UpdateElem(1, u32(1), u64(10), 0)
	p := pc.LookupElem(1, u32(1))
	pc.UpdateElem(1, u32(1), u64(20), 0)
	if pc.LookupElem(1, u32(1)) != p || word(p) != 20 {
		t.Fatal("per-CPU update is not in place")
	}
}

func TestPerCPUHash(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 8}).(*Hash)
	// A new element from a program: its CPU's slot holds the value, the
	// others are zero (pcpu_init_value).
	h.UpdateElem(2, u32(9), u32(99), 0)
	out := make([]byte, 8*testCPUs)
	wantErr(t, "lookup", h.Lookup(u32(9), out, 0), 0)
	for cpu := 0; cpu < testCPUs; cpu++ {
		want := uint32(0)
		if cpu == 2 {
			want = 99
		}
		if le32(out[cpu*8:]) != want {
			t.Fatalf("cpu %d slot %d", cpu, le32(out[cpu*8:]))
		}
	}
	// Delete, then a new element reusing the storage: slots are zeroed.
	h.UpdateElem(1, u32(9), u32(5), 0)
	wantErr(t, "delete", h.DeleteElem(0, u32(9)), 0)
	h.UpdateElem(3, u32(10), u32(7), 0)
	wantErr(t, "lookup", h.Lookup(u32(10), out, 0), 0)
	for cpu := 0; cpu < 3; cpu++ {
		if le32(out[cpu*8:]) != 0 {
			t.Fatalf("stale slot of cpu %d in a reused element", cpu)
		}
	}
	in := make([]byte, 8*testCPUs)
	for i := range in {
		in[i] = byte(i)
	}
	wantErr(t, "syscall update", h.Update(u32(11), in, 0), 0)
	for cpu := 0; cpu < testCPUs; cpu++ {
		p := h.LookupPerCPUElem(u32(11), cpu)
		if p == nil || *(*uint64)(p) != *(*uint64)(unsafe.Pointer(&in[cpu*8])) {
			t.Fatalf("cpu %d slot after syscall update", cpu)
		}
	}
	if h.LookupPerCPUElem(u32(11), testCPUs) != nil {
		t.Fatal("lookup_percpu_elem past the CPUs")
	}
}

func TestHashNoPreallocGrowsByChunks(t *testing.T) {
	charged := &chargeHost{FixedHost: testHost}
	m, err := New(Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 64, MaxEntries: 10000, Flags: linux.BPF_F_NO_PREALLOC}, charged)
	if err != nil {
		t.Fatal(err)
	}
	h := m.(*Hash)
	atCreate := charged.total
	if atCreate > 10000*64/2 {
		t.Fatalf("a BPF_F_NO_PREALLOC table charged %d bytes at creation", atCreate)
	}
	for i := uint32(0); i < 1000; i++ {
		wantErr(t, "insert", h.Update(u32(i), make([]byte, 64), 0), 0)
	}
	if charged.total-atCreate > 2*1000*(64+48) {
		t.Fatalf("1000 elements charged %d bytes", charged.total-atCreate)
	}
	// Memory refused while growing: ENOMEM.
	limited := &chargeHost{FixedHost: testHost, limit: 600 << 10}
	m, err = New(Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 1024, MaxEntries: 10000, Flags: linux.BPF_F_NO_PREALLOC}, limited)
	if err != nil {
		t.Fatal(err)
	}
	var err2 error
	for i := uint32(0); err2 == nil; i++ {
		err2 = m.Update(u32(i), make([]byte, 1024), 0)
	}
	wantErr(t, "grow past the memory limit", err2, linux.ENOMEM)
}

// chargeHost counts what maps charge and refuses past limit (if set).
type chargeHost struct {
	FixedHost
	total, limit uint64
}

func (c *chargeHost) ChargeMemory(n uint64) error {
	if c.limit != 0 && c.total+n > c.limit {
		return linux.ENOMEM
	}
	c.total += n
	return nil
}

func TestHashNextKeyWalk(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 3, ValueSize: 1, MaxEntries: 100}).(*Hash)
	want := map[string]bool{}
	for i := 0; i < 100; i++ {
		k := []byte{byte(i), byte(i * 7), 1}
		want[string(k)] = true
		h.Update(k, []byte{1}, 0)
	}
	seen := map[string]bool{}
	var prev []byte
	for {
		next := make([]byte, 3)
		err := h.NextKey(prev, next)
		if errors.Is(err, linux.ENOENT) {
			break
		}
		if seen[string(next)] {
			t.Fatalf("key %x twice", next)
		}
		seen[string(next)] = true
		prev = next
	}
	if len(seen) != len(want) {
		t.Fatalf("walk saw %d keys of %d", len(seen), len(want))
	}
	empty := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 3, ValueSize: 1, MaxEntries: 1})
	wantErr(t, "next key of an empty table", empty.NextKey(nil, make([]byte, 3)), linux.ENOENT)
}

func TestHashForEach(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 16}).(*Hash)
	for i := uint32(0); i < 10; i++ {
		h.UpdateElem(1, u32(i), u64(uint64(i)+100), 0)
	}
	v := &countVisitor{}
	if n := h.ForEachElem(1, v); n != 10 {
		t.Fatalf("visited %d", n)
	}
	for i, k := range v.keys {
		if v.values[i] != uint64(k)+100 {
			t.Fatalf("key %d value %d", k, v.values[i])
		}
	}
	if n := h.ForEachElem(1, &countVisitor{stopAt: 3}); n != 3 {
		t.Fatalf("stopped walk counted %d", n)
	}
}

func TestHashBatch(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 64}).(*Hash)
	for i := uint32(0); i < 40; i++ {
		h.Update(u32(i), u32(i+1000), 0)
	}
	got := map[uint32]uint32{}
	var pos []byte
	for rounds := 0; ; rounds++ {
		keys, values := make([]byte, 4*8), make([]byte, 4*8)
		n, next, err := h.LookupBatch(pos, keys, values, 8, false, 0)
		for i := uint32(0); i < n; i++ {
			got[le32(keys[i*4:])] = le32(values[i*4:])
		}
		if errors.Is(err, linux.ENOENT) {
			break
		}
		wantErr(t, "lookup batch", err, 0)
		if n == 0 || rounds > 64 {
			t.Fatal("no progress")
		}
		pos = next
	}
	if len(got) != 40 {
		t.Fatalf("batches gave %d elements", len(got))
	}
	for k, v := range got {
		if v != k+1000 {
			t.Fatalf("key %d value %d", k, v)
		}
	}
	// count 0 is a no-op; a first bucket larger than count is ENOSPC.
	if n, _, err := h.LookupBatch(nil, nil, nil, 0, false, 0); n != 0 || err != nil {
		t.Fatal("empty batch")
	}
	tiny := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: linux.BPF_F_ZERO_SEED}).(*Hash)
	tiny.Update(u32(1), u32(1), 0)
	_, _, err := tiny.LookupBatch(nil, nil, nil, 0, false, 0)
	wantErr(t, "zero count", err, 0)
	// With one bucket holding everything, a batch of 1 cannot take it.
	one := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 1}).(*Hash)
	one.Update(u32(5), u32(5), 0)
	keys, values := make([]byte, 4), make([]byte, 4)
	n, _, err := one.LookupBatch(nil, keys, values, 1, true, 0)
	if n != 1 || !errors.Is(err, linux.ENOENT) || one.Len() != 0 {
		t.Fatalf("lookup-and-delete batch: %d %v len %d", n, err, one.Len())
	}
	two := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 2}).(*Hash)
	// Force two keys into one bucket by searching for a colliding pair.
	var a, b uint32
	for b = 1; hashKey(u32(a), two.seed)&two.mask != hashKey(u32(b), two.seed)&two.mask; b++ {
	}
	two.Update(u32(a), u32(1), 0)
	two.Update(u32(b), u32(2), 0)
	_, _, err = two.LookupBatch(nil, keys, values, 1, false, 0)
	wantErr(t, "bucket larger than count", err, linux.ENOSPC)
	dk := append(u32(a), u32(b)...)
	if n, err := two.DeleteBatch(dk, 2, 0); n != 2 || err != nil {
		t.Fatalf("delete batch %d %v", n, err)
	}
	if n, err := two.DeleteBatch(dk, 2, 0); n != 0 || !errors.Is(err, linux.ENOENT) {
		t.Fatalf("delete batch of missing keys %d %v", n, err)
	}
}

// TestLRUEvictsLeastRecentlyUsed fills an LRU table, keeps touching a hot
// set, and inserts new keys: the hot keys survive, cold ones are evicted,
// and the table never exceeds max_entries.
func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_LRU_HASH, linux.BPF_MAP_TYPE_LRU_PERCPU_HASH} {
		t.Run(typ.String(), func(t *testing.T) {
			const max = 128
			h := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: max}).(*Hash)
			for i := uint32(0); i < max; i++ {
				wantErr(t, "fill", h.UpdateElem(0, u32(i), u64(uint64(i)), 0), 0)
			}
			hot := func(i uint32) bool { return i < 32 }
			for round := uint32(0); round < 4; round++ {
				for i := uint32(0); i < 32; i++ {
					if h.LookupElem(0, u32(i)) == nil {
						t.Fatalf("round %d: hot key %d evicted", round, i)
					}
				}
				for i := uint32(0); i < 32; i++ {
					k := 1000 + round*32 + i
					wantErr(t, "insert", h.UpdateElem(0, u32(k), u64(uint64(k)), 0), 0)
				}
				if n := h.Len(); n > max {
					t.Fatalf("%d elements in an LRU of %d", n, max)
				}
			}
			cold := 0
			for i := uint32(0); i < max; i++ {
				if !hot(i) && h.LookupElem(0, u32(i)) == nil {
					cold++
				}
			}
			if cold < 96 {
				t.Fatalf("only %d of 96 cold keys were evicted", cold)
			}
			wantErr(t, "BPF_F_LOCK", h.UpdateElem(0, u32(1), u64(1), linux.BPF_F_LOCK), linux.EINVAL)
			wantErr(t, "NOEXIST existing", h.UpdateElem(0, u32(1), u64(1), linux.BPF_NOEXIST), linux.EEXIST)
			wantErr(t, "EXIST missing", h.UpdateElem(0, u32(99999), u64(1), linux.BPF_EXIST), linux.ENOENT)
			before := h.Len()
			wantErr(t, "delete", h.DeleteElem(0, u32(1)), 0)
			wantErr(t, "insert", h.UpdateElem(0, u32(99999), u64(1), 0), 0)
			if h.Len() != before {
				t.Fatal("insert after delete should use the freed element, not evict")
			}
		})
	}
}

// TestLRUSyscallLookupDoesNotTouch: user space walking an LRU map must not
// change which elements are evicted (map_lookup_elem_sys_only).
func TestLRUSyscallLookupDoesNotTouch(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}).(*Hash)
	for i := uint32(0); i < 4; i++ {
		h.Update(u32(i), u64(0), 0)
	}
	out := make([]byte, 8)
	for i := uint32(0); i < 4; i++ {
		h.Lookup(u32(i), out, 0)
	}
	for i := uint32(0); i < 4; i++ {
		if h.nodeOf(h.find(u32(i), hashKey(u32(i), h.seed))).ref.Load() != 0 {
			t.Fatalf("syscall lookup set key %d's reference bit", i)
		}
	}
	h.LookupElem(0, u32(2))
	if h.nodeOf(h.find(u32(2), hashKey(u32(2), h.seed))).ref.Load() == 0 {
		t.Fatal("program lookup did not set the reference bit")
	}
}

func TestLRUNoCommonRoundsMaxEntries(t *testing.T) {
	h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 10, Flags: linux.BPF_F_NO_COMMON_LRU}).(*Hash)
	if h.Info().MaxEntries != 12 {
		t.Fatalf("max_entries %d, want 12 (rounded up to a multiple of %d CPUs)", h.Info().MaxEntries, testCPUs)
	}
	// Each CPU's LRU holds 3: a fourth key from CPU 1 evicts one of CPU
	// 1's, not another CPU's.
	for cpu := 0; cpu < testCPUs; cpu++ {
		for i := 0; i < 3; i++ {
			wantErr(t, "fill", h.UpdateElem(cpu, u32(uint32(cpu*10+i)), u64(0), 0), 0)
		}
	}
	wantErr(t, "insert", h.UpdateElem(1, u32(99), u64(0), 0), 0)
	for cpu := 0; cpu < testCPUs; cpu++ {
		n := 0
		for i := 0; i < 3; i++ {
			if h.LookupElem(cpu, u32(uint32(cpu*10+i))) != nil {
				n++
			}
		}
		if want := map[bool]int{true: 2, false: 3}[cpu == 1]; n != want {
			t.Fatalf("cpu %d keeps %d keys, want %d", cpu, n, want)
		}
	}
}

func TestHashKeyHashSpreads(t *testing.T) {
	// Sequential small keys must spread over the buckets.
	const n = 1 << 12
	counts := make([]int, n)
	for i := uint32(0); i < n; i++ {
		counts[hashKey(u32(i), 12345)&(n-1)]++
	}
	worst := 0
	for _, c := range counts {
		worst = max(worst, c)
	}
	if worst > 9 {
		t.Fatalf("a bucket got %d of %d sequential keys", worst, n)
	}
}

// TestHashInlineLookup: the direct lookup verified programs call (one
// specialised per key size where the table has a fast path) finds what
// LookupElem finds, on every CPU, for every key size and kind; and the
// fast paths' hashes are hashKey's, which updates use.
func TestHashInlineLookup(t *testing.T) {
	for _, kind := range hashKinds {
		for size := uint32(1); size <= 20; size++ {
			t.Run(fmt.Sprintf("%v/%x/key%d", kind.typ, kind.flags, size), func(t *testing.T) {
				h := mustNew(t, Spec{Type: kind.typ, KeySize: size, ValueSize: 8, MaxEntries: 64, Flags: kind.flags}).(*Hash)
				key := func(i int) []byte {
					k := make([]byte, size)
					for j := range k {
						k[j] = byte(i*7 + j*3 + 1)
					}
					return k
				}
				for i := 0; i < 40; i++ {
					wantErr(t, "update", h.UpdateElem(i%testCPUs, key(i), u64(uint64(i)), 0), 0)
				}
				l, ok := h.InlineLookup()
				if !ok || l.Lookup == nil || l.Array != nil || l.KeySize != size || l.ValueSize != 8 || !l.Writable {
					t.Fatalf("inline form %+v, %v", l, ok)
				}
				for i := 0; i < 60; i++ {
					k := key(i)
					for cpu := 0; cpu <= testCPUs; cpu++ {
						want := h.LookupElem(cpu, k)
						if got := l.Lookup(uint32(cpu), unsafe.Pointer(&k[0])); got != want {
							t.Fatalf("key %d cpu %d: direct %p, LookupElem %p", i, cpu, got, want)
						}
						if found := want != nil; found != (i < 40 && cpu < testCPUs) {
							t.Fatalf("key %d cpu %d: found %v", i, cpu, found)
						}
					}
				}
				if h.keyWords <= 2 {
					k := key(3)
					want := hashKey(k, h.seed)
					w0 := loadWord(k[:min(8, len(k))])
					var got uint32
					if h.keyWords == 1 {
						got = hashFinish(h.hashStart, w0)
					} else {
						got = hashFinish(hashStep(h.hashStart, w0), loadWord(k[8:]))
					}
					if got != want {
						t.Fatalf("fast path hash %#x, hashKey %#x", got, want)
					}
				}
			})
		}
	}
}

// TestHashOfMapsNotInlined: lookups in a hash of maps return maps, not
// values, and keep the helper.
func TestHashOfMapsNotInlined(t *testing.T) {
	inner := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	m := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: inner})
	if _, ok := m.(vm.LookupInliner); ok {
		t.Fatal("a hash of maps offers an inline lookup")
	}
	if _, ok := m.(*HashOfMaps).h.InlineLookup(); ok {
		t.Fatal("the table under a hash of maps offers an inline lookup")
	}
}

// trapHost is a host whose CPU 1 runs programs in trap context.
type trapHost struct{ FixedHost }

func (trapHost) InTrap(cpu int) bool { return cpu == 1 }

// A BPF_F_NO_PREALLOC table has its first chunk from creation (the
// prefill); programs in trap context take its elements but never grow the
// table (ENOMEM when it is used up), programs elsewhere and the syscall
// side do.
func TestHashNoPreallocInTrap(t *testing.T) {
	m, err := New(Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 10000, Flags: linux.BPF_F_NO_PREALLOC}, trapHost{testHost})
	if err != nil {
		t.Fatal(err)
	}
	h := m.(*Hash)
	var i uint32
	for ; ; i++ {
		err := h.UpdateElem(1, u32(i), make([]byte, 8), 0)
		if err == linux.ENOMEM {
			break
		}
		wantErr(t, "insert from a trap", err, 0)
	}
	if i != hashChunkLen {
		t.Errorf("a trap inserted %d elements before ENOMEM, want the first chunk's %d", i, hashChunkLen)
	}
	wantErr(t, "insert outside a trap", h.UpdateElem(0, u32(i), make([]byte, 8), 0), 0)
	wantErr(t, "insert from a trap after the growth", h.UpdateElem(1, u32(i+1), make([]byte, 8), 0), 0)
}
