package trace

// The tracepoints of Hachi. The Linux ones keep Linux's names, field
// types, layouts and print formats (include/trace/events/sched.h and
// syscalls.h, as Linux 6.18 prints them), so that programs and tools built
// against a Linux format file read Hachi's records unchanged.

// sched:sched_process_exec, fired once a new program image is in place
// (fs/exec.c:exec_binprm).
var schedProcessExec = define("sched", "sched_process_exec",
	`"filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid`,
	dynamicString("filename"),
	scalar("pid_t", "pid", 4, true),
	scalar("pid_t", "old_pid", 4, true),
)

// SchedProcessExec fires sched:sched_process_exec: filename is the path
// executed, pid the process's id after exec, oldPID its thread's id before
// (they differ when a non-leader thread execs).
func SchedProcessExec(c Ctx, filename string, pid, oldPID int32) {
	if schedProcessExec.Enabled() {
		fireSchedProcessExec(c, filename, pid, oldPID)
	}
}

func fireSchedProcessExec(c Ctx, filename string, pid, oldPID int32) {
	tp := schedProcessExec
	r, ok := tp.begin(c, len(filename)+1)
	if !ok {
		return
	}
	r.str(tp.fields[0].Offset, filename)
	r.u32(tp.fields[1].Offset, uint32(pid))
	r.u32(tp.fields[2].Offset, uint32(oldPID))
	tp.commit(c, r)
}

// sched:sched_process_exit, fired as a task exits (kernel/exit.c:do_exit).
var schedProcessExit = define("sched", "sched_process_exit",
	`"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, REC->group_dead ? "true" : "false"`,
	array("char", "comm", 1, 16, false), // TASK_COMM_LEN
	scalar("pid_t", "pid", 4, true),
	scalar("int", "prio", 4, true),
	scalar("bool", "group_dead", 1, false),
)

// SchedProcessExit fires sched:sched_process_exit for the exiting task
// comm (cut to 15 bytes and a NUL, as TASK_COMM_LEN), its id and priority
// (Linux's internal prio: 120 for nice 0), and whether it is the last
// thread of its process.
func SchedProcessExit(c Ctx, comm string, pid, prio int32, groupDead bool) {
	if schedProcessExit.Enabled() {
		fireSchedProcessExit(c, comm, pid, prio, groupDead)
	}
}

func fireSchedProcessExit(c Ctx, comm string, pid, prio int32, groupDead bool) {
	tp := schedProcessExit
	r, ok := tp.begin(c, 0)
	if !ok {
		return
	}
	r.chars(tp.fields[0], comm)
	r.u32(tp.fields[1].Offset, uint32(pid))
	r.u32(tp.fields[2].Offset, uint32(prio))
	if groupDead {
		r.u8(tp.fields[3].Offset, 1)
	}
	tp.commit(c, r)
}

// raw_syscalls:sys_enter, fired on entry to every system call
// (trace_sys_enter in the architecture's syscall entry).
var sysEnter = define("raw_syscalls", "sys_enter",
	`"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)", REC->id, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]`,
	scalar("long", "id", 8, true),
	array("unsigned long", "args", 8, 6, false),
)

// SysEnter fires raw_syscalls:sys_enter with the system call number and
// its six argument registers.
func SysEnter(c Ctx, id int64, args *[6]uint64) {
	if sysEnter.Enabled() {
		fireSysEnter(c, id, args)
	}
}

func fireSysEnter(c Ctx, id int64, args *[6]uint64) {
	tp := sysEnter
	r, ok := tp.begin(c, 0)
	if !ok {
		return
	}
	r.u64(tp.fields[0].Offset, uint64(id))
	for i, a := range args {
		r.u64(tp.fields[1].Offset+8*i, a)
	}
	tp.commit(c, r)
}

// raw_syscalls:sys_exit, fired on return from every system call.
var sysExit = define("raw_syscalls", "sys_exit",
	`"NR %ld = %ld", REC->id, REC->ret`,
	scalar("long", "id", 8, true),
	scalar("long", "ret", 8, true),
)

// SysExit fires raw_syscalls:sys_exit with the system call number and the
// value returned (-errno on failure).
func SysExit(c Ctx, id, ret int64) {
	if sysExit.Enabled() {
		fireSysExit(c, id, ret)
	}
}

func fireSysExit(c Ctx, id, ret int64) {
	tp := sysExit
	r, ok := tp.begin(c, 0)
	if !ok {
		return
	}
	r.u64(tp.fields[0].Offset, uint64(id))
	r.u64(tp.fields[1].Offset, uint64(ret))
	tp.commit(c, r)
}

// hachi:console_line, Hachi's own: fired for every line the kernel writes
// to its console, the text without its newline as a dynamic string (the
// way Linux's printk:console carries msg).
var consoleLine = define("hachi", "console_line",
	`"%s", __get_str(line)`,
	dynamicString("line"),
)

// ConsoleLine fires hachi:console_line. A line too long for a record
// (MaxRecordSize) is dropped and counted in Missed, as Linux drops an
// oversized perf trace record.
func ConsoleLine(c Ctx, line string) {
	if consoleLine.Enabled() {
		fireConsoleLine(c, line)
	}
}

func fireConsoleLine(c Ctx, line string) {
	tp := consoleLine
	r, ok := tp.begin(c, len(line)+1)
	if !ok {
		return
	}
	r.str(tp.fields[0].Offset, line)
	tp.commit(c, r)
}
