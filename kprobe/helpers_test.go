//go:build !tamago

package kprobe

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"hachi/perf"
)

// fakeMachine is a Machine over a copy of an image's text: breakpoints
// are written into the copy, slots into a buffer standing for executable
// memory. Nothing runs: the tests call Trap as the breakpoint would.
type fakeMachine struct {
	mu        sync.Mutex
	text      []byte
	textStart uint64
	slots     []byte
	ncpu      int
	pokes     int
	inSlot    []atomic.Bool
	refetches atomic.Int32 // Refetch calls
}

// fakeSlots is in the binary's data, within a jump's reach of its text
// (the heap is not, on a host).
var fakeSlots [256 * slotSize]byte

func newFakeMachine(im *image, ncpu int) *fakeMachine {
	return &fakeMachine{text: append([]byte(nil), im.text...), textStart: im.textStart,
		slots: fakeSlots[:], ncpu: ncpu, inSlot: make([]atomic.Bool, ncpu)}
}

func (f *fakeMachine) NumCPU() int { return f.ncpu }

// mem returns the bytes at addr in the text or the slots.
func (f *fakeMachine) mem(addr uint64, n int) []byte {
	if addr >= f.textStart && addr+uint64(n) <= f.textStart+uint64(len(f.text)) {
		return f.text[addr-f.textStart:][:n]
	}
	s := addrOf(f.slots)
	if addr >= s && addr+uint64(n) <= s+uint64(len(f.slots)) {
		return f.slots[addr-s:][:n]
	}
	return nil
}

func (f *fakeMachine) ReadText(addr uint64, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	copy(b, f.mem(addr, len(b)))
}

func (f *fakeMachine) Poke(addr uint64, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	copy(f.mem(addr, len(b)), b)
	f.pokes++
}

func (f *fakeMachine) Slots() []byte         { return f.slots }
func (f *fakeMachine) SlotEpilogue() []byte  { return []byte{0x90} } // a NOP stands for it
func (f *fakeMachine) EnterSlot(cpu int)     { f.inSlot[cpu].Store(true) }
func (f *fakeMachine) SlotIdle(cpu int) bool { return !f.inSlot[cpu].Load() }
func (f *fakeMachine) Refetch(uint64)        { f.refetches.Add(1) }

// leaveSlot is the slot's epilogue running on cpu.
func (f *fakeMachine) leaveSlot(cpu int) { f.inSlot[cpu].Store(false) }

func addrOf(b []byte) uint64 { return uint64(uintptr(unsafePointer(b))) }

// recorder is a KprobeHandler that keeps what it saw.
type recorder struct {
	hits  atomic.Int64
	last  [maxFrame]byte
	ip    uint64
	onHit func(cpu int, regs *perf.Regs)
}

func (r *recorder) Hit(cpu int, regs *perf.Regs) {
	r.hits.Add(1)
	copy(r.last[:regs.Size], unsafeBytes(regs.Frame, regs.Size))
	r.ip = regs.IP
	if r.onHit != nil {
		r.onHit(cpu, regs)
	}
}

func newManager(t *testing.T, arch isa, im *image, ncpu int) (*Manager, *fakeMachine) {
	t.Helper()
	fm := newFakeMachine(im, ncpu)
	return New(arch, fm, im.symtab), fm
}

func mustSymbol(t *testing.T, st *Symtab, name string) Symbol {
	t.Helper()
	s, ok := st.Lookup(name)
	if !ok {
		t.Fatalf("no symbol %s", name)
	}
	return s
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func unsafeBytes(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }
