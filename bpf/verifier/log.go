package verifier

import (
	"fmt"

	"hachi/bpf/isa"
)

// Instructions in the log are printed as Linux's print_bpf_insn prints
// them (kernel/bpf/disasm.c): "(61) r2 = *(u32 *)(r1 +0)".

var jumpSymbols = [16]string{"", "==", ">", ">=", "&", "!=", "s>", "s>=", "", "", "<", "<=", "s<", "s<=", "", ""}

var sizeNames = map[isa.Size]string{isa.SizeB: "u8", isa.SizeH: "u16", isa.SizeW: "u32", isa.SizeDW: "u64"}

// insnString is instruction i in Linux's log format.
func (e *env) insnString(i int) string {
	ins := e.insns[i]
	op := e.ops[i]
	info := op.Info()
	code := uint8(ins.Opcode)
	class := info.Opcode.Class()
	r := func(n isa.Register) string {
		if info.Flags&isa.Is32 != 0 && class != isa.ClassJMP32 {
			return fmt.Sprintf("w%d", n)
		}
		return fmt.Sprintf("r%d", n)
	}
	switch {
	case class.IsALU():
		alu := info.Opcode.ALUOp()
		switch {
		case op >= isa.OpMovSX8To32 && op <= isa.OpMovSX16To32 || op >= isa.OpMovSX8To64 && op <= isa.OpMovSX32To64:
			return fmt.Sprintf("(%02x) %s = (s%d)%s", code, r(ins.Dst), ins.Offset, r(ins.Src))
		case alu == isa.ALUNeg:
			return fmt.Sprintf("(%02x) %s = -%s", code, r(ins.Dst), r(ins.Dst))
		case alu == isa.ALUEnd:
			return fmt.Sprintf("(%02x) r%d = %s r%d", code, ins.Dst, info.Mnemonic, ins.Dst)
		}
		sym := aluNames[alu>>4]
		if ins.Offset == 1 && (alu == isa.ALUDiv || alu == isa.ALUMod) {
			sym = "s" + sym
		}
		if info.Form == isa.FormALUReg {
			return fmt.Sprintf("(%02x) %s %s %s", code, r(ins.Dst), sym, r(ins.Src))
		}
		return fmt.Sprintf("(%02x) %s %s %d", code, r(ins.Dst), sym, ins.Imm)
	case class.IsJump():
		w := "r"
		if class == isa.ClassJMP32 {
			w = "w"
		}
		switch op {
		case isa.OpExit:
			return fmt.Sprintf("(%02x) exit", code)
		case isa.OpCall:
			return fmt.Sprintf("(%02x) call %s#%d", code, helperName(ins.Imm), ins.Imm)
		case isa.OpCallLocal:
			return fmt.Sprintf("(%02x) call pc%+d", code, ins.Imm)
		case isa.OpJA:
			return fmt.Sprintf("(%02x) goto pc%+d", code, ins.Offset)
		case isa.OpJA32:
			return fmt.Sprintf("(%02x) gotol pc%+d", code, ins.Imm)
		case isa.OpMayGoto:
			return fmt.Sprintf("(%02x) may_goto pc%+d", code, ins.Offset)
		}
		sym := jumpSymbols[info.Opcode.JumpOp()>>4]
		if info.Form == isa.FormCondReg {
			return fmt.Sprintf("(%02x) if %s%d %s %s%d goto pc%+d", code, w, ins.Dst, sym, w, ins.Src, ins.Offset)
		}
		return fmt.Sprintf("(%02x) if %s%d %s %#x goto pc%+d", code, w, ins.Dst, sym, uint32(ins.Imm), ins.Offset)
	}
	size := sizeNames[info.Opcode.Size()]
	switch info.Form {
	case isa.FormImm64:
		hi := e.insns[i+1]
		switch op {
		case isa.OpLoadMapFD, isa.OpLoadMapIdx:
			return fmt.Sprintf("(%02x) r%d = map[id:%d]", code, ins.Dst, ins.Imm)
		case isa.OpLoadMapValue, isa.OpLoadMapIdxValue:
			return fmt.Sprintf("(%02x) r%d = map[id:%d][0]+%d", code, ins.Dst, ins.Imm, hi.Imm)
		case isa.OpLoadFunc:
			return fmt.Sprintf("(%02x) r%d = func[pc%+d]", code, ins.Dst, ins.Imm)
		}
		return fmt.Sprintf("(%02x) r%d = %#x", code, ins.Dst, isa.Imm64(ins, hi))
	case isa.FormPacketAbs:
		return fmt.Sprintf("(%02x) r0 = *(%s *)skb[%d]", code, size, ins.Imm)
	case isa.FormPacketInd:
		return fmt.Sprintf("(%02x) r0 = *(%s *)skb[r%d + %d]", code, size, ins.Src, ins.Imm)
	case isa.FormLoad:
		if op >= isa.OpLoadAcquireB && op <= isa.OpLoadAcquireDW {
			return fmt.Sprintf("(%02x) r%d = load_acquire((%s *)(r%d %+d))", code, ins.Dst, size, ins.Src, ins.Offset)
		}
		if info.Opcode.Mode() == isa.ModeMemSX {
			size = "s" + size[1:]
		}
		return fmt.Sprintf("(%02x) r%d = *(%s *)(r%d %+d)", code, ins.Dst, size, ins.Src, ins.Offset)
	case isa.FormStoreImm:
		return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = %d", code, size, ins.Dst, ins.Offset, ins.Imm)
	}
	// Stores and atomics.
	if op >= isa.OpStoreReleaseB && op <= isa.OpStoreReleaseDW {
		return fmt.Sprintf("(%02x) store_release((%s *)(r%d %+d), r%d)", code, size, ins.Dst, ins.Offset, ins.Src)
	}
	if op < isa.OpAtomicAdd32 || op > isa.OpAtomicCmpXchg64 {
		return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = r%d", code, size, ins.Dst, ins.Offset, ins.Src)
	}
	bitsName := ""
	if info.Opcode.Size() == isa.SizeDW {
		bitsName = "64"
	}
	switch isa.AtomicOp(ins.Imm) {
	case isa.AtomicAdd, isa.AtomicOr, isa.AtomicAnd, isa.AtomicXor:
		sym := map[isa.AtomicOp]string{isa.AtomicAdd: "+=", isa.AtomicOr: "|=", isa.AtomicAnd: "&=", isa.AtomicXor: "^="}[isa.AtomicOp(ins.Imm)]
		return fmt.Sprintf("(%02x) lock *(%s *)(r%d %+d) %s r%d", code, size, ins.Dst, ins.Offset, sym, ins.Src)
	case isa.AtomicXchg:
		return fmt.Sprintf("(%02x) r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)", code, ins.Src, bitsName, size, ins.Dst, ins.Offset, ins.Src)
	case isa.AtomicCmpXchg:
		return fmt.Sprintf("(%02x) r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)", code, bitsName, size, ins.Dst, ins.Offset, ins.Src)
	}
	name := map[isa.AtomicOp]string{isa.AtomicAdd: "add", isa.AtomicOr: "or", isa.AtomicAnd: "and", isa.AtomicXor: "xor"}[isa.AtomicOp(ins.Imm)&^isa.AtomicFetch]
	return fmt.Sprintf("(%02x) r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)", code, ins.Src, bitsName, name, size, ins.Dst, ins.Offset, ins.Src)
}
