//go:build tamago && riscv64

package riscv64

import (
	"sync/atomic"
	"unsafe"
)

// QEMU's sifive_u has no test finisher ("sifive,test0", which its virt
// machine has at 0x100000): the exit status goes through semihosting
// (RISC-V Semihosting 1.0, on the Arm semihosting ABI), which QEMU provides
// with -semihosting-config enable=on,target=native.
const (
	semihostingExit           = 0x18    // SYS_EXIT
	adpStoppedApplicationExit = 0x20026 // ADP_Stopped_ApplicationExit
)

// defined in riscv64.s
func semihosting(op uint64, arg uint64) uint64

var exiting atomic.Bool

// Exit stops the machine: QEMU exits with status code (SYS_EXIT with an
// ApplicationExit reason). It is the runtime's goos.Exit: a Go panic ends
// here with code 2. Without semihosting the call traps; a second Exit (from
// the panic that trap raises) only halts the hart, interrupts disabled.
func Exit(code int32) {
	if exiting.CompareAndSwap(false, true) {
		block := [2]uint64{adpStoppedApplicationExit, uint64(uint32(code))}
		semihosting(semihostingExit, uint64(uintptr(unsafe.Pointer(&block))))
	}
	interruptsOff()
	write64(mtimecmp(), ^uint64(0))
	for {
		waitTimer()
	}
}

// Poweroff stops the machine cleanly (QEMU exit status 0).
func Poweroff() {
	Exit(0)
}
