//go:build tamago

package kprobe_test

// In-guest tests: the real breakpoint traps of the running kernel, on
// both architectures (the per-architecture parts are in
// guest_<arch>_test.go). They run inside QEMU as tamago test binaries.

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hachi/kprobe"
	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

const probetestPkg = "hachi/kprobe/probetest."

func manager(t testing.TB) *kprobe.Manager {
	t.Helper()
	m, err := kprobes()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func place(t testing.TB, m *kprobe.Manager, spec perf.KprobeSpec, h perf.KprobeHandler) *kprobe.Probe {
	t.Helper()
	p, err := m.Place(spec, h)
	if err != nil {
		t.Fatalf("%+v: %v", spec, err)
	}
	return p
}

// recorder records the hits of a probe: how many per CPU, and the
// registers of the last one.
type recorder struct {
	perCPU [16]atomic.Int64
	mu     sync.Mutex
	regs   [64]uint64
	ip     uint64
	onHit  func()
}

func (r *recorder) Hit(cpu int, regs *perf.Regs) {
	r.perCPU[cpu].Add(1)
	copy(r.regs[:regs.Size/8], (*[64]uint64)(regs.Frame)[:regs.Size/8])
	r.ip = regs.IP
	if r.onHit != nil {
		r.onHit()
	}
}

func (r *recorder) total() int64 {
	n := int64(0)
	for i := range r.perCPU {
		n += r.perCPU[i].Load()
	}
	return n
}

func TestGuestArguments(t *testing.T) {
	m := manager(t)
	r := &recorder{}
	p := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Sum4"}, r)
	got := probetest.Sum4(1, 2, 3, 4)
	p.Unregister()
	if got != 30 || r.total() != 1 {
		t.Fatalf("Sum4 = %d, %d hits", got, r.total())
	}
	for i, want := range []uint64{1, 2, 3, 4} {
		if a := goArg(r.regs[:], i); a != want {
			t.Errorf("argument %d: %d in pt_regs, want %d", i, a, want)
		}
	}
	if r.ip != entryIP(p.Addr()) {
		t.Errorf("ip %#x, probe at %#x", r.ip, p.Addr())
	}
}

// TestGuestReturnProbe: the handler runs after the return, with the
// return value in PT_REGS_RC and the caller's address as ip.
func TestGuestReturnProbe(t *testing.T) {
	m := manager(t)
	r := &recorder{}
	p := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Target", Retprobe: true}, r)
	got := probetest.Target(6, 7)
	p.Unregister()
	if got != 49 || r.total() != 1 {
		t.Fatalf("Target = %d, %d hits", got, r.total())
	}
	if rc := r.regs[regsRC]; rc != 49 {
		t.Errorf("PT_REGS_RC %d, want 49", rc)
	}
	caller, _, ok := m.Symbols().LookupAddr(r.ip)
	if !ok || caller.Name != "hachi/kprobe_test.TestGuestReturnProbe" {
		t.Errorf("returned to %#x (%s)", r.ip, m.Symbols().Format(r.ip))
	}
}

// TestGuestEveryInstruction puts a probe on every instruction of
// functions with PC-relative data references, calls, conditional and
// indirect branches, jump tables, loops and returns, and checks that they
// compute what they compute unprobed.
func TestGuestEveryInstruction(t *testing.T) {
	m := manager(t)
	double := func(x int) int { return 2 * x }
	run := func() []int {
		var out []int
		for _, x := range []int{-3, 0, 1, 7, 11, 40} {
			out = append(out, probetest.Target(x, 5), probetest.Caller(x), probetest.Branch(x),
				*probetest.AddressOfGlobal(), probetest.Sum4(x, 1, 2, 3), probetest.Switch(x%10),
				probetest.Loop(x), probetest.Indirect(double, x), probetest.Recurse(3, x))
		}
		return out
	}
	want := run()
	r := &recorder{}
	var probes []*kprobe.Probe
	refused := 0
	for _, name := range []string{"Target", "Caller", "Branch", "AddressOfGlobal", "Sum4", "Switch", "Loop", "Indirect", "Recurse"} {
		fn, ok := m.Symbols().Lookup(probetestPkg + name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		addrs, err := m.Instructions(fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			p, err := m.Place(perf.KprobeSpec{Addr: a}, r)
			if errors.Is(err, linux.EOPNOTSUPP) {
				refused++
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", m.Symbols().Format(a), err)
			}
			probes = append(probes, p)
		}
	}
	got := run()
	for _, p := range probes {
		p.Unregister()
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("under %d probes: %v\nwithout: %v", len(probes), got, want)
	}
	t.Logf("%d probes (%d instructions refused), %d hits", len(probes), refused, r.total())
	if r.total() < int64(len(want)) {
		t.Errorf("only %d hits", r.total())
	}
	if fmt.Sprint(run()) != fmt.Sprint(want) {
		t.Error("results differ after the probes are gone")
	}
}

// TestGuestConcurrentHits runs the probed function on every CPU at once.
func TestGuestConcurrentHits(t *testing.T) {
	m := manager(t)
	r := &recorder{}
	p := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Target"}, r)
	defer p.Unregister()
	const calls = 2000
	var wg sync.WaitGroup
	var bad atomic.Int64
	workers := 4 * numCPU()
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				if probetest.Target(w, i) != w*i+7 {
					bad.Add(1)
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d wrong results", bad.Load())
	}
	if got := r.total(); got != int64(workers*calls) || p.Hits() != uint64(got) {
		t.Errorf("%d hits (probe says %d), want %d", got, p.Hits(), workers*calls)
	}
	for cpu := range numCPU() {
		t.Logf("cpu%d: %d hits", cpu, r.perCPU[cpu].Load())
		if r.perCPU[cpu].Load() == 0 {
			t.Errorf("no hit on CPU %d", cpu)
		}
	}
}

// TestGuestMissedInHandler: a probe hit inside another probe's handler,
// on the same CPU, is a miss: its handler does not run.
func TestGuestMissedInHandler(t *testing.T) {
	m := manager(t)
	inner := &recorder{}
	pi := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Caller"}, inner)
	defer pi.Unregister()
	innerResult := 0
	outer := &recorder{onHit: func() { innerResult = probetest.Caller(2) }}
	po := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Branch"}, outer)
	defer po.Unregister()
	if got := probetest.Branch(20); got != 1 {
		t.Errorf("Branch = %d", got)
	}
	if innerResult != 14 {
		t.Errorf("Caller in the handler = %d", innerResult)
	}
	if outer.total() != 1 || inner.total() != 0 || pi.Missed() != 1 {
		t.Errorf("outer %d hits; inner %d hits, %d missed", outer.total(), inner.total(), pi.Missed())
	}
	if probetest.Caller(2) != 14 || inner.total() != 1 {
		t.Errorf("outside a handler the inner probe has %d hits", inner.total())
	}
}

// TestGuestRemovalInFlight removes a probe while every CPU hits it: the
// results stay right, and once Unregister returns the handler never runs.
func TestGuestRemovalInFlight(t *testing.T) {
	m := manager(t)
	r := &recorder{}
	p := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Target"}, r)
	var stop atomic.Bool
	var bad atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 * numCPU() {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if probetest.Target(w, i) != w*i+7 {
					bad.Add(1)
				}
				if i%16 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	for r.total() < 100 {
		time.Sleep(time.Millisecond)
	}
	p.Unregister()
	after := r.total()
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if r.total() != after {
		t.Errorf("%d hits after Unregister returned", r.total()-after)
	}
	if bad.Load() != 0 {
		t.Errorf("%d wrong results", bad.Load())
	}
	t.Logf("%d hits before the removal", after)
}

// TestGuestDeepStack probes a function called at the bottom of a deep
// goroutine stack (grown, copied by the runtime): the trap does not use
// the goroutine's stack.
func TestGuestDeepStack(t *testing.T) {
	m := manager(t)
	r := &recorder{}
	p := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Target"}, r)
	defer p.Unregister()
	pr := place(t, m, perf.KprobeSpec{Symbol: probetestPkg + "Recurse"}, &recorder{})
	defer pr.Unregister()
	done := make(chan int)
	go func() { done <- probetest.Recurse(20000, 3) }()
	if got := <-done; got != 20000+16 {
		t.Errorf("Recurse = %d", got)
	}
	// Each time the stack grows, morestack runs Recurse again from its
	// entry: a few hits more than the 20001 calls.
	if r.total() != 1 || pr.Hits() < 20001 || pr.Hits() > 20001+20 {
		t.Errorf("%d hits of Target, %d of Recurse", r.total(), pr.Hits())
	}
	t.Logf("Recurse: %d calls, %d hits (entry run again after each stack growth)", 20001, pr.Hits())
}

func TestGuestRefused(t *testing.T) {
	m := manager(t)
	for _, spec := range []perf.KprobeSpec{
		{Symbol: "runtime.morestack"},
		{Symbol: "runtime.systemstack"},
		{Symbol: "hachi/kprobe.(*Manager).Trap"},
		{Symbol: probetestPkg + "Sum4", Offset: 1},
	} {
		if _, err := m.Place(spec, &recorder{}); err == nil {
			t.Errorf("%+v accepted", spec)
		}
	}
}

type nop struct{}

func (nop) Hit(int, *perf.Regs) {}

func BenchmarkGuestCall(b *testing.B) {
	for i := range b.N {
		probetest.Sum4(i, 1, 2, 3)
	}
}

func BenchmarkGuestKprobeNop(b *testing.B) {
	m := manager(b)
	p := place(b, m, perf.KprobeSpec{Symbol: probetestPkg + "Sum4"}, nop{})
	defer p.Unregister()
	b.ResetTimer()
	for i := range b.N {
		probetest.Sum4(i, 1, 2, 3)
	}
}

func BenchmarkGuestKretprobeNop(b *testing.B) {
	m := manager(b)
	p := place(b, m, perf.KprobeSpec{Symbol: probetestPkg + "Sum4", Retprobe: true}, nop{})
	defer p.Unregister()
	b.ResetTimer()
	for i := range b.N {
		probetest.Sum4(i, 1, 2, 3)
	}
}

// TestGuestPatchWhileRunning places and removes probes on runtime.mallocgc
// again and again while every CPU allocates: breakpoints are written and
// removed under CPUs executing the function, and hits on breakpoints
// being removed take the stale path.
func TestGuestPatchWhileRunning(t *testing.T) {
	m := manager(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sink atomic.Pointer[[]byte]
	for range 2 * numCPU() {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				b := make([]byte, 16+i%512)
				sink.Store(&b)
				if i%32 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	r := &recorder{}
	for i := range 200 {
		p := place(t, m, perf.KprobeSpec{Symbol: "runtime.mallocgc", Retprobe: i%2 == 1}, r)
		time.Sleep(200 * time.Microsecond)
		p.Unregister()
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d hits: %v", r.total(), r.perCPU[:numCPU()])
	if r.total() == 0 {
		t.Error("no hit")
	}
}
