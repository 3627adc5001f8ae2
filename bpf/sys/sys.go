// Package sys is the bpf(2) system call: Linux's kernel/bpf/syscall.c for
// Hachi. It decodes union bpf_attr from the caller's memory with Linux's size
// rules, runs the command, and keeps the kernel objects commands create (maps,
// programs, links, BTF) with their reference counts, ids and pins (bpffs).
//
// The layer is portable: it reaches the calling process only through
// syscall.Task (user memory, descriptor table, capabilities) and the kernel
// only through Env (CPUs, clock, memory accounting), so the same code runs
// under host tests, the host tool cmd/ebpf and the kernel. The kernel calls
// System.Call from its bpf system call entry and turns the error into -errno
// with linux.SyscallReturn.
package sys

import (
	"sync"
	"sync/atomic"

	"hachi/bpf/helpers"
	"hachi/bpf/verifier"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Env is what the bpf() layer needs from the kernel it runs in.
type Env interface {
	// PossibleCPUs is num_possible_cpus(): per-CPU maps keep a value for
	// each CPU id below it.
	PossibleCPUs() int
	// ChargeMemory is asked before a map allocates n bytes; an error
	// (ENOMEM) refuses the allocation, like Linux's memcg charge.
	ChargeMemory(n uint64) error
	// CurrentCPU is the CPU the calling thread runs on
	// (smp_processor_id): test runs run there.
	CurrentCPU() int
	// Nanotime is a monotonic clock in nanoseconds (ktime_get_ns): test
	// run durations and run_time_ns statistics.
	Nanotime() int64
	// BootTime is the time since boot in nanoseconds
	// (ktime_get_boottime_ns): a program's load_time.
	BootTime() uint64
	// Arch is the architecture whose register frame kprobe and
	// perf_event programs see.
	Arch() verifier.Arch
	// InTrap reports whether cpu runs a program in trap context (see
	// maps.Host).
	InTrap(cpu int) bool
	// Helpers are the kernel's helper functions; each program gets
	// those of its type and its loader's capabilities (get_func_proto).
	Helpers() *helpers.Set
}

// System is the bpf() state of one kernel: the object id spaces, the
// bpffs, the statistics switch and the per-CPU interpreter state. Every
// process's calls go to the same System; objects are shared between
// processes through descriptors, ids and pins.
type System struct {
	env Env

	maps  idr[*Map]
	progs idr[*Prog]
	links idr[*Link]
	btfs  idr[*BTF]

	fs *FS

	// statsEnabled counts the open BPF_ENABLE_STATS descriptors
	// (bpf_stats_enabled_key): programs record run time while it is > 0.
	statsEnabled atomic.Int32

	// UnprivilegedDisabled is sysctl kernel.unprivileged_bpf_disabled:
	// with a non-zero value, callers without CAP_BPF or CAP_SYS_ADMIN get
	// EPERM from BPF_MAP_CREATE and BPF_PROG_LOAD. Linux distributions
	// default to 2 (CONFIG_BPF_UNPRIV_DEFAULT_OFF), and so does New.
	UnprivilegedDisabled int

	cpuMu sync.Mutex
	cpus  []*cpuState
}

// New makes the bpf() state of a kernel running in env, with an empty
// bpffs to be mounted at MountPoint.
func New(env Env) *System {
	s := &System{env: env, UnprivilegedDisabled: 2}
	s.fs = newFS(s)
	return s
}

// FS is the bpffs of s, where BPF_OBJ_PIN puts objects.
func (s *System) FS() *FS { return s.fs }

// Live counts the objects alive in s, by kind: what tests check after
// closing every descriptor to find leaks.
type Live struct {
	Maps, Progs, Links, BTFs int
}

// Live returns how many objects of each kind are alive (hold an id).
func (s *System) Live() Live {
	return Live{Maps: s.maps.len(), Progs: s.progs.len(), Links: s.links.len(), BTFs: s.btfs.len()}
}

// bpfCapable is bpf_capable(): CAP_BPF or CAP_SYS_ADMIN.
func bpfCapable(t *syscall.Task) bool {
	return t.Caps.Has(syscall.CAP_BPF) || t.Caps.Has(syscall.CAP_SYS_ADMIN)
}

// perfmonCapable is perfmon_capable(): CAP_PERFMON or CAP_SYS_ADMIN.
func perfmonCapable(t *syscall.Task) bool {
	return t.Caps.Has(syscall.CAP_PERFMON) || t.Caps.Has(syscall.CAP_SYS_ADMIN)
}

// installFD gives f a close-on-exec descriptor in t's table, as every
// descriptor bpf(2) returns is (anon_inode_getfd with O_CLOEXEC). On
// failure it drops f, releasing what f held.
func installFD(t *syscall.Task, f *syscall.File) (int, error) {
	fd, err := t.Files.Install(f, true)
	if err != nil {
		f.DecRef()
		return -1, err
	}
	return fd, nil
}

// getFile is fdget with Linux's bad-descriptor answer.
func getFile(t *syscall.Task, fd uint32) (*syscall.File, error) {
	return t.Files.Get(int(fd))
}

// errnoOf keeps Linux errnos and maps anything else to EINVAL, so that no
// other error value leaves the package.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(linux.Errno); ok {
		return e
	}
	return linux.Errno(-linux.SyscallReturn(err))
}
