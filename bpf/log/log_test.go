package log

import (
	"errors"
	"strings"
	"testing"

	"hachi/syscall/linux"
)

func TestNewValidation(t *testing.T) {
	buf := make(Buffer, 256)
	for _, tc := range []struct {
		name        string
		level       uint32
		ubuf        uint64
		size        uint32
		sink        Sink
		wantErr     bool
		wantEnabled bool
	}{
		{"no log", 0, 0, 0, nil, false, false},
		{"level 1", 1, 0x1000, 256, buf, false, true},
		{"all levels", LevelMask, 0x1000, 256, buf, false, true},
		{"level without buffer", 1, 0, 0, nil, true, false},
		{"buffer without level", 0, 0x1000, 256, buf, true, false},
		{"size below 128", 1, 0x1000, 127, buf, true, false},
		{"size 128", 1, 0x1000, 128, buf, false, true},
		{"size above UINT_MAX>>2", 1, 0x1000, MaxSize + 1, buf, true, false},
		{"unknown level bit", 8, 0x1000, 256, buf, true, false},
		{"size only", 0, 0, 256, nil, true, false},
	} {
		l, err := New(tc.level, tc.ubuf, tc.size, tc.sink)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, linux.EINVAL) {
				t.Errorf("%s: err %v, want EINVAL", tc.name, err)
			}
			continue
		}
		if l.Enabled() != tc.wantEnabled {
			t.Errorf("%s: Enabled %v", tc.name, l.Enabled())
		}
	}
}

func TestFillAndTruncate(t *testing.T) {
	buf := make(Buffer, 128)
	for i := range buf {
		buf[i] = 0xff
	}
	l, err := New(1, 1, 128, buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Printf("[%d] %s\n", 1, "INT int")
	if got := buf.String(); got != "[1] INT int\n" || l.Len() != 12 {
		t.Fatalf("log %q len %d", got, l.Len())
	}
	for i := 0; i < 20; i++ {
		l.Write("0123456789")
	}
	if !l.Full() || l.Enabled() || l.Len() != 127 || buf[127] != 0 {
		t.Fatalf("full %v enabled %v len %d last %#x", l.Full(), l.Enabled(), l.Len(), buf[127])
	}
	want := "[1] INT int\n" + strings.Repeat("0123456789", 12)[:115]
	if buf.String() != want {
		t.Errorf("log %q, want %q", buf.String(), want)
	}
}

func TestLineCutAt1023(t *testing.T) {
	buf := make(Buffer, 4096)
	l, _ := New(2, 1, 4096, buf)
	l.Write(strings.Repeat("x", 3000))
	if l.Len() != lineMax-1 {
		t.Errorf("len %d, want %d", l.Len(), lineMax-1)
	}
}

type faultySink struct{ writes int }

func (f *faultySink) WriteAt(p []byte, off int64) (int, error) {
	f.writes++
	return 0, linux.EFAULT
}

func TestFaultStopsLog(t *testing.T) {
	s := &faultySink{}
	l, _ := New(1, 1, 256, s)
	l.Write("a")
	l.Write("b")
	if !l.Faulted() || l.Enabled() || s.writes != 1 || l.Len() != 0 {
		t.Errorf("faulted %v enabled %v writes %d len %d", l.Faulted(), l.Enabled(), s.writes, l.Len())
	}
}

func TestDisabledLogIsSafe(t *testing.T) {
	var l Log
	l.Printf("%d", 1)
	if l.Enabled() || l.Full() || l.Len() != 0 {
		t.Error("zero Log wrote")
	}
	var nl *Log
	nl.Printf("%d", 1)
	nl.Write("x")
	if nl.Enabled() || nl.Full() || nl.Faulted() || nl.Len() != 0 || nl.Level() != 0 {
		t.Error("nil Log is not disabled")
	}
}

func TestReset(t *testing.T) {
	buf := make(Buffer, 256)
	l, err := New(Level1, 0x1000, 256, buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Write("kept ")
	pos := l.Len()
	l.Write("dropped")
	l.Reset(pos)
	l.Write("again")
	if got := buf.String(); got != "kept again" {
		t.Errorf("after Reset: %q", got)
	}
	l.Reset(l.Len() + 1) // past the end: ignored
	if got := buf.String(); got != "kept again" {
		t.Errorf("Reset past the end changed the log: %q", got)
	}
	full, _ := New(Level1, 0x1000, 128, make(Buffer, 128))
	full.Write(strings.Repeat("x", 200))
	full.Reset(0)
	if !full.Full() {
		t.Error("Reset of a full log must do nothing, as in Linux 6.1")
	}
}
