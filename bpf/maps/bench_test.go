package maps

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Benchmarks of the program side of lookups, per map kind and key size:
// LookupElem (what the bpf_map_lookup_elem helper calls) and the inline
// form verified programs run (vm.InlineLookup: here the direct lookup of hash
// tables; arrays' inline form is measured in bpf/helpers), against a Go map behind a sync.Mutex keyed the
// same way, the native reference. Each looks up keys 0..keys-1 of a table
// holding them all, in turn.
//
//	go test -run XXX -bench LookupElem ./bpf/maps/

const benchKeys = 1000

var benchLookupKinds = []struct {
	name string
	spec Spec
}{
	{"array", Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"percpu_array", Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key4", Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key8", Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key16", Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 16, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key12", Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 12, ValueSize: 8, MaxEntries: 1024}},
	{"hash_noprealloc/key4", Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024, Flags: linux.BPF_F_NO_PREALLOC}},
	{"percpu_hash/key4", Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"lru_hash/key4", Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
}

// benchKey is key i of a map with keySize-byte keys: i in the first 4
// bytes, the rest zero.
func benchKey(keySize uint32, i int) []byte {
	k := make([]byte, keySize)
	binary.LittleEndian.PutUint32(k, uint32(i))
	return k
}

func BenchmarkLookupElem(b *testing.B) {
	for _, k := range benchLookupKinds {
		m, err := New(k.spec, FixedHost{CPUs: 2})
		if err != nil {
			b.Fatal(err)
		}
		keys := make([][]byte, benchKeys)
		value := make([]byte, m.Info().SyscallValueSize())
		for i := range keys {
			keys[i] = benchKey(k.spec.KeySize, i)
			if err := m.Update(keys[i], value, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(k.name+"/LookupElem", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if m.LookupElem(1, keys[i%benchKeys]) == nil {
					b.Fatal("not found")
				}
			}
		})
		il, ok := m.(vm.LookupInliner)
		if !ok {
			continue
		}
		l, ok := il.InlineLookup()
		if !ok || l.Lookup == nil {
			continue // arrays: the VM computes the address, see bpf/helpers
		}
		b.Run(k.name+"/inline", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if l.Lookup(1, unsafe.Pointer(&keys[i%benchKeys][0])) == nil {
					b.Fatal("not found")
				}
			}
		})
	}
	for _, size := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("gomap_mutex/key%d", size), func(b *testing.B) {
			var mu sync.Mutex
			var found int
			switch size {
			case 4:
				m := map[uint32]uint64{}
				for i := range benchKeys {
					m[uint32(i)] = 1
				}
				for i := 0; b.Loop(); i++ {
					mu.Lock()
					_, ok := m[uint32(i%benchKeys)]
					mu.Unlock()
					if ok {
						found++
					}
				}
			case 8:
				m := map[uint64]uint64{}
				for i := range benchKeys {
					m[uint64(i)] = 1
				}
				for i := 0; b.Loop(); i++ {
					mu.Lock()
					_, ok := m[uint64(i%benchKeys)]
					mu.Unlock()
					if ok {
						found++
					}
				}
			default:
				m := map[[2]uint64]uint64{}
				for i := range benchKeys {
					m[[2]uint64{uint64(i), 0}] = 1
				}
				for i := 0; b.Loop(); i++ {
					mu.Lock()
					_, ok := m[[2]uint64{uint64(i % benchKeys), 0}]
					mu.Unlock()
					if ok {
						found++
					}
				}
			}
			if found != b.N {
				b.Fatalf("found %d of %d", found, b.N)
			}
		})
	}
}

// BenchmarkLookupLarge looks up 2^20 random 4-byte keys, in random order,
// in a table holding them all: lookups that miss the caches, where the
// layout of buckets and elements counts. The reference is a Go map behind
// a mutex.
func BenchmarkLookupLarge(b *testing.B) {
	const n = 1 << 20
	keys := make([]uint32, n)
	seen := map[uint32]bool{}
	for i := range keys {
		k := rand.Uint32()
		for seen[k] {
			k = rand.Uint32()
		}
		seen[k] = true
		keys[i] = k
	}
	order := rand.Perm(n)
	b.Run("hash", func(b *testing.B) {
		m, err := New(Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: n}, FixedHost{CPUs: 2})
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range keys {
			if err := m.Update(binary.LittleEndian.AppendUint32(nil, k), make([]byte, 8), 0); err != nil {
				b.Fatal(err)
			}
		}
		key := make([]byte, 4)
		for i := 0; b.Loop(); i++ {
			binary.LittleEndian.PutUint32(key, keys[order[i%n]])
			if m.LookupElem(1, key) == nil {
				b.Fatal("not found")
			}
		}
	})
	b.Run("gomap_mutex", func(b *testing.B) {
		var mu sync.Mutex
		m := make(map[uint32]uint64, n)
		for _, k := range keys {
			m[k] = 1
		}
		for i := 0; b.Loop(); i++ {
			mu.Lock()
			_, ok := m[keys[order[i%n]]]
			mu.Unlock()
			if !ok {
				b.Fatal("not found")
			}
		}
	})
}
