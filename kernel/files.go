package kernel

import (
	"bytes"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"hachi/bpf/sys"
	"hachi/kernel/trace"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// The kernel's file tree: the read-only virtual files eBPF loaders and
// people at the console read, like Linux's procfs, sysfs, tracefs and
// bpffs, by the same paths:
//
//	/proc/version, /proc/kallsyms (when the board has a symbol table)
//	/sys/devices/system/cpu/{possible,online}
//	/sys/bus/event_source/devices/<pmu>/type, kprobe/format/retprobe (perf)
//	/sys/kernel/tracing/available_events, trace_pipe,
//	    events/<system>/<event>/{id,format} (kernel/trace)
//	/sys/fs/bpf/... (bpf/sys's bpffs: directories and pinned objects)
//
// A file's content is made when it is opened (as seq_file makes it on the
// first read) and read from there; trace_pipe is a stream.

// node is a file or a directory of the tree.
type node struct {
	// A directory lists its entries and finds one by name.
	list   func() ([]string, error)
	lookup func(name string) (*node, error)
	// A file makes its open object; flags are the open flags.
	open func(flags uint64) (syscall.FileObject, error)
}

func (n *node) isDir() bool { return n.list != nil }

// dir is a directory with fixed entries.
func dir(entries map[string]*node) *node {
	return &node{
		list: func() ([]string, error) {
			names := make([]string, 0, len(entries))
			for name := range entries {
				names = append(names, name)
			}
			sort.Strings(names)
			return names, nil
		},
		lookup: func(name string) (*node, error) {
			if n, ok := entries[name]; ok {
				return n, nil
			}
			return nil, linux.ENOENT
		},
	}
}

// dynamicDir is a directory whose entries come from names, each made by
// child (which is only asked about names in the list).
func dynamicDir(names func() []string, child func(name string) *node) *node {
	return &node{
		list: func() ([]string, error) { return names(), nil },
		lookup: func(name string) (*node, error) {
			for _, n := range names() {
				if n == name {
					return child(name), nil
				}
			}
			return nil, linux.ENOENT
		},
	}
}

// file is a file whose content content makes at open.
func file(content func() ([]byte, error)) *node {
	return &node{open: func(uint64) (syscall.FileObject, error) {
		b, err := content()
		if err != nil {
			return nil, err
		}
		return &contentFile{b: b}, nil
	}}
}

// text is a file holding s.
func text(s func() string) *node {
	return file(func() ([]byte, error) { return []byte(s()), nil })
}

// contentFile is an open file of the tree: its content as made at open.
type contentFile struct {
	b   []byte
	pos int64
}

func (f *contentFile) read(dst []byte) (int, error) {
	n, _ := f.pread(dst, f.pos)
	f.pos += int64(n)
	return n, nil
}

func (f *contentFile) pread(dst []byte, off int64) (int, error) {
	if off >= int64(len(f.b)) {
		return 0, nil
	}
	return copy(dst, f.b[off:]), nil
}

func (f *contentFile) Release() {}

// dirFile is an open directory: it can be closed, not read.
type dirFile struct{}

func (dirFile) Release() {}

type fileTree struct {
	root *node
}

func newFileTree(k *Kernel) *fileTree {
	cpus := text(func() string { return cpuList(k.ncpu) })
	tracing := dir(map[string]*node{
		"available_events": file(func() ([]byte, error) { return trace.ReadTracefs("available_events") }),
		"trace_pipe": {open: func(flags uint64) (syscall.FileObject, error) {
			return k.pipe.openPipe(flags&O_NONBLOCK != 0)
		}},
		"events": dynamicDir(traceSystems, func(system string) *node {
			return dynamicDir(func() []string { return traceEvents(system) }, func(event string) *node {
				f := func(name string) *node {
					return file(func() ([]byte, error) {
						return trace.ReadTracefs("events/" + system + "/" + event + "/" + name)
					})
				}
				return dir(map[string]*node{"id": f("id"), "format": f("format")})
			})
		}),
	})
	proc := map[string]*node{
		"version": text(func() string {
			return "Hachi version " + Version + " (hachi@hachi) (" + runtime.Version() + ") #1 SMP " + k.board.Machine + "\n"
		}),
	}
	if k.board.Kallsyms != nil {
		proc["kallsyms"] = file(func() ([]byte, error) {
			var b bytes.Buffer
			err := k.board.Kallsyms(&b)
			return b.Bytes(), err
		})
	}
	return &fileTree{root: dir(map[string]*node{
		"proc": dir(proc),
		"sys": dir(map[string]*node{
			"devices": dir(map[string]*node{"system": dir(map[string]*node{"cpu": dir(map[string]*node{
				"possible": cpus, "online": cpus,
			})})}),
			"bus": dir(map[string]*node{"event_source": dir(map[string]*node{
				"devices": pmuDir(k),
			})}),
			"kernel": dir(map[string]*node{"tracing": tracing}),
			"fs":     dir(map[string]*node{"bpf": bpffsNode(k.bpf.FS(), sys.MountPoint)}),
		}),
	})}
}

// cpuList is a CPU list file's content for CPUs 0..n-1 (cpulist_print):
// "0" or "0-3".
func cpuList(n int) string {
	if n == 1 {
		return "0\n"
	}
	return "0-" + strconv.Itoa(n-1) + "\n"
}

func traceSystems() []string {
	var systems []string
	for _, tp := range trace.All() {
		if !contains(systems, tp.System()) {
			systems = append(systems, tp.System())
		}
	}
	sort.Strings(systems)
	return systems
}

func traceEvents(system string) []string {
	var events []string
	for _, tp := range trace.All() {
		if tp.System() == system {
			events = append(events, tp.Name())
		}
	}
	sort.Strings(events)
	return events
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pmuDir is /sys/bus/event_source/devices: a directory per PMU whose type
// file perf serves, with the files perf serves inside.
func pmuDir(k *Kernel) *node {
	const prefix = "bus/event_source/devices/"
	sysfs := func(rel string) *node {
		return file(func() ([]byte, error) { return k.perf.ReadSysfs(prefix + rel) })
	}
	pmus := func() []string {
		var names []string
		for _, pmu := range []string{"kprobe", "software", "tracepoint"} {
			if _, err := k.perf.ReadSysfs(prefix + pmu + "/type"); err == nil {
				names = append(names, pmu)
			}
		}
		return names
	}
	return dynamicDir(pmus, func(pmu string) *node {
		entries := map[string]*node{"type": sysfs(pmu + "/type")}
		if _, err := k.perf.ReadSysfs(prefix + pmu + "/format/retprobe"); err == nil {
			entries["format"] = dir(map[string]*node{"retprobe": sysfs(pmu + "/format/retprobe")})
		}
		return dir(entries)
	})
}

// bpffsNode is the bpffs directory at p: its entries are the bpffs's
// directories and pinned objects. A pinned object cannot be opened as a
// file (EIO, like bpffs_obj_open): loaders reach it with BPF_OBJ_GET.
// Directories are read as p/. so that the mount point itself resolves
// inside the bpffs (sys.FS.ReadDir(MountPoint) answers for the directory
// the bpffs is mounted on, outside it).
func bpffsNode(fs *sys.FS, p string) *node {
	return &node{
		list: func() ([]string, error) { return fs.ReadDir(p + "/.") },
		lookup: func(name string) (*node, error) {
			child := p + "/" + name
			_, err := fs.ReadDir(child + "/.")
			switch err {
			case nil:
				return bpffsNode(fs, child), nil
			case linux.ENOTDIR:
				return &node{open: func(uint64) (syscall.FileObject, error) { return nil, linux.EIO }}, nil
			}
			return nil, err
		},
	}
}

// resolve finds the node at an absolute path: "." and ".." are followed,
// repeated slashes ignored; ENOTDIR when a component other than the last
// is a file, ENOENT when one does not exist.
func (ft *fileTree) resolve(p string) (*node, error) {
	n := ft.root
	for _, name := range strings.Split(path.Clean("/"+p), "/") {
		if name == "" {
			continue
		}
		if !n.isDir() {
			return nil, linux.ENOTDIR
		}
		var err error
		if n, err = n.lookup(name); err != nil {
			return nil, err
		}
	}
	if strings.HasSuffix(p, "/") && !n.isDir() {
		return nil, linux.ENOTDIR
	}
	return n, nil
}

// ReadDir lists the directory at path p of the kernel's file tree.
func (k *Kernel) ReadDir(p string) ([]string, error) {
	n, err := k.files.resolve(p)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, linux.ENOTDIR
	}
	return n.list()
}

// IsDir reports whether p is a directory of the kernel's file tree.
func (k *Kernel) IsDir(p string) bool {
	n, err := k.files.resolve(p)
	return err == nil && n.isDir()
}

// sysOpenat is openat(dirfd, pathname, flags, mode) on the kernel's file
// tree. Paths are absolute, or relative to "/" with AT_FDCWD (kernel tasks
// have no working directory of their own); a relative path from another
// descriptor is ENOTDIR (EBADF for a closed one), as descriptors of
// directories are not kept by path. The errors come in do_open's order:
// O_DIRECTORY on a file is ENOTDIR; write access (or O_CREAT, O_TRUNC) is
// EISDIR on a directory, EACCES on a file, as every file is read-only.
// O_NONBLOCK makes reads of an empty trace_pipe EAGAIN, O_CLOEXEC is
// recorded.
func sysOpenat(k *Kernel, t *Task, a syscall.Args) (uintptr, error) {
	p, err := syscall.CopyInString(t.sys.Mem, a[1], PATH_MAX)
	if err != nil {
		return 0, err
	}
	if p == "" {
		return 0, linux.ENOENT
	}
	if dirfd := int32(a[0]); !strings.HasPrefix(p, "/") && dirfd != AT_FDCWD {
		f, err := getFile(t, uint64(uint32(dirfd)))
		if err != nil {
			return 0, err
		}
		f.DecRef()
		return 0, linux.ENOTDIR
	}
	flags := a[2]
	n, err := k.files.resolve(p)
	if err != nil {
		return 0, err
	}
	write := flags&O_ACCMODE != O_RDONLY || flags&(O_CREAT|O_TRUNC) != 0
	switch {
	case flags&O_DIRECTORY != 0 && !n.isDir():
		return 0, linux.ENOTDIR
	case n.isDir() && write:
		return 0, linux.EISDIR
	case write:
		return 0, linux.EACCES
	}
	var obj syscall.FileObject = dirFile{}
	if !n.isDir() {
		if obj, err = n.open(flags); err != nil {
			return 0, err
		}
	}
	fd, err := t.sys.Files.Install(syscall.NewFile(obj, syscall.O_RDONLY), flags&O_CLOEXEC != 0)
	if err != nil {
		obj.Release()
		return 0, err
	}
	return uintptr(fd), nil
}
