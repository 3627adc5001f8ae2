package kernel

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hachi/kernel/trace"
	"hachi/perf"
	"hachi/syscall/linux"
)

// noKprobes is a Kprober that places nothing: enough for perf to have a
// kprobe PMU.
type noKprobes struct{}

func (noKprobes) Register(perf.KprobeSpec, perf.KprobeHandler) (perf.Kprobe, error) {
	return nil, linux.ENOENT
}

// The files loaders read, read through openat and read as a kernel task.
func TestVirtualFiles(t *testing.T) {
	b := newFakeBoard("").board()
	b.Kprober = noKprobes{}
	k := New(b)
	c := caller{k, k.NewTask("reader")}
	defer c.t.Exit()
	sysEnter, _ := trace.Lookup("raw_syscalls:sys_enter")
	var events strings.Builder
	for _, tp := range trace.All() {
		events.WriteString(tp.System() + ":" + tp.Name() + "\n")
	}
	tests := []struct {
		path, want string
	}{
		{"/sys/devices/system/cpu/possible", "0-1\n"},
		{"/sys/devices/system/cpu/online", "0-1\n"},
		{"/proc/version", "Hachi version dev (hachi@hachi) (" + runtime.Version() + ") #1 SMP x86_64\n"},
		{"/sys/bus/event_source/devices/software/type", "1\n"},
		{"/sys/bus/event_source/devices/tracepoint/type", "2\n"},
		{"/sys/bus/event_source/devices/kprobe/type", strconv.Itoa(perf.KprobeType) + "\n"},
		{"/sys/bus/event_source/devices/kprobe/format/retprobe", "config:0\n"},
		{"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id", strconv.Itoa(int(sysEnter.ID())) + "\n"},
		{"/sys/kernel/tracing/events/raw_syscalls/sys_enter/format", sysEnter.Format()},
		{"/sys/kernel/tracing/available_events", events.String()},
		{"//sys/./kernel/../kernel/tracing//events/raw_syscalls/sys_enter/id", strconv.Itoa(int(sysEnter.ID())) + "\n"},
	}
	for _, tt := range tests {
		got, err := c.readFile(tt.path)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	errs := []struct {
		path  string
		flags uint64
		want  error
	}{
		{"/nosuch", O_RDONLY, linux.ENOENT},
		{"/sys/kernel/tracing/events/raw_syscalls/nosuch/id", O_RDONLY, linux.ENOENT},
		{"/proc/version/x", O_RDONLY, linux.ENOTDIR},
		{"/proc/version/", O_RDONLY, linux.ENOTDIR},
		{"/proc/version", O_DIRECTORY, linux.ENOTDIR},
		{"/proc/version", O_WRONLY, linux.EACCES},
		{"/proc/version", O_RDWR, linux.EACCES},
		{"/proc/version", O_RDONLY | O_TRUNC, linux.EACCES},
		{"", O_RDONLY, linux.ENOENT},
		{"/proc/version", O_WRONLY | O_DIRECTORY, linux.ENOTDIR},
		{"/sys/kernel/tracing", O_WRONLY, linux.EISDIR},
	}
	for _, tt := range errs {
		p := str(tt.path)
		if _, err := c.call("openat", atFDCWD, addrOf(p), tt.flags); err != tt.want {
			t.Errorf("openat(%q, %#o) = %v, want %v", tt.path, tt.flags, err, tt.want)
		}
		runtime.KeepAlive(p)
	}
	if _, err := c.call("openat", atFDCWD, 8, O_RDONLY); err != linux.EFAULT {
		t.Errorf("openat with a bad path pointer: %v, want EFAULT", err)
	}

	// A directory opens, and cannot be read; pread64 reads at an offset
	// without moving the file position.
	p := str("/sys/kernel/tracing")
	dirfd, err := c.call("openat", atFDCWD, addrOf(p), O_RDONLY|O_DIRECTORY)
	if err != nil {
		t.Fatalf("openat of a directory: %v", err)
	}
	buf := Alloc(64)
	if _, err := c.call("read", dirfd, addrOf(buf), 64); err != linux.EISDIR {
		t.Errorf("read of a directory: %v, want EISDIR", err)
	}
	rel := str("proc/version")
	if _, err := c.call("openat", dirfd, addrOf(rel), O_RDONLY); err != linux.ENOTDIR {
		t.Errorf("openat relative to a directory descriptor: %v, want ENOTDIR", err)
	}
	c.call("close", dirfd)
	fd := mustOK[uint64](t, "openat relative to AT_FDCWD")(c.call("openat", atFDCWD, addrOf(rel), O_RDONLY))
	n, err := c.call("pread64", fd, addrOf(buf), 5, 6)
	if err != nil || string(buf[:n]) != "versi" {
		t.Errorf("pread64 at 6: %q, %v", buf[:n], err)
	}
	n, err = c.call("read", fd, addrOf(buf), 5)
	if err != nil || string(buf[:n]) != "Hachi" {
		t.Errorf("read after pread64: %q, %v", buf[:n], err)
	}
	if _, err := c.call("read", fd, 8, 5); err != linux.EFAULT {
		t.Errorf("read into a bad buffer: %v, want EFAULT", err)
	}
	c.call("close", fd)
	runtime.KeepAlive(p)

	listings := []struct {
		path string
		want []string
	}{
		{"/", []string{"proc", "sys"}},
		{"/sys/bus/event_source/devices", []string{"kprobe", "software", "tracepoint"}},
		{"/sys/bus/event_source/devices/kprobe", []string{"format", "type"}},
		{"/sys/kernel/tracing", []string{"available_events", "events", "trace_pipe"}},
		{"/sys/kernel/tracing/events", []string{"hachi", "raw_syscalls", "sched"}},
		{"/sys/kernel/tracing/events/raw_syscalls", []string{"sys_enter", "sys_exit"}},
		{"/sys/kernel/tracing/events/hachi/console_line", []string{"format", "id"}},
		{"/sys/fs/bpf", []string{}},
	}
	for _, tt := range listings {
		got, err := k.ReadDir(tt.path)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ls %s = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	if _, err := k.ReadDir("/proc/version"); err != linux.ENOTDIR {
		t.Errorf("ls of a file: %v, want ENOTDIR", err)
	}
}

// Without a kprobe placer there is no kprobe PMU, as in a Linux built
// without CONFIG_KPROBE_EVENTS.
func TestNoKprobePMU(t *testing.T) {
	k, c := newTestKernel(t, "riscv64")
	if _, err := c.readFile("/sys/bus/event_source/devices/kprobe/type"); err != linux.ENOENT {
		t.Errorf("kprobe/type: %v, want ENOENT", err)
	}
	if got, _ := k.ReadDir("/sys/bus/event_source/devices"); !slices.Equal(got, []string{"software", "tracepoint"}) {
		t.Errorf("PMUs %q", got)
	}
	if got, _ := c.readFile("/proc/version"); !strings.HasSuffix(string(got), " riscv64\n") {
		t.Errorf("/proc/version %q", got)
	}
}

// With the board's symbol table, printk's %pS names kernel addresses and
// /proc/kallsyms lists the table.
func TestSymbols(t *testing.T) {
	b := newFakeBoard("").board()
	b.Symbol = func(addr uint64) (string, uint64, uint64, bool) {
		if addr >= 0xffff_1000 && addr < 0xffff_1040 {
			return "hachi_probed", addr - 0xffff_1000, 0x40, true
		}
		return "", 0, 0, false
	}
	b.Kallsyms = func(w io.Writer) error {
		_, err := io.WriteString(w, "00000000ffff1000 T hachi_probed\n")
		return err
	}
	k := New(b)
	c := caller{k, k.NewTask("symbols")}
	defer c.t.Exit()
	if got, err := c.readFile("/proc/kallsyms"); err != nil || string(got) != "00000000ffff1000 T hachi_probed\n" {
		t.Errorf("/proc/kallsyms: %q, %v", got, err)
	}
	prog := mustOK[int](t, "BPF_PROG_LOAD")(c.progLoad(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, "sym", fmt.Sprintf(`
	lddw %%r1, %#x
	stxdw [%%r10-8], %%r1
	mov %%r1, %%r10
	add %%r1, -8
	mov %%r2, 8
	lddw %%r3, 0xffff1010
	lddw %%r4, 0xffff2000
	call 6
	mov %%r0, 0
	exit`, word("%pS %pS", 0))))
	defer c.call("close", uint64(prog))
	mustOK[uint32](t, "BPF_PROG_TEST_RUN")(c.testRunRawTP(prog, [2]uint64{}))
	out := string(mustOK[[]byte](t, "trace_pipe")(c.readFile("/sys/kernel/tracing/trace_pipe")))
	if !strings.HasSuffix(out, ": bpf_trace_printk: hachi_probed+0x10/0x40 0xffff2000\n") {
		t.Errorf("trace_pipe: %q", out)
	}
}
