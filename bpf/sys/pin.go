package sys

import (
	"hachi/syscall"
	"hachi/syscall/linux"
)

// copyPath is getname: the path string at addr; ENAMETOOLONG from PATH_MAX
// bytes on, ENOENT when empty.
func (c *call) copyPath(addr uint64) (string, error) {
	path, err := syscall.CopyInString(c.t.Mem, addr, pathMax)
	if err == linux.ENAMETOOLONG {
		return "", linux.ENAMETOOLONG
	}
	if err != nil {
		return "", err
	}
	if path == "" {
		return "", linux.ENOENT
	}
	return path, nil
}

// objPin is BPF_OBJ_PIN (bpf_obj_pin_user): the descriptor must be a map,
// program or link (EINVAL otherwise, a closed one included: Linux probes
// each kind in turn and answers EINVAL when none matches).
func (c *call) objPin() (int, error) {
	a := c.attr.objPin()
	if a.FileFlags != 0 {
		return -1, linux.EINVAL
	}
	f, err := getFile(c.t, a.BPFFD)
	if err != nil {
		return -1, linux.EINVAL
	}
	obj, ok := f.Object().(Pinned)
	if !ok {
		f.DecRef()
		return -1, linux.EINVAL
	}
	obj.pinGet()
	f.DecRef()
	path, err := c.copyPath(a.Pathname)
	if err == nil {
		err = c.sys.fs.pin(path, obj)
	}
	if err != nil {
		obj.pinPut()
		return -1, err
	}
	return 0, nil
}

// objGet is BPF_OBJ_GET (bpf_obj_get_user): a new descriptor for a pinned
// object, with the access file_flags asks for (links only O_RDWR).
func (c *call) objGet() (int, error) {
	a := c.attr.objPin()
	if a.BPFFD != 0 || a.FileFlags&^(linux.BPF_F_RDONLY|linux.BPF_F_WRONLY) != 0 {
		return -1, linux.EINVAL
	}
	fflags, err := bpfGetFileFlag(a.FileFlags)
	if err != nil {
		return -1, err
	}
	path, err := c.copyPath(a.Pathname)
	if err != nil {
		return -1, err
	}
	obj, err := c.sys.fs.get(path)
	if err != nil {
		return -1, err
	}
	switch o := obj.(type) {
	case *Map:
		return installFD(c.t, syscall.NewFile(o, fflags))
	case *Prog:
		return installFD(c.t, syscall.NewFile(o, syscall.O_RDWR))
	case *Link:
		if fflags != syscall.O_RDWR {
			o.put()
			return -1, linux.EINVAL
		}
		return installFD(c.t, syscall.NewFile(o, syscall.O_RDWR))
	}
	obj.pinPut()
	return -1, linux.ENOENT
}
