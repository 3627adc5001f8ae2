package kprobe

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"

	"hachi/syscall/linux"
)

// amd64 is the x86-64 instruction set: int3 (0xCC) breakpoints, slots
// that jump back (Linux's "boosted" kprobes: no single-step), RIP-relative
// operands relocated, relative and indirect branches, calls and returns
// emulated on the saved registers.
type amd64 struct{}

// AMD64 is the x86-64 instruction set for New.
var AMD64 isa = amd64{}

const int3 = 0xcc

// x86 condition codes of Jcc (Intel SDM vol. 2, Jcc), plus the RCX tests
// of JRCXZ and LOOP.
const (
	condO = iota
	condNO
	condB
	condAE
	condE
	condNE
	condBE
	condA
	condS
	condNS
	condP
	condNP
	condL
	condGE
	condLE
	condG
	condRCXZ
	condLOOP
	condLOOPE
	condLOOPNE
)

var x86Conds = map[x86asm.Op]uint8{
	x86asm.JO: condO, x86asm.JNO: condNO, x86asm.JB: condB, x86asm.JAE: condAE,
	x86asm.JE: condE, x86asm.JNE: condNE, x86asm.JBE: condBE, x86asm.JA: condA,
	x86asm.JS: condS, x86asm.JNS: condNS, x86asm.JP: condP, x86asm.JNP: condNP,
	x86asm.JL: condL, x86asm.JGE: condGE, x86asm.JLE: condLE, x86asm.JG: condG,
	x86asm.JRCXZ: condRCXZ, x86asm.JECXZ: condRCXZ, x86asm.LOOP: condLOOP,
	x86asm.LOOPE: condLOOPE, x86asm.LOOPNE: condLOOPNE,
}

// x86Regs maps the 64-bit general registers to their pt_regs slots, by
// x86asm's register order (RAX..R15 is the hardware numbering).
var x86Regs = [16]uintptr{
	unsafe.Offsetof(linux.PtRegsAMD64{}.Ax), unsafe.Offsetof(linux.PtRegsAMD64{}.Cx),
	unsafe.Offsetof(linux.PtRegsAMD64{}.Dx), unsafe.Offsetof(linux.PtRegsAMD64{}.Bx),
	unsafe.Offsetof(linux.PtRegsAMD64{}.Sp), unsafe.Offsetof(linux.PtRegsAMD64{}.Bp),
	unsafe.Offsetof(linux.PtRegsAMD64{}.Si), unsafe.Offsetof(linux.PtRegsAMD64{}.Di),
	unsafe.Offsetof(linux.PtRegsAMD64{}.R8), unsafe.Offsetof(linux.PtRegsAMD64{}.R9),
	unsafe.Offsetof(linux.PtRegsAMD64{}.R10), unsafe.Offsetof(linux.PtRegsAMD64{}.R11),
	unsafe.Offsetof(linux.PtRegsAMD64{}.R12), unsafe.Offsetof(linux.PtRegsAMD64{}.R13),
	unsafe.Offsetof(linux.PtRegsAMD64{}.R14), unsafe.Offsetof(linux.PtRegsAMD64{}.R15),
}

// x86Reg returns the index of a 64-bit (or, for 32-bit addressing, a
// 32-bit) general register in x86Regs, -1 for any other register.
func x86Reg(r x86asm.Reg) int8 {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int8(r - x86asm.RAX)
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int8(r - x86asm.EAX)
	}
	return -1
}

func (amd64) name() string          { return "amd64" }
func (amd64) frameSize() uintptr    { return unsafe.Sizeof(linux.PtRegsAMD64{}) }
func (amd64) slotReturns() bool     { return true }
func (amd64) breakpoint(int) []byte { return []byte{int3} }
func (amd64) isBreakpoint(code []byte) bool {
	return len(code) > 0 && code[0] == int3
}

// Offsets of g.stackguard0 and g.stackguard1 (runtime/runtime2.go).
const (
	gStackguard0 = 16
	gStackguard1 = 24
)

func (amd64) stackCheck(code []byte) bool {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Op != x86asm.CMP {
		return false
	}
	for _, a := range inst.Args[:2] {
		if m, ok := a.(x86asm.Mem); ok && m.Index == 0 && (m.Disp == gStackguard0 || m.Disp == gStackguard1) {
			return true
		}
	}
	return false
}

func (amd64) decode(code []byte, addr uint64) (insn, error) {
	inst, err := x86asm.Decode(code, 64)
	// x86asm answers a truncated or invalid instruction with a bare
	// prefix (Op 0) and no error (found by FuzzX86Slot).
	if err != nil || inst.Len == 0 || inst.Op == 0 {
		return insn{}, linux.EILSEQ
	}
	in := insn{addr: addr, length: inst.Len, code: code[:inst.Len], act: actSlot}
	next := addr + uint64(inst.Len)
	rel := func() uint64 {
		r, _ := inst.Args[0].(x86asm.Rel)
		return next + uint64(int64(r))
	}
	switch inst.Op {
	case x86asm.JMP:
		if _, ok := inst.Args[0].(x86asm.Rel); ok {
			in.act, in.target = actJump, rel()
		} else {
			in.act = actJumpInd
		}
	case x86asm.CALL:
		if _, ok := inst.Args[0].(x86asm.Rel); ok {
			in.act, in.target = actCall, rel()
		} else {
			in.act = actCallInd
		}
	case x86asm.RET:
		in.act, in.ret = actRet, true
		if imm, ok := inst.Args[0].(x86asm.Imm); ok {
			in.imm = int64(imm)
		}
	default:
		if c, ok := x86Conds[inst.Op]; ok {
			in.act, in.cond, in.target = actBranch, c, rel()
		}
	}
	if in.act == actJumpInd || in.act == actCallInd {
		switch a := inst.Args[0].(type) {
		case x86asm.Reg:
			in.op = operand{reg: x86Reg(a), base: -1, index: -1}
		case x86asm.Mem:
			in.op = operand{mem: true, reg: -1, base: x86Reg(a.Base), index: x86Reg(a.Index),
				scale: a.Scale, disp: a.Disp, addrSize32: inst.AddrSize == 32}
			if a.Base == x86asm.RIP {
				in.op.base = regIP
			}
			if a.Segment != 0 {
				in.op.reg, in.op.base = -1, -1 // refused by check
			}
		}
	}
	if in.act == actSlot && inst.PCRel != 0 {
		in.pcrelOff, in.pcrelLen = inst.PCRelOff, inst.PCRel
	}
	return in, nil
}

// x86Refused are the instructions that can neither run out of line nor be
// emulated (Linux's prepare_emulation refuses the same with EOPNOTSUPP):
// traps and interrupt returns, far transfers, system calls, transactions
// (relative abort targets), and what would change the GS base the slots
// use.
var x86Refused = map[x86asm.Op]bool{
	x86asm.INT: true, x86asm.INTO: true, x86asm.ICEBP: true, x86asm.IRET: true,
	x86asm.IRETD: true, x86asm.IRETQ: true, x86asm.SYSCALL: true, x86asm.SYSRET: true,
	x86asm.SYSENTER: true, x86asm.SYSEXIT: true, x86asm.LCALL: true, x86asm.LJMP: true,
	x86asm.LRET: true, x86asm.UD0: true, x86asm.UD1: true, x86asm.UD2: true,
	x86asm.XBEGIN: true, x86asm.SWAPGS: true, x86asm.RSM: true,
}

func (amd64) check(in *insn) error {
	inst, err := x86asm.Decode(in.code, 64)
	if err != nil {
		return linux.EILSEQ
	}
	if in.code[0] == int3 {
		return linux.EOPNOTSUPP // another breakpoint, not ours
	}
	if x86Refused[inst.Op] {
		return linux.EOPNOTSUPP
	}
	if (in.act == actJumpInd || in.act == actCallInd) && !in.op.mem && in.op.reg < 0 {
		return linux.EOPNOTSUPP // segment-relative or unusual operand
	}
	if in.act == actBranch && inst.AddrSize != 64 && in.cond >= condRCXZ {
		return linux.EOPNOTSUPP // JECXZ/LOOP on ECX
	}
	return nil
}

// slot builds the out-of-line copy: the instruction with its RIP-relative
// displacement moved by the distance between the probe and the slot, the
// epilogue, and JMP rel32 back to the next instruction.
func (amd64) slot(in *insn, slotAddr uint64, epilogue []byte) ([]byte, error) {
	code := append([]byte(nil), in.code...)
	if in.pcrelLen == 4 {
		disp := int64(int32(binary.LittleEndian.Uint32(code[in.pcrelOff:])))
		disp += int64(in.addr) - int64(slotAddr)
		if disp != int64(int32(disp)) {
			return nil, linux.EOPNOTSUPP // target out of the slot's reach
		}
		binary.LittleEndian.PutUint32(code[in.pcrelOff:], uint32(int32(disp)))
	} else if in.pcrelLen != 0 {
		return nil, linux.EOPNOTSUPP
	}
	code = append(code, epilogue...)
	jmpEnd := slotAddr + uint64(len(code)) + 5
	rel := int64(in.addr+uint64(in.length)) - int64(jmpEnd)
	if rel != int64(int32(rel)) {
		return nil, linux.EOPNOTSUPP
	}
	code = append(code, 0xe9, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(code[len(code)-4:], uint32(int32(rel)))
	return code, nil
}

func (amd64) ip(frame unsafe.Pointer) uint64 { return (*linux.PtRegsAMD64)(frame).Ip }
func (amd64) setIP(frame unsafe.Pointer, pc uint64) {
	(*linux.PtRegsAMD64)(frame).Ip = pc
}

func x86Get(frame unsafe.Pointer, r int8) uint64 {
	return *(*uint64)(unsafe.Add(frame, x86Regs[r]))
}

func x86Set(frame unsafe.Pointer, r int8, v uint64) {
	*(*uint64)(unsafe.Add(frame, x86Regs[r])) = v
}

// Flags bits (Intel SDM vol. 1, 3.4.3).
const (
	flagCF = 1 << 0
	flagPF = 1 << 2
	flagZF = 1 << 6
	flagSF = 1 << 7
	flagOF = 1 << 11
)

// taken evaluates an x86 branch condition on frame; LOOP's decrement of
// RCX is done by emulate.
func x86Taken(cond uint8, frame unsafe.Pointer) bool {
	r := (*linux.PtRegsAMD64)(frame)
	f := r.Flags
	cf, zf, sf, of, pf := f&flagCF != 0, f&flagZF != 0, f&flagSF != 0, f&flagOF != 0, f&flagPF != 0
	switch cond {
	case condO:
		return of
	case condNO:
		return !of
	case condB:
		return cf
	case condAE:
		return !cf
	case condE:
		return zf
	case condNE:
		return !zf
	case condBE:
		return cf || zf
	case condA:
		return !cf && !zf
	case condS:
		return sf
	case condNS:
		return !sf
	case condP:
		return pf
	case condNP:
		return !pf
	case condL:
		return sf != of
	case condGE:
		return sf == of
	case condLE:
		return zf || sf != of
	case condG:
		return !zf && sf == of
	case condRCXZ:
		return r.Cx == 0
	case condLOOP:
		return r.Cx != 0
	case condLOOPE:
		return r.Cx != 0 && zf
	case condLOOPNE:
		return r.Cx != 0 && !zf
	}
	return false
}

// target evaluates where a jump or call goes.
func (amd64) target(in *insn, frame unsafe.Pointer) uint64 {
	switch in.act {
	case actJump, actCall, actBranch:
		return in.target
	case actRet:
		return *word((*linux.PtRegsAMD64)(frame).Sp)
	}
	op := &in.op
	if !op.mem {
		return x86Get(frame, op.reg)
	}
	a := uint64(op.disp)
	switch op.base {
	case -1:
	case regIP:
		a += in.addr + uint64(in.length)
	default:
		a += x86Get(frame, op.base)
	}
	if op.index >= 0 {
		a += x86Get(frame, op.index) * uint64(op.scale)
	}
	if op.addrSize32 {
		a = uint64(uint32(a))
	}
	return *word(a)
}

func (x amd64) emulate(in *insn, frame unsafe.Pointer) uint64 {
	r := (*linux.PtRegsAMD64)(frame)
	next := in.addr + uint64(in.length)
	switch in.act {
	case actJump, actJumpInd:
		return x.target(in, frame)
	case actCall, actCallInd:
		t := x.target(in, frame)
		r.Sp -= 8
		*word(r.Sp) = next
		return t
	case actRet:
		t := *word(r.Sp)
		r.Sp += 8 + uint64(in.imm)
		return t
	case actBranch:
		if in.cond >= condLOOP {
			r.Cx--
		}
		if x86Taken(in.cond, frame) {
			return in.target
		}
		return next
	}
	return next
}
