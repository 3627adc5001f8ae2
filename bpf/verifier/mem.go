package verifier

import (
	"math"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// accessKind says what a memory access does; Linux's enum bpf_access_type
// plus the atomic read-modify-write.
type accessKind uint8

const (
	accessRead accessKind = iota
	accessWrite
	accessAtomic // read then write
)

func (k accessKind) writes() bool { return k != accessRead }
func (k accessKind) reads() bool  { return k != accessWrite }

// memAccess is one access: size bytes at ptr + off, from an instruction
// (the value stored, when known, for the stack to remember).
type memAccess struct {
	regno  isa.Register
	ptr    *reg
	off    int // the instruction's offset
	size   int
	kind   accessKind
	value  *reg // stored value (nil: unknown data)
	signed bool // sign-extending load
}

// widthScalar is an unknown value of size bytes, zero- or sign-extended.
func widthScalar(size int, signed bool) reg {
	if size >= 8 {
		return unknownScalar()
	}
	bitsN := uint(8 * size)
	if signed {
		b := unknownBounds()
		b.smin, b.smax = -1<<(bitsN-1), 1<<(bitsN-1)-1
		b.sync()
		return scalarReg(b)
	}
	return scalarReg(rangeBounds(0, 1<<bitsN-1))
}

// truncate is what a load of the low size bytes of a value v finds.
func truncate(v *reg, size int, signed bool) reg {
	if size >= 8 {
		return *v
	}
	if v.typ != scalarValue {
		return widthScalar(size, signed)
	}
	bitsN := uint(8 * size)
	if v.isConst() {
		x := v.constValue() & (1<<bitsN - 1)
		if signed && x&(1<<(bitsN-1)) != 0 {
			x |= math.MaxUint64 << bitsN
		}
		return constScalar(x)
	}
	if !signed && v.umax < 1<<bitsN {
		r := *v
		r.id, r.off = 0, 0
		return r
	}
	return widthScalar(size, signed)
}

// checkMemAccess checks one access and, for a read, returns the value
// loaded (check_mem_access).
func (e *env) checkMemAccess(a memAccess) (reg, error) {
	p := a.ptr
	if p.mayBeNull() || (p.typ != ptrToStack && p.typ != ptrToMapValue && p.typ != ptrToMapKey &&
		p.typ != ptrToMem && p.typ != ptrToCtx && !p.isPacket()) {
		return reg{}, e.fail(linux.EACCES, "R%d invalid mem access '%s'", a.regno, p.typeName())
	}
	if a.kind == accessAtomic && (p.typ == ptrToCtx || p.isPacket()) {
		return reg{}, e.fail(linux.EACCES, "BPF_ATOMIC stores into R%d %s is not allowed", a.regno, p.typeName())
	}
	if a.kind.writes() && p.flags&memRdonly != 0 {
		return reg{}, e.fail(linux.EACCES, "R%d cannot write into %s", a.regno, p.typeName())
	}
	if err := e.recordPtrType(p.typ); err != nil {
		return reg{}, err
	}
	switch p.typ {
	case ptrToStack:
		return e.checkStackAccess(a)
	case ptrToMapValue:
		return e.checkMapValueAccess(a)
	case ptrToMapKey:
		if a.kind.writes() {
			return reg{}, e.fail(linux.EACCES, "write to change key R%d not allowed", a.regno)
		}
		return widthScalar(a.size, a.signed), e.checkRegion(a, int(p.m.KeySize), "map key")
	case ptrToMem:
		return widthScalar(a.size, a.signed), e.checkRegion(a, int(p.size), "memory")
	case ptrToCtx:
		return e.checkCtxAccess(a)
	}
	return e.checkPacketAccess(a)
}

// recordPtrType remembers the kind of pointer a memory instruction uses: an
// instruction that reaches the context on one path may not reach other
// memory on another, since context accesses are rewritten (Linux's
// "same insn cannot be used with different pointers").
func (e *env) recordPtrType(t regType) error {
	aux := &e.aux[e.insn]
	if aux.ptrType == notInit {
		aux.ptrType = t
		return nil
	}
	if (aux.ptrType == ptrToCtx) != (t == ptrToCtx) && e.ctxRewrites() {
		return e.fail(linux.EINVAL, "same insn cannot be used with different pointers")
	}
	return nil
}

// ctxRewrites reports whether context accesses are rewritten for this type.
func (e *env) ctxRewrites() bool { return e.opts.ProgType == linux.BPF_PROG_TYPE_XDP }

// checkRegion checks an access within a region of limit bytes, with a
// variable offset allowed (check_mem_region_access).
func (e *env) checkRegion(a memAccess, limit int, what string) error {
	p := a.ptr
	off := int64(p.off) + int64(a.off)
	if p.smin < 0 && (p.smin == math.MinInt64 || off+p.smin != int64(int32(off+p.smin)) || p.smin+off < 0) {
		return e.fail(linux.EACCES, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", a.regno)
	}
	if err := e.checkBytes(off+p.smin, a.size, limit, what); err != nil {
		return e.fail(linux.EACCES, "R%d min value is outside of the allowed memory range", a.regno)
	}
	if p.umax >= maxVarOff {
		return e.fail(linux.EACCES, "R%d unbounded memory access, make sure to bounds check any such access", a.regno)
	}
	if err := e.checkBytes(off+int64(p.umax), a.size, limit, what); err != nil {
		return e.fail(linux.EACCES, "R%d max value is outside of the allowed memory range", a.regno)
	}
	return nil
}

// checkBytes checks [off, off+size) against [0, limit) (__check_mem_access).
func (e *env) checkBytes(off int64, size, limit int, what string) error {
	if off >= 0 && off+int64(size) <= int64(limit) {
		return nil
	}
	switch what {
	case "map value":
		return e.fail(linux.EACCES, "invalid access to map value, value_size=%d off=%d size=%d", limit, off, size)
	case "map key":
		return e.fail(linux.EACCES, "invalid access to map key, key_size=%d off=%d size=%d", limit, off, size)
	case "context":
		return e.fail(linux.EACCES, "invalid bpf_context access off=%d size=%d", off, size)
	}
	return e.fail(linux.EACCES, "invalid access to memory, mem_size=%d off=%d size=%d", limit, off, size)
}

func (e *env) checkMapValueAccess(a memAccess) (reg, error) {
	m := a.ptr.m
	off := int(a.ptr.off) + a.off
	if a.kind.writes() && m.readOnlyProg() {
		return reg{}, e.fail(linux.EACCES, "write into map forbidden, value_size=%d off=%d size=%d", m.ValueSize, off, a.size)
	}
	if a.kind.reads() && m.writeOnlyProg() {
		return reg{}, e.fail(linux.EACCES, "read from map forbidden, value_size=%d off=%d size=%d", m.ValueSize, off, a.size)
	}
	if err := e.checkRegion(a, int(m.ValueSize), "map value"); err != nil {
		return reg{}, err
	}
	if a.kind == accessRead && m.constant() && !a.ptr.hasVarOff() {
		v := constScalar(m.readConstant(off, a.size))
		return truncate(&v, a.size, a.signed), nil
	}
	return widthScalar(a.size, a.signed), nil
}

// checkCtxAccess checks a context access against the program type's rules
// (check_ctx_access) and returns what a load gives.
func (e *env) checkCtxAccess(a memAccess) (reg, error) {
	p := a.ptr
	if e.ctx.flat {
		if err := e.checkRegion(a, e.ctx.size, "context"); err != nil {
			return reg{}, err
		}
		return widthScalar(a.size, a.signed), nil
	}
	if p.off != 0 {
		return reg{}, e.fail(linux.EACCES, "dereference of modified ctx ptr R%d off=%d disallowed", a.regno, p.off)
	}
	if p.hasVarOff() {
		return reg{}, e.fail(linux.EACCES, "variable ctx access var_off=%s off=%d size=%d", p.varOff, a.off, a.size)
	}
	acc := e.ctx.access(a.off, a.size, a.kind.writes())
	if !acc.ok || (a.signed && acc.result != scalarValue) {
		return reg{}, e.fail(linux.EACCES, "invalid bpf_context access off=%d size=%d", a.off, a.size)
	}
	e.aux[e.insn].ctx = acc
	e.maxCtxOff = max(e.maxCtxOff, a.off+a.size)
	if acc.result != scalarValue {
		return pointer(acc.result), nil
	}
	return widthScalar(a.size, a.signed), nil
}

// checkPacketAccess checks a direct packet access against the range the
// program proved by comparing with pkt_end (check_packet_access).
func (e *env) checkPacketAccess(a memAccess) (reg, error) {
	p := a.ptr
	if a.kind.writes() && !e.ctx.packetWrite {
		return reg{}, e.fail(linux.EACCES, "cannot write into packet")
	}
	if p.smin < 0 {
		return reg{}, e.fail(linux.EACCES, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", a.regno)
	}
	off := int(p.off) + a.off
	if off < 0 || off+a.size > int(p.rng) {
		e.verbose("invalid access to packet, off=%d size=%d, R%d(id=%d,off=%d,r=%d)\n", off, a.size, a.regno, p.id, p.off, p.rng)
		return reg{}, e.fail(linux.EACCES, "R%d offset is outside of the packet", a.regno)
	}
	return widthScalar(a.size, a.signed), nil
}

// checkAlignment refuses an access whose address may not be a multiple of
// its size (check_ptr_alignment). Linux checks the stack always, and every
// pointer for atomics, load-acquire and store-release, which the
// interpreter performs with the CPU's atomic instructions.
func (e *env) checkAlignment(a memAccess) error {
	p := a.ptr
	addr := p.varOff.add(tnumConst(uint64(int64(p.off) + int64(a.off))))
	if addr.isAligned(uint64(a.size)) {
		return nil
	}
	desc := ""
	switch p.typ {
	case ptrToStack:
		desc = "stack "
	case ptrToMapValue:
		desc = "value "
	case ptrToCtx:
		desc = "context "
	case ptrToPacket, ptrToPacketMeta:
		return e.fail(linux.EACCES, "misaligned packet access off %d+%s+%d+%d size %d", 0, p.varOff, p.off, a.off, a.size)
	}
	return e.fail(linux.EACCES, "misaligned %saccess off %s+%d+%d size %d", desc, p.varOff, p.off, a.off, a.size)
}

// stackFrame is the frame a stack pointer points into.
func (e *env) stackFrame(p *reg) *funcState { return e.st.frames[p.frame] }

// noteStackDepth records how deep a frame's stack was touched.
func (e *env) noteStackDepth(f *funcState, minOff int) {
	sp := &e.subprogs[f.subprog]
	sp.stackDepth = max(sp.stackDepth, -minOff)
}

// checkStackAccess checks and performs an access to a frame's stack
// (check_stack_read, check_stack_write, with the fixed and variable offset
// cases of Linux).
func (e *env) checkStackAccess(a memAccess) (reg, error) {
	p := a.ptr
	f := e.stackFrame(p)
	off := int(p.off) + a.off
	dir := " read from"
	if a.kind.writes() {
		dir = " write to"
	}
	if p.hasVarOff() {
		if p.smax >= maxVarOff || p.smin <= -maxVarOff {
			return reg{}, e.fail(linux.EACCES, "invalid unbounded variable-offset%s stack R%d", dir, a.regno)
		}
		lo := int(p.smin) + off
		hi := int(p.smax) + off + a.size
		if lo < -StackSize || hi > 0 {
			return reg{}, e.fail(linux.EACCES, "invalid variable-offset%s stack R%d var_off=%s size=%d", dir, a.regno, p.varOff, a.size)
		}
		return e.stackRange(f, int(p.frame), lo, hi, a)
	}
	off += int(p.varOff.value)
	if off < -StackSize || off+a.size > 0 {
		return reg{}, e.fail(linux.EACCES, "invalid%s stack R%d off=%d size=%d", dir, a.regno, off, a.size)
	}
	// Spill tracking relies on aligned stack accesses, so Linux always
	// checks their alignment (check_ptr_alignment).
	if err := e.checkAlignment(a); err != nil {
		return reg{}, err
	}
	e.noteStackDepth(f, off)
	frameNo := int(p.frame)
	if a.kind == accessWrite && a.value != nil && a.value.isPointer() {
		// A pointer is spilled whole, and a pointer to a stack never
		// lands in another frame, where it could outlive its own
		// (check_stack_write_fixed_off).
		if a.size != slotSize {
			return reg{}, e.fail(linux.EACCES, "invalid size of register spill")
		}
		if frameNo != len(e.st.frames)-1 && a.value.typ == ptrToStack {
			return reg{}, e.fail(linux.EINVAL, "cannot spill pointers to stack into stack frame of the caller")
		}
	}
	if a.kind.reads() {
		v, err := e.stackRead(f, frameNo, off, a)
		if err != nil || a.kind == accessRead {
			return v, err
		}
		// An atomic leaves data whose value nobody knows.
		a.value = nil
	}
	e.stackWrite(f, frameNo, off, a.size, a.value)
	return reg{}, nil
}

// stackRead loads size bytes at a fixed offset (check_stack_read_fixed_off).
func (e *env) stackRead(f *funcState, frameNo, off int, a memAccess) (reg, error) {
	s := f.peekSlot(off)
	slotIndex := (-off - 1) / slotSize
	e.markSlotRead(frameNo, slotIndex)
	if s != nil && s.isSpill() {
		within := off - (-(slotIndex + 1) * slotSize)
		if a.size == slotSize {
			v := s.spilled
			return v, nil
		}
		if within == 0 {
			return truncate(&s.spilled, a.size, a.signed), nil
		}
		if s.spilled.typ == scalarValue && s.spilled.isConst() {
			shifted := constScalar(s.spilled.constValue() >> (8 * within))
			return truncate(&shifted, a.size, a.signed), nil
		}
		return widthScalar(a.size, a.signed), nil
	}
	zero := true
	for i := 0; i < a.size; i++ {
		k := stackInvalid
		if s != nil {
			k = s.kinds[(off+i)-(-(slotIndex+1)*slotSize)]
		}
		switch k {
		case stackInvalid:
			if e.opts.StrictStackReads {
				return reg{}, e.fail(linux.EACCES, "invalid read from stack off %d+%d size %d", off, i, a.size)
			}
			zero = false
		case stackMisc, stackSpill:
			zero = false
		}
	}
	if zero {
		return constScalar(0), nil
	}
	return widthScalar(a.size, a.signed), nil
}

// stackWrite stores size bytes at a fixed offset: an aligned 8-byte store
// of a known value spills it; anything else leaves data (or zero) bytes,
// and destroys what was spilled in the slot (check_stack_write_fixed_off).
func (e *env) stackWrite(f *funcState, frameNo, off, size int, value *reg) {
	slotIndex := (-off - 1) / slotSize
	s := f.slot(off)
	if size == slotSize && value != nil {
		s.spilled = *value
		for i := range s.kinds {
			s.kinds[i] = stackSpill
		}
		e.markSlotWritten(frameNo, slotIndex)
		return
	}
	if s.isSpill() {
		for i := range s.kinds {
			s.kinds[i] = stackMisc
		}
		s.spilled = reg{}
	}
	kind := stackMisc
	if value != nil && value.isNull() {
		kind = stackZero
	}
	base := -(slotIndex + 1) * slotSize
	for i := 0; i < size; i++ {
		s.kinds[off+i-base] = kind
	}
	if size == slotSize {
		e.markSlotWritten(frameNo, slotIndex)
	}
}

// stackRange checks and performs an access at a variable offset, whose
// bytes lie somewhere in [lo, hi) (check_stack_read_var_off,
// check_stack_write_var_off).
func (e *env) stackRange(f *funcState, frameNo, lo, hi int, a memAccess) (reg, error) {
	e.noteStackDepth(f, lo)
	if a.kind.reads() {
		for off := lo; off < hi; off++ {
			s := f.peekSlot(off)
			e.markSlotRead(frameNo, (-off-1)/slotSize)
			k := stackInvalid
			if s != nil {
				k = s.kinds[off-(-((-off-1)/slotSize+1)*slotSize)]
			}
			if k == stackInvalid && e.opts.StrictStackReads {
				return reg{}, e.fail(linux.EACCES, "invalid variable-offset read from stack R%d var_off=%s off=%d size=%d",
					a.regno, a.ptr.varOff, a.off, a.size)
			}
		}
		if a.kind == accessRead {
			return widthScalar(a.size, a.signed), nil
		}
	}
	zero := a.kind == accessWrite && a.value != nil && a.value.isNull()
	for off := lo; off < hi; off++ {
		s := f.slot(off)
		if s.isSpill() {
			for i := range s.kinds {
				s.kinds[i] = stackMisc
			}
			s.spilled = reg{}
		}
		j := off - (-((-off-1)/slotSize + 1) * slotSize)
		if !(zero && s.kinds[j] == stackZero) {
			s.kinds[j] = stackMisc
		}
	}
	return reg{}, nil
}

// checkLoad is LDX (and load-acquire): dst = *(size *)(src + off).
func (e *env) checkLoad(ins isa.Instruction, op isa.Op) error {
	src, err := e.regRead(ins.Src)
	if err != nil {
		return err
	}
	if _, err := e.regWrite(ins.Dst); err != nil {
		return err
	}
	info := op.Info()
	ptr := *src
	a := memAccess{regno: ins.Src, ptr: &ptr, off: int(ins.Offset), size: info.Width(),
		kind: accessRead, signed: info.Opcode.Mode() == isa.ModeMemSX}
	if op >= isa.OpLoadAcquireB && op <= isa.OpLoadAcquireDW {
		if src.typ == ptrToCtx || src.isPacket() {
			return e.fail(linux.EACCES, "BPF_ATOMIC loads from R%d %s is not allowed", ins.Src, src.typeName())
		}
		if src.isPointer() {
			if err := e.checkAlignment(a); err != nil {
				return err
			}
		}
	}
	v, err := e.checkMemAccess(a)
	if err != nil {
		return err
	}
	return e.setReg(ins.Dst, v)
}

// checkStore is ST, STX (and store-release): *(size *)(dst + off) = src or imm.
func (e *env) checkStore(ins isa.Instruction, op isa.Op) error {
	dst, err := e.regRead(ins.Dst)
	if err != nil {
		return err
	}
	info := op.Info()
	var value reg
	if info.Form == isa.FormStoreImm {
		value = constScalar(uint64(int64(ins.Imm)))
	} else {
		src, err := e.regRead(ins.Src)
		if err != nil {
			return err
		}
		if dst.typ == ptrToStack && info.Width() == slotSize && src.typ == scalarValue && src.id == 0 && !src.isConst() {
			// The register and its spill are tied, so that a bound learnt
			// on one holds for the other (Linux 6.8's
			// assign_scalar_id_before_mov on spills).
			src.id = e.newID()
		}
		value = *src
	}
	size := info.Width()
	if size < slotSize && value.typ == scalarValue {
		value = truncate(&value, size, false)
	}
	ptr := *dst
	a := memAccess{regno: ins.Dst, ptr: &ptr, off: int(ins.Offset), size: size, kind: accessWrite, value: &value}
	if op >= isa.OpStoreReleaseB && op <= isa.OpStoreReleaseDW {
		if dst.typ == ptrToCtx || dst.isPacket() {
			return e.fail(linux.EACCES, "BPF_ATOMIC stores into R%d %s is not allowed", ins.Dst, dst.typeName())
		}
		if dst.isPointer() {
			if err := e.checkAlignment(a); err != nil {
				return err
			}
		}
	}
	_, err = e.checkMemAccess(a)
	return err
}

// checkAtomic is an atomic read-modify-write (check_atomic): 32 or 64 bits,
// on the stack, a map value or helper memory; the fetching forms write the
// old value to src (r0 for cmpxchg).
func (e *env) checkAtomic(ins isa.Instruction, op isa.Op) error {
	info := op.Info()
	if _, err := e.regRead(ins.Src); err != nil {
		return err
	}
	if op == isa.OpAtomicCmpXchg32 || op == isa.OpAtomicCmpXchg64 {
		if _, err := e.regRead(isa.R0); err != nil {
			return err
		}
	}
	dst, err := e.regRead(ins.Dst)
	if err != nil {
		return err
	}
	ptr := *dst
	size := info.Width()
	a := memAccess{regno: ins.Dst, ptr: &ptr, off: int(ins.Offset), size: size, kind: accessAtomic}
	if dst.isPointer() && dst.typ != ptrToCtx && !dst.isPacket() {
		if err := e.checkAlignment(a); err != nil {
			return err
		}
	}
	old, err := e.checkMemAccess(a)
	if err != nil {
		return err
	}
	if old.typ == notInit {
		old = widthScalar(size, false)
	}
	if old.typ != scalarValue {
		// A spilled pointer read back by an atomic is only a number now.
		old = widthScalar(size, false)
	}
	switch {
	case op == isa.OpAtomicCmpXchg32 || op == isa.OpAtomicCmpXchg64:
		return e.setReg(isa.R0, widthScalar(size, false))
	case info.Flags&isa.WritesSrc != 0:
		return e.setReg(ins.Src, widthScalar(size, false))
	}
	return nil
}
