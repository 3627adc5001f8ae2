package maps

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// allocWords returns n zeroed 8-byte words after charging them to host.
// The map keeps the slice for its whole life, so the addresses programs
// hold stay valid (Go's heap does not move objects).
func allocWords(host Host, n uint64) ([]uint64, error) {
	if n > (1<<62)/8 {
		return nil, linux.ENOMEM
	}
	if err := host.ChargeMemory(n * 8); err != nil {
		return nil, err
	}
	return make([]uint64, n), nil
}

// allocPages returns size bytes (a multiple of PageSize) of zeroed,
// page-aligned memory, for the parts of maps user space can mmap.
func allocPages(host Host, size uint64) ([]byte, error) {
	words, err := allocWords(host, (size+PageSize)/8)
	if err != nil {
		return nil, err
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(words)))
	skip := (PageSize - start%PageSize) % PageSize
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(words)), skip)), size), nil
}

// wordAt is the 8-byte word at byte offset off of p.
func wordAt(p unsafe.Pointer, off uintptr) *uint64 { return (*uint64)(unsafe.Add(p, off)) }

// loadTail is the little-endian value of the last len(b) < 8 bytes, as the
// zero-padded last word of a slot holds them.
func loadTail(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// storeTail writes the low len(b) bytes of v into b.
func storeTail(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v)
		v >>= 8
	}
}

// copyOut loads len(dst) bytes of the slot at src into dst with atomic
// word loads.
func copyOut(dst []byte, src unsafe.Pointer) {
	off := uintptr(0)
	for len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, atomic.LoadUint64(wordAt(src, off)))
		dst = dst[8:]
		off += 8
	}
	if len(dst) > 0 {
		storeTail(dst, atomic.LoadUint64(wordAt(src, off)))
	}
}

// spinLock is a raw spinlock that remembers which CPU holds it. A program
// that finds the lock held by its own CPU has interrupted the holder and
// would spin forever: it gets EBUSY instead, as Linux's htab_lock_bucket
// does with its per-CPU map_locked counters and the queue and ring buffer
// maps with trylock in NMI context. The syscall side (cpu < 0) never gets
// EBUSY; it holds the lock as the CPU Host.SyscallCPU names, so that a
// program interrupting it there (a kprobe in the map's code, the sampling
// timer) gets EBUSY too, as in Linux.
//
// A caller running as a goroutine (the syscall side, a program run by a
// system call or simulating a CPU in tests) yields now and then while it
// spins: the holder may be a goroutine the runtime took off its CPU inside
// the critical section (a GC preemption at a stack check, an allocation's
// assist). A program in trap context (Host.InTrap) may not yield: it spins
// at most maxTrapSpins times, then gets ETIMEDOUT, as Linux's resilient
// spinlocks (rqspinlock) time out, rather than wait forever for a holder
// that may need this CPU to run again.
type spinLock struct {
	owner atomic.Int32
}

// syscallOwner marks the lock held by the syscall side on an unknown CPU.
const syscallOwner = -1

// maxTrapSpins bounds the spinning of a program in trap context.
const maxTrapSpins = 1 << 22

// lockOwner is the owner mark of cpu, or of the syscall side (cpu < 0).
func lockOwner(host Host, cpu int) int32 {
	if cpu < 0 {
		if cpu = host.SyscallCPU(); cpu < 0 {
			return syscallOwner
		}
	}
	return int32(cpu) + 1
}

// lock takes l for cpu (the syscall side when negative). A program on cpu
// gets EBUSY if it finds l held by its own CPU, and ETIMEDOUT in trap
// context once it has spun maxTrapSpins times.
func (l *spinLock) lock(host Host, cpu int) error {
	me := lockOwner(host, cpu)
	if l.owner.CompareAndSwap(0, me) {
		return nil
	}
	trap := cpu >= 0 && host.InTrap(cpu)
	for spins := 1; ; spins++ {
		if cpu >= 0 && l.owner.Load() == me {
			return linux.EBUSY
		}
		switch {
		case trap && spins >= maxTrapSpins:
			return linux.ETIMEDOUT
		case !trap && spins%64 == 0:
			runtime.Gosched()
			if cpu < 0 {
				me = lockOwner(host, cpu) // it may resume on another CPU
			}
		}
		if l.owner.CompareAndSwap(0, me) {
			return nil
		}
	}
}

// unlock releases l.
func (l *spinLock) unlock() { l.owner.Store(0) }
