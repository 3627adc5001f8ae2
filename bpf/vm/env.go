package vm

import (
	"fmt"
	"math/bits"
	"unsafe"

	"hachi/bpf/isa"
)

// MaxDeclared is how many regions an Env remembers from Declare during one
// run; past it, the oldest is forgotten.
const MaxDeclared = 64

// stackWords is the stack of all frames, in 8-byte words (so it is aligned).
const stackWords = MaxCallFrames * StackSize / 8

// Env is the state of one CPU running programs: the stack frames, the call
// frames and the per-run state. Make one per CPU (or per goroutine) with
// NewEnv and reuse it: a run allocates nothing. An Env runs one program at
// a time; Programs are immutable and run on many Envs at once.
type Env struct {
	// CPU is what bpf_get_smp_processor_id returns.
	CPU uint32
	// Cookie is what bpf_get_attach_cookie returns.
	Cookie uint64
	// Packet is the data the legacy LD_ABS and LD_IND instructions read (a
	// socket filter's skb data). Outside it they end the program with 0.
	Packet Region
	// StepLimit bounds the instructions of a checked run; 0 means
	// DefaultStepLimit.
	StepLimit uint64

	prog      progRef // the running program (tail calls change it)
	ctx       regionRef
	stack     *[stackWords]uint64
	frames    [MaxCallFrames]frame
	depth     int // frames in use below the main one
	tailCalls int
	regions   [MaxDeclared]Region
	nregions  int
	fault     error // a fault inside a callback, raised when its helper returns
	steps     uint64
	barrier   uint32
	running   bool
}

// frame is a caller's state saved by a bpf-to-bpf call.
type frame struct {
	prog   progRef
	ret    int
	saved  [4]uint64 // r6-r9
	budget uint32    // the caller's may_goto budget
	init   isa.RegSet
}

// An Env keeps the running program and its context as addresses, not
// pointers, because a program may run in trap context (a kprobe's
// breakpoint, the sampling timer's interrupt), which can interrupt any Go
// code on its CPU, the garbage collector's write barrier included: storing
// a pointer into the heap Env there would run the barrier again, on a
// half-updated buffer or with runtime locks held. Both objects are kept
// alive, unmoved, by the one who runs the program: the caller of Run holds
// the Program and the context (which must not be on a goroutine stack: Run
// makes it escape), a tail call's target is held by its prog array, a
// caller's program by the caller.

// progRef is the address of a Program.
type progRef uintptr

func refProgram(p *Program) progRef { return progRef(unsafe.Pointer(p)) }

func (r progRef) get() *Program { return (*Program)(ptr(uint64(r))) }

// regionRef is a Region held by address.
type regionRef struct {
	base     uintptr
	size     uintptr
	writable bool
}

func refRegion(r Region) regionRef {
	return regionRef{base: uintptr(r.Base), size: r.Size, writable: r.Writable}
}

func (r regionRef) get() Region {
	return Region{Base: ptr(uint64(r.base)), Size: r.size, Writable: r.writable}
}

// NewEnv makes an Env with its own stack.
func NewEnv() *Env { return &Env{stack: new([stackWords]uint64)} }

// stackTop is r10 of the main frame; frame d's r10 is StackSize*d below.
func (e *Env) stackTop() uint64 {
	return uint64(uintptr(unsafe.Pointer(e.stack))) + stackWords*8
}

// Program is the running program (the target of the last tail call).
func (e *Env) Program() *Program { return e.prog.get() }

// Context is the region r1 pointed to when the run started.
func (e *Env) Context() Region { return e.ctx.get() }

// Checked reports whether the running program is checked: helpers must then
// reach memory and maps only through Memory and Map.
func (e *Env) Checked() bool { return e.prog != 0 && e.prog.get().checked }

// Declare makes r accessible to a checked program until the end of the run:
// helpers call it for memory they hand to the program (a map value), and
// callers before Run for memory other than the context (a packet). It costs
// nothing while a verified program runs.
func (e *Env) Declare(r Region) {
	if e.running && !e.prog.get().checked {
		return
	}
	e.declare(r)
}

// declare is Declare's work, for checked runs only: Regions hold pointers,
// and a verified run (which may be in trap context) stores none. Not
// inlined, so that its write barriers stay out of Declare.
//
//go:noinline
func (e *Env) declare(r Region) {
	for _, old := range e.regions[:e.nregions] {
		if old == r {
			return
		}
	}
	if e.nregions == MaxDeclared {
		copy(e.regions[:], e.regions[1:])
		e.nregions--
	}
	e.regions[e.nregions] = r
	e.nregions++
}

// Memory is the size bytes at addr, for a helper to read or write program
// memory (a key, a buffer). For a checked program it fails unless the
// memory lies in a region of the run (and is writable when write is set).
func (e *Env) Memory(addr, size uint64, write bool) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	if e.Checked() {
		if err := e.check(addr, size, write); err != nil {
			return nil, err
		}
	}
	return unsafe.Slice((*byte)(ptr(addr)), size), nil
}

// Map turns a register value into the map it stands for. For a checked
// program it is nil unless v is a map the program refers to.
func (e *Env) Map(v uint64) *MapHandle {
	if e.Checked() && !e.prog.get().image.isMap(v) {
		return nil
	}
	return (*MapHandle)(ptr(v))
}

// Call runs a function of the running program as a callback, in a new
// frame, with r1-r5 set to the arguments, and returns its r0: how helpers
// like bpf_loop (181) and bpf_for_each_map_elem (164) call the function a
// program gave them (fn is what `lddw rX, func L` loaded). ok is false if
// fn is not a function of the program, or the callback (or an earlier one)
// faulted: the helper must then return at once, and the run ends with the
// fault.
func (e *Env) Call(fn, r1, r2, r3, r4, r5 uint64) (r0 uint64, ok bool) {
	ref := e.prog
	p := ref.get()
	if e.fault != nil || p == nil {
		return 0, false
	}
	f, ok := p.image.function(fn)
	if !ok {
		e.setFault(fmt.Errorf("%w: callback %#x is not a function of the program", ErrBadPointer, fn))
		return 0, false
	}
	if e.depth+1 >= MaxCallFrames {
		e.setFault(fmt.Errorf("%w: callback needs a frame beyond %d", ErrCallDepth, MaxCallFrames))
		return 0, false
	}
	e.depth++
	r0, err := e.exec(p, f.entry, r1, r2, r3, r4, r5, isa.CallerSaved)
	e.depth--
	e.prog = ref
	if err != nil {
		e.setFault(err)
		return 0, false
	}
	return r0, true
}

// setFault records the fault of a callback (nil clears it). Faults are
// errors, which hold pointers: a verified program raises none, so a run
// in trap context never gets here, and the write barrier of the store is
// kept out of the paths it takes.
//
//go:noinline
func (e *Env) setFault(err error) { e.fault = err }

// check is the checked mode's test of a memory access: it must lie inside
// a region of the run: the live stack frames, the context, a declared
// region, or memory the program's lddw resolved.
func (e *Env) check(addr, size uint64, write bool) error {
	top := e.stackTop()
	frames := uint64(e.depth+1) * StackSize
	if size <= frames && addr >= top-frames && addr-(top-frames) <= frames-size {
		return nil
	}
	readOnly := false
	try := func(r Region) bool {
		if !r.contains(addr, size) {
			return false
		}
		if write && !r.Writable {
			readOnly = true
			return false
		}
		return true
	}
	if try(e.ctx.get()) {
		return nil
	}
	for _, r := range e.regions[:e.nregions] {
		if try(r) {
			return nil
		}
	}
	for _, r := range e.prog.get().image.regions {
		if try(r) {
			return nil
		}
	}
	kind := "read"
	if write {
		kind = "write"
	}
	if readOnly {
		return fmt.Errorf("%w: %s of %d bytes at %#x into read-only memory", ErrMemory, kind, size, addr)
	}
	return fmt.Errorf("%w: %s of %d bytes at %#x is outside the stack, the context and every known region",
		ErrMemory, kind, size, addr)
}

// tailCall is bpf_tail_call(ctx, array, index), with Linux's order of tests
// (kernel/bpf/core.c, JMP_TAIL_CALL): an index out of range falls through;
// then a spent budget; then the budget is charged and an empty slot (or a
// program of the other mode) falls through. The next program is nil when
// the call falls through.
func (e *Env) tailCall(p *Program, array, index uint64) (*Program, error) {
	if p.checked && !p.image.isMap(array) {
		return nil, fmt.Errorf("%w: tail call through %#x, which is not a map of the program", ErrBadPointer, array)
	}
	progs := (*MapHandle)(ptr(array)).progs
	if progs == nil {
		if p.checked {
			return nil, fmt.Errorf("%w: tail call through a map that is not a prog array", ErrBadPointer)
		}
		return nil, nil
	}
	i := uint32(index)
	if i >= progs.Len() || e.tailCalls >= MaxTailCalls {
		return nil, nil
	}
	e.tailCalls++
	next := progs.Program(i)
	if next == nil || next.checked != p.checked {
		return nil, nil
	}
	return next, nil
}

// packet is the n-byte big-endian value at offset off of the packet, for
// LD_ABS and LD_IND (Linux's bpf_skb_load_helper_*); ok is false outside
// it. Linux's negative offsets into the link and network headers
// (SKF_LL_OFF, SKF_NET_OFF) are not supported: they fail like other
// out-of-range offsets.
func (e *Env) packet(off int64, n int64) (uint64, bool) {
	if off < 0 || off+n > int64(e.Packet.Size) {
		return 0, false
	}
	a := e.Packet.addr() + uint64(off)
	switch n {
	case 1:
		return load8(a), true
	case 2:
		return uint64(bits.ReverseBytes16(uint16(load16(a)))), true
	}
	return uint64(bits.ReverseBytes32(uint32(load32(a)))), true
}

// fail wraps a fault at slot index. It and the constructors of faults
// below are not inlined, so that their allocations and write barriers stay
// out of the interpreter's loop: a verified program raises none of them,
// and runs in trap context, where neither may happen (see Env).
//
//go:noinline
func fail(index int, err error) error { return &Error{Index: index, Err: err} }

//go:noinline
func errCallx(v uint64) error {
	return fmt.Errorf("%w: callx to %#x, neither a function of the program nor a helper", ErrBadPointer, v)
}

//go:noinline
func errCannotRun(op isa.Op) error { return fmt.Errorf("%w: %v cannot run", ErrNotSupported, op) }

//go:noinline
func errCallDepth(frames int) error {
	return fmt.Errorf("%w: the call stack of %d frames is too deep", ErrCallDepth, frames)
}

// checkAligned is check for atomic accesses, which Linux requires to be
// naturally aligned.
func (e *Env) checkAligned(addr, size uint64, write bool) error {
	if addr%size != 0 {
		return fmt.Errorf("%w: misaligned %d-byte atomic access at %#x", ErrMemory, size, addr)
	}
	return e.check(addr, size, write)
}
