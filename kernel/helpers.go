package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"

	"hachi/bpf/helpers"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/kernel/trace"
	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// helperKernel is the helpers' view of the kernel (bpf/helpers.Kernel).
// Its methods run in program context, possibly in a trap: none allocates
// or blocks.
type helperKernel struct{ k *Kernel }

var _ helpers.Kernel = helperKernel{}

// tickNS is the period of Linux's timer tick with CONFIG_HZ=250, the
// common distribution setting: the resolution of the coarse clock.
const tickNS = 4_000_000

// MonotonicNS implements helpers.Clock.
func (h helperKernel) MonotonicNS() uint64 { return uint64(h.k.now()) }

// BootNS implements helpers.Clock: the kernel never suspends, so boot
// time is the monotonic time.
func (h helperKernel) BootNS() uint64 { return uint64(h.k.now()) }

// CoarseNS implements helpers.Clock: the monotonic time at the last tick,
// as ktime_get_coarse_ns reads it.
func (h helperKernel) CoarseNS() uint64 {
	now := uint64(h.k.now())
	return now - now%tickNS
}

// CurrentTask implements helpers.Tasks: the task current on cpu (see
// Kernel.enter), its idle task outside the kernel's windows. Kernel tasks
// run as root (uid and gid 0).
func (h helperKernel) CurrentTask(cpu uint32) (helpers.Task, bool) {
	t := h.k.cpu(int(cpu)).current.Load()
	return helpers.Task{PID: uint32(t.pid), TGID: uint32(t.pid), Comm: t.comm}, true
}

// ReadKernel implements helpers.Memory (copy_from_kernel_nofault): see
// memoryMap for why the range check makes it fault-safe.
func (h helperKernel) ReadKernel(dst []byte, addr uint64) error {
	return h.k.mem.readKernel(dst, addr)
}

// ReadUser implements helpers.Memory: kernel tasks have no user memory
// (like a Linux kernel thread, which has no mm), so every read faults.
func (h helperKernel) ReadUser(dst []byte, _ uint64) error {
	clear(dst)
	return linux.EFAULT
}

// UserLimit implements helpers.Memory: there are no user address spaces
// yet, so every address is a kernel address.
func (h helperKernel) UserLimit() uint64 { return 0 }

// TracePrintk implements helpers.TracePipe: the message goes to the trace
// pipe with the task current on cpu.
func (h helperKernel) TracePrintk(cpu uint32, msg []byte) {
	c := h.k.cpu(int(cpu))
	var flags uint8
	if c.traps.Load() > 0 {
		flags |= latIRQsOff
	}
	if c.hardirq.Load() > 0 {
		flags |= latHardIRQ
	}
	h.k.pipe.write(int(cpu), c.current.Load(), flags, uint64(h.k.now()), msg)
}

// maxWalk bounds the frames StackTrace walks looking for a marker: the
// program's own frames (VM, helpers, perf, trace) and perf's deepest stack
// (sysctl_perf_event_max_stack, 127) after the marker.
const maxWalk = 192

// StackTrace implements helpers.Unwinder (get_perf_callchain).
//
// For programs run from a tracepoint a kernel task fires or from a kernel
// task's system call (a test run), the kernel stack is the goroutine's
// own, walked with the runtime's unwinder (runtime.Callers, which
// allocates nothing), from the function that fired the tracepoint or made
// the system call outward, return addresses innermost first. The frames of
// the program run itself (VM, helpers, perf, tracepoint) are left out, as
// Linux starts at the trace site's caller.
//
// For programs run from a trap (a kprobe or the sampling timer) on x86_64,
// the stack is walked from the trap's registers along the frame pointers
// (see walkFrames), starting at the trapped instruction.
//
// EFAULT, Linux's answer when it has no stack: for user stacks (kernel
// tasks have none); for a trap on riscv64, whose Go code keeps no frame
// pointers; and when no marker is found within maxWalk frames.
func (h helperKernel) StackTrace(cpu uint32, ctx vm.Region, user bool, ips []uint64) (int, error) {
	switch {
	case user:
		return 0, linux.EFAULT
	case h.k.cpu(int(cpu)).traps.Load() == 0:
		return walkStack(ips)
	case h.k.arch == verifier.ArchAMD64:
		return h.k.mem.walkFrames(ctx, ips)
	}
	return 0, linux.EFAULT
}

// walkStack is StackTrace's walk of the goroutine's stack, apart so that
// the early answers above keep a small frame.
//
//go:noinline
func walkStack(ips []uint64) (int, error) {
	var pcs [maxWalk]uintptr
	n := runtime.Callers(2, pcs[:])
	for i := range n {
		if pcs[i] != markers.fire && pcs[i] != markers.syscall {
			continue
		}
		m := 0
		for _, pc := range pcs[i+1 : n] {
			if m == len(ips) {
				break
			}
			ips[m] = uint64(pc)
			m++
		}
		return m, nil
	}
	return 0, linux.EFAULT
}

// FuncIP implements helpers.Unwinder: the address of the kprobe hit on cpu
// (bpf_get_func_ip), 0 outside a kprobe.
func (h helperKernel) FuncIP(cpu uint32, _ vm.Region) uint64 {
	return h.k.cpu(int(cpu)).funcIP.Load()
}

// Symbol implements helpers.Unwinder with the board's symbol table;
// without one every address is unknown, and %pS prints it raw, as Linux
// prints an address kallsyms does not know.
func (h helperKernel) Symbol(addr uint64) (string, uint64, uint64, bool) {
	if h.k.board.Symbol == nil {
		return "", 0, 0, false
	}
	return h.k.board.Symbol(addr)
}

// markers are return addresses the unwinder looks for: inside Kernel.fire
// (after its call of the firing function) and inside callHandler (after its
// call of a system call handler). Frames past them are the kernel code
// that fired the tracepoint or made the system call.
var markers struct {
	once          sync.Once
	fire, syscall uintptr
}

// learnMarkers finds the markers by walking the stack once from inside
// each boundary.
func learnMarkers(k *Kernel) {
	markers.once.Do(func() {
		var pcs [1]uintptr
		k.fire(k.cpus[0].idle, func(trace.Ctx) { runtime.Callers(2, pcs[:]) })
		markers.fire = pcs[0]
		callHandler(func(*Kernel, *Task, syscall.Args) (uintptr, error) {
			runtime.Callers(2, pcs[:])
			return 0, nil
		}, k, k.cpus[0].idle, syscall.Args{})
		markers.syscall = pcs[0]
	})
}

// trapKprober wraps the board's kprobe placer so that the kernel knows
// when a kprobe handler runs on a CPU (a trap, whose programs have no
// goroutine stack to walk) and which probe it is (bpf_get_func_ip).
type trapKprober struct {
	k  *Kernel
	kp perf.Kprober
}

// Register implements perf.Kprober.
func (w trapKprober) Register(spec perf.KprobeSpec, h perf.KprobeHandler) (perf.Kprobe, error) {
	th := &trapHandler{k: w.k, h: h}
	th.addr.Store(spec.Addr)
	p, err := w.kp.Register(spec, th)
	if err != nil {
		return nil, err
	}
	th.addr.Store(p.Addr())
	return p, nil
}

type trapHandler struct {
	k    *Kernel
	h    perf.KprobeHandler
	addr atomic.Uint64 // the probed address, once placed
}

// Hit implements perf.KprobeHandler, in the breakpoint trap.
func (t *trapHandler) Hit(cpu int, regs *perf.Regs) {
	c := t.k.cpu(cpu)
	c.traps.Add(1)
	prev := c.funcIP.Swap(t.addr.Load())
	t.h.Hit(cpu, regs)
	c.funcIP.Store(prev)
	c.traps.Add(-1)
}

// timerInterrupt is the sampling timer's handler (Board.Timer): perf's
// CPU clock events of cpu sample the interrupted registers.
func (k *Kernel) timerInterrupt(cpu int, regs *perf.Regs) {
	c := k.cpu(cpu)
	c.traps.Add(1)
	c.hardirq.Add(1)
	k.perf.TimerExpired(cpu, uint64(k.now()), regs)
	c.hardirq.Add(-1)
	c.traps.Add(-1)
}

// armTimer is perf's Timers.Arm: the board's timer when it has one.
// Without one, CPU clock events count (their count is computed from the
// clock when read) but never sample.
func (k *Kernel) armTimer(cpu int, deadline uint64) {
	if k.board.Timer != nil {
		k.board.Timer.Arm(cpu, deadline)
	}
}
