package kernel

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"hachi/perf"
	"hachi/syscall/linux"
)

// fakeTimer is a Board.Timer whose interrupts the test raises.
type fakeTimer struct {
	mu      sync.Mutex
	armed   map[int]uint64
	handler func(cpu int, regs *perf.Regs)
}

func (f *fakeTimer) timer() *Timer {
	return &Timer{
		Arm: func(cpu int, deadline uint64) {
			f.mu.Lock()
			f.armed[cpu] = deadline
			f.mu.Unlock()
		},
		SetHandler: func(h func(int, *perf.Regs)) { f.handler = h },
	}
}

func (f *fakeTimer) deadline(cpu int) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.armed[cpu]
}

// fakeKprober places kprobes nowhere: the test calls their handlers as
// the breakpoint trap would.
type fakeKprober struct {
	mu       sync.Mutex
	handlers map[uint64]perf.KprobeHandler
}

type fakeKprobe struct {
	k    *fakeKprober
	addr uint64
}

func (f *fakeKprober) Register(spec perf.KprobeSpec, h perf.KprobeHandler) (perf.Kprobe, error) {
	if spec.Symbol != "hachi_probed" {
		return nil, linux.ENOENT
	}
	addr := 0xffff_0000_1000 + spec.Offset
	f.mu.Lock()
	f.handlers[addr] = h
	f.mu.Unlock()
	return fakeKprobe{f, addr}, nil
}

func (p fakeKprobe) Addr() uint64 { return p.addr }
func (p fakeKprobe) Unregister() {
	p.k.mu.Lock()
	delete(p.k.handlers, p.addr)
	p.k.mu.Unlock()
}

// trapSource stores, in the array given, the program's run count
// (slot 0), bpf_get_stackid's answer (slot 1), bpf_get_func_ip's (slot 2),
// and prints "trap" to the trace pipe.
const trapSource = `
	mov %%r6, %%r1
	stw [%%r10-4], 0
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	mov %%r1, 1
	lock add [%%r0+0], %%r1
	mov %%r1, %%r6
	lddw %%r2, map_fd %[2]d
	mov %%r3, 0
	call 27
	stxdw [%%r10-16], %%r0
	stw [%%r10-4], 1
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	%[3]s
	stxdw [%%r10-16], %%r0
	stw [%%r10-4], 2
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	lddw %%r1, %#[4]x
	stxdw [%%r10-24], %%r1
	mov %%r1, %%r10
	add %%r1, -24
	mov %%r2, 6
	call 6
out:
	mov %%r0, 0
	exit
`

// The boards' trap paths: the sampling timer runs perf_event programs of
// CPU clock events with the interrupted registers, a kprobe runs kprobe
// programs with bpf_get_func_ip naming the probe; both in trap context,
// where bpf_get_stackid walks the frame pointers from the trap's registers
// on x86_64 (EFAULT on riscv64) and the trace pipe marks the line as
// interrupts off (and hard interrupt for the timer).
func TestTrapPrograms(t *testing.T) {
	for _, machineName := range []string{"x86_64", "riscv64"} {
		t.Run(machineName, func(t *testing.T) { testTrapPrograms(t, machineName) })
	}
}

func testTrapPrograms(t *testing.T, machineName string) {
	f := newFakeBoard("")
	timer := &fakeTimer{armed: map[int]uint64{}}
	kprober := &fakeKprober{handlers: map[uint64]perf.KprobeHandler{}}
	b := f.board()
	b.Timer = timer.timer()
	b.Kprober = kprober
	b.Machine = machineName
	k := New(b)
	c := caller{k, k.NewTask("trapper")}
	defer c.t.Exit()
	if timer.handler == nil {
		t.Fatal("New did not install the timer handler")
	}
	stacks := mustOK[int](t, "stack map")(c.mapCreate(linux.BPF_MAP_TYPE_STACK_TRACE, "stacks", 4, 8*16, 16))
	results := func() int {
		return mustOK[int](t, "array")(c.mapCreate(linux.BPF_MAP_TYPE_ARRAY, "results", 4, 8, 3))
	}
	clockResults, probeResults := results(), results()
	clockProg := mustOK[int](t, "perf_event program")(c.progLoad(linux.BPF_PROG_TYPE_PERF_EVENT, "clock",
		fmt.Sprintf(trapSource, clockResults, stacks, "mov %r0, 0", word("trap\n", 0))))
	probeProg := mustOK[int](t, "kprobe program")(c.progLoad(linux.BPF_PROG_TYPE_KPROBE, "probe",
		fmt.Sprintf(trapSource, probeResults, stacks, "mov %r1, %r6\n\tcall 173", word("trap\n", 0))))

	// A CPU clock event sampling every 10 us on CPU 0.
	a := AllocValue[linux.PerfEventAttr]()
	*a = linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Size: uint32(unsafe.Sizeof(*a)),
		Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: 10_000, Flags: linux.PerfAttrDisabled}
	clock := mustOK[uint64](t, "perf_event_open CPU_CLOCK")(c.call("perf_event_open",
		uint64(uintptr(unsafe.Pointer(a))), ^uint64(0), 0, ^uint64(0), 0))
	mustOK[uint64](t, "SET_BPF")(c.call("ioctl", clock, linux.PERF_EVENT_IOC_SET_BPF, uint64(clockProg)))
	mustOK[uint64](t, "ENABLE")(c.call("ioctl", clock, linux.PERF_EVENT_IOC_ENABLE, 0))
	deadline := timer.deadline(0)
	if deadline == 0 {
		t.Fatal("enabling a CPU clock event did not arm CPU 0's timer")
	}
	for k.Nanotime() < deadline {
		time.Sleep(time.Millisecond)
	}
	// The trapped registers: on x86_64 a pt_regs whose RBP heads a chain
	// of two frames returning to 0xaaaa and 0xbbbb.
	frames := (*[4]uint64)(unsafe.Pointer(unsafe.SliceData(Alloc(32))))
	frames[0], frames[1] = uint64(uintptr(unsafe.Pointer(&frames[2]))), 0xaaaa
	frames[2], frames[3] = 0, 0xbbbb
	frame := AllocValue[[21]uint64]()
	frame[ptRegsRBP/8] = uint64(uintptr(unsafe.Pointer(&frames[0])))
	frame[ptRegsRIP/8] = 0x1234
	regs := &perf.Regs{Frame: unsafe.Pointer(frame), Size: unsafe.Sizeof(*frame), IP: 0x1234}
	timer.handler(0, regs)
	if next := timer.deadline(0); next <= deadline {
		t.Errorf("the timer was re-armed for %d, want after %d", next, deadline)
	}

	// A kprobe on hachi_probed+4, hit once.
	sym := str("hachi_probed")
	*a = linux.PerfEventAttr{Type: perf.KprobeType, Size: uint32(unsafe.Sizeof(*a)),
		Config1: addrOf(sym), Config2: 4, SamplePeriod: 1}
	probe := mustOK[uint64](t, "perf_event_open kprobe")(c.call("perf_event_open",
		uint64(uintptr(unsafe.Pointer(a))), ^uint64(0), 0, ^uint64(0), 0))
	runtime.KeepAlive(sym)
	runtime.KeepAlive(a)
	mustOK[uint64](t, "SET_BPF")(c.call("ioctl", probe, linux.PERF_EVENT_IOC_SET_BPF, uint64(probeProg)))
	kprober.mu.Lock()
	h := kprober.handlers[0xffff_0000_1004]
	kprober.mu.Unlock()
	if h == nil {
		t.Fatal("the kprobe was not placed at hachi_probed+4")
	}
	h.Hit(1, regs)
	if ip := k.cpus[1].funcIP.Load(); ip != 0 {
		t.Errorf("bpf_get_func_ip's address %#x stayed after the hit", ip)
	}

	for _, r := range []struct {
		name   string
		fd     int
		funcIP uint64
	}{{"timer", clockResults, 0}, {"kprobe", probeResults, 0xffff_0000_1004}} {
		runs := mustOK[uint64](t, "runs")(c.lookupU64(r.fd, 0))
		stack := int64(mustOK[uint64](t, "stack")(c.lookupU64(r.fd, 1)))
		ip := mustOK[uint64](t, "func ip")(c.lookupU64(r.fd, 2))
		if runs != 1 || ip != r.funcIP {
			t.Errorf("%s program: %d runs, get_func_ip %#x; want 1, %#x", r.name, runs, ip, r.funcIP)
		}
		if machineName == "riscv64" {
			if stack != -int64(linux.EFAULT) {
				t.Errorf("%s program: get_stackid %d, want -EFAULT (no frame pointers on riscv64)", r.name, stack)
			}
			continue
		}
		if stack < 0 {
			t.Errorf("%s program: get_stackid %d", r.name, stack)
			continue
		}
		ips := Alloc(8 * 16)
		if err := c.mapElem(linux.BPF_MAP_LOOKUP_ELEM, stacks, le32(uint32(stack)), ips, 0); err != nil {
			t.Fatalf("stack %d: %v", stack, err)
		}
		want := []uint64{0x1234, 0xaaaa, 0xbbbb, 0}
		for i, w := range want {
			if got := binary.LittleEndian.Uint64(ips[8*i:]); got != w {
				t.Errorf("%s program: stack frame %d is %#x, want %#x", r.name, i, got, w)
			}
		}
	}
	runtime.KeepAlive(frames)
	out := string(mustOK[[]byte](t, "trace_pipe")(c.readFile("/sys/kernel/tracing/trace_pipe")))
	want := regexp.MustCompile(`^ {10}<idle>-0 {7}\[000\] d\.h\.\. +\d+\.\d{6}: bpf_trace_printk: trap\n\n {10}<idle>-0 {7}\[001\] d\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: trap\n\n$`)
	if !want.MatchString(out) {
		t.Errorf("trace_pipe:\n%s", out)
	}
	for _, fd := range []uint64{clock, probe, uint64(clockProg), uint64(probeProg), uint64(stacks), uint64(clockResults), uint64(probeResults)} {
		c.call("close", fd)
	}
	if len(kprober.handlers) != 0 {
		t.Error("closing the kprobe event left the probe placed")
	}
}

// Without a board timer, CPU clock events still count: the count comes
// from the clock when read.
func TestCPUClockCountsWithoutTimer(t *testing.T) {
	k, c := newTestKernel(t, "riscv64")
	a := AllocValue[linux.PerfEventAttr]()
	*a = linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Size: uint32(unsafe.Sizeof(*a)),
		Config: linux.PERF_COUNT_SW_CPU_CLOCK}
	start := k.Nanotime() // before the open, which enables the event and starts its count
	fd := mustOK[uint64](t, "perf_event_open")(c.call("perf_event_open",
		uint64(uintptr(unsafe.Pointer(a))), ^uint64(0), 0, ^uint64(0), 0))
	runtime.KeepAlive(a)
	defer c.call("close", fd)
	time.Sleep(5 * time.Millisecond)
	buf := Alloc(8)
	if n, err := c.call("read", fd, addrOf(buf), 8); n != 8 || err != nil {
		t.Fatalf("read = %d, %v", n, err)
	}
	count := *(*uint64)(unsafe.Pointer(&buf[0]))
	if elapsed := k.Nanotime() - start; count < 5_000_000 || count > elapsed+1_000_000 {
		t.Errorf("CPU clock counted %d ns over a 5 ms sleep (%d ns elapsed)", count, elapsed)
	}
}
