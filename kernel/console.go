package kernel

import (
	"bytes"
	"io"
	"sync"
	"time"
	"unsafe"

	"hachi/kernel/trace"
)

// consoleReader turns a non-blocking console input into an io.Reader that
// blocks until at least one byte has arrived.
type consoleReader struct {
	readByte func() (byte, bool)
}

// pollInterval is how long the reader sleeps when the console has nothing;
// a serial line at 115200 baud delivers about 12 bytes a millisecond, and
// the UART's FIFO holds at least 16, so nothing is lost.
const pollInterval = time.Millisecond

func newConsoleReader(readByte func() (byte, bool)) io.Reader {
	return &consoleReader{readByte: readByte}
}

func (r *consoleReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	for n == 0 {
		for n < len(p) {
			c, ok := r.readByte()
			if !ok {
				break
			}
			p[n] = c
			n++
		}
		if n == 0 {
			time.Sleep(pollInterval)
		}
	}
	return n, nil
}

// consoleLineMax bounds the line console_line carries: a longer line is
// fired in pieces of this size.
const consoleLineMax = 1024

// console is the kernel's console output: the board's writer, with Linux's
// ONLCR (each line feed goes out as CR LF, so that a serial terminal in
// raw mode starts each line at its left edge), and hachi:console_line
// fired for every line written.
type console struct {
	k     *Kernel
	write func([]byte)
	mu    sync.Mutex
	line  []byte
}

var (
	crlf          = []byte("\r\n")
	tpConsoleLine = mustTracepoint("hachi:console_line")
)

func newConsole(k *Kernel, write func([]byte)) *console {
	return &console{k: k, write: write, line: make([]byte, 0, consoleLineMax)}
}

// Console is the console as task t writes to it: the lines t writes fire
// hachi:console_line as t.
func (k *Kernel) Console(t *Task) io.Writer { return consoleWriter{k.console, t} }

type consoleWriter struct {
	c *console
	t *Task
}

func (w consoleWriter) Write(p []byte) (int, error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			c.write(rest)
			c.collect(w.t, rest)
			break
		}
		c.write(rest[:i])
		c.write(crlf)
		c.collect(w.t, rest[:i])
		c.flush(w.t)
		rest = rest[i+1:]
	}
	return len(p), nil
}

// collect adds b to the line being written, firing full pieces.
func (c *console) collect(t *Task, b []byte) {
	for len(b) > 0 {
		n := copy(c.line[len(c.line):consoleLineMax], b)
		c.line = c.line[:len(c.line)+n]
		b = b[n:]
		if len(c.line) == consoleLineMax {
			c.flush(t)
		}
	}
}

// flush fires console_line for the line collected so far and starts the
// next; the line is read in place (the mutex keeps it still).
func (c *console) flush(t *Task) {
	if tpConsoleLine.Enabled() {
		line := unsafe.String(unsafe.SliceData(c.line), len(c.line))
		c.k.fire(t, func(ctx trace.Ctx) { trace.ConsoleLine(ctx, line) })
	}
	c.line = c.line[:0]
}
