package kprobe

import (
	"strings"
)

// Functions that may not be probed: Linux's NOKPROBE_SYMBOL list and
// within_kprobe_blacklist. Register refuses them with EINVAL. Three rules
// make the list:
//
//  1. The names below: the probe path itself and the runtime code whose
//     state a probe handler would see half-changed.
//  2. Functions the Go linker flags as writing SP, as a stack's top
//     frame, or with a special runtime role (pclntab funcID: gogo, mcall,
//     morestack, systemstack, rt0_go...): they switch goroutines or
//     stacks, so the g the trap entry finds does not own the stack.
//  3. Nosplit functions of the runtime's packages (no stack-check
//     prologue, found by decoding the entry): they are what runs without
//     a g, a stack or a P, or in the middle of changing one (nosplit is
//     not recorded in the pclntab; the missing prologue is).
//
// A probe hit inside a probe handler is not recursed into (it counts as
// missed), so what a handler calls after the dispatch has counted itself
// in (the BPF program, perf) is safe to probe; it is listed when probing
// it only ever misses from kprobe programs.
type denyRule struct {
	pattern string // a name, or a prefix ending in *
	reason  string
}

var denyList = []denyRule{
	{"hachi/kprobe.*", "the probe machinery: breakpoint dispatch, emulation, the site tables"},
	{"hachi/arch/amd64.trap*", "trap entry and exit, per-CPU trap state, IPIs"},
	{"hachi/arch/amd64.kprobe*", "text patching and slots of kprobes"},
	{"hachi/arch/riscv64.trap*", "trap entry and exit (mtvec)"},
	{"hachi/arch/riscv64.kprobe*", "text patching and slots of kprobes"},
	{"hachi/kernel.(*trapHandler).Hit", "the kprobe handler's first step"},
	{"hachi/perf.(*kprobeSite).Hit", "perf's kprobe handler (kprobe_dispatcher)"},
	{"hachi/perf.(*System).runArray", "runs the programs of a kprobe (trace_call_bpf)"},
	{"hachi/bpf/vm.*", "the VM's run loop and helpers: runs in every kprobe program"},
	{"runtime.morestack*", "stack growth: the handler's own stack checks lead there"},
	{"runtime.newstack", "stack growth"},
	{"runtime.systemstack*", "switches to the g0 stack"},
	{"runtime.mcall", "switches to the g0 stack"},
	{"runtime.gogo", "switches goroutines"},
	{"runtime.gosave*", "saves a goroutine's context for a switch"},
	{"runtime.gcWriteBarrier*", "fills the write barrier buffer the handler's write barriers share"},
	{"runtime.wbBufFlush*", "flushes the write barrier buffer"},
	{"runtime.lock*", "runtime locks: a handler waiting on a lock the probed code holds would spin forever"},
	{"runtime.unlock*", "runtime locks"},
	{"runtime.semasleep", "the runtime locks' wait"},
	{"runtime.semawakeup", "the runtime locks' wake-up"},
	{"runtime.schedule", "the scheduler: runs without a user goroutine, may run without a P"},
	{"runtime.findRunnable", "the scheduler: may run without a P"},
	{"runtime.stopm", "the scheduler: runs without a P"},
	{"runtime.startm", "the scheduler"},
	{"runtime.park_m", "the scheduler, on g0"},
	{"runtime.execute", "the scheduler: switches goroutines"},
	{"runtime.goexit*", "goroutine exit"},
	{"runtime.mstart*", "CPU start: no goroutine yet"},
	{"runtime.asyncPreempt*", "asynchronous preemption entry"},
	{"runtime.sigpanic", "fault entry"},
	{"runtime.abort", "crash path"},
	{"runtime.breakpoint", "executes its own breakpoint"},
	{"runtime.settls", "sets the TLS the trap entry reads g from"},
	{"runtime.rt0_go", "runtime entry"},
	{"runtime.WakeG", "called from interrupt handlers"},
	{"runtime.GetG", "called from interrupt set-up"},
	{"runtime.checkTimeouts", "interrupt wake-ups, in the scheduler"},
	{"github.com/usbarmory/tamago/amd64.irqHandler", "interrupt entry: runs with interrupts off on the interrupted stack"},
	{"github.com/usbarmory/tamago/amd64.handle*", "interrupt and exception entry"},
	{"github.com/usbarmory/tamago/amd64.ignoreInterrupt", "interrupt entry"},
	{"github.com/usbarmory/tamago/riscv64.DefaultExceptionHandler", "exception entry (mtvec)"},
}

// runtimePackages are those whose nosplit functions are refused.
var runtimePackages = []string{"runtime", "internal/runtime/", "runtime/internal/", "internal/abi",
	"internal/bytealg", "internal/cpu", "runtime/goos", "github.com/usbarmory/tamago/goos"}

// special funcIDs (internal/abi) other than normal and wrapper functions.
func specialFuncID(id uint8) bool { return id != 0 && id != funcIDWrapper }

// Refused reports whether fn may not be probed, and why. code is fn's
// code, for the nosplit rule.
func Refused(fn Symbol, code []byte, arch isa) (string, bool) {
	for _, r := range denyList {
		if matchRule(r.pattern, fn.Name) {
			return r.reason, true
		}
	}
	if fn.flag&(funcFlagSPWrite|funcFlagTopFrame) != 0 || specialFuncID(fn.funcID) {
		return "switches stacks or goroutines (pclntab flags " + flagNames(fn) + ")", true
	}
	if pkg := packageOf(fn.Name); isRuntimePackage(pkg) && !hasStackCheck(arch, fn, code) {
		return "nosplit function of the runtime (" + pkg + "): may run without a g, a stack or a P", true
	}
	return "", false
}

func matchRule(pattern, name string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return name == pattern
}

func flagNames(fn Symbol) string {
	var s []string
	if fn.flag&funcFlagSPWrite != 0 {
		s = append(s, "SPWrite")
	}
	if fn.flag&funcFlagTopFrame != 0 {
		s = append(s, "TopFrame")
	}
	if specialFuncID(fn.funcID) {
		s = append(s, "special funcID")
	}
	return strings.Join(s, ", ")
}

// packageOf is the import path of a function's package: the name up to
// the first dot after the last slash.
func packageOf(name string) string {
	start := strings.LastIndexByte(name, '/') + 1
	if i := strings.IndexByte(name[start:], '.'); i >= 0 {
		return name[:start+i]
	}
	return name
}

func isRuntimePackage(pkg string) bool {
	for _, p := range runtimePackages {
		if pkg == p || strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p) {
			return true
		}
	}
	return false
}

// hasStackCheck reports whether fn begins with a stack-bound check: a
// comparison with (amd64) or load of (riscv64) g.stackguard0 or
// stackguard1 within its first instructions.
func hasStackCheck(arch isa, fn Symbol, code []byte) bool {
	off := 0
	for i := 0; i < 6 && off < len(code); i++ {
		in, err := arch.decode(code[off:], fn.Addr+uint64(off))
		if err != nil {
			return false
		}
		if arch.stackCheck(in.code) {
			return true
		}
		off += in.length
	}
	return false
}
