package linux

import "unsafe"

// Register frames as a BPF_PROG_TYPE_KPROBE (and perf_event) program sees
// them through its context pointer: bpf_user_pt_regs_t of
// <asm/bpf_perf_event.h>. Both targets are declared here, without build tags,
// because the verifier runs on the build host for either target and checks
// context accesses against the target's frame size.

// PtRegsAMD64 is x86_64's struct pt_regs (arch/x86/include/uapi/asm/ptrace.h;
// bpf_user_pt_regs_t is struct pt_regs there). Field names are the kernel's
// (di, si, ...), as vmlinux.h and bpf_tracing.h use them; the uapi header
// spells them rdi, rsi... at the same offsets.
type PtRegsAMD64 struct {
	R15    uint64
	R14    uint64
	R13    uint64
	R12    uint64
	Bp     uint64
	Bx     uint64
	R11    uint64
	R10    uint64
	R9     uint64
	R8     uint64
	Ax     uint64
	Cx     uint64
	Dx     uint64
	Si     uint64
	Di     uint64
	OrigAx uint64
	Ip     uint64
	Cs     uint64
	Flags  uint64
	Sp     uint64
	Ss     uint64
}

// UserRegsRISCV64 is riscv64's struct user_regs_struct
// (arch/riscv/include/uapi/asm/ptrace.h), which is bpf_user_pt_regs_t on
// riscv64 (arch/riscv/include/uapi/asm/bpf_perf_event.h). It is the prefix of
// the kernel's struct pt_regs, whose first field epc is pc here.
type UserRegsRISCV64 struct {
	Pc  uint64
	Ra  uint64
	Sp  uint64
	Gp  uint64
	Tp  uint64
	T0  uint64
	T1  uint64
	T2  uint64
	S0  uint64
	S1  uint64
	A0  uint64
	A1  uint64
	A2  uint64
	A3  uint64
	A4  uint64
	A5  uint64
	A6  uint64
	A7  uint64
	S2  uint64
	S3  uint64
	S4  uint64
	S5  uint64
	S6  uint64
	S7  uint64
	S8  uint64
	S9  uint64
	S10 uint64
	S11 uint64
	T3  uint64
	T4  uint64
	T5  uint64
	T6  uint64
}

// PtRegsRISCV64 is riscv64's kernel struct pt_regs
// (arch/riscv/include/asm/ptrace.h): user_regs_struct followed by the trap
// CSRs. Only its UserRegsRISCV64 prefix is visible to BPF programs.
type PtRegsRISCV64 struct {
	UserRegsRISCV64
	Status  uint64
	Badaddr uint64
	Cause   uint64
	OrigA0  uint64
}

// PtRegsLayout describes where bpf_tracing.h's PT_REGS_* macros read in a
// target's kprobe context: the byte offsets of the argument registers, the
// return value, stack, frame and instruction pointers, and the context size
// (bounds of valid context accesses in the verifier).
type PtRegsLayout struct {
	Size   uintptr
	Params []uintptr // PT_REGS_PARM1, PARM2... in order
	RC     uintptr   // PT_REGS_RC: return value
	SP     uintptr   // PT_REGS_SP
	FP     uintptr   // PT_REGS_FP
	IP     uintptr   // PT_REGS_IP
	// RET is PT_REGS_RET, the register holding the return address; on
	// x86_64 there is none (the address is at *sp), so it is SP there.
	RET uintptr
}

// PtRegsLayoutAMD64 is the x86_64 kprobe context (bpf_tracing.h __TARGET_ARCH_x86).
var PtRegsLayoutAMD64 = PtRegsLayout{
	Size: unsafe.Sizeof(PtRegsAMD64{}),
	Params: []uintptr{
		unsafe.Offsetof(PtRegsAMD64{}.Di),
		unsafe.Offsetof(PtRegsAMD64{}.Si),
		unsafe.Offsetof(PtRegsAMD64{}.Dx),
		unsafe.Offsetof(PtRegsAMD64{}.Cx),
		unsafe.Offsetof(PtRegsAMD64{}.R8),
		unsafe.Offsetof(PtRegsAMD64{}.R9),
	},
	RC:  unsafe.Offsetof(PtRegsAMD64{}.Ax),
	SP:  unsafe.Offsetof(PtRegsAMD64{}.Sp),
	FP:  unsafe.Offsetof(PtRegsAMD64{}.Bp),
	IP:  unsafe.Offsetof(PtRegsAMD64{}.Ip),
	RET: unsafe.Offsetof(PtRegsAMD64{}.Sp),
}

// PtRegsLayoutRISCV64 is the riscv64 kprobe context (bpf_tracing.h
// __TARGET_ARCH_riscv): arguments in a0-a7.
var PtRegsLayoutRISCV64 = PtRegsLayout{
	Size: unsafe.Sizeof(UserRegsRISCV64{}),
	Params: []uintptr{
		unsafe.Offsetof(UserRegsRISCV64{}.A0),
		unsafe.Offsetof(UserRegsRISCV64{}.A1),
		unsafe.Offsetof(UserRegsRISCV64{}.A2),
		unsafe.Offsetof(UserRegsRISCV64{}.A3),
		unsafe.Offsetof(UserRegsRISCV64{}.A4),
		unsafe.Offsetof(UserRegsRISCV64{}.A5),
		unsafe.Offsetof(UserRegsRISCV64{}.A6),
		unsafe.Offsetof(UserRegsRISCV64{}.A7),
	},
	RC:  unsafe.Offsetof(UserRegsRISCV64{}.A0),
	SP:  unsafe.Offsetof(UserRegsRISCV64{}.Sp),
	FP:  unsafe.Offsetof(UserRegsRISCV64{}.S0),
	IP:  unsafe.Offsetof(UserRegsRISCV64{}.Pc),
	RET: unsafe.Offsetof(UserRegsRISCV64{}.Ra),
}
