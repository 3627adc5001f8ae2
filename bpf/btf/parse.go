package btf

import (
	"encoding/binary"
	"fmt"

	"hachi/bpf/log"
	"hachi/syscall/linux"
)

const (
	btfTypeSize   = 12         // sizeof(struct btf_type)
	btfHeaderSize = 24         // sizeof(struct btf_header)
	btfInfoMask   = 0x9f00ffff // BTF_INFO_MASK: kind_flag, kind, vlen
	btfIntMask    = 0x0fffffff // BTF_INT_MASK
	bitsPerU128   = 128
	// ksymNameLen is KSYM_NAME_LEN (512 since Linux 6.1): names must be
	// shorter.
	ksymNameLen = 512
	// maxResolveDepth is MAX_RESOLVE_DEPTH, the resolve stack's size.
	maxResolveDepth = 32
)

type phase int

const (
	phaseCheckMeta phase = iota
	phaseCheckType
)

// env is the state of one validation (struct btf_verifier_env).
type env struct {
	s         *Spec
	log       *log.Log
	logTypeID uint32
	phase     phase
	visit     []uint8
	stack     [maxResolveDepth]vertex
	top       int
	mode      resolveMode
}

// Load validates a raw BTF blob as BPF_BTF_LOAD does and returns it, or the
// errno Linux would give. lg receives btf_verifier_log's text; it may be a
// disabled log. The blob is used in place: the caller must not change it.
func Load(data []byte, lg *log.Log) (*Spec, error) {
	if len(data) > MaxSize {
		return nil, linux.E2BIG
	}
	if lg == nil {
		lg = &log.Log{}
	}
	e := &env{s: &Spec{data: data}, log: lg}
	if err := e.parseHeader(); err != nil {
		return nil, err
	}
	e.s.body = data[e.s.hdr.HdrLen:]
	if err := e.parseStrings(); err != nil {
		return nil, err
	}
	if err := e.parseTypes(); err != nil {
		return nil, err
	}
	if err := e.checkTypeTags(); err != nil {
		return nil, err
	}
	if lg.Full() {
		return nil, linux.ENOSPC
	}
	return e.s, nil
}

// logf is btf_verifier_log: raw text, only when the log wants it.
func (e *env) logf(format string, args ...any) {
	if e.log.Enabled() {
		e.log.Printf(format, args...)
	}
}

// parseHeader is btf_parse_hdr.
func (e *env) parseHeader() error {
	data := e.s.data
	size := uint32(len(data))
	if size < 8 { // offsetofend(struct btf_header, hdr_len)
		e.logf("hdr_len not found")
		return linux.EINVAL
	}
	hdrLen := binary.LittleEndian.Uint32(data[4:])
	if size < hdrLen {
		e.logf("btf_header not found")
		return linux.EINVAL
	}
	if hdrLen > btfHeaderSize {
		for _, b := range data[btfHeaderSize:hdrLen] {
			if b != 0 {
				e.logf("Unsupported btf_header")
				return linux.E2BIG
			}
		}
	}
	var raw [btfHeaderSize]byte
	copy(raw[:], data[:min(hdrLen, btfHeaderSize)])
	h := &e.s.hdr
	h.Magic = binary.LittleEndian.Uint16(raw[0:])
	h.Version = raw[2]
	h.Flags = raw[3]
	h.HdrLen = binary.LittleEndian.Uint32(raw[4:])
	h.TypeOff = binary.LittleEndian.Uint32(raw[8:])
	h.TypeLen = binary.LittleEndian.Uint32(raw[12:])
	h.StrOff = binary.LittleEndian.Uint32(raw[16:])
	h.StrLen = binary.LittleEndian.Uint32(raw[20:])
	// Like Linux, only hdr_len bytes are copied: a header shorter than 8
	// bytes leaves btf->hdr.hdr_len (and so the section base) cut short.

	if e.log.Enabled() {
		e.log.Printf("magic: 0x%x\n", h.Magic)
		e.log.Printf("version: %d\n", h.Version)
		e.log.Printf("flags: 0x%x\n", h.Flags)
		e.log.Printf("hdr_len: %d\n", h.HdrLen)
		e.log.Printf("type_off: %d\n", h.TypeOff)
		e.log.Printf("type_len: %d\n", h.TypeLen)
		e.log.Printf("str_off: %d\n", h.StrOff)
		e.log.Printf("str_len: %d\n", h.StrLen)
		e.log.Printf("btf_total_size: %d\n", size)
	}
	if h.Magic != linux.BTF_MAGIC {
		e.logf("Invalid magic")
		return linux.EINVAL
	}
	if h.Version != linux.BTF_VERSION {
		e.logf("Unsupported version")
		return linux.ENOTSUPP
	}
	if h.Flags != 0 {
		e.logf("Unsupported flags")
		return linux.ENOTSUPP
	}
	if size == h.HdrLen {
		e.logf("No data")
		return linux.EINVAL
	}
	return e.checkSections(size)
}

// checkSections is btf_check_sec_info: the type and string sections must
// tile the data after the header exactly, without gap or overlap.
func (e *env) checkSections(size uint32) error {
	type sec struct{ off, len uint32 }
	secs := [2]sec{{e.s.hdr.TypeOff, e.s.hdr.TypeLen}, {e.s.hdr.StrOff, e.s.hdr.StrLen}}
	// Linux sorts with a comparator on int-cast differences; mirror it.
	cmp := func(x, y sec) int32 {
		if d := int32(x.off - y.off); d != 0 {
			return d
		}
		return int32(x.len - y.len)
	}
	if cmp(secs[0], secs[1]) > 0 {
		secs[0], secs[1] = secs[1], secs[0]
	}
	total := uint32(0)
	expected := size - e.s.hdr.HdrLen
	for _, s := range secs {
		if expected < s.off {
			e.logf("Invalid section offset")
			return linux.EINVAL
		}
		if total < s.off {
			e.logf("Unsupported section found")
			return linux.EINVAL
		}
		if total > s.off {
			e.logf("Section overlap found")
			return linux.EINVAL
		}
		if expected-total < s.len {
			e.logf("Total section length too long")
			return linux.EINVAL
		}
		total += s.len
	}
	if expected != total {
		e.logf("Unsupported section found")
		return linux.EINVAL
	}
	return nil
}

// parseStrings is btf_parse_str_sec.
func (e *env) parseStrings() error {
	h := e.s.hdr
	if uint64(h.StrOff)+uint64(h.StrLen) != uint64(len(e.s.body)) {
		e.logf("String section is not at the end")
		return linux.EINVAL
	}
	str := e.s.body[h.StrOff : h.StrOff+h.StrLen]
	if h.StrLen == 0 || h.StrLen-1 > linux.BTF_MAX_NAME_OFFSET || str[len(str)-1] != 0 || str[0] != 0 {
		e.logf("Invalid string section")
		return linux.EINVAL
	}
	e.s.strings = str
	return nil
}

// parseTypes is btf_parse_type_sec: the meta pass over every record, then
// the resolve pass.
func (e *env) parseTypes() error {
	h := e.s.hdr
	if h.TypeOff&3 != 0 {
		e.logf("Unaligned type_off")
		return linux.EINVAL
	}
	if h.TypeLen == 0 {
		e.logf("No type found")
		return linux.EINVAL
	}
	if err := e.checkAllMetas(); err != nil {
		return err
	}
	return e.checkAllTypes()
}

// checkAllMetas is btf_check_all_metas: walk the records, check each one's
// fixed part and its trailing data, and number them from 1.
func (e *env) checkAllMetas() error {
	h := e.s.hdr
	cur, end := h.TypeOff, h.TypeOff+h.TypeLen
	e.s.offs = append(e.s.offs, 0) // void
	e.logTypeID = 1
	for cur < end {
		n, err := e.checkMeta(cur, end-cur)
		if err != nil {
			return err
		}
		// btf_add_type refuses a type past BTF_MAX_TYPE ids with E2BIG, but
		// btf_check_all_metas ignores its result: Linux logs the refusal, drops
		// the record and goes on, so references to it fail later as
		// "Invalid type_id". Mirror that.
		if len(e.s.offs) == linux.BTF_MAX_TYPE {
			e.logf("Exceeded max num of types")
		} else {
			e.s.offs = append(e.s.offs, cur)
		}
		cur += n
		e.logTypeID++
	}
	return nil
}

// nameOffValid is btf_name_offset_valid.
func (e *env) nameOffValid(off uint32) bool {
	return off <= linux.BTF_MAX_NAME_OFFSET && off < uint32(len(e.s.strings))
}

// Linux's <linux/ctype.h> classes for bytes: Latin-1 letters count as
// letters (lib/ctype.c), so names may hold them.
func isAlpha(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= 0xc0 && c != 0xd7 && c != 0xf7
}

func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// nameCharOK is __btf_name_char_ok.
func nameCharOK(c byte, first, dotOK bool) bool {
	if first && isAlpha(c) || !first && isAlnum(c) || c == '_' {
		return true
	}
	return c == '.' && dotOK
}

// nameValid is __btf_name_valid: a C identifier (or, with dotOK, a section
// name) shorter than KSYM_NAME_LEN, at a valid offset.
func (e *env) nameValid(off uint32, dotOK bool) bool {
	b := e.s.strings[off:]
	if !nameCharOK(b[0], true, dotOK) {
		return false
	}
	i := 1
	for ; b[i] != 0 && i < ksymNameLen; i++ {
		if !nameCharOK(b[i], false, dotOK) {
			return false
		}
	}
	return b[i] == 0
}

// nameOrAnon is __btf_name_by_offset, for log lines.
func (s *Spec) nameOrAnon(off uint32) string {
	if off == 0 {
		return "(anon)"
	}
	if off >= uint32(len(s.strings)) {
		return "(invalid-name-offset)"
	}
	return s.str(off)
}

// recordType makes a Type view of the record at body offset off.
func (e *env) recordType(off uint32) Type {
	return Type{s: e.s, id: TypeID(e.logTypeID), off: off}
}

// logType is __btf_verifier_log_type: "[id] KIND name details msg\n".
func (e *env) logType(t Type, details bool, msg string) {
	if !e.log.Enabled() {
		return
	}
	sep := ""
	if details {
		sep = " "
	}
	e.log.Printf("[%d] %s %s%s", e.logTypeID, t.Kind(), e.s.nameOrAnon(t.NameOff()), sep)
	if details {
		e.logDetails(t)
	}
	if msg != "" {
		e.log.Write(" ")
		e.log.Write(msg)
	}
	e.log.Write("\n")
}

// logDetails is each kind's log_details operation.
func (e *env) logDetails(t Type) {
	switch t.Kind() {
	case linux.BTF_KIND_INT:
		enc := "UNKN"
		switch t.IntEncoding() {
		case 0:
			enc = "(none)"
		case linux.BTF_INT_SIGNED:
			enc = "SIGNED"
		case linux.BTF_INT_CHAR:
			enc = "CHAR"
		case linux.BTF_INT_BOOL:
			enc = "BOOL"
		}
		e.logf("size=%d bits_offset=%d nr_bits=%d encoding=%s", t.Size(), t.IntOffset(), t.IntBits(), enc)
	case linux.BTF_KIND_PTR, linux.BTF_KIND_TYPEDEF, linux.BTF_KIND_VOLATILE, linux.BTF_KIND_CONST,
		linux.BTF_KIND_RESTRICT, linux.BTF_KIND_TYPE_TAG, linux.BTF_KIND_FUNC:
		e.logf("type_id=%d", t.Ref())
	case linux.BTF_KIND_FWD:
		if t.KindFlag() {
			e.logf("union")
		} else {
			e.logf("struct")
		}
	case linux.BTF_KIND_ARRAY:
		a := t.Array()
		e.logf("type_id=%d index_type_id=%d nr_elems=%d", a.Type, a.IndexType, a.Nelems)
	case linux.BTF_KIND_STRUCT, linux.BTF_KIND_UNION, linux.BTF_KIND_ENUM, linux.BTF_KIND_ENUM64,
		linux.BTF_KIND_DATASEC:
		e.logf("size=%d vlen=%d", t.Size(), t.Vlen())
	case linux.BTF_KIND_FUNC_PROTO:
		e.logFuncProto(t)
	case linux.BTF_KIND_VAR:
		e.logf("type_id=%d linkage=%d", t.Ref(), t.Linkage())
	case linux.BTF_KIND_FLOAT:
		e.logf("size=%d", t.Size())
	case linux.BTF_KIND_DECL_TAG:
		e.logf("type=%d component_idx=%d", t.Ref(), t.ComponentIdx())
	}
}

// logFuncProto is btf_func_proto_log.
func (e *env) logFuncProto(t Type) {
	n := t.Vlen()
	e.logf("return=%d args=(", t.Ref())
	switch {
	case n == 0:
		e.logf("void")
	case n == 1 && t.Param(0).Type == 0:
		e.logf("vararg")
	default:
		p := t.Param(0)
		e.logf("%d %s", p.Type, e.s.nameOrAnon(p.NameOff))
		for i := 1; i < n-1; i++ {
			p := t.Param(i)
			e.logf(", %d %s", p.Type, e.s.nameOrAnon(p.NameOff))
		}
		if n > 1 {
			if last := t.Param(n - 1); last.Type != 0 {
				e.logf(", %d %s", last.Type, e.s.nameOrAnon(last.NameOff))
			} else {
				e.logf(", vararg")
			}
		}
	}
	e.logf(")")
}

// logMember is btf_verifier_log_member.
func (e *env) logMember(st Type, i int, msg string) {
	if !e.log.Enabled() {
		return
	}
	if e.phase != phaseCheckMeta {
		e.logType(st, true, "")
	}
	m := st.rawMember(i)
	if st.KindFlag() {
		e.log.Printf("\t%s type_id=%d bitfield_size=%d bits_offset=%d", e.s.nameOrAnon(m.NameOff), m.Type,
			linux.BTF_MEMBER_BITFIELD_SIZE(m.Offset), linux.BTF_MEMBER_BIT_OFFSET(m.Offset))
	} else {
		e.log.Printf("\t%s type_id=%d bits_offset=%d", e.s.nameOrAnon(m.NameOff), m.Type, m.Offset)
	}
	if msg != "" {
		e.log.Write(" ")
		e.log.Write(msg)
	}
	e.log.Write("\n")
}

// logVsi is btf_verifier_log_vsi.
func (e *env) logVsi(ds Type, i int, msg string) {
	if !e.log.Enabled() {
		return
	}
	if e.phase != phaseCheckMeta {
		e.logType(ds, true, "")
	}
	v := ds.VarSecinfo(i)
	e.log.Printf("\t type_id=%d offset=%d size=%d", v.Type, v.Offset, v.Size)
	if msg != "" {
		e.log.Write(" ")
		e.log.Write(msg)
	}
	e.log.Write("\n")
}

// checkMeta is btf_check_meta: the record at body offset off, with left bytes
// of the type section remaining. It returns the record's length.
func (e *env) checkMeta(off, left uint32) (uint32, error) {
	if left < btfTypeSize {
		e.logf("[%d] meta_left:%d meta_needed:%d", e.logTypeID, left, btfTypeSize)
		return 0, linux.EINVAL
	}
	left -= btfTypeSize
	t := e.recordType(off)
	info := t.word(1)
	if info&^btfInfoMask != 0 {
		e.logf("[%d] Invalid btf_info:%x", e.logTypeID, info)
		return 0, linux.EINVAL
	}
	kind := linux.BTF_INFO_KIND(info)
	if kind > linux.BTF_KIND_MAX || kind == linux.BTF_KIND_UNKN {
		e.logf("[%d] Invalid kind:%d", e.logTypeID, kind)
		return 0, linux.EINVAL
	}
	if !e.nameOffValid(t.word(0)) {
		e.logf("[%d] Invalid name_offset:%d", e.logTypeID, t.word(0))
		return 0, linux.EINVAL
	}
	extra, err := e.checkKindMeta(t, left)
	if err != nil {
		return 0, err
	}
	return btfTypeSize + extra, nil
}

// metaLeft logs and fails when a record's trailing data is cut short.
func (e *env) metaLeft(t Type, left, needed uint32) error {
	if left < needed {
		e.logType(t, false, fmt.Sprintf("meta_left:%d meta_needed:%d", left, needed))
		return linux.EINVAL
	}
	return nil
}

// fail logs msg on the type's line and returns EINVAL.
func (e *env) fail(t Type, msg string) error {
	e.logType(t, true, msg)
	return linux.EINVAL
}

// checkKindMeta is each kind's check_meta operation; it returns the size of
// the data following btf_type.
func (e *env) checkKindMeta(t Type, left uint32) (uint32, error) {
	switch t.Kind() {
	case linux.BTF_KIND_INT:
		return e.checkIntMeta(t, left)
	case linux.BTF_KIND_PTR, linux.BTF_KIND_TYPEDEF, linux.BTF_KIND_VOLATILE, linux.BTF_KIND_CONST,
		linux.BTF_KIND_RESTRICT, linux.BTF_KIND_TYPE_TAG:
		return 0, e.checkRefMeta(t)
	case linux.BTF_KIND_FWD:
		switch {
		case t.Vlen() != 0:
			return 0, e.fail(t, "vlen != 0")
		case t.Ref() != 0:
			return 0, e.fail(t, "type != 0")
		case t.NameOff() == 0 || !e.nameValid(t.NameOff(), false):
			return 0, e.fail(t, "Invalid name")
		}
		e.logType(t, true, "")
		return 0, nil
	case linux.BTF_KIND_ARRAY:
		return e.checkArrayMeta(t, left)
	case linux.BTF_KIND_STRUCT, linux.BTF_KIND_UNION:
		return e.checkStructMeta(t, left)
	case linux.BTF_KIND_ENUM, linux.BTF_KIND_ENUM64:
		return e.checkEnumMeta(t, left)
	case linux.BTF_KIND_FUNC_PROTO:
		needed := uint32(t.Vlen()) * 8
		if err := e.metaLeft(t, left, needed); err != nil {
			return 0, err
		}
		if t.NameOff() != 0 {
			return 0, e.fail(t, "Invalid name")
		}
		if t.KindFlag() {
			return 0, e.fail(t, "Invalid btf_info kind_flag")
		}
		e.logType(t, true, "")
		return needed, nil
	case linux.BTF_KIND_FUNC:
		switch {
		case t.NameOff() == 0 || !e.nameValid(t.NameOff(), false):
			return 0, e.fail(t, "Invalid name")
		case t.Vlen() > linux.BTF_FUNC_GLOBAL:
			return 0, e.fail(t, "Invalid func linkage")
		case t.KindFlag():
			return 0, e.fail(t, "Invalid btf_info kind_flag")
		}
		e.logType(t, true, "")
		return 0, nil
	case linux.BTF_KIND_VAR:
		if err := e.metaLeft(t, left, 4); err != nil {
			return 0, err
		}
		switch {
		case t.Vlen() != 0:
			return 0, e.fail(t, "vlen != 0")
		case t.KindFlag():
			return 0, e.fail(t, "Invalid btf_info kind_flag")
		case t.NameOff() == 0 || !e.nameValid(t.NameOff(), true):
			return 0, e.fail(t, "Invalid name")
		case t.Ref() == 0 || t.Ref() > linux.BTF_MAX_TYPE:
			return 0, e.fail(t, "Invalid type_id")
		case t.Linkage() != linux.BTF_VAR_STATIC && t.Linkage() != linux.BTF_VAR_GLOBAL_ALLOCATED:
			return 0, e.fail(t, "Linkage not supported")
		}
		e.logType(t, true, "")
		return 4, nil
	case linux.BTF_KIND_DATASEC:
		return e.checkDatasecMeta(t, left)
	case linux.BTF_KIND_FLOAT:
		switch {
		case t.Vlen() != 0:
			return 0, e.fail(t, "vlen != 0")
		case t.KindFlag():
			return 0, e.fail(t, "Invalid btf_info kind_flag")
		}
		switch t.Size() {
		case 2, 4, 8, 12, 16:
		default:
			return 0, e.fail(t, "Invalid type_size")
		}
		e.logType(t, true, "")
		return 0, nil
	case linux.BTF_KIND_DECL_TAG:
		if err := e.metaLeft(t, left, 4); err != nil {
			return 0, err
		}
		switch {
		case t.Name() == "":
			return 0, e.fail(t, "Invalid value")
		case t.Vlen() != 0:
			return 0, e.fail(t, "vlen != 0")
		case t.KindFlag():
			return 0, e.fail(t, "Invalid btf_info kind_flag")
		case t.ComponentIdx() < -1:
			return 0, e.fail(t, "Invalid component_idx")
		}
		e.logType(t, true, "")
		return 4, nil
	}
	return 0, linux.EINVAL // unreachable: checkMeta refused the kind
}

// checkIntMeta is btf_int_check_meta.
func (e *env) checkIntMeta(t Type, left uint32) (uint32, error) {
	if err := e.metaLeft(t, left, 4); err != nil {
		return 0, err
	}
	if t.Vlen() != 0 {
		return 0, e.fail(t, "vlen != 0")
	}
	if t.KindFlag() {
		return 0, e.fail(t, "Invalid btf_info kind_flag")
	}
	data := t.word(3)
	if data&^btfIntMask != 0 {
		e.logType(t, false, fmt.Sprintf("Invalid int_data:%x", data))
		return 0, linux.EINVAL
	}
	bits := linux.BTF_INT_BITS(data) + linux.BTF_INT_OFFSET(data)
	if bits > bitsPerU128 {
		return 0, e.fail(t, fmt.Sprintf("nr_bits exceeds %d", bitsPerU128))
	}
	if (bits+7)/8 > t.Size() {
		return 0, e.fail(t, "nr_bits exceeds type_size")
	}
	if enc := linux.BTF_INT_ENCODING(data); enc != 0 && enc != linux.BTF_INT_SIGNED &&
		enc != linux.BTF_INT_CHAR && enc != linux.BTF_INT_BOOL {
		e.logType(t, true, "Unsupported encoding")
		return 0, linux.ENOTSUPP
	}
	e.logType(t, true, "")
	return 4, nil
}

// checkRefMeta is btf_ref_type_check_meta (PTR, TYPEDEF, qualifiers, TYPE_TAG).
func (e *env) checkRefMeta(t Type) error {
	switch {
	case t.Vlen() != 0:
		return e.fail(t, "vlen != 0")
	case t.KindFlag():
		return e.fail(t, "Invalid btf_info kind_flag")
	case t.Ref() > linux.BTF_MAX_TYPE:
		return e.fail(t, "Invalid type_id")
	}
	switch t.Kind() {
	case linux.BTF_KIND_TYPEDEF:
		if t.NameOff() == 0 || !e.nameValid(t.NameOff(), false) {
			return e.fail(t, "Invalid name")
		}
	case linux.BTF_KIND_TYPE_TAG:
		if t.Name() == "" {
			return e.fail(t, "Invalid name")
		}
	default:
		if t.NameOff() != 0 {
			return e.fail(t, "Invalid name")
		}
	}
	e.logType(t, true, "")
	return nil
}

// checkArrayMeta is btf_array_check_meta.
func (e *env) checkArrayMeta(t Type, left uint32) (uint32, error) {
	if err := e.metaLeft(t, left, 12); err != nil {
		return 0, err
	}
	a := t.Array()
	switch {
	case t.NameOff() != 0:
		return 0, e.fail(t, "Invalid name")
	case t.Vlen() != 0:
		return 0, e.fail(t, "vlen != 0")
	case t.KindFlag():
		return 0, e.fail(t, "Invalid btf_info kind_flag")
	case t.Size() != 0:
		return 0, e.fail(t, "size != 0")
	case a.Type == 0 || a.Type > linux.BTF_MAX_TYPE:
		return 0, e.fail(t, "Invalid elem")
	case a.IndexType == 0 || a.IndexType > linux.BTF_MAX_TYPE:
		return 0, e.fail(t, "Invalid index")
	}
	e.logType(t, true, "")
	return 12, nil
}

// checkStructMeta is btf_struct_check_meta.
func (e *env) checkStructMeta(t Type, left uint32) (uint32, error) {
	needed := uint32(t.Vlen()) * 12
	if err := e.metaLeft(t, left, needed); err != nil {
		return 0, err
	}
	if t.NameOff() != 0 && !e.nameValid(t.NameOff(), false) {
		return 0, e.fail(t, "Invalid name")
	}
	e.logType(t, true, "")
	isUnion := t.Kind() == linux.BTF_KIND_UNION
	last := uint32(0)
	for i := 0; i < t.Vlen(); i++ {
		m := t.rawMember(i)
		if !e.nameOffValid(m.NameOff) {
			e.logMember(t, i, fmt.Sprintf("Invalid member name_offset:%d", m.NameOff))
			return 0, linux.EINVAL
		}
		if m.NameOff != 0 && !e.nameValid(m.NameOff, false) {
			e.logMember(t, i, "Invalid name")
			return 0, linux.EINVAL
		}
		if m.Type == 0 || m.Type > linux.BTF_MAX_TYPE {
			e.logMember(t, i, "Invalid type_id")
			return 0, linux.EINVAL
		}
		off := t.Member(i).BitOffset
		if isUnion && off != 0 {
			e.logMember(t, i, "Invalid member bits_offset")
			return 0, linux.EINVAL
		}
		// ">" rather than ">=": the last member may be a zero-length array.
		if last > off {
			e.logMember(t, i, "Invalid member bits_offset")
			return 0, linux.EINVAL
		}
		if (off+7)/8 > t.Size() {
			e.logMember(t, i, "Member bits_offset exceeds its struct size")
			return 0, linux.EINVAL
		}
		e.logMember(t, i, "")
		last = off
	}
	return needed, nil
}

// checkEnumMeta is btf_enum_check_meta and btf_enum64_check_meta.
func (e *env) checkEnumMeta(t Type, left uint32) (uint32, error) {
	is64 := t.Kind() == linux.BTF_KIND_ENUM64
	rec := uint32(8)
	if is64 {
		rec = 12
	}
	needed := uint32(t.Vlen()) * rec
	if err := e.metaLeft(t, left, needed); err != nil {
		return 0, err
	}
	if sz := t.Size(); sz > 8 || sz == 0 || sz&(sz-1) != 0 {
		return 0, e.fail(t, "Unexpected size")
	}
	if t.NameOff() != 0 && !e.nameValid(t.NameOff(), false) {
		return 0, e.fail(t, "Invalid name")
	}
	e.logType(t, true, "")
	for i := 0; i < t.Vlen(); i++ {
		nameOff := t.word(3 + rec/4*uint32(i))
		if !e.nameOffValid(nameOff) {
			e.logf("\tInvalid name_offset:%d", nameOff)
			return 0, linux.EINVAL
		}
		if nameOff == 0 || !e.nameValid(nameOff, false) {
			return 0, e.fail(t, "Invalid name")
		}
		v := t.Enumerator(i)
		switch {
		case t.KindFlag() && is64:
			e.logf("\t%s val=%d\n", v.Name, int64(v.Value))
		case t.KindFlag():
			e.logf("\t%s val=%d\n", v.Name, int32(v.Value))
		case is64:
			e.logf("\t%s val=%d\n", v.Name, v.Value)
		default:
			e.logf("\t%s val=%d\n", v.Name, uint32(v.Value))
		}
	}
	return needed, nil
}

// checkDatasecMeta is btf_datasec_check_meta.
func (e *env) checkDatasecMeta(t Type, left uint32) (uint32, error) {
	needed := uint32(t.Vlen()) * 12
	if err := e.metaLeft(t, left, needed); err != nil {
		return 0, err
	}
	switch {
	case t.Size() == 0:
		return 0, e.fail(t, "size == 0")
	case t.KindFlag():
		return 0, e.fail(t, "Invalid btf_info kind_flag")
	case t.NameOff() == 0 || !e.nameValid(t.NameOff(), true):
		return 0, e.fail(t, "Invalid name")
	}
	e.logType(t, true, "")
	var lastEnd, sum uint64
	size := uint64(t.Size())
	for i := 0; i < t.Vlen(); i++ {
		v := t.VarSecinfo(i)
		if v.Type == 0 || v.Type > linux.BTF_MAX_TYPE {
			e.logVsi(t, i, "Invalid type_id")
			return 0, linux.EINVAL
		}
		if uint64(v.Offset) < lastEnd || uint64(v.Offset) >= size {
			e.logVsi(t, i, "Invalid offset")
			return 0, linux.EINVAL
		}
		if v.Size == 0 || uint64(v.Size) > size {
			e.logVsi(t, i, "Invalid size")
			return 0, linux.EINVAL
		}
		lastEnd = uint64(v.Offset) + uint64(v.Size)
		if lastEnd > size {
			e.logVsi(t, i, "Invalid offset+size")
			return 0, linux.EINVAL
		}
		e.logVsi(t, i, "")
		sum += uint64(v.Size)
	}
	if size < sum {
		return 0, e.fail(t, "Invalid btf_info size")
	}
	return needed, nil
}
