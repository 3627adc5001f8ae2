//go:build linux

// Package hostbpf calls the host kernel's bpf(2), for the tests that use
// Linux as the reference for Hachi's behaviour.
package hostbpf

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"hachi/syscall/linux"
)

// loadAttempts is how many times BPF_PROG_LOAD is tried while it fails
// with EAGAIN (libbpf's PROG_LOAD_ATTEMPTS).
const loadAttempts = 5

// Call is bpf(cmd, attr, size) on the host. BPF_PROG_LOAD is retried on
// EAGAIN, as libbpf does: Linux's verifier gives up with EAGAIN when a
// signal is pending, and the Go runtime signals its threads (preemption).
func Call(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) (int, error) {
	for attempt := 1; ; attempt++ {
		r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		switch {
		case e == 0:
			return int(r), nil
		case e == unix.EAGAIN && cmd == linux.BPF_PROG_LOAD && attempt < loadAttempts:
			continue
		}
		return -1, linux.Errno(e)
	}
}
