// Package perf owns perf events, Linux's kernel/events for the kinds eBPF
// tools use: perf_event_open(2) with Linux's perf_event_attr ABI and
// checks, the event file (ioctls, read, poll, mmap), the mmap'ed ring
// buffer with its PERF_RECORD_SAMPLE and PERF_RECORD_LOST records, a
// reader of that ring, and the running of BPF programs from events.
//
// # Event kinds (PMUs)
//
//   - software (type 1): PERF_COUNT_SW_BPF_OUTPUT, the slots of a
//     BPF_MAP_TYPE_PERF_EVENT_ARRAY that bpf_perf_event_output writes to;
//     PERF_COUNT_SW_DUMMY; PERF_COUNT_SW_CPU_CLOCK, a nanosecond counter
//     that samples at a period or frequency from a per-CPU timer the kernel
//     provides (Timers, System.TimerExpired).
//   - tracepoint (type 2): config is the id of a kernel/trace tracepoint.
//   - kprobe (dynamic type KprobeType, as /sys/bus/event_source/devices/kprobe/type
//     tells): a probe placed by the Kprober the kernel provides.
//
// Other types and configs answer ENOENT, as Linux does when no PMU claims
// an event (there is no hardware PMU).
//
// # Contexts
//
// Events are opened from system calls (PerfEventOpen, Ioctl, Read, Mmap:
// they may allocate and block) and hit from trap context (tracepoint fire
// sites, kprobe breakpoints, the sampling timer, programs calling
// bpf_perf_event_output): that side allocates nothing and takes no lock
// that can block; it reads event lists published with atomic pointers,
// reserves ring space with compare-and-swap like Linux's local_t ring
// buffer, and runs programs on a per-CPU preallocated vm.Env guarded by a
// per-CPU recursion counter (bpf_prog_active).
//
// # Privileges
//
// Hachi keeps Linux's model: sysctl kernel.perf_event_paranoid (System.Paranoid,
// 2 by default as in Linux) and the CAP_PERFMON / CAP_SYS_ADMIN
// capabilities of the caller. Root passes every check.
package perf

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Host is what perf needs from the kernel it runs in.
type Host interface {
	// PossibleCPUs is nr_cpu_ids: cpu arguments at or past it are EINVAL.
	PossibleCPUs() int
	// CPUOnline reports whether cpu is online: a CPU event on an offline
	// CPU is ENODEV.
	CPUOnline(cpu int) bool
	// Now is perf_clock(): monotonic nanoseconds, for PERF_SAMPLE_TIME,
	// the enabled/running times and the CPU clock counter. Trap-safe.
	Now() uint64
	// FindTask resolves perf_event_open's pid (0: the caller t) to a
	// thread id, or ESRCH (find_lively_task_by_vpid).
	FindTask(t *syscall.Task, pid int32) (int32, error)
	// Current is the thread running on cpu: its process id (tgid) and
	// thread id, 0 and 0 for the idle task (PERF_SAMPLE_TID, and the
	// filter of events bound to a task). Trap-safe.
	Current(cpu int) (pid, tid int32)
	// Timers arms the per-CPU sampling timer of CPU clock events.
	Timers
}

// Timers is the per-CPU one-shot timer behind PERF_COUNT_SW_CPU_CLOCK
// sampling (Linux gives each event an hrtimer). When the deadline passes,
// the kernel calls System.TimerExpired on that CPU, from its timer
// interrupt, with the interrupted registers.
type Timers interface {
	// Arm asks for TimerExpired on cpu at or after deadline (Host.Now
	// nanoseconds), replacing any earlier request for that CPU; deadline
	// 0 cancels it. It may be called from TimerExpired itself.
	Arm(cpu int, deadline uint64)
}

// Regs is the register state of a hit: the interrupted or probed
// context, as the architecture saved it.
type Regs struct {
	// Frame points to the architecture's bpf_user_pt_regs_t (struct
	// pt_regs on x86_64, user_regs_struct on riscv64) and Size is its
	// size: the context of kprobe programs and the regs of a perf_event
	// program's bpf_perf_event_data. Frame may be nil when no frame is
	// available (Size 0).
	Frame unsafe.Pointer
	Size  uintptr
	// IP is the instruction pointer (perf_instruction_pointer):
	// PERF_SAMPLE_IP.
	IP uint64
	// User tells that the context was running in user mode (user_mode):
	// a sample's cpumode, and exclude_user/exclude_kernel.
	User bool
}

// Sysctl defaults of Linux (kernel/events/core.c).
const (
	// DefaultParanoid is kernel.perf_event_paranoid's default.
	DefaultParanoid = 2
	// DefaultMaxSampleRate is kernel.perf_event_max_sample_rate's
	// default (DEFAULT_MAX_SAMPLE_RATE): the highest sample_freq.
	DefaultMaxSampleRate = 100000
	// minClockPeriod is the shortest CPU clock sampling period in
	// nanoseconds (perf_swevent_start_hrtimer's max(10000, period)).
	minClockPeriod = 10000
)

// System is the perf state of one kernel: its PMUs, event ids, the
// per-CPU state of programs and clock events.
type System struct {
	host Host
	cpus []*cpuState

	// Paranoid is sysctl kernel.perf_event_paranoid.
	Paranoid int
	// MaxSampleRate is sysctl kernel.perf_event_max_sample_rate.
	MaxSampleRate uint64

	nextID atomic.Uint64 // perf_event_id

	kprober Kprober

	tpMu   sync.Mutex
	tracer map[uint16]*tpProbe // tracepoint id -> perf's probe on it

	clockMu sync.Mutex // serialises changes to the per-CPU clock lists
	// ctxMu serialises the syscall side's changes of event state and
	// groups (the perf_event_context mutex).
	ctxMu sync.Mutex
}

// cpuState is one CPU's state for the trap side.
type cpuState struct {
	// active is bpf_prog_active: programs run only at depth 1.
	active atomic.Int32
	env    *vm.Env
	// ctx holds the context built for a program: bpf_perf_event_data or
	// a copy of the registers.
	ctx [maxRegsSize + 16]byte
	// regsIP and regsUser are the registers' IP and mode of the hit whose
	// program runs (regsSet), for the samples bpf_perf_event_output
	// writes from it (perf_instruction_pointer, user_mode); see setRegs.
	regsIP   uint64
	regsUser bool
	regsSet  bool
	// clocks are the CPU clock events active on this CPU.
	clocks atomic.Pointer[[]*Event]
	_      [64]byte // keeps CPUs' hot words on separate cache lines
}

// setRegs records, from the registers of the hit whose program is about to
// run on the CPU (nil once it returned), what its samples take. They are
// copied rather than pointed to: this runs in trap context, where storing
// a pointer into the heap would run the GC's write barrier, which the trap
// may have interrupted on this CPU in the middle of its buffer's update.
func (c *cpuState) setRegs(regs *Regs) {
	if regs == nil {
		c.regsSet = false
		return
	}
	c.regsIP, c.regsUser, c.regsSet = regs.IP, regs.User, true
}

// maxRegsSize bounds Regs.Size for the context copies of perf_event
// programs: larger than either architecture's frame.
const maxRegsSize = 512

// New makes the perf state of a kernel. kprober places kprobes; with nil
// there is no kprobe PMU (its type answers ENOENT and its sysfs directory
// does not exist), as in a Linux built without CONFIG_KPROBE_EVENTS.
func New(host Host, kprober Kprober) *System {
	s := &System{host: host, kprober: kprober, Paranoid: DefaultParanoid,
		MaxSampleRate: DefaultMaxSampleRate, tracer: map[uint16]*tpProbe{}}
	for i := 0; i < host.PossibleCPUs(); i++ {
		env := vm.NewEnv()
		env.CPU = uint32(i)
		s.cpus = append(s.cpus, &cpuState{env: env})
	}
	return s
}

// perfmonCapable is perfmon_capable(): CAP_PERFMON or CAP_SYS_ADMIN.
func perfmonCapable(t *syscall.Task) bool {
	return t.Caps.Has(syscall.CAP_PERFMON) || t.Caps.Has(syscall.CAP_SYS_ADMIN)
}

// allowKernel is perf_allow_kernel: measuring the kernel needs
// paranoid <= 1 or CAP_PERFMON (EACCES).
func (s *System) allowKernel(t *syscall.Task) error {
	if s.Paranoid > 1 && !perfmonCapable(t) {
		return linux.EACCES
	}
	return nil
}

// allowCPU is perf_allow_cpu: CPU-wide events need paranoid <= 0 or
// CAP_PERFMON (EACCES).
func (s *System) allowCPU(t *syscall.Task) error {
	if s.Paranoid > 0 && !perfmonCapable(t) {
		return linux.EACCES
	}
	return nil
}

// allowTracepoint is perf_allow_tracepoint: raw tracepoint data needs
// paranoid <= -1 or CAP_PERFMON (EPERM).
func (s *System) allowTracepoint(t *syscall.Task) error {
	if s.Paranoid > -1 && !perfmonCapable(t) {
		return linux.EPERM
	}
	return nil
}

// cpu is the trap-side state of cpu, nil past the possible CPUs.
func (s *System) cpu(cpu int) *cpuState {
	if cpu < 0 || cpu >= len(s.cpus) {
		return nil
	}
	return s.cpus[cpu]
}
