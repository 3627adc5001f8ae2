//go:build linux

package hostbpf

import (
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// An unknown command is EINVAL from the host; a map that does not exist,
// EBADF: the errors come back as Linux errnos.
func TestCallErrors(t *testing.T) {
	var attr [128]byte
	if _, err := Call(linux.BPFCmd(1000), unsafe.Pointer(&attr), uintptr(len(attr))); err == nil {
		t.Fatal("bpf(1000) succeeded")
	} else if err == linux.EPERM {
		t.Skip("the host refuses bpf() to this process (EPERM): it needs root or CAP_BPF")
	} else if err != linux.EINVAL {
		t.Errorf("bpf(1000): %v, want EINVAL", err)
	}
	attr[0] = 0xff // map_fd 255, not open
	if _, err := Call(linux.BPF_MAP_LOOKUP_ELEM, unsafe.Pointer(&attr), uintptr(len(attr))); err != linux.EBADF {
		t.Errorf("BPF_MAP_LOOKUP_ELEM on fd 255: %v, want EBADF", err)
	}
}
