package kernel

import (
	"bytes"
	"io"
	"time"
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

// consoleWriter adapts the board's console output to an io.Writer. Like a
// Linux tty with ONLCR, it turns each line feed into CR LF, so that a serial
// terminal in raw mode starts each line at its left edge.
type consoleWriter func([]byte)

var crlf = []byte("\r\n")

func (w consoleWriter) Write(p []byte) (int, error) {
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w(rest)
			break
		}
		w(rest[:i])
		w(crlf)
		rest = rest[i+1:]
	}
	return len(p), nil
}
