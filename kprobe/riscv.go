package kprobe

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/arch/riscv64/riscv64asm"

	"hachi/syscall/linux"
)

// riscv64 is the RV64GC instruction set: ebreak (4 bytes) or c.ebreak (2
// bytes) as the probed instruction's size requires; control transfers and
// AUIPC emulated on the saved registers (Linux's
// arch/riscv/kernel/probes/simulate-insn.c); anything else single-stepped
// in a slot that ends with ebreak, whose trap resumes after the probed
// instruction (a slot cannot jump back by itself: JAL reaches 1 MiB and
// AUIPC+JALR needs a free register).
type riscv64 struct{}

// RISCV64 is the RISC-V 64 instruction set for New.
var RISCV64 isa = riscv64{}

const (
	rvEbreak  = 0x00100073 // ebreak
	rvCEbreak = 0x9002     // c.ebreak
)

// Branch kinds of actBranch on riscv64: funct3 of BRANCH (RISC-V
// unprivileged spec, 2.5), and the compressed forms.
const (
	rvBEQ  = 0
	rvBNE  = 1
	rvBLT  = 4
	rvBGE  = 5
	rvBLTU = 6
	rvBGEU = 7
)

func (riscv64) name() string       { return "riscv64" }
func (riscv64) frameSize() uintptr { return unsafe.Sizeof(linux.UserRegsRISCV64{}) }
func (riscv64) slotReturns() bool  { return false }

func (riscv64) breakpoint(n int) []byte {
	if n == 2 {
		return binary.LittleEndian.AppendUint16(nil, rvCEbreak)
	}
	return binary.LittleEndian.AppendUint32(nil, rvEbreak)
}

func (riscv64) isBreakpoint(code []byte) bool {
	if len(code) >= 2 && binary.LittleEndian.Uint16(code) == rvCEbreak {
		return true
	}
	return len(code) >= 4 && binary.LittleEndian.Uint32(code) == rvEbreak
}

func rvReg(a riscv64asm.Arg) int8 {
	if r, ok := a.(riscv64asm.Reg); ok && r <= riscv64asm.X31 {
		return int8(r - riscv64asm.X0)
	}
	return -1
}

func rvImm(a riscv64asm.Arg) int64 {
	switch v := a.(type) {
	case riscv64asm.Simm:
		return int64(v.Imm)
	case riscv64asm.Uimm:
		return int64(v.Imm)
	}
	return 0
}

// g is X27 in Go's riscv64 ABI.
const rvG = riscv64asm.X27

func (riscv64) stackCheck(code []byte) bool {
	inst, err := riscv64asm.Decode(code)
	if err != nil || inst.Op != riscv64asm.LD {
		return false
	}
	ro, ok := inst.Args[1].(riscv64asm.RegOffset)
	return ok && ro.OfsReg == rvG && (ro.Ofs.Imm == gStackguard0 || ro.Ofs.Imm == gStackguard1)
}

func (riscv64) decode(code []byte, addr uint64) (insn, error) {
	inst, err := riscv64asm.Decode(code)
	if err != nil || inst.Len == 0 {
		return insn{}, linux.EILSEQ
	}
	in := insn{addr: addr, length: inst.Len, code: code[:inst.Len], act: actSlot, rd: -1, rs1: -1, rs2: -1}
	a := inst.Args
	switch inst.Op {
	case riscv64asm.JAL:
		in.rd, in.target = rvReg(a[0]), addr+uint64(rvImm(a[1]))
		in.act = actCall
		if in.rd == 0 {
			in.act = actJump
		}
	case riscv64asm.JALR:
		ro, _ := a[1].(riscv64asm.RegOffset)
		in.rd = rvReg(a[0])
		in.op = operand{base: int8(ro.OfsReg - riscv64asm.X0), index: -1, disp: int64(ro.Ofs.Imm), clearBit0: true}
		in.act = actCallInd
		if in.rd == 0 {
			in.act = actJumpInd
			in.ret = in.op.base == 1 && in.op.disp == 0 // jalr x0, 0(ra)
		}
	case riscv64asm.C_J:
		in.act, in.rd, in.target = actJump, 0, addr+uint64(rvImm(a[0]))
	case riscv64asm.C_JR:
		in.act, in.rd = actJumpInd, 0
		in.op = operand{base: rvReg(a[0]), index: -1}
		in.ret = in.op.base == 1 // c.jr ra
	case riscv64asm.C_JALR:
		in.act, in.rd = actCallInd, 1
		in.op = operand{base: rvReg(a[0]), index: -1}
	case riscv64asm.BEQ, riscv64asm.BNE, riscv64asm.BLT, riscv64asm.BGE, riscv64asm.BLTU, riscv64asm.BGEU:
		in.act, in.cond = actBranch, uint8(inst.Enc>>12&7)
		in.rs1, in.rs2, in.target = rvReg(a[0]), rvReg(a[1]), addr+uint64(rvImm(a[2]))
	case riscv64asm.C_BEQZ, riscv64asm.C_BNEZ:
		in.act, in.cond = actBranch, rvBEQ
		if inst.Op == riscv64asm.C_BNEZ {
			in.cond = rvBNE
		}
		in.rs1, in.rs2, in.target = rvReg(a[0]), 0, addr+uint64(rvImm(a[1]))
	case riscv64asm.AUIPC:
		in.act, in.rd = actAuipc, rvReg(a[0])
		in.imm = int64(int32(uint32(rvImm(a[1])) << 12))
	}
	return in, nil
}

// rvRefused cannot be single-stepped in a slot: the load-reserved /
// store-conditional pair would lose its reservation to the slot's trap
// and loop forever (Linux's riscv decode-insn rejects the same), and the
// system instructions trap or change the machine-mode state the trap
// path relies on (mepc, mscratch, mstatus). MRET, WFI and the other
// privileged instructions are not decoded at all (EILSEQ).
func rvRefused(op riscv64asm.Op) bool {
	switch op {
	case riscv64asm.EBREAK, riscv64asm.C_EBREAK, riscv64asm.ECALL,
		riscv64asm.CSRRW, riscv64asm.CSRRS, riscv64asm.CSRRC,
		riscv64asm.CSRRWI, riscv64asm.CSRRSI, riscv64asm.CSRRCI:
		return true
	}
	s := op.String()
	return len(s) >= 3 && (s[:3] == "LR." || s[:3] == "SC.")
}

func (riscv64) check(in *insn) error {
	inst, err := riscv64asm.Decode(in.code)
	if err != nil {
		return linux.EILSEQ
	}
	if rvRefused(inst.Op) {
		return linux.EOPNOTSUPP
	}
	if in.act != actSlot && (in.op.base < 0 && (in.act == actJumpInd || in.act == actCallInd)) {
		return linux.EOPNOTSUPP
	}
	return nil
}

// slot is the instruction followed by ebreak: the slot's breakpoint trap
// moves pc past the probed instruction. Only position-independent
// instructions run there.
func (riscv64) slot(in *insn, _ uint64, _ []byte) ([]byte, error) {
	code := append([]byte(nil), in.code...)
	return binary.LittleEndian.AppendUint32(code, rvEbreak), nil
}

func (riscv64) ip(frame unsafe.Pointer) uint64 { return (*linux.UserRegsRISCV64)(frame).Pc }
func (riscv64) setIP(frame unsafe.Pointer, pc uint64) {
	(*linux.UserRegsRISCV64)(frame).Pc = pc
}

// rvGet and rvSet read and write xN in user_regs_struct, where xN is the
// N-th word (pc takes x0's place: x0 reads as 0 and ignores writes).
func rvGet(frame unsafe.Pointer, r int8) uint64 {
	if r <= 0 {
		return 0
	}
	return *(*uint64)(unsafe.Add(frame, 8*uintptr(r)))
}

func rvSet(frame unsafe.Pointer, r int8, v uint64) {
	if r > 0 {
		*(*uint64)(unsafe.Add(frame, 8*uintptr(r))) = v
	}
}

func (riscv64) target(in *insn, frame unsafe.Pointer) uint64 {
	switch in.act {
	case actJumpInd, actCallInd:
		t := rvGet(frame, in.op.base) + uint64(in.op.disp)
		if in.op.clearBit0 {
			t &^= 1
		}
		return t
	}
	return in.target
}

func (x riscv64) emulate(in *insn, frame unsafe.Pointer) uint64 {
	next := in.addr + uint64(in.length)
	switch in.act {
	case actJump, actJumpInd, actCall, actCallInd:
		t := x.target(in, frame) // before rd is written: jalr ra, 0(ra)
		rvSet(frame, in.rd, next)
		return t
	case actAuipc:
		rvSet(frame, in.rd, in.addr+uint64(in.imm))
		return next
	case actBranch:
		a, b := rvGet(frame, in.rs1), rvGet(frame, in.rs2)
		var taken bool
		switch in.cond {
		case rvBEQ:
			taken = a == b
		case rvBNE:
			taken = a != b
		case rvBLT:
			taken = int64(a) < int64(b)
		case rvBGE:
			taken = int64(a) >= int64(b)
		case rvBLTU:
			taken = a < b
		case rvBGEU:
			taken = a >= b
		}
		if taken {
			return in.target
		}
	}
	return next
}
