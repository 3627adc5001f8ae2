package linux

// The ioctl request encoding of <asm-generic/ioctl.h>, which x86_64 and
// riscv64 both use unchanged: x86_64's uapi asm/ioctl.h only includes it and
// riscv64 has none (generic-y); alpha, mips, powerpc, parisc and sparc
// override _IOC_*BITS or the directions. linux_test.go checks the numbers
// against the host's header:
//
//	bits  0-7 : nr      (_IOC_NRBITS 8)
//	bits  8-15: type    (_IOC_TYPEBITS 8)
//	bits 16-29: size    (_IOC_SIZEBITS 14)
//	bits 30-31: dir     (_IOC_DIRBITS 2)

// ioctl directions (_IOC_NONE, _IOC_WRITE, _IOC_READ).
const (
	IOC_NONE  = 0
	IOC_WRITE = 1
	IOC_READ  = 2
)

// Shifts of the ioctl request fields (_IOC_*SHIFT).
const (
	IOC_NRSHIFT   = 0
	IOC_TYPESHIFT = 8
	IOC_SIZESHIFT = 16
	IOC_DIRSHIFT  = 30
)

// IOC builds an ioctl request number like the _IOC macro.
func IOC(dir, typ, nr, size uint32) uint32 {
	return dir<<IOC_DIRSHIFT | size<<IOC_SIZESHIFT | typ<<IOC_TYPESHIFT | nr<<IOC_NRSHIFT
}

// IO is _IO(type, nr): no argument.
func IO(typ, nr uint32) uint32 { return IOC(IOC_NONE, typ, nr, 0) }

// IOW is _IOW(type, nr, T) with size = sizeof(T): user writes, kernel reads.
func IOW(typ, nr, size uint32) uint32 { return IOC(IOC_WRITE, typ, nr, size) }

// IOR is _IOR(type, nr, T) with size = sizeof(T): kernel writes, user reads.
func IOR(typ, nr, size uint32) uint32 { return IOC(IOC_READ, typ, nr, size) }

// IOWR is _IOWR(type, nr, T) with size = sizeof(T).
func IOWR(typ, nr, size uint32) uint32 { return IOC(IOC_READ|IOC_WRITE, typ, nr, size) }
