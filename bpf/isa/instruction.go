package isa

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Register names one of the eleven registers (RFC 9669 §2; Linux
// Documentation/bpf/standardization/abi.rst): R0 return value, R1-R5
// arguments (caller saved), R6-R9 callee saved, R10 read-only frame pointer.
type Register uint8

// The registers.
const (
	R0 Register = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	// RFP is the frame pointer, R10.
	RFP = R10
)

// NumRegisters is the number of registers a program can name (MAX_BPF_REG).
const NumRegisters = 11

func (r Register) String() string { return fmt.Sprintf("r%d", uint8(r)) }

// RegSet is a set of registers, bit i standing for Ri.
type RegSet uint16

// CallerSaved is R1-R5, which calls clobber (and R0, which they set).
const CallerSaved RegSet = 1<<R1 | 1<<R2 | 1<<R3 | 1<<R4 | 1<<R5

// CalleeSaved is R6-R9, which bpf-to-bpf calls preserve.
const CalleeSaved RegSet = 1<<R6 | 1<<R7 | 1<<R8 | 1<<R9

// Has reports whether r is in s.
func (s RegSet) Has(r Register) bool { return s&(1<<r) != 0 }

// Instruction is one 64-bit instruction slot (struct bpf_insn). lddw takes
// two slots: the second has opcode 0 and carries the high 32 bits in Imm.
//
//	 63       32 31     16 15  12 11   8 7       0
//	+-----------+---------+------+------+---------+
//	|    imm    | offset  | src  | dst  | opcode  |
//	+-----------+---------+------+------+---------+
//
// (bit 0 is the first byte in memory: the encoding is little endian.)
type Instruction struct {
	Opcode Opcode
	Dst    Register // 4 bits
	Src    Register // 4 bits
	Offset int16
	Imm    int32
}

// InstructionSize is the size of one encoded slot in bytes.
const InstructionSize = 8

// ErrTruncated is returned when bytecode is not a whole number of slots.
var ErrTruncated = errors.New("bytecode length is not a multiple of 8")

// Encode writes i to b[:8] in the little-endian encoding.
func (i Instruction) Encode(b []byte) {
	_ = b[7]
	b[0] = byte(i.Opcode)
	b[1] = byte(i.Dst&0xf) | byte(i.Src&0xf)<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(i.Offset))
	binary.LittleEndian.PutUint32(b[4:], uint32(i.Imm))
}

// Word is i as the 64-bit little-endian value of its eight bytes, as the
// conformance suite's `-- raw` sections write instructions.
func (i Instruction) Word() uint64 {
	var b [8]byte
	i.Encode(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// DecodeInstruction reads one slot from b[:8].
func DecodeInstruction(b []byte) Instruction {
	_ = b[7]
	return Instruction{
		Opcode: Opcode(b[0]),
		Dst:    Register(b[1] & 0xf),
		Src:    Register(b[1] >> 4),
		Offset: int16(binary.LittleEndian.Uint16(b[2:])),
		Imm:    int32(binary.LittleEndian.Uint32(b[4:])),
	}
}

// Decode splits bytecode into slots. It does not validate them: Lookup does.
func Decode(code []byte) ([]Instruction, error) {
	if len(code)%InstructionSize != 0 {
		return nil, ErrTruncated
	}
	insns := make([]Instruction, len(code)/InstructionSize)
	for n := range insns {
		insns[n] = DecodeInstruction(code[n*InstructionSize:])
	}
	return insns, nil
}

// Encode is the bytecode of insns.
func Encode(insns []Instruction) []byte {
	code := make([]byte, len(insns)*InstructionSize)
	for n, i := range insns {
		i.Encode(code[n*InstructionSize:])
	}
	return code
}

// Imm64 is the 64-bit immediate of an lddw whose first slot is lo and second hi.
func Imm64(lo, hi Instruction) uint64 { return uint64(uint32(lo.Imm)) | uint64(uint32(hi.Imm))<<32 }

// LoadImm64 is the two slots of `lddw dst, v` with the given pseudo source.
func LoadImm64(dst Register, src PseudoSource, v uint64) [2]Instruction {
	return [2]Instruction{
		{Opcode: MemOpcode(ClassLD, ModeImm, SizeDW), Dst: dst, Src: Register(src), Imm: int32(uint32(v))},
		{Imm: int32(uint32(v >> 32))},
	}
}

func (i Instruction) String() string {
	return fmt.Sprintf("{%02x dst=%d src=%d off=%d imm=%d}", uint8(i.Opcode), i.Dst, i.Src, i.Offset, i.Imm)
}
