// Package isa owns the eBPF instruction set: the encoding of an instruction,
// the typed fields of its opcode byte, and THE opcode table (Table) that the
// assembler, the disassembler, the verifier and the interpreter all read, so
// that they cannot disagree about what an instruction is (like Linux's
// BPF_INSN_MAP in kernel/bpf/core.c).
//
// Everything follows RFC 9669 ("BPF Instruction Set Architecture") and Linux
// 6.x (Documentation/bpf/standardization/instruction-set.rst), including the
// Linux additions after the RFC: may_goto, load-acquire/store-release and
// addr_space_cast. Encoding is little endian only.
package isa

import "fmt"

// Opcode is the first byte of an instruction (RFC 9669 §3). Its low three
// bits are the Class; the meaning of the other five depends on the class:
//
//	ALU, ALU64, JMP, JMP32           LD, LDX, ST, STX
//	  7     4   3   2     0            7    5 4    3 2     0
//	+--------+-----+-------+         +------+------+-------+
//	|   op   | src | class |         | mode | size | class |
//	+--------+-----+-------+         +------+------+-------+
//
// op is an ALUOp or a JumpOp, src a Source; mode is a Mode and size a Size.
type Opcode uint8

// Class is bits 0-2 of the opcode: the instruction class (RFC 9669 §3.1).
type Class uint8

// The eight instruction classes (uapi/linux/bpf_common.h, uapi/linux/bpf.h).
const (
	ClassLD    Class = 0x00 // non-standard loads: lddw, legacy packet access
	ClassLDX   Class = 0x01 // load into register
	ClassST    Class = 0x02 // store from immediate
	ClassSTX   Class = 0x03 // store from register, atomics
	ClassALU   Class = 0x04 // 32-bit arithmetic
	ClassJMP   Class = 0x05 // 64-bit jumps, calls, exit
	ClassJMP32 Class = 0x06 // 32-bit jumps
	ClassALU64 Class = 0x07 // 64-bit arithmetic
)

var classNames = [8]string{"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"}

func (c Class) String() string { return classNames[c&7] }

// IsALU reports whether c is ALU or ALU64.
func (c Class) IsALU() bool { return c == ClassALU || c == ClassALU64 }

// IsJump reports whether c is JMP or JMP32.
func (c Class) IsJump() bool { return c == ClassJMP || c == ClassJMP32 }

// Source is bit 3 of an arithmetic or jump opcode: whether the second operand
// is the 32-bit immediate (K) or the source register (X) (RFC 9669 §3.2).
// For the byte-order operation (END) the same bit chooses big endian.
type Source uint8

// The two operand sources (BPF_K, BPF_X).
const (
	SourceImm Source = 0x00 // BPF_K: use the immediate
	SourceReg Source = 0x08 // BPF_X: use the source register
)

func (s Source) String() string {
	if s == SourceReg {
		return "x"
	}
	return "k"
}

// ALUOp is bits 4-7 of an ALU or ALU64 opcode (RFC 9669 §4.1).
type ALUOp uint8

// The arithmetic operations (BPF_ADD ... BPF_END).
const (
	ALUAdd  ALUOp = 0x00
	ALUSub  ALUOp = 0x10
	ALUMul  ALUOp = 0x20
	ALUDiv  ALUOp = 0x30 // offset 1: signed (sdiv)
	ALUOr   ALUOp = 0x40
	ALUAnd  ALUOp = 0x50
	ALULsh  ALUOp = 0x60
	ALURsh  ALUOp = 0x70
	ALUNeg  ALUOp = 0x80
	ALUMod  ALUOp = 0x90 // offset 1: signed (smod)
	ALUXor  ALUOp = 0xa0
	ALUMov  ALUOp = 0xb0 // offset 8/16/32: sign-extending move (movsx)
	ALUArsh ALUOp = 0xc0
	ALUEnd  ALUOp = 0xd0 // byte order; imm is the width
)

var aluNames = [16]string{"add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
	"neg", "mod", "xor", "mov", "arsh", "end", "alu0xe0", "alu0xf0"}

func (o ALUOp) String() string { return aluNames[o>>4] }

// JumpOp is bits 4-7 of a JMP or JMP32 opcode (RFC 9669 §4.3).
type JumpOp uint8

// The jump operations (BPF_JA ... BPF_JCOND).
const (
	JumpA    JumpOp = 0x00 // always; JMP32 class: 32-bit offset in imm (gotol)
	JumpEq   JumpOp = 0x10
	JumpGT   JumpOp = 0x20 // unsigned >
	JumpGE   JumpOp = 0x30 // unsigned >=
	JumpSet  JumpOp = 0x40 // dst & src != 0
	JumpNE   JumpOp = 0x50
	JumpSGT  JumpOp = 0x60 // signed >
	JumpSGE  JumpOp = 0x70 // signed >=
	JumpCall JumpOp = 0x80
	JumpExit JumpOp = 0x90
	JumpLT   JumpOp = 0xa0 // unsigned <
	JumpLE   JumpOp = 0xb0 // unsigned <=
	JumpSLT  JumpOp = 0xc0 // signed <
	JumpSLE  JumpOp = 0xd0 // signed <=
	JumpCond JumpOp = 0xe0 // Linux BPF_JCOND: may_goto
)

var jumpNames = [16]string{"ja", "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge",
	"call", "exit", "jlt", "jle", "jslt", "jsle", "jcond", "jmp0xf0"}

func (o JumpOp) String() string { return jumpNames[o>>4] }

// Size is bits 3-4 of a load or store opcode: the access width (RFC 9669 §5.1).
type Size uint8

// The access widths (BPF_W, BPF_H, BPF_B, BPF_DW).
const (
	SizeW  Size = 0x00 // 4 bytes
	SizeH  Size = 0x08 // 2 bytes
	SizeB  Size = 0x10 // 1 byte
	SizeDW Size = 0x18 // 8 bytes
)

var sizeNames = [4]string{"w", "h", "b", "dw"}

func (s Size) String() string { return sizeNames[(s>>3)&3] }

// Bytes is the number of bytes a Size moves.
func (s Size) Bytes() int { return [4]int{4, 2, 1, 8}[(s>>3)&3] }

// Mode is bits 5-7 of a load or store opcode (RFC 9669 §5).
type Mode uint8

// The load/store modes (BPF_IMM ... BPF_ATOMIC).
const (
	ModeImm    Mode = 0x00 // 64-bit immediate (lddw), LD class only
	ModeAbs    Mode = 0x20 // legacy packet access, absolute offset
	ModeInd    Mode = 0x40 // legacy packet access, register + offset
	ModeMem    Mode = 0x60 // regular load/store
	ModeMemSX  Mode = 0x80 // sign-extending load
	ModeAtomic Mode = 0xc0 // atomic operation; the operation is in imm
)

var modeNames = [8]string{"imm", "abs", "ind", "mem", "memsx", "mode0xa0", "atomic", "mode0xe0"}

func (m Mode) String() string { return modeNames[m>>5] }

// Class is the instruction class of o.
func (o Opcode) Class() Class { return Class(o & 0x07) }

// Source is the operand source of an ALU or jump opcode.
func (o Opcode) Source() Source { return Source(o & 0x08) }

// ALUOp is the operation of an ALU or ALU64 opcode.
func (o Opcode) ALUOp() ALUOp { return ALUOp(o & 0xf0) }

// JumpOp is the operation of a JMP or JMP32 opcode.
func (o Opcode) JumpOp() JumpOp { return JumpOp(o & 0xf0) }

// Size is the access width of a load or store opcode.
func (o Opcode) Size() Size { return Size(o & 0x18) }

// Mode is the mode of a load or store opcode.
func (o Opcode) Mode() Mode { return Mode(o & 0xe0) }

// String names the fields of o, like "alu64|add|k" or "ldx|mem|w".
func (o Opcode) String() string {
	c := o.Class()
	switch {
	case c.IsALU():
		return fmt.Sprintf("%v|%v|%v", c, o.ALUOp(), o.Source())
	case c.IsJump():
		return fmt.Sprintf("%v|%v|%v", c, o.JumpOp(), o.Source())
	default:
		return fmt.Sprintf("%v|%v|%v", c, o.Mode(), o.Size())
	}
}

// ALUOpcode builds an arithmetic opcode.
func ALUOpcode(c Class, op ALUOp, s Source) Opcode { return Opcode(uint8(c) | uint8(op) | uint8(s)) }

// JumpOpcode builds a jump opcode.
func JumpOpcode(c Class, op JumpOp, s Source) Opcode { return Opcode(uint8(c) | uint8(op) | uint8(s)) }

// MemOpcode builds a load or store opcode.
func MemOpcode(c Class, m Mode, s Size) Opcode { return Opcode(uint8(c) | uint8(m) | uint8(s)) }

// AtomicOp is the immediate of an atomic instruction (STX|ATOMIC): the
// operation, with the Fetch bit asking for the old value (RFC 9669 §5.3,
// plus Linux 6.15's load-acquire and store-release).
type AtomicOp int32

// The atomic operations (BPF_ADD ... BPF_STORE_REL in uapi/linux/bpf.h).
const (
	AtomicAdd          AtomicOp = 0x00
	AtomicOr           AtomicOp = 0x40
	AtomicAnd          AtomicOp = 0x50
	AtomicXor          AtomicOp = 0xa0
	AtomicFetch        AtomicOp = 0x01 // modifier: put the old value in src
	AtomicXchg         AtomicOp = 0xe0 | AtomicFetch
	AtomicCmpXchg      AtomicOp = 0xf0 | AtomicFetch
	AtomicLoadAcquire  AtomicOp = 0x100 // BPF_LOAD_ACQ: dst = *(src + off)
	AtomicStoreRelease AtomicOp = 0x110 // BPF_STORE_REL: *(dst + off) = src
)

// PseudoSource is the src field of lddw (and of call): what the immediate
// stands for before the loader resolves it (uapi/linux/bpf.h BPF_PSEUDO_*).
type PseudoSource uint8

// The lddw pseudo sources.
const (
	PseudoNone        PseudoSource = 0 // a plain 64-bit constant
	PseudoMapFD       PseudoSource = 1 // imm: map fd -> the map
	PseudoMapValue    PseudoSource = 2 // imm: map fd, next imm: offset -> address in the map's value
	PseudoBTFID       PseudoSource = 3 // imm: BTF id of a kernel variable, next imm: BTF object fd
	PseudoFunc        PseudoSource = 4 // imm: instruction offset of a subprogram -> callback
	PseudoMapIdx      PseudoSource = 5 // like MapFD, imm indexes the fd_array
	PseudoMapIdxValue PseudoSource = 6 // like MapValue, imm indexes the fd_array
)

// The src field of a call instruction (BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL).
const (
	CallHelper uint8 = 0 // imm: Linux helper id (enum bpf_func_id)
	CallLocal  uint8 = 1 // imm: instruction offset of a subprogram (bpf-to-bpf)
	CallKfunc  uint8 = 2 // imm: BTF id of a kernel function, offset: fd_array index of its BTF
)
