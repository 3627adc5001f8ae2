package maps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

func TestArrayProgramAndSyscallFaces(t *testing.T) {
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 12, MaxEntries: 3}).(*Array)
	p := a.LookupElem(0, u32(2))
	if p == nil || uintptr(p)%8 != 0 {
		t.Fatalf("lookup of index 2: %p (values are 8-byte aligned)", p)
	}
	if a.LookupElem(0, u32(3)) != nil {
		t.Fatal("lookup past max_entries must be NULL")
	}
	if q := a.LookupElem(3, u32(2)); q != p {
		t.Fatal("a plain array has one value whatever the CPU")
	}
	// A program writes through the pointer; the syscall side reads it.
	*(*uint64)(p) = 0x1122334455667788
	out := make([]byte, 12)
	wantErr(t, "lookup", a.Lookup(u32(2), out, 0), 0)
	if binary.LittleEndian.Uint64(out) != 0x1122334455667788 {
		t.Fatalf("syscall lookup %x", out)
	}
	// The syscall side writes; the program's pointer sees it.
	wantErr(t, "update", a.Update(u32(2), []byte("ABCDEFGHIJKL"), linux.BPF_EXIST), 0)
	if string(unsafe.Slice((*byte)(p), 12)) != "ABCDEFGHIJKL" {
		t.Fatal("program pointer does not see the update")
	}
	wantErr(t, "program update NOEXIST", a.UpdateElem(1, u32(0), make([]byte, 12), linux.BPF_NOEXIST), linux.EEXIST)
	wantErr(t, "program update out of range", a.UpdateElem(1, u32(3), make([]byte, 12), 0), linux.E2BIG)
	wantErr(t, "program delete", a.DeleteElem(1, u32(0)), linux.EINVAL)
	wantErr(t, "program update bad flags", a.UpdateElem(1, u32(0), make([]byte, 12), 3), linux.EINVAL)
}

func TestPerCPUArray(t *testing.T) {
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 2}).(*Array)
	if a.Info().SyscallValueSize() != 8*testCPUs {
		t.Fatalf("syscall value size %d", a.Info().SyscallValueSize())
	}
	for cpu := 0; cpu < testCPUs; cpu++ {
		wantErr(t, "update", a.UpdateElem(cpu, u32(1), u32(uint32(100+cpu)), 0), 0)
	}
	ptrs := map[unsafe.Pointer]bool{}
	for cpu := 0; cpu < testCPUs; cpu++ {
		p := a.LookupElem(cpu, u32(1))
		if got := *(*uint32)(p); got != uint32(100+cpu) {
			t.Errorf("cpu %d sees %d", cpu, got)
		}
		if a.LookupPerCPUElem(u32(1), cpu) != p {
			t.Errorf("lookup_percpu_elem(cpu %d) is not cpu %d's slot", cpu, cpu)
		}
		ptrs[p] = true
	}
	if len(ptrs) != testCPUs {
		t.Fatal("CPUs share value slots")
	}
	if a.LookupPerCPUElem(u32(1), testCPUs) != nil || a.LookupElem(testCPUs, u32(1)) != nil {
		t.Fatal("a CPU past the possible ones must get NULL")
	}
	out := make([]byte, 8*testCPUs)
	wantErr(t, "lookup", a.Lookup(u32(1), out, 0), 0)
	for cpu := 0; cpu < testCPUs; cpu++ {
		if got := binary.LittleEndian.Uint64(out[cpu*8:]); got != uint64(100+cpu) {
			t.Errorf("syscall lookup: cpu %d slot %d", cpu, got)
		}
	}
	// The syscall side writes every CPU's slot, padding included.
	in := make([]byte, 8*testCPUs)
	for i := range in {
		in[i] = byte(i)
	}
	wantErr(t, "update", a.Update(u32(0), in, 0), 0)
	wantErr(t, "lookup", a.Lookup(u32(0), out, 0), 0)
	if !bytes.Equal(in, out) {
		t.Fatalf("per-CPU round trip %x != %x", out, in)
	}
	if a.LookupPerCPUElem(u32(0), 2) == nil || *(*uint32)(a.LookupPerCPUElem(u32(0), 2)) != binary.LittleEndian.Uint32(in[16:]) {
		t.Fatal("cpu 2's slot does not hold the third value")
	}
	plain := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 2}).(*Array)
	if plain.LookupPerCPUElem(u32(0), 0) != nil {
		t.Fatal("lookup_percpu_elem on a plain array must be NULL")
	}
}

// countVisitor counts visits and stops after stopAt (0: never).
type countVisitor struct {
	keys   []uint32
	values []uint64
	stopAt int
}

func (v *countVisitor) Visit(key, value unsafe.Pointer) bool {
	v.keys = append(v.keys, *(*uint32)(key))
	v.values = append(v.values, *(*uint64)(value))
	return v.stopAt > 0 && len(v.keys) == v.stopAt
}

func TestArrayForEach(t *testing.T) {
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 5}).(*Array)
	for i := uint32(0); i < 5; i++ {
		a.UpdateElem(1, u32(i), u64(uint64(i*10)), 0)
	}
	v := &countVisitor{}
	if n := a.ForEachElem(1, v); n != 5 {
		t.Fatalf("visited %d", n)
	}
	for i := range v.keys {
		if v.keys[i] != uint32(i) || v.values[i] != uint64(i*10) {
			t.Fatalf("visit %d: key %d value %d", i, v.keys[i], v.values[i])
		}
	}
	v = &countVisitor{stopAt: 2}
	if n := a.ForEachElem(1, v); n != 2 {
		t.Fatalf("a stop after 2 counted %d (Linux counts the stopping element)", n)
	}
	v = &countVisitor{}
	a.ForEachElem(0, v)
	if v.values[3] != 0 {
		t.Fatal("cpu 0 sees cpu 1's values")
	}
}

func TestArrayMmapAndDirectValue(t *testing.T) {
	_, err := New(Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: linux.BPF_F_MMAPABLE}, testHost)
	wantErr(t, "per-CPU mmapable", err, linux.EINVAL)
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1000, Flags: linux.BPF_F_MMAPABLE}).(*Array)
	mem, err := a.Mmap(0, 2*PageSize, true)
	wantErr(t, "mmap", err, 0)
	if uintptr(unsafe.Pointer(&mem[0]))%PageSize != 0 {
		t.Fatal("mapping is not page aligned")
	}
	binary.LittleEndian.PutUint64(mem[8*600:], 42)
	if word(a.LookupElem(0, u32(600))) != 42 {
		t.Fatal("a write through the mapping is not the map's value")
	}
	_, err = a.Mmap(0, 3*PageSize, false)
	wantErr(t, "mmap past the values", err, linux.EINVAL)
	_, err = a.Mmap(1, PageSize, false)
	wantErr(t, "mmap second page", err, 0)
	wantErr(t, "freeze while mapped writable", a.Freeze(), linux.EBUSY)
	a.MmapClosed(true)
	wantErr(t, "freeze", a.Freeze(), 0)
	_, err = a.Mmap(0, PageSize, true)
	wantErr(t, "writable mmap of a frozen map", err, linux.EPERM)
	_, err = a.Mmap(0, PageSize, false)
	wantErr(t, "read-only mmap of a frozen map", err, 0)
	_, _, err = a.DirectValue()
	wantErr(t, "direct value of a 1000-element array", err, linux.ENOTSUPP)

	one := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 20, MaxEntries: 1}).(*Array)
	p, size, err := one.DirectValue()
	if err != nil || size != 20 || p != one.LookupElem(0, u32(0)) {
		t.Fatalf("direct value %p %d %v", p, size, err)
	}
	_, err = one.Mmap(0, PageSize, false)
	wantErr(t, "mmap without BPF_F_MMAPABLE", err, linux.EINVAL)
}

func TestArrayBatch(t *testing.T) {
	a := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 5}).(*Array)
	keys, values := make([]byte, 3*4), make([]byte, 3*4)
	for i := 0; i < 3; i++ {
		putLE32(keys[i*4:], uint32(i+1))
		putLE32(values[i*4:], uint32(i+100))
	}
	if n, err := a.UpdateBatch(keys, values, 3, 0); n != 3 || err != nil {
		t.Fatalf("update batch %d %v", n, err)
	}
	_, err := a.UpdateBatch(keys, values, 3, linux.BPF_F_LOCK)
	wantErr(t, "batch with BPF_F_LOCK", err, linux.EINVAL)
	var got []uint32
	var pos []byte
	for {
		k, v := make([]byte, 2*4), make([]byte, 2*4)
		n, next, err := a.LookupBatch(pos, k, v, 2, false, 0)
		for i := uint32(0); i < n; i++ {
			got = append(got, le32(k[i*4:]), le32(v[i*4:]))
		}
		if errors.Is(err, linux.ENOENT) {
			break
		}
		wantErr(t, "lookup batch", err, 0)
		pos = next
	}
	want := []uint32{0, 0, 1, 100, 2, 101, 3, 102, 4, 0}
	if len(got) != len(want) {
		t.Fatalf("batches gave %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batches gave %v, want %v", got, want)
		}
	}
	_, _, err = a.LookupBatch(nil, keys, values, 3, true, 0)
	wantErr(t, "lookup-and-delete batch of an array", err, linux.ENOTSUPP)
	_, err = a.DeleteBatch(keys, 1, 0)
	wantErr(t, "delete batch of an array", err, linux.ENOTSUPP)
}

// TestArrayInlineLookup: the layout verified programs compute addresses
// from (array_map_gen_lookup) gives LookupElem's address for every index
// and CPU, and the checked mode's sizes and permissions are the map's.
func TestArrayInlineLookup(t *testing.T) {
	for _, tc := range []struct {
		typ   linux.BPFMapType
		flags uint32
	}{
		{linux.BPF_MAP_TYPE_ARRAY, 0},
		{linux.BPF_MAP_TYPE_ARRAY, linux.BPF_F_MMAPABLE},
		{linux.BPF_MAP_TYPE_ARRAY, linux.BPF_F_RDONLY_PROG},
		{linux.BPF_MAP_TYPE_PERCPU_ARRAY, 0},
	} {
		a := mustNew(t, Spec{Type: tc.typ, KeySize: 4, ValueSize: 12, MaxEntries: 5, Flags: tc.flags}).(*Array)
		l, ok := a.InlineLookup()
		if !ok || l.Array == nil || l.Lookup != nil || l.KeySize != 4 || l.ValueSize != 12 ||
			l.Writable != (tc.flags&linux.BPF_F_RDONLY_PROG == 0) {
			t.Fatalf("%v: inline form %+v, %v", tc, l, ok)
		}
		lay := l.Array
		if lay.MaxEntries != 5 || lay.CPUs != testCPUs {
			t.Fatalf("%v: layout %+v", tc, lay)
		}
		for cpu := uint32(0); cpu < testCPUs; cpu++ {
			for i := uint32(0); i < 5; i++ {
				got := unsafe.Add(lay.Values, uint64(i)*lay.ElemSize+uint64(cpu)*lay.CPUStride)
				if want := a.LookupElem(int(cpu), u32(i)); got != want {
					t.Fatalf("%v: index %d cpu %d at %p, LookupElem %p", tc, i, cpu, got, want)
				}
			}
		}
	}
}
