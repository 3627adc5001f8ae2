package isa

import (
	"errors"
	"fmt"
)

// Form is the operand shape of an operation: which instruction fields carry
// operands, and how the assembler and the disassembler write them.
type Form uint8

// The operand shapes, with the conformance-suite syntax of each.
const (
	FormNone          Form = iota // exit
	FormALUImm                    // add %r0, 1
	FormALUReg                    // add %r0, %r1
	FormUnary                     // neg %r0; be16 %r0
	FormJump                      // ja +3 (offset)
	FormJumpLong                  // ja32 +3 (32-bit offset in imm)
	FormCondImm                   // jeq %r0, 1, +3
	FormCondReg                   // jeq %r0, %r1, +3
	FormCall                      // call 5 (helper id)
	FormCallLocal                 // call local +3 (subprogram offset in imm)
	FormCallKfunc                 // call kfunc 1234[, 2] (BTF id, fd_array index)
	FormCallReg                   // call %r2 (callx)
	FormImm64                     // lddw %r0, 0x1122334455667788; lddw %r1, map_fd 3 ...
	FormPacketAbs                 // ldabsw 12
	FormPacketInd                 // ldindw %r1, 12
	FormLoad                      // ldxw %r0, [%r1+4]
	FormStoreImm                  // stw [%r10-4], 1
	FormStore                     // stxw [%r10-4], %r1; lock add [%r10-8], %r1
	FormAddrSpaceCast             // addr_space_cast %r0, %r1, 1, 0
)

// Field names an instruction field.
type Field uint8

// The instruction fields.
const (
	FieldNone Field = iota
	FieldDst
	FieldSrc
	FieldOffset
	FieldImm
)

var fieldNames = [...]string{"none", "dst", "src", "off", "imm"}

func (f Field) String() string { return fieldNames[f] }

// Fields is a set of instruction fields, bit i standing for Field(i).
type Fields uint8

// Has reports whether f is in s.
func (s Fields) Has(f Field) bool { return s&(1<<f) != 0 }

func fields(fs ...Field) Fields {
	var s Fields
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

var formFields = [...]Fields{
	FormNone:          0,
	FormALUImm:        fields(FieldDst, FieldImm),
	FormALUReg:        fields(FieldDst, FieldSrc),
	FormUnary:         fields(FieldDst),
	FormJump:          fields(FieldOffset),
	FormJumpLong:      fields(FieldImm),
	FormCondImm:       fields(FieldDst, FieldImm, FieldOffset),
	FormCondReg:       fields(FieldDst, FieldSrc, FieldOffset),
	FormCall:          fields(FieldImm),
	FormCallLocal:     fields(FieldImm),
	FormCallKfunc:     fields(FieldImm, FieldOffset),
	FormCallReg:       fields(FieldDst),
	FormImm64:         fields(FieldDst, FieldImm),
	FormPacketAbs:     fields(FieldImm),
	FormPacketInd:     fields(FieldSrc, FieldImm),
	FormLoad:          fields(FieldDst, FieldSrc, FieldOffset),
	FormStoreImm:      fields(FieldDst, FieldOffset, FieldImm),
	FormStore:         fields(FieldDst, FieldSrc, FieldOffset),
	FormAddrSpaceCast: fields(FieldDst, FieldSrc, FieldImm),
}

// Fields is the set of fields that carry the operands of f. Every other
// field of an instruction must be zero, or equal the selector value.
func (f Form) Fields() Fields { return formFields[f] }

// Selector says which field, besides the opcode, tells an operation apart
// from the others sharing its opcode, and the value that field must hold.
type Selector struct {
	Field Field
	Value int32
}

// Flags describe how an operation uses registers and control flow.
type Flags uint16

// The operation flags.
const (
	ReadsDst  Flags = 1 << iota // reads the dst register
	WritesDst                   // writes the dst register
	ReadsSrc                    // reads the src register
	WritesSrc                   // writes the src register (atomic fetch)
	ReadsR0                     // reads r0 (exit, cmpxchg)
	WritesR0                    // writes r0 (calls, cmpxchg, legacy packet loads)
	Clobbers                    // leaves r1-r5 undefined (calls, legacy packet loads)
	Branches                    // may continue somewhere other than the next instruction
	Is32                        // 32-bit operation: the result is zero-extended
	Memory                      // accesses memory at register + offset
	Writes                      // stores to memory (with Memory)
)

// OpInfo is one entry of the opcode table.
type OpInfo struct {
	Op     Op
	Opcode Opcode
	// Select is the field that tells this operation apart from others with
	// the same opcode; FieldNone when the opcode alone decides.
	Select Selector
	// Name is unique: e.g. "add32_imm", "movsx832", "lddw map_fd".
	Name string
	// Mnemonic is the conformance-suite mnemonic: "add32", "lock fetch add",
	// "lddw"; Keyword the word that starts the operand of lddw pseudo forms
	// and of local and kfunc calls ("map_fd", "local", ...).
	Mnemonic string
	Keyword  string
	Form     Form
	Flags    Flags
	// LLVM is the llvm-objdump style text: {d} and {s} are the register
	// numbers, {imm} the signed immediate, {off} the memory offset (" + 4"),
	// {joff} and {jimm} relative targets ("+3"), {imm64} the 64-bit
	// immediate, {hi} the second slot's immediate.
	LLVM string
}

// Slots is the number of instruction slots the operation occupies.
func (info *OpInfo) Slots() int {
	if info.Form == FormImm64 {
		return 2
	}
	return 1
}

// Width is the number of bytes a memory operation moves.
func (info *OpInfo) Width() int { return info.Opcode.Size().Bytes() }

// Uses is the set of registers ins (an instance of info) reads and writes.
func (info *OpInfo) Uses(ins Instruction) (reads, writes RegSet) {
	f := info.Flags
	if f&ReadsDst != 0 {
		reads |= 1 << ins.Dst
	}
	if f&WritesDst != 0 {
		writes |= 1 << ins.Dst
	}
	if f&ReadsSrc != 0 {
		reads |= 1 << ins.Src
	}
	if f&WritesSrc != 0 {
		writes |= 1 << ins.Src
	}
	if f&ReadsR0 != 0 {
		reads |= 1 << R0
	}
	if f&WritesR0 != 0 {
		writes |= 1 << R0
	}
	return reads, writes
}

// Table is THE opcode table, indexed by Op.
var Table [NumOps]OpInfo

// byOpcode lists the operations of each opcode byte, in Table order.
var byOpcode [256][]Op

func set(op Op, code Opcode, sel Selector, name, mnemonic string, form Form, flags Flags, llvm string) {
	if code.Class() == ClassALU || code.Class() == ClassJMP32 {
		flags |= Is32
	}
	Table[op] = OpInfo{Op: op, Opcode: code, Select: sel, Name: name, Mnemonic: mnemonic,
		Form: form, Flags: flags, LLVM: llvm}
}

var none Selector

func offsetIs(v int32) Selector { return Selector{FieldOffset, v} }
func immIs(v int32) Selector    { return Selector{FieldImm, v} }
func srcIs(v int32) Selector    { return Selector{FieldSrc, v} }

// arithmetic fills the four entries (32/64-bit, imm/reg) of a two-operand ALU
// operation: op32 and op32+1 are the 32-bit imm and reg forms, op64 and
// op64+1 the 64-bit ones.
func arithmetic(op32, op64 Op, mnemonic string, alu ALUOp, sel Selector, sym string) {
	flags := ReadsDst | WritesDst
	if alu == ALUMov {
		flags = WritesDst
	}
	for _, c := range []struct {
		op          Op
		class       Class
		suffix, reg string
	}{{op32, ClassALU, "32", "w"}, {op64, ClassALU64, "", "r"}} {
		m := mnemonic + c.suffix
		set(c.op, ALUOpcode(c.class, alu, SourceImm), sel, m+"_imm", m, FormALUImm, flags,
			c.reg+"{d} "+sym+" {imm}")
		set(c.op+1, ALUOpcode(c.class, alu, SourceReg), sel, m+"_reg", m, FormALUReg, flags|ReadsSrc,
			c.reg+"{d} "+sym+" "+c.reg+"{s}")
	}
}

// conditional fills the four entries of a conditional jump: op64 and
// op64+1 in the JMP class, op32 and op32+1 in JMP32.
func conditional(op64, op32 Op, mnemonic string, j JumpOp, sym string) {
	for _, c := range []struct {
		op          Op
		class       Class
		suffix, reg string
	}{{op64, ClassJMP, "", "r"}, {op32, ClassJMP32, "32", "w"}} {
		m := mnemonic + c.suffix
		set(c.op, JumpOpcode(c.class, j, SourceImm), none, m+"_imm", m, FormCondImm, ReadsDst|Branches,
			"if "+c.reg+"{d} "+sym+" {imm} goto {joff}")
		set(c.op+1, JumpOpcode(c.class, j, SourceReg), none, m+"_reg", m, FormCondReg, ReadsDst|ReadsSrc|Branches,
			"if "+c.reg+"{d} "+sym+" "+c.reg+"{s} goto {joff}")
	}
}

var sizeTypes = map[Size]string{SizeB: "u8", SizeH: "u16", SizeW: "u32", SizeDW: "u64"}

func memory(op Op, c Class, m Mode, s Size, mnemonic string) {
	t := sizeTypes[s]
	switch c {
	case ClassLDX:
		if m == ModeMemSX {
			t = "s" + t[1:]
		}
		set(op, MemOpcode(c, m, s), none, mnemonic, mnemonic, FormLoad, ReadsSrc|WritesDst|Memory,
			"r{d} = *("+t+" *)(r{s}{off})")
	case ClassST:
		set(op, MemOpcode(c, m, s), none, mnemonic, mnemonic, FormStoreImm, ReadsDst|Memory|Writes,
			"*("+t+" *)(r{d}{off}) = {imm}")
	case ClassSTX:
		set(op, MemOpcode(c, m, s), none, mnemonic, mnemonic, FormStore, ReadsDst|ReadsSrc|Memory|Writes,
			"*("+t+" *)(r{d}{off}) = r{s}")
	}
}

func atomics(first Op, s Size, suffix string) {
	code := MemOpcode(ClassSTX, ModeAtomic, s)
	reg, t, width := "r", "u64", "64"
	if s == SizeW {
		reg, t, width = "w", "u32", "32"
	}
	flags := ReadsDst | ReadsSrc | Memory | Writes
	for n, a := range []struct {
		op        AtomicOp
		name, sym string
	}{{AtomicAdd, "add", "+="}, {AtomicOr, "or", "|="}, {AtomicAnd, "and", "&="}, {AtomicXor, "xor", "^="}} {
		m := "lock " + a.name + suffix
		set(first+Op(n), code, immIs(int32(a.op)), m, m, FormStore, flags,
			"lock *("+t+" *)(r{d}{off}) "+a.sym+" "+reg+"{s}")
		m = "lock fetch " + a.name + suffix
		set(first+4+Op(n), code, immIs(int32(a.op|AtomicFetch)), m, m, FormStore, flags|WritesSrc,
			reg+"{s} = atomic_fetch_"+a.name+"(("+t+" *)(r{d}{off}), "+reg+"{s})")
	}
	m := "lock xchg" + suffix
	set(first+8, code, immIs(int32(AtomicXchg)), m, m, FormStore, flags|WritesSrc,
		reg+"{s} = xchg"+suffix+"_"+width+"(r{d}{off}, "+reg+"{s})")
	m = "lock cmpxchg" + suffix
	set(first+9, code, immIs(int32(AtomicCmpXchg)), m, m, FormStore, flags|ReadsR0|WritesR0,
		reg+"0 = cmpxchg"+suffix+"_"+width+"(r{d}{off}, "+reg+"0, "+reg+"{s})")
}

func init() {
	Table[OpInvalid] = OpInfo{Name: "invalid"}
	Table[OpImm64High] = OpInfo{Op: OpImm64High, Name: "lddw high"}

	arithmetic(OpAdd32Imm, OpAdd64Imm, "add", ALUAdd, none, "+=")
	arithmetic(OpSub32Imm, OpSub64Imm, "sub", ALUSub, none, "-=")
	arithmetic(OpMul32Imm, OpMul64Imm, "mul", ALUMul, none, "*=")
	arithmetic(OpDiv32Imm, OpDiv64Imm, "div", ALUDiv, offsetIs(0), "/=")
	arithmetic(OpSDiv32Imm, OpSDiv64Imm, "sdiv", ALUDiv, offsetIs(1), "s/=")
	arithmetic(OpOr32Imm, OpOr64Imm, "or", ALUOr, none, "|=")
	arithmetic(OpAnd32Imm, OpAnd64Imm, "and", ALUAnd, none, "&=")
	arithmetic(OpLsh32Imm, OpLsh64Imm, "lsh", ALULsh, none, "<<=")
	arithmetic(OpRsh32Imm, OpRsh64Imm, "rsh", ALURsh, none, ">>=")
	arithmetic(OpMod32Imm, OpMod64Imm, "mod", ALUMod, offsetIs(0), "%=")
	arithmetic(OpSMod32Imm, OpSMod64Imm, "smod", ALUMod, offsetIs(1), "s%=")
	arithmetic(OpXor32Imm, OpXor64Imm, "xor", ALUXor, none, "^=")
	arithmetic(OpMov32Imm, OpMov64Imm, "mov", ALUMov, offsetIs(0), "=")
	arithmetic(OpArsh32Imm, OpArsh64Imm, "arsh", ALUArsh, none, "s>>=")

	unary := ReadsDst | WritesDst
	set(OpNeg32, ALUOpcode(ClassALU, ALUNeg, SourceImm), none, "neg32", "neg32", FormUnary, unary, "w{d} = -w{d}")
	set(OpNeg64, ALUOpcode(ClassALU64, ALUNeg, SourceImm), none, "neg", "neg", FormUnary, unary, "r{d} = -r{d}")

	movsx := ReadsSrc | WritesDst
	mov32 := ALUOpcode(ClassALU, ALUMov, SourceReg)
	mov64 := ALUOpcode(ClassALU64, ALUMov, SourceReg)
	set(OpMovSX8To32, mov32, offsetIs(8), "movsx832", "movsx832", FormALUReg, movsx, "w{d} = (s8)w{s}")
	set(OpMovSX16To32, mov32, offsetIs(16), "movsx1632", "movsx1632", FormALUReg, movsx, "w{d} = (s16)w{s}")
	set(OpMovSX8To64, mov64, offsetIs(8), "movsx864", "movsx864", FormALUReg, movsx, "r{d} = (s8)r{s}")
	set(OpMovSX16To64, mov64, offsetIs(16), "movsx1664", "movsx1664", FormALUReg, movsx, "r{d} = (s16)r{s}")
	set(OpMovSX32To64, mov64, offsetIs(32), "movsx3264", "movsx3264", FormALUReg, movsx, "r{d} = (s32)r{s}")
	// Linux 6.9 BPF_ADDR_SPACE_CAST: imm = dst address space << 16 | src address space.
	set(OpAddrSpaceCast, mov64, offsetIs(1), "addr_space_cast", "addr_space_cast", FormAddrSpaceCast, movsx,
		"r{d} = addr_space_cast(r{s}, {asdst}, {assrc})")

	for n, w := range []int32{16, 32, 64} {
		le := fmt.Sprintf("le%d", w)
		be := fmt.Sprintf("be%d", w)
		bs := fmt.Sprintf("bswap%d", w)
		set(OpLE16+Op(n), ALUOpcode(ClassALU, ALUEnd, SourceImm), immIs(w), le, le, FormUnary, unary, "r{d} = "+le+" r{d}")
		set(OpBE16+Op(n), ALUOpcode(ClassALU, ALUEnd, SourceReg), immIs(w), be, be, FormUnary, unary, "r{d} = "+be+" r{d}")
		set(OpBswap16+Op(n), ALUOpcode(ClassALU64, ALUEnd, SourceImm), immIs(w), bs, bs, FormUnary, unary, "r{d} = "+bs+" r{d}")
	}
	// The 32-bit byte-order operations work on the whole register: they are
	// not zero-extending 32-bit operations in the usual sense.
	for op := OpLE16; op <= OpBE64; op++ {
		Table[op].Flags &^= Is32
	}

	set(OpJA, JumpOpcode(ClassJMP, JumpA, SourceImm), none, "ja", "ja", FormJump, Branches, "goto {joff}")
	set(OpJA32, JumpOpcode(ClassJMP32, JumpA, SourceImm), none, "ja32", "ja32", FormJumpLong, Branches, "gotol {jimm}")
	Table[OpJA32].Flags &^= Is32
	conditional(OpJEqImm, OpJEq32Imm, "jeq", JumpEq, "==")
	conditional(OpJGTImm, OpJGT32Imm, "jgt", JumpGT, ">")
	conditional(OpJGEImm, OpJGE32Imm, "jge", JumpGE, ">=")
	conditional(OpJSetImm, OpJSet32Imm, "jset", JumpSet, "&")
	conditional(OpJNEImm, OpJNE32Imm, "jne", JumpNE, "!=")
	conditional(OpJSGTImm, OpJSGT32Imm, "jsgt", JumpSGT, "s>")
	conditional(OpJSGEImm, OpJSGE32Imm, "jsge", JumpSGE, "s>=")
	conditional(OpJLTImm, OpJLT32Imm, "jlt", JumpLT, "<")
	conditional(OpJLEImm, OpJLE32Imm, "jle", JumpLE, "<=")
	conditional(OpJSLTImm, OpJSLT32Imm, "jslt", JumpSLT, "s<")
	conditional(OpJSLEImm, OpJSLE32Imm, "jsle", JumpSLE, "s<=")

	call := JumpOpcode(ClassJMP, JumpCall, SourceImm)
	calls := WritesR0 | Clobbers
	set(OpCall, call, srcIs(int32(CallHelper)), "call", "call", FormCall, calls, "call {imm}")
	set(OpCallLocal, call, srcIs(int32(CallLocal)), "call local", "call", FormCallLocal, calls|Branches, "call pc{jimm}")
	Table[OpCallLocal].Keyword = "local"
	set(OpCallKfunc, call, srcIs(int32(CallKfunc)), "call kfunc", "call", FormCallKfunc, calls, "call kfunc:{imm}")
	Table[OpCallKfunc].Keyword = "kfunc"
	set(OpCallX, JumpOpcode(ClassJMP, JumpCall, SourceReg), none, "callx", "call", FormCallReg, calls|ReadsDst|Branches, "callx r{d}")
	set(OpExit, JumpOpcode(ClassJMP, JumpExit, SourceImm), none, "exit", "exit", FormNone, ReadsR0|Branches, "exit")
	set(OpMayGoto, JumpOpcode(ClassJMP, JumpCond, SourceImm), srcIs(0), "may_goto", "may_goto", FormJump, Branches, "may_goto {joff}")

	lddw := MemOpcode(ClassLD, ModeImm, SizeDW)
	for _, p := range []struct {
		op      Op
		src     PseudoSource
		keyword string
		llvm    string
	}{
		{OpLoadImm64, PseudoNone, "", "r{d} = {imm64} ll"},
		{OpLoadMapFD, PseudoMapFD, "map_fd", "r{d} = map[fd:{imm}] ll"},
		{OpLoadMapValue, PseudoMapValue, "map_value", "r{d} = map[fd:{imm}][0]+{hi} ll"},
		{OpLoadBTFID, PseudoBTFID, "btf_id", "r{d} = btf[id:{imm},fd:{hi}] ll"},
		{OpLoadFunc, PseudoFunc, "func", "r{d} = func[pc{jimm}] ll"},
		{OpLoadMapIdx, PseudoMapIdx, "map_idx", "r{d} = map[idx:{imm}] ll"},
		{OpLoadMapIdxValue, PseudoMapIdxValue, "map_idx_value", "r{d} = map[idx:{imm}][0]+{hi} ll"},
	} {
		name := "lddw"
		if p.keyword != "" {
			name += " " + p.keyword
		}
		set(p.op, lddw, srcIs(int32(p.src)), name, "lddw", FormImm64, WritesDst, p.llvm)
		Table[p.op].Keyword = p.keyword
	}
	packet := WritesR0 | Clobbers
	for n, s := range []Size{SizeB, SizeH, SizeW} {
		t := sizeTypes[s]
		abs := "ldabs" + s.String()
		ind := "ldind" + s.String()
		set(OpLoadAbsB+Op(n), MemOpcode(ClassLD, ModeAbs, s), none, abs, abs, FormPacketAbs, packet,
			"r0 = *("+t+" *)skb[{imm}]")
		set(OpLoadIndB+Op(n), MemOpcode(ClassLD, ModeInd, s), none, ind, ind, FormPacketInd, packet|ReadsSrc,
			"r0 = *("+t+" *)skb[r{s} + {imm}]")
	}

	for n, s := range []Size{SizeB, SizeH, SizeW, SizeDW} {
		memory(OpLdxB+Op(n), ClassLDX, ModeMem, s, "ldx"+s.String())
		memory(OpStB+Op(n), ClassST, ModeMem, s, "st"+s.String())
		memory(OpStxB+Op(n), ClassSTX, ModeMem, s, "stx"+s.String())
		t, reg := sizeTypes[s], "w"
		if s == SizeDW {
			reg = "r"
		}
		code := MemOpcode(ClassSTX, ModeAtomic, s)
		acq := "ldxacq" + s.String()
		rel := "stxrel" + s.String()
		set(OpLoadAcquireB+Op(n), code, immIs(int32(AtomicLoadAcquire)), acq, acq, FormLoad, ReadsSrc|WritesDst|Memory,
			reg+"{d} = load_acquire(("+t+" *)(r{s}{off}))")
		set(OpStoreReleaseB+Op(n), code, immIs(int32(AtomicStoreRelease)), rel, rel, FormStore,
			ReadsDst|ReadsSrc|Memory|Writes, "store_release(("+t+" *)(r{d}{off}), "+reg+"{s})")
	}
	for n, s := range []Size{SizeB, SizeH, SizeW} {
		memory(OpLdxSB+Op(n), ClassLDX, ModeMemSX, s, "ldxs"+s.String())
	}
	atomics(OpAtomicAdd32, SizeW, "32")
	atomics(OpAtomicAdd64, SizeDW, "")

	for op := Op(OpImm64High + 1); op < NumOps; op++ {
		code := Table[op].Opcode
		byOpcode[code] = append(byOpcode[code], op)
	}
}

// ErrInvalid is wrapped by every error Lookup and Validate return.
var ErrInvalid = errors.New("invalid instruction")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func (ins Instruction) field(f Field) int32 {
	switch f {
	case FieldDst:
		return int32(ins.Dst)
	case FieldSrc:
		return int32(ins.Src)
	case FieldOffset:
		return int32(ins.Offset)
	case FieldImm:
		return ins.Imm
	}
	return 0
}

// reservedName is how Linux names an instruction group in its "uses
// reserved fields" messages (kernel/bpf/verifier.c).
func reservedName(code Opcode) string {
	switch code.Class() {
	case ClassALU, ClassALU64:
		return "BPF_ALU"
	case ClassJMP, ClassJMP32:
		switch code.JumpOp() {
		case JumpA:
			return "BPF_JA"
		case JumpCall:
			return "BPF_CALL"
		case JumpExit:
			return "BPF_EXIT"
		}
		return "BPF_JMP/JMP32"
	case ClassLD:
		return "BPF_LD"
	case ClassLDX:
		return "BPF_LDX"
	case ClassST:
		return "BPF_ST"
	}
	return "BPF_STX"
}

// Lookup finds the operation of one instruction slot and checks it: the
// selector matches, every field the operation does not use is zero, and the
// registers it names exist. Like the per-instruction checks of Linux's
// do_check, with Linux's messages. The second slot of an lddw is not an
// instruction of its own: Validate handles it.
func Lookup(ins Instruction) (Op, error) {
	candidates := byOpcode[ins.Opcode]
	if len(candidates) == 0 {
		return OpInvalid, invalid("unknown opcode %02x", uint8(ins.Opcode))
	}
	for _, op := range candidates {
		info := &Table[op]
		if info.Select.Field != FieldNone && ins.field(info.Select.Field) != info.Select.Value {
			continue
		}
		used := info.Form.Fields()
		for f := FieldDst; f <= FieldImm; f++ {
			if !used.Has(f) && f != info.Select.Field && ins.field(f) != 0 {
				return OpInvalid, invalid("%s uses reserved fields", reservedName(ins.Opcode))
			}
		}
		if used.Has(FieldDst) && ins.Dst >= NumRegisters {
			return OpInvalid, invalid("R%d is invalid", ins.Dst)
		}
		if used.Has(FieldSrc) && ins.Src >= NumRegisters {
			return OpInvalid, invalid("R%d is invalid", ins.Src)
		}
		if op == OpAddrSpaceCast && ins.Imm != 1 && ins.Imm != 1<<16 {
			return OpInvalid, invalid("addr_space_cast insn can only convert between address space 1 and 0")
		}
		return op, nil
	}
	switch first := &Table[candidates[0]]; first.Select.Field {
	case FieldImm:
		if ins.Opcode.Class() == ClassSTX {
			return OpInvalid, invalid("BPF_ATOMIC uses invalid atomic opcode %02x", ins.Imm)
		}
		return OpInvalid, invalid("%s uses reserved fields (imm %d)", reservedName(ins.Opcode), ins.Imm)
	case FieldSrc:
		if ins.Opcode.Class() == ClassLD {
			return OpInvalid, invalid("unrecognized bpf_ld_imm64 insn (src %d)", ins.Src)
		}
	}
	return OpInvalid, invalid("%s uses reserved fields", reservedName(ins.Opcode))
}

// SlotError is an invalid instruction at Index.
type SlotError struct {
	Index int
	Err   error
}

func (e *SlotError) Error() string { return fmt.Sprintf("insn %d: %v", e.Index, e.Err) }

func (e *SlotError) Unwrap() error { return e.Err }

// Validate looks up every slot of a program. It returns the operation of
// each slot, OpImm64High for the second slot of an lddw, which must have
// opcode 0 and only an immediate (like Linux's "invalid bpf_ld_imm64 insn").
// The second immediate of lddw map_fd, map_idx and func must be zero
// ("unrecognized bpf_ld_imm64 insn").
func Validate(insns []Instruction) ([]Op, error) {
	ops := make([]Op, len(insns))
	for n := 0; n < len(insns); n++ {
		op, err := Lookup(insns[n])
		if err != nil {
			return nil, &SlotError{n, err}
		}
		ops[n] = op
		if Table[op].Form != FormImm64 {
			continue
		}
		if n+1 == len(insns) {
			return nil, &SlotError{n, invalid("invalid bpf_ld_imm64 insn")}
		}
		hi := insns[n+1]
		if hi.Opcode != 0 || hi.Dst != 0 || hi.Src != 0 || hi.Offset != 0 {
			return nil, &SlotError{n, invalid("invalid bpf_ld_imm64 insn")}
		}
		if hi.Imm != 0 && (op == OpLoadMapFD || op == OpLoadMapIdx || op == OpLoadFunc) {
			return nil, &SlotError{n, invalid("unrecognized bpf_ld_imm64 insn")}
		}
		n++
		ops[n] = OpImm64High
	}
	return ops, nil
}
