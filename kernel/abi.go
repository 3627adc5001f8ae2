package kernel

// Linux uapi constants of the file and memory system calls kernel tasks
// make, the same on x86_64 and riscv64 (<asm-generic/fcntl.h>,
// <linux/fcntl.h>, <asm-generic/mman-common.h>, <linux/mman.h>,
// <linux/utsname.h>, <linux/limits.h>).
const (
	O_RDONLY    = 0o0
	O_WRONLY    = 0o1
	O_RDWR      = 0o2
	O_ACCMODE   = 0o3
	O_CREAT     = 0o100
	O_TRUNC     = 0o1000
	O_APPEND    = 0o2000
	O_NONBLOCK  = 0o4000
	O_DIRECTORY = 0o200000
	O_CLOEXEC   = 0o2000000

	AT_FDCWD = -100

	PROT_READ  = 0x1
	PROT_WRITE = 0x2
	PROT_EXEC  = 0x4

	MAP_SHARED          = 0x01
	MAP_PRIVATE         = 0x02
	MAP_SHARED_VALIDATE = 0x03
	MAP_TYPE            = 0x0f
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20

	PATH_MAX = 4096

	// __NEW_UTS_LEN + 1: each field of struct new_utsname.
	utsFieldLen = 65
)

// atFDCWD is AT_FDCWD as a system call argument register holds it.
const atFDCWD = uint64(1<<64 + AT_FDCWD)
