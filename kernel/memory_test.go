package kernel

import (
	"bytes"
	"testing"

	"hachi/syscall/linux"
)

// Copies in and out of kernel memory: inside RAM they work, anything
// else is EFAULT and touches nothing; the kernel's code is read-only.
func TestKernelSpace(t *testing.T) {
	f := newFakeBoard("")
	k := New(f.board())
	space := kernelSpace{&k.mem}
	buf := Alloc(64)
	for i := range buf {
		buf[i] = byte(i)
	}
	text := addrOf(f.text)
	tests := []struct {
		name    string
		addr    uint64
		n       int
		in, out error
	}{
		{"heap", addrOf(buf), 64, nil, nil},
		{"empty at NULL", 0, 0, nil, nil},
		{"NULL", 0, 8, linux.EFAULT, linux.EFAULT},
		{"below RAM", fakeRAMStart - 8, 8, linux.EFAULT, linux.EFAULT},
		{"across RAM's start", fakeRAMStart - 4, 8, linux.EFAULT, linux.EFAULT},
		{"RAM's last bytes", fakeRAMEnd - 8, 0, nil, nil},
		{"across RAM's end", fakeRAMEnd - 4, 8, linux.EFAULT, linux.EFAULT},
		{"past RAM", fakeRAMEnd, 8, linux.EFAULT, linux.EFAULT},
		{"wrapping", ^uint64(0) - 3, 8, linux.EFAULT, linux.EFAULT},
		{"kernel code", text + 16, 8, nil, linux.EFAULT},
		{"into kernel code", text - 4, 8, nil, linux.EFAULT},
	}
	for _, tt := range tests {
		dst := make([]byte, tt.n)
		if err := space.CopyIn(tt.addr, dst); err != tt.in {
			t.Errorf("%s: CopyIn = %v, want %v", tt.name, err, tt.in)
		}
		if tt.in == nil && tt.addr == addrOf(buf) && !bytes.Equal(dst, buf) {
			t.Errorf("%s: CopyIn read %v", tt.name, dst)
		}
		before := append([]byte(nil), f.text...)
		// Writes are tried where they must fail, or copy nothing: the
		// test owns no other memory.
		if tt.out != nil || tt.n == 0 {
			if err := space.CopyOut(tt.addr, bytes.Repeat([]byte{0xee}, tt.n)); err != tt.out {
				t.Errorf("%s: CopyOut = %v, want %v", tt.name, err, tt.out)
			}
		}
		if !bytes.Equal(f.text, before) {
			t.Fatalf("%s: the kernel code changed", tt.name)
		}
	}
	if err := space.CopyOut(addrOf(buf), []byte{1, 2}); err != nil || buf[0] != 1 || buf[1] != 2 {
		t.Errorf("CopyOut to the heap: %v, %v", err, buf[:2])
	}
}

// probe_read_kernel's view: EFAULT zeroes the destination.
func TestReadKernel(t *testing.T) {
	k, _ := newTestKernel(t, "x86_64")
	h := helperKernel{k}
	src := Alloc(8)
	copy(src, "kernel!\x00")
	dst := make([]byte, 8)
	if err := h.ReadKernel(dst, addrOf(src)); err != nil || string(dst) != "kernel!\x00" {
		t.Errorf("ReadKernel = %v, %q", err, dst)
	}
	copy(dst, "junkjunk")
	if err := h.ReadKernel(dst, fakeRAMEnd-4); err != linux.EFAULT || !bytes.Equal(dst, make([]byte, 8)) {
		t.Errorf("ReadKernel across RAM's end = %v, %q; want EFAULT and zeroes", err, dst)
	}
	copy(dst, "junkjunk")
	if err := h.ReadUser(dst, addrOf(src)); err != linux.EFAULT || !bytes.Equal(dst, make([]byte, 8)) {
		t.Errorf("ReadUser = %v, %q; want EFAULT and zeroes (kernel tasks have no user memory)", err, dst)
	}
	if h.UserLimit() != 0 {
		t.Errorf("UserLimit = %#x, want 0", h.UserLimit())
	}
}
