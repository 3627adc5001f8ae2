package kernel

import (
	"hachi/kernel/trace"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// The system call table of kernel tasks: each entry gives a system call's
// name, its number on each architecture (arch/x86/entry/syscalls/syscall_64.tbl;
// include/uapi/asm-generic/unistd.h for riscv64), the handler, and what is
// supported. Calls without a handler answer ENOSYS, as Linux answers a
// number it does not implement (sys_ni_syscall); their note says why. The
// set is what unmodified eBPF loaders call (see /work/shared/NOTES.md,
// "What unmodified loaders need from a kernel"), so that what is missing
// is visible here.

// machine is an architecture's system call numbering.
type machine int

const (
	machineAMD64 machine = iota
	machineRISCV64
)

// noSyscall marks a call an architecture does not have (riscv64 has no
// epoll_wait, only epoll_pwait).
const noSyscall = -1

// handler runs one system call for task t.
type handler func(k *Kernel, t *Task, a syscall.Args) (uintptr, error)

type syscallEntry struct {
	name           string
	amd64, riscv64 int
	fn             handler // nil: ENOSYS
	note           string
}

var syscallTable = []syscallEntry{
	{"read", 0, 63, sysRead, "virtual files, trace_pipe (O_NONBLOCK: EAGAIN when empty), perf event counters; EINVAL for BPF objects, EISDIR for directories"},
	{"write", 1, 64, nil, "no writable file yet: kernel tasks write to the console directly"},
	{"close", 3, 57, sysClose, "every descriptor"},
	{"fstat", 5, 80, nil, "no inode attributes yet"},
	{"lseek", 8, 62, nil, "files are read sequentially or with pread64"},
	{"mmap", 9, 222, sysMmap, "shared mappings of BPF maps (BPF_F_MMAPABLE arrays, ring buffers) and perf event rings, at the object's own kernel address; no anonymous, private or fixed mappings"},
	{"mprotect", 10, 226, nil, "kernel memory has no per-mapping protection"},
	{"munmap", 11, 215, sysMunmap, "whole mappings made by mmap; EINVAL for part of one"},
	{"rt_sigaction", 13, 134, nil, "kernel tasks take no signals"},
	{"ioctl", 16, 29, sysIoctl, "perf event descriptors (PERF_EVENT_IOC_*); ENOTTY otherwise"},
	{"pread64", 17, 67, sysPread64, "virtual files; ESPIPE for trace_pipe"},
	{"madvise", 28, 233, nil, "no paging"},
	{"dup", 32, 23, sysDup, "every descriptor"},
	{"nanosleep", 35, 101, nil, "kernel tasks sleep with the Go runtime"},
	{"getpid", 39, 172, sysGetpid, "the task's pid (each kernel task is its own thread group)"},
	{"clone", 56, 220, nil, "kernel tasks are started with Kernel.NewTask"},
	{"uname", 63, 160, sysUname, "sysname Hachi, release Version, machine of the board"},
	{"fcntl", 72, 25, nil, "no descriptor flags beyond close-on-exec at creation"},
	{"getuid", 102, 174, nil, "kernel tasks run as root"},
	{"getppid", 110, 173, nil, "kernel tasks have no parent process"},
	{"sigaltstack", 131, 132, nil, "kernel tasks take no signals"},
	{"statfs", 137, 43, nil, "no file system statistics (loaders use it to check for bpffs)"},
	{"gettid", 186, 178, sysGetpid, "the task's pid"},
	{"futex", 202, 98, nil, "kernel tasks synchronise with the Go runtime"},
	{"sched_getaffinity", 204, 123, nil, "kernel tasks run on any CPU"},
	{"getdents64", 217, 61, nil, "directories are listed by the kernel's file tree (ls), not through descriptors"},
	{"clock_gettime", 228, 113, nil, "kernel tasks read the kernel's clock directly"},
	{"exit_group", 231, 94, nil, "kernel tasks end with Task.Exit"},
	{"epoll_wait", 232, noSyscall, nil, "no epoll yet (ring buffer and perf buffer readers need it)"},
	{"epoll_ctl", 233, 21, nil, "no epoll yet"},
	{"openat", 257, 56, sysOpenat, "the kernel's file tree (/proc, /sys, tracefs, bpffs), read-only: EACCES for write access"},
	{"newfstatat", 262, 79, nil, "no inode attributes yet"},
	{"epoll_pwait", 281, 22, nil, "no epoll yet"},
	{"eventfd2", 290, 19, nil, "no eventfd yet"},
	{"epoll_create1", 291, 20, nil, "no epoll yet"},
	{"dup3", 292, 24, nil, "dup covers kernel callers"},
	{"perf_event_open", 298, 241, sysPerfEventOpen, "perf's PMUs: software, tracepoint, kprobe (when the board places kprobes)"},
	{"prlimit64", 302, 261, nil, "no resource limits: BPF memory is not charged to RLIMIT_MEMLOCK"},
	{"getrandom", 318, 278, nil, "kernel tasks use crypto/rand"},
	{"bpf", 321, 280, sysBPF, "every command of Linux 6.1 (bpf/sys)"},
	{"faccessat2", 439, 439, nil, "no permission checks on the kernel's files"},
}

// number is e's number on m, or noSyscall.
func (m machine) number(e *syscallEntry) int {
	if m == machineRISCV64 {
		return e.riscv64
	}
	return e.amd64
}

// index is the table by m's numbers: entry n is call n, nil for a number
// without an entry.
func (m machine) index() []*syscallEntry {
	var idx []*syscallEntry
	for i := range syscallTable {
		e := &syscallTable[i]
		if n := m.number(e); n != noSyscall {
			if n >= len(idx) {
				idx = append(idx, make([]*syscallEntry, n+1-len(idx))...)
			}
			idx[n] = e
		}
	}
	return idx
}

// entry is the table's entry for call nr, nil if it has none.
func (k *Kernel) entry(nr uint64) *syscallEntry {
	if nr >= uint64(len(k.calls)) {
		return nil
	}
	return k.calls[nr]
}

// The tracepoints the dispatcher fires, looked up once.
var tpSysEnter, tpSysExit = mustTracepoint("raw_syscalls:sys_enter"), mustTracepoint("raw_syscalls:sys_exit")

func mustTracepoint(name string) *trace.Tracepoint {
	tp, ok := trace.Lookup(name)
	if !ok {
		panic("kernel: no tracepoint " + name)
	}
	return tp
}

// Syscall makes system call nr (this architecture's number, as a Linux
// program would pass it) with up to six arguments as task t, and returns
// the result register's value, or the error as a linux.Errno (the value is
// then 0). Pointer arguments are kernel addresses (addrOf), checked against
// the kernel's memory like user pointers are against a process's.
//
// raw_syscalls:sys_enter fires before the call with its number and
// arguments, raw_syscalls:sys_exit after it with the value Linux's result
// register would hold (-errno on failure), both as t on the CPU it runs on.
func (k *Kernel) Syscall(t *Task, nr uint64, args ...uint64) (uint64, error) {
	if len(args) > len(syscall.Args{}) {
		return 0, linux.EINVAL
	}
	var a syscall.Args
	copy(a[:], args)
	if tpSysEnter.Enabled() {
		k.fire(t, func(c trace.Ctx) { trace.SysEnter(c, int64(nr), (*[6]uint64)(&a)) })
	}
	var v uintptr
	err := error(linux.ENOSYS)
	if e := k.entry(nr); e != nil && e.fn != nil {
		cpu, prev := k.enter(t)
		v, err = callHandler(e.fn, k, t, a)
		k.leave(cpu, t, prev)
	}
	ret := int64(syscall.Return(v, err))
	if tpSysExit.Enabled() {
		k.fire(t, func(c trace.Ctx) { trace.SysExit(c, int64(nr), ret) })
	}
	if err != nil {
		return 0, linux.Errno(-ret)
	}
	return uint64(v), nil
}

// SyscallNumber is the number of the system call named name on this
// kernel's architecture; false if it has none.
func (k *Kernel) SyscallNumber(name string) (uint64, bool) {
	for i := range syscallTable {
		if e := &syscallTable[i]; e.name == name {
			n := k.machine.number(e)
			return uint64(n), n != noSyscall
		}
	}
	return 0, false
}

// callHandler runs a system call handler. It bounds the kernel stack
// bpf_get_stackid reports from a program the call runs (a test run): the
// stack starts at the dispatcher (see markers).
//
//go:noinline
func callHandler(fn handler, k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	return fn(k, t, a)
}

func sysBPF(k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	return k.bpf.Syscall(&t.sys, a)
}

func sysPerfEventOpen(k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	fd, err := k.perf.PerfEventOpen(&t.sys, a[0], int32(a[1]), int32(a[2]), int32(a[3]), a[4])
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

func sysGetpid(_ *Kernel, t *Task, _ syscall.Args) (uintptr, error) { return uintptr(t.pid), nil }
