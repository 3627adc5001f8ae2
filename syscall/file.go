package syscall

import (
	"sync"
	"sync/atomic"

	"hachi/syscall/linux"
)

// Access modes and descriptor flags of open(2) and of the descriptors bpf(2)
// returns (<asm-generic/fcntl.h>, the same on x86_64 and riscv64).
const (
	O_RDONLY  = 0x0
	O_WRONLY  = 0x1
	O_RDWR    = 0x2
	O_ACCMODE = 0x3
	O_CLOEXEC = 0x80000
)

// DefaultFDLimit is RLIMIT_NOFILE's default soft limit on Linux (1024):
// installing a descriptor at or past a table's limit fails with EMFILE.
const DefaultFDLimit = 1024

// FileObject is what an open file refers to: a BPF map, program, link or
// BTF object, a perf event... (Linux's file->private_data with its
// file_operations). Release runs once, when the last reference to the File
// goes away (file_operations.release): the object drops what the file held.
type FileObject interface {
	Release()
}

// File is an open file description (struct file): a FileObject, the access
// mode it was opened with, and a reference count. Descriptors (in any number
// of FDTables, hence processes) and kernel users (a pinned path, a running
// command) each hold a reference.
type File struct {
	refs   atomic.Int64
	object FileObject
	flags  uint32
}

// NewFile makes a File holding one reference; flags carries the access mode
// (O_RDONLY, O_WRONLY, O_RDWR).
func NewFile(object FileObject, flags uint32) *File {
	f := &File{object: object, flags: flags}
	f.refs.Store(1)
	return f
}

// Object is what the file refers to.
func (f *File) Object() FileObject { return f.object }

// Flags are the file's status flags (its access mode).
func (f *File) Flags() uint32 { return f.flags }

// Readable reports FMODE_CAN_READ: the file was not opened write-only.
func (f *File) Readable() bool { return f.flags&O_ACCMODE != O_WRONLY }

// Writable reports FMODE_CAN_WRITE: the file was not opened read-only.
func (f *File) Writable() bool { return f.flags&O_ACCMODE != O_RDONLY }

// IncRef takes a reference (get_file).
func (f *File) IncRef() { f.refs.Add(1) }

// DecRef drops a reference (fput); the last one releases the object.
func (f *File) DecRef() {
	switch n := f.refs.Add(-1); {
	case n == 0:
		f.object.Release()
	case n < 0:
		panic("syscall: File reference count below zero")
	}
}

// FDTable is a process's file descriptor table (struct files_struct):
// descriptors are the lowest free numbers, each with its close-on-exec
// flag. Tables are safe for concurrent use by the threads of a process.
type FDTable struct {
	mu    sync.Mutex
	fds   []fdEntry
	limit int
	used  int
}

type fdEntry struct {
	file    *File
	cloexec bool
}

// NewFDTable makes an empty table whose descriptors stay below limit
// (RLIMIT_NOFILE; DefaultFDLimit if limit <= 0).
func NewFDTable(limit int) *FDTable {
	if limit <= 0 {
		limit = DefaultFDLimit
	}
	return &FDTable{limit: limit}
}

// Install gives f the lowest free descriptor (get_unused_fd_flags, then
// fd_install) and returns it. On success the table owns the caller's
// reference to f; on failure (EMFILE) the caller keeps it.
func (t *FDTable) Install(f *File, cloexec bool) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd := t.lowestFree()
	if fd >= t.limit {
		return -1, linux.EMFILE
	}
	if fd == len(t.fds) {
		t.fds = append(t.fds, fdEntry{})
	}
	t.fds[fd] = fdEntry{file: f, cloexec: cloexec}
	t.used++
	return fd, nil
}

func (t *FDTable) lowestFree() int {
	for i, e := range t.fds {
		if e.file == nil {
			return i
		}
	}
	return len(t.fds)
}

// Get returns the file of fd with a new reference the caller must drop
// (fget); EBADF if fd is not open.
func (t *FDTable) Get(fd int) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return nil, linux.EBADF
	}
	f := t.fds[fd].file
	f.IncRef()
	return f, nil
}

// Close closes fd (close(2)): EBADF if it is not open.
func (t *FDTable) Close(fd int) error {
	t.mu.Lock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		t.mu.Unlock()
		return linux.EBADF
	}
	f := t.fds[fd].file
	t.fds[fd] = fdEntry{}
	t.used--
	t.mu.Unlock()
	f.DecRef()
	return nil
}

// Dup gives fd's file a second descriptor, the lowest free one, with
// close-on-exec clear (dup(2)).
func (t *FDTable) Dup(fd int) (int, error) {
	f, err := t.Get(fd)
	if err != nil {
		return -1, err
	}
	nfd, err := t.Install(f, false)
	if err != nil {
		f.DecRef()
	}
	return nfd, err
}

// CloseOnExec reports fd's close-on-exec flag (FD_CLOEXEC of F_GETFD).
func (t *FDTable) CloseOnExec(fd int) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return false, linux.EBADF
	}
	return t.fds[fd].cloexec, nil
}

// Fork returns a copy of the table sharing every open file, as fork(2)
// copies a process's descriptors.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &FDTable{fds: append([]fdEntry(nil), t.fds...), limit: t.limit, used: t.used}
	for _, e := range c.fds {
		if e.file != nil {
			e.file.IncRef()
		}
	}
	return c
}

// Exec closes the descriptors marked close-on-exec, as execve(2) does.
func (t *FDTable) Exec() {
	t.closeMatching(func(e fdEntry) bool { return e.cloexec })
}

// CloseAll closes every descriptor, as a process's exit does.
func (t *FDTable) CloseAll() {
	t.closeMatching(func(fdEntry) bool { return true })
}

func (t *FDTable) closeMatching(match func(fdEntry) bool) {
	t.mu.Lock()
	var closed []*File
	for i, e := range t.fds {
		if e.file != nil && match(e) {
			closed = append(closed, e.file)
			t.fds[i] = fdEntry{}
			t.used--
		}
	}
	t.mu.Unlock()
	for _, f := range closed {
		f.DecRef()
	}
}

// Len is the number of open descriptors.
func (t *FDTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.used
}
