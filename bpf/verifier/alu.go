package verifier

import (
	"math"
	"math/bits"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// aluNames are Linux's bpf_alu_string, for messages.
var aluNames = [16]string{"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "?", "?"}

// checkALU is an ALU or ALU64 instruction (check_alu_op).
func (e *env) checkALU(ins isa.Instruction, op isa.Op) error {
	info := op.Info()
	is32 := info.Opcode.Class() == isa.ClassALU
	alu := info.Opcode.ALUOp()
	switch {
	case alu == isa.ALUMov:
		return e.checkMov(ins, op, is32)
	case alu == isa.ALUNeg || alu == isa.ALUEnd:
		dst, err := e.regRead(ins.Dst)
		if err != nil {
			return err
		}
		if _, err := e.regWrite(ins.Dst); err != nil {
			return err
		}
		if dst.typ != scalarValue {
			// A privileged program may turn a pointer into a number.
			*dst = unknownScalar()
			if is32 && alu == isa.ALUNeg {
				*dst = scalarReg(unknownBounds().zext32())
			}
			return nil
		}
		*dst = scalarReg(unaryBounds(op, dst.bounds))
		return nil
	}

	// Two operands.
	dst, err := e.regRead(ins.Dst)
	if err != nil {
		return err
	}
	var src reg
	if info.Form == isa.FormALUReg {
		s, err := e.regRead(ins.Src)
		if err != nil {
			return err
		}
		src = *s
	} else {
		if (alu == isa.ALUDiv || alu == isa.ALUMod) && ins.Imm == 0 {
			return e.fail(linux.EINVAL, "div by zero")
		}
		width := int32(64)
		if is32 {
			width = 32
		}
		if (alu == isa.ALULsh || alu == isa.ALURsh || alu == isa.ALUArsh) && (ins.Imm < 0 || ins.Imm >= width) {
			return e.fail(linux.EINVAL, "invalid shift %d", ins.Imm)
		}
		src = constScalar(uint64(int64(ins.Imm)))
	}
	if _, err := e.regWrite(ins.Dst); err != nil {
		return err
	}
	if info.Form == isa.FormALUReg {
		e.noteOperand(alu, is32, &src)
	}
	if dst.typ != scalarValue || src.typ != scalarValue {
		return e.pointerALU(ins, alu, is32, dst, &src)
	}
	signed := ins.Offset == 1 && (alu == isa.ALUDiv || alu == isa.ALUMod)
	id, delta := dst.id, int64(dst.off)
	*dst = scalarReg(scalarALU(alu, signed, dst.bounds, src.bounds, is32))
	if id != 0 && delta == 0 && !is32 && (alu == isa.ALUAdd || alu == isa.ALUSub) && src.isConst() {
		// r += const keeps the tie, remembering the difference, so that
		// bounds learnt on one copy still narrow the others (Linux's
		// BPF_ADD_CONST linked registers: once per register).
		c := int64(src.constValue())
		if alu == isa.ALUSub {
			c = -c
		}
		if c == int64(int32(c)) && c != math.MinInt32 {
			dst.id, dst.off = id, int32(c)
		}
	}
	return nil
}

// noteOperand records what a register operand of a division or shift may
// be on this path, for Program.Facts.
func (e *env) noteOperand(alu isa.ALUOp, is32 bool, src *reg) {
	aux := &e.aux[e.insn]
	v := viewOf(&src.bounds, is32)
	switch alu {
	case isa.ALUDiv, isa.ALUMod:
		aux.divisorMayBeZero = aux.divisorMayBeZero || src.typ != scalarValue || v.umin == 0
	case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
		width := uint64(64)
		if is32 {
			width = 32
		}
		aux.shiftMayBeWide = aux.shiftMayBeWide || src.typ != scalarValue || v.umax >= width
	}
}

// checkMov is mov, mov32 and the sign-extending movsx forms.
func (e *env) checkMov(ins isa.Instruction, op isa.Op, is32 bool) error {
	info := op.Info()
	if info.Form == isa.FormALUImm {
		v := uint64(int64(ins.Imm))
		if is32 {
			v = uint64(uint32(ins.Imm))
		}
		return e.setReg(ins.Dst, constScalar(v))
	}
	src, err := e.regRead(ins.Src)
	if err != nil {
		return err
	}
	if _, err := e.regWrite(ins.Dst); err != nil {
		return err
	}
	var sext uint
	switch op {
	case isa.OpMovSX8To32, isa.OpMovSX8To64:
		sext = 8
	case isa.OpMovSX16To32, isa.OpMovSX16To64:
		sext = 16
	case isa.OpMovSX32To64:
		sext = 32
	}
	var v reg
	switch {
	case src.typ != scalarValue && (is32 || sext != 0):
		// Part of a pointer is a number (a leak, allowed when privileged).
		v = unknownScalar()
		if is32 {
			v = scalarReg(unknownBounds().zext32())
		}
	case sext != 0:
		b := signExtend(src.bounds, sext)
		if is32 {
			b = b.low32()
		}
		v = scalarReg(b)
	case is32:
		v = scalarReg(src.bounds.low32())
	default:
		// Copies of an unknown scalar are tied, so that a comparison of
		// one narrows the other (find_equal_scalars).
		if src.typ == scalarValue && src.id == 0 && !src.isConst() {
			src.id = e.newID()
		}
		v = *src
	}
	dst := &e.st.cur().regs[ins.Dst]
	*dst = v
	return nil
}

// pointerALU is arithmetic with a pointer operand (adjust_ptr_min_max_vals),
// for a privileged program: pointer plus or minus a bounded number stays a
// pointer; pointer minus pointer is a number; anything else is refused.
func (e *env) pointerALU(ins isa.Instruction, alu isa.ALUOp, is32 bool, dst, src *reg) error {
	name := aluNames[alu>>4]
	if dst.typ != scalarValue && src.typ != scalarValue {
		if alu == isa.ALUSub {
			*dst = unknownScalar()
			if is32 {
				*dst = scalarReg(unknownBounds().zext32())
			}
			return nil
		}
		return e.fail(linux.EACCES, "R%d pointer %s pointer prohibited", ins.Dst, name)
	}
	ptr, off := dst, src
	if dst.typ == scalarValue {
		ptr, off = src, dst
	}
	if is32 {
		if alu == isa.ALUSub {
			*dst = scalarReg(unknownBounds().zext32())
			return nil
		}
		return e.fail(linux.EACCES, "R%d 32-bit pointer arithmetic prohibited", ins.Dst)
	}
	if ptr.mayBeNull() {
		return e.fail(linux.EACCES, "R%d pointer arithmetic on %s prohibited, null-check it first", ins.Dst, ptr.typeName())
	}
	known := off.isConst()
	switch ptr.typ {
	case constPtrToMap:
		if !(known && off.constValue() == 0 && alu == isa.ALUAdd) {
			return e.fail(linux.EACCES, "R%d pointer arithmetic on %s prohibited", ins.Dst, ptr.typeName())
		}
	case ptrToPacketEnd, ptrToFunc:
		return e.fail(linux.EACCES, "R%d pointer arithmetic on %s prohibited", ins.Dst, ptr.typeName())
	}
	switch alu {
	case isa.ALUAnd, isa.ALUOr, isa.ALUXor:
		return e.fail(linux.EACCES, "R%d bitwise operator %s on pointer prohibited", ins.Dst, name)
	case isa.ALUAdd, isa.ALUSub:
	default:
		return e.fail(linux.EACCES, "R%d pointer arithmetic with %s operator prohibited", ins.Dst, name)
	}
	if alu == isa.ALUSub {
		if dst.typ == scalarValue {
			return e.fail(linux.EACCES, "R%d tried to subtract pointer from scalar", ins.Dst)
		}
		if ptr.typ == ptrToStack {
			return e.fail(linux.EACCES, "R%d subtraction from stack pointer prohibited", ins.Dst)
		}
	}
	if err := e.saneOffset(off, ptr.typeName()); err != nil {
		return err
	}
	if err := e.saneOffset(ptr, ptr.typeName()); err != nil {
		return err
	}
	res := *ptr
	val := int64(off.constValue())
	fixed := int64(ptr.off) + val
	if alu == isa.ALUSub {
		fixed = int64(ptr.off) - val
	}
	if known && fixed == int64(int32(fixed)) {
		res.off = int32(fixed)
	} else {
		var b bounds
		if alu == isa.ALUAdd {
			b = addBounds(&ptr.bounds, &off.bounds)
		} else {
			b = subBounds(&ptr.bounds, &off.bounds)
		}
		b.sync()
		res.bounds = b
		if ptr.isPacket() {
			// Something was added: the new pointer's range must be proven anew.
			res.id = e.newID()
			res.rng = 0
		}
	}
	if err := e.saneOffset(&res, ptr.typeName()); err != nil {
		return err
	}
	*dst = res
	return nil
}

// saneOffset keeps pointer offsets far from overflow (check_reg_sane_offset).
func (e *env) saneOffset(r *reg, typ string) error {
	if r.isConst() {
		if v := int64(r.constValue()); v >= maxVarOff || v <= -maxVarOff {
			return e.fail(linux.EACCES, "math between %s pointer and %d is not allowed", typ, v)
		}
	}
	if r.isPointer() && (r.off >= maxVarOff || r.off <= -maxVarOff) {
		return e.fail(linux.EACCES, "%s pointer offset %d is not allowed", typ, r.off)
	}
	if r.smin == math.MinInt64 {
		return e.fail(linux.EACCES, "math between %s pointer and register with unbounded min value is not allowed", typ)
	}
	if r.smin >= maxVarOff || r.smin <= -maxVarOff {
		return e.fail(linux.EACCES, "value %d makes %s pointer be out of bounds", r.smin, typ)
	}
	return nil
}

// with32 puts the 32-bit ranges of low (a zero-extended 32-bit result) into
// r, the 64-bit result of the same operation: the low half of a sum,
// difference, product, bitwise operation or left shift is the 32-bit
// operation on the low halves.
func with32(r, low bounds) bounds {
	r.s32min, r.s32max, r.u32min, r.u32max = low.s32min, low.s32max, low.u32min, low.u32max
	r.sync()
	return r
}

// scalarALU is the abstract result of dst op src on numbers; signed selects
// sdiv and smod.
func scalarALU(alu isa.ALUOp, signed bool, a, b bounds, is32 bool) bounds {
	if a.isConst() && b.isConst() {
		if v, ok := constALU(alu, signed, a.constValue(), b.constValue(), is32); ok {
			return constBounds(v)
		}
	}
	if is32 {
		za, zb := a.zext32(), b.zext32()
		if alu == isa.ALUArsh {
			za = a.sext32()
		}
		if (alu == isa.ALULsh || alu == isa.ALURsh || alu == isa.ALUArsh) && b.isConst() {
			// A 32-bit shift counts modulo 32 at run time.
			zb = constBounds(b.constValue() & 31)
		}
		if signed {
			return signedDivMod(alu, a, b, 32).low32()
		}
		return binary64(alu, &za, &zb, &za).low32()
	}
	if signed {
		return signedDivMod(alu, a, b, 64)
	}
	r := binary64(alu, &a, &b, &a)
	switch alu {
	case isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUAnd, isa.ALUOr, isa.ALUXor, isa.ALULsh:
		za, zb := a.zext32(), b.zext32()
		return with32(r, binary64(alu, &za, &zb, &za).low32())
	}
	r.sync()
	return r
}

// constALU computes an operation on two known values with the
// interpreter's semantics (kernel/bpf/core.c): a shift amount is masked,
// division by zero gives 0 and modulo by zero leaves the dividend. Signed
// division and modulo are left to signedDivMod.
func constALU(alu isa.ALUOp, signed bool, x, y uint64, is32 bool) (uint64, bool) {
	if signed {
		return 0, false
	}
	if is32 {
		a, b := uint32(x), uint32(y)
		var r uint32
		switch alu {
		case isa.ALUAdd:
			r = a + b
		case isa.ALUSub:
			r = a - b
		case isa.ALUMul:
			r = a * b
		case isa.ALUDiv:
			if b != 0 {
				r = a / b
			}
		case isa.ALUMod:
			r = a
			if b != 0 {
				r = a % b
			}
		case isa.ALUOr:
			r = a | b
		case isa.ALUAnd:
			r = a & b
		case isa.ALUXor:
			r = a ^ b
		case isa.ALULsh:
			r = a << (b & 31)
		case isa.ALURsh:
			r = a >> (b & 31)
		case isa.ALUArsh:
			r = uint32(int32(a) >> (b & 31))
		default:
			return 0, false
		}
		return uint64(r), true
	}
	switch alu {
	case isa.ALUAdd:
		return x + y, true
	case isa.ALUSub:
		return x - y, true
	case isa.ALUMul:
		return x * y, true
	case isa.ALUDiv:
		if y == 0 {
			return 0, true
		}
		return x / y, true
	case isa.ALUMod:
		if y == 0 {
			return x, true
		}
		return x % y, true
	case isa.ALUOr:
		return x | y, true
	case isa.ALUAnd:
		return x & y, true
	case isa.ALUXor:
		return x ^ y, true
	case isa.ALULsh:
		return x << (y & 63), true
	case isa.ALURsh:
		return x >> (y & 63), true
	case isa.ALUArsh:
		return uint64(int64(x) >> (y & 63)), true
	}
	return 0, false
}

// binary64 is the 64-bit result of an unsigned operation; orig is the
// destination as it was (modulo by zero leaves it).
func binary64(alu isa.ALUOp, a, b, orig *bounds) bounds {
	var r bounds
	switch alu {
	case isa.ALUAdd:
		r = addBounds(a, b)
	case isa.ALUSub:
		r = subBounds(a, b)
	case isa.ALUMul:
		r = mulBounds(a, b)
	case isa.ALUAnd:
		r = andBounds(a, b)
	case isa.ALUOr:
		r = orBounds(a, b)
	case isa.ALUXor:
		r = xorBounds(a, b)
	case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
		if !b.isConst() {
			// The interpreter masks a variable shift; the result could be anything.
			return unknownBounds()
		}
		n := uint(b.constValue() & 63)
		switch alu {
		case isa.ALULsh:
			r = lshBounds(a, n)
		case isa.ALURsh:
			r = rshBounds(a, n)
		default:
			r = arshBounds(a, n)
		}
	case isa.ALUDiv:
		switch {
		case b.isConst() && b.constValue() == 0:
			return constBounds(0)
		case b.isConst():
			c := b.constValue()
			r = rangeBounds(a.umin/c, a.umax/c)
		default:
			// a / b is at most a, and 0 when b is 0.
			r = rangeBounds(0, a.umax)
		}
	case isa.ALUMod:
		switch {
		case b.isConst() && b.constValue() == 0:
			return *orig
		case b.isConst() && a.isConst():
			return constBounds(a.constValue() % b.constValue())
		case b.isConst() && a.umax < b.constValue():
			return *a
		case b.isConst():
			r = rangeBounds(0, min(a.umax, b.constValue()-1))
		default:
			// a % b is at most a, and a when b is 0.
			r = rangeBounds(0, a.umax)
		}
	default:
		return unknownBounds()
	}
	r.sync()
	return r
}

// signedDivMod is sdiv and smod (Linux 6.6, cpu v4): exact for constants,
// with the interpreter's rules for division by zero and overflow; unknown
// otherwise.
func signedDivMod(alu isa.ALUOp, a, b bounds, width int) bounds {
	if !a.isConst() || !b.isConst() {
		if width == 32 {
			return unknownBounds().zext32()
		}
		return unknownBounds()
	}
	x, y := int64(a.constValue()), int64(b.constValue())
	if width == 32 {
		x, y = int64(int32(x)), int64(int32(y))
	}
	minInt := int64(math.MinInt64)
	if width == 32 {
		minInt = math.MinInt32
	}
	var v int64
	switch {
	case alu == isa.ALUDiv && y == 0:
		v = 0
	case alu == isa.ALUDiv && y == -1:
		v = -x
		if x == minInt {
			v = minInt
		}
	case alu == isa.ALUDiv:
		v = x / y
	case y == 0:
		v = x
	case y == -1:
		v = 0
	default:
		v = x % y
	}
	return constBounds(uint64(v))
}

// unaryBounds is neg and the byte-order operations.
func unaryBounds(op isa.Op, a bounds) bounds {
	zero := constBounds(0)
	switch op {
	case isa.OpNeg64:
		za := a.zext32()
		low := subBounds(&zero, &za)
		low.sync()
		return with32(subBounds(&zero, &a), low.low32())
	case isa.OpNeg32:
		za := a.zext32()
		r := subBounds(&zero, &za)
		r.sync()
		return r.low32()
	case isa.OpLE16:
		return truncate(&reg{typ: scalarValue, bounds: a}, 2, false).bounds
	case isa.OpLE32:
		return a.zext32()
	case isa.OpLE64:
		return a
	case isa.OpBE16, isa.OpBswap16:
		return swapBounds(a, 16)
	case isa.OpBE32, isa.OpBswap32:
		return swapBounds(a, 32)
	}
	return swapBounds(a, 64)
}

// swapBounds reverses the bytes of the low width bits (zero-extending):
// the known bits move with their bytes.
func swapBounds(a bounds, width int) bounds {
	swap := func(v uint64) uint64 {
		switch width {
		case 16:
			return uint64(bits.ReverseBytes16(uint16(v)))
		case 32:
			return uint64(bits.ReverseBytes32(uint32(v)))
		}
		return bits.ReverseBytes64(v)
	}
	r := unknownBounds()
	r.varOff = tnum{swap(a.varOff.value), swap(a.varOff.mask)}
	r.sync()
	return r
}

// signExtend is the value of the low n bits of a, sign-extended to 64 bits.
func signExtend(a bounds, n uint) bounds {
	if a.isConst() {
		v := a.constValue()
		return constBounds(uint64(int64(v<<(64-n)) >> (64 - n)))
	}
	low := a.varOff.cast(int(n / 8))
	sign := uint64(1) << (n - 1)
	high := uint64(math.MaxUint64) << n
	r := unknownBounds()
	switch {
	case low.mask&sign != 0:
		r.varOff = tnum{low.value, low.mask | high}
	case low.value&sign != 0:
		r.varOff = tnum{low.value | high, low.mask}
	default:
		r.varOff = low
	}
	r.smin, r.smax = -int64(sign), int64(sign-1)
	if n < 64 && a.umax < sign {
		// Non-negative and below the sign bit: the value is unchanged.
		r.umin, r.umax = a.umin, a.umax
	}
	r.sync()
	return r
}
