// Package vm owns the eBPF interpreter: loading a program into a compact,
// pre-decoded form (Image), running it (Program.Run) on a per-CPU Env, and
// the contracts the rest of the kernel implements for it: the helper calling
// convention (HelperFunc), map references (MapHandle), prog arrays for tail
// calls (ProgArray) and load-time resolution of lddw pseudo sources and
// kfunc calls (Resolver).
//
// # Memory model
//
// Registers hold real addresses, as in Linux: r1 is the address of the
// context, r10 the top of the current 512-byte stack frame, and helpers
// return real addresses of map values. Stack frames live in memory owned by
// the Env (allocated once, on the heap, which Go never moves), never on a
// goroutine stack. Whoever hands memory to a program (the context, a
// packet, a map value) keeps it alive for the run.
//
// # Two modes
//
// A Program runs either checked or fast, fixed when it is made:
//
//   - NewChecked: every memory access is checked at run time against the
//     regions the run knows (the context, the live stack frames, regions the
//     caller or helpers Declare, map values and kernel variables resolved at
//     load), reading a register that holds no value is an error (like the
//     verifier's "R0 !read_ok"), map, function and prog-array references
//     are validated, and a step budget bounds the run. Anything a program
//     does wrong is an *Error; nothing panics. For tests, fuzzing and tools.
//   - NewVerified: no checks. Only bpf/verifier may call it, for a program it
//     has proven safe, exactly as Linux only runs verified programs.
//
// Both loops come from the same source (interp.go; interp_checked.go is
// generated from it), so they cannot disagree about what an instruction does.
//
// # How the verifier plugs in
//
// bpf/verifier calls Load (which checks what does not need abstract
// interpretation: encoding, reserved fields, jumps, functions, r10, and
// resolves helpers, maps and kfuncs), analyses the Image (Instructions,
// Ops, Functions), and, if it proves the program safe, makes the fast
// Program with NewVerified. To rewrite instructions (as Linux does for
// context accesses) it loads the rewritten program. A test
// (TestOnlyVerifierMakesFastPrograms) keeps every other package away from
// NewVerified.
//
// # Helpers, maps, tail calls, callbacks
//
// Helpers are HelperFunc values in a Helpers table indexed by Linux helper
// id. A map is a register holding the address of a MapHandle; helpers get
// it back with Env.Map. A call of bpf_map_lookup_elem whose map the
// verifier proved (Options.InlineLookups) runs without the helper when the
// map has an inline form (LookupInliner): an array's lookup is computed in
// the interpreter, another map's lookup is called directly, as Linux's
// verifier rewrites such calls with map_gen_lookup. bpf_tail_call (12) is the VM's: it finds the
// ProgArray behind the map and replaces the running function, in Linux's
// order of checks. A helper runs a callback with Env.Call. Memory a helper
// reads or hands out goes through Env.Memory and Env.Declare, so that
// checked runs stay checked.
//
// # Semantics
//
// Exactly Linux's (kernel/bpf/core.c:___bpf_prog_run): division by zero
// gives 0, modulo by zero leaves dst unchanged (32-bit: zero-extended),
// shift counts are masked (63, 31), 32-bit operations zero the upper half,
// signed INT_MIN / -1 is INT_MIN and INT_MIN % -1 is 0; up to MaxCallFrames
// frames of StackSize bytes, r6-r9 preserved across bpf-to-bpf calls;
// MaxTailCalls tail calls per run; may_goto with Linux's BPF_MAX_LOOPS
// budget per frame. The host must be little endian (amd64, arm64, riscv64).
package vm

// Limits, as in Linux (include/linux/bpf.h, include/linux/filter.h).
const (
	// StackSize is the stack of one call frame in bytes (MAX_BPF_STACK).
	StackSize = 512
	// MaxCallFrames is the deepest call chain, the main program included
	// (MAX_CALL_FRAMES). Callbacks run by helpers count as frames.
	MaxCallFrames = 8
	// MaxTailCalls is the number of tail calls one run may make
	// (MAX_TAIL_CALL_CNT): the first program and 33 more run.
	MaxTailCalls = 33
	// MaxInstructions is the largest program (BPF_COMPLEXITY_LIMIT_INSNS,
	// the privileged limit).
	MaxInstructions = 1_000_000
	// MaxSubprograms is the number of functions a program may have
	// (BPF_MAX_SUBPROGS).
	MaxSubprograms = 256
	// MayGotoBudget is how many times may_goto falls through in one frame
	// before it jumps (BPF_MAX_LOOPS).
	MayGotoBudget = 8 * 1024 * 1024
	// DefaultStepLimit bounds a checked run when Env.StepLimit is zero.
	DefaultStepLimit = 100_000_000
)
