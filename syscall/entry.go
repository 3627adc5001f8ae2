package syscall

import "hachi/syscall/linux"

// Args are a system call's six argument registers (rdi, rsi, rdx, r10, r8,
// r9 on x86_64; a0-a5 on riscv64).
type Args [6]uint64

// Handler runs one system call for t. It returns the value of the result
// register, or an error that Return turns into -errno.
type Handler func(t *Task, a Args) (uintptr, error)

// Return is the result register of a system call that gave v or err:
// -errno for a linux.Errno (others read -EINVAL), v otherwise.
func Return(v uintptr, err error) uint64 {
	if err != nil {
		return uint64(linux.SyscallReturn(err))
	}
	return uint64(v)
}

// Number is a system call number on one architecture.
type Number struct {
	AMD64, RISCV64 uint32
}

// The numbers of the system calls the portable layers implement
// (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h
// for riscv64).
var (
	SysBPF           = Number{AMD64: 321, RISCV64: 280}
	SysPerfEventOpen = Number{AMD64: 298, RISCV64: 241}
)
