package syscall

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"hachi/syscall/linux"
)

func TestSliceSpaceCopies(t *testing.T) {
	as := NewSliceSpace()
	a := []byte("0123456789")
	b := []byte("abcdef")
	if err := as.Map(0x1000, a, false); err != nil {
		t.Fatal(err)
	}
	if err := as.Map(0x1000+uint64(len(a)), b, true); err != nil { // contiguous, read-only
		t.Fatal(err)
	}
	cases := []struct {
		name string
		addr uint64
		n    int
		out  bool
		want string
		err  error
	}{
		{"inside", 0x1002, 3, false, "234", nil},
		{"across contiguous mappings", 0x1008, 4, false, "89ab", nil},
		{"to the last byte", 0x1000 + 15, 1, false, "f", nil},
		{"past the end", 0x1000 + 15, 2, false, "", linux.EFAULT},
		{"before the start", 0xfff, 2, false, "", linux.EFAULT},
		{"NULL", 0, 1, false, "", linux.EFAULT},
		{"wraps around", ^uint64(0), 2, false, "", linux.EFAULT},
		{"zero bytes anywhere", 0, 0, false, "", nil},
		{"write", 0x1000, 2, true, "", nil},
		{"write into read-only", 0x1009, 2, true, "", linux.EFAULT},
	}
	for _, c := range cases {
		buf := make([]byte, c.n)
		var err error
		if c.out {
			err = as.CopyOut(c.addr, []byte("ZZZZZZZZ")[:c.n])
		} else {
			err = as.CopyIn(c.addr, buf)
		}
		if !errors.Is(err, c.err) || err == nil && c.err != nil {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err == nil && !c.out && string(buf) != c.want {
			t.Errorf("%s: read %q, want %q", c.name, buf, c.want)
		}
	}
	if string(a[:2]) != "ZZ" {
		t.Errorf("CopyOut did not reach the mapped slice: %q", a)
	}
	if err := as.Map(0x1005, []byte{1}, false); err == nil {
		t.Errorf("overlapping Map accepted")
	}
	if err := as.Unmap(0x1000); err != nil || as.CopyIn(0x1000, make([]byte, 1)) == nil {
		t.Errorf("Unmap: %v, memory still readable", err)
	}
}

func TestPlace(t *testing.T) {
	as := NewSliceSpace()
	x := as.Place([]byte("abc"))
	y := as.Place(nil)
	if x%PageSize != 0 || y == x || y == 0 {
		t.Fatalf("Place gave %#x and %#x", x, y)
	}
	if err := as.CopyIn(x+3, make([]byte, 1)); err == nil {
		t.Errorf("byte after a placed buffer is mapped")
	}
	e := as.PlaceEnd([]byte("xyz"))
	if (e+3)%PageSize != 0 {
		t.Errorf("PlaceEnd: %#x+3 does not end a page", e)
	}
}

func TestCopyInString(t *testing.T) {
	as := NewSliceSpace()
	hello := as.Place([]byte("hello\x00junk"))
	noNUL := as.PlaceEnd([]byte("abcdef")) // unmapped memory right after
	nulAtEnd := as.PlaceEnd([]byte("abc\x00"))
	long := as.Place([]byte(strings.Repeat("x", 2*PageSize) + "\x00"))
	cases := []struct {
		name string
		addr uint64
		max  int
		want string
		err  error
	}{
		{"terminated", hello, 64, "hello", nil},
		{"cut at max", hello, 3, "hel", linux.ENAMETOOLONG},
		{"NUL is the max+1st byte", hello, 5, "hello", linux.ENAMETOOLONG},
		{"runs into unmapped memory", noNUL, 64, "", linux.EFAULT},
		{"stops before unmapped memory", noNUL, 6, "abcdef", linux.ENAMETOOLONG},
		{"NUL is the last mapped byte", nulAtEnd, 64, "abc", nil},
		{"crosses pages", long, 3 * PageSize, strings.Repeat("x", 2*PageSize), nil},
		{"NULL", 0, 16, "", linux.EFAULT},
	}
	for _, c := range cases {
		got, err := CopyInString(as, c.addr, c.max)
		if err != c.err || got != c.want {
			t.Errorf("%s: got %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestCheckZeroed(t *testing.T) {
	as := NewSliceSpace()
	z := make([]byte, 3*PageSize)
	addr := as.Place(z)
	if ok, err := CheckZeroed(as, addr+1, uint64(len(z)-1)); !ok || err != nil {
		t.Errorf("zeroes: %v %v", ok, err)
	}
	z[2*PageSize+7] = 1
	if ok, err := CheckZeroed(as, addr, uint64(len(z))); ok || err != nil {
		t.Errorf("non-zero byte: %v %v", ok, err)
	}
	z[2*PageSize+7] = 0
	if _, err := CheckZeroed(as, addr, uint64(len(z)+1)); err != linux.EFAULT {
		t.Errorf("past the end: %v", err)
	}
	if ok, err := CheckZeroed(as, 0, 0); !ok || err != nil {
		t.Errorf("empty range: %v %v", ok, err)
	}
}

type countingObject struct{ released *int }

func (o countingObject) Release() { *o.released++ }

func TestFDTable(t *testing.T) {
	released := 0
	newFile := func() *File { return NewFile(countingObject{&released}, O_RDWR) }
	tab := NewFDTable(4)
	var fds []int
	for i := 0; i < 4; i++ {
		fd, err := tab.Install(newFile(), i%2 == 0)
		if err != nil || fd != i {
			t.Fatalf("Install %d: fd %d, %v", i, fd, err)
		}
		fds = append(fds, fd)
	}
	extra := newFile()
	if _, err := tab.Install(extra, false); err != linux.EMFILE {
		t.Fatalf("Install past the limit: %v", err)
	}
	extra.DecRef()
	if released != 1 {
		t.Fatalf("refused file not released by its owner: %d", released)
	}
	if err := tab.Close(1); err != nil || released != 2 {
		t.Fatalf("Close: %v, released %d", err, released)
	}
	if err := tab.Close(1); err != linux.EBADF {
		t.Errorf("second Close: %v", err)
	}
	for _, fd := range []int{-1, 4, 100} {
		if _, err := tab.Get(fd); err != linux.EBADF {
			t.Errorf("Get(%d): %v", fd, err)
		}
	}
	d, err := tab.Dup(0) // takes the lowest free: 1
	if err != nil || d != 1 {
		t.Fatalf("Dup: %d, %v", d, err)
	}
	if ce, _ := tab.CloseOnExec(1); ce {
		t.Errorf("dup kept close-on-exec")
	}
	if ce, _ := tab.CloseOnExec(0); !ce {
		t.Errorf("close-on-exec lost")
	}
	f, _ := tab.Get(0)
	if err := tab.Close(0); err != nil {
		t.Fatal(err)
	}
	if err := tab.Close(1); err != nil || released != 2 {
		t.Fatalf("file released while Get's reference is held: %d", released)
	}
	f.DecRef()
	if released != 3 {
		t.Fatalf("last DecRef did not release: %d", released)
	}
	child := tab.Fork()
	tab.Exec() // closes fd 2 (close-on-exec) in the parent only
	if tab.Len() != 1 || child.Len() != 2 || released != 3 {
		t.Fatalf("after fork+exec: parent %d child %d released %d", tab.Len(), child.Len(), released)
	}
	child.CloseAll()
	if released != 4 {
		t.Fatalf("fd 2 closed in both tables: released %d", released)
	}
	tab.CloseAll()
	if released != 5 || tab.Len() != 0 {
		t.Fatalf("CloseAll: released %d, %d open", released, tab.Len())
	}
}

func TestFileModes(t *testing.T) {
	for _, c := range []struct {
		flags    uint32
		r, w     bool
		describe string
	}{
		{O_RDONLY, true, false, "O_RDONLY"},
		{O_WRONLY, false, true, "O_WRONLY"},
		{O_RDWR | O_CLOEXEC, true, true, "O_RDWR|O_CLOEXEC"},
	} {
		f := NewFile(countingObject{new(int)}, c.flags)
		if f.Readable() != c.r || f.Writable() != c.w {
			t.Errorf("%s: readable %v writable %v", c.describe, f.Readable(), f.Writable())
		}
	}
	if !bytes.Equal([]byte{}, []byte{}) || !AllCaps.Has(CAP_BPF) || CapSet(0).Has(CAP_SYS_ADMIN) {
		t.Errorf("capability sets")
	}
}
