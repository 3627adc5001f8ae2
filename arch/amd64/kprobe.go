//go:build tamago && amd64

package amd64

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
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

func (kprobeMachine) ReadText(addr uint64, b []byte) { copy(b, kprobe.Memory(addr, len(b))) }

// Poke writes b at addr and makes every CPU see it: a single byte (int3
// in, or the original byte back) is written atomically by the store
// itself; the IPI then serialises the other CPUs (Linux's text_poke and
// text_poke_sync; under QEMU TCG the write also invalidates the
// translated code).
//
// The write follows an INVLPG of the page: under QEMU's multi-threaded
// TCG, a write through a TLB entry filled before the page held translated
// code can miss the code-modification check, and the stale translation,
// breakpoint included, would then run forever on every CPU (seen: both
// CPUs trapping on a removed int3 whose byte was back in memory). A fresh
// entry takes the checked path. On hardware it costs a TLB miss.
func (kprobeMachine) Poke(addr uint64, b []byte) {
	copy(kprobe.Memory(addr, len(b)), b)
	trapSync()
}

// Refetch rewrites, from the trapping CPU, the bytes at addr as they are,
// through a fresh TLB entry (INVLPG, then a locked add of 0 to the aligned
// word holding addr, atomic against a concurrent Poke). On hardware the
// serialising IRET already makes the CPU fetch memory. Under QEMU's
// multi-threaded TCG the translation holding the int3 sometimes outlives
// the write that removed it, and a CPU re-executing addr trapped on it
// forever (both CPUs at runtime.mallocgc's entry, its byte back in
// memory, in kprobe's TestGuestPatchWhileRunning); a write through the
// code-tracking path of a fresh TLB entry drops that translation.
func (kprobeMachine) Refetch(addr uint64) {
	invlpg(addr)
	atomic.AddUint32((*uint32)(unsafe.Pointer(&kprobe.Memory(addr&^3, 4)[0])), 0)
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

var (
	kprobesOnce sync.Once
	kprobes     *kprobe.Manager
	errKprobes  error
)

// Kprobes returns the kernel's kprobe manager, setting up the trap
// entries of every CPU the first time.
func Kprobes() (*kprobe.Manager, error) {
	kprobesOnce.Do(func() {
		kprobes, errKprobes = kprobe.NewRunning(kprobe.AMD64, kprobeMachine{}, trapInit)
		trapKprobes = kprobes
	})
	return kprobes, errKprobes
}
