// Package log is the BPF verifier log, shared by the BTF loader (bpf/btf) and
// the program verifier (bpf/verifier): Linux's struct bpf_verifier_log
// (kernel/bpf/verifier.c:bpf_verifier_vlog in Linux 6.1).
//
// The log writes into the caller's buffer (log_buf/log_size of BPF_PROG_LOAD,
// btf_log_buf/btf_log_size of BPF_BTF_LOAD) through a Sink, so the syscall
// layer can hand it user memory and tests a byte slice. Semantics are Linux
// 6.1's "fixed" log: text fills the buffer from the start, every write leaves
// the buffer NUL-terminated, and once the buffer is full further text is
// dropped; the command then fails with ENOSPC (see Full). A fault while
// writing stops the log (see Faulted), as Linux drops ubuf.
package log

import (
	"fmt"

	"hachi/syscall/linux"
)

// Log levels: the bits of log_level. LevelMask is every bit a user may set.
const (
	Level1     = 1 // BPF_LOG_LEVEL1: errors and the states at them
	Level2     = 2 // BPF_LOG_LEVEL2: every instruction's state
	LevelStats = 4 // BPF_LOG_STATS: verification statistics
	LevelMask  = Level1 | Level2 | LevelStats
)

// Size limits of a log buffer (bpf_verifier_log_attr_valid).
const (
	MinSize = 128
	MaxSize = ^uint32(0) >> 2
)

// lineMax is BPF_VERIFIER_TMP_LOG_SIZE: one formatted write is cut to
// lineMax-1 bytes, as vscnprintf into the kernel's bounce buffer cuts it.
const lineMax = 1024

// Sink is the destination buffer, written at byte offsets. The syscall layer
// implements it over user memory; an error means the copy faulted.
type Sink interface {
	WriteAt(p []byte, off int64) (int, error)
}

// Log is one command's log. A nil *Log, the zero value, and a Log made by New
// from all-zero attributes are disabled: every method is safe and writes nothing.
type Log struct {
	level   uint32
	sink    Sink
	total   uint32 // len_total: the buffer size
	used    uint32 // len_used: bytes written, excluding the trailing NUL
	faulted bool
}

// New checks the log attributes of a command and returns its log. Like Linux,
// all-zero attributes mean no log; otherwise level must be non-zero and within
// LevelMask, ubuf non-zero and size within [MinSize, MaxSize], or New fails
// with EINVAL. sink writes to the buffer at ubuf.
func New(level uint32, ubuf uint64, size uint32, sink Sink) (*Log, error) {
	if level == 0 && ubuf == 0 && size == 0 {
		return &Log{}, nil
	}
	if size < MinSize || size > MaxSize || level == 0 || ubuf == 0 || level&^LevelMask != 0 || sink == nil {
		return nil, linux.EINVAL
	}
	return &Log{level: level, sink: sink, total: size}, nil
}

// Level returns the log_level bits (0 when disabled).
func (l *Log) Level() uint32 {
	if l == nil {
		return 0
	}
	return l.level
}

// Enabled reports whether text written now would reach the buffer
// (bpf_verifier_log_needed): a level is set, the buffer has room and no
// earlier write faulted. Callers test it before building expensive text.
func (l *Log) Enabled() bool {
	return l != nil && l.level != 0 && !l.faulted && !l.Full()
}

// Full reports whether the buffer is full (len_used == len_total - 1).
func (l *Log) Full() bool { return l != nil && l.level != 0 && l.used == l.total-1 }

// Faulted reports whether a write to the buffer failed; Linux then answers
// EFAULT where it would otherwise report the log.
func (l *Log) Faulted() bool { return l != nil && l.faulted }

// Len returns the number of bytes written, without the trailing NUL.
func (l *Log) Len() uint32 {
	if l == nil {
		return 0
	}
	return l.used
}

// Reset forgets the text written after pos, as Linux's bpf_vlog_reset does
// when the verifier abandons a path it proved safe (at log level 1 only the
// path that failed stays in the log). Like Linux 6.1, it does nothing once
// the log is disabled, full or faulted.
func (l *Log) Reset(pos uint32) {
	if !l.Enabled() || pos > l.used {
		return
	}
	if _, err := l.sink.WriteAt([]byte{0}, int64(pos)); err != nil {
		l.faulted = true
		return
	}
	l.used = pos
}

// Printf formats like fmt.Sprintf and appends the text, cut to what the
// buffer holds; the buffer stays NUL-terminated.
func (l *Log) Printf(format string, args ...any) {
	if !l.Enabled() {
		return
	}
	l.write(fmt.Sprintf(format, args...))
}

// Write appends s verbatim, like Printf("%s", s).
func (l *Log) Write(s string) {
	if !l.Enabled() {
		return
	}
	l.write(s)
}

func (l *Log) write(s string) {
	if len(s) > lineMax-1 {
		s = s[:lineMax-1]
	}
	n := uint32(len(s))
	if room := l.total - l.used - 1; n > room {
		n = room
	}
	buf := make([]byte, n+1)
	copy(buf, s[:n])
	if _, err := l.sink.WriteAt(buf, int64(l.used)); err != nil {
		l.faulted = true
		return
	}
	l.used += n
}

// Buffer is a Sink over a byte slice, for kernel-side buffers and tests.
// Writes past its end fail with EFAULT, as a copy past a user mapping would.
type Buffer []byte

// WriteAt copies p into the buffer at off.
func (b Buffer) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(b)) {
		return 0, linux.EFAULT
	}
	return copy(b[off:], p), nil
}

// String returns the text up to the first NUL, as a C reader sees it.
func (b Buffer) String() string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
