package sys

import (
	"unsafe"

	"hachi/syscall/linux"
)

// objGetInfoByFD is BPF_OBJ_GET_INFO_BY_FD (bpf_obj_get_info_by_fd): a
// closed descriptor is EBADFD (not EBADF) as in Linux, one of another kind
// EINVAL.
func (c *call) objGetInfoByFD() (int, error) {
	a := c.attr.info()
	f, err := getFile(c.t, a.BPFFD)
	if err != nil {
		return -1, linux.EBADFD
	}
	defer f.DecRef()
	switch o := f.Object().(type) {
	case *Prog:
		return c.progInfo(o, a.Info, a.InfoLen)
	case *Map:
		return c.mapInfo(o, a.Info, a.InfoLen)
	case *BTF:
		if _, err := c.infoLen(a.Info, a.InfoLen, unsafe.Sizeof(linux.BPFBTFInfo{})); err != nil {
			return -1, err
		}
		return c.btfInfo(o, a.Info, a.InfoLen)
	case *Link:
		return c.linkInfo(o, a.Info, a.InfoLen)
	}
	return -1, linux.EINVAL
}

// infoLen is the info_len rule (bpf_check_uarg_tail_zero, then min): a
// user struct larger than the kernel's must have a zero tail; the bytes
// exchanged are min(info_len, sizeof).
func (c *call) infoLen(uinfo uint64, infoLen uint32, size uintptr) (uint32, error) {
	if err := checkUargTailZero(c.t.Mem, uinfo, uint64(size), uint64(infoLen)); err != nil {
		return 0, err
	}
	return min(infoLen, uint32(size)), nil
}

// finishInfo copies the first n bytes of the info struct at info to the
// user and reports n in info.info_len.
func (c *call) finishInfo(uinfo uint64, info unsafe.Pointer, n uint32) error {
	if err := c.t.Mem.CopyOut(uinfo, unsafe.Slice((*byte)(info), n)); err != nil {
		return linux.EFAULT
	}
	if err := c.putU32(unsafe.Offsetof(linux.BPFAttrInfo{}.InfoLen), n); err != nil {
		return linux.EFAULT
	}
	return nil
}
