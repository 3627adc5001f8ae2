package perf

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/kernel/trace"
	"hachi/syscall/linux"
)

// perfEventOutput is bpf_perf_event_output (helper 25) as bpf/helpers
// implements it over maps.PerfEventArray: r2 the map, r3 the flags
// (BPF_F_CURRENT_CPU), r4/r5 the data; -errno on failure.
func perfEventOutput(env *vm.Env, _, m, flags, data, size uint64) uint64 {
	h := env.Map(m)
	if h == nil {
		return negErrno(linux.EINVAL)
	}
	arr, ok := h.Map.(*maps.PerfEventArray)
	if !ok {
		return negErrno(linux.EINVAL)
	}
	buf, err := env.Memory(data, size, false)
	if err != nil {
		return negErrno(linux.EFAULT)
	}
	if err := arr.Output(int(env.CPU), flags, buf); err != nil {
		var e linux.Errno
		errors.As(err, &e)
		return negErrno(e)
	}
	return 0
}

func negErrno(e linux.Errno) uint64 { return uint64(linux.SyscallReturn(e)) }

func testHelpers() vm.Helpers {
	h := make(vm.Helpers, 200)
	h[linux.BPF_FUNC_perf_event_output] = perfEventOutput
	h[linux.BPF_FUNC_get_smp_processor_id] = func(env *vm.Env, _, _, _, _, _ uint64) uint64 { return uint64(env.CPU) }
	return h
}

// oneMap resolves `lddw map_fd 3` to a single map.
type oneMap struct{ h *vm.MapHandle }

func (r oneMap) Map(src isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	if ref != 3 {
		return nil, linux.EBADF
	}
	return r.h, nil
}
func (oneMap) MapValue(isa.PseudoSource, int32) (vm.Region, error) { return vm.Region{}, linux.EINVAL }
func (oneMap) KernelVariable(int32, int32) (vm.Region, error)      { return vm.Region{}, linux.EINVAL }
func (oneMap) Kfunc(int32, int16) (vm.HelperFunc, error)           { return nil, linux.EINVAL }

// outputArray is a PERF_EVENT_ARRAY with a mapped BPF output event per
// CPU, as libbpf's perf_buffer__new and cilium/ebpf's perf.NewReader set
// it up: perf_event_open(SOFTWARE, BPF_OUTPUT, RAW, cpu i), mmap, ENABLE,
// MAP_UPDATE_ELEM(i -> fd).
type outputArray struct {
	arr     *maps.PerfEventArray
	events  []*Event
	readers []*Reader
}

func (e *testEnv) outputArray(pages int) *outputArray {
	e.t.Helper()
	m, err := maps.New(maps.Spec{Type: linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: testCPUs},
		maps.FixedHost{CPUs: testCPUs})
	if err != nil {
		e.t.Fatal(err)
	}
	o := &outputArray{arr: m.(*maps.PerfEventArray)}
	for cpu := 0; cpu < testCPUs; cpu++ {
		if !e.host.CPUOnline(cpu) {
			o.events, o.readers = append(o.events, nil), append(o.readers, nil)
			continue
		}
		a := bpfOutputAttr()
		a.Flags |= linux.PerfAttrDisabled
		a.ReadFormat = linux.PERF_FORMAT_LOST
		fd, ev, mem := e.mapped(a, int32(cpu), pages)
		if err := e.ioctl(fd, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			e.t.Fatal(err)
		}
		if err := o.arr.UpdateObject(binary.LittleEndian.AppendUint32(nil, uint32(cpu)), ev, linux.BPF_ANY); err != nil {
			e.t.Fatal(err)
		}
		o.events = append(o.events, ev)
		o.readers = append(o.readers, newReader(e.t, mem, a))
	}
	return o
}

// tpProg copies sys_exit's id and ret (offsets 8 and 16) to the stack and
// outputs them on the current CPU's slot; it returns 1, so the tracepoint
// event also sees the hit.
const tpProg = `
ldxdw %r2, [%r1+8]
stxdw [%r10-16], %r2
ldxdw %r2, [%r1+16]
stxdw [%r10-8], %r2
lddw %r2, map_fd 3
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -16
mov %r5, 16
call 25
jne %r0, 0, fail
mov %r0, 1
exit
fail:
mov %r0, 0
exit
`

// TestTracepointToPerfBuffer is the end-to-end path of a tracing tool:
// a tracepoint program attached with SET_BPF writes with
// bpf_perf_event_output into a PERF_EVENT_ARRAY of per-CPU BPF output
// events, while the tracepoint fires on every simulated CPU at once and
// a reader per CPU drains its ring. Every firing is either read back
// intact, in order, or accounted as lost.
func TestTracepointToPerfBuffer(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	env.host.offline = -1
	out := env.outputArray(8)
	prog := newTestProg(t, linux.BPF_PROG_TYPE_TRACEPOINT, tpProg, testHelpers(), oneMap{vm.NewMapHandle(out.arr)})
	prog.maxCtx = 24
	progFD := env.installProg(prog)

	tpAttr := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), SamplePeriod: 1, Flags: linux.PerfAttrDisabled}
	tpFD, tpEvent := env.mustOpen(tpAttr, -1, 0)
	if err := env.ioctl(tpFD, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD)); err != nil {
		t.Fatal(err)
	}
	if err := env.ioctl(tpFD, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		t.Fatal(err)
	}

	const perCPU = 3000
	var wg sync.WaitGroup
	done := make(chan struct{})
	got := make([]int, testCPUs)
	lostRecords := make([]uint64, testCPUs)
	errs := make(chan error, 2*testCPUs)
	for cpu := 0; cpu < testCPUs; cpu++ {
		wg.Add(1)
		go func() { // the CPU: fires the tracepoint
			defer wg.Done()
			for i := 0; i < perCPU; i++ {
				trace.SysExit(trace.Ctx{CPU: cpu, PID: int32(cpu)}, int64(cpu), int64(i))
			}
		}()
	}
	var readers sync.WaitGroup
	for cpu := 0; cpu < testCPUs; cpu++ {
		readers.Add(1)
		go func() { // user space: drains the CPU's ring as it fills
			defer readers.Done()
			r := out.readers[cpu]
			next := int64(0)
			var rec Record
			for {
				err := r.Read(&rec)
				if err == ErrNoRecord {
					runtime.Gosched()
					select {
					case <-done:
						if r.Pending() == 0 {
							return
						}
					default:
					}
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if rec.Type == linux.PERF_RECORD_LOST {
					lostRecords[cpu] += rec.Lost
					continue
				}
				id := int64(binary.LittleEndian.Uint64(rec.Sample.Raw))
				ret := int64(binary.LittleEndian.Uint64(rec.Sample.Raw[8:]))
				if len(rec.Sample.Raw) != 20 || id != int64(cpu) || ret < next {
					errs <- errors.New("sample out of order or torn")
					return
				}
				next = ret + 1
				got[cpu]++
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for cpu := 0; cpu < testCPUs; cpu++ {
		lost := out.events[cpu].lostSamples.Load()
		if uint64(got[cpu])+lost != perCPU || lostRecords[cpu] > lost {
			t.Errorf("cpu %d: %d read + %d lost (%d in LOST records) != %d fired", cpu, got[cpu], lost, lostRecords[cpu], perCPU)
		}
		t.Logf("cpu %d: %d samples read, %d lost", cpu, got[cpu], lost)
	}
	if prog.runs.Load() != testCPUs*perCPU {
		t.Errorf("program ran %d times", prog.runs.Load())
	}
	// The tracepoint event itself counts only its CPU's hits the program let through.
	var count [8]byte
	if _, err := tpEvent.Read(count[:]); err != nil || binary.LittleEndian.Uint64(count[:]) != perCPU-lostOn(out, 0) {
		t.Errorf("tracepoint event count %d, want %d", binary.LittleEndian.Uint64(count[:]), perCPU-lostOn(out, 0))
	}
	// Closing the event detaches the program and unregisters the probe.
	if err := env.task.Files.Close(tpFD); err != nil {
		t.Fatal(err)
	}
	if prog.refs.Load() != 1 {
		t.Errorf("program references %d after close", prog.refs.Load())
	}
	tp, _ := trace.ByID(uint64(testTracepointID()))
	if tp.Enabled() {
		t.Error("tracepoint still has a probe")
	}
}

func lostOn(o *outputArray, cpu int) uint64 { return o.events[cpu].lostSamples.Load() }

// TestCPUClockSampling: a CPU clock event sampling every millisecond,
// driven by the fake timer, runs a perf_event program that reads
// bpf_perf_event_data (the interrupted IP and sample_period) and outputs
// them; the clock's own ring gets the samples the program lets through.
func TestCPUClockSampling(t *testing.T) {
	env := newTestEnv(t)
	out := env.outputArray(4)
	const regsSize = int(unsafe.Sizeof(linux.PtRegsAMD64{}))
	src := `
ldxdw %r2, [%r1+128]
stxdw [%r10-16], %r2
ldxdw %r2, [%r1+168]
stxdw [%r10-8], %r2
mov %r6, %r2
lddw %r2, map_fd 3
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -16
mov %r5, 16
call 25
mov %r0, 1
jne %r6, 2000000, keep
mov %r0, 0
keep:
exit
`
	prog := newTestProg(t, linux.BPF_PROG_TYPE_PERF_EVENT, src, testHelpers(), oneMap{vm.NewMapHandle(out.arr)})
	progFD := env.installProg(prog)
	a := Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: 1_000_000,
		SampleType: linux.PERF_SAMPLE_IP | linux.PERF_SAMPLE_PERIOD | linux.PERF_SAMPLE_CPU, Flags: linux.PerfAttrDisabled}
	fd, ev, mem := env.mapped(a, 1, 1)
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD)); err != nil {
		t.Fatal(err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD)); err != linux.EEXIST {
		t.Errorf("second SET_BPF: %v", err)
	}
	if d := env.host.deadline(1); d != 0 {
		t.Fatalf("timer armed for a disabled event: %d", d)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		t.Fatal(err)
	}
	start := env.host.Now()
	if d := env.host.deadline(1); d != start+1_000_000 {
		t.Fatalf("timer armed for %d, want %d", d, start+1_000_000)
	}
	var frame linux.PtRegsAMD64
	frame.Ip = 0xffffffff81234567
	regs := &Regs{Frame: unsafe.Pointer(&frame), Size: uintptr(regsSize), IP: frame.Ip}
	for i := 1; i <= 5; i++ {
		now := start + uint64(i)*1_000_000
		env.host.now.Store(now)
		env.sys.TimerExpired(1, now, regs)
		if d := env.host.deadline(1); d != now+1_000_000 {
			t.Fatalf("tick %d: rearmed for %d", i, d)
		}
	}
	// A late interrupt: the deadline moves by whole periods past now.
	env.host.now.Store(start + 7_500_000)
	env.sys.TimerExpired(1, start+7_500_000, regs)
	if d := env.host.deadline(1); d != start+8_000_000 {
		t.Errorf("late tick rearmed for %d", d)
	}
	var rec Record
	for i := 0; i < 6; i++ {
		if err := out.readers[1].Read(&rec); err != nil {
			t.Fatalf("program output %d: %v", i, err)
		}
		if ip, period := binary.LittleEndian.Uint64(rec.Sample.Raw), binary.LittleEndian.Uint64(rec.Sample.Raw[8:]); ip != frame.Ip || period != 1_000_000 {
			t.Errorf("program saw ip %#x period %d", ip, period)
		}
	}
	r := newReader(t, mem, a)
	for i := 0; i < 6; i++ {
		if err := r.Read(&rec); err != nil || rec.Sample.IP != frame.Ip || rec.Sample.Period != 1_000_000 || rec.Sample.CPU != 1 {
			t.Fatalf("clock sample %d: %v %+v", i, err, rec.Sample)
		}
	}
	// PERIOD changes the period: the program now returns 0 (no samples).
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_PERIOD, env.mem.Place(le64(2_000_000))); err != nil {
		t.Fatal(err)
	}
	now := env.host.Now() + 2_000_000
	env.host.now.Store(now)
	env.sys.TimerExpired(1, now, regs)
	if err := r.Read(&rec); err != ErrNoRecord {
		t.Errorf("sample written although the program returned 0: %v", err)
	}
	if err := out.readers[1].Read(&rec); err != nil || binary.LittleEndian.Uint64(rec.Sample.Raw[8:]) != 2_000_000 {
		t.Errorf("program after PERIOD: %v", err)
	}
	var buf [8]byte
	if _, err := ev.Read(buf[:]); err != nil || binary.LittleEndian.Uint64(buf[:]) != now-start {
		t.Errorf("cpu-clock count %d, want %d ns", binary.LittleEndian.Uint64(buf[:]), now-start)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_DISABLE, 0); err != nil {
		t.Fatal(err)
	}
	if d := env.host.deadline(1); d != 0 {
		t.Errorf("timer still armed after DISABLE: %d", d)
	}
	env.host.now.Add(5_000_000)
	if _, err := ev.Read(buf[:]); err != nil || binary.LittleEndian.Uint64(buf[:]) != now-start {
		t.Errorf("count moved while disabled: %d", binary.LittleEndian.Uint64(buf[:]))
	}
}

// TestKprobeProgram: a kprobe event by symbol, its program reading the
// first argument register from pt_regs, a return probe's sample record.
func TestKprobeProgram(t *testing.T) {
	env := newTestEnv(t)
	out := env.outputArray(1)
	src := `
ldxdw %r2, [%r1+112]
stxdw [%r10-8], %r2
lddw %r2, map_fd 3
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 1
exit
`
	prog := newTestProg(t, linux.BPF_PROG_TYPE_KPROBE, src, testHelpers(), oneMap{vm.NewMapHandle(out.arr)})
	wrong := newTestProg(t, linux.BPF_PROG_TYPE_TRACEPOINT, "mov %r0, 0\nexit", nil, nil)
	name := env.mem.Place([]byte("vfs_read\x00"))
	a := Attr{Type: KprobeType, Config1: name, SampleType: linux.PERF_SAMPLE_RAW, SamplePeriod: 1}
	fd, ev, mem := env.mapped(a, 2, 1)
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_BPF, uint64(env.installProg(wrong))); err != linux.EINVAL {
		t.Errorf("tracepoint program on a kprobe: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_BPF, 99); err != linux.EBADF {
		t.Errorf("SET_BPF of a closed fd: %v", err)
	}
	if err := ev.AttachBPF(prog, 0xc00c1e); err != nil {
		t.Fatal(err)
	}
	var frame linux.PtRegsAMD64
	frame.Di = 0x1234
	regs := &Regs{Frame: unsafe.Pointer(&frame), Size: unsafe.Sizeof(frame), IP: fakeSymbols["vfs_read"].addr}
	if n := env.kp.hit(fakeSymbols["vfs_read"].addr, 2, regs); n != 1 {
		t.Fatalf("%d probes at vfs_read", n)
	}
	var rec Record
	if err := out.readers[2].Read(&rec); err != nil || binary.LittleEndian.Uint64(rec.Sample.Raw) != 0x1234 {
		t.Fatalf("program output: %v % x", err, rec.Sample.Raw)
	}
	r := newReader(t, mem, a)
	if err := r.Read(&rec); err != nil || len(rec.Sample.Raw) != 20 ||
		binary.LittleEndian.Uint64(rec.Sample.Raw[8:]) != fakeSymbols["vfs_read"].addr {
		t.Fatalf("kprobe sample: %v % x", err, rec.Sample.Raw)
	}
	// QUERY_BPF is for PERF_TYPE_TRACEPOINT events only, as in Linux.
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_QUERY_BPF, env.mem.Place(make([]byte, 16))); err != linux.EINVAL {
		t.Errorf("QUERY_BPF on a kprobe event: %v", err)
	}
	ev.DetachBPF()
	if prog.refs.Load() != 0 {
		t.Errorf("program reference not dropped: %d", prog.refs.Load())
	}
	env.task.Files.CloseAll()
	if env.kp.count() != 0 {
		t.Error("kprobe left behind")
	}
}

// TestRecursion: a program that makes its CPU hit the tracepoint again
// (as a nested interrupt would) does not run a second time; the miss is
// counted, like Linux's bpf_prog_active.
func TestRecursion(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	var nested int
	h := testHelpers()
	h[1] = func(env *vm.Env, _, _, _, _, _ uint64) uint64 { // stands for any helper that ends up in a tracepoint
		nested++
		trace.SysExit(trace.Ctx{CPU: int(env.CPU)}, 1, 2)
		return 0
	}
	prog := newTestProg(t, linux.BPF_PROG_TYPE_TRACEPOINT, "call 1\nmov %r0, 0\nexit", h, nil)
	_, ev := env.mustOpen(Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID())}, -1, 0)
	if err := ev.AttachBPF(prog, 0); err != nil {
		t.Fatal(err)
	}
	defer env.task.Files.CloseAll()
	trace.SysExit(trace.Ctx{CPU: 1}, 1, 2)
	if prog.runs.Load() != 1 || prog.missed.Load() != 1 || nested != 1 {
		t.Errorf("runs %d, missed %d, nested %d", prog.runs.Load(), prog.missed.Load(), nested)
	}
	// A program reading past the tracepoint's fixed fields is refused.
	long := newTestProg(t, linux.BPF_PROG_TYPE_TRACEPOINT, "mov %r0, 0\nexit", nil, nil)
	long.maxCtx = 100
	_, ev2 := env.mustOpen(Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID())}, -1, 1)
	if err := ev2.AttachBPF(long, 0); err != linux.EACCES {
		t.Errorf("max_ctx_offset past the record: %v", err)
	}
}
