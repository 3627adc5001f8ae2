package kernel

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"hachi/kernel/shell"
)

// fakeBoard is a two-CPU board whose console is a byte string and a buffer.
// Its RAM is the whole lower half of a 48-bit address space, so that the
// test's Go memory (host or guest heap) is kernel memory; only addresses
// outside it are ever expected to fault. Its text is a buffer of its own.
type fakeBoard struct {
	mu      sync.Mutex
	input   []byte
	output  bytes.Buffer
	text    []byte
	stopped chan int32 // exit status: 0 for poweroff
}

const (
	fakeRAMStart = 0x1000
	fakeRAMEnd   = 1 << 47
)

func newFakeBoard(input string) *fakeBoard {
	return &fakeBoard{input: []byte(input), text: Alloc(4096), stopped: make(chan int32, 1)}
}

func (f *fakeBoard) board() Board {
	return Board{
		Machine: "x86_64",
		NumCPU:  func() int { return 2 },
		CPUID:   func() int { return 0 },
		CPUs: func() []shell.CPU {
			return []shell.CPU{{ID: 0, Model: "fake"}, {ID: 1, HardwareID: 1, Model: "fake"}}
		},
		RAM: func() (uint, uint) { return fakeRAMStart, fakeRAMEnd },
		Text: func() (uint, uint) {
			start := uint(addrOf(f.text))
			return start, start + uint(len(f.text))
		},
		ConsoleReadByte: func() (byte, bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.input) == 0 {
				return 0, false
			}
			c := f.input[0]
			f.input = f.input[1:]
			return c, true
		},
		ConsoleWrite: func(p []byte) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.output.Write(p)
		},
		Poweroff: func() { f.stopped <- 0 },
		Exit:     func(code int32) { f.stopped <- code },
	}
}

func (f *fakeBoard) console() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.output.String()
}

func TestMainRunsTheShell(t *testing.T) {
	f := newFakeBoard("uname -a\nclock\ncat /sys/devices/system/cpu/possible\nbpftest\n" +
		"cat /sys/kernel/tracing/trace_pipe\ntracepoints\nls /sys/kernel/tracing/events\ncat /nosuch\npoweroff\n")
	go Main(f.board())
	if status := <-f.stopped; status != 0 {
		t.Fatalf("exit status %d", status)
	}
	out := f.console()
	for _, want := range []string{
		"Hachi dev x86_64\r\ncpus: 2 online\r\nmemory: 134217727 MiB",
		"hachi# uname -a\r\nHachi dev x86_64\r\n",
		"clock: ",
		"hachi# cat /sys/devices/system/cpu/possible\r\n0-1\r\n",
		"bpftest: BPF_PROG_TEST_RUN args (7, 35): retval 42\r\n",
		"bpftest: BPF_MAP_LOOKUP_ELEM counts[0] = 3\r\n",
		"bpftest: BPF_MAP_LOOKUP_ELEM bypid[1] = 1099511627778 (task \"sh\")\r\n",
		"getpid 3, uname 1\r\n",
		"bpftest: ok",
		"raw_syscalls:sys_enter",
		"hachi# ls /sys/kernel/tracing/events\r\nhachi/\r\nraw_syscalls/\r\nsched/\r\n",
		"cat: /nosuch: No such file or directory\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
	line := regexp.MustCompile(`\r\n {14}sh-1 {7}\[000\] \.\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: bpftest: sh 7\+35\r\n\r\n`)
	if !line.MatchString(out) {
		t.Errorf("console lacks the trace_pipe line of the first test run:\n%s", out)
	}
}

func TestConsoleAddsCR(t *testing.T) {
	f := newFakeBoard("")
	k := New(f.board())
	w := k.Console(k.NewTask("test"))
	n, err := w.Write([]byte("a\nb\n\nc"))
	if got := f.console(); n != 6 || err != nil || got != "a\r\nb\r\n\r\nc" {
		t.Errorf("Write = %d, %v; wrote %q", n, err, got)
	}
}
