package verifier

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// directMap is a map with a direct lookup (that finds nothing), so that
// the interpreter can run lookups of it without the helper.
type directMap struct{}

func (directMap) InlineLookup() (vm.InlineLookup, bool) {
	return vm.InlineLookup{KeySize: 4, ValueSize: 8,
		Lookup: func(uint32, unsafe.Pointer) unsafe.Pointer { return nil }}, true
}

// TestLookupMaps: a lookup site whose map is one map on every path is
// recorded in Program.LookupMaps and runs without the helper; one that
// sees two maps (Linux's poisoned map_ptr_state), or an inner map known
// only at run time, keeps the helper call.
func TestLookupMaps(t *testing.T) {
	// Every case looks up key 0 (at r10-4) in the map r1 holds at `call 1`.
	const key = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\n"
	for _, tc := range []struct {
		name string
		src  string
		want []int // call sites looked up without the helper
	}{
		{"one map", `
			lddw %r1, map_fd 0
			` + key + `
			call 1
			exit`, []int{5}},
		{"two calls, two maps", `
			lddw %r1, map_fd 0
			` + key + `
			call 1
			lddw %r1, map_fd 1
			` + key + `
			call 1
			exit`, []int{5, 11}},
		{"the same map on both branches", `
			ldxdw %r6, [%r1+0]
			lddw %r1, map_fd 0
			jeq %r6, 0, +2
			lddw %r1, map_fd 0
			` + key + `
			call 1
			exit`, []int{9}},
		{"a map per branch", `
			ldxdw %r6, [%r1+0]
			lddw %r1, map_fd 0
			jeq %r6, 0, +2
			lddw %r1, map_fd 1
			` + key + `
			call 1
			exit`, nil},
		{"a subprogram called with one map", `
			lddw %r1, map_fd 0
			call local f
			lddw %r1, map_fd 0
			call local f
			exit
		f:
			` + key + `
			call 1
			mov %r0, 0
			exit`, []int{10}},
		{"a subprogram called with two maps", `
			lddw %r1, map_fd 0
			call local f
			lddw %r1, map_fd 1
			call local f
			exit
		f:
			` + key + `
			call 1
			mov %r0, 0
			exit`, nil},
		{"an inner map", `
			lddw %r1, map_fd 2
			` + key + `
			call 1
			jeq %r0, 0, +6
			mov %r1, %r0
			` + key + `
			call 1
			mov %r0, 0
			exit`, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := asm.Assemble(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			protos, impl := testHelpers(linux.BPF_PROG_TYPE_KPROBE)
			var list MapList
			for i, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_ARRAY, linux.BPF_MAP_TYPE_HASH_OF_MAPS} {
				m := &Map{Name: fmt.Sprint("m", i), Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 4,
					Handle: vm.NewMapHandle(directMap{})}
				if typ == linux.BPF_MAP_TYPE_HASH_OF_MAPS {
					m.Inner = &Map{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}
				}
				list = append(list, m)
			}
			p, err := Verify(insns, Options{ProgType: linux.BPF_PROG_TYPE_KPROBE, Arch: ArchAMD64, GPL: true,
				Maps: list, Helpers: impl, Protos: protos})
			if err != nil {
				t.Fatal(err)
			}
			sites := slices.Sorted(maps.Keys(p.LookupMaps))
			if !slices.Equal(sites, tc.want) {
				t.Fatalf("LookupMaps at %v, want %v", sites, tc.want)
			}
			for i, m := range p.LookupMaps {
				if insns[i].Imm != 1 || m.Handle == nil || !slices.Contains(list, m) {
					t.Errorf("LookupMaps[%d] = %v", i, m)
				}
			}
			if got := p.Image().InlinedLookups(); !slices.Equal(got, tc.want) {
				t.Fatalf("inlined %v, want %v", got, tc.want)
			}
		})
	}
}
