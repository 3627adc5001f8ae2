package maps

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Documentation/bpf/map_queue_stack.rst: FIFO and LIFO order, E2BIG when
// full, BPF_EXIST overwriting the oldest value, ENOENT (and a zeroed
// value) when empty.
func TestQueueStackProgramSide(t *testing.T) {
	for _, tc := range []struct {
		typ  linux.BPFMapType
		want []uint32 // pops after pushing 1,2,3 then 4 with BPF_EXIST
	}{
		{linux.BPF_MAP_TYPE_QUEUE, []uint32{2, 3, 4}},
		{linux.BPF_MAP_TYPE_STACK, []uint32{4, 3, 2}},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			q := mustNew(t, Spec{Type: tc.typ, ValueSize: 4, MaxEntries: 3}).(Queuer)
			for v := uint32(1); v <= 3; v++ {
				wantErr(t, "push", q.PushElem(1, u32(v), 0), 0)
			}
			wantErr(t, "push into a full map", q.PushElem(1, u32(4), 0), linux.E2BIG)
			wantErr(t, "push with BPF_EXIST", q.PushElem(1, u32(4), linux.BPF_EXIST), 0)
			wantErr(t, "push with BPF_NOEXIST", q.PushElem(1, u32(4), linux.BPF_NOEXIST), linux.EINVAL)
			out := u32(0xffffffff)
			wantErr(t, "peek", q.PeekElem(1, out), 0)
			if le32(out) != tc.want[0] {
				t.Fatalf("peek %d", le32(out))
			}
			for _, w := range tc.want {
				wantErr(t, "pop", q.PopElem(2, out), 0)
				if le32(out) != w {
					t.Fatalf("pop %d, want %d", le32(out), w)
				}
			}
			out = u32(0xffffffff)
			wantErr(t, "pop of an empty map", q.PopElem(2, out), linux.ENOENT)
			if le32(out) != 0 {
				t.Fatal("an empty pop must zero the value")
			}
			if q.LookupElem(0, nil) != nil {
				t.Fatal("keyed lookup of a queue")
			}
		})
	}
}

// TestLPMDocumentExample is the example of Documentation/bpf/map_lpm_trie.rst
// and lpm_trie.c's comment: 192.168.0.0/16, /24 subnets under it.
func TestLPMDocumentExample(t *testing.T) {
	trie := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 16, Flags: linux.BPF_F_NO_PREALLOC}).(*LPMTrie)
	entries := []struct {
		key   []byte
		value uint32
	}{
		{lpmKey(16, 192, 168, 0, 0), 1}, {lpmKey(24, 192, 168, 0, 0), 2},
		{lpmKey(24, 192, 168, 1, 0), 3}, {lpmKey(24, 192, 168, 128, 0), 4},
	}
	for _, e := range entries {
		wantErr(t, "insert", trie.UpdateElem(0, e.key, u32(e.value), 0), 0)
	}
	for _, c := range []struct {
		key  []byte
		want uint32 // 0: no match
	}{
		{lpmKey(32, 192, 168, 0, 1), 2}, {lpmKey(32, 192, 168, 1, 200), 3}, {lpmKey(32, 192, 168, 128, 9), 4},
		{lpmKey(32, 192, 168, 2, 1), 1}, {lpmKey(32, 192, 169, 0, 0), 0}, {lpmKey(16, 192, 168, 1, 1), 1},
		{lpmKey(8, 192, 168, 1, 1), 0},
	} {
		p := trie.LookupElem(0, c.key)
		got := uint32(0)
		if p != nil {
			got = *(*uint32)(p)
		}
		if got != c.want {
			t.Errorf("lookup %x: %d, want %d", c.key, got, c.want)
		}
	}
	// Postorder: more specific prefixes first.
	var order []uint32
	var prev []byte
	for {
		next := make([]byte, 8)
		if errors.Is(trie.NextKey(prev, next), linux.ENOENT) {
			break
		}
		v := make([]byte, 4)
		trie.Lookup(next, v, 0)
		order = append(order, le32(v))
		prev = next
	}
	if len(order) != 4 || order[0] != 2 || order[1] != 3 || order[2] != 4 || order[3] != 1 {
		t.Fatalf("iteration order %v, want [2 3 4 1]", order)
	}
}

func TestLPMFullTrie(t *testing.T) {
	trie := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 5, ValueSize: 1, MaxEntries: 2, Flags: linux.BPF_F_NO_PREALLOC}).(*LPMTrie)
	wantErr(t, "insert", trie.Update(lpmKey(8, 1), []byte{1}, 0), 0)
	wantErr(t, "insert", trie.Update(lpmKey(8, 2), []byte{2}, 0), 0)
	wantErr(t, "insert into a full trie", trie.Update(lpmKey(8, 3), []byte{3}, 0), linux.ENOSPC)
	wantErr(t, "replace in a full trie", trie.Update(lpmKey(8, 2), []byte{4}, 0), 0)
	wantErr(t, "delete", trie.Delete(lpmKey(8, 1)), 0)
	wantErr(t, "insert after delete", trie.Update(lpmKey(8, 3), []byte{3}, 0), 0)
	wantErr(t, "prefix past data", trie.Update(lpmKey(9, 3), []byte{3}, 0), linux.EINVAL)
}

func TestBloomFilterNoFalseNegatives(t *testing.T) {
	b := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 8, MaxEntries: 1000}).(*BloomFilter)
	for i := uint64(0); i < 1000; i++ {
		wantErr(t, "push", b.PushElem(int(i%testCPUs), u64(i*7919), 0), 0)
	}
	for i := uint64(0); i < 1000; i++ {
		wantErr(t, "peek of a pushed value", b.PeekElem(0, u64(i*7919)), 0)
	}
	falsePositives := 0
	for i := uint64(0); i < 10000; i++ {
		if b.PeekElem(0, u64(i*7919+1)) == nil {
			falsePositives++
		}
	}
	// 5 hashes, 7/5 bits per entry and hash, rounded to 8192 bits: about 2%.
	if falsePositives > 500 {
		t.Fatalf("%d false positives in 10000", falsePositives)
	}
	wantErr(t, "pop", b.PopElem(0, u64(0)), linux.EOPNOTSUPP)
	wantErr(t, "push with flags", b.PushElem(0, u64(0), linux.BPF_EXIST), linux.EINVAL)
}

func TestStackTrace(t *testing.T) {
	s := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 3 * 8, MaxEntries: 4}).(*StackTrace)
	id, err := s.GetStackID(0, []uint64{0x10, 0x20, 0x30, 0x40}, 0)
	wantErr(t, "get_stackid", err, 0)
	again, err := s.GetStackID(1, []uint64{0x10, 0x20, 0x30}, 0)
	if err != nil || again != id {
		t.Fatalf("the same (truncated) trace got id %d, err %v; want %d", again, err, id)
	}
	out := make([]byte, 24)
	wantErr(t, "lookup", s.Lookup(u32(id), out, 0), 0)
	if le32(out[16:]) != 0x30 {
		t.Fatalf("trace %x", out)
	}
	short, err := s.GetStackID(0, []uint64{0x99}, 0)
	wantErr(t, "another trace", err, 0)
	wantErr(t, "lookup", s.Lookup(u32(short), out, 0), 0)
	if le32(out) != 0x99 || le32(out[8:]) != 0 {
		t.Fatal("a short trace must be zero-padded")
	}
	_, err = s.GetStackID(0, nil, 0)
	wantErr(t, "empty trace", err, linux.EFAULT)
	// Find a different trace with the same id: EEXIST unless
	// BPF_F_REUSE_STACKID; BPF_F_FAST_STACK_CMP trusts the hash.
	var other []uint64
	for x := uint64(1); ; x++ {
		if hashTrace([]uint64{x})&s.mask == id && x != 0x10 {
			other = []uint64{x}
			break
		}
	}
	_, err = s.GetStackID(0, other, 0)
	wantErr(t, "id collision", err, linux.EEXIST)
	got, err := s.GetStackID(0, other, linux.BPF_F_REUSE_STACKID)
	if err != nil || got != id {
		t.Fatal("BPF_F_REUSE_STACKID must take over the id")
	}
	wantErr(t, "delete", s.Delete(u32(id)), 0)
	wantErr(t, "lookup deleted", s.Lookup(u32(id), out, 0), linux.ENOENT)
}

// fakeProg is a bpf()-layer program object for prog arrays.
type fakeProg struct {
	p   *vm.Program
	typ linux.BPFProgType
}

func (f fakeProg) VMProgram() *vm.Program      { return f.p }
func (f fakeProg) ProgType() linux.BPFProgType { return f.typ }

func loadProgram(t testing.TB, src string, helpers vm.Helpers, res vm.Resolver) *vm.Program {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := vm.Load(insns, vm.Options{Helpers: helpers, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	return vm.NewChecked(img)
}

func TestProgArray(t *testing.T) {
	pa := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PROG_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 2}).(*ProgArray)
	kprobe := fakeProg{loadProgram(t, "mov %r0, 7\nexit", nil, nil), linux.BPF_PROG_TYPE_KPROBE}
	wantErr(t, "store", pa.UpdateObject(u32(1), kprobe, 0), 0)
	if pa.Program(1) != kprobe.p || pa.Program(0) != nil || pa.Program(5) != nil || pa.Len() != 2 {
		t.Fatal("slots")
	}
	xdp := fakeProg{loadProgram(t, "mov %r0, 1\nexit", nil, nil), linux.BPF_PROG_TYPE_XDP}
	wantErr(t, "store a program of another type", pa.UpdateObject(u32(0), xdp, 0), linux.EINVAL)
	wantErr(t, "store with BPF_NOEXIST", pa.UpdateObject(u32(0), kprobe, linux.BPF_NOEXIST), linux.EINVAL)
	wantErr(t, "store out of range", pa.UpdateObject(u32(2), kprobe, 0), linux.E2BIG)
	wantErr(t, "store a non-program", pa.UpdateObject(u32(0), 42, 0), linux.EINVAL)
	obj, err := pa.LookupObject(u32(1))
	if err != nil || obj.(fakeProg).p != kprobe.p {
		t.Fatal("lookup object")
	}
	wantErr(t, "delete", pa.Delete(u32(1)), 0)
	wantErr(t, "delete empty", pa.Delete(u32(1)), linux.ENOENT)
	_, err = pa.LookupObject(u32(1))
	wantErr(t, "lookup empty", err, linux.ENOENT)
	pa.UpdateObject(u32(0), kprobe, 0)
	pa.Clear()
	if pa.Program(0) != nil {
		t.Fatal("clear")
	}
}

// fakeEvent is a perf event that records its outputs.
type fakeEvent struct {
	cpu    int
	output bool
	got    [][]byte
}

func (e *fakeEvent) BPFOutput() bool { return e.output }
func (e *fakeEvent) OnCPU() int      { return e.cpu }
func (e *fakeEvent) Output(cpu int, data []byte) error {
	e.got = append(e.got, append([]byte(nil), data...))
	return nil
}

func TestPerfEventArrayOutput(t *testing.T) {
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 3}).(*PerfEventArray)
	evs := []*fakeEvent{{cpu: 0, output: true}, {cpu: 1, output: true}, {cpu: 2, output: false}}
	for i, ev := range evs {
		wantErr(t, "store", a.UpdateObject(u32(uint32(i)), ev, 0), 0)
	}
	wantErr(t, "current CPU", a.Output(1, linux.BPF_F_CURRENT_CPU, []byte("x")), 0)
	if len(evs[1].got) != 1 {
		t.Fatal("BPF_F_CURRENT_CPU did not pick cpu 1's event")
	}
	wantErr(t, "explicit index", a.Output(0, 0, []byte("y")), 0)
	wantErr(t, "event on another CPU", a.Output(0, 1, []byte("z")), linux.EOPNOTSUPP)
	wantErr(t, "not a BPF output event", a.Output(2, 2, []byte("z")), linux.EINVAL)
	wantErr(t, "index past max_entries", a.Output(3, linux.BPF_F_CURRENT_CPU, []byte("z")), linux.E2BIG)
	wantErr(t, "flags past the index", a.Output(0, 1<<32, []byte("z")), linux.EINVAL)
	a.Delete(u32(0))
	wantErr(t, "empty slot", a.Output(0, 0, []byte("z")), linux.ENOENT)
	_, err := a.LookupObject(u32(1))
	wantErr(t, "lookup", err, linux.ENOTSUPP)
}

func TestMapInMapTemplates(t *testing.T) {
	inner := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	outerSpec := Spec{Type: linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: inner}
	outer := mustNew(t, outerSpec).(*ArrayOfMaps)
	h := vm.NewMapHandle(inner)
	wantErr(t, "store the template", outer.UpdateObject(u32(0), h, 0), 0)
	if outer.LookupElem(0, u32(0)) != unsafe.Pointer(h) {
		t.Fatal("a program's lookup must give the inner map's handle")
	}
	if outer.LookupElem(0, u32(1)) != nil {
		t.Fatal("empty slot")
	}
	bigger := vm.NewMapHandle(mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 5}))
	wantErr(t, "array of another size", outer.UpdateObject(u32(1), bigger, 0), linux.EINVAL)
	hash := vm.NewMapHandle(mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}))
	wantErr(t, "another kind", outer.UpdateObject(u32(1), hash, 0), linux.EINVAL)
	wantErr(t, "not a map", outer.UpdateObject(u32(1), "x", 0), linux.EINVAL)
	// BPF_F_INNER_MAP relaxes the size check for arrays.
	flexible := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4, Flags: linux.BPF_F_INNER_MAP})
	outerSpec.Inner = flexible
	outer2 := mustNew(t, outerSpec).(*ArrayOfMaps)
	bigFlexible := vm.NewMapHandle(mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 64, Flags: linux.BPF_F_INNER_MAP}))
	wantErr(t, "BPF_F_INNER_MAP array of another size", outer2.UpdateObject(u32(1), bigFlexible, 0), 0)

	hashOuter := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 8, ValueSize: 4, MaxEntries: 2, Inner: inner}).(*HashOfMaps)
	wantErr(t, "store", hashOuter.UpdateObject(u64(77), h, 0), 0)
	wantErr(t, "store NOEXIST", hashOuter.UpdateObject(u64(77), h, linux.BPF_NOEXIST), linux.EEXIST)
	if hashOuter.LookupElem(0, u64(77)) != unsafe.Pointer(h) || hashOuter.LookupElem(0, u64(78)) != nil {
		t.Fatal("hash of maps lookup")
	}
	obj, err := hashOuter.LookupObject(u64(77))
	if err != nil || obj.(*vm.MapHandle) != h {
		t.Fatal("lookup object")
	}
	wantErr(t, "delete", hashOuter.Delete(u64(77)), 0)
	if hashOuter.LookupElem(0, u64(77)) != nil {
		t.Fatal("deleted")
	}
	wantErr(t, "raw update", hashOuter.Update(u64(1), u32(3), 0), linux.EINVAL)
	_, err = New(Spec{Type: linux.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 8, ValueSize: 4, MaxEntries: 2}, testHost)
	wantErr(t, "no inner map", err, linux.EBADF)
}

func TestFrozenSyscallSide(t *testing.T) {
	for _, spec := range []Spec{
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 4, Flags: linux.BPF_F_NO_PREALLOC},
	} {
		m := mustNew(t, spec)
		key := u32(1)
		if spec.Type == linux.BPF_MAP_TYPE_LPM_TRIE {
			key = lpmKey(8, 1, 2, 3, 4)
		}
		wantErr(t, "update", m.Update(key, u32(1), 0), 0)
		wantErr(t, "freeze", m.(Freezer).Freeze(), 0)
		wantErr(t, "syscall update of a frozen map", m.Update(key, u32(1), 0), linux.EPERM)
		wantErr(t, "program update of a frozen map", m.UpdateElem(0, key, u32(2), 0), 0)
		out := make([]byte, 4)
		wantErr(t, "lookup of a frozen map", m.Lookup(key, out, 0), 0)
		if le32(out) != 2 {
			t.Fatal("programs still write a frozen map")
		}
	}
}

func ExampleNew() {
	host := FixedHost{CPUs: 2}
	m, _ := New(Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, host)
	key := []byte{1, 0, 0, 0}
	// A program on CPU 1 inserts, then reads through the value's address.
	m.UpdateElem(1, key, []byte{42, 0, 0, 0, 0, 0, 0, 0}, linux.BPF_NOEXIST)
	p := m.LookupElem(1, key)
	fmt.Println(*(*uint64)(p))
	// User space reads a copy; a second insert of the key fails.
	value := make([]byte, m.Info().SyscallValueSize())
	m.Lookup(key, value, 0)
	fmt.Println(value[0], m.Update(key, value, linux.BPF_NOEXIST))
	// Output:
	// 42
	// 42 File exists
}

// A program in trap context may look an LPM trie up but not change it:
// its nodes are allocated and linked by pointers.
func TestLPMInTrap(t *testing.T) {
	m, err := New(Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 8, MaxEntries: 16, Flags: linux.BPF_F_NO_PREALLOC}, trapHost{testHost})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "update from a trap", m.UpdateElem(1, lpmKey(16, 10, 1), u64(1), 0), linux.ENOMEM)
	wantErr(t, "update outside a trap", m.UpdateElem(0, lpmKey(16, 10, 1), u64(1), 0), 0)
	if p := m.LookupElem(1, lpmKey(32, 10, 1, 2, 3)); p == nil || *(*uint64)(p) != 1 {
		t.Error("lookup from a trap")
	}
	wantErr(t, "delete from a trap", m.DeleteElem(1, lpmKey(16, 10, 1)), linux.EBUSY)
	wantErr(t, "delete outside a trap", m.DeleteElem(0, lpmKey(16, 10, 1)), 0)
}
