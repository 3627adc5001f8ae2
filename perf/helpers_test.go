package perf

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/vm"
	"hachi/kernel/trace"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// testCPUs is the number of CPUs the host tests simulate.
const testCPUs = 4

// fakeHost is the kernel as tests play it: CPUs (one offline), a clock
// moved by hand, tasks 100..199, what runs on each CPU, and the timer
// requests perf makes.
type fakeHost struct {
	now     atomic.Uint64
	offline int
	current [testCPUs]atomic.Int32
	mu      sync.Mutex
	armed   [testCPUs]uint64
}

func newFakeHost() *fakeHost {
	h := &fakeHost{offline: 3}
	h.now.Store(1_000_000)
	return h
}

func (h *fakeHost) PossibleCPUs() int      { return testCPUs }
func (h *fakeHost) CPUOnline(cpu int) bool { return cpu != h.offline }
func (h *fakeHost) Now() uint64            { return h.now.Load() }
func (h *fakeHost) Current(cpu int) (int32, int32) {
	tid := h.current[cpu].Load()
	return tid, tid
}
func (h *fakeHost) FindTask(t *syscall.Task, pid int32) (int32, error) {
	switch {
	case pid == 0:
		return 100, nil // the caller
	case pid >= 100 && pid < 200:
		return pid, nil
	}
	return 0, linux.ESRCH
}
func (h *fakeHost) Arm(cpu int, deadline uint64) {
	h.mu.Lock()
	h.armed[cpu] = deadline
	h.mu.Unlock()
}
func (h *fakeHost) deadline(cpu int) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.armed[cpu]
}

// fakeKprober resolves a few symbols and records placed probes.
type fakeKprober struct {
	mu     sync.Mutex
	probes map[*fakeKprobe]bool
}

type fakeKprobe struct {
	k    *fakeKprober
	addr uint64
	spec KprobeSpec
	h    KprobeHandler
}

var fakeSymbols = map[string]struct{ addr, size uint64 }{
	"do_sys_open": {0xffffffff81000000, 0x100},
	"vfs_read":    {0xffffffff81000100, 0x80},
}

func (k *fakeKprober) Register(spec KprobeSpec, h KprobeHandler) (Kprobe, error) {
	var addr uint64
	switch {
	case spec.Symbol == "" && spec.Addr == 0:
		return nil, linux.EINVAL
	case spec.Symbol != "":
		sym, ok := fakeSymbols[spec.Symbol]
		if !ok {
			return nil, linux.ENOENT
		}
		if spec.Offset >= sym.size {
			return nil, linux.ENOENT
		}
		if spec.Offset%4 != 0 {
			return nil, linux.EILSEQ
		}
		if spec.Retprobe && spec.Offset != 0 {
			return nil, linux.EINVAL
		}
		addr = sym.addr + spec.Offset
	default:
		addr = spec.Addr
	}
	p := &fakeKprobe{k: k, addr: addr, spec: spec, h: h}
	k.mu.Lock()
	if k.probes == nil {
		k.probes = map[*fakeKprobe]bool{}
	}
	k.probes[p] = true
	k.mu.Unlock()
	return p, nil
}

func (p *fakeKprobe) Addr() uint64 { return p.addr }
func (p *fakeKprobe) Unregister() {
	p.k.mu.Lock()
	delete(p.k.probes, p)
	p.k.mu.Unlock()
}

// hit fires every probe placed at addr, as the breakpoint trap would.
func (k *fakeKprober) hit(addr uint64, cpu int, regs *Regs) int {
	k.mu.Lock()
	var hs []KprobeHandler
	for p := range k.probes {
		if p.addr == addr {
			hs = append(hs, p.h)
		}
	}
	k.mu.Unlock()
	for _, h := range hs {
		h.Hit(cpu, regs)
	}
	return len(hs)
}

func (k *fakeKprober) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.probes)
}

// testEnv is a System with its fake kernel and a root task.
type testEnv struct {
	t    testing.TB
	host *fakeHost
	kp   *fakeKprober
	sys  *System
	task *syscall.Task
	mem  *syscall.SliceSpace
}

func newTestEnv(t testing.TB) *testEnv {
	host := newFakeHost()
	kp := &fakeKprober{}
	mem := syscall.NewSliceSpace()
	return &testEnv{t: t, host: host, kp: kp, sys: New(host, kp), mem: mem,
		task: &syscall.Task{Mem: mem, Files: syscall.NewFDTable(0), Caps: syscall.AllCaps}}
}

// attrBytes is attr's bytes, size bytes of them (0: all 128).
func attrBytes(a Attr) []byte {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&a)), unsafe.Sizeof(a))
	return append([]byte(nil), b...)
}

// open places attr in the task's memory and opens it.
func (e *testEnv) open(a Attr, pid, cpu, group int32, flags uint64) (int, error) {
	if a.Size == 0 {
		a.Size = attrSize
	}
	return e.sys.PerfEventOpen(e.task, e.mem.Place(attrBytes(a)), pid, cpu, group, flags)
}

// mustOpen opens and returns the event.
func (e *testEnv) mustOpen(a Attr, pid, cpu int32) (int, *Event) {
	e.t.Helper()
	fd, err := e.open(a, pid, cpu, -1, linux.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		e.t.Fatalf("perf_event_open(%+v, %d, %d): %v", a, pid, cpu, err)
	}
	return fd, e.event(fd)
}

func (e *testEnv) event(fd int) *Event {
	f, err := e.task.Files.Get(fd)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.DecRef()
	return f.Object().(*Event)
}

func (e *testEnv) ioctl(fd int, cmd uint32, arg uint64) error {
	_, err := e.sys.Ioctl(e.task, int32(fd), cmd, arg)
	return err
}

// bpfOutputAttr is what libbpf's perf_buffer opens per CPU.
func bpfOutputAttr() Attr {
	return Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_BPF_OUTPUT,
		SampleType: linux.PERF_SAMPLE_RAW, SamplePeriod: 1, WakeupEvents: 1}
}

func errnoOf(err error) linux.Errno {
	if err == nil {
		return 0
	}
	var e linux.Errno
	if errors.As(err, &e) {
		return e
	}
	return 1 << 20
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// testProg is a BPF program as bpf/sys would hand it over: an assembled,
// checked VM program with reference counting and statistics.
type testProg struct {
	typ     linux.BPFProgType
	id      uint32
	maxCtx  int
	prog    *vm.Program
	refs    atomic.Int32
	runs    atomic.Uint64
	missed  atomic.Uint64
	lastRun atomic.Pointer[error]
}

func newTestProg(t testing.TB, typ linux.BPFProgType, src string, helpers vm.Helpers, res vm.Resolver) *testProg {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := vm.Load(insns, vm.Options{Helpers: helpers, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	p := &testProg{typ: typ, id: 7, prog: vm.NewChecked(img)}
	p.refs.Store(1)
	return p
}

func (p *testProg) Type() linux.BPFProgType { return p.typ }
func (p *testProg) ID() uint32              { return p.id }
func (p *testProg) MaxCtxOffset() int       { return p.maxCtx }
func (p *testProg) Run(env *vm.Env, ctx vm.Region) uint64 {
	p.runs.Add(1)
	if p.prog == nil { // a program with no code: lets every hit through
		return 1
	}
	r0, err := p.prog.Run(env, ctx)
	if err != nil {
		fault := err
		p.lastRun.Store(&fault)
		return 0
	}
	return r0
}
func (p *testProg) CountMissed() { p.missed.Add(1) }
func (p *testProg) Hold()        { p.refs.Add(1) }
func (p *testProg) Put() {
	if p.refs.Add(-1) < 0 {
		panic("program reference count below zero")
	}
}
func (p *testProg) Release() {} // as a FileObject

// installProg gives p a descriptor, as BPF_PROG_LOAD would.
func (e *testEnv) installProg(p *testProg) int {
	fd, err := e.task.Files.Install(syscall.NewFile(p, syscall.O_RDWR), true)
	if err != nil {
		e.t.Fatal(err)
	}
	return fd
}

// testTracepointID is the id of raw_syscalls:sys_exit, the tracepoint the
// tests open events on.
func testTracepointID() uint16 {
	tp, _ := trace.Lookup("raw_syscalls:sys_exit")
	return tp.ID()
}
