package kernel

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"hachi/syscall/linux"
)

// bpftest is the shell's demonstration and check of the eBPF subsystem
// through the kernel's own system call entry, as a Linux program would do
// it with bpf(2) and perf_event_open(2): every step goes through
// Kernel.Syscall with attrs in kernel memory.
//
//  1. Two maps (an array counting runs, a hash of sums by pid) and a raw
//     tracepoint program that counts its runs, adds its two arguments,
//     stores the sum under the caller's pid, and prints a line to the
//     trace pipe with the caller's name; three BPF_PROG_TEST_RUNs; the maps
//     read back.
//  2. A tracepoint program counting system calls by number into a hash,
//     attached to raw_syscalls:sys_enter with perf_event_open and
//     PERF_EVENT_IOC_SET_BPF (the id read from tracefs); a few system calls;
//     the counts read back once the event is closed.
//
// Each step prints what it did; a result that is not what the program must
// have produced is an error.
func (k *Kernel) bpftest(out io.Writer, t *Task) error {
	c := caller{k, t}
	var fds []uint64
	defer func() {
		for _, fd := range fds {
			c.call("close", fd)
		}
	}()
	keep := func(fd int, err error) (int, error) {
		if err == nil {
			fds = append(fds, uint64(fd))
		}
		return fd, err
	}

	counts, err := keep(c.mapCreate(linux.BPF_MAP_TYPE_ARRAY, "counts", 4, 8, 1))
	if err != nil {
		return fmt.Errorf("bpftest: BPF_MAP_CREATE: %w", err)
	}
	fmt.Fprintf(out, "bpftest: BPF_MAP_CREATE array \"counts\" (key 4, value 8, 1 entry): fd %d\n", counts)
	bypid, err := keep(c.mapCreate(linux.BPF_MAP_TYPE_HASH, "bypid", 4, 8, 16))
	if err != nil {
		return fmt.Errorf("bpftest: BPF_MAP_CREATE: %w", err)
	}
	fmt.Fprintf(out, "bpftest: BPF_MAP_CREATE hash \"bypid\" (key 4, value 8, 16 entries): fd %d\n", bypid)
	prog, err := keep(c.progLoad(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, "bpftest", testRunSource(counts, bypid)))
	if err != nil {
		return fmt.Errorf("bpftest: BPF_PROG_LOAD: %w", err)
	}
	fmt.Fprintf(out, "bpftest: BPF_PROG_LOAD raw_tracepoint \"bpftest\": fd %d\n", prog)

	runs := [][2]uint64{{7, 35}, {100, 23}, {1 << 40, 2}}
	for _, args := range runs {
		ret, err := c.testRunRawTP(prog, args)
		if err != nil {
			return fmt.Errorf("bpftest: BPF_PROG_TEST_RUN: %w", err)
		}
		fmt.Fprintf(out, "bpftest: BPF_PROG_TEST_RUN args (%d, %d): retval %d\n", args[0], args[1], ret)
		if want := uint32(args[0] + args[1]); ret != want {
			return fmt.Errorf("bpftest: retval %d, want %d", ret, want)
		}
	}
	n, err := c.lookupU64(counts, 0)
	if err != nil {
		return fmt.Errorf("bpftest: BPF_MAP_LOOKUP_ELEM counts[0]: %w", err)
	}
	fmt.Fprintf(out, "bpftest: BPF_MAP_LOOKUP_ELEM counts[0] = %d\n", n)
	if n != uint64(len(runs)) {
		return fmt.Errorf("bpftest: counts[0] = %d, want %d", n, len(runs))
	}
	sum, err := c.lookupU64(bypid, uint32(t.pid))
	if err != nil {
		return fmt.Errorf("bpftest: BPF_MAP_LOOKUP_ELEM bypid[%d]: %w", t.pid, err)
	}
	fmt.Fprintf(out, "bpftest: BPF_MAP_LOOKUP_ELEM bypid[%d] = %d (task %q)\n", t.pid, sum, t.Comm())
	if last := runs[len(runs)-1]; sum != last[0]+last[1] {
		return fmt.Errorf("bpftest: bypid[%d] = %d, want %d", t.pid, sum, last[0]+last[1])
	}

	counted, err := k.countSyscalls(out, c, func() {
		for range 3 {
			c.call("getpid")
		}
		u := Alloc(6 * utsFieldLen)
		c.call("uname", addrOf(u))
		runtime.KeepAlive(u)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bpftest: sys_enter counts while attached: %s\n", counted)
	if !strings.Contains(counted+",", "getpid 3,") || !strings.Contains(counted+",", "uname 1,") {
		return fmt.Errorf("bpftest: sys_enter counts %q lack getpid 3 and uname 1", counted)
	}
	fmt.Fprintln(out, "bpftest: ok (the program's lines: trace, or cat /sys/kernel/tracing/trace_pipe)")
	return nil
}

// testRunSource is the raw tracepoint program of bpftest: counts[0] += 1;
// sum = ctx[0] + ctx[1]; bypid[current pid] = sum; bpf_trace_printk of the
// task's name and the arguments; return sum.
func testRunSource(counts, bypid int) string {
	return fmt.Sprintf(`
	mov %%r6, %%r1
	stw [%%r10-4], 0
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, nocount
	mov %%r1, 1
	lock add [%%r0+0], %%r1
nocount:
	ldxdw %%r7, [%%r6+0]
	ldxdw %%r8, [%%r6+8]
	mov %%r9, %%r7
	add %%r9, %%r8
	call 14
	stxw [%%r10-8], %%r0
	stxdw [%%r10-16], %%r9
	lddw %%r1, map_fd %[2]d
	mov %%r2, %%r10
	add %%r2, -8
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	mov %%r1, %%r10
	add %%r1, -32
	mov %%r2, 16
	call 16
	lddw %%r1, %#[3]x
	stxdw [%%r10-56], %%r1
	lddw %%r1, %#[4]x
	stxdw [%%r10-48], %%r1
	lddw %%r1, %#[5]x
	stxdw [%%r10-40], %%r1
	mov %%r1, %%r10
	add %%r1, -56
	mov %%r2, %[6]d
	mov %%r3, %%r10
	add %%r3, -32
	mov %%r4, %%r7
	mov %%r5, %%r8
	call 6
	mov %%r0, %%r9
	exit
`, counts, bypid, word(testRunFormat, 0), word(testRunFormat, 8), word(testRunFormat, 16), len(testRunFormat)+1)
}

// testRunFormat is the bpftest program's bpf_trace_printk format (at most
// 23 bytes: it is built on the stack from three words with its NUL).
const testRunFormat = "bpftest: %s %lld+%lld\n"

// word is the little-endian u64 of s's bytes from off (NUL-padded).
func word(s string, off int) uint64 {
	var b [8]byte
	if off < len(s) {
		copy(b[:], s[off:])
	}
	return binary.LittleEndian.Uint64(b[:])
}

// testRunRawTP runs a raw tracepoint program on args with
// BPF_PROG_TEST_RUN (ctx_in: the u64 arguments) and returns its retval.
func (c caller) testRunRawTP(prog int, args [2]uint64) (uint32, error) {
	ctx := Alloc(16)
	binary.LittleEndian.PutUint64(ctx, args[0])
	binary.LittleEndian.PutUint64(ctx[8:], args[1])
	a := AllocValue[linux.BPFAttrTestRun]()
	*a = linux.BPFAttrTestRun{ProgFD: uint32(prog), CtxSizeIn: uint32(len(ctx)), CtxIn: addrOf(ctx)}
	_, err := bpfCall(c, linux.BPF_PROG_TEST_RUN, a)
	runtime.KeepAlive(ctx)
	return a.Retval, err
}

// lookupU64 is the u64 value of a map's u32 key.
func (c caller) lookupU64(fd int, key uint32) (uint64, error) {
	v := Alloc(8)
	if err := c.mapElem(linux.BPF_MAP_LOOKUP_ELEM, fd, le32(key), v, 0); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(v), nil
}

// sysEnterCountSource counts raw_syscalls:sys_enter firings by system call
// number (the record's id field, after the 8-byte common header) in the
// hash whose descriptor is given.
const sysEnterCountSource = `
	ldxdw %%r1, [%%r1+8]
	stxw [%%r10-4], %%r1
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jne %%r0, 0, inc
	stdw [%%r10-16], 1
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 1
	call 2
	mov %%r0, 0
	exit
inc:
	mov %%r1, 1
	lock add [%%r0+0], %%r1
	mov %%r0, 0
	exit
`

// countSyscalls attaches a program counting system calls by number to
// raw_syscalls:sys_enter (perf_event_open of the tracepoint's id, read
// from tracefs, then PERF_EVENT_IOC_SET_BPF and ENABLE), runs work, closes
// the event (which detaches the program) and returns the counts as
// "name n, ..." in number order.
func (k *Kernel) countSyscalls(out io.Writer, c caller, work func()) (string, error) {
	hash, err := c.mapCreate(linux.BPF_MAP_TYPE_HASH, "sysenter", 4, 8, 64)
	if err != nil {
		return "", fmt.Errorf("bpftest: BPF_MAP_CREATE: %w", err)
	}
	defer c.call("close", uint64(hash))
	prog, err := c.progLoad(linux.BPF_PROG_TYPE_TRACEPOINT, "sysenter", fmt.Sprintf(sysEnterCountSource, hash))
	if err != nil {
		return "", fmt.Errorf("bpftest: BPF_PROG_LOAD: %w", err)
	}
	defer c.call("close", uint64(prog))
	idText, err := c.readFile("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id")
	if err != nil {
		return "", fmt.Errorf("bpftest: reading the tracepoint id: %w", err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(idText)), 10, 64)
	if err != nil {
		return "", fmt.Errorf("bpftest: tracepoint id %q: %w", idText, err)
	}
	ev, err := c.perfEventOpenTracepoint(id)
	if err != nil {
		return "", fmt.Errorf("bpftest: perf_event_open: %w", err)
	}
	if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, uint64(prog)); err != nil {
		c.call("close", ev)
		return "", fmt.Errorf("bpftest: PERF_EVENT_IOC_SET_BPF: %w", err)
	}
	if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		c.call("close", ev)
		return "", fmt.Errorf("bpftest: PERF_EVENT_IOC_ENABLE: %w", err)
	}
	fmt.Fprintf(out, "bpftest: raw_syscalls:sys_enter (id %d): perf_event_open fd %d, PERF_EVENT_IOC_SET_BPF prog fd %d, enabled\n", id, ev, prog)
	work()
	if _, err := c.call("close", ev); err != nil {
		return "", fmt.Errorf("bpftest: close: %w", err)
	}
	counts, err := c.hashU32U64(hash)
	if err != nil {
		return "", fmt.Errorf("bpftest: reading the counts: %w", err)
	}
	nrs := make([]uint32, 0, len(counts))
	for nr := range counts {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	var b strings.Builder
	for _, nr := range nrs {
		fmt.Fprintf(&b, "%s %d, ", k.syscallName(uint64(nr)), counts[nr])
	}
	return strings.TrimSuffix(b.String(), ", "), nil
}

// perfEventOpenTracepoint opens a counting-and-sampling event on the
// tracepoint id for all tasks on CPU 0 (the tracepoint's programs run on
// every CPU), disabled, as libbpf opens it.
func (c caller) perfEventOpenTracepoint(id uint64) (uint64, error) {
	a := AllocValue[linux.PerfEventAttr]()
	*a = linux.PerfEventAttr{Type: linux.PERF_TYPE_TRACEPOINT, Size: uint32(unsafe.Sizeof(*a)), Config: id,
		SamplePeriod: 1, SampleType: linux.PERF_SAMPLE_RAW, Flags: linux.PerfAttrDisabled, WakeupEvents: 1}
	pid := int32(-1)
	fd, err := c.call("perf_event_open", uint64(uintptr(unsafe.Pointer(a))), uint64(uint32(pid)), 0,
		uint64(uint32(pid)), linux.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(a)
	return fd, err
}

// hashU32U64 reads a hash map of u32 keys and u64 values with
// BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM.
func (c caller) hashU32U64(fd int) (map[uint32]uint64, error) {
	m := map[uint32]uint64{}
	var key []byte // NULL: the first key
	for {
		next := Alloc(4)
		if err := c.mapElem(linux.BPF_MAP_GET_NEXT_KEY, fd, key, next, 0); err == linux.ENOENT {
			return m, nil
		} else if err != nil {
			return nil, err
		}
		k := binary.LittleEndian.Uint32(next)
		v, err := c.lookupU64(fd, k)
		if err != nil {
			return nil, err
		}
		m[k] = v
		key = next
	}
}

// syscallName is the name of system call nr on this architecture, or its
// number.
func (k *Kernel) syscallName(nr uint64) string {
	if e := k.entry(nr); e != nil {
		return e.name
	}
	return "#" + strconv.FormatUint(nr, 10)
}
