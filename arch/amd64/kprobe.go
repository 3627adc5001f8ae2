//go:build tamago && amd64

package amd64

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"hachi/kprobe"
)

// Text is writable: TamaGo's page tables map all memory read-write and
// executable (init.s: every entry has R/W set, EFER.NXE is never set), so
// the kernel's code is patched in place, and slots in the data segment
// execute.

// kprobeSlots is the memory of the out-of-line slots: in the binary's
// data, so within a RIP-relative displacement's reach of every function.
var kprobeSlots [512 * 32]byte

// kprobeMachine implements kprobe.Machine.
type kprobeMachine struct{}

func (kprobeMachine) NumCPU() int { return NumCPU() }

func (kprobeMachine) ReadText(addr uint64, b []byte) { copy(b, kprobeMem(addr, len(b))) }

// Poke writes b at addr and makes every CPU see it: a single byte (int3
// in, or the original byte back) is written atomically by the store
// itself; the IPI then serialises the other CPUs (Linux's text_poke and
// text_poke_sync; under QEMU TCG the write also invalidates the
// translated code).
func (kprobeMachine) Poke(addr uint64, b []byte) {
	copy(kprobeMem(addr, len(b)), b)
	trapSync()
}

func (kprobeMachine) Slots() []byte { return kprobeSlots[:] }

// SlotEpilogue is mov dword gs:[trapCPU.inSlot], 0: it clears the
// running CPU's in-slot mark and changes neither flags nor registers.
func (kprobeMachine) SlotEpilogue() []byte {
	off := uint32(unsafe.Offsetof(trapCPU{}.inSlot))
	b := []byte{0x65, 0xc7, 0x04, 0x25}
	b = binary.LittleEndian.AppendUint32(b, off)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func (kprobeMachine) EnterSlot(cpu int)     { trapCPUs[cpu].inSlot.Store(1) }
func (kprobeMachine) SlotIdle(cpu int) bool { return trapCPUs[cpu].inSlot.Load() == 0 }

// kprobeMem is the memory of n bytes at addr.
func kprobeMem(addr uint64, n int) []byte {
	var b []byte
	h := (*[3]uintptr)(unsafe.Pointer(&b))
	h[0], h[1], h[2] = uintptr(addr), uintptr(n), uintptr(n)
	return b
}

var (
	kprobesOnce sync.Once
	kprobes     *kprobe.Manager
	errKprobes  error
)

// Kprobes returns the kernel's kprobe manager, setting up the trap
// entries of every CPU the first time.
func Kprobes() (*kprobe.Manager, error) {
	kprobesOnce.Do(func() {
		syms, err := kprobe.Running()
		if err != nil {
			errKprobes = err
			return
		}
		if err := trapInit(); err != nil {
			errKprobes = err
			return
		}
		kprobes = kprobe.New(kprobe.AMD64, kprobeMachine{}, syms)
		trapKprobes = kprobes
	})
	return kprobes, errKprobes
}
