package kernel

import (
	"fmt"
	"sync/atomic"
	"time"

	"hachi/bpf/helpers"
	"hachi/bpf/sys"
	"hachi/bpf/verifier"
	"hachi/kernel/trace"
	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Kernel is the running kernel: the machine it runs on and the eBPF
// subsystem wired to it. It owns the bpf() system (bpf/sys), the perf
// system (perf), the helpers' view of the kernel (bpf/helpers.Kernel:
// clocks, tasks, memory, stacks, the trace pipe), the kernel tasks, the
// system call table and the virtual files.
type Kernel struct {
	board Board
	ncpu  int
	arch  verifier.Arch
	// machine indexes the system call table by this architecture's numbers.
	machine machine

	mem     memoryMap
	bpf     *sys.System
	perf    *perf.System
	helpers *helpers.Set
	pipe    *tracePipe
	files   *fileTree
	tasks   taskTable
	cpus    []cpuState
	calls   []*syscallEntry
	console *console
}

// cpuState is what the kernel keeps per CPU for the trap-side paths: the
// task running there and the trap it is in, read by helpers and perf from
// program context.
type cpuState struct {
	// current is the task running on the CPU (Linux's current), the
	// CPU's idle task when no kernel task is in a window (see enter).
	current atomic.Pointer[Task]
	idle    *Task
	// traps counts the trap handlers (kprobe breakpoints, the sampling
	// timer) running on the CPU; hardirq those of them that are
	// interrupts. Programs run from a trap see the trap's registers, not
	// the goroutine's stack.
	traps, hardirq atomic.Int32
	// funcIP is the address of the kprobe being hit on the CPU, for
	// bpf_get_func_ip.
	funcIP atomic.Uint64
	_      [64]byte // keeps CPUs' words on separate cache lines
}

// bootTime is when the kernel package was initialised: without the
// board's clock, the kernel's clock counts from it.
var bootTime = time.Now()

// now is CLOCK_MONOTONIC in nanoseconds since boot: the board's clock, or
// the Go runtime's monotonic clock since bootTime. Neither allocates nor
// takes a lock: it is safe in trap context.
func (k *Kernel) now() int64 {
	if k.board.Nanotime != nil {
		return k.board.Nanotime()
	}
	return time.Since(bootTime).Nanoseconds()
}

// New makes the kernel for board b: the bpf() and perf systems, the
// tracepoint buffers, the helpers and the file tree, with one idle task
// per CPU. It panics on a board it cannot run on (an unknown machine).
func New(b Board) *Kernel {
	k := &Kernel{board: b, ncpu: b.NumCPU()}
	switch b.Machine {
	case "x86_64":
		k.arch, k.machine = verifier.ArchAMD64, machineAMD64
	case "riscv64":
		k.arch, k.machine = verifier.ArchRISCV64, machineRISCV64
	default:
		panic(fmt.Sprintf("kernel: unknown machine %q", b.Machine))
	}
	start, end := b.RAM()
	k.mem = memoryMap{ramStart: uint64(start), ramEnd: uint64(end)}
	if b.Text != nil {
		ts, te := b.Text()
		k.mem.textStart, k.mem.textEnd = uint64(ts), uint64(te)
	}
	k.tasks.init()
	k.cpus = make([]cpuState, k.ncpu)
	for i := range k.cpus {
		c := &k.cpus[i]
		c.idle = newIdleTask(k, i)
		c.current.Store(c.idle)
	}
	trace.SetCPUs(k.ncpu)
	k.pipe = newTracePipe(k.ncpu)
	k.helpers = helpers.New(helperKernel{k}, k.ncpu)
	k.bpf = sys.New(bpfEnv{k})
	var kp perf.Kprober
	if b.Kprober != nil {
		kp = trapKprober{k: k, kp: b.Kprober}
	}
	k.perf = perf.New(perfHost{k}, kp)
	if b.Timer != nil {
		b.Timer.SetHandler(k.timerInterrupt)
	}
	k.calls = k.machine.index()
	k.files = newFileTree(k)
	k.console = newConsole(k, b.ConsoleWrite)
	learnMarkers(k)
	return k
}

// BPF is the bpf() system.
func (k *Kernel) BPF() *sys.System { return k.bpf }

// Perf is the perf system.
func (k *Kernel) Perf() *perf.System { return k.perf }

// Nanotime is the kernel's monotonic clock: nanoseconds since boot.
func (k *Kernel) Nanotime() uint64 { return uint64(k.now()) }

// cpu is CPU n's state; CPU 0's for a number out of range (a board bug),
// so that trap paths never index past the table.
func (k *Kernel) cpu(n int) *cpuState {
	if n < 0 || n >= len(k.cpus) {
		n = 0
	}
	return &k.cpus[n]
}

// inTrap reports whether cpu is in a trap handler (a kprobe breakpoint,
// the sampling timer): maps.Host.InTrap.
func (k *Kernel) inTrap(cpu int) bool {
	return cpu >= 0 && cpu < len(k.cpus) && k.cpus[cpu].traps.Load() > 0
}

// memoryBudget bounds one map allocation to a quarter of the kernel's RAM:
// the Go heap lives in the same RAM and the runtime stops the kernel when it
// runs out, so a map that would take more is refused with ENOMEM up front,
// as Linux's memcg charge refuses it.
func (k *Kernel) memoryBudget() uint64 { return (k.mem.ramEnd - k.mem.ramStart) / 4 }

// bpfEnv is the bpf() system's view of the kernel (sys.Env).
type bpfEnv struct{ k *Kernel }

var _ sys.Env = bpfEnv{}

func (e bpfEnv) PossibleCPUs() int { return e.k.ncpu }
func (e bpfEnv) ChargeMemory(n uint64) error {
	if n > e.k.memoryBudget() {
		return linux.ENOMEM
	}
	return nil
}
func (e bpfEnv) CurrentCPU() int       { return e.k.currentCPU() }
func (e bpfEnv) InTrap(cpu int) bool   { return e.k.inTrap(cpu) }
func (e bpfEnv) Nanotime() int64       { return e.k.now() }
func (e bpfEnv) BootTime() uint64      { return uint64(e.k.now()) }
func (e bpfEnv) Arch() verifier.Arch   { return e.k.arch }
func (e bpfEnv) Helpers() *helpers.Set { return e.k.helpers }

// currentCPU is the CPU the caller runs on, kept in range even if the
// board answered out of it.
func (k *Kernel) currentCPU() int { return min(max(k.board.CPUID(), 0), k.ncpu-1) }

// perfHost is the perf system's view of the kernel (perf.Host).
type perfHost struct{ k *Kernel }

var _ perf.Host = perfHost{}

func (h perfHost) PossibleCPUs() int            { return h.k.ncpu }
func (h perfHost) CPUOnline(cpu int) bool       { return cpu >= 0 && cpu < h.k.ncpu }
func (h perfHost) Now() uint64                  { return uint64(h.k.now()) }
func (h perfHost) Arm(cpu int, deadline uint64) { h.k.armTimer(cpu, deadline) }

// FindTask resolves perf_event_open's pid: 0 is the caller, any other
// number a kernel task (ESRCH if there is none).
func (h perfHost) FindTask(t *syscall.Task, pid int32) (int32, error) {
	if pid == 0 {
		if task := h.k.tasks.bySys(t); task != nil {
			return task.pid, nil
		}
		return 0, linux.ESRCH
	}
	if h.k.tasks.find(pid) == nil {
		return 0, linux.ESRCH
	}
	return pid, nil
}

// Current is the task running on cpu: its process and thread id, which
// are the same for kernel tasks (each is its own thread group).
func (h perfHost) Current(cpu int) (pid, tid int32) {
	t := h.k.cpu(cpu).current.Load()
	return t.pid, t.pid
}
