package vm

import (
	"fmt"
	"unsafe"

	"hachi/bpf/isa"
)

// MapLookupHelper is the Linux helper id of bpf_map_lookup_elem, whose
// calls Load can run without the helper (Options.InlineLookups).
const MapLookupHelper = 1

// InlineLookup is a map's bpf_map_lookup_elem in the form a program runs
// without calling the helper, once the verifier has proven which map a
// call site looks up (Linux's do_misc_fixups: map_gen_lookup, or a direct
// call of the map's lookup). Exactly one of Array and Lookup is set.
type InlineLookup struct {
	// Array is an array's layout: the interpreter computes the value's
	// address itself, like array_map_gen_lookup and
	// percpu_array_map_gen_lookup.
	Array *ArrayLayout
	// Lookup is the map's own lookup, called directly with the running
	// CPU and the key's address: Linux's call of __htab_map_lookup_elem
	// (or ops->map_lookup_elem) in place of the helper, which skips the
	// helper's map and type dispatch. It returns the value or nil, and
	// must neither allocate nor block.
	Lookup func(cpu uint32, key unsafe.Pointer) unsafe.Pointer
	// KeySize, ValueSize and Writable are what a checked run checks: the
	// key bytes the lookup reads, and the value it hands the program
	// (writable unless the map is BPF_F_RDONLY_PROG), as the helper
	// declares it.
	KeySize, ValueSize uint32
	Writable           bool
}

// ArrayLayout is where an array map keeps its values: index i < MaxEntries
// of CPU c < CPUs is at Values + i*ElemSize + c*CPUStride (CPUStride is 0
// for a plain array, whose one slot every CPU shares).
type ArrayLayout struct {
	Values     unsafe.Pointer
	ElemSize   uint64
	MaxEntries uint32
	CPUs       uint32
	CPUStride  uint64
}

// LookupInliner is a map whose lookups can run inline (Linux's
// bpf_map_ops.map_gen_lookup). NewMapHandle asks once: the answer must not
// change for the map's life. ok is false for a map that has no inline form.
type LookupInliner interface {
	InlineLookup() (l InlineLookup, ok bool)
}

// element is the address of index i of cpu's values, or 0 when either is
// out of range. Like Linux, which masks the index with index_mask after
// the bounds check so that a mispredicted check cannot read past the array
// (Spectre v1), the index is masked: with array_index_nospec's mask (all
// ones when i < max, zero otherwise), which needs no storage rounded up to
// a power of two as index_mask does.
func (a *ArrayLayout) element(i uint64, cpu uint32) uint64 {
	max := uint64(a.MaxEntries)
	if i >= max || cpu >= a.CPUs {
		return 0
	}
	i &= uint64(int64(i-max) >> 63)
	return uint64(uintptr(a.Values)) + i*a.ElemSize + uint64(cpu)*a.CPUStride
}

// inlineLookup is an InlineLookup as the interpreter uses it, kept in the
// MapHandle so that a slot reaches it with one pointer.
type inlineLookup struct {
	array     ArrayLayout // when the slot's op is opLookupArray
	lookup    func(cpu uint32, key unsafe.Pointer) unsafe.Pointer
	handle    uint64 // the map's register value, checked in checked runs
	keySize   uint64
	valueSize uintptr
	writable  bool
}

// The interpreter's operations for inlined lookups: `call 1` on a known
// array, and on a known map with a direct lookup.
const (
	opLookupArray = opTailCall + 1 + iota
	opLookupDirect
)

// The compiler refuses this if the VM's own operations outgrow a byte.
var _ [256 - int(opLookupDirect) - 1]struct{}

// setInline fills h's inline form from its map, if it has one.
func (h *MapHandle) setInline() {
	li, ok := h.Map.(LookupInliner)
	if !ok {
		return
	}
	l, ok := li.InlineLookup()
	if !ok || (l.Array == nil) == (l.Lookup == nil) {
		return
	}
	h.inline = &inlineLookup{lookup: l.Lookup, handle: h.Addr(), keySize: uint64(l.KeySize),
		valueSize: uintptr(l.ValueSize), writable: l.Writable}
	if l.Array != nil {
		h.inline.array = *l.Array
	}
}

// inlineOp is the operation and slot immediate running `call 1` on h
// inline; ok is false if h's map has no inline form.
func (h *MapHandle) inlineOp() (op isa.Op, imm uint64, ok bool) {
	l := h.inline
	if l == nil {
		return 0, 0, false
	}
	imm = uint64(uintptr(unsafe.Pointer(l)))
	if l.lookup != nil {
		return opLookupDirect, imm, true
	}
	return opLookupArray, imm, true
}

// checkLookup is the checked mode's test of an inlined lookup: r1 must be
// the map it was inlined for, and the key readable.
func (e *Env) checkLookup(l *inlineLookup, r1, r2 uint64) error {
	if r1 != l.handle {
		return fmt.Errorf("%w: lookup inlined for map %#x is given %#x", ErrBadPointer, l.handle, r1)
	}
	return e.check(r2, l.keySize, false)
}

// declareValue makes the value an inlined lookup found accessible to the
// rest of a checked run, as the helper's env.Declare does.
func (e *Env) declareValue(l *inlineLookup, v uint64) {
	if v != 0 {
		e.Declare(Region{Base: ptr(v), Size: l.valueSize, Writable: l.writable})
	}
}
