//go:build tamago && amd64

package amd64

// In-guest tests of the sampling timer (timer.go): deadlines armed on
// every CPU, from that CPU and from another, while the CPUs spin and while
// they halt; perf's CPU clock events with a BPF program through the
// kernel; no allocation on the interrupt path; its cost.

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/kernel"
	"hachi/kernel/shell"
	"hachi/perf"
	"hachi/syscall/linux"
)

// timerHit is what the recording handler keeps of one interrupt.
type timerHit struct {
	cpuArg, cpuID int
	at            int64
	ip            uint64
	frame         linux.PtRegsAMD64
}

var (
	timerHits [maxTrapCPUs]timerHit
	hitCount  [maxTrapCPUs]atomic.Uint64
)

// recordHit is a handler that keeps the last interrupt of each CPU (no
// pointer stored: no write barrier in interrupt context).
func recordHit(cpu int, regs *perf.Regs) {
	timerHits[cpu] = timerHit{cpuArg: cpu, cpuID: CPUID(), at: Nanotime(), ip: regs.IP,
		frame: *(*linux.PtRegsAMD64)(regs.Frame)}
	hitCount[cpu].Add(1)
}

func startTimer(t testing.TB, h func(int, *perf.Regs)) {
	t.Helper()
	if err := StartTimer(); err != nil {
		t.Fatal(err)
	}
	// No deadline of an earlier test may reach h.
	SetTimerHandler(nil)
	for cpu := range NumCPU() {
		ArmTimer(cpu, 0)
	}
	SetTimerHandler(h)
	t.Cleanup(func() {
		for cpu := range NumCPU() {
			ArmTimer(cpu, 0)
		}
		SetTimerHandler(nil)
	})
}

// inFunc reports whether pc is in one of fns (or what they inlined).
func inFunc(pc uint64, fns ...any) bool {
	f := runtime.FuncForPC(uintptr(pc))
	if f == nil {
		return false
	}
	for _, fn := range fns {
		if f.Entry() == runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Entry() {
			return true
		}
	}
	return false
}

func funcName(pc uint64) string {
	if f := runtime.FuncForPC(uintptr(pc)); f != nil {
		return f.Name()
	}
	return "?"
}

// checkFrame checks that an interrupt's pt_regs is a kernel frame taken
// with interrupts enabled, its IP in the kernel's text and its SP in RAM.
func checkFrame(t *testing.T, what string, h timerHit) {
	t.Helper()
	f := &h.frame
	ts, te := runtime.TextRegion()
	rs, re := runtime.MemRegion()
	if f.Ip != h.ip || f.Ip < uint64(ts) || f.Ip >= uint64(te) {
		t.Errorf("%s: ip %#x (regs.IP %#x) outside the kernel text %#x-%#x", what, f.Ip, h.ip, ts, te)
	}
	if f.Sp < uint64(rs) || f.Sp >= uint64(re) || f.Sp&7 != 0 {
		t.Errorf("%s: sp %#x not a stack address in RAM %#x-%#x", what, f.Sp, rs, re)
	}
	if f.Cs != kernelCS || f.Flags&0x200 == 0 || f.OrigAx != ^uint64(0) {
		t.Errorf("%s: cs %#x, flags %#x, orig_ax %#x: want cs %#x, IF set, orig_ax -1", what, f.Cs, f.Flags, f.OrigAx, kernelCS)
	}
}

// spinRecord is what a spinning goroutine saw of itself.
type spinRecord struct {
	cpu      int
	deadline int64 // the deadline it armed
	sp       uintptr
	fired    bool
}

// spinForTimer runs on one of n CPUs: once all n spin (none is then
// idle, and none can move: from CPUID on it calls only nosplit
// functions, where no preemption can take it off its CPU), it
// arms a deadline 1 ms away on its own CPU or, with remote, on the next
// one, and spins until its own CPU's handler ran.
func spinForTimer(n int, remote bool, ready *atomic.Int32, deadlines []atomic.Int64, out *spinRecord) {
	// Its CPU's count before another spinner may arm it.
	cpu := CPUID()
	before := hitCount[cpu].Load()
	ready.Add(1)
	for ready.Load() < int32(n) {
	}
	target := cpu
	if remote {
		target = (cpu + 1) % n
	}
	deadline := Nanotime() + 1_000_000
	deadlines[target].Store(deadline)
	ArmTimer(target, uint64(deadline))
	var local int
	out.cpu, out.sp = CPUID(), uintptr(unsafe.Pointer(&local))
	limit := Nanotime() + 2_000_000_000
	for hitCount[cpu].Load() == before && Nanotime() < limit {
	}
	out.fired = hitCount[cpu].Load() != before
	out.deadline = deadlines[cpu].Load()
}

// TestGuestTimerDeadlines arms a deadline on every CPU, from the CPU
// itself and from another one (the IPI path), while every CPU spins, and
// then while they are idle: each handler runs once on the CPU it was armed
// for, at or after the deadline, with the interrupted registers of the
// spinning goroutine (its function, its stack) or of the idle halt.
func TestGuestTimerDeadlines(t *testing.T) {
	startTimer(t, recordHit)
	_, _, ecx, _ := cpu.CPUID(1, 0)
	t.Logf("TSC-deadline mode: %v", ecx&(1<<24) != 0)
	n := NumCPU()
	if n < 2 {
		t.Skip("needs 2 CPUs")
	}
	if n > runtime.GOMAXPROCS(0) {
		t.Fatalf("%d CPUs, GOMAXPROCS %d", n, runtime.GOMAXPROCS(0))
	}
	for _, remote := range []bool{false, true} {
		var ready atomic.Int32
		deadlines := make([]atomic.Int64, n)
		spins := make([]spinRecord, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { spinForTimer(n, remote, &ready, deadlines, &spins[i]) })
		}
		wg.Wait()
		for i, s := range spins {
			what := fmt.Sprintf("remote=%v, spinner %d on CPU %d", remote, i, s.cpu)
			if !s.fired {
				t.Errorf("%s: no interrupt within 2 s", what)
				continue
			}
			h := timerHits[s.cpu]
			if h.cpuArg != s.cpu || h.cpuID != s.cpu {
				t.Errorf("%s: handler called for CPU %d, ran on CPU %d", what, h.cpuArg, h.cpuID)
			}
			if h.at < s.deadline {
				t.Errorf("%s: handler ran at %d, before the deadline %d", what, h.at, s.deadline)
			}
			t.Logf("%s: handler %.1f us after the deadline, ip in %s", what, float64(h.at-s.deadline)/1e3, funcName(h.ip))
			checkFrame(t, what, h)
			// The interrupt comes in the spinning loop, or, if the
			// arming took longer than the delay (the host took the
			// CPU away), at the end of ArmTimer's interrupts-off part
			// or, arming another CPU, while it sends the IPI.
			if name := funcName(h.ip); !inFunc(h.ip, spinForTimer, Nanotime, ArmTimer, timerArmHere) &&
				name != "hachi/arch/amd64.rdtsc" && name != "hachi/arch/amd64.irqRestore" &&
				name != "hachi/arch/amd64.lapicSendIPI" {
				t.Errorf("%s: interrupted ip %#x in %s, want the spinning goroutine", what, h.ip, name)
			}
			if h.frame.Sp > uint64(s.sp) || h.frame.Sp < uint64(s.sp)-1024 {
				t.Errorf("%s: interrupted sp %#x, want just below the spinner's local at %#x", what, h.frame.Sp, s.sp)
			}
		}
	}

	// Idle CPUs: the deadlines end their halts.
	before := make([]uint64, n)
	deadline := Nanotime() + 2_000_000
	for cpu := range n {
		before[cpu] = hitCount[cpu].Load()
		ArmTimer(cpu, uint64(deadline))
	}
	time.Sleep(50 * time.Millisecond)
	for cpu := range n {
		what := fmt.Sprintf("idle CPU %d", cpu)
		if got := hitCount[cpu].Load() - before[cpu]; got != 1 {
			t.Errorf("%s: %d interrupts, want 1", what, got)
			continue
		}
		h := timerHits[cpu]
		if h.cpuArg != cpu || h.cpuID != cpu || h.at < deadline {
			t.Errorf("%s: handler for CPU %d on CPU %d at %d, deadline %d", what, h.cpuArg, h.cpuID, h.at, deadline)
		}
		t.Logf("%s: handler %.1f us after the deadline, ip in %s", what, float64(h.at-deadline)/1e3, funcName(h.ip))
		checkFrame(t, what, h)
	}
}

// TestGuestTimerCancelAndReplace: a cancelled deadline never fires, and a
// later Arm replaces an earlier one. The deadlines leave tens of
// milliseconds between the two calls and the first deadline, so that a
// host that stops QEMU for a while between them does not fire the first.
func TestGuestTimerCancelAndReplace(t *testing.T) {
	startTimer(t, recordHit)
	n := NumCPU()
	before := make([]uint64, n)
	now := Nanotime()
	for cpu := range n {
		before[cpu] = hitCount[cpu].Load()
		ArmTimer(cpu, uint64(now+50_000_000))
		ArmTimer(cpu, 0)
	}
	time.Sleep(80 * time.Millisecond)
	for cpu := range n {
		if got := hitCount[cpu].Load() - before[cpu]; got != 0 {
			t.Errorf("CPU %d: %d interrupts after the cancel", cpu, got)
		}
	}
	now = Nanotime()
	late := now + 100_000_000
	for cpu := range n {
		ArmTimer(cpu, uint64(now+30_000_000))
		ArmTimer(cpu, uint64(late))
	}
	time.Sleep(60 * time.Millisecond)
	for cpu := range n {
		if got := hitCount[cpu].Load() - before[cpu]; got != 0 {
			t.Errorf("CPU %d: the replaced deadline fired", cpu)
		}
	}
	for limit := Nanotime() + 2_000_000_000; Nanotime() < limit; time.Sleep(time.Millisecond) {
		fired := true
		for cpu := range n {
			fired = fired && hitCount[cpu].Load() != before[cpu]
		}
		if fired {
			break
		}
	}
	time.Sleep(5 * time.Millisecond) // room for an extra interrupt to show
	for cpu := range n {
		if got := hitCount[cpu].Load() - before[cpu]; got != 1 || timerHits[cpu].at < late {
			t.Errorf("CPU %d: %d interrupts, last at %d; want 1 at or after %d", cpu, got, timerHits[cpu].at, late)
		}
	}
}

// timerProbed is probed by TestGuestTimerKprobeMissed.
//
//go:noinline
func timerProbed(x int) int { return 3*x + 1 }

// probeCounter is a kprobe handler that counts its runs.
type probeCounter struct{ hits atomic.Int64 }

func (c *probeCounter) Hit(int, *perf.Regs) { c.hits.Add(1) }

// TestGuestTimerKprobeMissed: a kprobe hit inside the timer's handler is
// a miss (its handler does not run, the probed function does), and the
// same probe hit outside runs its handler.
func TestGuestTimerKprobeMissed(t *testing.T) {
	m, err := Kprobes()
	if err != nil {
		t.Fatal(err)
	}
	counter := &probeCounter{}
	p, err := m.Place(perf.KprobeSpec{Symbol: "hachi/arch/amd64.timerProbed"}, counter)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unregister()
	var results [maxTrapCPUs]atomic.Int64
	startTimer(t, func(cpu int, _ *perf.Regs) {
		results[cpu].Store(int64(timerProbed(cpu)))
		hitCount[cpu].Add(1)
	})
	n := NumCPU()
	before := make([]uint64, n)
	deadline := Nanotime() + 1_000_000
	for cpu := range n {
		before[cpu] = hitCount[cpu].Load()
		ArmTimer(cpu, uint64(deadline))
	}
	time.Sleep(30 * time.Millisecond)
	for cpu := range n {
		if hitCount[cpu].Load() == before[cpu] || results[cpu].Load() != int64(3*cpu+1) {
			t.Errorf("CPU %d: handler ran %d times, timerProbed gave %d", cpu, hitCount[cpu].Load()-before[cpu], results[cpu].Load())
		}
	}
	if p.Missed() != uint64(n) || counter.hits.Load() != 0 {
		t.Errorf("in the timer's handlers: %d missed, %d probe handler runs; want %d, 0", p.Missed(), counter.hits.Load(), n)
	}
	if timerProbed(5) != 16 || counter.hits.Load() != 1 {
		t.Errorf("outside: %d probe handler runs, want 1", counter.hits.Load())
	}
}

// rearmEvery is a handler that re-arms its CPU period ns after each
// interrupt (0: at once), counting the interrupts.
func rearmEvery(period int64) func(int, *perf.Regs) {
	return func(cpu int, _ *perf.Regs) {
		hitCount[cpu].Add(1)
		ArmTimer(cpu, uint64(Nanotime()+period))
	}
}

func totalCount(n int) uint64 {
	var sum uint64
	for cpu := range n {
		sum += hitCount[cpu].Load()
	}
	return sum
}

// TestGuestTimerNoAlloc: the interrupt path (gate, handler, re-arm)
// allocates nothing.
func TestGuestTimerNoAlloc(t *testing.T) {
	startTimer(t, rearmEvery(20_000))
	n := NumCPU()
	for cpu := range n {
		ArmTimer(cpu, uint64(Nanotime()))
	}
	allocs := testing.AllocsPerRun(20, func() {
		want := totalCount(n) + 50
		for limit := Nanotime() + 1e9; totalCount(n) < want && Nanotime() < limit; {
		}
	})
	if allocs != 0 {
		t.Errorf("50 timer interrupts allocate %v times", allocs)
	}
}

// BenchmarkGuestTimerInterrupt is the round trip of one timer interrupt
// with a handler that re-arms the timer at once: gate, registers and FPU
// state saved, the g switch, the handler, the timer programmed, EOI and
// IRET, and QEMU's delivery of the interrupt. The interrupted goroutine
// only waits, so the time per interrupt is the cost of one.
func BenchmarkGuestTimerInterrupt(b *testing.B) {
	startTimer(b, rearmEvery(0))
	cpu := -1
	b.ResetTimer()
	for cpu == -1 || hitCount[cpu].Load() < uint64(b.N) {
		if cpu == -1 {
			// Interrupts stay on the CPU that armed, and the loop
			// calls nothing that may move the goroutine.
			cpu = CPUID()
			hitCount[cpu].Store(0)
			ArmTimer(cpu, uint64(Nanotime()))
		}
	}
	b.StopTimer()
	ArmTimer(cpu, 0)
}

// selfInterrupts raises n timer interrupts on the running CPU by IPIs to
// itself, each with a passed deadline so that the handler runs, and
// returns the time they took less that of as many IPIs sent to no CPU
// (the sending's own cost), per handler run (a handler that arms the
// timer may add runs of its own), with the runs, which the handler counts
// in counts. It calls only nosplit functions: the goroutine stays on its
// CPU.
//
//go:nosplit
func selfInterrupts(n int, counts *[maxTrapCPUs]atomic.Uint64) (perRun float64, runs uint64) {
	cpu := CPUID()
	before := counts[cpu].Load()
	start := Nanotime()
	for range n {
		timerCPUs[cpu].deadline.Store(1)
		lapicSendIPI(uint32(cpu), timerVector|icrAssert)
	}
	self := Nanotime() - start
	runs = counts[cpu].Load() - before
	start = Nanotime()
	for range n {
		lapicSendIPI(maxTrapCPUs-1, timerVector|icrAssert)
	}
	nobody := Nanotime() - start
	return float64(self-nobody) / float64(runs), runs
}

// BenchmarkGuestTimerSelfIPI is the processor's cost of one timer
// interrupt, without the delivery's latency: the gate (pt_regs and FPU
// state saved, g switched), the handler, the timer programmed, EOI and
// IRET. Handlers: one that counts, and the kernel's with a CPU clock event
// of the shortest period (10 us) whose program counts (sampleip's path:
// perf, the BPF program, a map update), which samples when its period
// has passed.
func BenchmarkGuestTimerSelfIPI(b *testing.B) {
	if NumCPU() >= maxTrapCPUs {
		b.Skip("no APIC ID is free to send the reference IPIs to")
	}
	b.Run("count", func(b *testing.B) {
		startTimer(b, func(cpu int, _ *perf.Regs) { hitCount[cpu].Add(1) })
		b.ResetTimer()
		per, runs := selfInterrupts(b.N, &hitCount)
		b.StopTimer()
		if runs != uint64(b.N) {
			b.Fatalf("%d interrupts ran the handler %d times", b.N, runs)
		}
		b.ReportMetric(per, "ns/interrupt")
	})
	b.Run("sampleip", func(b *testing.B) {
		s := newCPUClockSampler(b, 0, 10_000)
		s.enable(true)
		defer s.enable(false)
		b.ResetTimer()
		cpu := CPUID()
		samples := s.lookup(uint32(cpu))
		cpu = CPUID()
		per, runs := selfInterrupts(b.N, &kernelRuns)
		b.StopTimer()
		samples = s.lookup(uint32(cpu)) - samples
		if runs < uint64(b.N) || samples == 0 {
			b.Fatalf("%d interrupts ran the handler %d times and the program %d times", b.N, runs, samples)
		}
		b.ReportMetric(per, "ns/interrupt")
		b.ReportMetric(float64(samples)/float64(runs), "samples/interrupt")
	})
}

// The kernel part: perf_event_open's CPU clock events sampling through
// the board timer, with a BPF_PROG_TYPE_PERF_EVENT program.

var (
	timerKernelOnce sync.Once
	timerKernel     *kernel.Kernel
	// kernelHandler is the handler the kernel installed (its
	// timerInterrupt), put back by each test that needs it, counting its
	// runs in kernelRuns.
	kernelHandler func(int, *perf.Regs)
	kernelRuns    [maxTrapCPUs]atomic.Uint64
)

func newTimerKernel(t testing.TB) (*kernel.Kernel, *kernel.Task) {
	t.Helper()
	if err := StartTimer(); err != nil {
		t.Fatal(err)
	}
	timerKernelOnce.Do(func() {
		timerKernel = kernel.New(kernel.Board{
			Machine: "x86_64", NumCPU: NumCPU, CPUID: CPUID,
			CPUs: func() []shell.CPU { return nil }, RAM: runtime.MemRegion, Text: runtime.TextRegion,
			Nanotime: Nanotime, ConsoleReadByte: ConsoleReadByte, ConsoleWrite: ConsoleWrite,
			Poweroff: Poweroff, Exit: Exit,
			Timer: &kernel.Timer{Arm: ArmTimer, SetHandler: func(h func(int, *perf.Regs)) {
				kernelHandler = h
				SetTimerHandler(h)
			}},
		})
	})
	SetTimerHandler(func(cpu int, regs *perf.Regs) {
		kernelRuns[cpu].Add(1)
		kernelHandler(cpu, regs)
	})
	t.Cleanup(func() { SetTimerHandler(nil) })
	return timerKernel, timerKernel.NewTask("timertest")
}

func sysCall(t testing.TB, k *kernel.Kernel, task *kernel.Task, name string, args ...uint64) uint64 {
	t.Helper()
	nr, ok := k.SyscallNumber(name)
	if !ok {
		t.Fatalf("no system call %s", name)
	}
	r, err := k.Syscall(task, nr, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// countSource counts the samples per CPU in an array indexed by
// bpf_get_smp_processor_id, and in slot 16 + CPU those whose
// ctx->regs.ip (bpf_perf_event_data) is not 0.
const countSource = `
	mov %%r6, %%r1
	call 8
	stxw [%%r10-4], %%r0
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	mov %%r1, 1
	lock add [%%r0+0], %%r1
	ldxdw %%r1, [%%r6+%[2]d]
	jeq %%r1, 0, out
	ldxw %%r1, [%%r10-4]
	add %%r1, 16
	stxw [%%r10-4], %%r1
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	mov %%r1, 1
	lock add [%%r0+0], %%r1
out:
	mov %%r0, 0
	exit
`

// cpuClockSampler is a CPU clock event on every CPU (sampleFreq: a
// frequency in Hz, else a period in ns) whose program counts the samples.
type cpuClockSampler struct {
	t      testing.TB
	k      *kernel.Kernel
	task   *kernel.Task
	mapFD  uint64
	progFD uint64
	events []uint64
}

func newCPUClockSampler(t testing.TB, freq, period uint64) *cpuClockSampler {
	k, task := newTimerKernel(t)
	s := &cpuClockSampler{t: t, k: k, task: task}
	mc := kernel.AllocValue[linux.BPFAttrMapCreate]()
	*mc = linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 8, MaxEntries: 32}
	s.mapFD = sysCall(t, k, task, "bpf", uint64(linux.BPF_MAP_CREATE), uint64(uintptr(unsafe.Pointer(mc))), uint64(unsafe.Sizeof(*mc)))

	ipOff := unsafe.Offsetof(linux.PtRegsAMD64{}.Ip)
	insns, err := asm.Assemble(fmt.Sprintf(countSource, s.mapFD, ipOff))
	if err != nil {
		t.Fatal(err)
	}
	code := kernel.Alloc(len(insns) * isa.InstructionSize)
	copy(code, isa.Encode(insns))
	license := kernel.Alloc(4)
	copy(license, "GPL")
	pl := kernel.AllocValue[linux.BPFAttrProgLoad]()
	*pl = linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_PERF_EVENT), InsnCnt: uint32(len(insns)),
		Insns: kernel.Addr(code), License: kernel.Addr(license)}
	s.progFD = sysCall(t, k, task, "bpf", uint64(linux.BPF_PROG_LOAD), uint64(uintptr(unsafe.Pointer(pl))), uint64(unsafe.Sizeof(*pl)))

	for cpu := range NumCPU() {
		pa := kernel.AllocValue[linux.PerfEventAttr]()
		*pa = linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Size: uint32(unsafe.Sizeof(*pa)),
			Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: period, Flags: linux.PerfAttrDisabled}
		if freq != 0 {
			pa.SamplePeriod, pa.Flags = freq, pa.Flags|linux.PerfAttrFreq
		}
		none := uint64(0xffffffff) // pid -1, group -1
		ev := sysCall(t, k, task, "perf_event_open", uint64(uintptr(unsafe.Pointer(pa))), none, uint64(cpu), none, linux.PERF_FLAG_FD_CLOEXEC)
		sysCall(t, k, task, "ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, s.progFD)
		s.events = append(s.events, ev)
	}
	t.Cleanup(s.close)
	return s
}

func (s *cpuClockSampler) enable(on bool) {
	req := uint64(linux.PERF_EVENT_IOC_DISABLE)
	if on {
		req = linux.PERF_EVENT_IOC_ENABLE
	}
	for _, ev := range s.events {
		sysCall(s.t, s.k, s.task, "ioctl", ev, req, 0)
	}
}

func (s *cpuClockSampler) lookup(slot uint32) uint64 {
	key, value := kernel.Alloc(4), kernel.Alloc(8)
	binary.LittleEndian.PutUint32(key, slot)
	el := kernel.AllocValue[linux.BPFAttrMapElem]()
	*el = linux.BPFAttrMapElem{MapFD: uint32(s.mapFD), Key: kernel.Addr(key), Value: kernel.Addr(value)}
	sysCall(s.t, s.k, s.task, "bpf", uint64(linux.BPF_MAP_LOOKUP_ELEM), uint64(uintptr(unsafe.Pointer(el))), uint64(unsafe.Sizeof(*el)))
	return binary.LittleEndian.Uint64(value)
}

func (s *cpuClockSampler) close() {
	for _, fd := range append(s.events, s.progFD, s.mapFD) {
		sysCall(s.t, s.k, s.task, "close", fd)
	}
	s.task.Exit()
}

// TestGuestCPUClockSamples opens a 1000 Hz CPU clock event on every CPU
// with a program counting samples by CPU (sampleip's way), lets the CPUs
// idle for a second and expects about 1000 samples on each, every one
// with an ip; disabled, the events stop sampling. TCG delivers timer
// interrupts late when the host is busy, and a late one skips the periods
// it missed (hrtimer_forward): a second short of samples is tried again,
// up to three times; more samples than periods is always an error.
func TestGuestCPUClockSamples(t *testing.T) {
	s := newCPUClockSampler(t, 1000, 0)
	n := NumCPU()
	for attempt := 1; ; attempt++ {
		before := make([]uint64, 2*n)
		for cpu := range n {
			before[cpu], before[n+cpu] = s.lookup(uint32(cpu)), s.lookup(uint32(16+cpu))
		}
		start := Nanotime()
		s.enable(true)
		time.Sleep(time.Second)
		s.enable(false)
		elapsed := Nanotime() - start
		want := float64(elapsed) / 1e6 // one per ms
		short := false
		for cpu := range n {
			got := s.lookup(uint32(cpu)) - before[cpu]
			withIP := s.lookup(uint32(16+cpu)) - before[n+cpu]
			t.Logf("attempt %d, CPU %d: %d samples in %.3f s (%.1f%% of %.0f), %d with an ip",
				attempt, cpu, got, float64(elapsed)/1e9, 100*float64(got)/want, want, withIP)
			if float64(got) > 1.01*want+1 {
				t.Errorf("CPU %d: %d samples, more than the %.0f periods", cpu, got, want)
			}
			if withIP != got {
				t.Errorf("CPU %d: %d of %d samples had an ip", cpu, withIP, got)
			}
			short = short || float64(got) < 0.7*want
		}
		if !short {
			break
		}
		if attempt == 3 {
			t.Fatalf("fewer than 70%% of the periods sampled on some CPU in each of %d seconds", attempt)
		}
	}
	before := make([]uint64, n)
	for cpu := range n {
		before[cpu] = s.lookup(uint32(cpu))
	}
	time.Sleep(20 * time.Millisecond)
	for cpu := range n {
		if got := s.lookup(uint32(cpu)); got != before[cpu] {
			t.Errorf("CPU %d: %d samples after the disable", cpu, got-before[cpu])
		}
	}
}

// TestGuestCPUClockNoAlloc: sampling with the program allocates nothing.
func TestGuestCPUClockNoAlloc(t *testing.T) {
	s := newCPUClockSampler(t, 0, 50_000)
	n := NumCPU()
	s.enable(true)
	defer s.enable(false)
	runs := func() uint64 {
		var sum uint64
		for cpu := range n {
			sum += kernelRuns[cpu].Load()
		}
		return sum
	}
	allocs := testing.AllocsPerRun(20, func() {
		want := runs() + 20
		for limit := Nanotime() + 1e9; runs() < want && Nanotime() < limit; {
		}
	})
	if allocs != 0 {
		t.Errorf("20 samples with a program allocate %v times", allocs)
	}
	var counted uint64
	for cpu := range n {
		counted += s.lookup(uint32(cpu))
	}
	if counted < 20*21 {
		t.Errorf("%d samples counted by the program, want at least %d", counted, 20*21)
	}
}

// spinFor counts the iterations of a loop that reads the clock for ns
// nanoseconds. It is nosplit, like what it calls, so nothing moves the
// goroutine to another CPU meanwhile.
//
//go:nosplit
func spinFor(ns int64) (iters uint64) {
	for end := Nanotime() + ns; Nanotime() < end; {
		iters++
	}
	return iters
}

// BenchmarkGuestCPUClockOverhead measures what sampling at 100 kHz (the
// shortest CPU clock period, 10 us) with the counting program costs the
// code it interrupts: a loop's rate with and without sampling, as ns per
// sample of the loop's CPU.
func BenchmarkGuestCPUClockOverhead(b *testing.B) {
	s := newCPUClockSampler(b, 0, 10_000)
	const window = 200_000_000 // ns
	b.ResetTimer()
	var plain, sampled, samples uint64
	for range b.N {
		plain += spinFor(window)
		s.enable(true)
		cpu := CPUID()
		before := kernelRuns[cpu].Load()
		sampled += spinFor(window)
		samples += kernelRuns[cpu].Load() - before
		s.enable(false)
	}
	b.StopTimer()
	lost := float64(window) * float64(b.N) * (1 - float64(sampled)/float64(plain))
	b.ReportMetric(lost/float64(samples), "ns/sample")
	b.ReportMetric(float64(samples)/(float64(window)*float64(b.N)/1e9), "samples/s")
}
