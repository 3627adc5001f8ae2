package kernel

import (
	"unsafe"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// memoryMap is the kernel's memory as the checked copies see it: the RAM
// the board gave the kernel, and the kernel's code inside it.
//
// The checks are what makes a copy fault-safe on the boards Hachi runs on.
// The kernel runs with all of its RAM mapped at its own address and
// nothing else mapped there: on x86_64, TamaGo's page tables map the first
// 4 GiB (2 MiB and 1 GiB pages, present, read/write) and the RAM region
// lies inside; on riscv64 the kernel runs in machine mode, where addresses
// are physical and no PMP entry restricts RAM. No page of RAM is ever
// unmapped or paged out. So a range inside RAM can be read without a
// fault, and a range outside it is refused before any byte is touched,
// which is what copy_from_kernel_nofault's fixup achieves on Linux. Writes
// also refuse the kernel's code, which nothing protects on bare metal.
type memoryMap struct {
	ramStart, ramEnd   uint64
	textStart, textEnd uint64
}

// readable reports whether the n bytes at addr lie inside RAM.
func (m *memoryMap) readable(addr, n uint64) bool {
	end := addr + n
	return end >= addr && addr >= m.ramStart && end <= m.ramEnd
}

// writable reports whether the n bytes at addr lie inside RAM and outside
// the kernel's code.
func (m *memoryMap) writable(addr, n uint64) bool {
	return m.readable(addr, n) && (addr+n <= m.textStart || addr >= m.textEnd)
}

// at is the memory of n bytes at addr; the caller has checked the range.
// The slice is built field by field rather than with unsafe.Slice: the
// range may span several Go objects (a string read up to its page's end,
// say), which is how kernel memory is, and which the race detector's
// pointer checks (checkptr) would refuse in unsafe.Slice.
func at(addr, n uint64) []byte {
	var b []byte
	h := (*[3]uintptr)(unsafe.Pointer(&b))
	h[0], h[1], h[2] = uintptr(addr), uintptr(n), uintptr(n)
	return b
}

// addrOf is the address of b's first byte.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// kernelSpace is the AddressSpace of kernel tasks: the kernel's own
// memory, by address (Linux's kernel threads calling with KERNEL_DS, or
// the kernel_read/kernel_write family). A range outside the kernel's RAM,
// or a write into its code, is EFAULT and copies nothing.
type kernelSpace struct{ m *memoryMap }

var _ syscall.AddressSpace = kernelSpace{}

// CopyIn implements syscall.AddressSpace.
func (s kernelSpace) CopyIn(addr uint64, dst []byte) error {
	if len(dst) == 0 {
		return nil
	}
	if !s.m.readable(addr, uint64(len(dst))) {
		return linux.EFAULT
	}
	copy(dst, at(addr, uint64(len(dst))))
	return nil
}

// CopyOut implements syscall.AddressSpace.
func (s kernelSpace) CopyOut(addr uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	if !s.m.writable(addr, uint64(len(src))) {
		return linux.EFAULT
	}
	copy(at(addr, uint64(len(src))), src)
	return nil
}

// readKernel is copy_from_kernel_nofault: len(dst) bytes at addr, or
// EFAULT (dst zeroed) when the range is not the kernel's memory.
func (m *memoryMap) readKernel(dst []byte, addr uint64) error {
	if !m.readable(addr, uint64(len(dst))) {
		clear(dst)
		return linux.EFAULT
	}
	copy(dst, at(addr, uint64(len(dst))))
	return nil
}
