package syscall

// Capability is a Linux capability number (<linux/capability.h>).
type Capability uint8

// The capabilities system calls of Hachi test.
const (
	CAP_NET_ADMIN Capability = 12
	CAP_SYS_ADMIN Capability = 21
	CAP_SYSLOG    Capability = 34
	CAP_PERFMON   Capability = 38
	CAP_BPF       Capability = 39
)

// CapSet is a set of capabilities, bit n standing for capability n, like
// Linux's kernel_cap_t.
type CapSet uint64

// AllCaps is the effective set of a root process.
const AllCaps CapSet = 1<<41 - 1 // CAP_LAST_CAP is 40 in Linux 6.1

// Has reports whether c is in the set (capable(c)).
func (s CapSet) Has(c Capability) bool { return s&(1<<c) != 0 }

// Task is the calling process as a system call sees it: its user memory,
// its descriptor table and its credentials. A thread of the kernel builds
// one for each call from the process it runs; host tests build their own.
type Task struct {
	Mem   AddressSpace
	Files *FDTable
	// Caps is the effective capability set.
	Caps CapSet
	// UID is the effective user id (recorded as created_by_uid).
	UID uint32
}
