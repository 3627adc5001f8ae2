package verifier

import (
	"fmt"
	"strings"

	"hachi/bpf/isa"
)

// slotKind is what one byte of a stack slot holds (Linux's STACK_*).
type slotKind uint8

const (
	stackInvalid slotKind = iota // STACK_INVALID: never written
	stackSpill                   // STACK_SPILL: part of a spilled register
	stackMisc                    // STACK_MISC: some bytes of data
	stackZero                    // STACK_ZERO: known zero
)

var slotKindChars = [...]byte{stackInvalid: '?', stackSpill: 'r', stackMisc: 'm', stackZero: '0'}

// slotSize is the size of a stack slot and of a register (BPF_REG_SIZE).
const slotSize = 8

// stackSlot is one 8-byte slot: slot i of a frame covers fp-8(i+1) up to
// fp-8i-1. A slot whose bytes are all stackSpill holds spilled.
type stackSlot struct {
	kinds   [slotSize]slotKind
	spilled reg
}

func (s *stackSlot) isSpill() bool { return s.kinds[slotSize-1] == stackSpill }

// funcState is one call frame, like struct bpf_func_state.
type funcState struct {
	regs  [isa.NumRegisters]reg
	stack []stackSlot // grows as the program writes deeper
	// callsite is the call instruction that made the frame, -1 for main.
	callsite int
	// subprog is the index of the subprogram the frame runs.
	subprog int
	// callback describes the frame of a callback a helper calls.
	callback *callbackFrame
	// frameNo is the frame's depth: 0 for main.
	frameNo int
}

// callbackFrame is what a callback frame needs at its exit.
type callbackFrame struct {
	retMin, retMax int64 // allowed return values
	// callInsn is the helper call that runs the callback; iterations resume there.
	callInsn int
}

// reference is a resource the program acquired and must release on every
// path (Linux's struct bpf_reference_state): a ring buffer record.
type reference struct {
	id    uint32
	insn  int // where it was acquired
	frame int // the frame that acquired it
}

// state is the abstract state of the whole machine on one path, like
// struct bpf_verifier_state.
type state struct {
	frames []*funcState
	refs   []reference
	// loopIters counts, per callback-calling instruction, the iterations of
	// callbacks on this path, for widening.
	loopIters map[int]int
}

func (st *state) cur() *funcState { return st.frames[len(st.frames)-1] }

func (f *funcState) clone() *funcState {
	c := *f
	c.stack = append([]stackSlot(nil), f.stack...)
	return &c
}

func (st *state) clone() *state {
	c := &state{frames: make([]*funcState, len(st.frames)), refs: append([]reference(nil), st.refs...)}
	for i, f := range st.frames {
		c.frames[i] = f.clone()
	}
	if st.loopIters != nil {
		c.loopIters = make(map[int]int, len(st.loopIters))
		for k, v := range st.loopIters {
			c.loopIters[k] = v
		}
	}
	return c
}

// slot returns the slot covering offset off (negative, from fp), growing the
// stack as needed.
func (f *funcState) slot(off int) *stackSlot {
	i := (-off - 1) / slotSize
	for len(f.stack) <= i {
		f.stack = append(f.stack, stackSlot{})
	}
	return &f.stack[i]
}

// peekSlot returns the slot covering off, or nil if nothing was ever written there.
func (f *funcState) peekSlot(off int) *stackSlot {
	i := (-off - 1) / slotSize
	if i >= len(f.stack) {
		return nil
	}
	return &f.stack[i]
}

// String prints the frame as Linux's print_verifier_state: the registers
// that hold something, then the stack slots that do.
func (f *funcState) String() string {
	var b strings.Builder
	if f.frameNo != 0 {
		fmt.Fprintf(&b, " frame%d:", f.frameNo)
	}
	for i := range f.regs {
		r := &f.regs[i]
		if r.typ == notInit {
			continue
		}
		fmt.Fprintf(&b, " R%d=%s", i, r.String())
	}
	for i := range f.stack {
		s := &f.stack[i]
		if s.isSpill() {
			fmt.Fprintf(&b, " fp%d=%s", -(i+1)*slotSize, s.spilled.String())
			continue
		}
		var kinds [slotSize]byte
		any := false
		for j := 0; j < slotSize; j++ {
			// The byte at fp-8(i+1)+j: printed from the highest address down.
			kinds[slotSize-1-j] = slotKindChars[s.kinds[j]]
			any = any || s.kinds[j] != stackInvalid
		}
		if any {
			fmt.Fprintf(&b, " fp%d=%s", -(i+1)*slotSize, kinds[:])
		}
	}
	return b.String()
}

// String prints every frame, outermost first.
func (st *state) String() string {
	var b strings.Builder
	for _, f := range st.frames {
		b.WriteString(f.String())
	}
	if len(st.refs) > 0 {
		b.WriteString(" refs=")
		for i, r := range st.refs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, r.id)
		}
	}
	return strings.TrimPrefix(b.String(), " ")
}
