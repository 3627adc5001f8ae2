//go:build tamago && amd64

package amd64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"hachi/kprobe"
	"hachi/syscall/linux"
)

// Hachi's trap entries for kprobes and the sampling timer (trap.s): its
// own IDT gates, because TamaGo's exception path prints and panics, never
// resuming, and its interrupt path only wakes a goroutine.
//
// The breakpoint (#BP, vector 3) runs on IST1, a per-CPU stack the CPU
// switches to whatever the interrupted code's stack: a goroutine's stack
// has no room guaranteed below its stack pointer (a nosplit chain may use
// it all), so nothing may be pushed there. IST1 is the top of the stack
// of the CPU's M's gsignal, the g the runtime keeps per M for signal
// handlers, and the trap entry makes gsignal the TLS g while the Go
// handler runs: its stack bounds are the stack's, so the stack checks of
// the Go code work; the runtime treats it as signal context (systemstack
// runs in place, morestack and malloc on it throw rather than corrupt);
// its m is the CPU's M, so a write barrier finds the M's P. There are no
// signals under GOOS=tamago, so gsignal is otherwise unused.
//
// A breakpoint hit inside the handler (a probe in what the handler calls)
// enters at IST1 again, so each trap moves IST1 below what it may use: a
// trap from outside may use the gsignal stack down to stack.lo+8 KiB
// (its stackguard0 is moved there, so going deeper throws instead of
// overwriting), a trap inside a handler the 8 KiB below, down to 2 KiB
// above stack.lo; such a trap only counts a miss (package kprobe), it never
// runs a handler, so a third one should never come: if it does, its frame
// is found below that floor and TamaGo's handler reports it rather than
// let it overwrite the stack.
//
// The sampling timer's interrupt (timer.go) enters on IST1 too, as a
// trap from outside: it comes only when interrupts are enabled, and no
// trap handler enables them (interrupt gates clear IF), so it never
// nests in a breakpoint trap; a breakpoint hit in its handler is a
// nested trap, which counts a miss (kprobe.Manager.EnterHandler).
//
// The IPI of vector trapIPIVector sets up the other CPUs (GDT with a TSS
// per CPU for the IST stacks, GS base pointing at the CPU's trapCPU) and
// afterwards serialises instruction fetch on them after code changed.

const (
	// maxTrapCPUs bounds the CPUs the trap entries know.
	maxTrapCPUs = 16

	// trapIPIVector is the vector of Hachi's inter-processor interrupt.
	trapIPIVector = 0xf1

	ipiInit = 1 // trapIPIOp: set up the CPU
	ipiSync = 2 // trapIPIOp: only serialise

	// Gate and descriptor types (Intel SDM vol. 3A, 3.5 and 6.14.1).
	interruptGate = 0x8e // present, DPL 0, 64-bit interrupt gate
	tssAvailable  = 0x89 // present, DPL 0, 64-bit TSS (available)

	kernelCS = 0x08 // TamaGo's code segment selector

	// Runtime layout (Go 1.26 runtime/runtime2.go), checked at set-up.
	gM            = 48
	gStackLo      = 0
	gStackHi      = 8
	mG0           = 0
	mGsignal      = 72
	gsignalStack  = 32 << 10 // mpreinit's malg(32 * 1024)
	ipiStackBytes = 1024
)

// trapCPU is a CPU's trap state; its address is the CPU's GS base.
type trapCPU struct {
	tss   [104]byte // the TSS: IST1, IST2
	index uint64
	// inSlot is set when the CPU is sent to run a kprobe slot; the
	// slot's epilogue clears it (kprobeMachine.SlotEpilogue).
	inSlot atomic.Uint32
	// timerLVT is the vector the CPU's LVT timer register holds, 0 until
	// the CPU first programmed its timer (timer.go); here because the
	// timer's gate sets it too.
	timerLVT uint32
	_        [32 - 8]byte
	// ipiStack is the IPI gate's stack (IST2): its top is the end of
	// the struct.
	ipiStack [ipiStackBytes]byte
}

var (
	trapCPUs [maxTrapCPUs]trapCPU
	// trapGDT is TamaGo's GDT (null, code, data) followed by a TSS
	// descriptor (16 bytes) per CPU; trapGDTR is the LGDT operand.
	trapGDT  [3 + 2*maxTrapCPUs]uint64
	trapGDTR [2]uint64

	trapIPIOp   uint32
	trapIPIAcks uint32
	trapIPIMu   sync.Mutex

	// trapPrevBreakpoint is TamaGo's #BP entry, for breakpoints that
	// are not a probe's.
	trapPrevBreakpoint uint64

	// trapKprobes handles the breakpoints once set.
	trapKprobes *kprobe.Manager

	trapOnce sync.Once
	errTrap  error
)

// defined in trap.s
func trapSetupAll(icr uint32) int
func trapSendIPIOthers(icr uint32)
func trapSIDT() uint64
func trapGSBase() uint64
func trapEntries() (breakpoint, ipi, timer uint64)
func trapInt3()

// trapBreakpoint is the Go side of the #BP gate, on the CPU's gsignal:
// frame is the trapped pt_regs (ip is one past the int3).
func trapBreakpoint(frame *linux.PtRegsAMD64, cpu int) bool {
	m := trapKprobes
	if m == nil {
		return false
	}
	return m.Trap(cpu, frame.Ip-1, unsafe.Pointer(frame))
}

// trapCheckLayout checks the runtime layout the trap entry relies on:
// g.m, m.g0, m.gsignal, gsignal's stack size.
func trapCheckLayout() error {
	gp, _ := runtime.GetG()
	g := uint64(gp)
	m := *word(g + gM)
	if m == 0 {
		return errors.New("no m in g")
	}
	g0, gs := *word(m + mG0), *word(m + mGsignal)
	if g0 == 0 || *word(g0 + gM) != m || gs == 0 || *word(gs + gM) != m {
		return errors.New("m.g0 or m.gsignal not where Go 1.26 keeps them")
	}
	if size := *word(gs + gStackHi) - *word(gs + gStackLo); size != gsignalStack {
		return fmt.Errorf("gsignal stack of %d bytes, want %d", size, gsignalStack)
	}
	return nil
}

func word(addr uint64) *uint64 {
	var p *uint64
	*(*uintptr)(unsafe.Pointer(&p)) = uintptr(addr)
	return p
}

// gate is an IDT gate descriptor (Intel SDM vol. 3A, 6.14.1).
func gate(entry uint64, ist uint8) (lo, hi uint64) {
	lo = entry&0xffff | kernelCS<<16 | uint64(ist)<<32 | interruptGate<<40 | (entry>>16&0xffff)<<48
	return lo, entry >> 32
}

func setGate(vector int, entry uint64, ist uint8) {
	idt := trapSIDT()
	lo, hi := gate(entry, ist)
	// The high word first: the gate is not in use while it changes.
	atomic.StoreUint64(word(idt+16*uint64(vector)+8), hi)
	atomic.StoreUint64(word(idt+16*uint64(vector)), lo)
}

func gateEntry(vector int) uint64 {
	idt := trapSIDT()
	lo, hi := *word(idt + 16*uint64(vector)), *word(idt + 16*uint64(vector) + 8)
	return lo&0xffff | (lo>>48)<<16 | hi<<32
}

// trapInit sets up every CPU for Hachi's traps and installs the gates.
func trapInit() error {
	trapOnce.Do(func() { errTrap = trapSetup() })
	return errTrap
}

func trapSetup() error {
	if err := trapCheckLayout(); err != nil {
		return fmt.Errorf("amd64: traps: %v", err)
	}
	n := NumCPU()
	if n > maxTrapCPUs {
		return fmt.Errorf("amd64: traps: %d CPUs, at most %d", n, maxTrapCPUs)
	}
	trapGDT[1] = 0x00209a0000000000 // code, as TamaGo's
	trapGDT[2] = 0x0000920000000000 // data
	for i := range n {
		tss := uint64(uintptr(unsafe.Pointer(&trapCPUs[i].tss)))
		limit := uint64(len(trapCPUs[i].tss) - 1)
		trapGDT[3+2*i] = limit&0xffff | (tss&0xffffff)<<16 | tssAvailable<<40 | (limit>>16&0xf)<<48 | (tss>>24&0xff)<<56
		trapGDT[4+2*i] = tss >> 32
	}
	base := uint64(uintptr(unsafe.Pointer(&trapGDT)))
	trapGDTR[0] = uint64(len(trapGDT)*8-1) | base<<16
	trapGDTR[1] = base >> 48

	// The set-up IPI finds the CPU's M through the g it interrupts:
	// every CPU must be running Go (the runtime starts the M of a CPU
	// only when it has work for it; an AP still waiting for its M would
	// take the IPI at its first instruction, before it has a g).
	if err := trapWaitCPUsRunning(n); err != nil {
		return err
	}
	bp, ipi, _ := trapEntries()
	setGate(trapIPIVector, ipi, 0)
	trapIPIMu.Lock()
	atomic.StoreUint32(&trapIPIOp, ipiInit)
	atomic.StoreUint32(&trapIPIAcks, 0)
	icr := uint32(0)
	if n > 1 {
		icr = ipiOthers
	}
	self := trapSetupAll(icr)
	// Read before anything may yield: the goroutine may then go on
	// another CPU.
	gsBase := trapGSBase()
	err := trapWaitAcks(n)
	trapIPIMu.Unlock()
	if err != nil {
		return err
	}
	if self >= n || gsBase != uint64(uintptr(unsafe.Pointer(&trapCPUs[self]))) {
		return fmt.Errorf("amd64: traps: CPU %d has GS base %#x", self, gsBase)
	}
	for i := range n {
		ist1 := binary.LittleEndian.Uint64(trapCPUs[i].tss[0x24:])
		if trapCPUs[i].index != uint64(i) || ist1 == 0 {
			return fmt.Errorf("amd64: traps: CPU %d did not set up", i)
		}
	}
	// Now that every CPU has its TSS, the IPI runs on its own stack.
	setGate(trapIPIVector, ipi, 2)
	trapPrevBreakpoint = gateEntry(3)
	setGate(3, bp, 1)
	return nil
}

// ipiOthers is the ICR of trapIPIVector to every other CPU: fixed
// delivery, assert, destination shorthand "all excluding self" (Intel
// SDM vol. 3A, 11.6.1).
const ipiOthers = trapIPIVector | 1<<14 | 3<<18

// trapWaitCPUsRunning runs goroutines until each of the n CPUs has been
// seen running one, or a second has passed.
func trapWaitCPUsRunning(n int) error {
	all := uint64(1)<<n - 1
	var seen atomic.Uint64
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	for range 2 * n {
		wg.Go(func() {
			for seen.Load() != all && time.Now().Before(deadline) {
				seen.Or(1 << CPUID())
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	if seen.Load() != all {
		return fmt.Errorf("amd64: traps: CPUs %b run Go, want %b", seen.Load(), all)
	}
	return nil
}

// trapWaitOthers sends the IPI of trapIPIOp to the other CPUs and waits
// until they all acknowledged it. The caller holds trapIPIMu.
func trapWaitOthers(n int) error {
	if n == 1 {
		return nil
	}
	trapSendIPIOthers(ipiOthers)
	return trapWaitAcks(n)
}

// trapWaitAcks waits until the n-1 other CPUs acknowledged the IPI.
func trapWaitAcks(n int) error {
	deadline := time.Now().Add(time.Second)
	for atomic.LoadUint32(&trapIPIAcks) < uint32(n-1) {
		if time.Now().After(deadline) {
			return fmt.Errorf("amd64: traps: %d of %d CPUs answered the IPI", atomic.LoadUint32(&trapIPIAcks), n-1)
		}
		runtime.Gosched()
	}
	return nil
}

// trapSync makes every other CPU execute a serialising instruction (the
// IPI's IRET), so that none runs code changed before the call from a
// stale fetch (Linux's text_poke_sync).
func trapSync() {
	trapIPIMu.Lock()
	defer trapIPIMu.Unlock()
	atomic.StoreUint32(&trapIPIOp, ipiSync)
	atomic.StoreUint32(&trapIPIAcks, 0)
	if err := trapWaitOthers(NumCPU()); err != nil {
		panic(err)
	}
}
