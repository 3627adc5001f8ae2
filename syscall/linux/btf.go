package linux

// BTF (BPF Type Format) declarations of <linux/btf.h>: the blob layout that
// BPF_BTF_LOAD takes. Parsing and validation live in hachi/bpf/btf.

// Magic and version of struct btf_header.
const (
	BTF_MAGIC   = 0xeB9F
	BTF_VERSION = 1
)

// Limits of a BTF blob: the largest type id, string offset and vlen.
const (
	BTF_MAX_TYPE        = 0x000fffff
	BTF_MAX_NAME_OFFSET = 0x00ffffff
	BTF_MAX_VLEN        = 0xffff
)

// BTFHeader is struct btf_header, the start of every BTF blob. type_off and
// str_off count from the end of the header (hdr_len bytes).
type BTFHeader struct {
	Magic   uint16
	Version uint8
	Flags   uint8
	HdrLen  uint32
	TypeOff uint32
	TypeLen uint32
	StrOff  uint32
	StrLen  uint32
}

// BTFType is struct btf_type, the 12-byte head of every type record; kind
// specific data (BTFArray, BTFMember... ) follows it.
//
//	info bits  0-15: vlen (members, enumerators, params, vars)
//	info bits 16-23: unused
//	info bits 24-28: kind
//	info bits 29-30: unused
//	info bit     31: kind_flag
type BTFType struct {
	NameOff    uint32
	Info       uint32
	SizeOrType uint32 // union: size (INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64), type (the others)
}

// BTF_INFO_KIND extracts the kind from btf_type.info.
func BTF_INFO_KIND(info uint32) uint32 { return (info >> 24) & 0x1f }

// BTF_INFO_VLEN extracts the vlen from btf_type.info.
func BTF_INFO_VLEN(info uint32) uint32 { return info & 0xffff }

// BTF_INFO_KFLAG extracts the kind_flag from btf_type.info.
func BTF_INFO_KFLAG(info uint32) uint32 { return info >> 31 }

// BTF kinds: the anonymous enum of BTF_KIND_* values.
const (
	BTF_KIND_UNKN       = 0
	BTF_KIND_INT        = 1
	BTF_KIND_PTR        = 2
	BTF_KIND_ARRAY      = 3
	BTF_KIND_STRUCT     = 4
	BTF_KIND_UNION      = 5
	BTF_KIND_ENUM       = 6
	BTF_KIND_FWD        = 7
	BTF_KIND_TYPEDEF    = 8
	BTF_KIND_VOLATILE   = 9
	BTF_KIND_CONST      = 10
	BTF_KIND_RESTRICT   = 11
	BTF_KIND_FUNC       = 12
	BTF_KIND_FUNC_PROTO = 13
	BTF_KIND_VAR        = 14
	BTF_KIND_DATASEC    = 15
	BTF_KIND_FLOAT      = 16
	BTF_KIND_DECL_TAG   = 17
	BTF_KIND_TYPE_TAG   = 18
	BTF_KIND_ENUM64     = 19
	NR_BTF_KINDS        = 20
	BTF_KIND_MAX        = NR_BTF_KINDS - 1
)

// BTF_INT_ENCODING extracts the encoding bits of the u32 that follows an INT.
func BTF_INT_ENCODING(val uint32) uint32 { return (val & 0x0f000000) >> 24 }

// BTF_INT_OFFSET extracts the bit offset of the u32 that follows an INT.
func BTF_INT_OFFSET(val uint32) uint32 { return (val & 0x00ff0000) >> 16 }

// BTF_INT_BITS extracts the bit count of the u32 that follows an INT.
func BTF_INT_BITS(val uint32) uint32 { return val & 0x000000ff }

// INT encodings (BTF_INT_ENCODING values).
const (
	BTF_INT_SIGNED = 1 << 0
	BTF_INT_CHAR   = 1 << 1
	BTF_INT_BOOL   = 1 << 2
)

// BTFEnum is struct btf_enum, one enumerator following an ENUM.
type BTFEnum struct {
	NameOff uint32
	Val     int32
}

// BTFArray is struct btf_array, following an ARRAY.
type BTFArray struct {
	Type      uint32
	IndexType uint32
	Nelems    uint32
}

// BTFMember is struct btf_member, one member following a STRUCT or UNION.
// With kind_flag set, Offset packs a bitfield size (bits 24-31) and a bit
// offset (bits 0-23); without it, Offset is a plain bit offset.
type BTFMember struct {
	NameOff uint32
	Type    uint32
	Offset  uint32
}

// BTF_MEMBER_BITFIELD_SIZE extracts the bitfield size of a kind_flag member offset.
func BTF_MEMBER_BITFIELD_SIZE(val uint32) uint32 { return val >> 24 }

// BTF_MEMBER_BIT_OFFSET extracts the bit offset of a kind_flag member offset.
func BTF_MEMBER_BIT_OFFSET(val uint32) uint32 { return val & 0xffffff }

// BTFParam is struct btf_param, one parameter following a FUNC_PROTO.
type BTFParam struct {
	NameOff uint32
	Type    uint32
}

// VAR linkage (btf_var.linkage).
const (
	BTF_VAR_STATIC           = 0
	BTF_VAR_GLOBAL_ALLOCATED = 1
	BTF_VAR_GLOBAL_EXTERN    = 2
)

// FUNC linkage (enum btf_func_linkage, carried in a FUNC's vlen).
const (
	BTF_FUNC_STATIC = 0
	BTF_FUNC_GLOBAL = 1
	BTF_FUNC_EXTERN = 2
)

// BTFVar is struct btf_var, following a VAR.
type BTFVar struct {
	Linkage uint32
}

// BTFVarSecinfo is struct btf_var_secinfo, one variable following a DATASEC.
type BTFVarSecinfo struct {
	Type   uint32
	Offset uint32
	Size   uint32
}

// BTFDeclTag is struct btf_decl_tag, following a DECL_TAG; component_idx -1
// tags the type itself, otherwise a member or parameter index.
type BTFDeclTag struct {
	ComponentIdx int32
}

// BTFEnum64 is struct btf_enum64, one enumerator following an ENUM64.
type BTFEnum64 struct {
	NameOff uint32
	ValLo32 uint32
	ValHi32 uint32
}
