package kernel

import (
	"sync"

	"hachi/bpf/sys"
	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// The file system calls of kernel tasks, over the descriptor table every
// object lives in: the kernel's virtual files, BPF objects (bpf/sys) and
// perf events (perf).

// reader is an open file read sequentially (file_operations.read).
type reader interface {
	read(dst []byte) (int, error)
}

// preader is an open file read at an offset (pread64).
type preader interface {
	pread(dst []byte, off int64) (int, error)
}

// maxIO bounds one read: larger requests return what fits, as a read may
// (Linux caps them at MAX_RW_COUNT).
const maxIO = 1 << 16

// getFile is fdget: the file of fd with a reference the caller drops.
func getFile(t *Task, fd uint64) (*syscall.File, error) {
	return t.sys.Files.Get(int(int32(fd)))
}

// sysRead is read(fd, buf, count).
func sysRead(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	return readCommon(t, a[0], a[1], a[2], func(f *syscall.File, b []byte) (int, error) {
		switch o := f.Object().(type) {
		case *perf.Event:
			return o.Read(b)
		case reader:
			return o.read(b)
		case dirFile:
			return 0, linux.EISDIR
		}
		return 0, linux.EINVAL // BPF objects: bpf_dummy_read
	})
}

// sysPread64 is pread64(fd, buf, count, offset).
func sysPread64(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	off := int64(a[3])
	if off < 0 {
		return 0, linux.EINVAL
	}
	return readCommon(t, a[0], a[1], a[2], func(f *syscall.File, b []byte) (int, error) {
		switch o := f.Object().(type) {
		case preader:
			return o.pread(b, off)
		case dirFile:
			return 0, linux.EISDIR
		}
		return 0, linux.ESPIPE
	})
}

// readCommon is ksys_read's frame: the descriptor (EBADF, or EBADF for a
// file opened write-only), then the read into a kernel buffer copied out
// to buf (EFAULT).
func readCommon(t *Task, fd, buf, count uint64, read func(*syscall.File, []byte) (int, error)) (uintptr, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, linux.EBADF
	}
	b := make([]byte, min(count, maxIO))
	n, err := read(f, b)
	if err != nil {
		return 0, err
	}
	if err := t.sys.Mem.CopyOut(buf, b[:n]); err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// sysClose is close(fd).
func sysClose(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	return 0, t.sys.Files.Close(int(int32(a[0])))
}

// sysDup is dup(fd).
func sysDup(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	fd, err := t.sys.Files.Dup(int(int32(a[0])))
	return uintptr(fd), err
}

// sysIoctl is ioctl(fd, cmd, arg): perf events only (perf_ioctl).
func sysIoctl(k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	n, err := k.perf.Ioctl(&t.sys, int32(a[0]), uint32(a[1]), a[2])
	if err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// sysUname is uname(buf): struct new_utsname, six NUL-terminated fields of
// 65 bytes.
func sysUname(k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	var u [6 * utsFieldLen]byte
	for i, s := range []string{"Hachi", "hachi", Version, "#1 SMP", k.board.Machine, "(none)"} {
		copy(u[i*utsFieldLen:(i+1)*utsFieldLen-1], s)
	}
	return 0, t.sys.Mem.CopyOut(a[0], u[:])
}

// mapping is one mmap of a kernel task: the object's memory at its own
// address, and the file it keeps open (a mapping holds its file, as a VMA
// does).
type mapping struct {
	addr, length uint64
	mem          []byte
	file         *syscall.File
	unmap        func()
}

// mappings are a task's mmaps (its mm's VMAs).
type mappings struct {
	mu   sync.Mutex
	list []mapping
}

func pageAlign(n uint64) uint64 { return (n + syscall.PageSize - 1) &^ (syscall.PageSize - 1) }

// sysMmap is mmap(addr, length, prot, flags, fd, offset) for kernel tasks.
// Kernel memory is mapped at its own address, so a mapping is the
// object's memory itself (what Linux's vm_insert_page or
// remap_vmalloc_range would map): the address returned is where the
// object keeps it, and addr is only a hint, ignored. Only shared mappings
// of descriptors are possible (EINVAL otherwise); the object then applies
// its own rules (bpf/sys Map.Mmap, perf Event.Mmap). As in do_mmap, the
// file must be readable and, for a shared writable mapping, writable
// (EACCES); a file that cannot be mapped is ENODEV. Protection is not
// enforced: kernel code can write through a read-only mapping.
func sysMmap(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	length, prot, flags, off := a[1], a[2], a[3], a[5]
	if off%syscall.PageSize != 0 || flags&(MAP_ANONYMOUS|MAP_FIXED) != 0 {
		return 0, linux.EINVAL
	}
	f, err := getFile(t, a[4])
	if err != nil {
		return 0, err
	}
	addr, err := mmapFile(t, f, length, prot, flags, off)
	if err != nil {
		f.DecRef()
	}
	return uintptr(addr), err
}

// mmapFile is do_mmap's checks and the object's mmap; on success the
// mapping keeps the caller's reference to f.
func mmapFile(t *Task, f *syscall.File, length, prot, flags, off uint64) (uint64, error) {
	if length == 0 {
		return 0, linux.EINVAL
	}
	if pageAlign(length) < length {
		return 0, linux.ENOMEM
	}
	length = pageAlign(length)
	shared := false
	switch flags & MAP_TYPE {
	case MAP_SHARED, MAP_SHARED_VALIDATE:
		shared = true
	case MAP_PRIVATE:
	default:
		return 0, linux.EINVAL
	}
	writable := prot&PROT_WRITE != 0
	if !f.Readable() || shared && writable && !f.Writable() {
		return 0, linux.EACCES
	}
	var mem []byte
	var unmap func()
	var err error
	switch o := f.Object().(type) {
	case *perf.Event:
		mem, err = o.Mmap(off/syscall.PageSize, length, shared, writable)
		unmap = o.Munmap
	case sys.Mappable:
		mem, err = o.Mmap(off/syscall.PageSize, length, writable, shared)
		unmap = func() { o.MmapClosed(writable) }
	default:
		err = linux.ENODEV
	}
	if err != nil {
		return 0, err
	}
	m := mapping{addr: addrOf(mem), length: length, mem: mem, file: f, unmap: unmap}
	t.mm.mu.Lock()
	t.mm.list = append(t.mm.list, m)
	t.mm.mu.Unlock()
	return m.addr, nil
}

// sysMunmap is munmap(addr, length): a whole mapping goes (its object is
// told, its file reference dropped). A range no mapping touches is not an
// error, as on Linux; a range that covers part of a mapping is EINVAL
// (kernel mappings cannot be split).
func sysMunmap(_ *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	addr, length := a[0], pageAlign(a[1])
	if addr%syscall.PageSize != 0 || a[1] == 0 || length < a[1] || addr+length < addr {
		return 0, linux.EINVAL
	}
	t.mm.mu.Lock()
	for i, m := range t.mm.list {
		if m.addr == addr && m.length == length {
			t.mm.list = append(t.mm.list[:i], t.mm.list[i+1:]...)
			t.mm.mu.Unlock()
			m.release()
			return 0, nil
		}
	}
	for _, m := range t.mm.list {
		if addr < m.addr+m.length && m.addr < addr+length {
			t.mm.mu.Unlock()
			return 0, linux.EINVAL
		}
	}
	t.mm.mu.Unlock()
	return 0, nil
}

func (m mapping) release() {
	m.unmap()
	m.file.DecRef()
}

// unmapAll removes every mapping (exit_mmap).
func (mm *mappings) unmapAll() {
	mm.mu.Lock()
	list := mm.list
	mm.list = nil
	mm.mu.Unlock()
	for _, m := range list {
		m.release()
	}
}
