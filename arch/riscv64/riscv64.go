//go:build tamago && riscv64

// Package riscv64 brings up Hachi on RISC-V 64 under QEMU sifive_u (machine
// mode, no firmware): it implements the runtime/goos hooks of GOOS=tamago
// (console, RAM layout, exit, idle) on top of TamaGo's riscv64 and fu540
// packages, with exit statuses through the SiFive test finisher.
//
// Go runs on one hart. TamaGo's riscv64 support is single-core: it has no
// goos.Task (no way to start an M on another hart) and the FU540's monitor
// hart (E51, hart 0) has no FPU and no MMU, so it cannot run Go at all;
// QEMU must park it (see Makefile: a loader writes "wfi; j .-4" at the
// DRAM base where the reset vector sends every hart but the one the ELF
// loader starts).
//
// QEMU: -M sifive_u -bios none -device loader,file=IMAGE,cpu-num=1
// -device loader,addr=0x80000000,data=0xffdff06f10500073,data-len=8
// -semihosting-config enable=on,target=native -serial stdio (see Makefile,
// target qemu).
package riscv64

import (
	"runtime/goos"
	_ "unsafe"

	"github.com/usbarmory/tamago/soc/sifive/fu540"
)

// RAM given to the Go runtime: RamStart is TamaGo's fu540 one (0x80000000,
// where the kernel is linked with -T 0x80010000), RamSize is set here.
//
//go:linkname ramSize runtime/goos.RamSize
var ramSize uint64 = 0x20000000 // 512 MiB

// Peripherals of QEMU sifive_u.
const (
	uart0TXCTRL = fu540.UART0_BASE + 0x08
	uart0RXCTRL = fu540.UART0_BASE + 0x0c
)

//go:linkname printk runtime/goos.Printk
func printk(c byte) {
	fu540.UART0.Tx(c)
}

// hwinit1 runs after the runtime's schedinit, before package init (the
// world is not started: no goroutines, no sleeping).
//
//go:linkname hwinit1 runtime/goos.Hwinit1
func hwinit1() {
	fu540.Init()
	goos.Exit = Exit
	goos.Idle = idle
	fu540.UART0.Init()
	// FU540-C000 manual 13.6-13.7: txen and rxen, one stop bit.
	write32(uart0TXCTRL, 1)
	write32(uart0RXCTRL, 1)
}

// numCPU is the number of harts running Go code: one.
const numCPU = 1

// NumCPU returns the number of harts running Go code: one.
func NumCPU() int {
	return numCPU
}

// CPUID returns the index of the CPU running the caller: 0, the only one.
//
//go:nosplit
func CPUID() int {
	return 0
}

// HartID returns the hart id (mhartid) of the hart running the caller.
func HartID() int {
	return int(hartID())
}
