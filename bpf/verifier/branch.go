package verifier

import (
	"math"

	"hachi/bpf/isa"
)

// checkCondJump is a conditional jump (check_cond_jmp_op): if its outcome is
// known the other way is dead and not explored; otherwise the jump's state
// is pushed, refined by what the condition says, and the current path goes
// on with the negation. feasible is false when neither way can happen.
func (e *env) checkCondJump(ins isa.Instruction, op isa.Op) (next int, feasible bool, err error) {
	info := op.Info()
	is32 := info.Opcode.Class() == isa.ClassJMP32
	jop := info.Opcode.JumpOp()
	dst, err := e.regRead(ins.Dst)
	if err != nil {
		return 0, false, err
	}
	srcIsReg := info.Form == isa.FormCondReg
	var src reg
	if srcIsReg {
		s, err := e.regRead(ins.Src)
		if err != nil {
			return 0, false, err
		}
		src = *s
	} else if is32 {
		src = constScalar(uint64(uint32(ins.Imm)))
	} else {
		src = constScalar(uint64(int64(ins.Imm)))
	}
	target := e.insn + 1 + int(ins.Offset)
	fall := e.insn + 1
	switch branchTaken(dst, &src, jop, is32) {
	case 1:
		return target, true, nil
	case 0:
		return fall, true, nil
	}
	taken := e.st.clone()
	takenOK := refineBranch(taken, ins, jop, is32, true, srcIsReg, src, e)
	fallOK := refineBranch(e.st, ins, jop, is32, false, srcIsReg, src, e)
	switch {
	case takenOK && fallOK:
		if err := e.pushState(taken, target); err != nil {
			return 0, false, err
		}
		return fall, true, nil
	case takenOK:
		e.st = taken
		return target, true, nil
	case fallOK:
		return fall, true, nil
	}
	return 0, false, nil
}

// branchTaken decides a comparison from what is known (is_branch_taken):
// 1 always, 0 never, -1 either.
func branchTaken(a, b *reg, jop isa.JumpOp, is32 bool) int {
	if a.typ != scalarValue || b.typ != scalarValue {
		// A pointer that cannot be null is not 0.
		ptr, other := a, b
		if a.typ == scalarValue {
			ptr, other = b, a
		}
		// Linux's reg_not_null: only these pointers are known not to be 0.
		notNull := ptr.typ == ptrToMapValue || ptr.typ == ptrToMapKey || ptr.typ == ptrToMem
		if is32 || !notNull || ptr.mayBeNull() || !other.isNull() {
			return -1
		}
		switch jop {
		case isa.JumpEq:
			return 0
		case isa.JumpNE:
			return 1
		}
		return -1
	}
	va, vb := viewOf(&a.bounds, is32), viewOf(&b.bounds, is32)
	return va.taken(&vb, jop)
}

// view is one width of a scalar's bounds: the 64-bit ones, or the 32-bit
// ones widened to the same types, so that comparisons are written once.
type view struct {
	smin, smax int64
	umin, umax uint64
	t          tnum
	width      int
}

func viewOf(b *bounds, is32 bool) view {
	if is32 {
		return view{int64(b.s32min), int64(b.s32max), uint64(b.u32min), uint64(b.u32max), b.varOff.subreg(), 32}
	}
	return view{b.smin, b.smax, b.umin, b.umax, b.varOff, 64}
}

func (v *view) store(b *bounds) {
	if v.width == 32 {
		b.s32min, b.s32max = int32(v.smin), int32(v.smax)
		b.u32min, b.u32max = uint32(v.umin), uint32(v.umax)
		b.varOff = b.varOff.withSubreg(v.t)
	} else {
		b.smin, b.smax, b.umin, b.umax, b.varOff = v.smin, v.smax, v.umin, v.umax, v.t
	}
	b.sync()
}

func (v *view) isConst() bool { return v.t.isConst() }

func (v *view) limits() (smin, smax int64, umax uint64) {
	if v.width == 32 {
		return math.MinInt32, math.MaxInt32, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64, math.MaxUint64
}

// taken decides a OP b from the bounds.
func (a *view) taken(b *view, jop isa.JumpOp) int {
	switch jop {
	case isa.JumpEq:
		if a.isConst() && b.isConst() {
			return boolInt(a.t.value == b.t.value)
		}
		if a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin ||
			(a.t.value^b.t.value)&^(a.t.mask|b.t.mask) != 0 {
			return 0
		}
	case isa.JumpNE:
		if r := a.taken(b, isa.JumpEq); r >= 0 {
			return 1 - r
		}
	case isa.JumpSet:
		if a.t.value&b.t.value != 0 {
			return 1
		}
		if (a.t.value|a.t.mask)&(b.t.value|b.t.mask) == 0 {
			return 0
		}
	case isa.JumpGT:
		if a.umin > b.umax {
			return 1
		}
		if a.umax <= b.umin {
			return 0
		}
	case isa.JumpGE:
		if a.umin >= b.umax {
			return 1
		}
		if a.umax < b.umin {
			return 0
		}
	case isa.JumpLT:
		return b.taken(a, isa.JumpGT)
	case isa.JumpLE:
		return b.taken(a, isa.JumpGE)
	case isa.JumpSGT:
		if a.smin > b.smax {
			return 1
		}
		if a.smax <= b.smin {
			return 0
		}
	case isa.JumpSGE:
		if a.smin >= b.smax {
			return 1
		}
		if a.smax < b.smin {
			return 0
		}
	case isa.JumpSLT:
		return b.taken(a, isa.JumpSGT)
	case isa.JumpSLE:
		return b.taken(a, isa.JumpSGE)
	}
	return -1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// negate is the condition that holds when jop's does not; JumpSet's
// negation has no opcode and is handled apart.
func negate(jop isa.JumpOp) isa.JumpOp {
	switch jop {
	case isa.JumpEq:
		return isa.JumpNE
	case isa.JumpNE:
		return isa.JumpEq
	case isa.JumpGT:
		return isa.JumpLE
	case isa.JumpGE:
		return isa.JumpLT
	case isa.JumpLT:
		return isa.JumpGE
	case isa.JumpLE:
		return isa.JumpGT
	case isa.JumpSGT:
		return isa.JumpSLE
	case isa.JumpSGE:
		return isa.JumpSLT
	case isa.JumpSLT:
		return isa.JumpSGE
	case isa.JumpSLE:
		return isa.JumpSGT
	}
	return jop
}

// refineBranch narrows st by the outcome of the comparison (true for the
// jump, false for the fall-through) and reports whether that outcome can
// happen (reg_set_min_max, mark_ptr_or_null_regs, try_match_pkt_pointers).
func refineBranch(st *state, ins isa.Instruction, jop isa.JumpOp, is32, outcome, srcIsReg bool, imm reg, e *env) bool {
	f := st.cur()
	a := &f.regs[ins.Dst]
	b := &imm
	if srcIsReg {
		b = &f.regs[ins.Src]
	}
	// Null checks of pointers that may be null.
	if !is32 && (jop == isa.JumpEq || jop == isa.JumpNE) {
		if a.mayBeNull() && b.isNull() {
			markNull(st, a.id, (jop == isa.JumpEq) == outcome, e)
			return true
		}
		if srcIsReg && b.mayBeNull() && a.isNull() {
			markNull(st, b.id, (jop == isa.JumpEq) == outcome, e)
			return true
		}
	}
	if a.typ != scalarValue || b.typ != scalarValue {
		if !is32 {
			refinePacket(st, a, b, jop, outcome)
		}
		return true
	}
	va, vb := viewOf(&a.bounds, is32), viewOf(&b.bounds, is32)
	var ok bool
	if jop == isa.JumpSet {
		ok = refineSet(&va, &vb, outcome)
	} else {
		if !outcome {
			jop = negate(jop)
		}
		ok = refine(&va, &vb, jop)
	}
	if !ok {
		return false
	}
	va.store(&a.bounds)
	if a.empty() {
		return false
	}
	syncLinked(st, a)
	if srcIsReg {
		vb.store(&b.bounds)
		if b.empty() {
			return false
		}
		syncLinked(st, b)
	}
	return true
}

// refine narrows a and b so that a OP b holds; false if it cannot.
func refine(a, b *view, jop isa.JumpOp) bool {
	smin, smax, umax := a.limits()
	switch jop {
	case isa.JumpEq:
		lo, hi := max(a.umin, b.umin), min(a.umax, b.umax)
		slo, shi := max(a.smin, b.smin), min(a.smax, b.smax)
		if lo > hi || slo > shi {
			return false
		}
		t := a.t.intersect(b.t)
		*a = view{slo, shi, lo, hi, t, a.width}
		*b = *a
	case isa.JumpNE:
		excludeConst(a, b, smin, smax, umax)
		excludeConst(b, a, smin, smax, umax)
	case isa.JumpGT:
		if b.umin == umax || a.umax == 0 {
			return false
		}
		a.umin = max(a.umin, b.umin+1)
		b.umax = min(b.umax, a.umax-1)
	case isa.JumpGE:
		a.umin = max(a.umin, b.umin)
		b.umax = min(b.umax, a.umax)
	case isa.JumpLT:
		return refine(b, a, isa.JumpGT)
	case isa.JumpLE:
		return refine(b, a, isa.JumpGE)
	case isa.JumpSGT:
		if b.smin == smax || a.smax == smin {
			return false
		}
		a.smin = max(a.smin, b.smin+1)
		b.smax = min(b.smax, a.smax-1)
	case isa.JumpSGE:
		a.smin = max(a.smin, b.smin)
		b.smax = min(b.smax, a.smax)
	case isa.JumpSLT:
		return refine(b, a, isa.JumpSGT)
	case isa.JumpSLE:
		return refine(b, a, isa.JumpSGE)
	}
	return a.umin <= a.umax && a.smin <= a.smax && b.umin <= b.umax && b.smin <= b.smax
}

// excludeConst removes the constant c (if it is one) from the ends of a's ranges.
func excludeConst(a, c *view, smin, smax int64, umax uint64) {
	if !c.isConst() {
		return
	}
	u, s := c.umin, c.smin
	if a.umin == u && u != umax {
		a.umin++
	}
	if a.umax == u && u != 0 {
		a.umax--
	}
	if a.smin == s && s != smax {
		a.smin++
	}
	if a.smax == s && s != smin {
		a.smax--
	}
}

// refineSet narrows a by `a & b` being non-zero (outcome) or zero.
func refineSet(a, b *view, outcome bool) bool {
	if !b.isConst() {
		return true
	}
	c := b.t.value
	if outcome {
		if c&(c-1) == 0 && c != 0 {
			// One bit: it is set.
			a.t = a.t.or(tnumConst(c))
		}
		return true
	}
	a.t = a.t.and(tnumConst(^c))
	if a.width == 32 {
		a.t = a.t.subreg()
	}
	return true
}

// syncLinked copies r's refined bounds to every register and spilled slot
// tied to it (sync_linked_regs).
func syncLinked(st *state, r *reg) {
	if r.id == 0 || r.typ != scalarValue {
		return
	}
	forEachReg(st, func(x *reg) {
		if x == r || x.typ != scalarValue || x.id != r.id {
			return
		}
		if x.off == r.off {
			x.bounds = r.bounds
			return
		}
		// x = r + (x.off - r.off), wrapping like the machine.
		d := constBounds(uint64(int64(x.off) - int64(r.off)))
		b := addBounds(&r.bounds, &d)
		b.sync()
		if nb := x.bounds; nb.intersectWith(&b) {
			x.bounds = nb
		}
	})
}

// forEachReg calls fn on every register and spilled register of every frame.
func forEachReg(st *state, fn func(*reg)) {
	for _, f := range st.frames {
		for i := range f.regs {
			fn(&f.regs[i])
		}
		for i := range f.stack {
			if f.stack[i].isSpill() {
				fn(&f.stack[i].spilled)
			}
		}
	}
}

// markNull settles every copy of a pointer that may be null, by id: null
// (a scalar 0, whose reference, if any, was never acquired) or not
// (mark_ptr_or_null_regs).
func markNull(st *state, id uint32, isNull bool, e *env) {
	if id == 0 {
		return
	}
	var refID uint32
	forEachReg(st, func(x *reg) {
		if x.id != id || !x.mayBeNull() {
			return
		}
		if isNull {
			if x.refID != 0 {
				refID = x.refID
			}
			*x = constScalar(0)
			return
		}
		x.flags &^= maybeNull
		if x.typ == ptrToMapValue && x.m.isMapOfMaps() {
			// What a map of maps holds is a map.
			inner := x.m.Inner
			*x = pointer(constPtrToMap)
			x.m = inner
		}
	})
	if isNull && refID != 0 {
		st.release(refID)
	}
}

// refinePacket learns from comparing packet pointers with the end of the
// packet (or metadata pointers with the start of the data) how many bytes
// are safe to access (find_good_pkt_pointers).
func refinePacket(st *state, a, b *reg, jop isa.JumpOp, outcome bool) {
	if !outcome {
		jop = negate(jop)
	}
	// Normalise to x < y or x <= y.
	x, y := a, b
	strict := false
	switch jop {
	case isa.JumpLT:
		strict = true
	case isa.JumpLE:
	case isa.JumpGT:
		x, y, strict = b, a, true
	case isa.JumpGE:
		x, y = b, a
	default:
		return
	}
	switch {
	case x.typ == ptrToPacket && y.typ == ptrToPacketEnd:
	case x.typ == ptrToPacketMeta && y.typ == ptrToPacket && y.off == 0 && !y.hasVarOff():
	default:
		return
	}
	if x.off < 0 || x.umax > maxPacketOff || x.umax+uint64(x.off) > maxPacketOff {
		return
	}
	newRange := x.off
	if strict {
		newRange++
	}
	typ, id := x.typ, x.id
	forEachReg(st, func(r *reg) {
		if r.typ == typ && r.id == id {
			r.rng = max(r.rng, newRange)
		}
	})
}
