package kernel

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"hachi/syscall/linux"
)

// Lines as Linux 6.18's trace_pipe prints bpf_trace_printk (seen on the
// build host: "         tpcheck-22832   [001] ...21  5840.080719:
// bpf_trace_printk: hi 42" followed by an empty line for the message's
// own newline).
func TestPipeLineFormat(t *testing.T) {
	comm := func(s string) (c [taskCommLen]byte) { copy(c[:], s); return }
	tests := []struct {
		cpu  int
		e    pipeEntry
		msg  string
		want string
	}{
		{1, pipeEntry{ts: 5840_080719_123, pid: 22832, comm: comm("tpcheck")}, "hi 42\n",
			"         tpcheck-22832   [001] .....  5840.080719: bpf_trace_printk: hi 42\n\n"},
		{0, pipeEntry{ts: 1_500_000, pid: 1, comm: comm("sh")}, "no newline",
			"              sh-1       [000] .....     0.001500: bpf_trace_printk: no newline\n"},
		{12, pipeEntry{ts: 123456_000001_000, pid: 1234567, comm: comm("a-name-of-15chr"), flags: latIRQsOff | latHardIRQ}, "x",
			" a-name-of-15chr-1234567 [012] d.h.. 123456.000001: bpf_trace_printk: x\n"},
		{0, pipeEntry{ts: 0, pid: 0, comm: comm("swapper/0")}, "idle",
			"          <idle>-0       [000] .....     0.000000: bpf_trace_printk: idle\n"},
	}
	for _, tt := range tests {
		tt.e.n = uint16(copy(tt.e.msg[:], tt.msg))
		if got := string(appendPipeLine(nil, tt.cpu, &tt.e)); got != tt.want {
			t.Errorf("line\n got %q\nwant %q", got, tt.want)
		}
	}
}

// The pipe merges CPUs in time order, counts what a full ring overwrote,
// lets one reader in at a time, and answers EAGAIN when empty and
// non-blocking.
func TestTracePipe(t *testing.T) {
	k, _ := newTestKernel(t, "x86_64")
	task := k.NewTask("writer")
	p := newTracePipe(2)
	p.write(1, task, 0, 20, []byte("second"))
	p.write(0, task, 0, 10, []byte("first"))
	p.write(0, task, 0, 40, []byte("fourth"))
	p.write(1, task, 0, 30, []byte("third"))
	f, err := p.openPipe(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.openPipe(true); err != linux.EBUSY {
		t.Errorf("second open: %v, want EBUSY", err)
	}
	got := readAll(t, f)
	order := regexp.MustCompile(`bpf_trace_printk: (\w+)`).FindAllStringSubmatch(got, -1)
	var words []string
	for _, m := range order {
		words = append(words, m[1])
	}
	if strings.Join(words, " ") != "first second third fourth" {
		t.Errorf("order %v, want first second third fourth:\n%s", words, got)
	}
	if n, err := f.read(make([]byte, 100)); n != 0 || err != linux.EAGAIN {
		t.Errorf("read of an empty pipe: %d, %v; want EAGAIN", n, err)
	}

	// Overwrite: the oldest messages go, and are counted.
	for i := range pipeSlots + 5 {
		p.write(0, task, 0, uint64(100+i), []byte(fmt.Sprint("m", i)))
	}
	got = readAll(t, f)
	if n := strings.Count(got, "\n"); n != pipeSlots {
		t.Errorf("%d lines after overwriting, want %d", n, pipeSlots)
	}
	if !strings.Contains(got, ": m5\n") || strings.Contains(got, ": m4\n") || p.lost.Load() != 5 {
		t.Errorf("lost %d, want m0-m4 (5) gone", p.lost.Load())
	}
	f.Release()
	if _, err := p.openPipe(true); err != nil {
		t.Errorf("open after release: %v", err)
	}
}

// A blocking read waits for the first message.
func TestTracePipeBlockingRead(t *testing.T) {
	k, _ := newTestKernel(t, "x86_64")
	p := newTracePipe(1)
	f, err := p.openPipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	go func() {
		time.Sleep(3 * pipePollInterval)
		p.write(0, k.cpus[0].idle, 0, 1, []byte("late"))
	}()
	b := make([]byte, 200)
	n, err := f.read(b)
	if err != nil || !strings.HasSuffix(string(b[:n]), ": late\n") {
		t.Errorf("read = %q, %v", b[:n], err)
	}
}

// Short reads keep the rest of a line for the next one.
func TestTracePipeShortReads(t *testing.T) {
	k, _ := newTestKernel(t, "x86_64")
	p := newTracePipe(1)
	p.write(0, k.cpus[0].idle, 0, 1, []byte("a message longer than the reads"))
	f, _ := p.openPipe(true)
	defer f.Release()
	var got []byte
	buf := make([]byte, 7)
	for {
		n, err := f.read(buf)
		if err == linux.EAGAIN {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !strings.HasSuffix(string(got), ": bpf_trace_printk: a message longer than the reads\n") {
		t.Errorf("reassembled %q", got)
	}
}

func readAll(t *testing.T, f *pipeFile) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.read(buf)
		if err == linux.EAGAIN {
			return string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
	}
}

// A program's bpf_trace_printk reaches /sys/kernel/tracing/trace_pipe with
// the calling task's name and pid, through the kernel's system calls.
func TestTracePrintkToTracePipe(t *testing.T) {
	k, c := newTestKernel(t, "x86_64")
	c.t = k.NewTask("printer")
	defer c.t.Exit()
	src := fmt.Sprintf(`
	lddw %%r1, %#x
	stxdw [%%r10-16], %%r1
	lddw %%r1, %#x
	stxdw [%%r10-8], %%r1
	mov %%r1, %%r10
	add %%r1, -16
	mov %%r2, %d
	mov %%r3, 42
	call 6
	mov %%r0, 0
	exit`, word("hello %d\n", 0), word("hello %d\n", 8), len("hello %d\n")+1)
	prog := mustOK[int](t, "BPF_PROG_LOAD")(c.progLoad(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, "printer", src))
	defer c.call("close", uint64(prog))
	mustOK[uint32](t, "BPF_PROG_TEST_RUN")(c.testRunRawTP(prog, [2]uint64{}))
	out := mustOK[[]byte](t, "cat trace_pipe")(c.readFile("/sys/kernel/tracing/trace_pipe"))
	want := regexp.MustCompile(fmt.Sprintf(`^ {9}printer-%-7d \[000\] \.\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: hello 42\n\n$`, c.t.pid))
	if !want.Match(out) {
		t.Errorf("trace_pipe:\n%q\nwant %v", out, want)
	}
	runtime.KeepAlive(c)
}

// lockedBuffer is a bytes.Buffer written by one goroutine and read by
// another.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The trace command prints what trace_pipe holds and, given seconds,
// what is written to it meanwhile.
func TestTraceCommand(t *testing.T) {
	k, c := newTestKernel(t, "x86_64")
	k.pipe.write(0, c.t, 0, uint64(k.now()), []byte("before\n"))
	var out lockedBuffer
	done := make(chan error)
	go func() { done <- k.trace(&out, c.t, []string{"2"}) }()
	for !strings.Contains(out.String(), "before") {
		select {
		case err := <-done:
			t.Fatalf("trace ended (%v) before printing the first line: %q", err, out.String())
		case <-time.After(time.Millisecond):
		}
	}
	k.pipe.write(1, c.t, 0, uint64(k.now()), []byte("during\n"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^ +test-\d+ +\[000\] \.\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: before\n\n +test-\d+ +\[001\] \.\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: during\n\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("trace 2 printed %q, want %v", out.String(), want)
	}

	out = lockedBuffer{}
	if err := k.trace(&out, c.t, nil); err != nil || out.String() != "" {
		t.Errorf("trace of an empty pipe: %q, %v", out.String(), err)
	}
	for _, args := range [][]string{{"x"}, {"-1"}, {"1e9"}, {"1", "2"}} {
		if err := k.trace(&out, c.t, args); err == nil {
			t.Errorf("trace %q: no error", args)
		}
	}
}
