package fscheck_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errno returns the errno inside err, or 0.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if got := errno(err); got != want {
		t.Errorf("%s: error %v (errno %d), want %v (errno %d)", what, err, got, want, want)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadWriteSeek(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if n, err := syscall.Write(fd, []byte("hello, world")); n != 12 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if off, err := syscall.Seek(fd, 0, io.SeekCurrent); off != 12 || err != nil {
		t.Errorf("Seek(0, current) = %d, %v", off, err)
	}
	if off, err := syscall.Seek(fd, -5, io.SeekEnd); off != 7 || err != nil {
		t.Errorf("Seek(-5, end) = %d, %v", off, err)
	}
	buf := make([]byte, 16)
	if n, err := syscall.Read(fd, buf); string(buf[:n]) != "world" || err != nil {
		t.Errorf("Read = %q, %v", buf[:n], err)
	}
	if n, err := syscall.Read(fd, buf); n != 0 || err != nil {
		t.Errorf("Read at the end = %d, %v", n, err)
	}
	if n, err := syscall.Pwrite(fd, []byte("HELLO"), 0); n != 5 || err != nil {
		t.Errorf("Pwrite = %d, %v", n, err)
	}
	if n, err := syscall.Pread(fd, buf[:8], 2); string(buf[:n]) != "LLO, wor" || err != nil {
		t.Errorf("Pread = %q, %v", buf[:n], err)
	}
	// A write past the end leaves a hole of zeros.
	if _, err := syscall.Pwrite(fd, []byte("!"), 14); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); got != "HELLO, world\x00\x00!" {
		t.Errorf("content %q", got)
	}
	_, err = syscall.Seek(fd, -1, io.SeekStart)
	wantErrno(t, "Seek to -1", err, syscall.EINVAL)
	_, err = syscall.Pread(fd, buf, -1)
	wantErrno(t, "Pread at -1", err, syscall.EINVAL)
	_, err = syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o600)
	wantErrno(t, "O_EXCL on an existing file", err, syscall.EEXIST)
}

func TestOpenFlags(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	writeFile(t, name, "0123456789")

	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("ab"))
	f.Seek(0, io.SeekStart)
	f.Write([]byte("cd")) // O_APPEND: still at the end
	f.Close()
	if got := readFile(t, name); got != "0123456789abcd" {
		t.Errorf("after appends: %q", got)
	}

	f, err = os.OpenFile(name, os.O_RDWR|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := f.Stat(); fi.Size() != 0 {
		t.Errorf("size after O_TRUNC: %d", fi.Size())
	}
	f.Close()

	ro, err := syscall.Open(name, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = syscall.Write(ro, []byte("x"))
	wantErrno(t, "Write to an O_RDONLY descriptor", err, syscall.EBADF)
	wantErrno(t, "Ftruncate of an O_RDONLY descriptor", syscall.Ftruncate(ro, 0), syscall.EINVAL)
	syscall.Close(ro)
	wo, err := syscall.Open(name, syscall.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = syscall.Read(wo, make([]byte, 1))
	wantErrno(t, "Read from an O_WRONLY descriptor", err, syscall.EBADF)
	syscall.Close(wo)
	_, err = syscall.Read(wo, make([]byte, 1))
	wantErrno(t, "Read from a closed descriptor", err, syscall.EBADF)
	wantErrno(t, "Close twice", syscall.Close(wo), syscall.EBADF)

	for _, tt := range []struct {
		path  string
		flags int
		want  syscall.Errno
	}{
		{"", syscall.O_RDONLY, syscall.ENOENT},
		{filepath.Join(dir, "missing"), syscall.O_RDONLY, syscall.ENOENT},
		{filepath.Join(dir, "missing", "f"), syscall.O_RDWR | syscall.O_CREAT, syscall.ENOENT},
		{filepath.Join(name, "f"), syscall.O_RDONLY, syscall.ENOTDIR},
		{name + "/", syscall.O_RDONLY, syscall.ENOTDIR},
		{filepath.Join(dir, "new") + "/", syscall.O_RDWR | syscall.O_CREAT, syscall.EISDIR},
		{name, syscall.O_RDONLY | syscall.O_DIRECTORY, syscall.ENOTDIR},
		{dir, syscall.O_WRONLY, syscall.EISDIR},
		{dir, syscall.O_RDWR | syscall.O_CREAT, syscall.EISDIR},
		{filepath.Join(dir, strings.Repeat("n", 256)), syscall.O_RDONLY, syscall.ENAMETOOLONG},
	} {
		fd, err := syscall.Open(tt.path, tt.flags, 0o644)
		if err == nil {
			syscall.Close(fd)
		}
		wantErrno(t, "Open("+tt.path+")", err, tt.want)
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	writeFile(t, name, "12345")
	if err := os.Chmod(name, 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 5 || fi.Mode() != 0o640 || fi.Name() != "f" || fi.IsDir() {
		t.Errorf("Stat: size %d mode %v name %q", fi.Size(), fi.Mode(), fi.Name())
	}
	st := fi.Sys().(*syscall.Stat_t)
	if uint64(st.Nlink) != 1 || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		t.Errorf("Stat_t: nlink %d mode %o", st.Nlink, st.Mode)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ffi, err := f.Stat()
	if err != nil || !os.SameFile(fi, ffi) {
		t.Errorf("Fstat is not the same file as Stat: %v", err)
	}
	di, err := os.Stat(dir)
	if err != nil || !di.IsDir() {
		t.Errorf("Stat of t.TempDir: %v, %v", di.Mode(), err)
	}
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	if err := os.Chtimes(name, time.Time{}, mtime); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); !fi.ModTime().Equal(mtime) {
		t.Errorf("mtime %v after Chtimes, want %v", fi.ModTime(), mtime)
	}
	before := time.Now().Add(-time.Second)
	writeFile(t, name, "again")
	if fi, _ := os.Stat(name); fi.ModTime().Before(before) {
		t.Errorf("mtime %v after a write at %v", fi.ModTime(), before)
	}
}

func TestDirectories(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"z", "m", "b2"} {
		writeFile(t, filepath.Join(dir, "a", n), n)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if e.IsDir() != (e.Name() == "b") {
			t.Errorf("%s: IsDir %v", e.Name(), e.IsDir())
		}
	}
	if want := []string{"b", "b2", "m", "z"}; !slices.Equal(names, want) {
		t.Errorf("ReadDir: %q, want %q", names, want)
	}

	// Listing in small batches sees every name once.
	d, err := os.Open(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var batched []string
	for {
		part, err := d.Readdirnames(1)
		batched = append(batched, part...)
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	slices.Sort(batched)
	if !slices.Equal(batched, names) {
		t.Errorf("Readdirnames(1) batches: %q", batched)
	}

	wantErrno(t, "Mkdir of an existing directory", syscall.Mkdir(sub, 0o755), syscall.EEXIST)
	wantErrno(t, "Mkdir of an existing file", syscall.Mkdir(filepath.Join(dir, "a", "z"), 0o755), syscall.EEXIST)
	wantErrno(t, "Mkdir below a missing directory", syscall.Mkdir(filepath.Join(dir, "x", "y"), 0o755), syscall.ENOENT)
	wantErrno(t, "Rmdir of a non-empty directory", syscall.Rmdir(filepath.Join(dir, "a")), syscall.ENOTEMPTY)
	wantErrno(t, "Rmdir of a file", syscall.Rmdir(filepath.Join(dir, "a", "z")), syscall.ENOTDIR)
	wantErrno(t, "Rmdir of .", syscall.Rmdir(sub+"/."), syscall.EINVAL)
	wantErrno(t, "Unlink of a directory", syscall.Unlink(sub), syscall.EISDIR)
	wantErrno(t, "Unlink of a missing file", syscall.Unlink(filepath.Join(dir, "nothing")), syscall.ENOENT)
	if err := syscall.Mkdir(filepath.Join(dir, "trailing")+"/", 0o755); err != nil {
		t.Errorf("Mkdir with a trailing slash: %v", err)
	}

	// Paths with ., .. and repeated slashes.
	if got := readFile(t, sub+"/../..//./m"); got != "m" {
		t.Errorf("through ..: %q", got)
	}
	var walked []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		walked = append(walked, rel)
		return nil
	})
	if want := []string{".", "a", "a/b", "a/b/c", "a/b2", "a/m", "a/z", "trailing"}; err != nil || !slices.Equal(walked, want) {
		t.Errorf("WalkDir: %q, %v; want %q", walked, err, want)
	}
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("f1"), "one")
	writeFile(t, p("f2"), "two")
	for _, d := range []string{"d1", "d2", "full", "full/x"} {
		if err := os.Mkdir(p(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, p("d1/inside"), "in")

	if err := os.Rename(p("f1"), p("f2")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p("f2")); got != "one" {
		t.Errorf("f2 after replacing it: %q", got)
	}
	if _, err := os.Stat(p("f1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("f1 still there: %v", err)
	}
	if err := syscall.Rename(p("d1"), p("d2")); err != nil { // onto an empty directory (os.Rename refuses)
		t.Fatal(err)
	}
	if got := readFile(t, p("d2/inside")); got != "in" {
		t.Errorf("d2/inside: %q", got)
	}
	if err := os.Rename(p("f2"), p("f2")); err != nil {
		t.Errorf("rename onto itself: %v", err)
	}
	wantErrno(t, "rename onto a non-empty directory", syscall.Rename(p("d2"), p("full")), syscall.ENOTEMPTY)
	wantErrno(t, "rename a file onto a directory", syscall.Rename(p("f2"), p("full")), syscall.EISDIR)
	wantErrno(t, "rename a directory onto a file", syscall.Rename(p("d2"), p("f2")), syscall.ENOTDIR)
	wantErrno(t, "rename a directory below itself", syscall.Rename(p("full"), p("full/x/y")), syscall.EINVAL)
	wantErrno(t, "rename a missing file", syscall.Rename(p("none"), p("other")), syscall.ENOENT)
	wantErrno(t, "rename into a missing directory", syscall.Rename(p("f2"), p("none/f")), syscall.ENOENT)

	// A moved directory keeps working as a working directory.
	t.Chdir(p("full/x"))
	if err := os.Rename(p("full"), p("moved")); err != nil {
		t.Fatal(err)
	}
	wd, err := syscall.Getwd()
	if want, _ := filepath.EvalSymlinks(p("moved/x")); err != nil || wd != want {
		t.Errorf("Getwd after moving it: %q, %v; want %q", wd, err, want)
	}
}

func TestWorkingDirectory(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "a"))
	writeFile(t, "rel", "relative")
	if got := readFile(t, filepath.Join(dir, "a", "rel")); got != "relative" {
		t.Errorf("relative write: %q", got)
	}
	if err := os.Chdir("b/.."); err != nil {
		t.Fatal(err)
	}
	if wd, err := os.Getwd(); err != nil || wd != filepath.Join(dir, "a") {
		t.Errorf("Getwd = %q, %v", wd, err)
	}
	wantErrno(t, "Chdir to a file", syscall.Chdir("rel"), syscall.ENOTDIR)
	wantErrno(t, "Chdir to a missing directory", syscall.Chdir("none"), syscall.ENOENT)

	d, err := os.Open(filepath.Join(dir, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Chdir(); err != nil {
		t.Fatal(err)
	}
	if wd, err := syscall.Getwd(); err != nil || wd != filepath.Join(dir, "a", "b") {
		t.Errorf("Getwd after Fchdir = %q, %v", wd, err)
	}
	// The working directory removed: its path is gone.
	if err := os.Remove(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	_, err = syscall.Getwd()
	wantErrno(t, "Getwd in a removed directory", err, syscall.ENOENT)
	if _, err := os.Stat("../rel"); err != nil {
		t.Errorf("lookup of .. in a removed directory: %v", err)
	}
	wantErrno(t, "creating a file in a removed directory", os.WriteFile("new", nil, 0o644), syscall.ENOENT)
	wantErrno(t, "Mkdir in a removed directory", syscall.Mkdir("new", 0o755), syscall.ENOENT)
}

func TestTruncate(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	writeFile(t, name, "abcdef")
	if err := os.Truncate(name, 3); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); got != "abc" {
		t.Errorf("after shrinking: %q", got)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(6); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); got != "abc\x00\x00\x00" {
		t.Errorf("after growing: %q", got)
	}
	wantErrno(t, "Truncate to -1", syscall.Truncate(name, -1), syscall.EINVAL)
	wantErrno(t, "Truncate of a directory", syscall.Truncate(filepath.Dir(name), 0), syscall.EISDIR)
}

func TestLinks(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("f"), "data")
	if err := os.Mkdir(p("d"), 0o755); err != nil {
		t.Fatal(err)
	}

	if err := os.Link(p("f"), p("hard")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p("f"))
	hi, _ := os.Stat(p("hard"))
	if !os.SameFile(fi, hi) || uint64(fi.Sys().(*syscall.Stat_t).Nlink) != 2 {
		t.Errorf("hard link: same file %v, nlink %d", os.SameFile(fi, hi), fi.Sys().(*syscall.Stat_t).Nlink)
	}
	wantErrno(t, "Link of a directory", syscall.Link(p("d"), p("dlink")), syscall.EPERM)
	wantErrno(t, "Link onto an existing name", syscall.Link(p("f"), p("hard")), syscall.EEXIST)

	for _, l := range []struct{ target, name string }{
		{"f", "rel"}, {p("f"), "abs"}, {"d", "dirlink"}, {"nothing", "dangling"},
		{"loop1", "loop2"}, {"loop2", "loop1"}, {"../" + filepath.Base(dir) + "/d/../f", "dotdot"},
	} {
		if err := os.Symlink(l.target, p(l.name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"rel", "abs", "dotdot"} {
		if got := readFile(t, p(name)); got != "data" {
			t.Errorf("through %s: %q", name, got)
		}
	}
	if target, err := os.Readlink(p("rel")); err != nil || target != "f" {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	li, err := os.Lstat(p("rel"))
	if err != nil || li.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of a link: %v, %v", li.Mode(), err)
	}
	writeFile(t, p("dirlink/inside"), "x") // through a link to a directory
	if got := readFile(t, p("d/inside")); got != "x" {
		t.Errorf("d/inside: %q", got)
	}
	_, err = os.Stat(p("dangling"))
	wantErrno(t, "Stat of a dangling link", err, syscall.ENOENT)
	_, err = os.Stat(p("loop1"))
	wantErrno(t, "Stat of a loop", err, syscall.ELOOP)
	_, err = os.Readlink(p("f"))
	wantErrno(t, "Readlink of a file", err, syscall.EINVAL)
	wantErrno(t, "Symlink onto an existing name", syscall.Symlink("x", p("rel")), syscall.EEXIST)
	if err := os.Remove(p("rel")); err != nil { // removes the link, not the file
		t.Fatal(err)
	}
	if got := readFile(t, p("f")); got != "data" {
		t.Errorf("f after removing a link to it: %q", got)
	}
}

func TestUnlinkedFileStaysOpen(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	writeFile(t, name, "still here")
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("STILL"), 0); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "STILL here" {
		t.Errorf("read after unlink: %q, %v", b, err)
	}
	if fi, err := f.Stat(); err != nil || uint64(fi.Sys().(*syscall.Stat_t).Nlink) != 0 {
		t.Errorf("Fstat after unlink: %v", err)
	}
}

func TestDupSharesOffset(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	writeFile(t, name, "abcdef")
	fd, err := syscall.Open(name, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	fd2, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	syscall.Read(fd, buf)
	syscall.Close(fd)
	if n, err := syscall.Read(fd2, buf); string(buf[:n]) != "def" || err != nil {
		t.Errorf("read through the duplicate: %q, %v", buf[:n], err)
	}
	syscall.Close(fd2)
}

func TestDevNull(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.Write(bytes.Repeat([]byte("x"), 100)); n != 100 || err != nil {
		t.Errorf("write to %s: %d, %v", os.DevNull, n, err)
	}
	if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("read from %s: %d, %v", os.DevNull, n, err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("%s: mode %v, %v", os.DevNull, fi.Mode(), err)
	}
}

// TestLargeFile writes a few MiB in pieces and reads them back.
func TestLargeFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for i := range 64 {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	b, err := os.ReadFile(name)
	if err != nil || len(b) != 64*len(chunk) {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	for i := 0; i < len(b); i += 4099 {
		if want := byte(i/len(chunk) + i%len(chunk)); b[i] != want {
			t.Fatalf("byte %d is %d, want %d", i, b[i], want)
		}
	}
}
