// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package syscall

import (
	"sync"
	"unsafe"
)

// The file system of a tamago program lives in its memory, like the one Go's
// nacl port had: a tree of directories, regular files and symbolic links that
// package os (and everything above it: os.ReadFile, t.TempDir, filepath.Walk)
// uses through the functions of this file, with Linux's rules and errno
// values. Descriptors 0, 1 and 2 are the console: writes go to the board's
// console output (runtime/goos.Printk), standard input is empty.
//
// It starts with /, /tmp (mode 1777), /dev and /dev/null. The program runs
// as root, so permissions are kept (chmod, stat) but, as Linux does for
// root, not enforced. There is no persistence: the tree lives until the
// program ends. All regular files together hold at most fsCapacity bytes;
// beyond that, writes fail with ENOSPC.

const (
	// fsCapacity bounds the bytes held by all regular files, so that a
	// runaway writer gets ENOSPC instead of exhausting the heap.
	fsCapacity = 256 << 20

	// nameMax and pathMax are Linux's NAME_MAX and PATH_MAX.
	nameMax = 255
	pathMax = 4096

	// maxSymlinks is how many symbolic links one lookup follows before
	// ELOOP (Linux's MAXSYMLINKS).
	maxSymlinks = 40

	// fsDev is the st_dev of every file.
	fsDev = 1

	// umask is applied to the permissions of created files (Umask reports it).
	umask = 022

	// direntHeader is the size of a ReadDirent record before the name:
	// the record length (Dirent.Reclen).
	direntHeader = 2
)

// Device numbers of the character devices (Stat_t.Rdev).
const (
	devConsole = 5<<8 | 1 // like Linux's /dev/console (5, 1)
	devNull    = 1<<8 | 3 // like Linux's /dev/null (1, 3)
)

// inode is a file of any kind.
type inode struct {
	ino   uint64
	mode  uint32 // S_IF* | permission bits
	nlink uint32
	uid   uint32
	gid   uint32
	rdev  int64

	atime, mtime, ctime int64 // ns since the epoch

	data    []byte            // regular file
	entries map[string]*inode // directory: name -> file (no "." or "..")
	parent  *inode            // directory: the directory holding it or, once removed, that held it (/ holds itself)
	name    string            // directory: its name in parent (Getwd)
	target  string            // symbolic link
}

func (n *inode) isDir() bool     { return n.mode&S_IFMT == S_IFDIR }
func (n *inode) isRegular() bool { return n.mode&S_IFMT == S_IFREG }
func (n *inode) isSymlink() bool { return n.mode&S_IFMT == S_IFLNK }

// openFile is an open file description: what descriptors made by Dup share.
type openFile struct {
	node    *inode
	flags   int // O_ACCMODE bits and O_APPEND
	offset  int64
	console int // for the console: the descriptor it was (0, 1 or 2), else -1

	// names is the directory listing ReadDirent returns, taken when it
	// is first called after the open or a seek to 0; next indexes it.
	names []string
	next  int
}

// fileSystem is the whole state; mu guards all of it.
var fileSystem struct {
	mu      sync.Mutex
	root    *inode
	cwd     *inode
	fds     []*openFile // descriptor -> description, nil when free
	lastIno uint64
	used    int64 // bytes held by the regular files that have a name
}

func init() {
	fs := &fileSystem
	fs.root = newInode(S_IFDIR | 0755)
	fs.root.parent = fs.root
	fs.cwd = fs.root
	for _, fd := range []int{Stdin, Stdout, Stderr} {
		c := newInode(S_IFCHR | 0620)
		c.rdev = devConsole
		fs.fds = append(fs.fds, &openFile{node: c, flags: consoleAccess(fd), console: fd})
	}
	tmp := newInode(S_IFDIR | S_ISVTX | 0777)
	enter(fs.root, "tmp", tmp)
	dev := newInode(S_IFDIR | 0755)
	enter(fs.root, "dev", dev)
	null := newInode(S_IFCHR | 0666)
	null.rdev = devNull
	enter(dev, "null", null)
}

func consoleAccess(fd int) int {
	if fd == Stdin {
		return O_RDONLY
	}
	return O_WRONLY
}

// newInode returns a file with one link, owned by root, created now.
// The caller holds fileSystem.mu (or is init).
func newInode(mode uint32) *inode {
	fileSystem.lastIno++
	t := nowNano()
	n := &inode{ino: fileSystem.lastIno, mode: mode, nlink: 1, atime: t, mtime: t, ctime: t}
	if n.isDir() {
		n.entries = make(map[string]*inode)
		n.nlink = 2 // its name and its "."
	}
	return n
}

func nowNano() int64 {
	sec, nsec := now()
	return sec*1e9 + int64(nsec)
}

// enter puts n in dir under name; n's own link count is the caller's.
func enter(dir *inode, name string, n *inode) {
	dir.entries[name] = n
	if n.isDir() {
		n.parent, n.name = dir, name
		dir.nlink++ // n's ".."
	}
	t := nowNano()
	dir.mtime, dir.ctime = t, t
}

// leave takes n, entered under name, out of dir.
func leave(dir *inode, name string, n *inode) {
	delete(dir.entries, name)
	if n.isDir() {
		dir.nlink--
	}
	t := nowNano()
	dir.mtime, dir.ctime = t, t
}

// drop removes the name of n in dir and one link of n. Like Linux, the data
// of a file stays readable through the descriptors still open on it; it no
// longer counts against fsCapacity once no name reaches it.
func drop(dir *inode, name string, n *inode) {
	leave(dir, name, n)
	n.ctime = nowNano()
	if n.isDir() {
		n.nlink = 0 // its ".." still leads to where it was, as on Linux
		return
	}
	n.nlink--
	if n.nlink == 0 && n.isRegular() {
		fileSystem.used -= int64(len(n.data))
	}
}

// checkPath rejects the paths Linux rejects before any lookup.
func checkPath(path string) error {
	if path == "" {
		return ENOENT
	}
	if len(path) >= pathMax {
		return ENAMETOOLONG
	}
	for i := 0; i < len(path); i++ {
		if path[i] == 0 {
			return EINVAL
		}
	}
	return nil
}

// splitFirst returns the first component of path and the rest, without the
// slashes between them.
func splitFirst(path string) (first, rest string) {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			rest = path[i:]
			for len(rest) > 0 && rest[0] == '/' {
				rest = rest[1:]
			}
			return path[:i], rest
		}
	}
	return path, ""
}

// walker resolves paths, counting the symbolic links it follows.
type walker struct {
	links int
}

// lookupParent resolves every component of path but the last one, starting
// at dir for a relative path, and returns the last component with the
// directory holding it. The last component is "" for a path naming / itself.
// mustBeDir reports a trailing slash.
func (w *walker) lookupParent(dir *inode, path string) (parent *inode, name string, mustBeDir bool, err error) {
	if path[0] == '/' {
		dir = fileSystem.root
	}
	mustBeDir = path[len(path)-1] == '/'
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	for {
		first, rest := splitFirst(path)
		if len(first) > nameMax {
			return nil, "", false, ENAMETOOLONG
		}
		if rest == "" {
			return dir, first, mustBeDir, nil
		}
		next, err := w.child(dir, first)
		if err != nil {
			return nil, "", false, err
		}
		if next, err = w.follow(dir, next); err != nil {
			return nil, "", false, err
		}
		if !next.isDir() {
			return nil, "", false, ENOTDIR
		}
		dir, path = next, rest
	}
}

// child looks name up in dir, "." and ".." included.
func (w *walker) child(dir *inode, name string) (*inode, error) {
	switch name {
	case "", ".":
		return dir, nil
	case "..":
		return dir.parent, nil
	}
	n, ok := dir.entries[name]
	if !ok {
		return nil, ENOENT
	}
	return n, nil
}

// follow returns n, found in dir, or the file it leads to if it is a
// symbolic link (whose relative target starts at dir).
func (w *walker) follow(dir, n *inode) (*inode, error) {
	for n.isSymlink() {
		w.links++
		if w.links > maxSymlinks {
			return nil, ELOOP
		}
		parent, name, mustBeDir, err := w.lookupParent(dir, n.target)
		if err != nil {
			return nil, err
		}
		if n, err = w.child(parent, name); err != nil {
			return nil, err
		}
		if mustBeDir {
			if n, err = w.follow(parent, n); err != nil {
				return nil, err
			}
			if !n.isDir() {
				return nil, ENOTDIR
			}
		}
		dir = parent
	}
	return n, nil
}

// lookup resolves path to a file; with follow, a final symbolic link is
// followed.
func lookup(path string, follow bool) (*inode, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	var w walker
	dir, name, mustBeDir, err := w.lookupParent(fileSystem.cwd, path)
	if err != nil {
		return nil, err
	}
	n, err := w.child(dir, name)
	if err != nil {
		return nil, err
	}
	if n.isSymlink() && (follow || mustBeDir) {
		if n, err = w.follow(dir, n); err != nil {
			return nil, err
		}
	}
	if mustBeDir && !n.isDir() {
		return nil, ENOTDIR
	}
	return n, nil
}

// lookupCreate resolves the directory that is to hold path's last component,
// which it returns with the file already there (nil if none). Creating "/",
// "." or ".." is refused with exists.
func lookupCreate(path string, exists error) (dir *inode, name string, n *inode, mustBeDir bool, err error) {
	if err := checkPath(path); err != nil {
		return nil, "", nil, false, err
	}
	var w walker
	dir, name, mustBeDir, err = w.lookupParent(fileSystem.cwd, path)
	if err != nil {
		return nil, "", nil, false, err
	}
	if name == "" || name == "." || name == ".." {
		return nil, "", nil, false, exists
	}
	if dir.nlink == 0 { // removed: nothing can be created in it
		return nil, "", nil, false, ENOENT
	}
	return dir, name, dir.entries[name], mustBeDir, nil
}

// fd returns the description behind a descriptor; the caller holds mu.
func fdFile(fd int) (*openFile, error) {
	fs := &fileSystem
	if fd < 0 || fd >= len(fs.fds) || fs.fds[fd] == nil {
		return nil, EBADF
	}
	return fs.fds[fd], nil
}

// newFD installs f at the lowest free descriptor at or above min.
func newFD(f *openFile, min int) int {
	fs := &fileSystem
	for fd := min; fd < len(fs.fds); fd++ {
		if fs.fds[fd] == nil {
			fs.fds[fd] = f
			return fd
		}
	}
	for len(fs.fds) < min {
		fs.fds = append(fs.fds, nil)
	}
	fs.fds = append(fs.fds, f)
	return len(fs.fds) - 1
}

func Open(path string, openmode int, perm uint32) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	acc := openmode & (O_RDONLY | O_WRONLY | O_RDWR)
	if acc == O_WRONLY|O_RDWR {
		return -1, EINVAL
	}
	var n *inode
	if openmode&O_CREAT == 0 {
		var err error
		if n, err = lookup(path, true); err != nil {
			return -1, err
		}
	} else {
		dir, name, existing, mustBeDir, err := lookupCreate(path, EISDIR)
		if err != nil {
			return -1, err
		}
		switch {
		case existing != nil && openmode&O_EXCL != 0:
			return -1, EEXIST
		case existing != nil:
			// A dangling symbolic link gives ENOENT here, where Linux
			// would create the file it names.
			if n, err = lookup(path, true); err != nil {
				return -1, err
			}
			if n.isDir() {
				return -1, EISDIR
			}
		case mustBeDir:
			return -1, EISDIR
		default:
			n = newInode(S_IFREG | perm&^umask&07777)
			enter(dir, name, n)
		}
	}
	if n.isDir() && acc != O_RDONLY {
		return -1, EISDIR
	}
	if openmode&O_DIRECTORY != 0 && !n.isDir() {
		return -1, ENOTDIR
	}
	if n.isRegular() && openmode&O_TRUNC != 0 && len(n.data) > 0 {
		resize(n, 0)
	}
	f := &openFile{node: n, flags: openmode & (O_RDONLY | O_WRONLY | O_RDWR | O_APPEND), console: -1}
	return newFD(f, 0), nil
}

// resize sets the size of the regular file n, zeroing what grows.
func resize(n *inode, size int64) error {
	fs := &fileSystem
	old := int64(len(n.data))
	counted := n.nlink > 0
	if counted && size > old && fs.used+size-old > fsCapacity {
		return ENOSPC
	}
	switch {
	case size <= old:
		n.data = n.data[:size]
	case size <= int64(cap(n.data)):
		n.data = n.data[:size]
		clear(n.data[old:])
	default:
		data := make([]byte, size, size+size/4)
		copy(data, n.data)
		n.data = data
	}
	if counted {
		fs.used += size - old
	}
	t := nowNano()
	n.mtime, n.ctime = t, t
	return nil
}

func Close(fd int) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, err := fdFile(fd); err != nil {
		return err
	}
	fs.fds[fd] = nil
	return nil
}

func CloseOnExec(fd int) {}

func Mkdir(path string, perm uint32) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, existing, _, err := lookupCreate(path, EEXIST)
	if err != nil {
		return err
	}
	if existing != nil {
		return EEXIST
	}
	enter(dir, name, newInode(S_IFDIR|perm&^umask&07777))
	return nil
}

// ReadDirent fills buf with directory records: a 2-byte length (the record's,
// header included) then the name, as package os reads them for js and tamago
// (os/dirent_tamago.go). "." and ".." are not listed.
func ReadDirent(fd int, buf []byte) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return 0, err
	}
	if !f.node.isDir() {
		return 0, ENOTDIR
	}
	if f.names == nil {
		f.names = sortedNames(f.node)
		f.next = 0
	}
	n := 0
	for f.next < len(f.names) {
		name := f.names[f.next]
		l := direntHeader + len(name)
		if l > len(buf)-n {
			if n == 0 {
				return 0, EINVAL // the buffer cannot hold one record
			}
			break
		}
		buf[n] = byte(l)
		buf[n+1] = byte(l >> 8)
		copy(buf[n+direntHeader:], name)
		n += l
		f.next++
	}
	return n, nil
}

// sortedNames lists a directory in name order (Linux's order depends on the
// file system; sorting makes listings repeatable).
func sortedNames(dir *inode) []string {
	names := make([]string, 0, len(dir.entries))
	for name := range dir.entries {
		names = append(names, name)
	}
	for i := 1; i < len(names); i++ { // insertion sort: package sort imports syscall
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func fillStat(st *Stat_t, n *inode) {
	size := int64(len(n.data))
	switch {
	case n.isDir():
		size = 4096
	case n.isSymlink():
		size = int64(len(n.target))
	}
	*st = Stat_t{
		Dev:       fsDev,
		Ino:       n.ino,
		Mode:      n.mode,
		Nlink:     n.nlink,
		Uid:       n.uid,
		Gid:       n.gid,
		Rdev:      n.rdev,
		Size:      size,
		Blksize:   4096,
		Blocks:    int32((size + 511) / 512),
		Atime:     n.atime / 1e9,
		AtimeNsec: n.atime % 1e9,
		Mtime:     n.mtime / 1e9,
		MtimeNsec: n.mtime % 1e9,
		Ctime:     n.ctime / 1e9,
		CtimeNsec: n.ctime % 1e9,
	}
}

func Stat(path string, st *Stat_t) error {
	return statPath(path, st, true)
}

func Lstat(path string, st *Stat_t) error {
	return statPath(path, st, false)
}

func statPath(path string, st *Stat_t, follow bool) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := lookup(path, follow)
	if err != nil {
		return err
	}
	fillStat(st, n)
	return nil
}

func Fstat(fd int, st *Stat_t) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return err
	}
	fillStat(st, f.node)
	return nil
}

func Unlink(path string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, n, mustBeDir, err := lookupCreate(path, EISDIR)
	if err != nil {
		return err
	}
	if n == nil {
		return ENOENT
	}
	if n.isDir() {
		return EISDIR
	}
	if mustBeDir {
		return ENOTDIR
	}
	drop(dir, name, n)
	return nil
}

func Rmdir(path string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := checkPath(path); err != nil {
		return err
	}
	var w walker
	dir, name, _, err := w.lookupParent(fs.cwd, path)
	if err != nil {
		return err
	}
	switch name {
	case "":
		return EBUSY // "/"
	case ".":
		return EINVAL
	case "..":
		return ENOTEMPTY
	}
	n, err := w.child(dir, name)
	if err != nil {
		return err
	}
	if !n.isDir() {
		return ENOTDIR
	}
	if len(n.entries) != 0 {
		return ENOTEMPTY
	}
	drop(dir, name, n)
	return nil
}

// onPath applies fn to the file path names, following a final symbolic link
// when follow is set.
func onPath(path string, follow bool, fn func(n *inode) error) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := lookup(path, follow)
	if err != nil {
		return err
	}
	return fn(n)
}

// onFD applies fn to the file behind fd.
func onFD(fd int, fn func(f *openFile) error) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return err
	}
	return fn(f)
}

func chmod(n *inode, mode uint32) error {
	n.mode = n.mode&S_IFMT | mode&07777
	n.ctime = nowNano()
	return nil
}

func chown(n *inode, uid, gid int) error {
	if uid != -1 {
		n.uid = uint32(uid)
	}
	if gid != -1 {
		n.gid = uint32(gid)
	}
	n.ctime = nowNano()
	return nil
}

func Chmod(path string, mode uint32) error {
	return onPath(path, true, func(n *inode) error { return chmod(n, mode) })
}

func Fchmod(fd int, mode uint32) error {
	return onFD(fd, func(f *openFile) error { return chmod(f.node, mode) })
}

func Chown(path string, uid, gid int) error {
	return onPath(path, true, func(n *inode) error { return chown(n, uid, gid) })
}

func Fchown(fd int, uid, gid int) error {
	return onFD(fd, func(f *openFile) error { return chown(f.node, uid, gid) })
}

func Lchown(path string, uid, gid int) error {
	return onPath(path, false, func(n *inode) error { return chown(n, uid, gid) })
}

// utimeOmit in a Timespec's Nsec leaves that time unchanged (the value of
// internal/syscall/unix.UTIME_OMIT for js and tamago).
const utimeOmit = -0x2

func UtimesNano(path string, ts []Timespec) error {
	if len(ts) != 2 {
		return EINVAL
	}
	return onPath(path, true, func(n *inode) error {
		if ts[0].Nsec != utimeOmit {
			n.atime = TimespecToNsec(ts[0])
		}
		if ts[1].Nsec != utimeOmit {
			n.mtime = TimespecToNsec(ts[1])
		}
		n.ctime = nowNano()
		return nil
	})
}

// Rename follows Linux's rename(2): the target is replaced if it is of the
// same kind (an empty directory for a directory), and a directory cannot be
// moved below itself.
func Rename(from, to string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fromDir, fromName, n, _, err := lookupCreate(from, EBUSY)
	if err != nil {
		return err
	}
	if n == nil {
		return ENOENT
	}
	toDir, toName, old, toMustBeDir, err := lookupCreate(to, EBUSY)
	if err != nil {
		return err
	}
	if toMustBeDir && !n.isDir() {
		return ENOTDIR
	}
	if old == n {
		return nil
	}
	if n.isDir() {
		for d := toDir; ; d = d.parent {
			if d == n {
				return EINVAL
			}
			if d == fs.root {
				break
			}
		}
	}
	if old != nil {
		switch {
		case n.isDir() && !old.isDir():
			return ENOTDIR
		case !n.isDir() && old.isDir():
			return EISDIR
		case old.isDir() && len(old.entries) != 0:
			return ENOTEMPTY
		}
		drop(toDir, toName, old)
	}
	leave(fromDir, fromName, n)
	enter(toDir, toName, n)
	n.ctime = nowNano()
	return nil
}

func Truncate(path string, length int64) error {
	return onPath(path, true, func(n *inode) error {
		switch {
		case n.isDir():
			return EISDIR
		case !n.isRegular():
			return EINVAL
		case length < 0:
			return EINVAL
		}
		return resize(n, length)
	})
}

func Ftruncate(fd int, length int64) error {
	return onFD(fd, func(f *openFile) error {
		if !f.node.isRegular() || f.flags&(O_WRONLY|O_RDWR) == 0 || length < 0 {
			return EINVAL
		}
		return resize(f.node, length)
	})
}

// Getcwd copies the working directory's path into buf, without a NUL (as
// package syscall does for js).
func Getcwd(buf []byte) (n int, err error) {
	wd, err := Getwd()
	if err != nil {
		return 0, err
	}
	if len(wd) > len(buf) {
		return 0, ERANGE
	}
	return copy(buf, wd), nil
}

const ImplementsGetwd = true

// Getwd returns the working directory's absolute path; ENOENT if it was
// removed (like Linux's getcwd).
func Getwd() (wd string, err error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := fs.cwd
	if d == fs.root {
		return "/", nil
	}
	for d != fs.root {
		if d.nlink == 0 {
			return "", ENOENT
		}
		wd = "/" + d.name + wd
		d = d.parent
	}
	return wd, nil
}

func Chdir(path string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := lookup(path, true)
	if err != nil {
		return err
	}
	if !n.isDir() {
		return ENOTDIR
	}
	fs.cwd = n
	return nil
}

func Fchdir(fd int) error {
	return onFD(fd, func(f *openFile) error {
		if !f.node.isDir() {
			return ENOTDIR
		}
		fileSystem.cwd = f.node
		return nil
	})
}

func Readlink(path string, buf []byte) (n int, err error) {
	err = onPath(path, false, func(l *inode) error {
		if !l.isSymlink() {
			return EINVAL
		}
		n = copy(buf, l.target)
		return nil
	})
	return n, err
}

// Link makes a hard link; directories cannot have one (EPERM, as Linux).
func Link(path, link string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := lookup(path, false)
	if err != nil {
		return err
	}
	if n.isDir() {
		return EPERM
	}
	dir, name, existing, mustBeDir, err := lookupCreate(link, EEXIST)
	if err != nil {
		return err
	}
	if existing != nil {
		return EEXIST
	}
	if mustBeDir {
		return ENOENT
	}
	n.nlink++
	if n.nlink == 1 && n.isRegular() { // linkat of an open, unlinked file
		fileSystem.used += int64(len(n.data))
	}
	enter(dir, name, n)
	n.ctime = nowNano()
	return nil
}

func Symlink(path, link string) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if path == "" {
		return ENOENT
	}
	if err := checkPath(path); err != nil {
		return err
	}
	dir, name, existing, mustBeDir, err := lookupCreate(link, EEXIST)
	if err != nil {
		return err
	}
	if existing != nil {
		return EEXIST
	}
	if mustBeDir {
		return ENOENT
	}
	l := newInode(S_IFLNK | 0777)
	l.target = path
	enter(dir, name, l)
	return nil
}

func Fsync(fd int) error {
	return onFD(fd, func(*openFile) error { return nil })
}

func Read(fd int, b []byte) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return 0, err
	}
	if f.flags&(O_WRONLY|O_RDWR) == O_WRONLY {
		return 0, EBADF
	}
	n, err := readAt(f.node, b, f.offset)
	f.offset += int64(n)
	return n, err
}

// readAt reads from n at off; devices read as empty (end of file).
func readAt(n *inode, b []byte, off int64) (int, error) {
	switch {
	case n.isDir():
		return 0, EISDIR
	case !n.isRegular():
		return 0, nil
	case off >= int64(len(n.data)):
		return 0, nil
	}
	c := copy(b, n.data[off:])
	n.atime = nowNano()
	return c, nil
}

func Write(fd int, b []byte) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	f, err := fdFile(fd)
	if err != nil {
		fs.mu.Unlock()
		return 0, err
	}
	if f.flags&(O_WRONLY|O_RDWR) == 0 {
		fs.mu.Unlock()
		return 0, EBADF
	}
	if f.console >= 0 {
		// The console is written without the lock: it may be slow, and
		// a panic's output must not wait for a file system operation.
		fs.mu.Unlock()
		return writeConsole(f.console, b)
	}
	defer fs.mu.Unlock()
	if f.flags&O_APPEND != 0 {
		f.offset = int64(len(f.node.data))
	}
	n, err := writeAt(f.node, b, f.offset)
	f.offset += int64(n)
	return n, err
}

// runtimeWrite is provided by the runtime (syscall_runtimeWrite).
func runtimeWrite(fd uintptr, p unsafe.Pointer, n int32) int32

func writeConsole(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n := runtimeWrite(uintptr(fd), unsafe.Pointer(&b[0]), int32(len(b)))
	if n < 0 {
		return 0, Errno(-n)
	}
	return int(n), nil
}

// writeAt writes b to n at off; /dev/null takes everything.
func writeAt(n *inode, b []byte, off int64) (int, error) {
	if !n.isRegular() {
		return len(b), nil // /dev/null (directories are never open for writing)
	}
	end := off + int64(len(b))
	if end < off {
		return 0, EFBIG
	}
	if end > int64(len(n.data)) {
		if err := resize(n, end); err != nil {
			return 0, err
		}
	}
	copy(n.data[off:], b)
	t := nowNano()
	n.mtime, n.ctime = t, t
	return len(b), nil
}

// pfile returns the description behind fd for a positioned read or write.
func pfile(fd int, offset int64) (*openFile, error) {
	f, err := fdFile(fd)
	if err != nil {
		return nil, err
	}
	switch {
	case f.console >= 0:
		return nil, ESPIPE
	case offset < 0:
		return nil, EINVAL
	}
	return f, nil
}

func Pread(fd int, b []byte, offset int64) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := pfile(fd, offset)
	if err != nil {
		return 0, err
	}
	if f.flags&(O_WRONLY|O_RDWR) == O_WRONLY {
		return 0, EBADF
	}
	return readAt(f.node, b, offset)
}

// Pwrite writes at offset; on a file opened with O_APPEND it appends, as
// Linux does.
func Pwrite(fd int, b []byte, offset int64) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := pfile(fd, offset)
	if err != nil {
		return 0, err
	}
	if f.flags&(O_WRONLY|O_RDWR) == 0 {
		return 0, EBADF
	}
	if f.flags&O_APPEND != 0 {
		offset = int64(len(f.node.data))
	}
	return writeAt(f.node, b, offset)
}

func Seek(fd int, offset int64, whence int) (int64, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return 0, err
	}
	if f.console >= 0 {
		return 0, ESPIPE
	}
	var pos int64
	switch whence {
	case 0: // io.SeekStart
		pos = offset
	case 1: // io.SeekCurrent
		pos = f.offset + offset
	case 2: // io.SeekEnd
		pos = int64(len(f.node.data)) + offset
	default:
		return 0, EINVAL
	}
	if pos < 0 {
		return 0, EINVAL
	}
	f.offset = pos
	if f.node.isDir() && pos == 0 {
		f.names = nil // list again, as rewinddir does
	}
	return pos, nil
}

func Dup(fd int) (int, error) {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return -1, err
	}
	return newFD(f, 0), nil
}

func Dup2(fd, newfd int) error {
	fs := &fileSystem
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, err := fdFile(fd)
	if err != nil {
		return err
	}
	if newfd < 0 {
		return EBADF
	}
	if newfd < len(fs.fds) {
		fs.fds[newfd] = f
	} else {
		newFD(f, newfd) // past the table: it goes exactly at newfd
	}
	return nil
}

// Pipe is not implemented: a pipe needs a reader and a writer running at
// once, and this package has no way to block one until the other acts.
func Pipe(fd []int) error { return ENOSYS }
