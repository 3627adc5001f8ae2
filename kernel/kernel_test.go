package kernel

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"hachi/kernel/shell"
)

// fakeBoard is a board whose console is a byte string and a buffer.
type fakeBoard struct {
	mu      sync.Mutex
	input   []byte
	output  bytes.Buffer
	stopped chan int32 // exit status: 0 for poweroff
}

func newFakeBoard(input string) *fakeBoard {
	return &fakeBoard{input: []byte(input), stopped: make(chan int32, 1)}
}

func (f *fakeBoard) board() Board {
	return Board{
		Machine: "x86_64",
		NumCPU:  func() int { return 1 },
		CPUID:   func() int { return 0 },
		CPUs:    func() []shell.CPU { return []shell.CPU{{ID: 0, Model: "fake"}} },
		RAM:     func() (uint, uint) { return 0x10000000, 0x50000000 },
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

func TestMainRunsTheShell(t *testing.T) {
	f := newFakeBoard("uname -a\nselfcheck\nclock\npoweroff\n")
	go Main(f.board())
	if status := <-f.stopped; status != 0 {
		t.Fatalf("exit status %d", status)
	}
	f.mu.Lock()
	out := f.output.String()
	f.mu.Unlock()
	for _, want := range []string{
		"Hachi dev x86_64\r\ncpus: 1 online\r\nmemory: 1024 MiB for the kernel at 0x10000000-0x50000000\r\n",
		"hachi# uname -a\r\nHachi dev x86_64\r\n",
		"selfcheck: ok\r\n",
		"clock: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}

func TestConsoleWriterAddsCR(t *testing.T) {
	var got bytes.Buffer
	w := consoleWriter(func(p []byte) { got.Write(p) })
	n, err := w.Write([]byte("a\nb\n\nc"))
	if n != 6 || err != nil || got.String() != "a\r\nb\r\n\r\nc" {
		t.Errorf("Write = %d, %v; wrote %q", n, err, got.String())
	}
}
