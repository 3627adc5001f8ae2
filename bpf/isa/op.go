package isa

// Op is one operation of the instruction set: an opcode together with the
// value of the field that selects its variant (the offset for sdiv, smod and
// movsx, the immediate for byte swaps and atomics, src for calls and lddw).
// Ops are dense small integers, so the interpreter can switch on them and Go
// compiles that switch into a jump table.
type Op uint8

// The operations. OpInvalid is the zero value; OpImm64High marks the second
// slot of an lddw.
const (
	OpInvalid Op = iota
	OpImm64High

	// ALU (32-bit): the result is zero-extended into the 64-bit register.
	OpAdd32Imm
	OpAdd32Reg
	OpSub32Imm
	OpSub32Reg
	OpMul32Imm
	OpMul32Reg
	OpDiv32Imm
	OpDiv32Reg
	OpSDiv32Imm
	OpSDiv32Reg
	OpOr32Imm
	OpOr32Reg
	OpAnd32Imm
	OpAnd32Reg
	OpLsh32Imm
	OpLsh32Reg
	OpRsh32Imm
	OpRsh32Reg
	OpNeg32
	OpMod32Imm
	OpMod32Reg
	OpSMod32Imm
	OpSMod32Reg
	OpXor32Imm
	OpXor32Reg
	OpMov32Imm
	OpMov32Reg
	OpMovSX8To32
	OpMovSX16To32
	OpArsh32Imm
	OpArsh32Reg
	OpLE16
	OpLE32
	OpLE64
	OpBE16
	OpBE32
	OpBE64

	// ALU64.
	OpAdd64Imm
	OpAdd64Reg
	OpSub64Imm
	OpSub64Reg
	OpMul64Imm
	OpMul64Reg
	OpDiv64Imm
	OpDiv64Reg
	OpSDiv64Imm
	OpSDiv64Reg
	OpOr64Imm
	OpOr64Reg
	OpAnd64Imm
	OpAnd64Reg
	OpLsh64Imm
	OpLsh64Reg
	OpRsh64Imm
	OpRsh64Reg
	OpNeg64
	OpMod64Imm
	OpMod64Reg
	OpSMod64Imm
	OpSMod64Reg
	OpXor64Imm
	OpXor64Reg
	OpMov64Imm
	OpMov64Reg
	OpMovSX8To64
	OpMovSX16To64
	OpMovSX32To64
	OpAddrSpaceCast
	OpArsh64Imm
	OpArsh64Reg
	OpBswap16
	OpBswap32
	OpBswap64

	// JMP (64-bit compares).
	OpJA
	OpJEqImm
	OpJEqReg
	OpJGTImm
	OpJGTReg
	OpJGEImm
	OpJGEReg
	OpJSetImm
	OpJSetReg
	OpJNEImm
	OpJNEReg
	OpJSGTImm
	OpJSGTReg
	OpJSGEImm
	OpJSGEReg
	OpJLTImm
	OpJLTReg
	OpJLEImm
	OpJLEReg
	OpJSLTImm
	OpJSLTReg
	OpJSLEImm
	OpJSLEReg
	OpCall
	OpCallLocal
	OpCallKfunc
	OpCallX
	OpExit
	OpMayGoto

	// JMP32 (32-bit compares).
	OpJA32
	OpJEq32Imm
	OpJEq32Reg
	OpJGT32Imm
	OpJGT32Reg
	OpJGE32Imm
	OpJGE32Reg
	OpJSet32Imm
	OpJSet32Reg
	OpJNE32Imm
	OpJNE32Reg
	OpJSGT32Imm
	OpJSGT32Reg
	OpJSGE32Imm
	OpJSGE32Reg
	OpJLT32Imm
	OpJLT32Reg
	OpJLE32Imm
	OpJLE32Reg
	OpJSLT32Imm
	OpJSLT32Reg
	OpJSLE32Imm
	OpJSLE32Reg

	// LD: 64-bit immediates and legacy packet access.
	OpLoadImm64
	OpLoadMapFD
	OpLoadMapValue
	OpLoadBTFID
	OpLoadFunc
	OpLoadMapIdx
	OpLoadMapIdxValue
	OpLoadAbsB
	OpLoadAbsH
	OpLoadAbsW
	OpLoadIndB
	OpLoadIndH
	OpLoadIndW

	// LDX.
	OpLdxB
	OpLdxH
	OpLdxW
	OpLdxDW
	OpLdxSB
	OpLdxSH
	OpLdxSW

	// ST.
	OpStB
	OpStH
	OpStW
	OpStDW

	// STX.
	OpStxB
	OpStxH
	OpStxW
	OpStxDW

	// STX|ATOMIC.
	OpAtomicAdd32
	OpAtomicOr32
	OpAtomicAnd32
	OpAtomicXor32
	OpAtomicFetchAdd32
	OpAtomicFetchOr32
	OpAtomicFetchAnd32
	OpAtomicFetchXor32
	OpAtomicXchg32
	OpAtomicCmpXchg32
	OpAtomicAdd64
	OpAtomicOr64
	OpAtomicAnd64
	OpAtomicXor64
	OpAtomicFetchAdd64
	OpAtomicFetchOr64
	OpAtomicFetchAnd64
	OpAtomicFetchXor64
	OpAtomicXchg64
	OpAtomicCmpXchg64
	OpLoadAcquireB
	OpLoadAcquireH
	OpLoadAcquireW
	OpLoadAcquireDW
	OpStoreReleaseB
	OpStoreReleaseH
	OpStoreReleaseW
	OpStoreReleaseDW

	// NumOps is the number of operations (and the first value past them).
	NumOps
)

// The compiler refuses this if the operations outgrow a byte.
var _ [256 - int(NumOps)]struct{}

// Info is the table entry of op.
func (op Op) Info() *OpInfo { return &Table[op] }

// String is op's unique name, e.g. "add32_imm" or "lock fetch add".
func (op Op) String() string {
	if op >= NumOps {
		return "op?"
	}
	return Table[op].Name
}
