package btf

import (
	"hachi/bpf/log"
	"hachi/syscall/linux"
)

// Questions the verifier, maps and the syscall layer ask of a loaded Spec.

// ResolveSize returns the type that id stands for once modifiers, typedefs
// and vars are looked through, and its size in bytes: Linux's
// btf_type_id_size. Types without a size (void, FWD, FUNC, FUNC_PROTO) and
// unknown ids give EINVAL.
func (s *Spec) ResolveSize(id TypeID) (Type, uint32, error) {
	sized, rid, size := s.idSize(uint32(id))
	if !sized {
		return Type{}, 0, linux.EINVAL
	}
	t, _ := s.TypeByID(TypeID(rid))
	return t, size, nil
}

// SkipModifiers follows typedefs, qualifiers and type tags from id to the
// first other type (btf_type_skip_modifiers). Validation guarantees the
// chain ends.
func (s *Spec) SkipModifiers(id TypeID) (Type, bool) {
	t, ok := s.TypeByID(id)
	for ok && isModifier(t.Kind()) {
		t, ok = s.TypeByID(t.Ref())
	}
	return t, ok
}

// MemberByName finds a named member of the STRUCT or UNION structID; members
// of anonymous inner structs and unions are searched too, with their offsets
// added, as C lets a program name them directly.
func (s *Spec) MemberByName(structID TypeID, name string) (Member, bool) {
	t, ok := s.SkipModifiers(structID)
	if !ok || !isStruct(t.Kind()) || name == "" {
		return Member{}, false
	}
	for i := 0; i < t.Vlen(); i++ {
		m := t.Member(i)
		if m.Name == name {
			return m, true
		}
		if m.Name == "" {
			if inner, ok := s.MemberByName(m.Type, name); ok {
				inner.BitOffset += m.BitOffset
				return inner, true
			}
		}
	}
	return Member{}, false
}

// FuncInfoAux is what the verifier keeps of each func_info record
// (struct bpf_func_info_aux): the subprogram's linkage and whether its
// return type is a scalar (small int or enum), which LD_ABS and tail calls in
// subprograms require.
type FuncInfoAux struct {
	Linkage      uint32
	ScalarReturn bool
	Func         Type
	Proto        Type
}

// Limits of func_info_rec_size (MIN_BPF_FUNCINFO_SIZE, MAX_FUNCINFO_REC_SIZE).
const (
	MinFuncInfoRecSize = 8
	MaxFuncInfoRecSize = 252
)

// CheckFuncInfoRecSize is check_btf_func's record size rule: at least 8, at
// most 252, a multiple of 4.
func CheckFuncInfoRecSize(size uint32, lg *log.Log) error {
	if size < MinFuncInfoRecSize || size > MaxFuncInfoRecSize || size%4 != 0 {
		lg.Printf("invalid func info rec size %d\n", size)
		return linux.EINVAL
	}
	return nil
}

// CheckFuncInfo validates PROG_LOAD's func_info records against the
// program's subprograms (verifier.c:check_btf_func): one record per
// subprogram, the first at insn 0, offsets strictly increasing and equal to
// the subprogram starts, each naming a FUNC whose FUNC_PROTO is valid.
// subprogStarts is the first instruction of each subprogram, in order.
func (s *Spec) CheckFuncInfo(recs []linux.BPFFuncInfo, subprogStarts []uint32, lg *log.Log) ([]FuncInfoAux, error) {
	if len(recs) != len(subprogStarts) {
		lg.Printf("number of funcs in func_info doesn't match number of subprogs\n")
		return nil, linux.EINVAL
	}
	aux := make([]FuncInfoAux, len(recs))
	prev := uint32(0)
	for i, r := range recs {
		if i == 0 && r.InsnOff != 0 {
			lg.Printf("nonzero insn_off %d for the first func info record", r.InsnOff)
			return nil, linux.EINVAL
		}
		if i > 0 && r.InsnOff <= prev {
			lg.Printf("same or smaller insn offset (%d) than previous func info record (%d)", r.InsnOff, prev)
			return nil, linux.EINVAL
		}
		if subprogStarts[i] != r.InsnOff {
			lg.Printf("func_info BTF section doesn't match subprog layout in BPF program\n")
			return nil, linux.EINVAL
		}
		fn, ok := s.TypeByID(TypeID(r.TypeID))
		if !ok || fn.Kind() != linux.BTF_KIND_FUNC {
			lg.Printf("invalid type id %d in func info", int32(r.TypeID))
			return nil, linux.EINVAL
		}
		proto, ok := s.TypeByID(fn.Ref())
		if !ok || proto.Kind() != linux.BTF_KIND_FUNC_PROTO {
			return nil, linux.EINVAL // Load already refused such a FUNC
		}
		ret, _ := s.SkipModifiers(proto.Ref())
		aux[i] = FuncInfoAux{
			Linkage:      fn.Linkage(),
			ScalarReturn: ret.isSmallInt() || ret.Kind() == linux.BTF_KIND_ENUM || ret.Kind() == linux.BTF_KIND_ENUM64,
			Func:         fn,
			Proto:        proto,
		}
		prev = r.InsnOff
	}
	return aux, nil
}

// isSmallInt is btf_type_is_small_int: an INT of at most 8 bytes.
func (t Type) isSmallInt() bool {
	return t.Kind() == linux.BTF_KIND_INT && t.Size() <= 8
}

// CheckMapKeyValue is the type part of BPF_MAP_CREATE with BTF
// (syscall.c:map_check_btf): the key and value ids must have sizes equal to
// the map's key_size and value_size. keyID 0 is allowed only for map kinds
// that have no key type (keyOptional: Linux asks the map's map_check_btf).
// It returns the resolved key (void when absent) and value types.
func (s *Spec) CheckMapKeyValue(keyID, valueID TypeID, keySize, valueSize uint32, keyOptional bool) (key, value Type, err error) {
	if keyID != 0 {
		t, size, err := s.ResolveSize(keyID)
		if err != nil || size != keySize {
			return Type{}, Type{}, linux.EINVAL
		}
		key = t
	} else if !keyOptional {
		return Type{}, Type{}, linux.EINVAL
	}
	t, size, err := s.ResolveSize(valueID)
	if err != nil || size != valueSize {
		return Type{}, Type{}, linux.EINVAL
	}
	return key, t, nil
}

// FindSpinLock returns the byte offset of the struct bpf_spin_lock in a map
// value type (btf_find_spin_lock): found is false when there is none; a
// misaligned one, or a value that is neither struct nor datasec, is EINVAL,
// and several are E2BIG. Linux 6.1's map_check_btf treats those errors as
// "no lock"; the verifier then refuses bpf_spin_lock on such a map.
func (s *Spec) FindSpinLock(value Type) (off uint32, found bool, err error) {
	return s.findField(value, "bpf_spin_lock", 4, 4)
}

// FindTimer is FindSpinLock for struct bpf_timer (btf_find_timer).
func (s *Spec) FindTimer(value Type) (off uint32, found bool, err error) {
	return s.findField(value, "bpf_timer", 16, 8)
}

// findField is btf_find_field for a named struct of the given size and
// alignment among the direct members of a struct, or the vars of a datasec.
func (s *Spec) findField(t Type, name string, size, align uint32) (uint32, bool, error) {
	var off uint32
	count := 0
	match := func(ft Type, at uint32) error {
		if ft.Kind() != linux.BTF_KIND_STRUCT || ft.Size() != size {
			return nil
		}
		if count == 1 {
			return linux.E2BIG
		}
		off = at
		count++
		return nil
	}
	switch k := t.Kind(); {
	case isStruct(k):
		for i := 0; i < t.Vlen(); i++ {
			m := t.Member(i)
			mt, _ := s.TypeByID(m.Type)
			if mt.Name() != name {
				continue
			}
			if m.BitOffset%8 != 0 || (m.BitOffset/8)%align != 0 {
				return 0, false, linux.EINVAL
			}
			if err := match(mt, m.BitOffset/8); err != nil {
				return 0, false, err
			}
		}
	case k == linux.BTF_KIND_DATASEC:
		for i := 0; i < t.Vlen(); i++ {
			v := t.VarSecinfo(i)
			vt, _ := s.TypeByID(TypeID(v.Type))
			ft, _ := s.TypeByID(vt.Ref())
			if ft.Name() != name || v.Size != size {
				continue
			}
			if v.Offset%align != 0 {
				return 0, false, linux.EINVAL
			}
			if err := match(ft, v.Offset); err != nil {
				return 0, false, err
			}
		}
	default:
		return 0, false, linux.EINVAL
	}
	return off, count == 1, nil
}
