package asm

import (
	"fmt"
	"strconv"
	"strings"

	"hachi/bpf/isa"
)

// Syntax selects the text form Disassemble writes.
type Syntax uint8

// The text forms.
const (
	// Conformance is the bpf_conformance syntax, which Assemble reads back.
	Conformance Syntax = iota
	// LLVM is the llvm-objdump style: `r0 = *(u32 *)(r1 + 4)`.
	LLVM
)

// Disassemble writes one line per instruction (an lddw takes one line for
// its two slots). Jump and call targets are relative offsets (`+3`). In the
// LLVM syntax each line starts with the slot index, like llvm-objdump.
func Disassemble(insns []isa.Instruction, syntax Syntax) (string, error) {
	ops, err := isa.Validate(insns)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for n := 0; n < len(insns); n++ {
		var hi isa.Instruction
		if ops[n].Info().Slots() == 2 {
			hi = insns[n+1]
		}
		if syntax == LLVM {
			fmt.Fprintf(&b, "%6d:\t", n)
		}
		b.WriteString(Format(ops[n], insns[n], hi, syntax))
		b.WriteByte('\n')
		n += ops[n].Info().Slots() - 1
	}
	return b.String(), nil
}

// Format is the text of one instruction, ins, whose operation is op (from
// isa.Lookup); hi is the second slot of an lddw and ignored otherwise.
func Format(op isa.Op, ins, hi isa.Instruction, syntax Syntax) string {
	if syntax == LLVM {
		return formatLLVM(op, ins, hi)
	}
	info := op.Info()
	m := info.Mnemonic
	d, s := reg(ins.Dst), reg(ins.Src)
	switch info.Form {
	case isa.FormALUImm:
		return fmt.Sprintf("%s %s, %s", m, d, imm(ins.Imm))
	case isa.FormALUReg:
		return fmt.Sprintf("%s %s, %s", m, d, s)
	case isa.FormUnary, isa.FormCallReg:
		return fmt.Sprintf("%s %s", m, d)
	case isa.FormJump:
		return fmt.Sprintf("%s %s", m, rel(int64(ins.Offset)))
	case isa.FormJumpLong:
		return fmt.Sprintf("%s %s", m, rel(int64(ins.Imm)))
	case isa.FormCondImm:
		return fmt.Sprintf("%s %s, %s, %s", m, d, imm(ins.Imm), rel(int64(ins.Offset)))
	case isa.FormCondReg:
		return fmt.Sprintf("%s %s, %s, %s", m, d, s, rel(int64(ins.Offset)))
	case isa.FormCall:
		return fmt.Sprintf("%s %d", m, ins.Imm)
	case isa.FormCallLocal:
		return fmt.Sprintf("%s %s %s", m, info.Keyword, rel(int64(ins.Imm)))
	case isa.FormCallKfunc:
		if ins.Offset != 0 {
			return fmt.Sprintf("%s %s %d, %d", m, info.Keyword, ins.Imm, ins.Offset)
		}
		return fmt.Sprintf("%s %s %d", m, info.Keyword, ins.Imm)
	case isa.FormImm64:
		switch op {
		case isa.OpLoadImm64:
			return fmt.Sprintf("%s %s, %#x", m, d, isa.Imm64(ins, hi))
		case isa.OpLoadFunc:
			return fmt.Sprintf("%s %s, %s %s", m, d, info.Keyword, rel(int64(ins.Imm)))
		case isa.OpLoadMapValue, isa.OpLoadMapIdxValue, isa.OpLoadBTFID:
			if op != isa.OpLoadBTFID || hi.Imm != 0 {
				return fmt.Sprintf("%s %s, %s %d, %d", m, d, info.Keyword, ins.Imm, hi.Imm)
			}
		}
		return fmt.Sprintf("%s %s, %s %d", m, d, info.Keyword, ins.Imm)
	case isa.FormPacketAbs:
		return fmt.Sprintf("%s %s", m, imm(ins.Imm))
	case isa.FormPacketInd:
		return fmt.Sprintf("%s %s, %s", m, s, imm(ins.Imm))
	case isa.FormLoad:
		return fmt.Sprintf("%s %s, %s", m, d, mem(ins.Src, ins.Offset))
	case isa.FormStoreImm:
		return fmt.Sprintf("%s %s, %s", m, mem(ins.Dst, ins.Offset), imm(ins.Imm))
	case isa.FormStore:
		return fmt.Sprintf("%s %s, %s", m, mem(ins.Dst, ins.Offset), s)
	case isa.FormAddrSpaceCast:
		return fmt.Sprintf("%s %s, %s, %d, %d", m, d, s, uint32(ins.Imm)>>16, ins.Imm&0xffff)
	}
	return m
}

func reg(r isa.Register) string { return "%r" + strconv.Itoa(int(r)) }

// imm writes small immediates in decimal and others as their 32-bit hex
// pattern, which Assemble reads back to the same bits.
func imm(v int32) string {
	if v >= -1024 && v <= 1024 {
		return strconv.Itoa(int(v))
	}
	return fmt.Sprintf("%#x", uint32(v))
}

func rel(v int64) string { return fmt.Sprintf("%+d", v) }

func mem(r isa.Register, off int16) string {
	if off == 0 {
		return "[" + reg(r) + "]"
	}
	return fmt.Sprintf("[%s%+d]", reg(r), off)
}

func formatLLVM(op isa.Op, ins, hi isa.Instruction) string {
	off := fmt.Sprintf(" + %d", ins.Offset)
	if ins.Offset < 0 {
		off = fmt.Sprintf(" - %d", -int(ins.Offset))
	}
	return strings.NewReplacer(
		"{d}", strconv.Itoa(int(ins.Dst)),
		"{s}", strconv.Itoa(int(ins.Src)),
		"{imm}", strconv.Itoa(int(ins.Imm)),
		"{off}", off,
		"{joff}", rel(int64(ins.Offset)),
		"{jimm}", rel(int64(ins.Imm)),
		"{imm64}", fmt.Sprintf("%#x", isa.Imm64(ins, hi)),
		"{hi}", strconv.Itoa(int(hi.Imm)),
		"{asdst}", strconv.Itoa(int(uint32(ins.Imm)>>16)),
		"{assrc}", strconv.Itoa(int(ins.Imm&0xffff)),
	).Replace(op.Info().LLVM)
}
