//go:build tamago && riscv64

// Command sifive_u is the Hachi kernel for QEMU sifive_u (RISC-V 64): it runs
// on hart 1, the first U54 core (hart 0 is the E51 monitor core, which cannot
// run Go: it has no FPU and no MMU).
package main

import (
	"runtime"

	"hachi/arch/riscv64"
	"hachi/kernel"
	"hachi/kernel/shell"
)

func main() {
	b := kernel.Board{
		Machine: "riscv64",
		NumCPU:  riscv64.NumCPU,
		CPUID:   riscv64.CPUID,
		CPUs: func() []shell.CPU {
			return []shell.CPU{{ID: 0, HardwareID: riscv64.HartID(), Model: "SiFive U54 (rv64gc)"}}
		},
		RAM:             runtime.MemRegion,
		Text:            runtime.TextRegion,
		Nanotime:        riscv64.Nanotime,
		ConsoleReadByte: riscv64.ConsoleReadByte,
		ConsoleWrite:    riscv64.ConsoleWrite,
		Poweroff:        riscv64.Poweroff,
		Exit:            riscv64.Exit,
	}
	if kp, err := riscv64.Kprobes(); err != nil {
		println("kprobes:", err.Error())
	} else {
		b.Kprober = kp
		b.Kallsyms = kp.Symbols().WriteKallsyms
		b.Symbol = kp.Symbols().Resolve
	}
	if err := riscv64.StartTimer(); err != nil {
		println("timer:", err.Error())
	} else {
		b.Timer = &kernel.Timer{Arm: riscv64.ArmTimer, SetHandler: riscv64.SetTimerHandler}
	}
	kernel.Main(b)
}
