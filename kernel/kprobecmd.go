package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"hachi/kernel/shell"
	"hachi/syscall/linux"
)

// kprobeCommands are the shell's tracing tools: ksyms (a grep of
// /proc/kallsyms), profile (sampleip: instruction pointers sampled on CPU
// clock events) and count (a kprobe counting hits per CPU with a BPF
// program, the way bpftrace's count() or perf's kprobe events do).
func (k *Kernel) kprobeCommands(t *Task) []shell.Command {
	return []shell.Command{
		{
			Name: "ksyms", Usage: "PATTERN", Help: "list kernel symbols matching PATTERN (a substring, or a glob with * ? [)",
			Run: func(out io.Writer, args []string) error { return k.ksyms(out, t, args) },
		},
		{
			Name: "profile", Usage: "[-F HZ] SECONDS", Help: "sample every CPU's instruction pointer with a BPF program on CPU clock events (sampleip)",
			Run: func(out io.Writer, args []string) error { return k.profile(out, t, args) },
		},
		{
			Name: "count", Usage: "[-r] SYMBOL[+OFF] SECONDS", Help: "count hits of a kprobe (-r: kretprobe) per CPU with a BPF program",
			Run: func(out io.Writer, args []string) error { return k.count(out, t, args) },
		},
	}
}

// ksyms prints the lines of /proc/kallsyms whose symbol matches.
func (k *Kernel) ksyms(out io.Writer, t *Task, args []string) error {
	if len(args) != 1 {
		return errors.New("ksyms: usage: ksyms PATTERN")
	}
	pattern := args[0]
	glob := strings.ContainsAny(pattern, "*?[")
	if glob {
		if _, err := path.Match(pattern, ""); err != nil {
			return fmt.Errorf("ksyms: %v", err)
		}
	}
	b, err := caller{k, t}.readFile("/proc/kallsyms")
	if err != nil {
		return fmt.Errorf("ksyms: /proc/kallsyms: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		var ok bool
		if glob {
			ok, _ = path.Match(pattern, f[2])
		} else {
			ok = strings.Contains(f[2], pattern)
		}
		if ok {
			fmt.Fprintln(out, sc.Text())
			n++
		}
	}
	fmt.Fprintf(out, "ksyms: %d symbols\n", n)
	return nil
}

// countSource counts the program's runs in slot 0 of a per-CPU array:
// counts[0] += 1 on the CPU that hit the probe.
const countSource = `
	stw [%%r10-4], 0
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, out
	ldxdw %%r1, [%%r0+0]
	add %%r1, 1
	stxdw [%%r0+0], %%r1
out:
	mov %%r0, 0
	exit
`

// count attaches a counting program to a kprobe on SYMBOL[+OFF] (a
// kretprobe with -r) for SECONDS, then prints the count of each CPU and
// the total: perf_event_open on the kprobe PMU (its type read from sysfs,
// config1 pointing at the name), PERF_EVENT_IOC_SET_BPF, ENABLE, and the
// per-CPU array read back.
func (k *Kernel) count(out io.Writer, t *Task, args []string) error {
	ret := len(args) > 0 && args[0] == "-r"
	if ret {
		args = args[1:]
	}
	if len(args) != 2 {
		return errors.New("count: usage: count [-r] SYMBOL[+OFF] SECONDS")
	}
	symbol, off := args[0], uint64(0)
	if i := strings.LastIndexByte(symbol, '+'); i > 0 {
		v, err := strconv.ParseUint(symbol[i+1:], 0, 64)
		if err != nil {
			return fmt.Errorf("count: offset %q: %v", symbol[i+1:], err)
		}
		symbol, off = symbol[:i], v
	}
	secs, err := strconv.ParseFloat(args[1], 64)
	if err != nil || secs < 0 {
		return fmt.Errorf("count: seconds %q", args[1])
	}
	c := caller{k, t}
	var fds []uint64
	defer func() {
		for _, fd := range fds {
			c.call("close", fd)
		}
	}()
	counts, err := c.mapCreate(linux.BPF_MAP_TYPE_PERCPU_ARRAY, "counts", 4, 8, 1)
	if err != nil {
		return fmt.Errorf("count: BPF_MAP_CREATE: %w", err)
	}
	fds = append(fds, uint64(counts))
	prog, err := c.progLoad(linux.BPF_PROG_TYPE_KPROBE, "count", fmt.Sprintf(countSource, counts))
	if err != nil {
		return fmt.Errorf("count: BPF_PROG_LOAD: %w", err)
	}
	fds = append(fds, uint64(prog))
	typ, err := c.readFile("/sys/bus/event_source/devices/kprobe/type")
	if err != nil {
		return fmt.Errorf("count: no kprobe PMU: %v", err)
	}
	pmu, err := strconv.ParseUint(strings.TrimSpace(string(typ)), 10, 32)
	if err != nil {
		return fmt.Errorf("count: kprobe PMU type %q", typ)
	}
	name := str(symbol)
	a := AllocValue[linux.PerfEventAttr]()
	*a = linux.PerfEventAttr{Type: uint32(pmu), Size: uint32(unsafe.Sizeof(*a)), Config1: addrOf(name),
		Config2: off, Flags: linux.PerfAttrDisabled}
	if ret {
		a.Config = 1 // format/retprobe: config:0
	}
	pid := int32(-1)
	ev, err := c.call("perf_event_open", uint64(uintptr(unsafe.Pointer(a))), uint64(uint32(pid)), 0,
		uint64(uint32(pid)), linux.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(a)
	runtime.KeepAlive(name)
	if err != nil {
		return fmt.Errorf("count: perf_event_open kprobe %s+%#x: %w", symbol, off, err)
	}
	fds = append(fds, ev)
	if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, uint64(prog)); err != nil {
		return fmt.Errorf("count: PERF_EVENT_IOC_SET_BPF: %w", err)
	}
	if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		return fmt.Errorf("count: PERF_EVENT_IOC_ENABLE: %w", err)
	}
	kind := "kprobe"
	if ret {
		kind = "kretprobe"
	}
	fmt.Fprintf(out, "count: %s %s+%#x for %gs\n", kind, symbol, off, secs)
	time.Sleep(time.Duration(secs * float64(time.Second)))
	if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_DISABLE, 0); err != nil {
		return fmt.Errorf("count: PERF_EVENT_IOC_DISABLE: %w", err)
	}
	c.call("close", ev) // detaches the program and removes the probe
	fds = fds[:len(fds)-1]
	values := Alloc(8 * k.ncpu)
	if err := c.mapElem(linux.BPF_MAP_LOOKUP_ELEM, counts, le32(0), values, 0); err != nil {
		return fmt.Errorf("count: BPF_MAP_LOOKUP_ELEM: %w", err)
	}
	total := uint64(0)
	for cpu := range k.ncpu {
		n := binary.LittleEndian.Uint64(values[8*cpu:])
		fmt.Fprintf(out, "cpu%d: %d\n", cpu, n)
		total += n
	}
	fmt.Fprintf(out, "total: %d\n", total)
	return nil
}
