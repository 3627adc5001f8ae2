package vm

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"unsafe"

	"hachi/bpf/isa"
)

// Options configure Load.
type Options struct {
	// Helpers is the helper table calls are resolved against.
	Helpers Helpers
	// Resolver resolves lddw pseudo sources and kfunc calls; nil refuses them.
	Resolver Resolver
	// LenInR2 sets r2 to the context's size at entry, the convention of
	// uBPF and the conformance suite (Linux passes only r1).
	LenInR2 bool
	// InlineLookups are calls of bpf_map_lookup_elem (`call 1`, by slot)
	// whose map argument the verifier proved to be the given map on every
	// path. Those whose map has an inline form (LookupInliner) run without
	// the helper: an array lookup computes the value's address in the
	// interpreter, other maps' lookups are called directly (Linux's
	// map_gen_lookup and direct map_lookup_elem calls). A checked program
	// checks at run time that r1 is that map.
	InlineLookups map[int]*MapHandle
}

// Image is a loaded program that has not been verified: its instructions
// checked one by one and as a whole (jumps stay inside their function and
// land on instructions, functions end with exit or jump, r10 is never
// written, like Linux's check_subprogs and check_cfg), its references
// resolved, and its code pre-decoded for the interpreter. An Image runs only
// through a Program: NewChecked for anyone, NewVerified for the verifier.
type Image struct {
	insns   []isa.Instruction
	ops     []isa.Op
	code    []slot
	meta    []slotMeta
	table   Helpers      // the helper table, for callx
	helpers []HelperFunc // the helpers and kfuncs of call sites, by slot.off
	maps    []*MapHandle // maps the program refers to: kept alive, and checked
	regions []Region     // map values and kernel variables lddw resolved
	funcs   []function   // entries of the functions, main first
	inlined []int        // slots of the lookups that run inline
	lenInR2 bool
}

// slot is a pre-decoded instruction: the operation, registers, and the
// immediate and offset in the form the interpreter uses them.
type slot struct {
	op  isa.Op
	dst uint8
	src uint8
	_   uint8
	// off: memory displacement, relative jump or call target, helper index.
	off int32
	// imm: the immediate sign-extended to 64 bits, or lddw's full value.
	imm uint64
}

// slotSize is the size of a slot in bytes.
const slotSize = uint64(unsafe.Sizeof(slot{}))

// slotMeta is what the checked mode needs beyond the slot: the registers
// the instruction reads and writes.
type slotMeta struct {
	reads, writes isa.RegSet
}

// function is the entry of a subprogram. The address of a program's
// function is what `lddw rX, func L` loads, and what env.Call and callx take.
type function struct {
	entry int
}

// opTailCall is the interpreter's operation for `call 12` (like Linux's
// internal BPF_TAIL_CALL opcode).
const opTailCall = isa.NumOps

func loadError(index int, err error) error { return &Error{Index: index, Err: err} }

// Load checks a program, resolves its references and pre-decodes it.
func Load(insns []isa.Instruction, opts Options) (*Image, error) {
	n := len(insns)
	if n == 0 {
		return nil, loadError(0, ErrEmpty)
	}
	if n > MaxInstructions {
		return nil, loadError(0, fmt.Errorf("%w: %d instructions", ErrTooBig, n))
	}
	ops, err := isa.Validate(insns)
	if err != nil {
		var se *isa.SlotError
		if errors.As(err, &se) {
			return nil, loadError(se.Index, se.Err)
		}
		return nil, loadError(0, err)
	}
	insns = slices.Clone(insns)
	img := &Image{insns: insns, ops: ops, table: opts.Helpers, lenInR2: opts.LenInR2}
	starts, err := img.checkFlow()
	if err != nil {
		return nil, err
	}
	img.funcs = make([]function, len(starts))
	for k, s := range starts {
		img.funcs[k].entry = s
	}
	for i := range opts.InlineLookups {
		if i < 0 || i >= n || ops[i] != isa.OpCall || insns[i].Imm != MapLookupHelper {
			return nil, loadError(i, fmt.Errorf("%w: inline lookup at a slot that is not a call of bpf_map_lookup_elem", ErrNotSupported))
		}
	}
	img.code = make([]slot, n)
	img.meta = make([]slotMeta, n)
	helperIndex := map[int32]int32{}
	for i, ins := range insns {
		op := ops[i]
		if op == isa.OpImm64High {
			img.code[i].op = op
			continue
		}
		info := op.Info()
		reads, writes := info.Uses(ins)
		img.meta[i] = slotMeta{reads, writes}
		s := slot{op: op, dst: uint8(ins.Dst), src: uint8(ins.Src), off: int32(ins.Offset), imm: uint64(int64(ins.Imm))}
		switch op {
		case isa.OpJA32, isa.OpCallLocal:
			s.off = ins.Imm
		case isa.OpCall:
			if ins.Imm == TailCallHelper {
				s.op = opTailCall
				break
			}
			if ins.Imm < 0 || int(ins.Imm) >= len(opts.Helpers) || opts.Helpers[ins.Imm] == nil {
				return nil, loadError(i, fmt.Errorf("%w unknown#%d", ErrUnknownHelper, ins.Imm))
			}
			if h := opts.InlineLookups[i]; h != nil && ins.Imm == MapLookupHelper {
				if op, imm, ok := h.inlineOp(); ok {
					s.op, s.imm = op, imm
					// Like the helper, the lookup reads r1 (the map)
					// and r2 (the key's address).
					img.meta[i].reads |= 1<<isa.R1 | 1<<isa.R2
					img.keepMap(h)
					img.inlined = append(img.inlined, i)
					break
				}
			}
			k, ok := helperIndex[ins.Imm]
			if !ok {
				k = int32(len(img.helpers))
				helperIndex[ins.Imm] = k
				img.helpers = append(img.helpers, opts.Helpers[ins.Imm])
			}
			s.off = k
		case isa.OpCallKfunc:
			if opts.Resolver == nil {
				return nil, loadError(i, fmt.Errorf("%w: kfunc %d", ErrUnresolved, ins.Imm))
			}
			fn, err := opts.Resolver.Kfunc(ins.Imm, ins.Offset)
			if err != nil || fn == nil {
				return nil, loadError(i, fmt.Errorf("%w: kfunc %d: %v", ErrUnresolved, ins.Imm, err))
			}
			s.off = int32(len(img.helpers))
			img.helpers = append(img.helpers, fn)
		case isa.OpAddrSpaceCast:
			// Linux runs arena programs only when JITed.
			return nil, loadError(i, fmt.Errorf("%w: addr_space_cast needs an arena", ErrNotSupported))
		case isa.OpLoadImm64, isa.OpLoadMapFD, isa.OpLoadMapValue, isa.OpLoadBTFID,
			isa.OpLoadFunc, isa.OpLoadMapIdx, isa.OpLoadMapIdxValue:
			v, err := img.resolve(op, i, ins, insns[i+1], opts.Resolver, starts)
			if err != nil {
				return nil, loadError(i, err)
			}
			s.imm = v
		}
		img.code[i] = s
	}
	return img, nil
}

// checkFlow finds the functions (the main program, the targets of local
// calls and of lddw func) and checks that every jump stays inside its
// function on an instruction, and that every function ends with exit or an
// unconditional jump, so execution can never leave the code.
func (img *Image) checkFlow() ([]int, error) {
	n := len(img.insns)
	starts := map[int]bool{0: true}
	for i, op := range img.ops {
		if op != isa.OpCallLocal && op != isa.OpLoadFunc {
			continue
		}
		t := i + 1 + int(img.insns[i].Imm)
		if t < 0 || t >= n || img.ops[t] == isa.OpImm64High {
			return nil, loadError(i, fmt.Errorf("%w: call to insn %d", ErrJump, t))
		}
		starts[t] = true
	}
	if len(starts) > MaxSubprograms {
		return nil, loadError(0, fmt.Errorf("%w: %d functions", ErrTooBig, len(starts)))
	}
	sorted := make([]int, 0, len(starts))
	for s := range starts {
		sorted = append(sorted, s)
	}
	sort.Ints(sorted)
	for k, start := range sorted {
		end := n
		if k+1 < len(sorted) {
			end = sorted[k+1]
		}
		for i := start; i < end; i++ {
			op := img.ops[i]
			info := op.Info()
			if info.Flags&isa.Branches != 0 && op != isa.OpExit && op != isa.OpCallLocal && op != isa.OpCallX {
				t := i + 1 + int(img.insns[i].Offset)
				if op == isa.OpJA32 {
					t = i + 1 + int(img.insns[i].Imm)
				}
				if t < start || t >= end {
					return nil, loadError(i, fmt.Errorf("%w: jump out of range from insn %d to %d", ErrJump, i, t))
				}
				if img.ops[t] == isa.OpImm64High {
					return nil, loadError(i, fmt.Errorf("%w: jump into the middle of ldimm64 insn %d", ErrJump, t-1))
				}
			}
			if _, writes := info.Uses(img.insns[i]); writes.Has(isa.R10) {
				return nil, loadError(i, ErrFramePointer)
			}
		}
		if last := img.ops[end-1]; last != isa.OpExit && last != isa.OpJA && last != isa.OpJA32 {
			return nil, loadError(end-1, ErrFallThrough)
		}
	}
	return sorted, nil
}

// resolve is the value an lddw loads.
func (img *Image) resolve(op isa.Op, i int, lo, hi isa.Instruction, res Resolver, starts []int) (uint64, error) {
	src := isa.PseudoSource(lo.Src)
	switch op {
	case isa.OpLoadImm64:
		return isa.Imm64(lo, hi), nil
	case isa.OpLoadFunc:
		k := sort.SearchInts(starts, i+1+int(lo.Imm))
		return uint64(uintptr(unsafe.Pointer(&img.funcs[k]))), nil
	}
	if res == nil {
		return 0, fmt.Errorf("%w: %s %d without a resolver", ErrUnresolved, op, lo.Imm)
	}
	switch op {
	case isa.OpLoadMapFD, isa.OpLoadMapIdx:
		h, err := res.Map(src, lo.Imm)
		if err != nil || h == nil {
			return 0, fmt.Errorf("%w: %s %d: %v", ErrUnresolved, op, lo.Imm, err)
		}
		img.keepMap(h)
		return h.Addr(), nil
	case isa.OpLoadMapValue, isa.OpLoadMapIdxValue:
		r, err := res.MapValue(src, lo.Imm)
		if err != nil {
			return 0, fmt.Errorf("%w: %s %d: %v", ErrUnresolved, op, lo.Imm, err)
		}
		if off := uint32(hi.Imm); uintptr(off) >= r.Size {
			return 0, fmt.Errorf("%w: direct value offset of %d is not allowed", ErrUnresolved, off)
		}
		img.regions = append(img.regions, r)
		return r.addr() + uint64(uint32(hi.Imm)), nil
	}
	r, err := res.KernelVariable(lo.Imm, hi.Imm)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %d: %v", ErrUnresolved, op, lo.Imm, err)
	}
	img.regions = append(img.regions, r)
	return r.addr(), nil
}

// keepMap adds h to the maps img refers to.
func (img *Image) keepMap(h *MapHandle) {
	if !slices.Contains(img.maps, h) {
		img.maps = append(img.maps, h)
	}
}

// InlinedLookups are the slots of the calls of bpf_map_lookup_elem that run
// without the helper (see Options.InlineLookups), in order.
func (img *Image) InlinedLookups() []int { return slices.Clone(img.inlined) }

// Instructions is the program as loaded.
func (img *Image) Instructions() []isa.Instruction { return img.insns }

// Ops is the operation of each slot (isa.OpImm64High for lddw's second).
func (img *Image) Ops() []isa.Op { return img.ops }

// Functions is the entry slot of each function, the main program first.
func (img *Image) Functions() []int {
	entries := make([]int, len(img.funcs))
	for k, f := range img.funcs {
		entries[k] = f.entry
	}
	return entries
}

// function turns a register value back into one of img's functions, or
// reports false for anything else.
func (img *Image) function(v uint64) (*function, bool) {
	base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(img.funcs))))
	size := uint64(unsafe.Sizeof(function{}))
	if v < base || v >= base+size*uint64(len(img.funcs)) || (v-base)%size != 0 {
		return nil, false
	}
	return &img.funcs[(v-base)/size], true
}

// isMap reports whether v is the address of a map img refers to.
func (img *Image) isMap(v uint64) bool {
	for _, h := range img.maps {
		if h.Addr() == v {
			return true
		}
	}
	return false
}
