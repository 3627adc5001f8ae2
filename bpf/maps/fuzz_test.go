package maps

import (
	"bytes"
	"errors"
	"sort"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// The fuzz targets run random operation sequences against a map and a
// simple model of Linux's documented behaviour, and fail on the first
// disagreement. Crashers the fuzzer finds are kept in testdata/fuzz.

// opReader decodes fuzz input into operations.
type opReader struct{ b []byte }

func (r *opReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *opReader) done() bool { return len(r.b) == 0 }

var hashKinds = []struct {
	typ   linux.BPFMapType
	flags uint32
}{
	{linux.BPF_MAP_TYPE_HASH, 0},
	{linux.BPF_MAP_TYPE_HASH, linux.BPF_F_NO_PREALLOC},
	{linux.BPF_MAP_TYPE_PERCPU_HASH, 0},
	{linux.BPF_MAP_TYPE_LRU_HASH, 0},
	{linux.BPF_MAP_TYPE_LRU_PERCPU_HASH, linux.BPF_F_NO_COMMON_LRU},
}

func FuzzHash(f *testing.F) {
	f.Add([]byte{0, 5, 0, 1, 1, 0, 1, 2, 1, 3, 0, 9, 0, 3, 2, 1})
	f.Add([]byte{3, 9, 0, 1, 1, 0, 2, 1, 0, 3, 1, 0, 4, 1, 0, 5, 1, 0, 6, 4, 2, 2, 5, 0, 5})
	f.Add([]byte{1, 200, 0, 1, 1, 0, 2, 1, 0, 3, 1, 0, 4, 1, 0, 5, 1, 2, 1, 2, 2, 6, 6, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &opReader{data}
		kind := hashKinds[int(r.byte())%len(hashKinds)]
		max := uint32(r.byte()%16) + 1
		spec := Spec{Type: kind.typ, KeySize: 2, ValueSize: 3, MaxEntries: max, Flags: kind.flags}
		h := mustNew(t, spec).(*Hash)
		lru := h.lru != nil
		max = h.Info().MaxEntries
		model := map[string][]byte{} // key -> syscall value
		vs := h.Info().SyscallValueSize()
		l, _ := h.InlineLookup()
		direct := func(cpu int, k []byte) unsafe.Pointer { return l.Lookup(uint32(cpu), unsafe.Pointer(&k[0])) }
		for step := 0; !r.done(); step++ {
			op, k, cpu := r.byte()%7, []byte{r.byte() % 24, 1}, int(r.byte()%testCPUs)
			v := bytes.Repeat([]byte{byte(step)}, vs)
			if !h.percpu {
				v = v[:3]
			}
			prev, had := model[string(k)]
			if lru && had && h.LookupElem(cpu, k) == nil {
				delete(model, string(k)) // evicted
				prev, had = nil, false
			}
			switch op {
			case 0, 1, 2: // syscall update with flags ANY, NOEXIST, EXIST
				flags := uint64(op)
				err := h.Update(k, v, flags)
				switch {
				case lru && had && flags == linux.BPF_NOEXIST && err == nil:
					// The element the update took was the key's own: an
					// LRU may evict the very key being updated (Linux
					// takes the new element before looking the key up).
					model[string(k)] = v
				case lru && had && flags == linux.BPF_EXIST && errors.Is(err, linux.ENOENT):
					delete(model, string(k)) // evicted by its own update, as above
				case had && flags == linux.BPF_NOEXIST:
					wantErr(t, "NOEXIST on a present key", err, linux.EEXIST)
				case !had && flags == linux.BPF_EXIST:
					wantErr(t, "EXIST on an absent key", err, linux.ENOENT)
				case !had && !lru && len(model) == int(max):
					wantErr(t, "insert into a full table", err, linux.E2BIG)
				default:
					wantErr(t, "update", err, 0)
					model[string(k)] = v
				}
			case 3: // syscall lookup, and the program's through both paths
				out := make([]byte, vs)
				err := h.Lookup(k, out, 0)
				if !had {
					wantErr(t, "lookup of an absent key", err, linux.ENOENT)
				} else if err != nil || !bytes.Equal(out, prev) {
					t.Fatalf("step %d: lookup %x: %v %x, want %x", step, k, err, out, prev)
				}
				p := h.LookupElem(cpu, k)
				if (p != nil) != had || direct(cpu, k) != p {
					t.Fatalf("step %d: program lookup %x on cpu %d: %p, direct %p, present %v", step, k, cpu, p, direct(cpu, k), had)
				}
			case 4: // delete
				err := h.Delete(k)
				if had {
					wantErr(t, "delete", err, 0)
					delete(model, string(k))
				} else {
					wantErr(t, "delete of an absent key", err, linux.ENOENT)
				}
			case 5: // program update of one CPU's slot
				err := h.UpdateElem(cpu, k, v[:3], 0)
				if !had && !lru && len(model) == int(max) {
					wantErr(t, "program insert into a full table", err, linux.E2BIG)
					break
				}
				wantErr(t, "program update", err, 0)
				nv := append([]byte(nil), v[:3]...)
				if h.percpu {
					nv = make([]byte, vs)
					if had {
						copy(nv, prev)
					}
					copy(nv[cpu*8:], v[:3])
				}
				if lru && h.percpu {
					// The key may have been evicted by its own update, its
					// other CPUs' slots zeroed: take what the map holds once
					// this CPU's slot is checked.
					nv = make([]byte, vs)
					if err := h.Lookup(k, nv, 0); err != nil || !bytes.Equal(nv[cpu*8:cpu*8+3], v[:3]) {
						t.Fatalf("step %d: after a program update: %v %x", step, err, nv)
					}
				}
				model[string(k)] = nv
			case 6: // the key walk covers exactly the model
				var got []string
				var prevKey []byte
				for i := 0; ; i++ {
					next := make([]byte, 2)
					if err := h.NextKey(prevKey, next); errors.Is(err, linux.ENOENT) {
						break
					} else if err != nil || i > 100 {
						t.Fatalf("walk: %v", err)
					}
					got = append(got, string(next))
					prevKey = next
				}
				if lru {
					for _, k := range got {
						if _, ok := model[k]; !ok {
							t.Fatalf("walk found %x, never inserted or deleted", k)
						}
					}
					break
				}
				var want []string
				for k := range model {
					want = append(want, k)
				}
				sort.Strings(got)
				sort.Strings(want)
				if len(got) != len(want) || (len(got) > 0 && !equalStrings(got, want)) {
					t.Fatalf("step %d: walk %x, model %x", step, got, want)
				}
			}
			if n := h.Len(); n > int(max) || (!lru && n != len(model)) {
				t.Fatalf("step %d: %d elements, model %d, max %d", step, n, len(model), max)
			}
		}
	})
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lpmModel is the obvious longest-prefix match over a list of prefixes.
type lpmModel map[string]byte // masked key (prefixlen, data) -> value

func maskPrefix(n uint32, data []byte) []byte {
	out := make([]byte, len(data))
	for i := uint32(0); i < n; i++ {
		out[i/8] |= data[i/8] & (0x80 >> (i % 8))
	}
	return lpmKey(n, out...)
}

func (m lpmModel) lookup(n uint32, data []byte) (byte, bool) {
	for l := int(n); l >= 0; l-- {
		if v, ok := m[string(maskPrefix(uint32(l), data))]; ok {
			return v, true
		}
	}
	return 0, false
}

func FuzzLPMTrie(f *testing.F) {
	f.Add([]byte{4, 0, 16, 192, 168, 1, 0, 24, 192, 168, 1, 3, 32, 192, 168, 1, 2, 4, 16, 192, 168, 3, 32, 192, 168})
	f.Add([]byte{2, 0, 8, 10, 0, 1, 8, 11, 0, 0, 8, 12, 0, 2, 8, 10, 0, 4, 0, 0, 0, 5, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &opReader{data}
		max := uint32(r.byte()%8) + 1
		trie := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 6, ValueSize: 1, MaxEntries: max, Flags: linux.BPF_F_NO_PREALLOC}).(*LPMTrie)
		model := lpmModel{}
		for step := 0; !r.done(); step++ {
			op := r.byte() % 6
			n := uint32(r.byte() % 18)
			d := []byte{r.byte(), r.byte()}
			key := lpmKey(n, d...)
			var exact string
			var had bool
			if n <= 16 {
				exact = string(maskPrefix(n, d))
				_, had = model[exact]
			}
			switch op {
			case 0, 1, 2: // update with ANY, NOEXIST, EXIST
				err := trie.Update(key, []byte{byte(step)}, uint64(op))
				switch {
				case n > 16:
					wantErr(t, "prefix too long", err, linux.EINVAL)
				case had && op == linux.BPF_NOEXIST:
					wantErr(t, "NOEXIST", err, linux.EEXIST)
				case !had && op == linux.BPF_EXIST:
					wantErr(t, "EXIST", err, linux.ENOENT)
				case !had && len(model) == int(max):
					wantErr(t, "full", err, linux.ENOSPC)
				default:
					wantErr(t, "update", err, 0)
					model[exact] = byte(step)
				}
			case 3: // longest-prefix lookup
				var want byte
				var ok bool
				if n <= 16 {
					want, ok = model.lookup(n, d)
				}
				p := trie.LookupElem(0, key)
				if ok != (p != nil) || (ok && *(*byte)(p) != want) {
					t.Fatalf("step %d: lookup /%d %x: %v, want %d %v", step, n, d, p, want, ok)
				}
			case 4: // delete
				err := trie.Delete(key)
				switch {
				case n > 16:
					wantErr(t, "delete of a too long prefix", err, linux.EINVAL)
				case had:
					wantErr(t, "delete", err, 0)
					delete(model, exact)
				default:
					wantErr(t, "delete of an absent prefix", err, linux.ENOENT)
				}
			case 5: // walk: every element once, more specific before its ancestors
				seen := map[string]int{}
				var prev []byte
				for i := 0; ; i++ {
					next := make([]byte, 6)
					if err := trie.NextKey(prev, next); errors.Is(err, linux.ENOENT) {
						break
					} else if err != nil || i > 20 {
						t.Fatalf("walk: %v", err)
					}
					nn, _ := trie.splitKey(next)
					mk := string(maskPrefix(nn, next[4:]))
					if _, dup := seen[mk]; dup {
						t.Fatalf("walk returned %x twice", next)
					}
					seen[mk] = i
					prev = next
				}
				if len(seen) != len(model) {
					t.Fatalf("walk saw %d of %d", len(seen), len(model))
				}
				for k, i := range seen {
					kn, kd := trie.splitKey([]byte(k))
					for l := uint32(0); l < kn; l++ {
						if j, ok := seen[string(maskPrefix(l, kd))]; ok && j < i {
							t.Fatalf("ancestor /%d of %x came first", l, k)
						}
					}
				}
			}
			if trie.entries != uint32(len(model)) {
				t.Fatalf("step %d: %d entries, model %d", step, trie.entries, len(model))
			}
		}
	})
}

func FuzzQueueStack(f *testing.F) {
	f.Add([]byte{0, 3, 0, 1, 0, 2, 0, 3, 0, 4, 2, 4, 1, 0, 1, 0, 3, 0})
	f.Add([]byte{1, 2, 0, 1, 0, 2, 2, 9, 1, 0, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &opReader{data}
		typ := []linux.BPFMapType{linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK}[r.byte()%2]
		max := int(r.byte()%6) + 1
		q := mustNew(t, Spec{Type: typ, ValueSize: 2, MaxEntries: uint32(max)}).(*QueueStack)
		var model [][]byte // oldest first
		next := func() []byte {
			if typ == linux.BPF_MAP_TYPE_QUEUE {
				return model[0]
			}
			return model[len(model)-1]
		}
		for !r.done() {
			op, b := r.byte()%4, r.byte()
			v := []byte{b, ^b}
			switch op {
			case 0, 2: // push, BPF_EXIST for op 2
				flags := uint64(0)
				if op == 2 {
					flags = linux.BPF_EXIST
				}
				err := q.PushElem(0, v, flags)
				if len(model) == max && flags == 0 {
					wantErr(t, "push into a full map", err, linux.E2BIG)
					break
				}
				wantErr(t, "push", err, 0)
				if len(model) == max {
					model = model[1:]
				}
				model = append(model, v)
			case 1, 3: // pop, peek for op 3
				out := []byte{7, 7}
				var err error
				if op == 1 {
					err = q.PopElem(0, out)
				} else {
					err = q.PeekElem(0, out)
				}
				if len(model) == 0 {
					wantErr(t, "pop of an empty map", err, linux.ENOENT)
					if out[0] != 0 || out[1] != 0 {
						t.Fatal("not zeroed")
					}
					break
				}
				if err != nil || !bytes.Equal(out, next()) {
					t.Fatalf("pop %x %v, want %x", out, err, next())
				}
				if op == 1 {
					if typ == linux.BPF_MAP_TYPE_QUEUE {
						model = model[1:]
					} else {
						model = model[:len(model)-1]
					}
				}
			}
		}
	})
}
