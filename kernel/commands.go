package kernel

import (
	"fmt"
	"io"
	"path"
	"runtime"
	"strconv"
	"time"

	"hachi/kernel/shell"
	"hachi/kernel/trace"
	"hachi/syscall/linux"
)

// Commands returns the kernel's shell commands, run as task t.
func (k *Kernel) Commands(t *Task) []shell.Command {
	b := k.board
	cmds := shell.SystemCommands(shell.System{
		Version: Version,
		Machine: b.Machine,
		CPUs:    b.CPUs,
		RAM: func() (uint64, uint64) {
			start, end := b.RAM()
			return uint64(start), uint64(end - start)
		},
		Poweroff: b.Poweroff,
	})
	cmds = append(cmds, k.kprobeCommands(t)...)
	return append(cmds,
		shell.Command{
			Name: "selfcheck", Help: "check that every CPU runs goroutines, that sleeping and the GC work",
			Run: func(out io.Writer, _ []string) error { return selfcheck(out, b) },
		},
		shell.Command{
			Name: "clock", Help: "print the kernel's monotonic clock in nanoseconds",
			Run: func(out io.Writer, _ []string) error {
				fmt.Fprintf(out, "clock: %d\n", k.now())
				return nil
			},
		},
		shell.Command{
			Name: "crash", Help: "panic the kernel (tests the panic path)",
			Run: func(io.Writer, []string) error { panic("crash command") },
		},
		shell.Command{
			Name: "cat", Usage: "PATH...", Help: "print files (trace_pipe: what it holds, without waiting)",
			Run: func(out io.Writer, args []string) error { return k.cat(out, t, args) },
		},
		shell.Command{
			Name: "ls", Usage: "[PATH...]", Help: "list directories of /proc, /sys (directories end in /)",
			Run: func(out io.Writer, args []string) error { return k.ls(out, args) },
		},
		shell.Command{
			Name: "trace", Usage: "[SECONDS]", Help: "print what bpf_trace_printk wrote (trace_pipe), following it for SECONDS",
			Run: func(out io.Writer, args []string) error { return k.trace(out, t, args) },
		},
		shell.Command{
			Name: "tracepoints", Help: "list the tracepoints: id, name, whether perf is attached, firings missed",
			Run: func(out io.Writer, _ []string) error { return tracepoints(out) },
		},
		shell.Command{
			Name: "bpftest", Help: "load, run and attach eBPF programs through bpf() and perf_event_open()",
			Run: func(out io.Writer, _ []string) error { return k.bpftest(out, t) },
		},
	)
}

// cat prints each file through openat and read as task t, up to the
// first that fails.
func (k *Kernel) cat(out io.Writer, t *Task, paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("cat: usage: cat PATH...")
	}
	c := caller{k, t}
	for _, p := range paths {
		b, err := c.readFile(p)
		out.Write(b)
		if err != nil {
			return fmt.Errorf("cat: %s: %v", p, err)
		}
	}
	return nil
}

// ls lists each directory (a file is printed as its path), "/" by
// default, up to the first that fails.
func (k *Kernel) ls(out io.Writer, paths []string) error {
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	for i, p := range paths {
		if len(paths) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "%s:\n", p)
		}
		names, err := k.ReadDir(p)
		if err != nil {
			if err != linux.ENOTDIR {
				return fmt.Errorf("ls: %s: %v", p, err)
			}
			fmt.Fprintln(out, p)
			continue
		}
		for _, name := range names {
			if k.IsDir(path.Join(p, name)) {
				name += "/"
			}
			fmt.Fprintln(out, name)
		}
	}
	return nil
}

// trace prints trace_pipe as task t reads it: what it holds, then, for
// the seconds given, what programs write to it meanwhile (cat trace_pipe
// on Linux, which follows until interrupted; the console cannot interrupt).
func (k *Kernel) trace(out io.Writer, t *Task, args []string) error {
	var follow time.Duration
	switch len(args) {
	case 0:
	case 1:
		secs, err := strconv.ParseFloat(args[0], 64)
		if err != nil || secs < 0 || secs > maxTraceSeconds {
			return fmt.Errorf("trace: seconds %q (0 to %d)", args[0], maxTraceSeconds)
		}
		follow = time.Duration(secs * float64(time.Second))
	default:
		return fmt.Errorf("trace: usage: trace [SECONDS]")
	}
	c := caller{k, t}
	p := str(tracePipePath)
	fd, err := c.call("openat", atFDCWD, addrOf(p), O_RDONLY|O_NONBLOCK|O_CLOEXEC)
	runtime.KeepAlive(p)
	if err != nil {
		return fmt.Errorf("trace: %s: %v", tracePipePath, err)
	}
	defer c.call("close", fd)
	deadline := time.Now().Add(follow)
	buf := Alloc(4096)
	for {
		n, err := c.call("read", fd, addrOf(buf), uint64(len(buf)))
		switch {
		case err == nil && n > 0:
			out.Write(buf[:n])
		case err != nil && err != linux.EAGAIN:
			return fmt.Errorf("trace: %s: %v", tracePipePath, err)
		case time.Now().After(deadline):
			return nil
		default:
			time.Sleep(tracePoll)
		}
	}
}

const (
	tracePipePath = "/sys/kernel/tracing/trace_pipe"
	// tracePoll is how often trace looks at an empty trace_pipe.
	tracePoll = 10 * time.Millisecond
	// maxTraceSeconds bounds how long trace follows.
	maxTraceSeconds = 3600
)

// tracepoints prints the tracepoint registry.
func tracepoints(out io.Writer) error {
	for _, tp := range trace.All() {
		state := "-"
		if tp.Enabled() {
			state = "attached"
		}
		fmt.Fprintf(out, "%4d %-34s %-8s missed %d\n", tp.ID(), tp.System()+":"+tp.Name(), state, tp.Missed())
	}
	return nil
}
