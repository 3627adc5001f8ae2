package helpers_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Benchmarks of map lookups and updates from a program (verified, through
// the VM and the helper call), from the helper alone, from the syscall
// side, and from a Go map behind a mutex as the native reference; and of
// ring buffer reserve+submit. Reference figures of Linux on this machine
// (JIT, /work/shared/NOTES.md): array lookup 0.67 ns, hash lookup 4.98 ns.
//
//	go test -run XXX -bench . -benchtime 1s ./bpf/helpers/

// perProgram is how many map calls a benchmark program makes per run.
const perProgram = 32

var benchKinds = []struct {
	name string
	spec maps.Spec
}{
	{"array", maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"hash", maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"lru_hash", maps.Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
}

// lookupProgram makes perProgram lookups of key 7 (and, in the loop, a
// null check), like a program reading a map in a hot path.
func lookupProgram() string {
	var b strings.Builder
	b.WriteString("mov %r6, 7\nstxw [%r10-4], %r6\nmov %r7, 0\n")
	for i := 0; i < perProgram; i++ {
		b.WriteString("lddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nadd %r7, 1\n")
	}
	b.WriteString("mov %r0, %r7\nexit\n")
	return b.String()
}

// updateProgram makes perProgram updates of key 7 with BPF_ANY.
func updateProgram() string {
	var b strings.Builder
	b.WriteString("mov %r6, 7\nstxw [%r10-4], %r6\nstxdw [%r10-16], %r6\n")
	for i := 0; i < perProgram; i++ {
		b.WriteString("lddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\n")
	}
	b.WriteString("exit\n")
	return b.String()
}

// emptyProgram is lookupProgram's instructions without the calls: the
// cost of the program around them.
func emptyProgram() string {
	var b strings.Builder
	b.WriteString("mov %r6, 7\nstxw [%r10-4], %r6\nmov %r7, 0\n")
	for i := 0; i < perProgram; i++ {
		b.WriteString("lddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\nmov %r0, %r2\njeq %r0, 0, +1\nadd %r7, 1\n")
	}
	b.WriteString("mov %r0, %r7\nexit\n")
	return b.String()
}

func BenchmarkProgramBaseline(b *testing.B) {
	w := newWorld(b)
	p := w.load(emptyProgram(), linux.BPF_PROG_TYPE_KPROBE, false)
	env := w.newEnv(0)
	ctx := vm.Bytes(ctxOf(0), false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Run(env, ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perProgram), "ns/slot")
}

func BenchmarkLookup(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name+"/program", func(b *testing.B) {
			w := newWorld(b)
			w.mapFD(k.spec)
			w.maps[0].Update(u32b(7), u64b(1), 0)
			p := w.load(lookupProgram(), linux.BPF_PROG_TYPE_KPROBE, false)
			env := w.newEnv(0)
			ctx := vm.Bytes(ctxOf(0), false)
			if r, _ := p.Run(env, ctx); r != perProgram {
				b.Fatalf("found %d", r)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Run(env, ctx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perProgram), "ns/lookup")
		})
		b.Run(k.name+"/helper", func(b *testing.B) {
			w := newWorld(b)
			w.mapFD(k.spec)
			w.maps[0].Update(u32b(7), u64b(1), 0)
			impl, _ := w.set.ForProgType(linux.BPF_PROG_TYPE_KPROBE, allCaps)
			lookup := impl[linux.BPF_FUNC_map_lookup_elem]
			env := vm.NewEnv()
			key := u32b(7)
			h := w.hs[0].Addr()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if lookup(env, h, addr(key), 0, 0, 0) == 0 {
					b.Fatal("not found")
				}
			}
		})
		b.Run(k.name+"/syscall", func(b *testing.B) {
			m, _ := maps.New(k.spec, maps.FixedHost{CPUs: testCPUs})
			m.Update(u32b(7), u64b(1), 0)
			key, out := u32b(7), make([]byte, 8)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if m.Lookup(key, out, 0) != nil {
					b.Fatal("not found")
				}
			}
		})
	}
	b.Run("gomap_mutex", func(b *testing.B) {
		var mu sync.Mutex
		gm := map[uint32]uint64{7: 1}
		var sink uint64
		for i := 0; i < b.N; i++ {
			mu.Lock()
			sink += gm[7]
			mu.Unlock()
		}
		_ = sink
	})
}

// The in-program lookup benchmark (issue 5). Each run of lookupNetProgram
// makes perProgram lookups, each the sequence a compiler emits:
//
//	lddw r1, map; mov r2, r10; add r2, -16; call 1; jeq r0, 0, +1; add r7, 1
//
// and lookupNetBaseline is the same program with every `call 1` removed
// (r0 is set once, non-zero, so the branches go the same way). Three
// figures per map kind, measured in the same loop, in interleaved blocks of
// 8 runs (256 lookups) so that load on the machine hits all three alike,
// each the median over the blocks (a block during which the machine gave
// the CPU to someone else is an outlier the median ignores):
//
//   - ns/lookup: the lookup program's time per lookup sequence (raw: the
//     six instructions around and including the call);
//   - net-ns/lookup: (lookup program - baseline program) per lookup: what
//     the lookup itself costs, the surrounding instructions excluded. This
//     is the figure issue 5's goals (array < 2 ns, hash < 10 ns) and Linux's
//     (array 0.67 ns, hash 4.98 ns, JIT) are about;
//   - native-ns/lookup: the native reference, a Go map behind a
//     sync.Mutex, keyed like the map (uint32, uint64, [2]uint64).
//
//	go test -run XXX -bench ProgramLookup -count 10 ./bpf/helpers/

// lookupNetKinds are the maps of BenchmarkProgramLookup: the kinds Linux
// inlines or calls directly, hashes with the common key sizes.
var lookupNetKinds = []struct {
	name string
	spec maps.Spec
}{
	{"array", maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"percpu_array", maps.Spec{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key4", maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key8", maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 1024}},
	{"hash/key16", maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 16, ValueSize: 8, MaxEntries: 1024}},
	{"percpu_hash/key4", maps.Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
	{"lru_hash/key4", maps.Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1024}},
}

// lookupNetProgram is the lookup program (with the call) or its baseline
// (without): the key, 7 zero-extended to 16 bytes, is at r10-16.
func lookupNetProgram(withCall bool) string {
	var b strings.Builder
	b.WriteString("mov %r6, 7\nstxdw [%r10-16], %r6\nmov %r6, 0\nstxdw [%r10-8], %r6\nmov %r7, 0\nmov %r0, 1\n")
	for i := 0; i < perProgram; i++ {
		b.WriteString("lddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -16\n")
		if withCall {
			b.WriteString("call 1\n")
		}
		b.WriteString("jeq %r0, 0, +1\nadd %r7, 1\n")
	}
	b.WriteString("mov %r0, %r7\nexit\n")
	return b.String()
}

// nativeLookup returns n lookups of key 7 in a Go map behind a mutex,
// keyed like a map with keySize-byte keys.
func nativeLookup(keySize uint32) func(n int) uint64 {
	var mu sync.Mutex
	switch keySize {
	case 4:
		m := map[uint32]uint64{7: 1}
		return func(n int) (sum uint64) {
			for i := 0; i < n; i++ {
				mu.Lock()
				sum += m[7]
				mu.Unlock()
			}
			return sum
		}
	case 8:
		m := map[uint64]uint64{7: 1}
		return func(n int) (sum uint64) {
			for i := 0; i < n; i++ {
				mu.Lock()
				sum += m[7]
				mu.Unlock()
			}
			return sum
		}
	}
	m := map[[2]uint64]uint64{{7, 0}: 1}
	return func(n int) (sum uint64) {
		for i := 0; i < n; i++ {
			mu.Lock()
			sum += m[[2]uint64{7, 0}]
			mu.Unlock()
		}
		return sum
	}
}

// median is the median of v (which it sorts).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func BenchmarkProgramLookup(b *testing.B) {
	const runs = 8 // program runs per timed block
	for _, k := range lookupNetKinds {
		b.Run(k.name, func(b *testing.B) {
			w := newWorld(b)
			w.mapFD(k.spec)
			key := make([]byte, k.spec.KeySize)
			key[0] = 7
			value := make([]byte, w.maps[0].Info().SyscallValueSize())
			if err := w.maps[0].Update(key, value, 0); err != nil {
				b.Fatal(err)
			}
			lookup := w.load(lookupNetProgram(true), linux.BPF_PROG_TYPE_KPROBE, false)
			baseline := w.load(lookupNetProgram(false), linux.BPF_PROG_TYPE_KPROBE, false)
			native := nativeLookup(k.spec.KeySize)
			env := w.newEnv(0)
			ctx := vm.Bytes(ctxOf(0), false)
			var inProgram, net, inGo []float64 // per block, ns per lookup
			const n = runs * perProgram
			for b.Loop() {
				t0 := time.Now()
				for i := 0; i < runs; i++ {
					if r0, err := lookup.Run(env, ctx); r0 != perProgram || err != nil {
						b.Fatalf("lookup program: %d, %v", r0, err)
					}
				}
				t1 := time.Now()
				for i := 0; i < runs; i++ {
					baseline.Run(env, ctx)
				}
				t2 := time.Now()
				if native(n) != n {
					b.Fatal("native lookup failed")
				}
				t3 := time.Now()
				inProgram = append(inProgram, float64(t1.Sub(t0).Nanoseconds())/n)
				net = append(net, float64((t1.Sub(t0)-t2.Sub(t1)).Nanoseconds())/n)
				inGo = append(inGo, float64(t3.Sub(t2).Nanoseconds())/n)
			}
			b.ReportMetric(median(inProgram), "ns/lookup")
			b.ReportMetric(median(net), "net-ns/lookup")
			b.ReportMetric(median(inGo), "native-ns/lookup")
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name+"/program", func(b *testing.B) {
			w := newWorld(b)
			w.mapFD(k.spec)
			p := w.load(updateProgram(), linux.BPF_PROG_TYPE_KPROBE, false)
			env := w.newEnv(0)
			ctx := vm.Bytes(ctxOf(0), false)
			if r, _ := p.Run(env, ctx); r != 0 {
				b.Fatalf("update: %d", int64(r))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Run(env, ctx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perProgram), "ns/update")
		})
		b.Run(k.name+"/syscall", func(b *testing.B) {
			m, _ := maps.New(k.spec, maps.FixedHost{CPUs: testCPUs})
			key, value := u32b(7), u64b(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := m.Update(key, value, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("gomap_mutex", func(b *testing.B) {
		var mu sync.Mutex
		gm := map[uint32]uint64{}
		for i := 0; i < b.N; i++ {
			mu.Lock()
			gm[7] = uint64(i)
			mu.Unlock()
		}
	})
}

// BenchmarkLookupParallel is the lookup from every CPU at once: lock-free
// lookups should scale.
func BenchmarkLookupParallel(b *testing.B) {
	for _, k := range benchKinds[:2] {
		b.Run(k.name, func(b *testing.B) {
			w := newWorld(b)
			w.mapFD(k.spec)
			w.maps[0].Update(u32b(7), u64b(1), 0)
			p := w.load(lookupProgram(), linux.BPF_PROG_TYPE_KPROBE, false)
			var next uint32
			var mu sync.Mutex
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				env := w.newEnv(next % testCPUs)
				next++
				mu.Unlock()
				ctx := vm.Bytes(ctxOf(0), false)
				for pb.Next() {
					p.Run(env, ctx)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perProgram), "ns/lookup")
		})
	}
}

func BenchmarkRingbuf(b *testing.B) {
	for _, size := range []int{8, 64, 512} {
		b.Run(fmt.Sprintf("reserve_submit/%d", size), func(b *testing.B) {
			m, _ := maps.New(maps.Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 1 << 20}, maps.FixedHost{CPUs: 1})
			rb := m.(*maps.RingBuf)
			r := rb.Reader()
			b.SetBytes(int64(size))
			for i := 0; i < b.N; i++ {
				p := rb.Reserve(0, uint64(size))
				if p == nil {
					r.Consume(0, func([]byte) error { return nil })
					p = rb.Reserve(0, uint64(size))
				}
				*(*uint64)(p) = uint64(i)
				maps.RingBufCommit(uintptr(p), linux.BPF_RB_NO_WAKEUP, false)
			}
		})
	}
	b.Run("program_output/16", func(b *testing.B) {
		w := newWorld(b)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 1 << 20})
		p := w.load(`
			stxdw [%r10-16], %r1
			stxdw [%r10-8], %r1
			lddw %r1, map_fd 0
			mov %r2, %r10
			add %r2, -16
			mov %r3, 16
			mov %r4, 1
			call 130
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, false)
		r := w.maps[0].(*maps.RingBuf).Reader()
		env := w.newEnv(0)
		ctx := vm.Bytes(ctxOf(0), false)
		b.SetBytes(16)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if ret, _ := p.Run(env, ctx); ret != 0 {
				r.Consume(0, func([]byte) error { return nil })
			}
		}
	})
	b.Run("gochan/16", func(b *testing.B) {
		ch := make(chan [16]byte, 1<<16)
		b.SetBytes(16)
		for i := 0; i < b.N; i++ {
			select {
			case ch <- [16]byte{}:
			default:
				for len(ch) > 0 {
					<-ch
				}
			}
		}
	})
}

var _ = binary.LittleEndian
var _ = unsafe.Pointer(nil)
