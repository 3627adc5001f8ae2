// Package qemu boots Hachi kernel images under QEMU from the host and talks
// to their serial console: it starts the emulator with a board's command
// line, sends shell commands, waits for output with timeouts, and keeps the
// whole console log so that a failing test can show it.
package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Machine is one running emulator and its console.
type Machine struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex
	log     bytes.Buffer  // everything the console printed
	read    int           // how much of log Expect has consumed
	changed chan struct{} // closed and replaced when log grows or the process ends
	exited  bool
	status  int
	waitErr error

	done chan struct{} // closed when the process has ended

	tee io.Writer // also receives the console's output, if not nil
}

// Start runs argv (an emulator command line) with its standard input and
// output as the console.
func Start(argv []string) (*Machine, error) {
	return StartTee(argv, nil)
}

// StartTee is Start that also copies the console's output to tee as it
// arrives (a log file, a terminal), under the Machine's lock.
func StartTee(argv []string, tee io.Writer) (*Machine, error) {
	if len(argv) == 0 {
		return nil, errors.New("qemu: empty command line")
	}
	m := &Machine{
		cmd:     exec.Command(argv[0], argv[1:]...),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		tee:     tee,
	}
	stdin, err := m.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	m.stdin = stdin
	m.cmd.Stdout = consoleWriter{m}
	m.cmd.Stderr = consoleWriter{m}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	go m.wait()
	return m, nil
}

type consoleWriter struct{ m *Machine }

func (w consoleWriter) Write(p []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.log.Write(p)
	if w.m.tee != nil {
		w.m.tee.Write(p)
	}
	w.m.notify()
	return len(p), nil
}

// notify wakes every waiter; the caller holds mu.
func (m *Machine) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *Machine) wait() {
	err := m.cmd.Wait()
	m.mu.Lock()
	m.exited = true
	m.status = m.cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		m.waitErr = err
	}
	m.notify()
	m.mu.Unlock()
	close(m.done)
}

// Log returns everything the console has printed so far.
func (m *Machine) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

// Send writes s to the console's input.
func (m *Machine) Send(s string) error {
	_, err := io.WriteString(m.stdin, s)
	return err
}

// Expect waits until the console prints want after what earlier calls
// consumed, and returns the output up to and including it.
func (m *Machine) Expect(want string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		unread := m.log.String()[m.read:]
		if i := strings.Index(unread, want); i >= 0 {
			m.read += i + len(want)
			m.mu.Unlock()
			return unread[:i+len(want)], nil
		}
		exited, changed := m.exited, m.changed
		m.mu.Unlock()
		if exited {
			return unread, fmt.Errorf("qemu: exited (status %d) before printing %q", m.status, want)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return unread, fmt.Errorf("qemu: %q not printed within %v", want, timeout)
		}
	}
}

// Wait waits for the emulator to exit and returns its exit status.
func (m *Machine) Wait(timeout time.Duration) (int, error) {
	select {
	case <-m.done:
	case <-time.After(timeout):
		m.Kill()
		return -1, fmt.Errorf("qemu: still running after %v: killed", timeout)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status, m.waitErr
}

// Kill stops the emulator at once.
func (m *Machine) Kill() {
	if m.cmd.Process != nil {
		m.cmd.Process.Kill()
	}
	<-m.done
}

// CloseInput closes the console's input, as the end of a pipe does.
func (m *Machine) CloseInput() error { return m.stdin.Close() }

// Run sends a command line and waits for the next prompt; it returns what
// the command printed between its own echoed line and the prompt.
func (m *Machine) Run(line, prompt string, timeout time.Duration) (string, error) {
	if err := m.Send(line + "\n"); err != nil {
		return "", err
	}
	out, err := m.Expect(prompt, timeout)
	if err != nil {
		return out, err
	}
	out = strings.TrimSuffix(out, prompt)
	// Drop the echo of the command line itself.
	if i := strings.Index(out, "\n"); i >= 0 && strings.Contains(out[:i], line) {
		out = out[i+1:]
	}
	return strings.ReplaceAll(out, "\r\n", "\n"), nil
}
