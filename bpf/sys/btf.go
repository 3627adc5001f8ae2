package sys

import (
	"sync/atomic"
	"unsafe"

	"hachi/bpf/btf"
	"hachi/bpf/log"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// BTF is a loaded BTF object (Linux's struct btf from BPF_BTF_LOAD): a
// validated blob with an id, referenced by descriptors, maps and programs.
type BTF struct {
	refs atomic.Int64
	id   uint32
	spec *btf.Spec
	sys  *System
}

// Spec is the validated blob.
func (b *BTF) Spec() *btf.Spec { return b.spec }

// ID is the object's id (btf_obj_id).
func (b *BTF) ID() uint32 { return b.id }

// Release implements syscall.FileObject: a descriptor's reference goes.
func (b *BTF) Release() { b.put() }

func (b *BTF) get() { b.refs.Add(1) }

// tryGet is refcount_inc_not_zero: a reference unless the object is dying.
func (b *BTF) tryGet() bool {
	for {
		n := b.refs.Load()
		if n <= 0 {
			return false
		}
		if b.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// put is btf_put: the last reference frees the id.
func (b *BTF) put() {
	if b.refs.Add(-1) == 0 {
		b.sys.btfs.remove(b.id)
	}
}

// userSink writes a log into user memory at base (the log_buf of a
// command).
type userSink struct {
	mem  syscall.AddressSpace
	base uint64
}

func (u userSink) WriteAt(p []byte, off int64) (int, error) {
	if err := u.mem.CopyOut(u.base+uint64(off), p); err != nil {
		return 0, linux.EFAULT
	}
	return len(p), nil
}

// newLog is bpf_verifier_log set-up for a command's log attributes.
func (c *call) newLog(level uint32, buf uint64, size uint32) (*log.Log, error) {
	return log.New(level, buf, size, userSink{c.t.Mem, buf})
}

// btfLoad is BPF_BTF_LOAD (syscall.c:bpf_btf_load, btf.c:btf_parse).
func (c *call) btfLoad() (int, error) {
	a := c.attr.btfLoad()
	if !bpfCapable(c.t) {
		return -1, linux.EPERM
	}
	lg, err := c.newLog(a.BTFLogLevel, a.BTFLogBuf, a.BTFLogSize)
	if err != nil {
		return -1, err
	}
	if a.BTFSize > btf.MaxSize {
		return -1, linux.E2BIG
	}
	data := make([]byte, a.BTFSize)
	if err := c.t.Mem.CopyIn(a.BTF, data); err != nil {
		return -1, linux.EFAULT
	}
	spec, err := btf.Load(data, lg)
	if err != nil {
		return -1, err
	}
	b := &BTF{spec: spec, sys: c.sys}
	b.refs.Store(1)
	if b.id, err = c.sys.btfs.alloc(b); err != nil {
		return -1, err
	}
	return installFD(c.t, syscall.NewFile(b, syscall.O_RDONLY))
}

// btfFromFD is btf_get_by_fd: EBADF for a closed descriptor, EINVAL for
// one that is not BTF. The caller owns the reference it returns.
func (c *call) btfFromFD(fd uint32) (*BTF, error) {
	f, err := getFile(c.t, fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	b, ok := f.Object().(*BTF)
	if !ok {
		return nil, linux.EINVAL
	}
	b.get()
	return b, nil
}

// btfGetFDByID is BPF_BTF_GET_FD_BY_ID.
func (c *call) btfGetFDByID() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	b, ok := c.sys.btfs.find(c.attr.getID().StartID, (*BTF).tryGet)
	if !ok {
		return -1, linux.ENOENT
	}
	return installFD(c.t, syscall.NewFile(b, syscall.O_RDONLY))
}

// btfGetNextID is BPF_BTF_GET_NEXT_ID.
func (c *call) btfGetNextID() (int, error) { return getNextID(c, &c.sys.btfs) }

// getNextID is bpf_obj_get_next_id over one id space.
func getNextID[T any](c *call, r *idr[T]) (int, error) {
	start := c.attr.getID().StartID
	if start >= idMax {
		return -1, linux.EINVAL
	}
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	next, ok := r.nextID(start + 1)
	if !ok {
		return -1, linux.ENOENT
	}
	return 0, c.putU32(unsafe.Offsetof(linux.BPFAttrGetID{}.NextID), next)
}

// btfInfo is btf_get_info_by_fd: struct bpf_btf_info, whose btf and name
// pointers the caller fills in to receive the blob and the name.
func (c *call) btfInfo(b *BTF, uinfo uint64, infoLen uint32) (int, error) {
	var info linux.BPFBTFInfo
	n := min(infoLen, uint32(unsafe.Sizeof(info)))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	if err := c.t.Mem.CopyIn(uinfo, raw[:n]); err != nil {
		return -1, linux.EFAULT
	}
	info.ID = b.id
	data := b.spec.Bytes()
	if err := c.t.Mem.CopyOut(info.BTF, data[:min(uint32(len(data)), info.BTFSize)]); err != nil {
		return -1, linux.EFAULT
	}
	info.BTFSize = uint32(len(data))
	info.KernelBTF = 0
	// A loaded blob's name is empty (only kernel and module BTF have one).
	if (info.Name == 0) != (info.NameLen == 0) {
		return -1, linux.EINVAL
	}
	if info.Name != 0 {
		// The empty name and its NUL fit any non-empty buffer.
		if err := c.t.Mem.CopyOut(info.Name, []byte{0}); err != nil {
			return -1, linux.EFAULT
		}
	}
	info.NameLen = 0
	if err := c.t.Mem.CopyOut(uinfo, raw[:n]); err != nil {
		return -1, linux.EFAULT
	}
	if err := c.putU32(unsafe.Offsetof(linux.BPFAttrInfo{}.InfoLen), n); err != nil {
		return -1, linux.EFAULT
	}
	return 0, nil
}
