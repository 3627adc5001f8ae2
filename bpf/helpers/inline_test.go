package helpers_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// TestInlinedLookups: verified programs look up arrays and hash tables
// without the helper (the interpreter computes an array's address, calls a
// table's lookup directly), and find exactly what the helper finds for a
// checked program: the same value for every key, CPU and kind, NULL for
// missing keys and indexes past the end. Per-CPU values differ per CPU.
func TestInlinedLookups(t *testing.T) {
	// Looks up the key rdi (zero-extended to 16 bytes at r10-16) and
	// returns the u64 at the start of its value, or -1.
	const src = `
		stdw [%r10-16], 0
		stdw [%r10-8], 0
		ldxdw %r6, [%r1+112]
		stxdw [%r10-16], %r6
		lddw %r1, map_fd 0
		mov %r2, %r10
		add %r2, -16
		call 1
		jeq %r0, 0, miss
		ldxdw %r0, [%r0+0]
		exit
	miss:
		mov %r0, -1
		exit`
	kinds := []maps.Spec{
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 10, Flags: linux.BPF_F_MMAPABLE},
		{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 12, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 16, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 10, Flags: linux.BPF_F_NO_PREALLOC},
		{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 10},
		{Type: linux.BPF_MAP_TYPE_LRU_PERCPU_HASH, KeySize: 16, ValueSize: 8, MaxEntries: 10},
	}
	for _, spec := range kinds {
		t.Run(fmt.Sprintf("%v/key%d/%#x", spec.Type, spec.KeySize, spec.Flags), func(t *testing.T) {
			w := newWorld(t)
			w.mapFD(spec)
			m := w.maps[0]
			vs := m.Info().SyscallValueSize()
			for k := uint64(0); k < 8; k++ {
				key := make([]byte, spec.KeySize)
				binary.LittleEndian.PutUint32(key, uint32(k))
				value := make([]byte, vs)
				for off := 0; off < vs; off += 8 {
					binary.LittleEndian.PutUint64(value[off:], 100*k+uint64(off/8)) // CPU off/8
				}
				if err := m.Update(key, value, 0); err != nil {
					t.Fatal(err)
				}
			}
			verified := w.load(src, linux.BPF_PROG_TYPE_KPROBE, false)
			checked := w.load(src, linux.BPF_PROG_TYPE_KPROBE, true)
			if n := len(verified.Image().InlinedLookups()); n != 1 {
				t.Fatalf("%d lookups inlined, want 1", n)
			}
			perCPU := m.Info().PerCPU()
			for cpu := uint32(0); cpu < testCPUs; cpu++ {
				for _, k := range []uint64{0, 1, 7, 8, 9, 10, 1 << 31, 1<<32 - 1} {
					ctx := ctxOf(k)
					want := w.run(checked, cpu, ctx)
					got := w.run(verified, cpu, ctx)
					if got != want {
						t.Fatalf("cpu %d key %d: inlined %#x, helper %#x", cpu, k, int64(got), int64(want))
					}
					present := k < 8 || (spec.Type == linux.BPF_MAP_TYPE_ARRAY || spec.Type == linux.BPF_MAP_TYPE_PERCPU_ARRAY) && k < 10
					switch {
					case !present && got != ^uint64(0):
						t.Fatalf("cpu %d key %d: found %#x", cpu, k, got)
					case present && k < 8 && perCPU && got != 100*k+uint64(cpu):
						t.Fatalf("cpu %d key %d: %d, want CPU %d's value", cpu, k, got, cpu)
					case present && k < 8 && !perCPU && got != 100*k:
						t.Fatalf("cpu %d key %d: %d", cpu, k, got)
					}
				}
			}
		})
	}
}

// TestInlinedLookupOutOfRangeCPU: an Env claiming a CPU the maps have no
// slot for finds nothing, inline as through the helper.
func TestInlinedLookupOutOfRangeCPU(t *testing.T) {
	w := newWorld(t)
	w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	p := w.load(counterProgram, linux.BPF_PROG_TYPE_KPROBE, false)
	if len(p.Image().InlinedLookups()) != 1 {
		t.Fatal("not inlined")
	}
	env := vm.NewEnv()
	env.CPU = testCPUs
	if r0, err := p.Run(env, vm.Bytes(ctxOf(0), false)); r0 != 0 || err != nil {
		t.Fatalf("r0 %d, %v", r0, err)
	}
	out := make([]byte, 8*testCPUs)
	if err := w.maps[0].Lookup(make([]byte, 4), out, 0); err != nil || !bytes.Equal(out, make([]byte, len(out))) {
		t.Fatalf("%v %x", err, out)
	}
}
