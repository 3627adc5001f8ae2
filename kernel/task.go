package kernel

import (
	"strconv"
	"sync"

	"hachi/kernel/trace"
	"hachi/syscall"
)

// taskCommLen is TASK_COMM_LEN: a task's name is at most 15 bytes and a NUL.
const taskCommLen = 16

// Task is a kernel task: a thread of the kernel (Linux's task_struct of a
// kernel thread) with a pid, a name, its own descriptor table, and the
// kernel's memory as its address space. It makes system calls through
// Kernel.Syscall. Each task is its own thread group: its process id and
// thread id are its pid.
type Task struct {
	k    *Kernel
	pid  int32
	comm [taskCommLen]byte
	sys  syscall.Task
	mm   mappings
}

// PID is the task's id (0 for the idle tasks).
func (t *Task) PID() int32 { return t.pid }

// Comm is the task's name.
func (t *Task) Comm() string {
	n := 0
	for n < len(t.comm) && t.comm[n] != 0 {
		n++
	}
	return string(t.comm[:n])
}

func (k *Kernel) newTask(pid int32, comm string) *Task {
	t := &Task{k: k, pid: pid}
	copy(t.comm[:taskCommLen-1], comm) // cut as set_task_comm does
	t.sys = syscall.Task{Mem: kernelSpace{&k.mem}, Files: syscall.NewFDTable(0), Caps: syscall.AllCaps}
	return t
}

// newIdleTask is CPU cpu's idle task: pid 0, named swapper/<cpu> as
// Linux names its idle threads.
func newIdleTask(k *Kernel, cpu int) *Task { return k.newTask(0, "swapper/"+strconv.Itoa(cpu)) }

// NewTask makes a kernel task named comm (cut to 15 bytes) with the next
// free pid, an empty descriptor table and every capability, as a kernel
// thread has (kthread_create).
func (k *Kernel) NewTask(comm string) *Task {
	k.tasks.mu.Lock()
	defer k.tasks.mu.Unlock()
	k.tasks.last++
	t := k.newTask(k.tasks.last, comm)
	k.tasks.byPID[t.pid] = t
	k.tasks.bySysTask[&t.sys] = t
	return t
}

// Exit ends the task: its mappings go, its descriptors are closed, and its
// pid is no longer found (do_exit's exit_mm and exit_files).
func (t *Task) Exit() {
	t.mm.unmapAll()
	t.sys.Files.CloseAll()
	k := t.k
	k.tasks.mu.Lock()
	delete(k.tasks.byPID, t.pid)
	delete(k.tasks.bySysTask, &t.sys)
	k.tasks.mu.Unlock()
}

// taskTable is the kernel tasks by pid (Linux's pid hash). Pids are not
// reused, as Linux does not reuse them until pid_max wraps.
type taskTable struct {
	mu        sync.Mutex
	last      int32
	byPID     map[int32]*Task
	bySysTask map[*syscall.Task]*Task
}

func (tt *taskTable) init() {
	tt.byPID = map[int32]*Task{}
	tt.bySysTask = map[*syscall.Task]*Task{}
}

// find is find_task_by_vpid: nil if no task has pid.
func (tt *taskTable) find(pid int32) *Task {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.byPID[pid]
}

// bySys is the task whose system call context is t.
func (tt *taskTable) bySys(t *syscall.Task) *Task {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.bySysTask[t]
}

// enter makes t the current task of the CPU the caller runs on, and
// returns that CPU and the task it replaced; leave undoes it. Between the
// two, programs run on that CPU (from a tracepoint t fires, or a test run
// t asks for) see t as current.
//
// Linux switches current in its scheduler (__switch_to); the Go runtime
// gives the kernel no such hook yet, so current is set by the kernel's own
// entry points instead: each tracepoint firing and each system call of a
// kernel task is such a window. A window that does not block keeps its
// goroutine on its CPU (the runtime does not preempt it), so within it
// current is exact. A system call that blocks may resume on another CPU:
// until it returns, the first CPU still names the task, and the second
// does not. leave only restores prev if the CPU still names t, so that
// windows overlapping that way never leave a task current that another
// window has replaced.
func (k *Kernel) enter(t *Task) (cpu int, prev *Task) {
	cpu = k.currentCPU()
	return cpu, k.cpus[cpu].current.Swap(t)
}

func (k *Kernel) leave(cpu int, t, prev *Task) {
	k.cpus[cpu].current.CompareAndSwap(t, prev)
}

// fire runs f, which fires tracepoints, as task t on the caller's CPU: t is
// current there while f runs, and f gets the trace context of that CPU
// and task. f must not block (tracepoint firings do not): the caller
// stays on the CPU, as Linux's trace sites run with preemption disabled.
//
// fire bounds the kernel stack that bpf_get_stackid reports from the
// programs f's tracepoints run: the stack starts at fire's caller, the
// function containing the trace site (see markers).
//
//go:noinline
func (k *Kernel) fire(t *Task, f func(trace.Ctx)) {
	cpu, prev := k.enter(t)
	f(trace.Ctx{CPU: cpu, PID: t.pid})
	k.leave(cpu, t, prev)
}
