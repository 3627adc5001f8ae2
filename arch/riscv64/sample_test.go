//go:build tamago && riscv64

package riscv64_test

import (
	"encoding/binary"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"hachi/arch/riscv64"
	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/kernel"
	"hachi/kernel/shell"
	"hachi/perf"
	"hachi/syscall/linux"
)

// CPU clock sampling through the kernel on the real timer: a
// BPF_PROG_TYPE_PERF_EVENT program counts the samples by interrupted pc,
// as libbpf's sampleip does.

var (
	sampleKernelOnce sync.Once
	sampleKernel     *kernel.Kernel
	// sampleHandler is the kernel's timer handler, installed again by
	// each test: the package's own tests install theirs.
	sampleHandler func(cpu int, regs *perf.Regs)
	// sampleArmOff stops the kernel from arming the hart's timer
	// (BenchmarkSampleHandler).
	sampleArmOff bool
)

// sampler makes system calls as a kernel task of a kernel whose Timer is
// the hart's.
type sampler struct {
	t    testing.TB
	k    *kernel.Kernel
	task *kernel.Task
}

func newSampler(t testing.TB) *sampler {
	t.Helper()
	if err := riscv64.StartTimer(); err != nil {
		t.Fatal(err)
	}
	sampleKernelOnce.Do(func() {
		sampleKernel = kernel.New(kernel.Board{
			Machine: "riscv64", NumCPU: riscv64.NumCPU, CPUID: riscv64.CPUID,
			CPUs: func() []shell.CPU { return nil }, RAM: runtime.MemRegion, Text: runtime.TextRegion,
			Nanotime: riscv64.Nanotime, ConsoleReadByte: riscv64.ConsoleReadByte,
			ConsoleWrite: riscv64.ConsoleWrite, Poweroff: riscv64.Poweroff, Exit: riscv64.Exit,
			Timer: &kernel.Timer{
				Arm: func(cpu int, deadline uint64) {
					if !sampleArmOff {
						riscv64.ArmTimer(cpu, deadline)
					}
				},
				SetHandler: func(h func(cpu int, regs *perf.Regs)) { sampleHandler = h },
			},
		})
	})
	riscv64.SetTimerHandler(sampleHandler)
	return &sampler{t: t, k: sampleKernel, task: sampleKernel.NewTask("sampletest")}
}

func (s *sampler) call(name string, args ...uint64) uint64 {
	s.t.Helper()
	nr, ok := s.k.SyscallNumber(name)
	if !ok {
		s.t.Fatalf("no system call %s", name)
	}
	r, err := s.k.Syscall(s.task, nr, args...)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	return r
}

func (s *sampler) bpf(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) (uint64, error) {
	nr, _ := s.k.SyscallNumber("bpf")
	return s.k.Syscall(s.task, nr, uint64(cmd), uint64(uintptr(attr)), uint64(size))
}

// sampling is a CPU clock event on CPU 0 with the sampleip program.
type sampling struct {
	s            *sampler
	event, mapFD uint64
	progFD       uint64
}

// openSampling loads the program and opens a disabled CPU clock event
// sampling at freq Hz (freq mode) or every period ns, with the program
// attached.
func openSampling(t testing.TB, freq, period uint64) *sampling {
	s := newSampler(t)
	mc := kernel.AllocValue[linux.BPFAttrMapCreate]()
	*mc = linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_HASH), KeySize: 8, ValueSize: 8, MaxEntries: 4096}
	mapFD, err := s.bpf(linux.BPF_MAP_CREATE, unsafe.Pointer(mc), unsafe.Sizeof(*mc))
	if err != nil {
		t.Fatalf("BPF_MAP_CREATE: %v", err)
	}
	// Counts by bpf_perf_event_data.regs.pc, the first word.
	insns, err := asm.Assemble(kernel.CountByContextWord(0, int(mapFD)))
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
	progFD, err := s.bpf(linux.BPF_PROG_LOAD, unsafe.Pointer(pl), unsafe.Sizeof(*pl))
	if err != nil {
		t.Fatalf("BPF_PROG_LOAD: %v", err)
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)

	pa := kernel.AllocValue[linux.PerfEventAttr]()
	*pa = linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Size: uint32(unsafe.Sizeof(*pa)),
		Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: period, Flags: linux.PerfAttrDisabled}
	if freq != 0 {
		pa.SamplePeriod = freq
		pa.Flags |= linux.PerfAttrFreq
	}
	none := uint64(uint32(0xffffffff)) // pid -1, group -1: every task on CPU 0
	ev := s.call("perf_event_open", uint64(uintptr(unsafe.Pointer(pa))), none, 0, none, linux.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(pa)
	s.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, progFD)
	sm := &sampling{s: s, event: ev, mapFD: mapFD, progFD: progFD}
	t.Cleanup(sm.close)
	return sm
}

func (sm *sampling) enable()  { sm.s.call("ioctl", sm.event, linux.PERF_EVENT_IOC_ENABLE, 0) }
func (sm *sampling) disable() { sm.s.call("ioctl", sm.event, linux.PERF_EVENT_IOC_DISABLE, 0) }

func (sm *sampling) close() {
	for _, fd := range []uint64{sm.event, sm.progFD, sm.mapFD} {
		sm.s.call("close", fd)
	}
}

// counts reads the map: samples by pc.
func (sm *sampling) counts() map[uint64]uint64 {
	out := map[uint64]uint64{}
	key, next, value := kernel.Alloc(8), kernel.Alloc(8), kernel.Alloc(8)
	el := kernel.AllocValue[linux.BPFAttrMapElem]()
	first := true
	for {
		*el = linux.BPFAttrMapElem{MapFD: uint32(sm.mapFD), Key: kernel.Addr(key), Value: kernel.Addr(next)}
		if first {
			el.Key = 0 // the first key
		}
		if _, err := sm.s.bpf(linux.BPF_MAP_GET_NEXT_KEY, unsafe.Pointer(el), unsafe.Sizeof(*el)); err == linux.ENOENT {
			return out
		} else if err != nil {
			sm.s.t.Fatalf("BPF_MAP_GET_NEXT_KEY: %v", err)
		}
		first = false
		copy(key, next)
		*el = linux.BPFAttrMapElem{MapFD: uint32(sm.mapFD), Key: kernel.Addr(key), Value: kernel.Addr(value)}
		if _, err := sm.s.bpf(linux.BPF_MAP_LOOKUP_ELEM, unsafe.Pointer(el), unsafe.Sizeof(*el)); err != nil {
			sm.s.t.Fatalf("BPF_MAP_LOOKUP_ELEM: %v", err)
		}
		out[binary.LittleEndian.Uint64(key)] = binary.LittleEndian.Uint64(value)
	}
}

// spinSink keeps spin's arithmetic from being optimised away.
var spinSink uint64

// spin keeps the CPU busy until Nanotime reaches until: with no
// preemption and one hart, it is the code the timer interrupts. It looks
// at the clock every 4096 rounds of arithmetic, so that samples fall in
// spin itself. It returns how long it saw itself run: the sum of the
// intervals between its clock reads shorter than gap. A longer one is
// time the hart spent elsewhere: under TCG on a loaded host, mostly time
// QEMU's thread was not running while the guest clock (the host's) went
// on.
//
//go:noinline
func spin(until, gap int64) (ran int64) {
	x := spinSink
	for last := riscv64.Nanotime(); last < until; {
		spinRounds(&x)
		now := riscv64.Nanotime()
		if now-last < gap {
			ran += now - last
		}
		last = now
	}
	spinSink = x
	return ran
}

// spinRounds is spin's arithmetic: 4096 rounds of a linear congruential
// generator.
//
//go:nosplit
func spinRounds(x *uint64) {
	for range 4096 {
		*x = *x*6364136223846793005 + 1442695040888963407
	}
}

// inSpin tells whether pc is in spin's own code (spin, spinRounds), and
// inClock whether it is in the clock read spin makes (riscv64.Nanotime,
// the CLINT's Nanotime reading mtime).
func inSpin(pc uint64) bool {
	switch funcName(pc) {
	case "hachi/arch/riscv64_test.spin", "hachi/arch/riscv64_test.spinRounds":
		return true
	}
	return false
}

func inClock(pc uint64) bool {
	switch funcName(pc) {
	case "hachi/arch/riscv64.Nanotime", "github.com/usbarmory/tamago/soc/sifive/clint.(*CLINT).Nanotime":
		return true
	}
	return false
}

func funcName(pc uint64) string {
	if f := runtime.FuncForPC(uintptr(pc)); f != nil {
		return f.Name()
	}
	return "?"
}

// TestSampleCPUClock samples a busy CPU with a CPU clock event, in
// frequency and in period mode, and checks the number of samples the
// program counted against the time the event was enabled, and that the
// samples' pc is the busy code's.
func TestSampleCPUClock(t *testing.T) {
	for _, c := range []struct {
		name         string
		freq, period uint64
		length       int64 // ns
	}{
		{"freq=1000", 1000, 0, 1e9},
		{"period=2ms", 0, 2e6, 500e6},
	} {
		t.Run(c.name, func(t *testing.T) {
			sm := openSampling(t, c.freq, c.period)
			every := c.period
			if c.freq != 0 {
				every = 1e9 / c.freq
			}
			start := riscv64.Nanotime()
			sm.enable()
			ran := spin(start+c.length, int64(every)/2)
			sm.disable()
			enabled := riscv64.Nanotime() - start
			var total, own, clock uint64
			for pc, n := range sm.counts() {
				total += n
				switch {
				case inSpin(pc):
					own += n
				case inClock(pc):
					clock += n
				}
			}
			// At most one per period while enabled. A period that
			// passes while the hart does not run (QEMU's thread
			// descheduled) is skipped (hrtimer_forward_now): spin
			// tells how long it ran.
			most := uint64(enabled)/every + 1
			least := uint64(ran) / every * 8 / 10
			t.Logf("%d samples (%d in spin, %d in its clock reads) in %d ns enabled, %d ns seen running by spin, one per %d ns",
				total, own, clock, enabled, ran, every)
			if ran < c.length/4 {
				t.Skipf("the hart ran %d ns of %d: the host did not run QEMU", ran, c.length)
			}
			if total < least || total > most {
				t.Errorf("%d samples, want %d to %d", total, least, most)
			}
			// The interrupted code is spin's. QEMU raises the timer
			// interrupt under the lock that its MMIO accesses take
			// (the BQL), so many samples, up to half on a loaded
			// host, fall just after spin's reads of mtime; others
			// fall anywhere in its arithmetic.
			if own+clock < total*9/10 || own < total/10 {
				t.Errorf("%d of %d samples in spin, %d in its clock reads", own, total, clock)
				for pc, n := range sm.counts() {
					if !inSpin(pc) && !inClock(pc) {
						t.Logf("%#x %s: %d", pc, funcName(pc), n)
					}
				}
			}
		})
	}
}

// TestSampleNoAllocs checks that sampling with a program allocates
// nothing: the timer interrupt, perf's handler and the program's map
// updates.
func TestSampleNoAllocs(t *testing.T) {
	sm := openSampling(t, 0, 100e3)
	sm.enable()
	spin(riscv64.Nanotime()+20e6, 50e3) // the map's first keys
	allocs := testing.AllocsPerRun(10, func() { spin(riscv64.Nanotime()+10e6, 50e3) })
	sm.disable()
	var total uint64
	for _, n := range sm.counts() {
		total += n
	}
	if total < 10 {
		t.Fatalf("%d samples in 130 ms at 10 kHz", total)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per 10 ms sampled at 10 kHz", allocs)
	}
}

// BenchmarkSampleCPUClock is the cost of a sample of a CPU clock event
// with the sampleip program, interrupt to program and back: each op runs
// the same busy work (1000 spinRounds) without sampling and then sampled
// every 100 µs, and ns/sample is the difference over the samples. The
// two halves run back to back so that QEMU's share of a loaded host
// changes little between them.
func BenchmarkSampleCPUClock(b *testing.B) {
	work := func() {
		x := spinSink
		for range 1000 {
			spinRounds(&x)
		}
		spinSink = x
	}
	sm := openSampling(b, 0, 100e3)
	var plain, sampled int64
	for b.Loop() {
		t0 := riscv64.Nanotime()
		work()
		t1 := riscv64.Nanotime()
		sm.enable()
		work()
		sm.disable()
		plain += t1 - t0
		sampled += riscv64.Nanotime() - t1
	}
	var total uint64
	for _, n := range sm.counts() {
		total += n
	}
	if total == 0 {
		b.Fatal("no samples")
	}
	b.ReportMetric(float64(total)/float64(b.N), "samples/op")
	b.ReportMetric(float64(sampled-plain)/float64(total), "ns/sample")
}

// BenchmarkSampleHandler is the kernel's side of a sample: its timer
// handler (perf's TimerExpired, the sampleip program) called directly,
// without the interrupt (BenchmarkTimerInterrupt) and without arming the
// comparator (BenchmarkArmTimer). The event samples every 10 µs; each op
// waits that long first, so that every call is due, and ns/call times
// the call alone.
func BenchmarkSampleHandler(b *testing.B) {
	sm := openSampling(b, 0, 10e3)
	frame := &linux.PtRegsRISCV64{}
	frame.Pc = uint64(reflect.ValueOf(spin).Pointer())
	regs := &perf.Regs{Frame: unsafe.Pointer(frame), Size: unsafe.Sizeof(frame.UserRegsRISCV64), IP: frame.Pc}
	sm.enable()
	riscv64.ArmTimer(0, 0)
	sampleArmOff = true
	var in int64
	for b.Loop() {
		for due := riscv64.Nanotime() + 10e3; riscv64.Nanotime() < due; {
		}
		t0 := riscv64.Nanotime()
		sampleHandler(0, regs)
		in += riscv64.Nanotime() - t0
	}
	sampleArmOff = false
	sm.disable()
	var total uint64
	for _, n := range sm.counts() {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "samples/op")
	b.ReportMetric(float64(in)/float64(b.N), "ns/call")
}
