package helpers_test

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Programs on every simulated CPU (a goroutine each with its own Env, as
// the kernel keeps an Env per CPU) and the syscall side at the same time.
// Run with -race.

// onCPUs runs prog testCPUs times in parallel, n runs each, while sys
// loops until they are done.
func onCPUs(t *testing.T, w *world, p *vm.Program, n int, ctx func(cpu, i int) []byte, sys func()) {
	t.Helper()
	var wg sync.WaitGroup
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		for !stop.Load() {
			sys()
			// Yield: without preemption (GOOS=tamago on one CPU, like
			// js/wasm) this loop would keep the CPU from the programs.
			runtime.Gosched()
		}
		close(done)
	}()
	errs := make(chan error, testCPUs)
	for cpu := 0; cpu < testCPUs; cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := w.newEnv(uint32(cpu))
			for i := 0; i < n; i++ {
				if _, err := p.Run(env, vm.Bytes(ctx(cpu, i), true)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	<-done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestConcurrentProgramsCount(t *testing.T) {
	both(t, func(t *testing.T, checked bool) {
		w := newWorld(t)
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
		w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 64})
		// Count in the array, and per CPU in the hash: insert the CPU's
		// key with BPF_NOEXIST if needed, then add atomically.
		p := w.load(counterProgram[:len(counterProgram)-len("\tmov %r0, 0\n\texit\n")]+`
			call 8
			stxw [%r10-4], %r0
			mov %r1, 0
			stxdw [%r10-16], %r1
			lddw %r1, map_fd 1
			mov %r2, %r10
			add %r2, -4
			mov %r3, %r10
			add %r3, -16
			mov %r4, 1
			call 2
			lddw %r1, map_fd 1
			mov %r2, %r10
			add %r2, -4
			call 1
			jeq %r0, 0, exit
			mov %r1, 1
			lock add [%r0+0], %r1
			mov %r0, 0
			exit
		`, linux.BPF_PROG_TYPE_KPROBE, checked)
		const n = 3000
		out := make([]byte, 8)
		onCPUs(t, w, p, n, func(int, int) []byte { return ctxOf(0) }, func() {
			w.maps[0].Lookup(u32b(0), out, 0)
			w.maps[1].Lookup(u32b(1), out, 0)
		})
		w.maps[0].Lookup(u32b(0), out, 0)
		if got := binary.LittleEndian.Uint64(out); got != testCPUs*n {
			t.Fatalf("array counted %d of %d", got, testCPUs*n)
		}
		for cpu := uint32(0); cpu < testCPUs; cpu++ {
			if err := w.maps[1].Lookup(u32b(cpu), out, 0); err != nil || binary.LittleEndian.Uint64(out) != n {
				t.Fatalf("cpu %d counted %d of %d (%v)", cpu, binary.LittleEndian.Uint64(out), n, err)
			}
		}
	})
}

func TestConcurrentProgramsRingbuf(t *testing.T) {
	w := newWorld(t)
	w.mapFD(maps.Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 1 << 16})
	// Each run outputs {cpu, rdi}; a full ring drops the record (EAGAIN).
	p := w.load(`
		ldxdw %r6, [%r1+112]
		call 8
		stxdw [%r10-16], %r0
		stxdw [%r10-8], %r6
		lddw %r1, map_fd 0
		mov %r2, %r10
		add %r2, -16
		mov %r3, 16
		mov %r4, 0
		call 130
		exit
	`, linux.BPF_PROG_TYPE_KPROBE, false)
	r := w.maps[0].(*maps.RingBuf).Reader()
	next := make([]uint64, testCPUs)
	var bad int
	consume := func() {
		r.Consume(0, func(s []byte) error {
			cpu, i := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
			if cpu >= testCPUs || i < next[cpu] {
				bad++
			} else {
				next[cpu] = i + 1
			}
			return nil
		})
	}
	onCPUs(t, w, p, 5000, func(_, i int) []byte { return ctxOf(uint64(i)) }, consume)
	consume()
	if bad != 0 {
		t.Fatalf("%d records out of order or corrupt", bad)
	}
	// A full ring drops records (the program gets EAGAIN), and a CPU may
	// have run while the consumer did not: only require that records came.
	var total uint64
	for _, n := range next {
		total += n
	}
	if total == 0 {
		t.Fatal("no records")
	}
}
