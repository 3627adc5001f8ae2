// Package btf parses and validates BPF Type Format blobs as Linux's
// BPF_BTF_LOAD does (kernel/bpf/btf.c:btf_parse, Linux 6.1), and answers the
// type questions the rest of the kernel asks of a loaded blob: a type by id,
// its size through modifiers and typedefs, struct members, the FUNC records of
// func_info, and the key/value types of BTF-described maps.
//
// Validation follows Linux check for check, in Linux's order, with Linux's
// errno and btf_verifier_log messages: a blob Linux refuses is refused here
// with the same errno, and the log reads the same.
package btf

import (
	"encoding/binary"

	"hachi/syscall/linux"
)

// MaxSize is BTF_MAX_SIZE: larger blobs are refused with E2BIG before
// anything else is looked at (the syscall layer checks it before copying).
const MaxSize = 16 * 1024 * 1024

// TypeID is a type's position in the blob; 0 is void.
type TypeID uint32

// Kind is a BTF_KIND_* value.
type Kind uint8

var kindNames = [linux.NR_BTF_KINDS]string{
	"UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE",
	"CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
}

// String returns the name the verifier log uses (btf_kind_str), e.g. "STRUCT".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// Spec is a validated BTF blob (Linux's struct btf). It is immutable after
// Load and safe for concurrent readers.
type Spec struct {
	data    []byte // the whole blob
	hdr     linux.BTFHeader
	body    []byte // data past hdr_len (nohdr_data)
	strings []byte
	// offs[id] is the offset in body of type id's btf_type; offs[0] (void) is unused.
	offs []uint32
	// resolvedIDs and resolvedSizes are what Linux's resolve pass records for
	// modifiers, pointers, vars, arrays, funcs and decl tags.
	resolvedIDs   []uint32
	resolvedSizes []uint32
}

// Bytes returns the raw blob (for BPF_OBJ_GET_INFO_BY_FD).
func (s *Spec) Bytes() []byte { return s.data }

// NumTypes returns the number of type ids, void included: ids 0..NumTypes()-1.
func (s *Spec) NumTypes() int { return len(s.offs) }

// Type is a view of one type record of a Spec. The zero Type is void.
type Type struct {
	s   *Spec
	id  TypeID
	off uint32
}

// TypeByID returns the type with the given id; ok is false when id is out
// of range (btf_type_by_id returning NULL).
func (s *Spec) TypeByID(id TypeID) (Type, bool) {
	if int(id) >= len(s.offs) {
		return Type{}, false
	}
	return Type{s: s, id: id, off: s.offs[id]}, true
}

// ID returns the type's id.
func (t Type) ID() TypeID { return t.id }

// IsVoid reports whether t is type 0.
func (t Type) IsVoid() bool { return t.id == 0 }

func (t Type) word(i uint32) uint32 {
	return binary.LittleEndian.Uint32(t.s.body[t.off+4*i:])
}

// info returns btf_type.info; void has none.
func (t Type) info() uint32 {
	if t.id == 0 {
		return 0
	}
	return t.word(1)
}

// Kind returns the type's kind (BTF_KIND_UNKN for void).
func (t Type) Kind() Kind { return Kind(linux.BTF_INFO_KIND(t.info())) }

// Vlen returns the number of members, enumerators, params or vars; for FUNC
// it is the linkage.
func (t Type) Vlen() int { return int(linux.BTF_INFO_VLEN(t.info())) }

// KindFlag reports btf_type's kind_flag: bitfield offsets for STRUCT/UNION,
// union for FWD, signed for ENUM/ENUM64.
func (t Type) KindFlag() bool { return linux.BTF_INFO_KFLAG(t.info()) != 0 }

// NameOff returns the name's offset in the string section.
func (t Type) NameOff() uint32 {
	if t.id == 0 {
		return 0
	}
	return t.word(0)
}

// Name returns the type's name, "" when anonymous.
func (t Type) Name() string {
	if t.id == 0 {
		return ""
	}
	return t.s.str(t.word(0))
}

// Size returns btf_type.size: meaningful for INT, STRUCT, UNION, ENUM,
// ENUM64, DATASEC and FLOAT (see Spec.ResolveSize for any type).
func (t Type) Size() uint32 {
	if t.id == 0 {
		return 0
	}
	return t.word(2)
}

// Ref returns btf_type.type: the referenced type of PTR, TYPEDEF, the
// qualifiers, TYPE_TAG, FUNC, VAR and DECL_TAG, the return type of FUNC_PROTO.
func (t Type) Ref() TypeID { return TypeID(t.Size()) }

// IntEncoding returns an INT's encoding bits (BTF_INT_SIGNED, CHAR, BOOL).
func (t Type) IntEncoding() uint32 { return linux.BTF_INT_ENCODING(t.word(3)) }

// IntOffset returns an INT's bit offset.
func (t Type) IntOffset() uint32 { return linux.BTF_INT_OFFSET(t.word(3)) }

// IntBits returns an INT's bit count.
func (t Type) IntBits() uint32 { return linux.BTF_INT_BITS(t.word(3)) }

// Array returns an ARRAY's element type, index type and element count.
func (t Type) Array() linux.BTFArray {
	return linux.BTFArray{Type: t.word(3), IndexType: t.word(4), Nelems: t.word(5)}
}

// Member is one member of a STRUCT or UNION, its offset decoded.
type Member struct {
	Name         string
	NameOff      uint32
	Type         TypeID
	BitOffset    uint32
	BitfieldSize uint32 // 0 unless the struct has kind_flag and the member is a bitfield
}

// Member returns the i-th member of a STRUCT or UNION
// (__btf_member_bit_offset / __btf_member_bitfield_size).
func (t Type) Member(i int) Member {
	raw := t.rawMember(i)
	m := Member{Name: t.s.str(raw.NameOff), NameOff: raw.NameOff, Type: TypeID(raw.Type), BitOffset: raw.Offset}
	if t.KindFlag() {
		m.BitOffset = linux.BTF_MEMBER_BIT_OFFSET(raw.Offset)
		m.BitfieldSize = linux.BTF_MEMBER_BITFIELD_SIZE(raw.Offset)
	}
	return m
}

func (t Type) rawMember(i int) linux.BTFMember {
	w := 3 + 3*uint32(i)
	return linux.BTFMember{NameOff: t.word(w), Type: t.word(w + 1), Offset: t.word(w + 2)}
}

// Enumerator is one value of an ENUM or ENUM64; Value holds the bits, to be
// read as signed when the type's KindFlag is set.
type Enumerator struct {
	Name  string
	Value uint64
}

// Enumerator returns the i-th value of an ENUM (sign-extended when signed)
// or ENUM64.
func (t Type) Enumerator(i int) Enumerator {
	if t.Kind() == linux.BTF_KIND_ENUM64 {
		w := 3 + 3*uint32(i)
		return Enumerator{t.s.str(t.word(w)), uint64(t.word(w+2))<<32 | uint64(t.word(w+1))}
	}
	w := 3 + 2*uint32(i)
	v := uint64(t.word(w + 1))
	if t.KindFlag() {
		v = uint64(int64(int32(t.word(w + 1))))
	}
	return Enumerator{t.s.str(t.word(w)), v}
}

// Param returns the i-th parameter of a FUNC_PROTO; a last parameter of type
// 0 with no name means "...".
func (t Type) Param(i int) linux.BTFParam {
	w := 3 + 2*uint32(i)
	return linux.BTFParam{NameOff: t.word(w), Type: t.word(w + 1)}
}

// Linkage returns a FUNC's linkage (its vlen) or a VAR's btf_var.linkage.
func (t Type) Linkage() uint32 {
	if t.Kind() == linux.BTF_KIND_VAR {
		return t.word(3)
	}
	return uint32(t.Vlen())
}

// VarSecinfo returns the i-th variable of a DATASEC.
func (t Type) VarSecinfo(i int) linux.BTFVarSecinfo {
	w := 3 + 3*uint32(i)
	return linux.BTFVarSecinfo{Type: t.word(w), Offset: t.word(w + 1), Size: t.word(w + 2)}
}

// ComponentIdx returns a DECL_TAG's component_idx (-1: the type itself).
func (t Type) ComponentIdx() int32 { return int32(t.word(3)) }

// StringAt returns the string at a string-section offset; ok is false when the
// offset is outside the section.
func (s *Spec) StringAt(off uint32) (string, bool) {
	if off >= uint32(len(s.strings)) {
		return "", false
	}
	return s.str(off), true
}

// str returns the NUL-terminated string at a valid offset.
func (s *Spec) str(off uint32) string {
	if off >= uint32(len(s.strings)) {
		return ""
	}
	b := s.strings[off:]
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Kind predicates shared by parsing and queries (btf_type_is_* in Linux).

func isModifier(k Kind) bool {
	switch k {
	case linux.BTF_KIND_TYPEDEF, linux.BTF_KIND_VOLATILE, linux.BTF_KIND_CONST,
		linux.BTF_KIND_RESTRICT, linux.BTF_KIND_TYPE_TAG:
		return true
	}
	return false
}

func isStruct(k Kind) bool { return k == linux.BTF_KIND_STRUCT || k == linux.BTF_KIND_UNION }

// hasSize reports whether btf_type.size is the type's size (btf_type_has_size).
func hasSize(k Kind) bool {
	switch k {
	case linux.BTF_KIND_INT, linux.BTF_KIND_STRUCT, linux.BTF_KIND_UNION, linux.BTF_KIND_ENUM,
		linux.BTF_KIND_DATASEC, linux.BTF_KIND_FLOAT, linux.BTF_KIND_ENUM64:
		return true
	}
	return false
}

// noSize: void, FWD, FUNC and FUNC_PROTO have no size (btf_type_nosize).
func (t Type) noSize() bool {
	switch t.Kind() {
	case linux.BTF_KIND_UNKN, linux.BTF_KIND_FWD, linux.BTF_KIND_FUNC, linux.BTF_KIND_FUNC_PROTO:
		return true
	}
	return false
}

// isResolveSourceOnly: VAR, DECL_TAG and DATASEC may refer to others but
// nothing may refer to them (btf_type_is_resolve_source_only).
func isResolveSourceOnly(k Kind) bool {
	return k == linux.BTF_KIND_VAR || k == linux.BTF_KIND_DECL_TAG || k == linux.BTF_KIND_DATASEC
}

// needsResolve lists the kinds the resolve pass visits (btf_type_needs_resolve).
func needsResolve(k Kind) bool {
	return isModifier(k) || k == linux.BTF_KIND_PTR || isStruct(k) || k == linux.BTF_KIND_ARRAY ||
		k == linux.BTF_KIND_VAR || k == linux.BTF_KIND_FUNC || k == linux.BTF_KIND_DECL_TAG ||
		k == linux.BTF_KIND_DATASEC
}

// isRegularInt: a non-bitfield INT of 1, 2, 4, 8 or 16 bytes
// (btf_type_int_is_regular).
func (t Type) isRegularInt() bool {
	bits := t.IntBits()
	bytes := (bits + 7) / 8
	if bits%8 != 0 || t.IntOffset() != 0 {
		return false
	}
	switch bytes {
	case 1, 2, 4, 8, 16:
		return true
	}
	return false
}
