//go:build tamago

package guest

import (
	"fmt"
	"os"
	"path"
	"runtime"
	"time"
	"unsafe"
)

// The board's package (imported by guest_<arch>.go) has brought the machine
// up before any package initializes; this package initializes before the
// tested one, which imports it through the test file the host adds.
func init() {
	if err := setUp(); err != nil {
		fmt.Fprintf(os.Stderr, "guest: %v\n", err)
		os.Exit(1)
	}
}

// setUp fills the file system from the test archive, moves into the
// package's directory and sets os.Args for the testing package.
func setUp() error {
	start := time.Now()
	addr, size, err := ArchiveAddr(runtime.GOARCH)
	if err != nil {
		return err
	}
	if _, ramEnd := runtime.MemRegion(); uint64(ramEnd) > addr {
		return fmt.Errorf("the runtime's RAM ends at %#x, above the test archive at %#x: move one of them (qemu/guest.ArchiveAddr)", ramEnd, addr)
	}
	region := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(addr))), size)
	var files, bytes int
	m, err := Read(region, func(f File) error {
		files++
		bytes += len(f.Data)
		return extract(f)
	})
	if err != nil {
		return fmt.Errorf("test archive at %#x: %w", addr, err)
	}
	if err := os.Chdir(m.Dir); err != nil {
		return err
	}
	os.Args = append([]string{m.Program, "-test.v"}, m.Args...)
	fmt.Printf("guest: %d files (%d KiB) unpacked in %v; cd %s; %v\n",
		files, bytes>>10, time.Since(start).Round(time.Millisecond), m.Dir, os.Args[1:])
	return nil
}

// extract creates one archive member under /.
func extract(f File) error {
	name := "/" + f.Name
	if err := os.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	switch {
	case f.Dir:
		if err := os.MkdirAll(name, os.FileMode(f.Mode)); err != nil {
			return err
		}
		return os.Chmod(name, os.FileMode(f.Mode))
	case f.Link != "":
		return os.Symlink(f.Link, name)
	}
	if err := os.WriteFile(name, f.Data, os.FileMode(f.Mode)); err != nil {
		return err
	}
	return os.Chmod(name, os.FileMode(f.Mode)) // whatever the umask
}
