//go:build tamago

package kprobe_test

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/kernel"
	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

var (
	testKernelOnce sync.Once
	testKernel     *kernel.Kernel
)

// sysTask makes system calls as a kernel task of a kernel whose Kprober is
// the real one.
type sysTask struct {
	t    testing.TB
	k    *kernel.Kernel
	task *kernel.Task
}

func newSysTask(t testing.TB) *sysTask {
	t.Helper()
	m := manager(t)
	testKernelOnce.Do(func() { testKernel = kernel.New(testBoard(m)) })
	return &sysTask{t: t, k: testKernel, task: testKernel.NewTask("kprobetest")}
}

func (s *sysTask) call(name string, args ...uint64) uint64 {
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

func (s *sysTask) bpf(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) uint64 {
	s.t.Helper()
	return s.call("bpf", uint64(cmd), uint64(uintptr(attr)), uint64(size))
}

// attachCounter loads the counting program, attaches it to a kprobe on
// probetest.Sum4 with perf_event_open + PERF_EVENT_IOC_SET_BPF + ENABLE,
// and returns a lookup of the map and the detach.
func attachCounter(t testing.TB) (lookup func(key uint64) uint64, detach func()) {
	s := newSysTask(t)
	mc := kernel.AllocValue[linux.BPFAttrMapCreate]()
	*mc = linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_HASH), KeySize: 8, ValueSize: 8, MaxEntries: 64}
	mapFD := s.bpf(linux.BPF_MAP_CREATE, unsafe.Pointer(mc), unsafe.Sizeof(*mc))
	// Counts by PT_REGS_PARM1, as a libbpf program written with
	// BPF_KPROBE(fn, long a) and a counting map would.
	detachProg := s.attachSum4(kernel.CountByContextWord(parm1Off, int(mapFD)))
	key, value := kernel.Alloc(8), kernel.Alloc(8)
	lookup = func(k uint64) uint64 {
		binary.LittleEndian.PutUint64(key, k)
		el := kernel.AllocValue[linux.BPFAttrMapElem]()
		*el = linux.BPFAttrMapElem{MapFD: uint32(mapFD), Key: kernel.Addr(key), Value: kernel.Addr(value)}
		nr, _ := s.k.SyscallNumber("bpf")
		if _, err := s.k.Syscall(s.task, nr, uint64(linux.BPF_MAP_LOOKUP_ELEM), uint64(uintptr(unsafe.Pointer(el))), uint64(unsafe.Sizeof(*el))); err != nil {
			return 0
		}
		runtime.KeepAlive(el)
		return binary.LittleEndian.Uint64(value)
	}
	detach = func() {
		detachProg()
		s.call("close", mapFD)
	}
	return lookup, detach
}

// attachSum4 loads a kprobe program from its assembly source and attaches
// it to a kprobe on probetest.Sum4 with perf_event_open +
// PERF_EVENT_IOC_SET_BPF + ENABLE; it returns the detach.
func (s *sysTask) attachSum4(source string) (detach func()) {
	s.t.Helper()
	insns, err := asm.Assemble(source)
	if err != nil {
		s.t.Fatal(err)
	}
	code := kernel.Alloc(len(insns) * isa.InstructionSize)
	copy(code, isa.Encode(insns))
	license := kernel.Alloc(4)
	copy(license, "GPL")
	pl := kernel.AllocValue[linux.BPFAttrProgLoad]()
	*pl = linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_KPROBE), InsnCnt: uint32(len(insns)),
		Insns: kernel.Addr(code), License: kernel.Addr(license)}
	progFD := s.bpf(linux.BPF_PROG_LOAD, unsafe.Pointer(pl), unsafe.Sizeof(*pl))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)

	name := kernel.Alloc(64)
	copy(name, probetestPkg+"Sum4")
	pa := kernel.AllocValue[linux.PerfEventAttr]()
	*pa = linux.PerfEventAttr{Type: perf.KprobeType, Size: uint32(unsafe.Sizeof(*pa)), Config1: kernel.Addr(name),
		Flags: linux.PerfAttrDisabled}
	none := uint64(uint32(0xffffffff)) // pid -1, group -1
	ev := s.call("perf_event_open", uint64(uintptr(unsafe.Pointer(pa))), none, 0, none, linux.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(pa)
	runtime.KeepAlive(name)
	s.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, progFD)
	s.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0)

	return func() {
		for _, fd := range []uint64{ev, progFD} {
			s.call("close", fd)
		}
	}
}

// sum4With calls Sum4 with v as the argument PT_REGS_PARM1 holds.
func sum4With(v int) int {
	var a [4]int
	a[parm1Arg] = v
	return probetest.Sum4(a[0], a[1], a[2], a[3])
}

// TestGuestBPFProgramParm1 attaches a kprobe program that counts hits by
// PT_REGS_PARM1 in a hash map, the way a libbpf tool does, and checks the
// counts; the probe path with the program allocates nothing.
func TestGuestBPFProgramParm1(t *testing.T) {
	lookup, detach := attachCounter(t)
	for range 3 {
		sum4With(5)
	}
	sum4With(9)
	if got := lookup(5); got != 3 {
		t.Errorf("map[5] = %d, want 3", got)
	}
	if got := lookup(9); got != 1 {
		t.Errorf("map[9] = %d, want 1", got)
	}
	if allocs := testing.AllocsPerRun(50, func() { sum4With(77) }); allocs != 0 {
		t.Errorf("a probed call with its program allocates %v times", allocs)
	}
	if got := lookup(77); got != 51 {
		t.Errorf("map[77] = %d, want 51", got)
	}
	detach()
	sum4With(5)
	if got := lookup(5); got != 0 {
		// the map is gone with its last descriptor
		t.Errorf("map[5] = %d after the detach", got)
	}
}

// BenchmarkGuestKprobeBPFEmpty is the cost of a probed call whose kprobe
// runs a program that only returns 0, against BenchmarkGuestCall.
func BenchmarkGuestKprobeBPFEmpty(b *testing.B) {
	detach := newSysTask(b).attachSum4("mov %r0, 0\nexit")
	defer detach()
	b.ResetTimer()
	for i := range b.N {
		sum4With(i & 31)
	}
}

// BenchmarkGuestKprobeBPF is the cost of a probed call whose kprobe runs a
// small BPF program (a hash map update) through perf, against
// BenchmarkGuestCall.
func BenchmarkGuestKprobeBPF(b *testing.B) {
	_, detach := attachCounter(b)
	defer detach()
	b.ResetTimer()
	for i := range b.N {
		sum4With(i & 31)
	}
}
