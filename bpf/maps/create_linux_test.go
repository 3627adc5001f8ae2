//go:build linux

package maps

import (
	"fmt"
	"testing"

	"hachi/syscall/linux"
)

// TestCreateMatchesLinux creates maps from a valid spec per kind and from
// variations of one attribute at a time, on Hachi and on the host kernel,
// and requires the same answer (success or the same errno).
func TestCreateMatchesLinux(t *testing.T) {
	ncpu := needHost(t)
	host := FixedHost{CPUs: ncpu}
	type variation struct {
		name  string
		apply func(*Spec)
	}
	keySizes := func(sizes ...uint32) []variation {
		var v []variation
		for _, s := range sizes {
			v = append(v, variation{fmt.Sprintf("key%d", s), func(sp *Spec) { sp.KeySize = s }})
		}
		return v
	}
	valueSizes := func(sizes ...uint32) []variation {
		var v []variation
		for _, s := range sizes {
			v = append(v, variation{fmt.Sprintf("value%d", s), func(sp *Spec) { sp.ValueSize = s; sp.MaxEntries = 1 }})
		}
		return v
	}
	entries := func(ns ...uint32) []variation {
		var v []variation
		for _, n := range ns {
			v = append(v, variation{fmt.Sprintf("entries%d", n), func(sp *Spec) { sp.MaxEntries = n }})
		}
		return v
	}
	var flagVars []variation
	for bit := 0; bit < 14; bit++ {
		flagVars = append(flagVars, variation{fmt.Sprintf("flag%d", bit), func(sp *Spec) { sp.Flags |= 1 << bit }})
	}
	flagVars = append(flagVars,
		variation{"rdonly+wronly", func(sp *Spec) { sp.Flags |= linux.BPF_F_RDONLY | linux.BPF_F_WRONLY }},
		variation{"rdonly_prog+wronly_prog", func(sp *Spec) { sp.Flags |= linux.BPF_F_RDONLY_PROG | linux.BPF_F_WRONLY_PROG }},
		variation{"numa0", func(sp *Spec) { sp.Flags |= linux.BPF_F_NUMA_NODE }},
		variation{"numa1", func(sp *Spec) { sp.Flags |= linux.BPF_F_NUMA_NODE; sp.NumaNode = 1 }},
		variation{"numa_none", func(sp *Spec) { sp.Flags |= linux.BPF_F_NUMA_NODE; sp.NumaNode = 0xffffffff }},
		variation{"extra1", func(sp *Spec) { sp.Extra = 1 }},
		variation{"extra15", func(sp *Spec) { sp.Extra = 15 }},
		variation{"extra16", func(sp *Spec) { sp.Extra = 16 }},
	)
	hashValues := valueSizes(1, 4, kmallocMaxSize-htabElemSize-9, kmallocMaxSize-htabElemSize-8, kmallocMaxSize,
		pcpuMinUnitSize, pcpuMinUnitSize+1)
	kinds := []struct {
		spec Spec
		vars [][]variation
	}{
		{Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0, 1, 8), valueSizes(0, 1, 7, pcpuMinUnitSize+1), entries(0, 1), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0, 8), valueSizes(0, 1, pcpuMinUnitSize, pcpuMinUnitSize+1), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_PROG_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4},
			[][]variation{keySizes(8), valueSizes(0, 8), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4},
			[][]variation{keySizes(8), valueSizes(8), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0, 1, 3, 300), hashValues, entries(0, 1<<28, 1<<28+1), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0, 5), hashValues, entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0), valueSizes(0), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_LRU_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(0), valueSizes(0, pcpuMinUnitSize+1), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_QUEUE, KeySize: 0, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(4), valueSizes(0, kmallocMaxSize, kmallocMaxSize+1), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_STACK, KeySize: 0, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(4), valueSizes(0), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096},
			[][]variation{keySizes(4), valueSizes(4), entries(0, 1, 4097, 8192, 12288, 1<<20), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 8, MaxEntries: 4, Flags: linux.BPF_F_NO_PREALLOC},
			[][]variation{keySizes(4, 5, 260, 261), valueSizes(0, 1, lpmValSizeMax, lpmValSizeMax+1), entries(0),
				flagVars, {{"prealloc", func(sp *Spec) { sp.Flags &^= linux.BPF_F_NO_PREALLOC }}}}},
		{Spec{Type: linux.BPF_MAP_TYPE_BLOOM_FILTER, KeySize: 0, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(4), valueSizes(0, kmallocMaxSize, kmallocMaxSize+1), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 8, MaxEntries: 4},
			[][]variation{keySizes(8), valueSizes(0, 4, 12, 127*8, 128*8), entries(0), flagVars}},
		{Spec{Type: linux.BPF_MAP_TYPE_UNSPEC, KeySize: 4, ValueSize: 4, MaxEntries: 4}, nil},
		{Spec{Type: 1000, KeySize: 4, ValueSize: 4, MaxEntries: 4}, nil},
	}
	for _, k := range kinds {
		cases := []variation{{"valid", func(*Spec) {}}}
		for _, vs := range k.vars {
			cases = append(cases, vs...)
		}
		for _, c := range cases {
			spec := k.spec
			c.apply(&spec)
			if spec.Type == linux.BPF_MAP_TYPE_STACK_TRACE && spec.Flags&linux.BPF_F_STACK_BUILD_ID != 0 {
				continue // Hachi answers ENOTSUPP: no build ids (tested below)
			}
			name := fmt.Sprintf("%v/%s", spec.Type, c.name)
			t.Run(name, func(t *testing.T) {
				hm, herr := newHostMap(spec, nil)
				if hm != nil {
					hm.close()
				}
				_, err := New(spec, host)
				if got, want := errnoOf(err), errnoOf(herr); got != want {
					t.Errorf("%+v: Hachi %s, Linux %s", spec, errName(got), errName(want))
				}
			})
		}
	}
}

// TestCreateMapInMapMatchesLinux checks inner map templates against Linux.
func TestCreateMapInMapMatchesLinux(t *testing.T) {
	ncpu := needHost(t)
	host := FixedHost{CPUs: ncpu}
	inners := []Spec{
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_QUEUE, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096},
		{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 8, MaxEntries: 4, Flags: linux.BPF_F_NO_PREALLOC},
		{Type: linux.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_PROG_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	}
	outers := []Spec{
		{Type: linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Type: linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: linux.BPF_F_RDONLY_PROG},
	}
	for _, is := range inners {
		hin, err := newHostMap(is, nil)
		if err != nil {
			t.Fatalf("host %v: %v", is.Type, err)
		}
		in, err := New(is, host)
		if err != nil {
			t.Fatalf("%v: %v", is.Type, err)
		}
		for _, os := range outers {
			t.Run(fmt.Sprintf("%v/%v/value%d/flags%#x", os.Type, is.Type, os.ValueSize, os.Flags), func(t *testing.T) {
				hm, herr := newHostMap(os, hin)
				if hm != nil {
					hm.close()
				}
				os.Inner = in
				_, err := New(os, host)
				if got, want := errnoOf(err), errnoOf(herr); got != want {
					t.Errorf("Hachi %s, Linux %s", errName(got), errName(want))
				}
			})
		}
		// An outer map as inner map: one level only.
		outer := outers[0]
		houter, err := newHostMap(outer, hin)
		if err == nil {
			outer.Inner = in
			mo, err := New(outer, host)
			if err != nil {
				t.Fatal(err)
			}
			_, herr := newHostMap(outers[1], houter)
			nested := outers[1]
			nested.Inner = mo
			_, err = New(nested, host)
			if got, want := errnoOf(err), errnoOf(herr); got != want {
				t.Errorf("nested map of maps: Hachi %s, Linux %s", errName(got), errName(want))
			}
			houter.close()
		}
		hin.close()
	}
}
