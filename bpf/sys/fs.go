package sys

import (
	"sort"
	"strings"
	"sync"

	"hachi/syscall/linux"
)

// MountPoint is where the kernel mounts the bpffs, as Linux distributions
// mount theirs.
const MountPoint = "/sys/fs/bpf"

// Path limits of Linux (include/uapi/linux/limits.h).
const (
	pathMax = 4096 // PATH_MAX, the NUL included
	nameMax = 255  // NAME_MAX, one component
)

// Pinned is an object that can be pinned in the bpffs: a map, a program or
// a link. A pin holds a reference (for maps, a user reference too, like
// bpf_map_inc_with_uref).
type Pinned interface {
	pinGet()
	pinPut()
}

// FS is the bpffs (kernel/bpf/inode.c): a tree of directories and pinned
// objects mounted at MountPoint. Paths are resolved as Linux's namei does
// for the cases a bpffs meets (".", "..", repeated and trailing slashes,
// NAME_MAX and PATH_MAX); outside the mount, only the mount point's
// ancestors exist, as directories of another file system. Relative paths are
// resolved from "/" (Hachi has no working directories yet). Permission bits
// are recorded but not enforced: every caller is treated as the owner.
type FS struct {
	mu   sync.Mutex
	root *node
	sys  *System
}

// node is a bpffs inode: a directory (children non-nil) or a pinned object.
type node struct {
	children map[string]*node
	obj      Pinned
	mode     uint32
}

func (n *node) isDir() bool { return n.children != nil }

func newFS(s *System) *FS {
	return &FS{root: &node{children: map[string]*node{}, mode: 0o1777}, sys: s}
}

// where says where a path lands: in the bpffs (dir is a bpffs directory),
// or outside it (outside is true: dir is nil, and the path's parent is an
// ancestor of the mount point when exists is true).
type lookup struct {
	dir      *node  // parent directory in the bpffs
	name     string // last component ("" for the root itself)
	outside  bool
	exists   bool // outside: the parent exists (an ancestor of the mount)
	trailing bool // the path ended with a slash
	dotLast  bool // the last component is "." or ".."
}

// walk resolves all but the last component of path.
func (fs *FS) walk(path string) (lookup, error) {
	if path == "" {
		return lookup{}, linux.ENOENT
	}
	if len(path) >= pathMax {
		return lookup{}, linux.ENAMETOOLONG
	}
	var l lookup
	l.trailing = strings.HasSuffix(path, "/")
	var comps []string
	for _, c := range strings.Split(path, "/") {
		if c == "" {
			continue
		}
		if len(c) > nameMax {
			return lookup{}, linux.ENAMETOOLONG
		}
		comps = append(comps, c)
	}
	// Position: either a node inside the bpffs or a path outside it.
	mount := strings.Split(strings.TrimPrefix(MountPoint, "/"), "/")
	var outsidePath []string // components below "/" while outside
	var stack []*node        // bpffs directories from the mount root down
	inside := false
	if len(comps) == 0 {
		// "/" itself.
		return lookup{outside: true, exists: true, name: "", dotLast: true}, nil
	}
	last := comps[len(comps)-1]
	l.dotLast = last == "." || last == ".."
	for i, c := range comps {
		isLast := i == len(comps)-1
		if isLast && !l.dotLast {
			break
		}
		switch {
		case c == ".":
		case c == "..":
			if inside {
				if len(stack) > 1 {
					stack = stack[:len(stack)-1]
				} else {
					inside, stack = false, nil
					outsidePath = append([]string(nil), mount[:len(mount)-1]...)
				}
			} else if len(outsidePath) > 0 {
				outsidePath = outsidePath[:len(outsidePath)-1]
			}
		case inside:
			n := stack[len(stack)-1].children[c]
			if n == nil {
				return lookup{}, linux.ENOENT
			}
			if !n.isDir() {
				return lookup{}, linux.ENOTDIR
			}
			stack = append(stack, n)
		default:
			outsidePath = append(outsidePath, c)
			if !isPrefix(outsidePath, mount) {
				return lookup{}, linux.ENOENT
			}
			if len(outsidePath) == len(mount) {
				inside, stack, outsidePath = true, []*node{fs.root}, nil
			}
		}
	}
	if l.dotLast {
		// The path names a directory itself: report it as the "last"
		// with an empty name in its parent context.
		if inside {
			l.dir = stack[len(stack)-1]
			return l, nil
		}
		l.outside, l.exists = true, true
		return l, nil
	}
	l.name = last
	if inside {
		l.dir = stack[len(stack)-1]
		return l, nil
	}
	l.outside, l.exists = true, true
	l.name = strings.Join(append(outsidePath, last), "/")
	return l, nil
}

func isPrefix(p, of []string) bool {
	if len(p) > len(of) {
		return false
	}
	for i := range p {
		if p[i] != of[i] {
			return false
		}
	}
	return true
}

// isMountAncestor reports whether rel (a "/"-less path below "/") is the
// mount point or one of its ancestors: the directories that exist outside.
func isMountAncestor(rel string) bool {
	m := strings.TrimPrefix(MountPoint, "/")
	return rel == m || strings.HasPrefix(m, rel+"/")
}

// create finds where path would be created (user_path_create, then the
// bpffs directory test of bpf_obj_do_pin): EEXIST if it exists, ENOENT
// with a trailing slash (unless a directory is made), EPERM outside the
// bpffs.
func (fs *FS) create(path string, dir bool) (*node, string, error) {
	l, err := fs.walk(path)
	if err != nil {
		return nil, "", err
	}
	if l.dotLast {
		return nil, "", linux.EEXIST
	}
	if l.outside {
		if isMountAncestor(l.name) {
			return nil, "", linux.EEXIST
		}
		if l.trailing && !dir {
			return nil, "", linux.ENOENT
		}
		return nil, "", linux.EPERM
	}
	if _, ok := l.dir.children[l.name]; ok {
		return nil, "", linux.EEXIST
	}
	if l.trailing && !dir {
		return nil, "", linux.ENOENT
	}
	return l.dir, l.name, nil
}

// find resolves path to an existing node (kern_path with LOOKUP_FOLLOW).
// Outside the bpffs it reports the directories that exist there as
// outsideDir; anything else outside is ENOENT.
func (fs *FS) find(path string) (n *node, outsideDir bool, err error) {
	l, err := fs.walk(path)
	if err != nil {
		return nil, false, err
	}
	switch {
	case l.outside && (l.dotLast || isMountAncestor(l.name)):
		return nil, true, nil
	case l.outside:
		return nil, false, linux.ENOENT
	case l.dotLast:
		return l.dir, false, nil
	}
	n = l.dir.children[l.name]
	if n == nil {
		return nil, false, linux.ENOENT
	}
	if l.trailing && !n.isDir() {
		return nil, false, linux.ENOTDIR
	}
	return n, false, nil
}

// pin creates a file at path holding obj (bpf_obj_do_pin); the caller's
// pin reference moves to the file on success.
func (fs *FS) pin(path string, obj Pinned) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, err := fs.create(path, false)
	if err != nil {
		return err
	}
	dir.children[name] = &node{obj: obj, mode: 0o600}
	return nil
}

// get returns the object pinned at path with a new pin reference
// (bpf_obj_do_get): EACCES for something that is not a pinned object.
func (fs *FS) get(path string) (Pinned, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, outsideDir, err := fs.find(path)
	if err != nil {
		return nil, err
	}
	if outsideDir || n.isDir() {
		return nil, linux.EACCES
	}
	n.obj.pinGet()
	return n.obj, nil
}

// Mkdir makes a directory (mkdir(2) in the bpffs).
func (fs *FS) Mkdir(path string, mode uint32) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, err := fs.create(path, true)
	if err != nil {
		return err
	}
	dir.children[name] = &node{children: map[string]*node{}, mode: mode & 0o7777}
	return nil
}

// Unlink removes a pinned object (unlink(2)); the pin's reference goes.
func (fs *FS) Unlink(path string) error {
	fs.mu.Lock()
	l, err := fs.walk(path)
	if err != nil {
		fs.mu.Unlock()
		return err
	}
	var n *node
	switch {
	case l.outside || l.dotLast:
		err = linux.EPERM
		if l.outside && !l.dotLast && !isMountAncestor(l.name) {
			err = linux.ENOENT
		} else if l.dotLast || isMountAncestor(l.name) {
			err = linux.EISDIR
		}
	default:
		n = l.dir.children[l.name]
		switch {
		case n == nil:
			err = linux.ENOENT
		case n.isDir():
			err = linux.EISDIR
		case l.trailing:
			err = linux.ENOTDIR
		default:
			delete(l.dir.children, l.name)
		}
	}
	fs.mu.Unlock()
	if err != nil {
		return err
	}
	n.obj.pinPut()
	return nil
}

// Rmdir removes an empty directory (rmdir(2)).
func (fs *FS) Rmdir(path string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	l, err := fs.walk(path)
	if err != nil {
		return err
	}
	if l.dotLast {
		return linux.EINVAL // rmdir of "." (".." is ENOTEMPTY in Linux; both refused)
	}
	if l.outside {
		if isMountAncestor(l.name) {
			return linux.EBUSY // the mount point, or a directory above it
		}
		return linux.ENOENT
	}
	n := l.dir.children[l.name]
	switch {
	case n == nil:
		return linux.ENOENT
	case !n.isDir():
		return linux.ENOTDIR
	case len(n.children) > 0:
		return linux.ENOTEMPTY
	}
	delete(l.dir.children, l.name)
	return nil
}

// ReadDir lists a bpffs directory's entries, sorted.
func (fs *FS) ReadDir(path string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, outsideDir, err := fs.find(path)
	if err != nil {
		return nil, err
	}
	if outsideDir {
		return nil, linux.EACCES
	}
	if !n.isDir() {
		return nil, linux.ENOTDIR
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Unmount empties the file system, dropping every pin's reference, as
// unmounting (kill_litter_super) the last bpffs instance does.
func (fs *FS) Unmount() {
	fs.mu.Lock()
	var objs []Pinned
	var collect func(n *node)
	collect = func(n *node) {
		for _, c := range n.children {
			if c.isDir() {
				collect(c)
			} else {
				objs = append(objs, c.obj)
			}
		}
	}
	collect(fs.root)
	fs.root = &node{children: map[string]*node{}, mode: 0o1777}
	fs.mu.Unlock()
	for _, o := range objs {
		o.pinPut()
	}
}
