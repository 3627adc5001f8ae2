// Package syscall owns the portable kernel side of system calls: access to a
// process's user memory (AddressSpace, with fault-safe copies like Linux's
// copy_from_user and strncpy_from_user), the per-process file descriptor
// table (FDTable of reference-counted Files, like struct files_struct and
// struct file) and the process context a system call runs in (Task).
//
// It imports no architecture code: the kernel implements AddressSpace over a
// process's page tables, and host tests over byte slices (SliceSpace).
package syscall

import (
	"hachi/syscall/linux"
)

// PageSize is the page size of both supported architectures. String copies
// read user memory a page at a time, so a string that ends before an
// unmapped page is read without touching it, as Linux's strncpy_from_user.
const PageSize = 4096

// AddressSpace is a process's user memory as system calls reach it. Every
// pointer a process passes (a bpf_attr, and every u64 pointer inside it)
// goes through it. A copy that touches an unmapped or inaccessible byte
// fails with EFAULT; the bytes copied before the fault may or may not have
// been transferred, as with Linux's copy_{from,to}_user.
type AddressSpace interface {
	// CopyIn copies len(dst) bytes at user address addr into dst.
	CopyIn(addr uint64, dst []byte) error
	// CopyOut copies src to user address addr.
	CopyOut(addr uint64, src []byte) error
}

// CopyInString reads a NUL-terminated string of at most max bytes (the NUL
// not counted) at addr, like strncpy_from_user. Without a NUL among the
// first max bytes it returns those bytes and ENAMETOOLONG, so callers that
// truncate (the license of BPF_PROG_LOAD) and callers that refuse (a path)
// both have what they need. A fault before the NUL is EFAULT.
func CopyInString(as AddressSpace, addr uint64, max int) (string, error) {
	var buf []byte
	var chunk [PageSize]byte
	for len(buf) < max {
		n := PageSize - int(addr%PageSize)
		if left := max - len(buf); n > left {
			n = left
		}
		if err := as.CopyIn(addr, chunk[:n]); err != nil {
			// The chunk crosses into unmapped memory: go byte by byte,
			// as strncpy_from_user's fallback does, so that a string
			// ending before the fault is still read.
			n = bytewise(as, addr, chunk[:n])
			if n == 0 || chunk[n-1] != 0 {
				return "", linux.EFAULT
			}
		}
		for i, c := range chunk[:n] {
			if c == 0 {
				return string(append(buf, chunk[:i]...)), nil
			}
		}
		buf = append(buf, chunk[:n]...)
		addr += uint64(n)
	}
	return string(buf), linux.ENAMETOOLONG
}

// CheckZeroed reports whether the n bytes at addr are all zero, like
// Linux's check_zeroed_user: EFAULT if they cannot be read.
func CheckZeroed(as AddressSpace, addr uint64, n uint64) (bool, error) {
	var chunk [PageSize]byte
	for n > 0 {
		c := PageSize - addr%PageSize
		if c > n {
			c = n
		}
		if err := as.CopyIn(addr, chunk[:c]); err != nil {
			return false, linux.EFAULT
		}
		for _, b := range chunk[:c] {
			if b != 0 {
				return false, nil
			}
		}
		addr += c
		n -= c
	}
	return true, nil
}

// bytewise copies p from addr a byte at a time until a NUL (included) or a
// fault, and returns how many bytes it copied.
func bytewise(as AddressSpace, addr uint64, p []byte) int {
	for i := range p {
		if as.CopyIn(addr+uint64(i), p[i:i+1]) != nil {
			return i
		}
		if p[i] == 0 {
			return i + 1
		}
	}
	return len(p)
}
