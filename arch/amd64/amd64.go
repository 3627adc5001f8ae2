//go:build tamago && amd64

// Package amd64 brings up Hachi on x86-64 under QEMU microvm: it implements
// the runtime/goos hooks of GOOS=tamago (console, clock, RAM layout, exit,
// idle) on top of TamaGo's amd64 package, calibrates the TSC against the
// PIT, starts every CPU and gives each a cheap identity (CPUID).
//
// Importing the package is enough to boot: the hardware is set up before
// any other package's init runs, the other CPUs start in this package's init.
//
// QEMU: -M microvm,pit=on -cpu max -smp N -m 2G -no-reboot
// -device isa-debug-exit -serial stdio (see Makefile, target qemu).
package amd64

import (
	"runtime/goos"
	_ "unsafe"

	tamago "github.com/usbarmory/tamago/amd64"
	"github.com/usbarmory/tamago/soc/intel/ioapic"
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// RAM given to the Go runtime: RamStart is TamaGo's (0x10000000, where the
// kernel is linked with -T 0x10010000), RamSize is set here.
//
//go:linkname ramSize runtime/goos.RamSize
var ramSize uint64 = 0x40000000 // 1 GiB

// Peripherals of QEMU microvm.
const (
	com1Base    = 0x3f8
	ioapic0Base = 0xfec00000
	ioapic1Base = 0xfec10000
)

var (
	// cpu is the boot CPU as TamaGo knows it (LAPIC, SMP start-up).
	cpu = &tamago.CPU{TimerMultiplier: 1}

	// serial is the console, COM1.
	serial = &uart.UART{Index: 1, Base: com1Base}

	ioapic0 = &ioapic.IOAPIC{Index: 0, Base: ioapic0Base, GSIBase: 0}
	ioapic1 = &ioapic.IOAPIC{Index: 1, Base: ioapic1Base, GSIBase: 24}
)

//go:linkname printk runtime/goos.Printk
func printk(c byte) {
	serial.Tx(c)
}

//go:linkname nanotime runtime/goos.Nanotime
func nanotime() int64 {
	return Nanotime()
}

// hwinit1 runs after the runtime's schedinit, before package init (the
// world is not started: no goroutines, no sleeping).
//
//go:linkname hwinit1 runtime/goos.Hwinit1
func hwinit1() {
	cpu.Init()
	ioapic0.Init()
	ioapic1.Init()
	serial.Init()
	calibrateTSC()
	initCPUIdentity()

	goos.Exit = Exit
	goos.Idle = idle
}

func init() {
	cpu.EnableExceptions()
	startInterrupts()
	// Start every CPU: TamaGo sends INIT/SIPI to each, then raises
	// GOMAXPROCS, and the runtime starts an M on each (goos.Task).
	cpu.InitSMP(-1)
}

// NumCPU returns the number of CPUs running Go code.
func NumCPU() int {
	return cpu.NumCPU()
}
