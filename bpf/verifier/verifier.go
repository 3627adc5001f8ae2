// Package verifier owns the eBPF verifier: the proof, before a program is
// loaded, that it cannot crash or hang the kernel or reach memory it should
// not, and the only way to make a program the interpreter's fast mode runs
// (Linux's kernel/bpf/verifier.c).
//
// Like Linux, it first checks the program's structure (cfg.go: valid and
// reachable instructions, jumps, subprograms) and then interprets it
// abstractly along every path (check.go), tracking what each register and
// stack slot may hold (reg.go, state.go: scalars with known bits and signed
// and unsigned 64- and 32-bit ranges, bounds.go and tnum.go; pointers to the
// context, stack, maps, packets and helper memory), checking each memory
// access (mem.go), arithmetic (alu.go), branch (branch.go) and call
// (call.go, with helper prototypes from proto.go), and pruning paths whose
// state is covered by one already proven safe (prune.go). Contexts are
// described per program type in ctx.go, maps in maps.go. The log (log.go)
// follows Linux's format.
//
// Choices, where Linux leaves room or Hachi differs:
//
//   - Loads are privileged (CAP_BPF and CAP_PERFMON, like a root loader):
//     pointer comparisons, pointers stored in maps or returned are allowed,
//     and so is reading stack the program has not written (Linux 6.18's
//     allow_uninit_stack; Options.StrictStackReads refuses it, as Linux does
//     without CAP_PERFMON). Spectre mitigations, which Linux applies only to
//     unprivileged loads, are not applied.
//   - Pruning uses Linux's liveness marks but not its precision tracking:
//     scalars are compared by containment, which is sound and prunes a
//     little less. A path is pruned only against a state whose every
//     descendant finished; loops are unrolled as in Linux, and states that
//     repeat exactly are an infinite loop.
//   - Loops whose iterations a helper or the interpreter bounds (bpf_loop and
//     bpf_for_each_map_elem callbacks, may_goto) are verified as loop bodies
//     until their states reach a fixpoint; after a few iterations the scalars
//     that keep changing are widened to unknown (Linux widens only the ones
//     it has not marked precise, so Hachi accepts a few loops Linux refuses).
//     A bpf_loop callback's index is bounded by nr_loops (Linux: unknown).
//   - Programs carry no BTF: every subprogram is verified in the context of
//     its callers (Linux verifies BTF-global functions on their own), kfuncs,
//     arenas and BTF-typed pointers are refused, map values have no special
//     fields (spin locks, timers, kptrs).
//   - A call of bpf_map_lookup_elem that looks up the same map on every
//     path (Program.LookupMaps) runs without the helper, inline or as a
//     direct call of the map's lookup, as Linux's do_misc_fixups does with
//     map_gen_lookup (Linux does it only for JITed programs; the
//     interpreter here does it too).
//   - Contexts are the uapi structs verbatim (pt_regs of the target,
//     bpf_perf_event_data, __sk_buff, tracepoint records), except XDP, whose
//     xdp_md accesses are rewritten to XDPBuff as Linux rewrites them to
//     struct xdp_buff.
package verifier

import (
	"errors"
	"fmt"
	"time"

	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Linux's limits (include/linux/bpf.h, bpf_verifier.h).
const (
	// MaxProcessed is BPF_COMPLEXITY_LIMIT_INSNS: instructions processed on
	// all paths before the verifier gives up with E2BIG.
	MaxProcessed = 1_000_000
	// MaxInsns is the longest program (BPF_COMPLEXITY_LIMIT_INSNS for a
	// privileged loader; BPF_MAXINSNS, 4096, applies to others).
	MaxInsns = 1_000_000
	// MaxSubprogs is BPF_MAX_SUBPROGS.
	MaxSubprogs = 256
	// MaxUsedMaps is MAX_USED_MAPS: distinct maps one program refers to.
	MaxUsedMaps = 64
	// MaxCallFrames is MAX_CALL_FRAMES.
	MaxCallFrames = 8
	// StackSize is MAX_BPF_STACK: one frame, and every frame of a call chain together.
	StackSize = 512
	// MaxPendingPaths is BPF_COMPLEXITY_LIMIT_JMP_SEQ: paths waiting to be explored.
	MaxPendingPaths = 8192
	// maxStatesPerInsn is BPF_COMPLEXITY_LIMIT_STATES: Linux stops adding
	// states past it for unprivileged loads; here it caps the states kept
	// per instruction for pruning.
	maxStatesPerInsn = 64
	// maxVarOff is BPF_MAX_VAR_OFF: pointer offsets stay below 2^29.
	maxVarOff = 1 << 29
	// maxPacketOff is MAX_PACKET_OFF.
	maxPacketOff = 0xffff
	// maxLoops is BPF_MAX_LOOPS: the iterations of bpf_loop.
	maxLoops = 1 << 23
)

// processLimit is MaxProcessed; tests lower it to keep fuzzing fast.
var processLimit = MaxProcessed

// Options describe the program being loaded: BPF_PROG_LOAD's attributes
// and what the loader resolved.
type Options struct {
	// ProgType is the Linux program type, or ProgTypeMemory.
	ProgType           linux.BPFProgType
	ExpectedAttachType linux.BPFAttachType
	// Arch is the target of kprobe and perf_event contexts.
	Arch Arch
	// CtxSize is the size of a tracepoint's record (from its format file;
	// 0: unknown, the attach layer checks Program.MaxCtxOffset), or N for
	// ProgTypeMemory.
	CtxSize uint32
	// GPL is set when the license is GPL-compatible (gpl_only helpers).
	GPL bool
	// Maps resolves lddw map references; nil refuses them.
	Maps Resolver
	// Helpers are the helper implementations the program may call, by
	// Linux id; a helper the program calls must have both a prototype
	// (Protos) and an implementation here.
	Helpers vm.Helpers
	// Protos are the prototypes of the helpers by id; nil means the Linux
	// prototypes, as available to ProgType.
	Protos func(id int32) *HelperProto
	// Log receives the verifier log; nil means none.
	Log *log.Log
	// StrictStackReads refuses reads of stack the program has not written,
	// as Linux does for loaders without CAP_PERFMON.
	StrictStackReads bool
}

// Error is a refusal: the errno BPF_PROG_LOAD returns (EINVAL for a
// malformed program, EACCES for an unsafe one, E2BIG past a limit, ENOSPC
// when only the log did not fit), the instruction it is about (-1 for the
// whole program) and the message, which is also the last line of the log.
type Error struct {
	Errno linux.Errno
	Insn  int
	Msg   string
}

func (e *Error) Error() string {
	if e.Insn < 0 {
		return e.Msg
	}
	return fmt.Sprintf("insn %d: %s", e.Insn, e.Msg)
}

// Unwrap makes errors.Is(err, linux.EACCES) work.
func (e *Error) Unwrap() error { return e.Errno }

// Stats are the figures of Linux's "processed N insns" line.
type Stats struct {
	Processed        int // instructions processed on all paths
	MaxStatesPerInsn int // largest number of states kept at one instruction
	TotalStates      int // states created for pruning
	PeakStates       int // states kept at once
	MarkRead         int // longest walk marking a register read
	Duration         time.Duration
}

// Fact is what the verifier proved about one instruction on every path, for
// the interpreter or a JIT to drop checks.
type Fact uint8

// The facts.
const (
	// FactReached: some path runs the instruction; one never reached is
	// dead code (Linux's sanitize_dead_code replaces it).
	FactReached Fact = 1 << iota
	// FactDivisorNonZero: a division or modulo by a register never
	// divides by zero, so the zero test can go.
	FactDivisorNonZero
	// FactShiftInRange: a shift by a register always shifts by less than
	// the operation's width, so the amount need not be masked.
	FactShiftInRange
)

// Program is a verified program: the only input of the interpreter's fast
// mode, together with what the verifier learned about it.
type Program struct {
	prog *vm.Program
	// Insns are the instructions as they run: context accesses rewritten
	// to the kernel's context layout (XDPBuff).
	Insns []isa.Instruction
	// StackDepth is the deepest stack access of each subprogram, in bytes;
	// Subprogs their entry instructions, the main program first.
	StackDepth []int
	Subprogs   []int
	// MaxCtxOffset is one past the largest context offset read, for the
	// attach layer to check against a tracepoint's record or a raw
	// tracepoint's arguments (Linux's prog->aux->max_ctx_offset).
	MaxCtxOffset int
	// Maps are the maps the program refers to, in order of first use.
	Maps []*Map
	// LookupMaps are the calls of bpf_map_lookup_elem, by instruction,
	// that look up the same map (one the program names) on every path
	// (Linux's unpoisoned map_ptr_state). The interpreter runs them
	// without the helper when the map allows it (vm.Image.InlinedLookups),
	// as Linux's map_gen_lookup does; a JIT can do the same.
	LookupMaps map[int]*Map
	// Helpers are the ids of the helpers the program calls.
	Helpers []int32
	// Facts are what holds of each instruction on every path.
	Facts []Fact
	// Stats are the verification figures.
	Stats Stats
}

// VM is the program for the interpreter's fast mode.
func (p *Program) VM() *vm.Program { return p.prog }

// Image is the loaded image the verified program runs.
func (p *Program) Image() *vm.Image { return p.prog.Image() }

// Verify proves insns safe for opts and returns the program to run, or an
// *Error saying why not (with the log written as Linux writes it).
func Verify(insns []isa.Instruction, opts Options) (*Program, error) {
	start := time.Now()
	e, err := newEnv(insns, &opts)
	if err == nil {
		err = e.run()
	}
	e.stats.Duration = time.Since(start)
	e.printStats()
	switch {
	case e.log.Faulted():
		err = &Error{Errno: linux.EFAULT, Insn: -1, Msg: "fault writing the log"}
	case e.log.Full():
		// A log that did not fit is reported whatever the verdict, as
		// Linux 6.1's bpf_check does.
		msg := "log buffer too small"
		if err != nil {
			msg += ": " + err.Error()
		}
		err = &Error{Errno: linux.ENOSPC, Insn: -1, Msg: msg}
	}
	if err != nil {
		var verr *Error
		if !errors.As(err, &verr) {
			err = &Error{Errno: linux.EINVAL, Insn: -1, Msg: err.Error()}
		}
		return nil, err
	}
	return e.finish()
}
