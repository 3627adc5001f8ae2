package kernel

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// selfcheck runs the machine checks and prints one line each.
func selfcheck(out io.Writer, b Board) error {
	failed := false
	for _, c := range []struct {
		name string
		run  func(io.Writer, Board) error
	}{
		{"cpus", checkCPUs},
		{"sleep", checkSleep},
		{"gc", checkGC},
	} {
		if err := c.run(out, b); err != nil {
			fmt.Fprintf(out, "selfcheck %s: FAIL: %v\n", c.name, err)
			failed = true
		}
	}
	if failed {
		return errors.New("selfcheck: FAIL")
	}
	fmt.Fprintln(out, "selfcheck: ok")
	return nil
}

// checkCPUs runs busy goroutines until each CPU has been seen running one.
func checkCPUs(out io.Writer, b Board) error {
	n := b.NumCPU()
	if n > 64 {
		return fmt.Errorf("%d CPUs, the check handles 64", n)
	}
	all := uint64(1)<<n - 1
	var seen atomic.Uint64
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for range 4 * n {
		wg.Go(func() {
			for seen.Load() != all && time.Now().Before(deadline) {
				seen.Or(1 << b.CPUID())
				for range 1000 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(out, "cpus: goroutines ran on CPUs %b\n", seen.Load())
	if seen.Load() != all {
		return fmt.Errorf("goroutines ran on CPUs %b, want %b", seen.Load(), all)
	}
	return nil
}

// checkSleep measures time.Sleep(200ms) with the kernel's clock; the host
// checks that clock against its own (qemu's boot tests).
func checkSleep(out io.Writer, _ Board) error {
	const want = 200 * time.Millisecond
	t := time.Now()
	time.Sleep(want)
	got := time.Since(t)
	fmt.Fprintf(out, "sleep: time.Sleep(200ms) took %.1f ms\n", float64(got)/1e6)
	if got < want {
		return fmt.Errorf("slept %v, want at least %v", got, want)
	}
	return nil
}

// checkGC allocates 16 MiB in 256 KiB blocks, keeping a few alive and
// checking their contents, and forces a collection.
func checkGC(out io.Writer, _ Board) error {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const block = 256 << 10
	var keep [4][]byte
	for i := range 64 {
		b := make([]byte, block)
		for j := range b {
			b[j] = byte(i + j)
		}
		keep[i%len(keep)] = b
	}
	for k, b := range keep {
		i := 60 + k
		for j := range b {
			if b[j] != byte(i+j) {
				return fmt.Errorf("block %d byte %d is %#x, want %#x", i, j, b[j], byte(i+j))
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Fprintf(out, "gc: %d MiB allocated, %d collections, heap %d MiB in use\n",
		(after.TotalAlloc-before.TotalAlloc)>>20, after.NumGC-before.NumGC, after.HeapAlloc>>20)
	if after.NumGC == before.NumGC {
		return errors.New("no collection ran")
	}
	return nil
}
