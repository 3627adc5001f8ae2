package vm

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// ptr turns a register value into a pointer. It reinterprets the bits
// rather than converting a uintptr, so that neither go vet's unsafeptr check
// nor the race detector's checkptr instrumentation (which rejects pointer
// arithmetic that leaves its original object) objects: eBPF addresses are
// computed by the program, not derived from a Go pointer in this function.
func ptr(addr uint64) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// Loads and stores of program memory in the host's (little-endian) byte
// order. They tolerate unaligned addresses: one instruction where the CPU
// allows it (amd64, arm64), byte accesses elsewhere (riscv64).

func load8(a uint64) uint64  { return uint64(*(*uint8)(ptr(a))) }
func load16(a uint64) uint64 { return uint64(binary.NativeEndian.Uint16((*[2]byte)(ptr(a))[:])) }
func load32(a uint64) uint64 { return uint64(binary.NativeEndian.Uint32((*[4]byte)(ptr(a))[:])) }
func load64(a uint64) uint64 { return binary.NativeEndian.Uint64((*[8]byte)(ptr(a))[:]) }

func store8(a, v uint64)  { *(*uint8)(ptr(a)) = uint8(v) }
func store16(a, v uint64) { binary.NativeEndian.PutUint16((*[2]byte)(ptr(a))[:], uint16(v)) }
func store32(a, v uint64) { binary.NativeEndian.PutUint32((*[4]byte)(ptr(a))[:], uint32(v)) }
func store64(a, v uint64) { binary.NativeEndian.PutUint64((*[8]byte)(ptr(a))[:], v) }

func word32(a uint64) *uint32 { return (*uint32)(ptr(a)) }
func word64(a uint64) *uint64 { return (*uint64)(ptr(a)) }

// xor32 and xor64 are atomic exclusive-or, returning the old value
// (sync/atomic has And and Or but no Xor).
func xor32(a uint64, v uint32) uint32 {
	p := word32(a)
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old^v) {
			return old
		}
	}
}

func xor64(a uint64, v uint64) uint64 {
	p := word64(a)
	for {
		old := atomic.LoadUint64(p)
		if atomic.CompareAndSwapUint64(p, old, old^v) {
			return old
		}
	}
}

// cmpxchg32 and cmpxchg64 store v if memory holds want and return what
// memory held, atomically, like Linux's atomic_cmpxchg: the value returned
// when nothing is stored is one the memory really held, observed at the
// moment the comparison failed.
func cmpxchg32(a uint64, want, v uint32) uint32 {
	p := word32(a)
	for {
		old := atomic.LoadUint32(p)
		if old != want || atomic.CompareAndSwapUint32(p, old, v) {
			return old
		}
	}
}

func cmpxchg64(a uint64, want, v uint64) uint64 {
	p := word64(a)
	for {
		old := atomic.LoadUint64(p)
		if old != want || atomic.CompareAndSwapUint64(p, old, v) {
			return old
		}
	}
}

// fence orders memory around the byte and half-word load-acquire and
// store-release, which sync/atomic cannot express: a read-modify-write of
// a word of the CPU's own Env is a full barrier (LOCK'd on amd64, an AMO
// with aq and rl on riscv64).
func (e *Env) fence() { atomic.AddUint32(&e.barrier, 1) }
