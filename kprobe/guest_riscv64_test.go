//go:build tamago && riscv64

package kprobe_test

import (
	"runtime"

	"hachi/arch/riscv64"
	"hachi/kernel"
	"hachi/kernel/shell"
	"hachi/kprobe"
)

func kprobes() (*kprobe.Manager, error) { return riscv64.Kprobes() }

func numCPU() int { return riscv64.NumCPU() }

func cpuID() int { return riscv64.CPUID() }

const machine = "riscv64"

// Go's integer arguments are in a0-a7 (x10-x17), the words 10-17 of
// user_regs_struct.
func goArg(regs []uint64, i int) uint64 { return regs[10+i] }

// regsRC is PT_REGS_RC's word (a0); parm1Off PT_REGS_PARM1's byte offset
// (a0).
const (
	regsRC   = 10
	parm1Off = 10 * 8
)

// entryIP is the pc a kprobe handler sees: the probed address.
func entryIP(addr uint64) uint64 { return addr }

// parm1Arg is the Go argument that PT_REGS_PARM1 (a0) holds: the first.
const parm1Arg = 0

func testBoard(kp *kprobe.Manager) kernel.Board {
	return kernel.Board{
		Machine: machine, NumCPU: riscv64.NumCPU, CPUID: riscv64.CPUID,
		CPUs: func() []shell.CPU { return nil }, RAM: runtime.MemRegion, Text: runtime.TextRegion,
		Nanotime: riscv64.Nanotime, ConsoleReadByte: riscv64.ConsoleReadByte, ConsoleWrite: riscv64.ConsoleWrite,
		Poweroff: riscv64.Poweroff, Exit: riscv64.Exit, Kprober: kp, Kallsyms: kp.Symbols().WriteKallsyms,
	}
}
