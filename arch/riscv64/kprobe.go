//go:build tamago && riscv64

package riscv64

import (
	"sync"
	"unsafe"

	"hachi/kprobe"
)

// The kernel's code is writable and slots in the data segment execute:
// Go runs in machine mode without paging, and TamaGo sets no PMP entry
// that binds machine mode.

// kprobeSlots is the memory of the out-of-line slots (4-byte aligned).
var kprobeSlots [512 * 32 / 4]uint32

// kprobeMachine implements kprobe.Machine on the one hart that runs Go.
type kprobeMachine struct{}

func (kprobeMachine) NumCPU() int { return 1 }

func (kprobeMachine) ReadText(addr uint64, b []byte) { copy(b, kprobe.Memory(addr, len(b))) }

// Poke writes b at addr, then FENCE.I: the hart fetches the new bytes. No
// other hart runs Go, so no other needs telling.
func (kprobeMachine) Poke(addr uint64, b []byte) {
	copy(kprobe.Memory(addr, len(b)), b)
	trapFenceI()
}

func (kprobeMachine) Slots() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&kprobeSlots)), len(kprobeSlots)*4)
}

// Slots end with ebreak, whose trap the kprobe manager tracks: they need
// no epilogue and no in-slot mark.
func (kprobeMachine) SlotEpilogue() []byte { return nil }
func (kprobeMachine) EnterSlot(int)        {}
func (kprobeMachine) SlotIdle(int) bool    { return true }

// Refetch is FENCE.I: the hart fetches what memory holds at addr.
func (kprobeMachine) Refetch(uint64) { trapFenceI() }

// inSlots tells whether addr is in the out-of-line slots.
func inSlots(addr uint64) bool {
	start := uint64(uintptr(unsafe.Pointer(&kprobeSlots)))
	return addr-start < uint64(unsafe.Sizeof(kprobeSlots))
}

var (
	kprobesOnce sync.Once
	kprobes     *kprobe.Manager
	errKprobes  error
)

// Kprobes returns the kernel's kprobe manager, installing the trap vector
// the first time.
func Kprobes() (*kprobe.Manager, error) {
	kprobesOnce.Do(func() {
		kprobes, errKprobes = kprobe.NewRunning(kprobe.RISCV64, kprobeMachine{}, trapInit)
		trapKprobes = kprobes
	})
	return kprobes, errKprobes
}
