package btf

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"hachi/bpf/log"
	"hachi/syscall/linux"
)

const (
	kINT        = linux.BTF_KIND_INT
	kPTR        = linux.BTF_KIND_PTR
	kARRAY      = linux.BTF_KIND_ARRAY
	kSTRUCT     = linux.BTF_KIND_STRUCT
	kUNION      = linux.BTF_KIND_UNION
	kENUM       = linux.BTF_KIND_ENUM
	kFWD        = linux.BTF_KIND_FWD
	kTYPEDEF    = linux.BTF_KIND_TYPEDEF
	kCONST      = linux.BTF_KIND_CONST
	kFUNC       = linux.BTF_KIND_FUNC
	kFUNC_PROTO = linux.BTF_KIND_FUNC_PROTO
	kVAR        = linux.BTF_KIND_VAR
	kDATASEC    = linux.BTF_KIND_DATASEC
	kFLOAT      = linux.BTF_KIND_FLOAT
	kDECL_TAG   = linux.BTF_KIND_DECL_TAG
	kTYPE_TAG   = linux.BTF_KIND_TYPE_TAG
	kENUM64     = linux.BTF_KIND_ENUM64
)

// withInt starts a blob whose type 1 is "int" (4 bytes, signed).
func withInt() *builder { return newBuilder().intType("int", 4) }

// loadCase is one blob and what Linux says of it.
type loadCase struct {
	name  string
	check string // the Linux check it mirrors (kernel/bpf/btf.c)
	blob  func() []byte
	err   error  // nil: accepted
	log   string // a line (or part) the level-1 log must hold
}

func hdr(mut func(h *linux.BTFHeader)) func() []byte {
	return func() []byte {
		b := withInt()
		mut(&b.hdr)
		return b.bytes()
	}
}

func types(build func(b *builder)) func() []byte {
	return func() []byte {
		b := newBuilder()
		build(b)
		return b.bytes()
	}
}

var loadCases = []loadCase{
	// btf_parse_hdr and btf_check_sec_info
	{"empty blob", "btf_parse_hdr", func() []byte { return nil }, linux.EINVAL, "hdr_len not found"},
	{"hdr_len past the data", "btf_parse_hdr", hdr(func(h *linux.BTFHeader) { h.HdrLen = 4096 }), linux.EINVAL, "btf_header not found"},
	{"unknown header bytes set", "btf_parse_hdr", func() []byte {
		raw := withInt().bytes()
		raw = append(raw[:24:24], append([]byte{0, 0, 0, 0, 1, 0, 0, 0}, raw[24:]...)...)
		binary.LittleEndian.PutUint32(raw[4:], 32)
		return raw
	}, linux.E2BIG, "Unsupported btf_header"},
	{"longer zeroed header", "btf_parse_hdr", func() []byte {
		raw := withInt().bytes()
		raw = append(raw[:24:24], append(make([]byte, 8), raw[24:]...)...)
		binary.LittleEndian.PutUint32(raw[4:], 32)
		return raw
	}, nil, "hdr_len: 32"},
	{"hdr_len 4", "btf_parse_hdr (partial header copy)", hdr(func(h *linux.BTFHeader) { h.HdrLen = 4 }),
		linux.EINVAL, "hdr_len: 0\n"},
	{"hdr_len 6", "btf_parse_hdr (partial header copy)", hdr(func(h *linux.BTFHeader) { h.HdrLen = 6 }),
		linux.EINVAL, "hdr_len: 6\n"},
	{"bad magic", "btf_parse_hdr", hdr(func(h *linux.BTFHeader) { h.Magic = 0x9feb }), linux.EINVAL, "Invalid magic"},
	{"version 2", "btf_parse_hdr", hdr(func(h *linux.BTFHeader) { h.Version = 2 }), linux.ENOTSUPP, "Unsupported version"},
	{"flags set", "btf_parse_hdr", hdr(func(h *linux.BTFHeader) { h.Flags = 1 }), linux.ENOTSUPP, "Unsupported flags"},
	{"header only", "btf_parse_hdr", func() []byte { return withInt().bytes()[:24] }, linux.EINVAL, "No data"},
	{"gap before types", "btf_check_sec_info", hdr(func(h *linux.BTFHeader) { h.TypeOff = 4 }), linux.EINVAL, "Unsupported section found"},
	{"sections overlap", "btf_check_sec_info", hdr(func(h *linux.BTFHeader) { h.StrOff = 8 }), linux.EINVAL, "Section overlap found"},
	{"section past the end", "btf_check_sec_info", hdr(func(h *linux.BTFHeader) { h.StrOff = 1000 }), linux.EINVAL, "Invalid section offset"},
	{"section too long", "btf_check_sec_info", hdr(func(h *linux.BTFHeader) { h.StrLen = 1000 }), linux.EINVAL, "Total section length too long"},
	{"trailing bytes", "btf_check_sec_info", func() []byte {
		b := withInt()
		b.tail = []byte{1, 2, 3, 4}
		return b.bytes()
	}, linux.EINVAL, "Unsupported section found"},
	// btf_parse_str_sec
	{"strings not NUL-terminated", "btf_parse_str_sec", func() []byte {
		raw := withInt().bytes()
		raw[len(raw)-1] = 'x'
		return raw
	}, linux.EINVAL, "Invalid string section"},
	{"strings not starting with NUL", "btf_parse_str_sec", func() []byte {
		raw := withInt().bytes()
		raw[24+16] = 'x'
		return raw
	}, linux.EINVAL, "Invalid string section"},
	{"strings before types", "btf_parse_str_sec", func() []byte {
		b := withInt()
		b.str("abc") // strings: "\0int\0abc\0" = 9 bytes
		b.str("xy")  // 12 bytes
		raw := b.bytes()
		body := append(append([]byte{}, raw[24+16:]...), raw[24:24+16]...)
		binary.LittleEndian.PutUint32(raw[8:], 12) // type_off
		binary.LittleEndian.PutUint32(raw[16:], 0) // str_off
		return append(raw[:24], body...)
	}, linux.EINVAL, "String section is not at the end"},
	// btf_parse_type_sec and btf_check_meta
	{"no types", "btf_parse_type_sec", func() []byte { return newBuilder().bytes() }, linux.EINVAL, "No type found"},
	{"unaligned type_off", "btf_parse_type_sec", func() []byte {
		b := newBuilder()
		b.str("ab") // 4 bytes of strings, then the string "c": 5 bytes
		b.strs = append(b.strs, 'c', 0)[:5]
		b.strs[4] = 0
		b.hdr.TypeOff = 5
		b.hdr.StrOff = 0xffffffff // replaced below
		raw := b.bytes()
		binary.LittleEndian.PutUint32(raw[16:], 0) // str_off 0, type_off 5, type_len 0
		return raw
	}, linux.EINVAL, "Unaligned type_off"},
	{"record cut short", "btf_check_meta", func() []byte {
		b := withInt()
		b.words = append(b.words, 0, 0)
		return b.bytes()
	}, linux.EINVAL, "[2] meta_left:8 meta_needed:12"},
	{"unknown info bits", "btf_check_meta", types(func(b *builder) { b.add(0, info(kINT, 0, false)|1<<16, 4, 32) }),
		linux.EINVAL, "[1] Invalid btf_info:1010000"},
	{"kind 0", "btf_check_meta", types(func(b *builder) { b.add(0, 0, 4) }), linux.EINVAL, "[1] Invalid kind:0"},
	{"kind 20", "btf_check_meta", types(func(b *builder) { b.add(0, info(20, 0, false), 4) }), linux.EINVAL, "[1] Invalid kind:20"},
	{"name offset out of range", "btf_check_meta", types(func(b *builder) { b.add(99, info(kINT, 0, false), 4, 32) }),
		linux.EINVAL, "[1] Invalid name_offset:99"},
	// INT
	{"int without data", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("int"), info(kINT, 0, false), 4) }),
		linux.EINVAL, "[1] INT int meta_left:0 meta_needed:4"},
	{"int vlen", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("int"), info(kINT, 1, false), 4, 32) }),
		linux.EINVAL, "vlen != 0"},
	{"int kind_flag", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("int"), info(kINT, 0, true), 4, 32) }),
		linux.EINVAL, "Invalid btf_info kind_flag"},
	{"int data high bits", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("int"), info(kINT, 0, false), 4, 0x10000020) }),
		linux.EINVAL, "[1] INT int Invalid int_data:10000020"},
	{"int over 128 bits", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("i"), info(kINT, 0, false), 32, 8<<16|128) }),
		linux.EINVAL, "nr_bits exceeds 128"},
	{"int bits past size", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("i"), info(kINT, 0, false), 4, 33) }),
		linux.EINVAL, "nr_bits exceeds type_size"},
	{"int encoding 3", "btf_int_check_meta", types(func(b *builder) { b.add(b.str("i"), info(kINT, 0, false), 4, 3<<24|32) }),
		linux.ENOTSUPP, "Unsupported encoding"},
	{"int128 and bool", "btf_int_check_meta", types(func(b *builder) {
		b.add(b.str("__int128"), info(kINT, 0, false), 16, linux.BTF_INT_SIGNED<<24|128)
		b.add(b.str("_Bool"), info(kINT, 0, false), 1, linux.BTF_INT_BOOL<<24|1)
	}), nil, "[2] INT _Bool size=1 bits_offset=0 nr_bits=1 encoding=BOOL"},
	// references: PTR, TYPEDEF, qualifiers, TYPE_TAG
	{"named pointer", "btf_ref_type_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("p"), info(kPTR, 0, false), 1).bytes()
	}, linux.EINVAL, "[2] PTR p type_id=1 Invalid name"},
	{"type id past BTF_MAX_TYPE", "btf_ref_type_check_meta", func() []byte {
		return withInt().add(0, info(kPTR, 0, false), linux.BTF_MAX_TYPE+1).bytes()
	}, linux.EINVAL, "Invalid type_id"},
	{"pointer to a missing type", "btf_ptr_resolve", func() []byte {
		return withInt().add(0, info(kPTR, 0, false), 9).bytes()
	}, linux.EINVAL, "[2] PTR (anon) type_id=9 Invalid type_id"},
	{"anonymous typedef", "btf_ref_type_check_meta", func() []byte {
		return withInt().add(0, info(kTYPEDEF, 0, false), 1).bytes()
	}, linux.EINVAL, "Invalid name"},
	{"typedef name not an identifier", "btf_ref_type_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("1abc"), info(kTYPEDEF, 0, false), 1).bytes()
	}, linux.EINVAL, "[2] TYPEDEF 1abc type_id=1 Invalid name"},
	{"typedef name with a dot", "btf_ref_type_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("a.b"), info(kTYPEDEF, 0, false), 1).bytes()
	}, linux.EINVAL, "Invalid name"},
	{"Latin-1 letters in a name", "__btf_name_char_ok", func() []byte {
		b := withInt()
		return b.add(b.str("caf\xe9_\xc0"), info(kTYPEDEF, 0, false), 1).bytes()
	}, nil, ""},
	{"name of 512 bytes", "__btf_name_valid", func() []byte {
		b := withInt()
		return b.add(b.str(strings.Repeat("n", 512)), info(kTYPEDEF, 0, false), 1).bytes()
	}, nil, ""},
	{"name of 513 bytes", "__btf_name_valid (KSYM_NAME_LEN)", func() []byte {
		b := withInt()
		return b.add(b.str(strings.Repeat("n", 513)), info(kTYPEDEF, 0, false), 1).bytes()
	}, linux.EINVAL, "Invalid name"},
	{"type tag without a value", "btf_ref_type_check_meta", func() []byte {
		return withInt().add(0, info(kTYPE_TAG, 0, false), 1).bytes()
	}, linux.EINVAL, "[2] TYPE_TAG (anon) type_id=1 Invalid name"},
	{"const void and pointer to void", "btf_modifier_resolve", func() []byte {
		return withInt().add(0, info(kCONST, 0, false), 0).add(0, info(kPTR, 0, false), 2).bytes()
	}, nil, "[3] PTR (anon) type_id=2"},
	{"pointer loop", "btf_ptr_resolve / env_stack_push", func() []byte {
		return withInt().add(0, info(kPTR, 0, false), 3).add(0, info(kCONST, 0, false), 2).bytes()
	}, linux.EEXIST, "[2] PTR (anon) type_id=3 Loop detected"},
	{"typedef loop", "btf_modifier_resolve / env_stack_push", func() []byte {
		b := withInt()
		return b.add(b.str("a"), info(kTYPEDEF, 0, false), 3).add(b.str("b"), info(kTYPEDEF, 0, false), 2).bytes()
	}, linux.EEXIST, "Loop detected"},
	{"33 chained typedefs", "btf_resolve (MAX_RESOLVE_DEPTH)", func() []byte {
		b := withInt()
		for i := 0; i < 33; i++ {
			b.add(b.str("t"+strings.Repeat("x", i)), info(kTYPEDEF, 0, false), uint32(i+3))
		}
		b.words[len(b.words)-1] = 1
		return b.bytes()
	}, linux.E2BIG, "Exceeded max resolving depth:32"},
	// ARRAY
	{"named array", "btf_array_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("a"), info(kARRAY, 0, false), 0, 1, 1, 4).bytes()
	}, linux.EINVAL, "Invalid name"},
	{"array size set", "btf_array_check_meta", func() []byte {
		return withInt().add(0, info(kARRAY, 0, false), 16, 1, 1, 4).bytes()
	}, linux.EINVAL, "size != 0"},
	{"array of void", "btf_array_check_meta", func() []byte {
		return withInt().add(0, info(kARRAY, 0, false), 0, 0, 1, 4).bytes()
	}, linux.EINVAL, "Invalid elem"},
	{"array index void", "btf_array_check_meta", func() []byte {
		return withInt().add(0, info(kARRAY, 0, false), 0, 1, 0, 4).bytes()
	}, linux.EINVAL, "Invalid index"},
	{"array index not an int", "btf_array_resolve", func() []byte {
		return withInt().add(0, info(kPTR, 0, false), 1).add(0, info(kARRAY, 0, false), 0, 1, 2, 4).bytes()
	}, linux.EINVAL, "[3] ARRAY (anon) type_id=1 index_type_id=2 nr_elems=4 Invalid index"},
	{"array of bitfield ints", "btf_array_resolve", func() []byte {
		b := withInt()
		b.add(b.str("i3"), info(kINT, 0, false), 1, 3)
		return b.add(0, info(kARRAY, 0, false), 0, 2, 1, 4).bytes()
	}, linux.EINVAL, "Invalid array of int"},
	{"array size overflow", "btf_array_resolve", func() []byte {
		return withInt().add(0, info(kARRAY, 0, false), 0, 1, 1, 0x40000001).bytes()
	}, linux.EINVAL, "Array size overflows U32_MAX"},
	{"array of arrays", "btf_array_resolve", func() []byte {
		return withInt().add(0, info(kARRAY, 0, false), 0, 1, 1, 4).add(0, info(kARRAY, 0, false), 0, 2, 1, 3).bytes()
	}, nil, "[3] ARRAY (anon) type_id=2 index_type_id=1 nr_elems=3"},
	// STRUCT / UNION
	{"struct member cut short", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 2, false), 8, b.str("a"), 1, 0).bytes()
	}, linux.EINVAL, "[2] STRUCT s meta_left:12 meta_needed:24"},
	{"struct member name offset", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 4, 999, 1, 0).bytes()
	}, linux.EINVAL, "\t(invalid-name-offset) type_id=1 bits_offset=0 Invalid member name_offset:999"},
	{"struct member of void", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 4, b.str("a"), 0, 0).bytes()
	}, linux.EINVAL, "\ta type_id=0 bits_offset=0 Invalid type_id"},
	{"union member at an offset", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("u"), info(kUNION, 1, false), 8, b.str("a"), 1, 32).bytes()
	}, linux.EINVAL, "Invalid member bits_offset"},
	{"members out of order", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 2, false), 8, b.str("a"), 1, 32, b.str("b"), 1, 0).bytes()
	}, linux.EINVAL, "\tb type_id=1 bits_offset=0 Invalid member bits_offset"},
	{"member offset past the struct", "btf_struct_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 4, b.str("a"), 1, 64).bytes()
	}, linux.EINVAL, "Member bits_offset exceeds its struct size"},
	{"member exceeds the struct", "btf_int_check_member", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 2, false), 6, b.str("a"), 1, 0, b.str("b"), 1, 32).bytes()
	}, linux.EINVAL, "[2] STRUCT s size=6 vlen=2\n\tb type_id=1 bits_offset=32 Member exceeds struct_size"},
	{"struct member not byte aligned", "btf_struct_check_member", func() []byte {
		b := withInt()
		b.add(b.str("in"), info(kSTRUCT, 1, false), 4, b.str("x"), 1, 0)
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 8, b.str("a"), 2, 4).bytes()
	}, linux.EINVAL, "Member is not byte aligned"},
	{"member of function type", "btf_struct_resolve", func() []byte {
		b := withInt()
		b.add(0, info(kFUNC_PROTO, 0, false), 1)
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 8, b.str("f"), 2, 0).bytes()
	}, linux.EINVAL, "\tf type_id=2 bits_offset=0 Invalid member"},
	{"struct containing itself", "btf_struct_resolve / env_stack_push", func() []byte {
		b := withInt()
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 4, b.str("self"), 2, 0).bytes()
	}, linux.EEXIST, "[2] STRUCT s size=4 vlen=1 Loop detected"},
	{"self-referencing list node", "btf_ptr_resolve", func() []byte {
		b := withInt()
		b.add(b.str("node"), info(kSTRUCT, 2, false), 16, b.str("v"), 1, 0, b.str("next"), 3, 64)
		return b.add(0, info(kPTR, 0, false), 2).bytes()
	}, nil, "\tnext type_id=3 bits_offset=64"},
	{"kind_flag bitfields", "btf_int_check_kflag_member", func() []byte {
		b := withInt()
		return b.add(b.str("bf"), info(kSTRUCT, 2, true), 4, b.str("a"), 1, 3<<24|0, b.str("b"), 1, 5<<24|3).bytes()
	}, nil, "\tb type_id=1 bitfield_size=5 bits_offset=3"},
	{"bitfield wider than its int", "btf_int_check_kflag_member", func() []byte {
		b := withInt()
		return b.add(b.str("bf"), info(kSTRUCT, 1, true), 8, b.str("a"), 1, 33<<24).bytes()
	}, linux.EINVAL, "Invalid member bitfield_size"},
	{"bitfield of a pointer", "btf_generic_check_kflag_member", func() []byte {
		b := withInt()
		b.add(0, info(kPTR, 0, false), 1)
		return b.add(b.str("bf"), info(kSTRUCT, 1, true), 8, b.str("p"), 2, 3<<24).bytes()
	}, linux.EINVAL, "Invalid member bitfield_size"},
	{"bitfield past the struct", "btf_int_check_kflag_member", func() []byte {
		b := withInt()
		return b.add(b.str("bf"), info(kSTRUCT, 1, true), 1, b.str("a"), 1, 4<<24|6).bytes()
	}, linux.EINVAL, "Member exceeds struct_size"},
	// ENUM / ENUM64
	{"enum of 3 bytes", "btf_enum_check_meta", func() []byte {
		b := newBuilder()
		return b.add(b.str("e"), info(kENUM, 1, false), 3, b.str("A"), 1).bytes()
	}, linux.EINVAL, "Unexpected size"},
	{"enumerator without name", "btf_enum_check_meta", func() []byte {
		b := newBuilder()
		return b.add(b.str("e"), info(kENUM, 1, false), 4, 0, 1).bytes()
	}, linux.EINVAL, "[1] ENUM e size=4 vlen=1 Invalid name"},
	{"enumerator name offset", "btf_enum_check_meta", func() []byte {
		b := newBuilder()
		return b.add(b.str("e"), info(kENUM, 1, false), 4, 77, 1).bytes()
	}, linux.EINVAL, "\tInvalid name_offset:77"},
	{"signed and unsigned enums", "btf_enum_check_meta", func() []byte {
		b := newBuilder()
		b.add(b.str("s"), info(kENUM, 1, true), 4, b.str("NEG"), 0xffffffff)
		b.add(b.str("u"), info(kENUM, 1, false), 4, b.str("BIG"), 0xffffffff)
		return b.add(b.str("w"), info(kENUM64, 1, true), 8, b.str("W"), 0xfffffffe, 0xffffffff).bytes()
	}, nil, "\tNEG val=-1\n[2] ENUM u size=4 vlen=1\n\tBIG val=4294967295\n[3] ENUM64 w size=8 vlen=1\n\tW val=-2"},
	// FWD, FUNC, FUNC_PROTO
	{"forward with a type", "btf_fwd_check_meta", func() []byte {
		b := newBuilder()
		return b.add(b.str("f"), info(kFWD, 0, false), 1).bytes()
	}, linux.EINVAL, "type != 0"},
	{"extern func", "btf_func_check_meta", func() []byte {
		b := withInt().add(0, info(kFUNC_PROTO, 0, false), 1)
		return b.add(b.str("f"), info(kFUNC, linux.BTF_FUNC_EXTERN, false), 2).bytes()
	}, linux.EINVAL, "Invalid func linkage"},
	{"func of a non-prototype", "btf_func_check", func() []byte {
		b := withInt()
		return b.add(b.str("f"), info(kFUNC, 0, false), 1).bytes()
	}, linux.EINVAL, "[2] FUNC f type_id=1 Invalid type_id"},
	{"func with an unnamed parameter", "btf_func_check", func() []byte {
		b := withInt().add(0, info(kFUNC_PROTO, 1, false), 1, 0, 1)
		return b.add(b.str("f"), info(kFUNC, 0, false), 2).bytes()
	}, linux.EINVAL, "Invalid arg#1"},
	{"void parameter", "btf_func_proto_check", func() []byte {
		b := withInt()
		return b.add(0, info(kFUNC_PROTO, 2, false), 1, 0, 0, b.str("x"), 1).bytes()
	}, linux.EINVAL, "[2] FUNC_PROTO (anon) return=1 args=(0 (anon), 1 x) Invalid arg#1"},
	{"named vararg", "btf_func_proto_check", func() []byte {
		b := withInt()
		return b.add(0, info(kFUNC_PROTO, 2, false), 1, b.str("x"), 1, b.str("y"), 0).bytes()
	}, linux.EINVAL, "Invalid arg#2"},
	{"bad return type", "btf_func_proto_check", func() []byte {
		return withInt().add(0, info(kFUNC_PROTO, 0, false), 7).bytes()
	}, linux.EINVAL, "Invalid return type"},
	{"varargs prototype and global func", "btf_func_proto_check", func() []byte {
		b := withInt()
		b.add(0, info(kFUNC_PROTO, 2, false), 1, b.str("fmt"), 1, 0, 0)
		return b.add(b.str("printk"), info(kFUNC, linux.BTF_FUNC_GLOBAL, false), 2).bytes()
	}, nil, "[2] FUNC_PROTO (anon) return=1 args=(1 fmt, vararg)"},
	// VAR, DATASEC
	{"extern var", "btf_var_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("v"), info(kVAR, 0, false), 1, linux.BTF_VAR_GLOBAL_EXTERN).bytes()
	}, linux.EINVAL, "Linkage not supported"},
	{"var of void", "btf_var_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("v"), info(kVAR, 0, false), 0, 0).bytes()
	}, linux.EINVAL, "Invalid type_id"},
	{"var of a forward", "btf_var_resolve", func() []byte {
		b := withInt()
		b.add(b.str("f"), info(kFWD, 0, false), 0)
		return b.add(b.str("v"), info(kVAR, 0, false), 2, 0).bytes()
	}, linux.EINVAL, "[3] VAR v type_id=2 linkage=0 Invalid type_id"},
	{"datasec of size 0", "btf_datasec_check_meta", func() []byte {
		b := withInt()
		b.add(b.str("v"), info(kVAR, 0, false), 1, 1)
		return b.add(b.str(".data"), info(kDATASEC, 1, false), 0, 2, 0, 4).bytes()
	}, linux.EINVAL, "[3] DATASEC .data size=0 vlen=1 size == 0"},
	{"datasec vars overlap", "btf_datasec_check_meta", func() []byte {
		b := withInt()
		b.add(b.str("v"), info(kVAR, 0, false), 1, 1)
		return b.add(b.str(".data"), info(kDATASEC, 2, false), 8, 2, 0, 4, 2, 2, 4).bytes()
	}, linux.EINVAL, "\t type_id=2 offset=2 size=4 Invalid offset"},
	{"datasec var past the end", "btf_datasec_check_meta", func() []byte {
		b := withInt()
		b.add(b.str("v"), info(kVAR, 0, false), 1, 1)
		return b.add(b.str(".data"), info(kDATASEC, 1, false), 8, 2, 6, 4).bytes()
	}, linux.EINVAL, "Invalid offset+size"},
	{"datasec of a non-var", "btf_datasec_resolve", func() []byte {
		b := withInt()
		return b.add(b.str(".data"), info(kDATASEC, 1, false), 4, 1, 0, 4).bytes()
	}, linux.EINVAL, "[2] DATASEC .data size=4 vlen=1\n\t type_id=1 offset=0 size=4 Not a VAR kind member"},
	{"datasec slot smaller than its var", "btf_datasec_resolve", func() []byte {
		b := withInt()
		b.add(b.str("v"), info(kVAR, 0, false), 1, 1)
		return b.add(b.str(".data"), info(kDATASEC, 1, false), 4, 2, 0, 2).bytes()
	}, linux.EINVAL, "Invalid size"},
	{"datasec with dotted names", "btf_datasec_check_meta", func() []byte {
		b := withInt()
		b.add(b.str("v.x"), info(kVAR, 0, false), 1, 0)
		return b.add(b.str(".rodata.str1.1"), info(kDATASEC, 1, false), 8, 2, 4, 4).bytes()
	}, nil, "[3] DATASEC .rodata.str1.1 size=8 vlen=1\n\t type_id=2 offset=4 size=4"},
	// FLOAT, DECL_TAG, TYPE_TAG
	{"float of 3 bytes", "btf_float_check_meta", func() []byte {
		b := newBuilder()
		return b.add(b.str("f"), info(kFLOAT, 0, false), 3).bytes()
	}, linux.EINVAL, "Invalid type_size"},
	{"misaligned float member", "btf_float_check_member", func() []byte {
		b := newBuilder()
		b.add(b.str("double"), info(kFLOAT, 0, false), 8)
		return b.add(b.str("s"), info(kSTRUCT, 1, false), 16, b.str("d"), 1, 32).bytes()
	}, linux.EINVAL, "Member is not properly aligned"},
	{"decl tag without value", "btf_decl_tag_check_meta", func() []byte {
		b := withInt()
		return b.add(0, info(kDECL_TAG, 0, false), 1, 0xffffffff).bytes()
	}, linux.EINVAL, "Invalid value"},
	{"decl tag component -2", "btf_decl_tag_check_meta", func() []byte {
		b := withInt()
		return b.add(b.str("t"), info(kDECL_TAG, 0, false), 1, 0xfffffffe).bytes()
	}, linux.EINVAL, "Invalid component_idx"},
	{"decl tag on an int", "btf_decl_tag_resolve", func() []byte {
		b := withInt()
		return b.add(b.str("t"), info(kDECL_TAG, 0, false), 1, 0xffffffff).bytes()
	}, linux.EINVAL, "[2] DECL_TAG t type=1 component_idx=-1 Invalid type_id"},
	{"decl tag member out of range", "btf_decl_tag_resolve", func() []byte {
		b := withInt()
		b.add(b.str("s"), info(kSTRUCT, 1, false), 4, b.str("a"), 1, 0)
		return b.add(b.str("t"), info(kDECL_TAG, 0, false), 2, 1).bytes()
	}, linux.EINVAL, "Invalid component_idx"},
	{"type tag after a qualifier", "btf_check_type_tags", func() []byte {
		b := withInt()
		b.add(b.str("user"), info(kTYPE_TAG, 0, false), 1)
		return b.add(0, info(kCONST, 0, false), 2).add(0, info(kPTR, 0, false), 3).bytes()
	}, linux.EINVAL, "Type tags don't precede modifiers"},
	{"type tag before a qualifier", "btf_check_type_tags", func() []byte {
		b := withInt()
		b.add(0, info(kCONST, 0, false), 1)
		return b.add(b.str("user"), info(kTYPE_TAG, 0, false), 2).add(0, info(kPTR, 0, false), 3).bytes()
	}, nil, "[3] TYPE_TAG user type_id=2"},
	// limits
	{"blob over 16 MiB", "btf_parse (BTF_MAX_SIZE)", func() []byte { return make([]byte, MaxSize+1) }, linux.E2BIG, ""},
}

func runLoad(t *testing.T, raw []byte, logSize uint32) (*Spec, string, error) {
	t.Helper()
	buf := make(log.Buffer, logSize)
	lg, err := log.New(1, 1, logSize, buf)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(raw, lg)
	return s, buf.String(), err
}

func TestLoadCases(t *testing.T) {
	for _, tc := range loadCases {
		t.Run(tc.name, func(t *testing.T) {
			s, text, err := runLoad(t, tc.blob(), 1<<20)
			if (err == nil) != (tc.err == nil) || err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("%s: err %v, want %v\nlog:\n%s", tc.check, err, tc.err, text)
			}
			if !strings.Contains(text, tc.log) {
				t.Errorf("%s: log lacks %q:\n%s", tc.check, tc.log, text)
			}
			if err == nil && s == nil {
				t.Error("nil Spec without error")
			}
		})
	}
}

// TestTooManyTypes builds blobs around BTF_MAX_TYPE records. Linux drops
// the records past the last id (btf_add_type's E2BIG is ignored by
// btf_check_all_metas) and accepts the blob, unless a kept type refers to a
// dropped one.
func TestTooManyTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("12 MiB blobs")
	}
	if _, _, err := runLoad(t, manyTypes(linux.BTF_MAX_TYPE+1), 128); !errors.Is(err, linux.ENOSPC) {
		t.Fatalf("with a small log: err %v, want ENOSPC (the log overflows)", err)
	}
	if s, err := Load(manyTypes(linux.BTF_MAX_TYPE+1), nil); err != nil || s.NumTypes() != linux.BTF_MAX_TYPE {
		t.Fatalf("err %v, %d ids", err, s.NumTypes())
	}
	raw := danglingPastLimit()
	if _, err := Load(raw, nil); !errors.Is(err, linux.EINVAL) {
		t.Fatalf("reference to a dropped type: %v", err)
	}
}

// danglingPastLimit is manyTypes(BTF_MAX_TYPE) whose type 2 points at the
// last record, the one Linux drops.
func danglingPastLimit() []byte {
	raw := manyTypes(linux.BTF_MAX_TYPE)
	binary.LittleEndian.PutUint32(raw[24+16+8:], linux.BTF_MAX_TYPE)
	return raw
}

// manyTypes is n records: an int, then pointers to it.
func manyTypes(n int) []byte {
	b := withInt()
	b.words = make([]uint32, 0, 3*n+1)
	b.intType("int", 4)
	for i := 1; i < n; i++ {
		b.words = append(b.words, 0, info(kPTR, 0, false), 1)
	}
	return b.bytes()
}

func TestLogFullGivesENOSPC(t *testing.T) {
	// A valid blob whose log does not fit: Linux 6.1 answers ENOSPC.
	raw := withInt().add(0, info(kPTR, 0, false), 1).bytes()
	_, text, err := runLoad(t, raw, 128)
	if !errors.Is(err, linux.ENOSPC) || len(text) != 127 {
		t.Fatalf("err %v, log %d bytes", err, len(text))
	}
	// An invalid one keeps its own errno (6.1; 6.4+ would say ENOSPC).
	raw[0] = 0
	if _, _, err := runLoad(t, raw, 128); !errors.Is(err, linux.EINVAL) {
		t.Fatalf("err %v", err)
	}
	// No log at all: accepted.
	if _, err := Load(withInt().bytes(), nil); err != nil {
		t.Fatal(err)
	}
}
