package btf

import (
	"fmt"

	"hachi/syscall/linux"
)

// The resolve pass (Linux's pass #2): follow every reference depth-first
// from each type that has some, proving that it exists, that it leads to
// something with a size where one is needed, and that it does not loop back.

// Visit states of a type during the resolve pass.
const (
	notVisited = iota
	visited
	resolved
)

// resolveMode narrows what ends a walk: a pointer ends at anything but
// another pointer or modifier; a struct or array at anything but a modifier,
// struct or array.
type resolveMode int

const (
	resolveTBD resolveMode = iota
	resolvePtr
	resolveStructOrArray
)

// vertex is one entry of the resolve stack (struct resolve_vertex).
type vertex struct {
	t          Type
	nextMember int
}

// errLoop and errDepth are env_stack_push's failures; Linux returns them to
// the user as EEXIST and E2BIG.
var (
	errLoop  = linux.EEXIST
	errDepth = linux.E2BIG
)

func (e *env) typeByID(id uint32) (Type, bool) { return e.s.TypeByID(TypeID(id)) }

// isSink is env_type_is_resolve_sink.
func (e *env) isSink(next Type) bool {
	k := next.Kind()
	switch e.mode {
	case resolvePtr:
		return !isModifier(k) && k != linux.BTF_KIND_PTR
	case resolveStructOrArray:
		return !isModifier(k) && k != linux.BTF_KIND_ARRAY && !isStruct(k)
	}
	return !needsResolve(k)
}

// isResolved is env_type_is_resolved.
func (e *env) isResolved(id uint32) bool { return e.visit[id] == resolved }

// push is env_stack_push.
func (e *env) push(t Type) error {
	if e.top == maxResolveDepth {
		return errDepth
	}
	if e.visit[t.id] != notVisited {
		return errLoop
	}
	e.visit[t.id] = visited
	e.stack[e.top] = vertex{t: t}
	e.top++
	if e.mode == resolveTBD {
		switch k := t.Kind(); {
		case k == linux.BTF_KIND_PTR:
			e.mode = resolvePtr
		case isStruct(k) || k == linux.BTF_KIND_ARRAY:
			e.mode = resolveStructOrArray
		}
	}
	return nil
}

// popResolved is env_stack_pop_resolved.
func (e *env) popResolved(resolvedID, size uint32) {
	e.top--
	id := e.stack[e.top].t.id
	e.s.resolvedIDs[id] = resolvedID
	e.s.resolvedSizes[id] = size
	e.visit[id] = resolved
}

// checkAllTypes is btf_check_all_types.
func (e *env) checkAllTypes() error {
	n := len(e.s.offs)
	e.s.resolvedIDs = make([]uint32, n)
	e.s.resolvedSizes = make([]uint32, n)
	e.visit = make([]uint8, n)
	e.phase = phaseCheckType
	for id := 1; id < n; id++ {
		t, _ := e.typeByID(uint32(id))
		e.logTypeID = uint32(id)
		if needsResolve(t.Kind()) && !e.isResolved(uint32(id)) {
			if err := e.resolve(t); err != nil {
				return err
			}
		}
		if t.Kind() == linux.BTF_KIND_FUNC_PROTO {
			if err := e.checkFuncProto(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve is btf_resolve: run the resolve walk from t.
func (e *env) resolve(t Type) error {
	saved := e.logTypeID
	e.mode = resolveTBD
	// The start type is unvisited: push cannot fail here.
	_ = e.push(t)
	var err error
	for err == nil && e.top > 0 {
		v := &e.stack[e.top-1]
		e.logTypeID = uint32(v.t.id)
		err = e.resolveOne(v)
	}
	e.logTypeID = uint32(t.id)
	switch err {
	case errDepth:
		e.logType(t, true, fmt.Sprintf("Exceeded max resolving depth:%d", maxResolveDepth))
	case errLoop:
		e.logType(t, true, "Loop detected")
	}
	if err == nil && !e.resolveValid(t) {
		e.logType(t, true, "Invalid resolve state")
		err = linux.EINVAL
	}
	e.logTypeID = saved
	return err
}

// resolveOne runs the kind's resolve operation on the top of the stack.
func (e *env) resolveOne(v *vertex) error {
	switch k := v.t.Kind(); {
	case isModifier(k):
		return e.resolveRef(v.t, false)
	case k == linux.BTF_KIND_PTR:
		return e.resolveRef(v.t, true)
	case k == linux.BTF_KIND_VAR:
		return e.resolveVar(v.t)
	case k == linux.BTF_KIND_ARRAY:
		return e.resolveArray(v.t)
	case isStruct(k):
		return e.resolveStruct(v)
	case k == linux.BTF_KIND_DATASEC:
		return e.resolveDatasec(v)
	case k == linux.BTF_KIND_FUNC:
		if err := e.checkFunc(v.t); err != nil {
			return err
		}
		e.popResolved(uint32(v.t.Ref()), 0)
		return nil
	case k == linux.BTF_KIND_DECL_TAG:
		return e.resolveDeclTag(v.t)
	}
	e.logType(v.t, false, "Unsupported resolve")
	return linux.EINVAL
}

// resolvedTarget follows a resolved modifier/var to what it resolved to
// (btf_type_id_resolve).
func (e *env) resolvedTarget(id uint32) (Type, uint32) {
	rid := e.s.resolvedIDs[id]
	t, _ := e.typeByID(rid)
	return t, rid
}

// resolveRef is btf_modifier_resolve (isPtr false) and btf_ptr_resolve.
func (e *env) resolveRef(t Type, isPtr bool) error {
	nextID := uint32(t.Ref())
	next, ok := e.typeByID(nextID)
	if !ok || isResolveSourceOnly(next.Kind()) {
		return e.fail(t, "Invalid type_id")
	}
	if !e.isSink(next) && !e.isResolved(nextID) {
		return e.push(next)
	}
	if isPtr && isModifier(next.Kind()) {
		// A modifier resolved while walking a struct or array may have
		// stopped at a pointer; continue from that pointer so that it cannot
		// lead back here.
		rt, rid := e.resolvedTarget(nextID)
		if rt.Kind() == linux.BTF_KIND_PTR && !e.isSink(rt) && !e.isResolved(rid) {
			return e.push(rt)
		}
	}
	sized, sizedID, _ := e.s.idSize(nextID)
	if sized {
		nextID = sizedID
	} else {
		if e.isResolved(nextID) {
			next, nextID = e.resolvedTarget(nextID)
		}
		// "typedef void new_void", "const void", pointers to incomplete
		// structs and to functions are fine; anything else is not.
		if k := next.Kind(); k != linux.BTF_KIND_UNKN && k != linux.BTF_KIND_FWD && k != linux.BTF_KIND_FUNC_PROTO {
			return e.fail(t, "Invalid type_id")
		}
	}
	e.popResolved(nextID, 0)
	return nil
}

// resolveVar is btf_var_resolve.
func (e *env) resolveVar(t Type) error {
	nextID := uint32(t.Ref())
	next, ok := e.typeByID(nextID)
	if !ok || isResolveSourceOnly(next.Kind()) {
		return e.fail(t, "Invalid type_id")
	}
	if !e.isSink(next) && !e.isResolved(nextID) {
		return e.push(next)
	}
	if isModifier(next.Kind()) {
		rt, rid := e.resolvedTarget(nextID)
		if rt.Kind() == linux.BTF_KIND_PTR && !e.isSink(rt) && !e.isResolved(rid) {
			return e.push(rt)
		}
	}
	// A variable must have a concrete size: no FWD, no void.
	sized, sizedID, _ := e.s.idSize(nextID)
	if !sized {
		return e.fail(t, "Invalid type_id")
	}
	e.popResolved(sizedID, 0)
	return nil
}

// resolveArray is btf_array_resolve.
func (e *env) resolveArray(t Type) error {
	a := t.Array()
	index, ok := e.typeByID(a.IndexType)
	if !ok || index.noSize() || isResolveSourceOnly(index.Kind()) {
		return e.fail(t, "Invalid index")
	}
	if !e.isSink(index) && !e.isResolved(a.IndexType) {
		return e.push(index)
	}
	if sized, id, _ := e.s.idSize(a.IndexType); !sized {
		return e.fail(t, "Invalid index")
	} else if it, _ := e.typeByID(id); it.Kind() != linux.BTF_KIND_INT || !it.isRegularInt() {
		return e.fail(t, "Invalid index")
	}
	elem, ok := e.typeByID(a.Type)
	if !ok || elem.noSize() || isResolveSourceOnly(elem.Kind()) {
		return e.fail(t, "Invalid elem")
	}
	if !e.isSink(elem) && !e.isResolved(a.Type) {
		return e.push(elem)
	}
	sized, elemID, elemSize := e.s.idSize(a.Type)
	if !sized {
		return e.fail(t, "Invalid elem")
	}
	if et, _ := e.typeByID(elemID); et.Kind() == linux.BTF_KIND_INT && !et.isRegularInt() {
		return e.fail(t, "Invalid array of int")
	}
	if a.Nelems != 0 && elemSize > ^uint32(0)/a.Nelems {
		return e.fail(t, "Array size overflows U32_MAX")
	}
	e.popResolved(elemID, elemSize*a.Nelems)
	return nil
}

// resolveStruct is btf_struct_resolve: members are resolved one at a time,
// the walk returning here after each pushed member type.
func (e *env) resolveStruct(v *vertex) error {
	t := v.t
	if v.nextMember > 0 {
		i := v.nextMember - 1
		m := t.rawMember(i)
		mt, _ := e.typeByID(m.Type)
		if !e.isResolved(m.Type) {
			return linux.EINVAL // WARN_ON_ONCE in Linux: cannot happen
		}
		if err := e.checkMember(t, i, mt); err != nil {
			return err
		}
	}
	for i := v.nextMember; i < t.Vlen(); i++ {
		m := t.rawMember(i)
		mt, ok := e.typeByID(m.Type)
		if !ok || mt.noSize() || isResolveSourceOnly(mt.Kind()) {
			e.logMember(t, i, "Invalid member")
			return linux.EINVAL
		}
		if !e.isSink(mt) && !e.isResolved(m.Type) {
			v.nextMember = i + 1
			return e.push(mt)
		}
		if err := e.checkMember(t, i, mt); err != nil {
			return err
		}
	}
	e.popResolved(0, 0)
	return nil
}

// resolveDatasec is btf_datasec_resolve.
func (e *env) resolveDatasec(v *vertex) error {
	t := v.t
	for i := v.nextMember; i < t.Vlen(); i++ {
		vsi := t.VarSecinfo(i)
		vt, ok := e.typeByID(vsi.Type)
		if !ok || vt.Kind() != linux.BTF_KIND_VAR {
			e.logVsi(t, i, "Not a VAR kind member")
			return linux.EINVAL
		}
		if !e.isSink(vt) && !e.isResolved(vsi.Type) {
			v.nextMember = i + 1
			return e.push(vt)
		}
		sized, _, size := e.s.idSize(uint32(vt.Ref()))
		if !sized {
			e.logVsi(t, i, "Invalid type")
			return linux.EINVAL
		}
		if vsi.Size < size {
			e.logVsi(t, i, "Invalid size")
			return linux.EINVAL
		}
	}
	e.popResolved(0, 0)
	return nil
}

// resolveDeclTag is btf_decl_tag_resolve.
func (e *env) resolveDeclTag(t Type) error {
	nextID := uint32(t.Ref())
	next, ok := e.typeByID(nextID)
	k := next.Kind()
	if !ok || !(k == linux.BTF_KIND_FUNC || isStruct(k) || k == linux.BTF_KIND_VAR || k == linux.BTF_KIND_TYPEDEF) {
		return e.fail(t, "Invalid type_id")
	}
	if !e.isSink(next) && !e.isResolved(nextID) {
		return e.push(next)
	}
	if idx := t.ComponentIdx(); idx != -1 {
		if k == linux.BTF_KIND_VAR || k == linux.BTF_KIND_TYPEDEF {
			return e.fail(t, "Invalid component_idx")
		}
		vlen := next.Vlen()
		if !isStruct(k) {
			proto, _ := e.typeByID(uint32(next.Ref()))
			vlen = proto.Vlen()
		}
		if uint32(idx) >= uint32(vlen) {
			return e.fail(t, "Invalid component_idx")
		}
	}
	e.popResolved(nextID, 0)
	return nil
}

// checkFunc is btf_func_check: a FUNC refers to a FUNC_PROTO whose named
// parameters all have names.
func (e *env) checkFunc(t Type) error {
	proto, ok := e.typeByID(uint32(t.Ref()))
	if !ok || proto.Kind() != linux.BTF_KIND_FUNC_PROTO {
		return e.fail(t, "Invalid type_id")
	}
	for i := 0; i < proto.Vlen(); i++ {
		if p := proto.Param(i); p.NameOff == 0 && p.Type != 0 {
			return e.fail(t, fmt.Sprintf("Invalid arg#%d", i+1))
		}
	}
	return nil
}

// checkFuncProto is btf_func_proto_check: return and parameter types exist
// and have sizes; only the last parameter may be "..." (type 0, no name).
func (e *env) checkFuncProto(t Type) error {
	if ret := uint32(t.Ref()); ret != 0 {
		rt, ok := e.typeByID(ret)
		if !ok {
			return e.fail(t, "Invalid return type")
		}
		if needsResolve(rt.Kind()) && !e.isResolved(ret) {
			if err := e.resolve(rt); err != nil {
				return err
			}
		}
		if sized, _, _ := e.s.idSize(ret); !sized {
			return e.fail(t, "Invalid return type")
		}
	}
	n := t.Vlen()
	if n == 0 {
		return nil
	}
	if last := t.Param(n - 1); last.Type == 0 {
		if last.NameOff != 0 {
			return e.fail(t, fmt.Sprintf("Invalid arg#%d", n))
		}
		n--
	}
	for i := 0; i < n; i++ {
		p := t.Param(i)
		at, ok := e.typeByID(p.Type)
		if !ok {
			return e.fail(t, fmt.Sprintf("Invalid arg#%d", i+1))
		}
		if p.NameOff != 0 && (!e.nameOffValid(p.NameOff) || !e.nameValid(p.NameOff, false)) {
			return e.fail(t, fmt.Sprintf("Invalid arg#%d", i+1))
		}
		if needsResolve(at.Kind()) && !e.isResolved(p.Type) {
			if err := e.resolve(at); err != nil {
				return err
			}
		}
		if sized, _, _ := e.s.idSize(p.Type); !sized {
			return e.fail(t, fmt.Sprintf("Invalid arg#%d", i+1))
		}
	}
	return nil
}

// resolveValid is btf_resolve_valid, the final sanity check of a walk.
func (e *env) resolveValid(t Type) bool {
	id := uint32(t.id)
	if !e.isResolved(id) {
		return false
	}
	rid, rsize := e.s.resolvedIDs[id], e.s.resolvedSizes[id]
	switch k := t.Kind(); {
	case isStruct(k) || k == linux.BTF_KIND_DATASEC:
		return rid == 0 && rsize == 0
	case k == linux.BTF_KIND_DECL_TAG || k == linux.BTF_KIND_FUNC:
		return rid != 0 && rsize == 0
	case isModifier(k) || k == linux.BTF_KIND_PTR || k == linux.BTF_KIND_VAR:
		rt, ok := e.typeByID(rid)
		rk := rt.Kind()
		return ok && !isModifier(rk) && rk != linux.BTF_KIND_VAR && rk != linux.BTF_KIND_DATASEC
	case k == linux.BTF_KIND_ARRAY:
		a := t.Array()
		sized, elemID, elemSize := e.s.idSize(a.Type)
		et, _ := e.typeByID(elemID)
		return sized && !isModifier(et.Kind()) && a.Nelems*elemSize == rsize
	}
	return false
}

// checkMember dispatches a member check to the member type's kind
// (check_member / check_kflag_member operations).
func (e *env) checkMember(st Type, i int, mt Type) error {
	m := st.rawMember(i)
	off := m.Offset
	kflag := st.KindFlag()
	switch k := mt.Kind(); {
	case isModifier(k):
		sized, id, _ := e.s.idSize(m.Type)
		if !sized {
			e.logMember(st, i, "Invalid member")
			return linux.EINVAL
		}
		rt, _ := e.typeByID(id)
		return e.checkMember(st, i, rt)
	case k == linux.BTF_KIND_INT:
		if kflag {
			return e.checkIntKflagMember(st, i, mt)
		}
		return e.checkIntMember(st, i, mt)
	case k == linux.BTF_KIND_ENUM || k == linux.BTF_KIND_ENUM64:
		if kflag {
			return e.checkEnumKflagMember(st, i)
		}
		return e.checkByteMember(st, i, off, mt.Size())
	case k == linux.BTF_KIND_PTR || k == linux.BTF_KIND_ARRAY || isStruct(k) || k == linux.BTF_KIND_FLOAT:
		if kflag {
			// btf_generic_check_kflag_member: no bitfield allowed, and the
			// offset is then a plain bit offset.
			if linux.BTF_MEMBER_BITFIELD_SIZE(off) != 0 {
				e.logMember(st, i, "Invalid member bitfield_size")
				return linux.EINVAL
			}
		}
		switch {
		case k == linux.BTF_KIND_PTR:
			return e.checkByteMember(st, i, off, 8)
		case k == linux.BTF_KIND_ARRAY:
			_, _, size := e.s.idSize(m.Type)
			return e.checkByteMember(st, i, off, size)
		case k == linux.BTF_KIND_FLOAT:
			return e.checkFloatMember(st, i, off, mt.Size())
		}
		return e.checkByteMember(st, i, off, mt.Size())
	}
	if kflag {
		e.logType(st, false, "Unsupported check_kflag_member")
	} else {
		e.logType(st, false, "Unsupported check_member")
	}
	return linux.EINVAL
}

// checkByteMember is the byte-aligned member check of pointers, arrays,
// structs and enums: the member starts on a byte and ends inside the struct.
// The subtraction wraps as in Linux's u32 arithmetic.
func (e *env) checkByteMember(st Type, i int, bitOff, size uint32) error {
	if bitOff%8 != 0 {
		e.logMember(st, i, "Member is not byte aligned")
		return linux.EINVAL
	}
	if st.Size()-bitOff/8 < size {
		e.logMember(st, i, "Member exceeds struct_size")
		return linux.EINVAL
	}
	return nil
}

// checkFloatMember is btf_float_check_member.
func (e *env) checkFloatMember(st Type, i int, bitOff, size uint32) error {
	align := uint64(min(8, size)) * 8
	if uint64(bitOff)%align != 0 {
		e.logMember(st, i, "Member is not properly aligned")
		return linux.EINVAL
	}
	if uint64(bitOff)/8+uint64(size) > uint64(st.Size()) {
		e.logMember(st, i, "Member exceeds struct_size")
		return linux.EINVAL
	}
	return nil
}

// checkIntMember is btf_int_check_member.
func (e *env) checkIntMember(st Type, i int, mt Type) error {
	bitOff := st.rawMember(i).Offset
	if ^uint32(0)-bitOff < mt.IntOffset() {
		e.logMember(st, i, "bits_offset exceeds U32_MAX")
		return linux.EINVAL
	}
	bitOff += mt.IntOffset()
	return e.checkBits(st, i, bitOff, mt.IntBits())
}

// checkBits checks that nrBits at bitOff fit in 128 copy bits and the struct.
func (e *env) checkBits(st Type, i int, bitOff, nrBits uint32) error {
	bytesOff := bitOff / 8
	copyBits := nrBits + bitOff%8
	if copyBits > bitsPerU128 {
		e.logMember(st, i, "nr_copy_bits exceeds 128")
		return linux.EINVAL
	}
	if st.Size() < bytesOff || st.Size()-bytesOff < (copyBits+7)/8 {
		e.logMember(st, i, "Member exceeds struct_size")
		return linux.EINVAL
	}
	return nil
}

// checkIntKflagMember is btf_int_check_kflag_member.
func (e *env) checkIntKflagMember(st Type, i int, mt Type) error {
	if !mt.isRegularInt() {
		e.logMember(st, i, "Invalid member base type")
		return linux.EINVAL
	}
	raw := st.rawMember(i).Offset
	nrBits := linux.BTF_MEMBER_BITFIELD_SIZE(raw)
	bitOff := linux.BTF_MEMBER_BIT_OFFSET(raw)
	if nrBits == 0 {
		if bitOff%8 != 0 {
			e.logMember(st, i, "Invalid member offset")
			return linux.EINVAL
		}
		nrBits = mt.IntBits()
	} else if nrBits > mt.IntBits() {
		e.logMember(st, i, "Invalid member bitfield_size")
		return linux.EINVAL
	}
	return e.checkBits(st, i, bitOff, nrBits)
}

// checkEnumKflagMember is btf_enum_check_kflag_member: an enum bitfield is
// at most int-sized.
func (e *env) checkEnumKflagMember(st Type, i int) error {
	raw := st.rawMember(i).Offset
	bitOff := linux.BTF_MEMBER_BIT_OFFSET(raw)
	nrBits := linux.BTF_MEMBER_BITFIELD_SIZE(raw)
	if nrBits == 0 {
		if bitOff%8 != 0 {
			e.logMember(st, i, "Member is not byte aligned")
			return linux.EINVAL
		}
		nrBits = 32
	} else if nrBits > 32 {
		e.logMember(st, i, "Invalid member bitfield_size")
		return linux.EINVAL
	}
	if st.Size() < (bitOff+nrBits+7)/8 {
		e.logMember(st, i, "Member exceeds struct_size")
		return linux.EINVAL
	}
	return nil
}

// checkTypeTags is btf_check_type_tags: within a chain of modifiers, type
// tags come first, and no chain is longer than 32.
func (e *env) checkTypeTags() error {
	good := 0
	for id := 1; id < len(e.s.offs); id++ {
		t, _ := e.typeByID(uint32(id))
		if !isModifier(t.Kind()) {
			continue
		}
		inTags := t.Kind() == linux.BTF_KIND_TYPE_TAG
		limit := 32
		cur := id
		for isModifier(t.Kind()) {
			if limit == 0 {
				e.logf("Max chain length or cycle detected")
				return linux.ELOOP
			}
			limit--
			if t.Kind() == linux.BTF_KIND_TYPE_TAG {
				if !inTags {
					e.logf("Type tags don't precede modifiers")
					return linux.EINVAL
				}
			} else {
				inTags = false
			}
			if cur <= good {
				break
			}
			cur = int(t.Ref())
			var ok bool
			if t, ok = e.typeByID(uint32(cur)); !ok {
				return linux.EINVAL
			}
		}
		good = id
	}
	return nil
}

// idSize is btf_type_id_size: the sized type id reaches through modifiers
// and vars (using the resolve pass's results) and its size; sized is false for
// void, FWD, FUNC, FUNC_PROTO and unknown ids.
func (s *Spec) idSize(id uint32) (sized bool, sizedID, size uint32) {
	t, ok := s.TypeByID(TypeID(id))
	if !ok || t.noSize() {
		return false, 0, 0
	}
	sizeOf := func(t Type, id uint32) (bool, uint32) {
		switch k := t.Kind(); {
		case hasSize(k):
			return true, t.Size()
		case k == linux.BTF_KIND_ARRAY:
			return true, s.resolvedSizes[id]
		case k == linux.BTF_KIND_PTR:
			return true, 8
		}
		return false, 0
	}
	if ok, size := sizeOf(t, id); ok {
		return true, id, size
	}
	if k := t.Kind(); !isModifier(k) && k != linux.BTF_KIND_VAR {
		return false, 0, 0
	}
	if s.resolvedIDs == nil {
		return false, 0, 0
	}
	id = s.resolvedIDs[id]
	if t, ok = s.TypeByID(TypeID(id)); !ok || t.noSize() {
		return false, 0, 0
	}
	if ok, size := sizeOf(t, id); ok {
		return true, id, size
	}
	return false, 0, 0
}
