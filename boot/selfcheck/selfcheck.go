// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package selfcheck is the first-boot check shared by the boot/<board>
// kernels: it prints the banner and what the machine has, checks that
// goroutines run on every CPU, that time.Sleep sleeps and that allocation
// and garbage collection work, then powers the machine off (exit status 0)
// or stops it with status 1.
package selfcheck

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Version is printed in the banner; the Makefile sets it from git.
var Version = "dev"

// Mode selects another run, set with -ldflags -X hachi/boot/selfcheck.Mode=...:
//   - "panic" panics after the banner: the kernel must print the panic and
//     stop with a non-zero status;
//   - "clock" prints "clock: tick N <nanoseconds>" after each of 10
//     time.Sleep(1s), for the host to compare with its own clock.
var Mode = ""

// Machine is what the check needs from a board.
type Machine struct {
	Arch     string
	NumCPU   func() int
	CPUID    func() int
	Poweroff func()
	Exit     func(code int32)
	// RAM returns the start and end of the RAM given to the runtime.
	RAM func() (start, end uint)
	// Info returns more lines to print after the banner (clock source...).
	Info func() []string
}

// Run runs the check and stops the machine; it does not return.
func Run(m Machine) {
	start, end := m.RAM()
	fmt.Printf("Hachi %s %s\n", Version, m.Arch)
	fmt.Printf("cpus: %d online\n", m.NumCPU())
	fmt.Printf("memory: %d MiB for the kernel at %#x-%#x\n", (end-start)>>20, start, end)
	if m.Info != nil {
		for _, l := range m.Info() {
			fmt.Println(l)
		}
	}

	switch Mode {
	case "panic":
		panic("selfcheck: deliberate panic (Mode=panic)")
	case "clock":
		t := time.Now()
		for i := range 10 {
			time.Sleep(time.Second)
			fmt.Printf("clock: tick %d %d\n", i+1, time.Since(t).Nanoseconds())
		}
		m.Poweroff()
	}

	ok := true
	for _, c := range []struct {
		name string
		run  func(Machine) error
	}{
		{"cpus", checkCPUs},
		{"sleep", checkSleep},
		{"gc", checkGC},
	} {
		if err := c.run(m); err != nil {
			fmt.Printf("selfcheck %s: FAIL: %v\n", c.name, err)
			ok = false
		}
	}
	if !ok {
		fmt.Println("selfcheck: FAIL")
		m.Exit(1)
	}
	fmt.Println("selfcheck: ok, powering off")
	m.Poweroff()
}

// checkCPUs runs busy goroutines until each CPU has been seen running one.
func checkCPUs(m Machine) error {
	n := m.NumCPU()
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
				seen.Or(1 << m.CPUID())
				for range 1000 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("cpus: goroutines ran on CPUs %b (GOMAXPROCS %d)\n", seen.Load(), runtime.GOMAXPROCS(0))
	if seen.Load() != all {
		return fmt.Errorf("goroutines ran on CPUs %b, want %b", seen.Load(), all)
	}
	return nil
}

// checkSleep measures time.Sleep(200ms) with the kernel's clock.
func checkSleep(Machine) error {
	const want = 200 * time.Millisecond
	t := time.Now()
	time.Sleep(want)
	got := time.Since(t)
	fmt.Printf("sleep: time.Sleep(200ms) took %.1f ms\n", float64(got)/1e6)
	if got < want || got > 2*want {
		return fmt.Errorf("slept %v, want %v", got, want)
	}
	return nil
}

// checkGC allocates 16 MiB in 256 KiB blocks, keeping a few alive and
// checking their contents, and forces a collection.
func checkGC(Machine) error {
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
	fmt.Printf("gc: %d MiB allocated, %d collections, heap %d MiB in use\n",
		(after.TotalAlloc-before.TotalAlloc)>>20, after.NumGC-before.NumGC, after.HeapAlloc>>20)
	if after.NumGC == before.NumGC {
		return fmt.Errorf("no collection ran")
	}
	return nil
}
