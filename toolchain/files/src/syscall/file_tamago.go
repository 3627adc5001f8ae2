// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package syscall

import (
	"sync"
	"unsafe"
)

// The file system of a tamago program is its console: descriptors 0, 1 and 2.
// Writes to 1 and 2 go to the board's console output (runtime/goos.Printk),
// standard input is empty, and no path exists. Programs that need files
// carry them (embed.FS) or implement them above this package.

// runtimeWrite is provided by the runtime (syscall_runtimeWrite).
func runtimeWrite(fd uintptr, p unsafe.Pointer, n int32) int32

// consoleOpen records which of the console descriptors are open (Close, Dup).
var consoleOpen = struct {
	sync.Mutex
	fds map[int]int // descriptor -> console descriptor it refers to
}{fds: map[int]int{Stdin: Stdin, Stdout: Stdout, Stderr: Stderr}}

func console(fd int) (int, error) {
	consoleOpen.Lock()
	defer consoleOpen.Unlock()
	c, ok := consoleOpen.fds[fd]
	if !ok {
		return 0, EBADF
	}
	return c, nil
}

func Open(path string, openmode int, perm uint32) (int, error) {
	if err := checkPath(path); err != nil {
		return -1, err
	}
	return -1, ENOENT
}

func checkPath(path string) error {
	if path == "" {
		return EINVAL
	}
	for i := 0; i < len(path); i++ {
		if path[i] == '\x00' {
			return EINVAL
		}
	}
	return nil
}

func Close(fd int) error {
	consoleOpen.Lock()
	defer consoleOpen.Unlock()
	if _, ok := consoleOpen.fds[fd]; !ok {
		return EBADF
	}
	delete(consoleOpen.fds, fd)
	return nil
}

func CloseOnExec(fd int) {}

func Read(fd int, b []byte) (int, error) {
	c, err := console(fd)
	if err != nil {
		return 0, err
	}
	if c != Stdin {
		return 0, EBADF
	}
	return 0, nil // end of input
}

func Write(fd int, b []byte) (int, error) {
	c, err := console(fd)
	if err != nil {
		return 0, err
	}
	if c == Stdin {
		return 0, EBADF
	}
	if len(b) == 0 {
		return 0, nil
	}
	n := runtimeWrite(uintptr(c), unsafe.Pointer(&b[0]), int32(len(b)))
	if n < 0 {
		return 0, Errno(-n)
	}
	return int(n), nil
}

func Pread(fd int, b []byte, offset int64) (int, error) {
	if _, err := console(fd); err != nil {
		return 0, err
	}
	return 0, ESPIPE
}

func Pwrite(fd int, b []byte, offset int64) (int, error) {
	if _, err := console(fd); err != nil {
		return 0, err
	}
	return 0, ESPIPE
}

func Seek(fd int, offset int64, whence int) (int64, error) {
	if _, err := console(fd); err != nil {
		return 0, err
	}
	return 0, ESPIPE
}

func Fstat(fd int, st *Stat_t) error {
	c, err := console(fd)
	if err != nil {
		return err
	}
	*st = Stat_t{Ino: uint64(c + 1), Mode: S_IFCHR | 0620, Nlink: 1}
	return nil
}

func Fsync(fd int) error {
	_, err := console(fd)
	return err
}

func Dup(fd int) (int, error) {
	consoleOpen.Lock()
	defer consoleOpen.Unlock()
	c, ok := consoleOpen.fds[fd]
	if !ok {
		return -1, EBADF
	}
	for nfd := 0; ; nfd++ {
		if _, used := consoleOpen.fds[nfd]; !used {
			consoleOpen.fds[nfd] = c
			return nfd, nil
		}
	}
}

func Dup2(fd, newfd int) error {
	consoleOpen.Lock()
	defer consoleOpen.Unlock()
	c, ok := consoleOpen.fds[fd]
	if !ok || newfd < 0 {
		return EBADF
	}
	consoleOpen.fds[newfd] = c
	return nil
}

func Fchmod(fd int, mode uint32) error {
	_, err := console(fd)
	if err == nil {
		err = EPERM
	}
	return err
}

func Fchown(fd int, uid, gid int) error {
	return Fchmod(fd, 0)
}

func Ftruncate(fd int, length int64) error {
	_, err := console(fd)
	if err == nil {
		err = EINVAL
	}
	return err
}

func Fchdir(fd int) error {
	_, err := console(fd)
	if err == nil {
		err = ENOTDIR
	}
	return err
}

func ReadDirent(fd int, buf []byte) (int, error) {
	_, err := console(fd)
	if err == nil {
		err = ENOTDIR
	}
	return 0, err
}

func Getcwd(buf []byte) (n int, err error) {
	if len(buf) < 2 {
		return 0, ERANGE
	}
	buf[0], buf[1] = '/', 0
	return 1, nil
}

func Chdir(path string) error {
	if path == "/" {
		return nil
	}
	return noPath(path)
}

// noPath is the answer for every path but the root directory.
func noPath(path string) error {
	if err := checkPath(path); err != nil {
		return err
	}
	if path == "/" {
		return EPERM
	}
	return ENOENT
}

func Stat(path string, st *Stat_t) error {
	if path == "/" {
		*st = Stat_t{Ino: 1, Mode: S_IFDIR | 0755, Nlink: 2}
		return nil
	}
	return noPath(path)
}

func Lstat(path string, st *Stat_t) error         { return Stat(path, st) }
func Mkdir(path string, perm uint32) error        { return noRoot(path, EEXIST) }
func Unlink(path string) error                    { return noPath(path) }
func Rmdir(path string) error                     { return noPath(path) }
func Chmod(path string, mode uint32) error        { return noPath(path) }
func Chown(path string, uid, gid int) error       { return noPath(path) }
func Lchown(path string, uid, gid int) error      { return noPath(path) }
func UtimesNano(path string, ts []Timespec) error { return noPath(path) }
func Truncate(path string, length int64) error    { return noPath(path) }
func Readlink(path string, buf []byte) (n int, err error) {
	if path == "/" {
		return 0, EINVAL
	}
	return 0, noPath(path)
}
func Link(path, link string) error    { return noPath(path) }
func Symlink(path, link string) error { return noRoot(link, EEXIST) }
func Pipe(fd []int) error             { return ENOSYS }

func Rename(from, to string) error {
	if err := checkPath(to); err != nil {
		return err
	}
	return noPath(from)
}

// noRoot is the answer to creating path: the root directory exists (err),
// nothing can be created (EROFS).
func noRoot(path string, err error) error {
	if path == "/" {
		return err
	}
	if err := noPath(path); err != ENOENT {
		return err
	}
	return EROFS
}
