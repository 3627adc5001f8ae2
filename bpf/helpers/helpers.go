// Package helpers owns the eBPF helper functions: the table of Linux's
// helpers by id with their prototypes (what the verifier checks a call
// against), which program types may call each (Linux's *_func_proto
// functions), and their implementations for the VM.
//
// Helpers that need the kernel (the current task, clocks, memory reads,
// stack traces, the trace pipe) reach it through Kernel, which the kernel
// implements and helperstest fakes for host tests. Helpers run in program
// context, possibly inside a trap: they do not allocate (per-CPU scratch
// buffers live in the Set, made once) and never block.
//
// Pointers from programs are trusted for verified programs, as Linux trusts
// what its verifier accepted; for checked programs every access goes
// through vm.Env.Memory, which checks it.
package helpers

import (
	"math/rand/v2"
	"sync/atomic"

	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Kernel is what helpers ask of the kernel. Methods taking a CPU are about
// the program running there; they are called from program context and
// must not block or allocate.
type Kernel interface {
	Clock
	Tasks
	Memory
	Unwinder
	TracePipe
}

// Clock gives the kernel's clocks, in nanoseconds.
type Clock interface {
	// MonotonicNS is CLOCK_MONOTONIC (ktime_get_mono_fast_ns).
	MonotonicNS() uint64
	// BootNS is CLOCK_BOOTTIME: monotonic, counting suspend
	// (ktime_get_boot_fast_ns).
	BootNS() uint64
	// CoarseNS is CLOCK_MONOTONIC_COARSE (ktime_get_coarse_ns): the
	// monotonic clock at tick resolution.
	CoarseNS() uint64
}

// Task is what helpers read of the current task.
type Task struct {
	PID  uint32 // thread id (Linux's task->pid)
	TGID uint32 // process id (task->tgid)
	UID  uint32
	GID  uint32
	Comm [16]byte // TASK_COMM_LEN, NUL-padded
}

// Tasks knows the task each CPU runs.
type Tasks interface {
	// CurrentTask is the task running on cpu (the interrupted one when a
	// probe fires in a trap); false when there is none.
	CurrentTask(cpu uint32) (Task, bool)
}

// Memory is fault-safe access to arbitrary addresses, for the probe_read
// helpers and printk's %s, %pI4 and %pks.
type Memory interface {
	// ReadKernel copies len(dst) bytes from kernel address addr
	// (copy_from_kernel_nofault): nil, EFAULT for a bad address, ERANGE
	// for a user address. dst's contents are undefined after an error.
	ReadKernel(dst []byte, addr uint64) error
	// ReadUser copies len(dst) bytes from the current task's address addr
	// (copy_from_user_nofault): nil or EFAULT.
	ReadUser(dst []byte, addr uint64) error
	// UserLimit is TASK_SIZE: addresses below it are user addresses, for
	// the legacy probe_read and probe_read_str that take either.
	UserLimit() uint64
}

// Unwinder walks stacks and knows probe addresses.
type Unwinder interface {
	// StackTrace fills ips with the return addresses of the kernel (or,
	// with user set, user) stack of the program running on cpu with
	// context ctx, innermost first, and returns how many it wrote
	// (get_perf_callchain); EFAULT when it cannot.
	StackTrace(cpu uint32, ctx vm.Region, user bool, ips []uint64) (int, error)
	// FuncIP is the address of the probed function of the kprobe program
	// running on cpu (bpf_get_func_ip), 0 if unknown.
	FuncIP(cpu uint32, ctx vm.Region) uint64
	// Symbol names the function containing addr, for printk's %pS and
	// %ps: its name, addr's offset in it and its size; false if unknown.
	// The name must not need allocating (a symbol table's string).
	Symbol(addr uint64) (name string, off, size uint64, ok bool)
}

// TracePipe receives bpf_trace_printk's messages: Linux's
// bpf_trace_printk trace event, read from /sys/kernel/tracing/trace_pipe.
type TracePipe interface {
	// TracePrintk records msg (without a trailing newline added) printed
	// by the program running on cpu; msg is valid only during the call.
	TracePrintk(cpu uint32, msg []byte)
}

// Set is the helpers bound to one kernel: the Kernel, and per-CPU scratch
// state (printk buffers, stack trace buffers, random number generators,
// for_each visitors) so that helpers allocate nothing.
type Set struct {
	kernel  Kernel
	cpus    []cpuState
	ptrSeed uint64 // key of %p's pointer hashing
}

// cpuState is one CPU's helper scratch state. A program that interrupts
// another on the same CPU (a probe hit inside a helper) nests: printk
// buffers and for_each visitors are stacks.
type cpuState struct {
	rng       uint64
	printNest atomic.Int32
	print     [maxPrintNest]printBuffer
	ips       [perfMaxStack]uint64
	visitNest int
	visitors  [vm.MaxCallFrames]forEachVisitor
}

// New makes the helpers of a kernel with ncpu possible CPUs.
func New(k Kernel, ncpu int) *Set {
	s := &Set{kernel: k, cpus: make([]cpuState, ncpu), ptrSeed: rand.Uint64() | 1}
	for i := range s.cpus {
		s.cpus[i].rng = rand.Uint64() | 1
	}
	return s
}

// cpu is the scratch state of the CPU env runs on.
func (s *Set) cpu(env *vm.Env) *cpuState { return &s.cpus[int(env.CPU)%len(s.cpus)] }

// Caps are the loader's capabilities that decide which helpers a program
// may call (bpf_base_func_proto's bpf_capable and perfmon_capable).
type Caps struct {
	BPF     bool // CAP_BPF or CAP_SYS_ADMIN
	Perfmon bool // CAP_PERFMON or CAP_SYS_ADMIN
}

// ForProgType is get_func_proto for programs of type t loaded with caps:
// the implementations the VM calls and the prototypes the verifier checks,
// both indexed by helper id. bpf_tail_call has a prototype and no
// implementation: the VM does it.
func (s *Set) ForProgType(t linux.BPFProgType, caps Caps) (vm.Helpers, func(id int32) *verifier.HelperProto) {
	impl := make(vm.Helpers, linux.BPF_FUNC_user_ringbuf_drain+1)
	protos := make([]*verifier.HelperProto, len(impl))
	for i := range Table {
		h := &Table[i]
		if !h.Allowed(t, caps) {
			continue
		}
		protos[h.ID] = &h.Proto
		if h.impl != nil {
			impl[h.ID] = h.impl(s)
		}
	}
	return impl, func(id int32) *verifier.HelperProto {
		if id < 0 || int(id) >= len(protos) {
			return nil
		}
		return protos[id]
	}
}

// errno is a helper's return value for err: 0 or -errno. Maps return bare
// linux.Errno values: the type test avoids errors.As, whose target would
// be allocated.
func errno(err error) uint64 {
	if err == nil {
		return 0
	}
	if e, ok := err.(linux.Errno); ok {
		return uint64(-int64(e))
	}
	return uint64(linux.SyscallReturn(err))
}

// mapOf is the bpf/maps map a register names, or nil.
func mapOf(env *vm.Env, r uint64) maps.Map {
	h := env.Map(r)
	if h == nil {
		return nil
	}
	m, _ := h.Map.(maps.Map)
	return m
}
