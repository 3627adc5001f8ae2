//go:build tamago && amd64

package kprobe_test

import (
	"runtime"

	"hachi/arch/amd64"
	"hachi/kernel"
	"hachi/kernel/shell"
	"hachi/kprobe"
)

func kprobes() (*kprobe.Manager, error) { return amd64.Kprobes() }

func numCPU() int { return amd64.NumCPU() }

func cpuID() int { return amd64.CPUID() }

const machine = "x86_64"

// goArgRegs are the pt_regs words of Go's integer argument registers on
// amd64 (RAX, RBX, RCX, RDI, RSI, R8...: internal/abi), by index.
var goArgRegs = []int{10, 5, 11, 14, 13, 9, 8, 7, 6}

func goArg(regs []uint64, i int) uint64 { return regs[goArgRegs[i]] }

// regsRC is PT_REGS_RC's word (ax); parm1Off PT_REGS_PARM1's byte offset
// (di).
const (
	regsRC   = 10
	parm1Off = 14 * 8
)

// entryIP is the ip a kprobe handler sees: one past the int3, as Linux's
// x86 pre-handlers see it.
func entryIP(addr uint64) uint64 { return addr + 1 }

// parm1Arg is the Go argument that PT_REGS_PARM1 (rdi) holds: the fourth.
const parm1Arg = 3

func testBoard(kp *kprobe.Manager) kernel.Board {
	return kernel.Board{
		Machine: machine, NumCPU: amd64.NumCPU, CPUID: amd64.CPUID,
		CPUs: func() []shell.CPU { return nil }, RAM: runtime.MemRegion, Text: runtime.TextRegion,
		Nanotime: amd64.Nanotime, ConsoleReadByte: amd64.ConsoleReadByte, ConsoleWrite: amd64.ConsoleWrite,
		Poweroff: amd64.Poweroff, Exit: amd64.Exit, Kprober: kp, Kallsyms: kp.Symbols().WriteKallsyms,
	}
}
