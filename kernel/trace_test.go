package kernel

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"hachi/syscall/linux"
)

// attach attaches prog to the tracepoint system/name the way libbpf does:
// its id from tracefs, perf_event_open, PERF_EVENT_IOC_SET_BPF, ENABLE.
// It returns the event's descriptor; closing it detaches the program.
func (c caller) attach(t *testing.T, system, name string, prog int) uint64 {
	t.Helper()
	idText := mustOK[[]byte](t, "reading the id")(c.readFile("/sys/kernel/tracing/events/" + system + "/" + name + "/id"))
	id, err := strconv.ParseUint(strings.TrimSpace(string(idText)), 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", idText, err)
	}
	ev := mustOK[uint64](t, "perf_event_open")(c.perfEventOpenTracepoint(id))
	mustOK[uint64](t, "PERF_EVENT_IOC_SET_BPF")(c.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, uint64(prog)))
	mustOK[uint64](t, "PERF_EVENT_IOC_ENABLE")(c.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0))
	return ev
}

// Programs on raw_syscalls:sys_enter, raw_syscalls:sys_exit and
// hachi:console_line, attached with perf_event_open and
// PERF_EVENT_IOC_SET_BPF, count into maps what the kernel's system call
// dispatcher and console did, see the calling task as current, and get
// the kernel stack of the trace site with bpf_get_stackid.
func TestTracepointPrograms(t *testing.T) {
	k, c := newTestKernel(t, "x86_64")
	load := func(name, src string) int {
		t.Helper()
		fd := mustOK[int](t, "BPF_PROG_LOAD "+name)(c.progLoad(linux.BPF_PROG_TYPE_TRACEPOINT, name, src))
		t.Cleanup(func() { c.call("close", uint64(fd)) })
		return fd
	}
	newMap := func(typ linux.BPFMapType, name string, key, value, max uint32) int {
		t.Helper()
		fd := mustOK[int](t, "BPF_MAP_CREATE "+name)(c.mapCreate(typ, name, key, value, max))
		t.Cleanup(func() { c.call("close", uint64(fd)) })
		return fd
	}
	enter := newMap(linux.BPF_MAP_TYPE_HASH, "enter", 4, 8, 64)
	exit := newMap(linux.BPF_MAP_TYPE_HASH, "exit", 4, 8, 64)
	who := newMap(linux.BPF_MAP_TYPE_ARRAY, "who", 4, 8, 1)
	lines := newMap(linux.BPF_MAP_TYPE_ARRAY, "lines", 4, 8, 2)
	stacks := newMap(linux.BPF_MAP_TYPE_STACK_TRACE, "stacks", 4, 8*16, 256)
	stackIDs := newMap(linux.BPF_MAP_TYPE_ARRAY, "stackids", 4, 8, 2)

	countEnter := load("count_enter", fmt.Sprintf(sysEnterCountSource, enter))
	whoProg := load("who", fmt.Sprintf(`
	call 14
	stxdw [%%r10-16], %%r0
	stw [%%r10-4], 0
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	mov %%r0, 0
	exit`, who))
	exitProg := load("exit", fmt.Sprintf(`
	ldxdw %%r6, [%%r1+8]
	ldxdw %%r7, [%%r1+16]
	stxw [%%r10-4], %%r6
	stxdw [%%r10-16], %%r7
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	mov %%r0, 0
	exit`, exit))
	lineProg := load("lines", fmt.Sprintf(`
	ldxw %%r7, [%%r1+8]
	rsh %%r7, 16
	stw [%%r10-4], 0
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	mov %%r1, 1
	lock add [%%r0+0], %%r1
	stw [%%r10-4], 1
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	lock add [%%r0+0], %%r7
out:
	mov %%r0, 0
	exit`, lines))
	// stackSource stores the trace site's stack id at stackids[slot]
	// (BPF_F_REUSE_STACKID: a newer stack takes a colliding bucket).
	stackSource := func(slot int) string {
		return fmt.Sprintf(`
	lddw %%r2, map_fd %d
	mov %%r3, %d
	call 27
	stxdw [%%r10-16], %%r0
	stw [%%r10-4], %d
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	mov %%r0, 0
	exit`, stacks, linux.BPF_F_REUSE_STACKID, slot, stackIDs)
	}
	stackEnter := load("stack_enter", stackSource(0))
	stackLine := load("stack_line", stackSource(1))

	var events []uint64
	for _, a := range []struct {
		system, name string
		prog         int
	}{
		{"raw_syscalls", "sys_enter", countEnter},
		{"raw_syscalls", "sys_enter", whoProg},
		{"raw_syscalls", "sys_enter", stackEnter},
		{"raw_syscalls", "sys_exit", exitProg},
		{"hachi", "console_line", lineProg},
		{"hachi", "console_line", stackLine},
	} {
		events = append(events, c.attach(t, a.system, a.name, a.prog))
	}

	for range 5 {
		if pid, err := c.call("getpid"); err != nil || pid != uint64(c.t.pid) {
			t.Errorf("getpid = %d, %v", pid, err)
		}
	}
	if _, err := c.call("dup", 999); err != linux.EBADF {
		t.Errorf("dup(999): %v, want EBADF", err)
	}
	k.Console(c.t).Write([]byte("abc\nde\n"))
	for _, ev := range events {
		mustOK[uint64](t, "close")(c.call("close", ev))
	}
	c.call("getpid") // after the detach: not counted

	nr := func(name string) uint32 { n, _ := k.SyscallNumber(name); return uint32(n) }
	counts := mustOK[map[uint32]uint64](t, "reading enter")(c.hashU32U64(enter))
	if counts[nr("getpid")] != 5 || counts[nr("close")] < 1 {
		t.Errorf("sys_enter counts %v: want getpid (%d) 5 and close (%d) at least 1", counts, nr("getpid"), nr("close"))
	}
	rets := mustOK[map[uint32]uint64](t, "reading exit")(c.hashU32U64(exit))
	if int64(rets[nr("dup")]) != -int64(linux.EBADF) || rets[nr("getpid")] != uint64(c.t.pid) {
		t.Errorf("sys_exit returns %v: want dup (%d) -EBADF and getpid (%d) %d", rets, nr("dup"), nr("getpid"), c.t.pid)
	}
	if got := mustOK[uint64](t, "who")(c.lookupU64(who, 0)); got != uint64(c.t.pid)<<32|uint64(c.t.pid) {
		t.Errorf("bpf_get_current_pid_tgid in sys_enter: %#x, want the task's %d", got, c.t.pid)
	}
	if n := mustOK[uint64](t, "lines[0]")(c.lookupU64(lines, 0)); n != 2 {
		t.Errorf("console_line fired %d times, want 2", n)
	}
	if n := mustOK[uint64](t, "lines[1]")(c.lookupU64(lines, 1)); n != 4+3 {
		t.Errorf("console_line lengths sum %d, want 7 (\"abc\" and \"de\" with their NULs)", n)
	}

	for slot, site := range []string{"hachi/kernel.(*Kernel).Syscall", "hachi/kernel.(*console).flush"} {
		id := int64(mustOK[uint64](t, "stackids")(c.lookupU64(stackIDs, uint32(slot))))
		if id < 0 {
			t.Errorf("%s: bpf_get_stackid = %d", site, id)
			continue
		}
		ips := Alloc(8 * 16)
		if err := c.mapElem(linux.BPF_MAP_LOOKUP_ELEM, stacks, le32(uint32(id)), ips, 0); err != nil {
			t.Errorf("%s: stack %d: %v", site, id, err)
			continue
		}
		first := binary.LittleEndian.Uint64(ips)
		if f := runtime.FuncForPC(uintptr(first) - 1); f == nil || f.Name() != site {
			t.Errorf("stack of the trace site starts in %v, want %s", f.Name(), site)
		}
		second := binary.LittleEndian.Uint64(ips[8:])
		if second == 0 {
			t.Errorf("%s: stack of one frame", site)
		}
	}
}
