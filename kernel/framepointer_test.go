package kernel

import (
	"slices"
	"testing"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The frame-pointer walk stops at the end of the chain and at anything
// that is not a climbing chain of readable frames.
func TestWalkFrames(t *testing.T) {
	k, _ := newTestKernel(t, "x86_64")
	mem := (*[8]uint64)(unsafe.Pointer(unsafe.SliceData(Alloc(64))))
	addr := func(i int) uint64 { return uint64(uintptr(unsafe.Pointer(&mem[i]))) }
	regs := AllocValue[[21]uint64]()
	ctx := vm.Region{Base: unsafe.Pointer(regs), Size: ptRegsSize}
	tests := []struct {
		name  string
		setup func()
		rbp   uint64
		want  []uint64
	}{
		{"two frames", func() { mem[0], mem[1], mem[2], mem[3] = addr(2), 0xa, 0, 0xb }, addr(0), []uint64{0x1234, 0xa, 0xb}},
		{"loop", func() { mem[0], mem[1] = addr(0), 0xa }, addr(0), []uint64{0x1234, 0xa}},
		{"going down the stack", func() { mem[2], mem[3], mem[0], mem[1] = addr(0), 0xa, addr(2), 0xb }, addr(2), []uint64{0x1234, 0xa}},
		{"zero return address", func() { mem[0], mem[1] = addr(2), 0 }, addr(0), []uint64{0x1234}},
		{"misaligned", func() {}, addr(0) + 1, []uint64{0x1234}},
		{"outside RAM", func() {}, fakeRAMEnd - 8, []uint64{0x1234}},
		{"no frame pointer", func() {}, 0, []uint64{0x1234}},
	}
	for _, tt := range tests {
		clear(mem[:])
		tt.setup()
		regs[ptRegsRBP/8], regs[ptRegsRIP/8] = tt.rbp, 0x1234
		ips := make([]uint64, 16)
		n, err := k.mem.walkFrames(ctx, ips)
		if err != nil || !slices.Equal(ips[:n], tt.want) {
			t.Errorf("%s: %#x, %v; want %#x", tt.name, ips[:n], err, tt.want)
		}
	}
	mem[0], mem[1], mem[2], mem[3] = addr(2), 0xa, 0, 0xb
	regs[ptRegsRBP/8] = addr(0)
	if n, _ := k.mem.walkFrames(ctx, make([]uint64, 2)); n != 2 {
		t.Errorf("walk into 2 slots: %d frames", n)
	}
	if _, err := k.mem.walkFrames(vm.Region{Base: unsafe.Pointer(regs), Size: ptRegsSize - 8}, make([]uint64, 4)); err != linux.EFAULT {
		t.Errorf("short context: %v, want EFAULT", err)
	}
}
