//go:build tamago && amd64

// Command microvm is the Hachi kernel for QEMU microvm (x86-64).
package main

import (
	"fmt"
	"runtime"

	"hachi/arch/amd64"
	"hachi/kernel"
	"hachi/kernel/shell"
)

func main() {
	b := kernel.Board{
		Machine:         "x86_64",
		NumCPU:          amd64.NumCPU,
		CPUID:           amd64.CPUID,
		CPUs:            cpus,
		RAM:             runtime.MemRegion,
		Text:            runtime.TextRegion,
		Nanotime:        amd64.Nanotime,
		ConsoleReadByte: amd64.ConsoleReadByte,
		ConsoleWrite:    amd64.ConsoleWrite,
		Poweroff:        amd64.Poweroff,
		Exit:            amd64.Exit,
		Info: func() []string {
			return []string{
				fmt.Sprintf("clock: TSC %.3f MHz, calibrated against the PIT", float64(amd64.TSCFrequency())/1e6),
				"idle: " + amd64.IdleMode(),
			}
		},
	}
	if kp, err := amd64.Kprobes(); err != nil {
		fmt.Printf("kprobes: %v\n", err)
	} else {
		b.Kprober = kp
		b.Kallsyms = kp.Symbols().WriteKallsyms
		b.Symbol = kp.Symbols().Resolve
	}
	if err := amd64.StartTimer(); err != nil {
		fmt.Printf("timer: %v\n", err)
	} else {
		b.Timer = &kernel.Timer{Arm: amd64.ArmTimer, SetHandler: amd64.SetTimerHandler}
	}
	kernel.Main(b)
}

// cpus lists the CPUs; a CPU's index is its local APIC ID (arch/amd64.CPUID).
func cpus() []shell.CPU {
	list := make([]shell.CPU, amd64.NumCPU())
	for i := range list {
		list[i] = shell.CPU{ID: i, HardwareID: i, Model: runtime.CPU()}
	}
	return list
}
