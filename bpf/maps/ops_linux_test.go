//go:build linux

package maps

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"hachi/syscall/linux"
)

// sysMap is the syscall face both Hachi's maps and the host's have.
type sysMap interface {
	Lookup(key, value []byte, flags uint64) error
	Update(key, value []byte, flags uint64) error
	Delete(key []byte) error
	NextKey(key, next []byte) error
}

// op is one syscall-side operation of a script.
type op struct {
	kind  string // lookup, update, delete, next, lookupdel, freeze
	key   []byte // nil: NULL
	value []byte
	flags uint64
}

// runOp runs o on m; the output is the value or next key read.
func runOp(m sysMap, o op, valueSize, keySize int) (linux.Errno, []byte) {
	switch o.kind {
	case "lookup":
		out := make([]byte, valueSize)
		if o.value != nil { // bloom filters read the value to test
			copy(out, o.value)
		}
		err := m.Lookup(o.key, out, o.flags)
		if err != nil {
			return errnoOf(err), nil
		}
		return 0, out
	case "update":
		return errnoOf(m.Update(o.key, o.value, o.flags)), nil
	case "delete":
		return errnoOf(m.Delete(o.key)), nil
	case "next":
		out := make([]byte, keySize)
		err := m.NextKey(o.key, out)
		if err != nil {
			return errnoOf(err), nil
		}
		return 0, out
	case "lookupdel":
		ld, ok := m.(interface {
			LookupAndDelete(key, value []byte, flags uint64) error
		})
		if !ok {
			return linux.ENOTSUPP, nil // bpf(2)'s answer for kinds without it
		}
		out := make([]byte, valueSize)
		err := ld.LookupAndDelete(o.key, out, o.flags)
		if err != nil {
			return errnoOf(err), nil
		}
		return 0, out
	case "freeze":
		return errnoOf(m.(interface{ Freeze() error }).Freeze()), nil
	}
	panic("unknown op " + o.kind)
}

// compareScript runs ops on a Hachi map and a host map of spec and
// requires the same errno and output for each.
func compareScript(t *testing.T, spec Spec, ops []op) {
	t.Helper()
	ncpu := needHost(t)
	hm, err := newHostMap(spec, nil)
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	defer hm.close()
	m, err := New(spec, FixedHost{CPUs: ncpu})
	if err != nil {
		t.Fatal(err)
	}
	vs := m.Info().SyscallValueSize()
	for i, o := range ops {
		ge, gout := runOp(m, o, vs, int(spec.KeySize))
		we, wout := runOp(hm, o, vs, int(spec.KeySize))
		if ge != we || !bytes.Equal(gout, wout) {
			t.Errorf("op %d %s key=%x value=%x flags=%#x: Hachi %s %x, Linux %s %x",
				i, o.kind, o.key, o.value, o.flags, errName(ge), gout, errName(we), wout)
		}
	}
}

func TestArrayMatchesLinux(t *testing.T) {
	spec := Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 12, MaxEntries: 4}
	v := []byte("abcdefghijkl")
	compareScript(t, spec, []op{
		{kind: "lookup", key: u32(0)},
		{kind: "update", key: u32(1), value: v},
		{kind: "lookup", key: u32(1)},
		{kind: "update", key: u32(1), value: v, flags: linux.BPF_NOEXIST},
		{kind: "update", key: u32(1), value: v, flags: linux.BPF_EXIST},
		{kind: "update", key: u32(1), value: v, flags: linux.BPF_F_LOCK},
		{kind: "update", key: u32(1), value: v, flags: 3},
		{kind: "update", key: u32(1), value: v, flags: 8},
		{kind: "update", key: u32(4), value: v},
		{kind: "update", key: u32(4), value: v, flags: linux.BPF_NOEXIST},
		{kind: "update", key: u32(4), value: v, flags: 8},
		{kind: "lookup", key: u32(4)},
		{kind: "lookup", key: u32(1), flags: linux.BPF_F_LOCK},
		{kind: "lookup", key: u32(1), flags: 1},
		{kind: "delete", key: u32(1)},
		{kind: "delete", key: u32(9)},
		{kind: "next", key: nil},
		{kind: "next", key: u32(0)},
		{kind: "next", key: u32(2)},
		{kind: "next", key: u32(3)},
		{kind: "next", key: u32(100)},
		{kind: "lookupdel", key: u32(1)},
		{kind: "freeze"},
		{kind: "freeze"},
		{kind: "update", key: u32(1), value: v},
		{kind: "delete", key: u32(1)},
		{kind: "lookup", key: u32(1)},
	})
}

func TestPerCPUArrayMatchesLinux(t *testing.T) {
	ncpu := needHost(t)
	spec := Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 5, MaxEntries: 3}
	v := make([]byte, 8*ncpu)
	for i := range v {
		v[i] = byte(i + 1) // padding bytes too: Linux keeps them
	}
	compareScript(t, spec, []op{
		{kind: "lookup", key: u32(2)},
		{kind: "update", key: u32(2), value: v},
		{kind: "lookup", key: u32(2)},
		{kind: "update", key: u32(2), value: v, flags: linux.BPF_NOEXIST},
		{kind: "update", key: u32(3), value: v},
		{kind: "lookup", key: u32(3)},
		{kind: "delete", key: u32(0)},
		{kind: "next", key: u32(1)},
	})
}

// TestHashMatchesLinux drives both hash tables through the same random
// operations (and the same edge cases), comparing every answer.
func TestHashMatchesLinux(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_PERCPU_HASH} {
		for _, flags := range []uint32{0, linux.BPF_F_NO_PREALLOC} {
			t.Run(fmt.Sprintf("%v/flags%d", typ, flags), func(t *testing.T) {
				ncpu := needHost(t)
				spec := Spec{Type: typ, KeySize: 6, ValueSize: 10, MaxEntries: 8, Flags: flags}
				vs := Info{Type: typ, ValueSize: 10, CPUs: ncpu}.SyscallValueSize()
				rng := rand.New(rand.NewPCG(1, uint64(flags)))
				var ops []op
				key := func() []byte { return []byte{byte(rng.IntN(12)), 0, 0, 0, 0, 7} }
				for i := 0; i < 400; i++ {
					val := make([]byte, vs)
					for j := range val {
						val[j] = byte(rng.Uint32())
					}
					switch rng.IntN(6) {
					case 0, 1:
						ops = append(ops, op{kind: "update", key: key(), value: val, flags: uint64(rng.IntN(3))})
					case 2:
						ops = append(ops, op{kind: "lookup", key: key()})
					case 3:
						ops = append(ops, op{kind: "delete", key: key()})
					case 4:
						ops = append(ops, op{kind: "lookupdel", key: key()})
					case 5:
						ops = append(ops, op{kind: "update", key: key(), value: val, flags: []uint64{linux.BPF_F_LOCK, 3, 8}[rng.IntN(3)]})
					}
				}
				ops = append(ops, op{kind: "lookup", key: key(), flags: linux.BPF_F_LOCK}, op{kind: "lookupdel", key: key(), flags: 8},
					op{kind: "freeze"}, op{kind: "update", key: key(), value: make([]byte, vs)}, op{kind: "delete", key: key()},
					op{kind: "lookupdel", key: key()})
				compareScript(t, spec, ops)
			})
		}
	}
}

// keysOf walks m with NextKey from NULL and returns the keys, sorted.
func keysOf(t *testing.T, m sysMap, keySize int) []string {
	t.Helper()
	var keys []string
	var prev []byte
	for i := 0; ; i++ {
		next := make([]byte, keySize)
		if err := m.NextKey(prev, next); err != nil {
			if errnoOf(err) != linux.ENOENT {
				t.Fatalf("next key: %v", err)
			}
			break
		}
		if i > 10000 {
			t.Fatal("next key does not end")
		}
		keys = append(keys, string(next))
		prev = next
	}
	sort.Strings(keys)
	return keys
}

// TestHashIterationMatchesLinux compares the key sets a NextKey walk gives
// (the order depends on the hash function, which differs), and a walk from
// a deleted key (Linux restarts from the first bucket).
func TestHashIterationMatchesLinux(t *testing.T) {
	ncpu := needHost(t)
	spec := Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 64}
	hm, err := newHostMap(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hm.close()
	m, _ := New(spec, FixedHost{CPUs: ncpu})
	for _, k := range []uint32{5, 9, 100, 7, 2, 64, 1000, 3} {
		for _, mm := range []sysMap{m, hm} {
			if err := mm.Update(u32(k), u32(k*2), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := keysOf(t, m, 4), keysOf(t, hm, 4); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys: Hachi %x, Linux %x", got, want)
	}
	for _, mm := range []sysMap{m, hm} {
		next := make([]byte, 4)
		if err := mm.NextKey(u32(12345), next); err != nil {
			t.Fatalf("next of a missing key: %v", err)
		}
		first := make([]byte, 4)
		mm.NextKey(nil, first)
		if !bytes.Equal(next, first) {
			t.Errorf("%T: next of a missing key %x, first key %x", mm, next, first)
		}
	}
}

func TestQueueStackMatchesLinux(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK} {
		t.Run(typ.String(), func(t *testing.T) {
			spec := Spec{Type: typ, ValueSize: 4, MaxEntries: 3}
			var ops []op
			for i := uint32(1); i <= 4; i++ {
				ops = append(ops, op{kind: "update", value: u32(i)})
			}
			ops = append(ops,
				op{kind: "update", value: u32(9), flags: linux.BPF_EXIST},
				op{kind: "update", value: u32(9), flags: linux.BPF_NOEXIST},
				op{kind: "update", value: u32(9), flags: 4},
				op{kind: "lookup"},
				op{kind: "lookupdel"}, op{kind: "lookupdel"},
				op{kind: "update", value: u32(10)},
				op{kind: "lookupdel"}, op{kind: "lookupdel"}, op{kind: "lookupdel"}, op{kind: "lookupdel"},
				op{kind: "lookup"},
				op{kind: "lookupdel", flags: linux.BPF_F_LOCK},
				op{kind: "lookup", flags: 1},
				op{kind: "delete"},
				op{kind: "next"},
				op{kind: "update", value: u32(11)},
				op{kind: "freeze"},
				op{kind: "update", value: u32(12)},
				op{kind: "lookupdel"},
				op{kind: "lookup"},
			)
			compareScript(t, spec, ops)
		})
	}
}

func TestLPMTrieMatchesLinux(t *testing.T) {
	spec := Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 6, Flags: linux.BPF_F_NO_PREALLOC}
	var ops []op
	prefixes := []struct {
		n    uint32
		data []byte
	}{
		{16, []byte{192, 168, 0, 0}}, {24, []byte{192, 168, 0, 0}}, {24, []byte{192, 168, 1, 0}},
		{24, []byte{192, 168, 128, 0}}, {8, []byte{10, 0, 0, 0}}, {32, []byte{10, 1, 2, 3}},
		{0, []byte{0, 0, 0, 0}}, {24, []byte{192, 168, 1, 99}},
	}
	for i, p := range prefixes {
		ops = append(ops, op{kind: "update", key: lpmKey(p.n, p.data...), value: u32(uint32(i + 1))})
	}
	walk := func() {
		var prev []byte
		ops = append(ops, op{kind: "next", key: prev})
		for _, p := range prefixes {
			ops = append(ops, op{kind: "next", key: lpmKey(p.n, p.data...)})
		}
	}
	walk()
	for _, probe := range [][]byte{
		lpmKey(32, 192, 168, 1, 7), lpmKey(32, 192, 168, 2, 7), lpmKey(32, 192, 169, 0, 0), lpmKey(32, 10, 1, 2, 3),
		lpmKey(32, 10, 1, 2, 4), lpmKey(16, 192, 168, 1, 7), lpmKey(33, 192, 168, 1, 7), lpmKey(0, 1, 2, 3, 4),
		lpmKey(32, 11, 0, 0, 0),
	} {
		ops = append(ops, op{kind: "lookup", key: probe})
	}
	ops = append(ops,
		op{kind: "update", key: lpmKey(24, 192, 168, 1, 0), value: u32(77), flags: linux.BPF_NOEXIST},
		op{kind: "update", key: lpmKey(24, 192, 168, 1, 0), value: u32(77)},
		op{kind: "update", key: lpmKey(24, 192, 168, 9, 0), value: u32(77), flags: linux.BPF_EXIST},
		op{kind: "update", key: lpmKey(23, 192, 168, 0, 0), value: u32(78)},
		op{kind: "update", key: lpmKey(33, 192, 168, 0, 0), value: u32(78)},
		op{kind: "update", key: lpmKey(24, 192, 168, 0, 0), value: u32(78), flags: 4},
		op{kind: "lookup", key: lpmKey(32, 192, 168, 1, 1)},
		op{kind: "delete", key: lpmKey(16, 192, 168, 0, 0)},
		op{kind: "delete", key: lpmKey(16, 192, 168, 0, 0)},
		op{kind: "delete", key: lpmKey(23, 192, 168, 0, 0)},
		op{kind: "delete", key: lpmKey(40, 192, 168, 0, 0)},
		op{kind: "lookup", key: lpmKey(32, 192, 168, 77, 1)},
		op{kind: "update", key: lpmKey(20, 172, 16, 0, 0), value: u32(79)},
		op{kind: "update", key: lpmKey(12, 172, 16, 0, 0), value: u32(80)},
		op{kind: "lookupdel", key: lpmKey(20, 172, 16, 0, 0)},
	)
	walk()
	ops = append(ops, op{kind: "delete", key: lpmKey(24, 192, 168, 0, 0)}, op{kind: "delete", key: lpmKey(24, 192, 168, 128, 0)})
	walk()
	compareScript(t, spec, ops)
}

func TestBloomFilterMatchesLinux(t *testing.T) {
	spec := Spec{Type: linux.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 4, MaxEntries: 100, Extra: 3}
	var ops []op
	for _, v := range []uint32{1, 2, 3} {
		ops = append(ops, op{kind: "update", value: u32(v)})
	}
	for v := uint32(0); v < 6; v++ {
		ops = append(ops, op{kind: "lookup", value: u32(v)})
	}
	ops = append(ops,
		op{kind: "update", value: u32(4), flags: linux.BPF_NOEXIST},
		op{kind: "update", value: u32(4), flags: linux.BPF_EXIST},
		op{kind: "delete"}, op{kind: "next"}, op{kind: "lookupdel"},
		op{kind: "freeze"}, op{kind: "update", value: u32(5)}, op{kind: "lookup", value: u32(1)},
	)
	compareScript(t, spec, ops)
}

func TestRingBufSyscallMatchesLinux(t *testing.T) {
	compareScript(t, Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096}, []op{
		{kind: "lookup"}, {kind: "update"}, {kind: "delete"}, {kind: "next"}, {kind: "lookupdel"},
		{kind: "freeze"}, {kind: "update"}, {kind: "delete"},
	})
}

func TestStackTraceSyscallMatchesLinux(t *testing.T) {
	compareScript(t, Spec{Type: linux.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 16, MaxEntries: 4}, []op{
		{kind: "lookup", key: u32(0)}, {kind: "lookup", key: u32(9)}, {kind: "update", key: u32(0), value: make([]byte, 16)},
		{kind: "delete", key: u32(0)}, {kind: "delete", key: u32(9)}, {kind: "next"}, {kind: "next", key: u32(2)},
		{kind: "lookupdel", key: u32(0)},
	})
}

func TestFDArraysSyscallMatchesLinux(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_PROG_ARRAY, linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY} {
		t.Run(typ.String(), func(t *testing.T) {
			compareScript(t, Spec{Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 4}, []op{
				{kind: "delete", key: u32(0)}, {kind: "delete", key: u32(4)}, {kind: "next"}, {kind: "next", key: u32(3)},
				{kind: "next", key: u32(1)}, {kind: "lookupdel", key: u32(0)},
			})
		})
	}
}
