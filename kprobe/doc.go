// Package kprobe owns Hachi's kprobes: probes on any instruction of the
// running kernel by symbol(+offset) or address, placed by patching a
// breakpoint over the instruction (Linux's kernel/kprobes.c and
// arch/*/kernel/probes). It is portable: the architecture packages
// (arch/amd64, arch/riscv64) provide the trap entries, the text patching
// and the slot memory through Machine, and call Manager.Trap from their
// breakpoint trap; everything else, the decoding with golang.org/x/arch
// included, is here and tested on the host. Manager implements
// perf.Kprober, so perf_event_open's kprobe PMU places its probes here.
//
// # Symbols
//
// Symtab is the kernel's kallsyms, read from the Go function table every
// Go binary carries (the pclntab behind runtime.FuncForPC): entry, size
// (the end of the function's pc-to-SP table: its instructions, without
// the alignment padding) and name of each function, and the linker's
// flags. Running finds the table of the running kernel in memory; making
// the Symtab costs nothing (it is a view), a lookup by address is a binary
// search, one by name a scan of about 10^4 names.
//
// # Placing a probe
//
// The function holding the address is decoded from its entry (x86asm,
// riscv64asm): an address that is not an instruction boundary, or code
// that does not decode, is EILSEQ, as Linux's can_probe. The breakpoint is
// int3 (1 byte) on x86-64, ebreak (4 bytes) or c.ebreak (2 bytes) on
// riscv64 as the size of the instruction there requires. After the
// handlers, the probed instruction is carried out:
//
//   - emulated on the saved registers when it depends on its address:
//     relative and indirect jumps, conditional branches (flags on x86,
//     register compares on riscv64), calls (the return address pushed or
//     linked), returns, x86 LOOP/JRCXZ, riscv64 AUIPC, JAL, JALR and the
//     compressed jumps and branches;
//   - or run out of line in a per-probe slot. On x86 the slot holds the
//     instruction with its RIP-relative displacement moved by the distance
//     to the slot, an epilogue that clears the CPU's in-slot mark, and a
//     jump back: no single-step, no second trap (Linux's boosted kprobes).
//     On riscv64 a slot cannot jump back without a free register (JAL
//     reaches 1 MiB, the text is larger), so it ends with ebreak, whose
//     trap resumes after the probed instruction (Linux's riscv
//     single-step slots); LR/SC and CSR instructions are refused, as a
//     trap between them would break them.
//
// # Return probes
//
// Linux's kretprobes replace the return address on the stack with a
// trampoline's. Go's runtime cannot live with that: it walks, copies
// (stack growth) and scans goroutine stacks, and a foreign return address
// breaks all three. Hachi's return probes are breakpoints on the
// function's return instructions instead, found by decoding it: RET on
// x86, jalr x0, 0(ra) and c.jr ra on riscv64. The handler runs after the
// return is emulated, so it sees Linux's kretprobe registers: the return
// value in PT_REGS_RC, the caller's address as the ip, the caller's stack
// pointer. A jump out of the function (a tail call: Go emits them in
// wrappers and assembly) ends the function without a return the probe can
// see: it counts as missed, as a kretprobe's return beyond maxactive
// does. A function left by a panic returns nothing, in Linux too.
//
// # Traps and concurrency
//
// Manager.Trap runs in trap context on the CPU's trap stack (see the
// architecture packages: the M's gsignal stack and g): it allocates
// nothing, takes no lock and stores no pointer (no write barrier), and
// reads the probe list through an atomic pointer. A probe hit while a
// handler runs on the same CPU is counted in Probe.Missed and its handler
// does not run (Linux's nmissed), so what handlers call may itself be
// probed. Registration writes the breakpoint with Machine.Poke, which
// returns once every CPU fetches the new bytes (an IPI that serialises
// the other CPUs on x86, FENCE.I on riscv64). Unregister restores the
// original bytes, unpublishes the probe and waits until every CPU has been
// seen with no breakpoint trap in flight and out of every slot; a CPU that
// trapped on a breakpoint removed meanwhile resumes at the restored
// instruction.
//
// # What a kprobe program sees
//
// The context of a kprobe program is the architecture's struct pt_regs in
// Linux's layout, so PT_REGS_PARM1..5, PT_REGS_RC, PT_REGS_SP and
// PT_REGS_IP read what they read on Linux: di, si, dx, cx, r8 and ax on
// x86-64; a0..a4 and a0 on riscv64. Go functions pass arguments in
// registers with Go's own ABI (internal/abi): on riscv64 a0-a7 hold the
// integer arguments in order, so PT_REGS_PARM1 is a Go function's first
// argument, as for C; on x86-64 they are RAX, RBX, RCX, RDI, RSI, R8, R9,
// R10, R11, so PT_REGS_PARM1 (rdi) is a Go function's fourth integer
// argument and the first is in ax, which PT_REGS_RC reads. The ip of an
// x86-64 kprobe is one past the int3, as Linux's pre-handlers see it; on
// riscv64 it is the probed address. The return value of a Go function is
// in ax / a0 (the first result).
//
// # What may not be probed
//
// Refused lists it (EINVAL): the probe machinery, the trap paths, the
// runtime code that switches stacks or goroutines (by name and by the
// pclntab's flags), and the runtime's nosplit functions. See nokprobe.go.
package kprobe
