package kernel

import (
	"encoding/binary"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Unwinding from a trap's registers on x86_64, for programs run from a
// trap (kprobe and perf_event programs), whose context starts with the
// interrupted struct pt_regs. Go code on amd64 keeps frame pointers (each
// function's prologue pushes the caller's RBP and points RBP at it), so the
// stack is a chain: [RBP] is the caller's RBP, [RBP+8] the return address,
// as Linux's frame-pointer unwinder reads it (arch/x86/kernel/unwind_frame.c).
// Every read is checked against the kernel's RAM first, and the chain must
// climb the stack, so a frame without a frame pointer (assembly) or a
// corrupt one ends the walk instead of faulting. riscv64's Go code keeps no
// frame pointers: there is no such walk there.

// Offsets in x86_64's struct pt_regs (arch/x86/include/asm/ptrace.h).
const (
	ptRegsRBP  = 4 * 8
	ptRegsRIP  = 16 * 8
	ptRegsSize = 21 * 8
	// maxFrameSize bounds the distance between two frames of the chain:
	// a larger step is taken for a corrupt chain.
	maxFrameSize = 1 << 20
)

// walkFrames fills ips with the trap's instruction pointer and the return
// addresses of the frame-pointer chain from its RBP; EFAULT when the
// context is not a pt_regs.
func (m *memoryMap) walkFrames(ctx vm.Region, ips []uint64) (int, error) {
	if ctx.Size < ptRegsSize || ctx.Base == nil {
		return 0, linux.EFAULT
	}
	regs := at(uint64(uintptr(ctx.Base)), ptRegsSize)
	if len(ips) == 0 {
		return 0, nil
	}
	ips[0] = binary.LittleEndian.Uint64(regs[ptRegsRIP:])
	n := 1
	fp := binary.LittleEndian.Uint64(regs[ptRegsRBP:])
	for n < len(ips) && fp%8 == 0 && m.readable(fp, 16) {
		frame := at(fp, 16)
		next, ret := binary.LittleEndian.Uint64(frame), binary.LittleEndian.Uint64(frame[8:])
		if ret == 0 {
			break
		}
		ips[n] = ret
		n++
		if next <= fp || next-fp > maxFrameSize {
			break
		}
		fp = next
	}
	return n, nil
}
