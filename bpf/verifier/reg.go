package verifier

import (
	"fmt"
	"strings"
)

// regType is what a register (or a spilled stack slot) holds, like Linux's
// enum bpf_reg_type; flags refine pointer types.
type regType uint8

// The register types.
const (
	notInit         regType = iota // NOT_INIT: never written, unreadable
	scalarValue                    // SCALAR_VALUE: a number
	ptrToCtx                       // PTR_TO_CTX: the program's context
	constPtrToMap                  // CONST_PTR_TO_MAP: a map (lddw map_fd)
	ptrToMapValue                  // PTR_TO_MAP_VALUE: inside a map value
	ptrToMapKey                    // PTR_TO_MAP_KEY: a key handed to a callback
	ptrToStack                     // PTR_TO_STACK: fp + off of some frame
	ptrToPacketMeta                // PTR_TO_PACKET_META: xdp data_meta
	ptrToPacket                    // PTR_TO_PACKET: packet data
	ptrToPacketEnd                 // PTR_TO_PACKET_END: end of the packet
	ptrToMem                       // PTR_TO_MEM: sized memory from a helper
	ptrToFunc                      // PTR_TO_FUNC: a subprogram (lddw func)
)

var regTypeNames = [...]string{
	notInit: "?", scalarValue: "scalar", ptrToCtx: "ctx", constPtrToMap: "map_ptr",
	ptrToMapValue: "map_value", ptrToMapKey: "map_key", ptrToStack: "fp",
	ptrToPacketMeta: "pkt_meta", ptrToPacket: "pkt", ptrToPacketEnd: "pkt_end",
	ptrToMem: "mem", ptrToFunc: "func",
}

// regFlags are Linux's type flags (enum bpf_type_flag).
type regFlags uint8

const (
	maybeNull  regFlags = 1 << iota // PTR_MAYBE_NULL: must be checked against 0
	memRdonly                       // MEM_RDONLY: reads only
	memRingbuf                      // MEM_RINGBUF: a ring buffer record
)

// reg is the abstract value of a register, like struct bpf_reg_state.
type reg struct {
	typ   regType
	flags regFlags
	// frame is the frame number of a stack pointer.
	frame uint8
	// bounds is a scalar's value or a pointer's variable offset.
	bounds
	// off is a pointer's fixed offset; for a tied scalar, what was added
	// to the tie's common value (Linux 6.10's BPF_ADD_CONST delta).
	off int32
	// id ties copies of one value: scalars refined together, pointers
	// null-checked together, packet pointers sharing a verified range.
	id uint32
	// refID is the acquired reference this pointer holds (ref_obj_id).
	refID uint32
	// m is the map of a map pointer, map value or map key.
	m *Map
	// size is the length of a ptrToMem region.
	size uint32
	// rng is how many bytes past the variable base of a packet pointer
	// are known to lie before pkt_end.
	rng int32
	// subprog is the index of a ptrToFunc's subprogram.
	subprog int32
}

func (r *reg) isPointer() bool { return r.typ > scalarValue }

func (r *reg) mayBeNull() bool { return r.flags&maybeNull != 0 }

func (r *reg) isPacket() bool { return r.typ == ptrToPacket || r.typ == ptrToPacketMeta }

// isNull reports whether r is the scalar 0.
func (r *reg) isNull() bool { return r.typ == scalarValue && r.isConst() && r.constValue() == 0 }

// typeString is Linux's reg_type_str: "map_value_or_null", "rdonly_mem".
func typeString(t regType, f regFlags) string {
	var b strings.Builder
	if f&memRdonly != 0 {
		b.WriteString("rdonly_")
	}
	if f&memRingbuf != 0 {
		b.WriteString("ringbuf_")
	}
	b.WriteString(regTypeNames[t])
	if f&maybeNull != 0 {
		b.WriteString("_or_null")
	}
	return b.String()
}

func (r *reg) typeName() string { return typeString(r.typ, r.flags) }

func scalarReg(b bounds) reg { return reg{typ: scalarValue, bounds: b} }

func unknownScalar() reg { return scalarReg(unknownBounds()) }

func constScalar(v uint64) reg { return scalarReg(constBounds(v)) }

// pointer makes a pointer of type t with a zero offset.
func pointer(t regType) reg { return reg{typ: t, bounds: constBounds(0)} }

// hasVarOff reports whether a pointer's offset has a variable part.
func (r *reg) hasVarOff() bool { return !r.varOff.isConst() || r.varOff.value != 0 }

// numberString writes a number as Linux's verbose_snum does: decimal when
// small, hex otherwise.
func numberString(v int64) string {
	if v > -65536 && v < 65536 {
		return fmt.Sprint(v)
	}
	if v < 0 {
		return fmt.Sprintf("%d", v)
	}
	return fmt.Sprintf("%#x", v)
}

func unsignedString(v uint64) string {
	if v < 65536 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%#x", v)
}

// boundsString lists what is known of b beyond the defaults, merging equal
// values the way Linux prints them ("smin=umin=0,smax=umax=255,var_off=...").
func (b *bounds) boundsString() string {
	type item struct {
		name  string
		value string
		dflt  bool
	}
	items := []item{
		{"smin", numberString(b.smin), b.smin == unknownBounds().smin},
		{"smax", numberString(b.smax), b.smax == unknownBounds().smax},
		{"umin", unsignedString(b.umin), b.umin == 0},
		{"umax", unsignedString(b.umax), b.umax == unknownBounds().umax},
		{"smin32", numberString(int64(b.s32min)), b.s32min == unknownBounds().s32min},
		{"smax32", numberString(int64(b.s32max)), b.s32max == unknownBounds().s32max},
		{"umin32", unsignedString(uint64(b.u32min)), b.u32min == 0},
		{"umax32", unsignedString(uint64(b.u32max)), b.u32max == unknownBounds().u32max},
	}
	var parts []string
	done := make([]bool, len(items))
	for i, it := range items {
		if it.dflt || done[i] {
			continue
		}
		names := it.name
		for j := i + 1; j < len(items); j++ {
			if !items[j].dflt && !done[j] && items[j].value == it.value {
				names += "=" + items[j].name
				done[j] = true
			}
		}
		parts = append(parts, names+"="+it.value)
	}
	if !b.varOff.isUnknown() {
		parts = append(parts, "var_off="+b.varOff.String())
	}
	return strings.Join(parts, ",")
}

// String prints r as Linux's print_verifier_state does.
func (r *reg) String() string {
	switch r.typ {
	case notInit:
		return "?"
	case scalarValue:
		if r.isConst() {
			return numberString(int64(r.constValue()))
		}
		return "scalar(" + r.boundsString() + ")"
	case ptrToStack:
		if !r.hasVarOff() {
			if r.frame == 0 {
				return fmt.Sprintf("fp%d", r.off)
			}
			return fmt.Sprintf("fp%d[%d]", r.off, r.frame)
		}
	}
	var args []string
	if r.id != 0 {
		args = append(args, fmt.Sprintf("id=%d", r.id))
	}
	if r.refID != 0 {
		args = append(args, fmt.Sprintf("ref_obj_id=%d", r.refID))
	}
	if r.m != nil {
		args = append(args, fmt.Sprintf("map=%s,ks=%d,vs=%d", r.m.displayName(), r.m.KeySize, r.m.ValueSize))
	}
	if r.off != 0 {
		args = append(args, fmt.Sprintf("off=%d", r.off))
	}
	if r.typ == ptrToStack && r.frame != 0 {
		args = append(args, fmt.Sprintf("frame=%d", r.frame))
	}
	if r.isPacket() {
		args = append(args, fmt.Sprintf("r=%d", r.rng))
	}
	if r.typ == ptrToMem {
		args = append(args, fmt.Sprintf("sz=%d", r.size))
	}
	if r.hasVarOff() {
		args = append(args, r.boundsString())
	}
	return r.typeName() + "(" + strings.Join(args, ",") + ")"
}
