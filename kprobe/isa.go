package kprobe

import "unsafe"

// action is how a probed instruction is carried out once the handlers
// have run: out of line in its slot, or emulated on the saved registers
// when it depends on where it is (Linux's arch/x86/kernel/kprobes/core.c
// prepare_emulation, arch/riscv/kernel/probes/simulate-insn.c).
type action uint8

const (
	// actSlot: the instruction is copied into a slot (PC-relative
	// operands fixed up for the slot's address) and runs there; the slot
	// then goes on at the next instruction.
	actSlot action = iota
	// actJump: a direct jump: pc = target.
	actJump
	// actBranch: a conditional direct jump on cond.
	actBranch
	// actCall: a direct call: the return address is pushed (x86) or
	// linked in rd (riscv64), pc = target.
	actCall
	// actJumpInd, actCallInd: indirect jump and call through op.
	actJumpInd
	actCallInd
	// actRet: x86 RET: pc is popped, imm more bytes are released.
	actRet
	// actAuipc: riscv64 AUIPC: rd = pc + imm.
	actAuipc
)

// operand locates an indirect jump's or call's target: a register, or a
// memory word at base + index*scale + disp (x86); base + disp, bit 0
// cleared (riscv64 JALR).
type operand struct {
	mem        bool
	reg        int8 // register operand (x86), -1 when mem
	base       int8 // -1: none; regIP: the next instruction's address
	index      int8 // -1: none
	scale      uint8
	disp       int64
	clearBit0  bool // JALR: the target's bit 0 is cleared
	addrSize32 bool // x86 0x67: the address is truncated to 32 bits
}

// regIP as an operand base is the address of the next instruction
// (x86 RIP-relative addressing).
const regIP = -2

// insn is a decoded instruction at a probe site and how it is carried out.
type insn struct {
	addr   uint64
	length int
	act    action
	// cond is the condition of actBranch: an x86 condition code
	// (cond* below) or a riscv64 branch kind.
	cond   uint8
	target uint64 // actJump, actBranch, actCall
	rd     int8   // riscv64: the register actCall/actCallInd/actAuipc write
	rs1    int8   // riscv64 branches
	rs2    int8
	op     operand
	imm    int64 // actRet: bytes released; actAuipc: the value added to pc
	// ret marks a return instruction; leaves, a jump that may leave the
	// function (a tail call): return probes sit on both.
	ret    bool
	leaves bool
	// code is the instruction's bytes (the original ones, without a
	// breakpoint).
	code []byte
	// pcrelOff, pcrelLen locate an x86 RIP-relative displacement in code
	// (0 length: none).
	pcrelOff, pcrelLen int
}

// isa is what the probe machinery needs to know about an instruction set.
type isa interface {
	// name is GOARCH's.
	name() string
	// decode decodes the instruction at the start of code, located at
	// addr, returning its length (0 and an error when it cannot).
	decode(code []byte, addr uint64) (insn, error)
	// check refuses instructions that cannot be probed (EILSEQ for a
	// breakpoint already there, EOPNOTSUPP for what cannot run out of
	// line and is not emulated).
	check(in *insn) error
	// breakpoint returns the breakpoint instruction that replaces one of
	// length n (x86: int3; riscv64: ebreak or c.ebreak).
	breakpoint(n int) []byte
	// isBreakpoint reports whether code starts with a breakpoint.
	isBreakpoint(code []byte) bool
	// slot returns the code of the instruction's out-of-line slot at
	// slotAddr: the instruction, relocated, followed by what returns to
	// the probed code (epilogue, then a jump back on x86; a breakpoint
	// on riscv64, whose trap resumes after the probed instruction).
	slot(in *insn, slotAddr uint64, epilogue []byte) ([]byte, error)
	// slotReturns reports whether slot code returns to the probed code
	// by itself (x86) rather than through a second breakpoint (riscv64).
	slotReturns() bool
	// stackCheck reports whether the instruction compares with or loads
	// g.stackguard0/1: Go's stack-check prologue.
	stackCheck(code []byte) bool
	// frameSize is the size of the architecture's register frame.
	frameSize() uintptr
	// ip reads the probed context's pc from frame, setIP sets it.
	ip(frame unsafe.Pointer) uint64
	setIP(frame unsafe.Pointer, pc uint64)
	// emulate carries out an emulated instruction on frame and returns
	// where execution goes on.
	emulate(in *insn, frame unsafe.Pointer) uint64
	// target returns where an indirect jump (or direct one) would go,
	// without changing frame.
	target(in *insn, frame unsafe.Pointer) uint64
}

// word is the 8-byte word at addr of the probed context's memory (its
// stack, a jump table). Built as a pointer through a local variable, the
// way kernel memory is reached by address everywhere in Hachi.
func word(addr uint64) *uint64 {
	var p *uint64
	*(*uintptr)(unsafe.Pointer(&p)) = uintptr(addr)
	return p
}
