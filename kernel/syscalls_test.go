package kernel

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"hachi/syscall/linux"
)

// newTestKernel is a kernel on a fake board (see fakeBoard), with a task
// making system calls.
func newTestKernel(t *testing.T, machine string) (*Kernel, caller) {
	t.Helper()
	b := newFakeBoard("").board()
	b.Machine = machine
	k := New(b)
	task := k.NewTask("test")
	t.Cleanup(task.Exit)
	return k, caller{k, task}
}

// The table's shape: every name once, every number once per architecture,
// a note for each entry.
func TestSyscallTable(t *testing.T) {
	names := map[string]bool{}
	numbers := map[machine]map[int]string{machineAMD64: {}, machineRISCV64: {}}
	for _, e := range syscallTable {
		if names[e.name] {
			t.Errorf("%s: listed twice", e.name)
		}
		names[e.name] = true
		if e.note == "" {
			t.Errorf("%s: no support note", e.name)
		}
		for m, seen := range numbers {
			n := m.number(&e)
			if n == noSyscall {
				continue
			}
			if other, ok := seen[n]; ok {
				t.Errorf("%s and %s share number %d on machine %d", e.name, other, n, m)
			}
			seen[n] = e.name
		}
	}
}

// The numbers the eBPF loaders depend on, on both architectures.
func TestSyscallNumbers(t *testing.T) {
	tests := []struct {
		name           string
		amd64, riscv64 uint64
		implemented    bool
	}{
		{"read", 0, 63, true},
		{"close", 3, 57, true},
		{"mmap", 9, 222, true},
		{"munmap", 11, 215, true},
		{"ioctl", 16, 29, true},
		{"openat", 257, 56, true},
		{"perf_event_open", 298, 241, true},
		{"bpf", 321, 280, true},
		{"epoll_create1", 291, 20, false},
		{"prlimit64", 302, 261, false},
	}
	for _, machineName := range []string{"x86_64", "riscv64"} {
		k, _ := newTestKernel(t, machineName)
		for _, tt := range tests {
			want := tt.amd64
			if machineName == "riscv64" {
				want = tt.riscv64
			}
			nr, ok := k.SyscallNumber(tt.name)
			if !ok || nr != want {
				t.Errorf("%s: %s is %d (%v), want %d", machineName, tt.name, nr, ok, want)
				continue
			}
			if e := k.entry(nr); e == nil || (e.fn != nil) != tt.implemented {
				t.Errorf("%s: %s implemented: %v, want %v", machineName, tt.name, e != nil && e.fn != nil, tt.implemented)
			}
		}
	}
}

// Calls without a handler, and numbers outside the table, are ENOSYS.
func TestSyscallENOSYS(t *testing.T) {
	for _, machineName := range []string{"x86_64", "riscv64"} {
		k, c := newTestKernel(t, machineName)
		for _, e := range syscallTable {
			if e.fn != nil {
				continue
			}
			nr, ok := k.SyscallNumber(e.name)
			if !ok {
				continue
			}
			if _, err := k.Syscall(c.t, nr); err != linux.ENOSYS {
				t.Errorf("%s: %s: %v, want ENOSYS", machineName, e.name, err)
			}
		}
		if _, err := k.Syscall(c.t, 1000); err != linux.ENOSYS {
			t.Errorf("%s: syscall 1000: %v, want ENOSYS", machineName, err)
		}
		if _, err := k.Syscall(c.t, 0, 1, 2, 3, 4, 5, 6, 7); err != linux.EINVAL {
			t.Errorf("%s: seven arguments: %v, want EINVAL", machineName, err)
		}
	}
}

// unistdHeaders are where Linux's system call numbers are declared for each
// architecture on a Debian build host.
var unistdHeaders = map[machine]string{
	machineAMD64:   "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
	machineRISCV64: "/usr/include/asm-generic/unistd.h",
}

// readDefines reads the numeric #defines of a C header, following defines
// that name another define (asm-generic's __NR_mmap __NR3264_mmap).
func readDefines(t *testing.T, path string) map[string]int64 {
	t.Helper()
	if runtime.GOOS == "tamago" {
		t.Skip("the Linux headers are on the build host, not in the guest")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("Linux headers not installed (Debian: linux-libc-dev): %v", err)
	}
	raw := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define\s+(\w+)\s+(-?\w+)`).FindAllStringSubmatch(string(src), -1) {
		if _, ok := raw[m[1]]; !ok {
			raw[m[1]] = m[2]
		}
	}
	vals := map[string]int64{}
	for name := range raw {
		v := raw[name]
		for i := 0; i < 4; i++ {
			if next, ok := raw[v]; ok {
				v = next
			}
		}
		if n, err := strconv.ParseInt(v, 0, 64); err == nil {
			vals[name] = n
		}
	}
	return vals
}

// Every number of the table is Linux's, and a call an architecture lacks
// is absent from its header.
func TestSyscallNumbersMatchLinux(t *testing.T) {
	for m, header := range unistdHeaders {
		nrs := readDefines(t, header)
		for _, e := range syscallTable {
			got := m.number(&e)
			want, ok := nrs["__NR_"+e.name]
			switch {
			case !ok && got != noSyscall:
				t.Errorf("%s: %s is %d, absent from the header", header, e.name, got)
			case ok && int64(got) != want:
				t.Errorf("%s: %s is %d, Linux has %d", header, e.name, got, want)
			}
		}
	}
}

// The uapi constants of abi.go are Linux's.
func TestABIConstants(t *testing.T) {
	defs := map[string]int64{}
	for _, h := range []string{"/usr/include/asm-generic/fcntl.h", "/usr/include/linux/fcntl.h",
		"/usr/include/asm-generic/mman-common.h", "/usr/include/linux/mman.h", "/usr/include/linux/limits.h"} {
		for k, v := range readDefines(t, h) {
			defs[k] = v
		}
	}
	for name, got := range map[string]int64{
		"O_RDONLY": O_RDONLY, "O_WRONLY": O_WRONLY, "O_RDWR": O_RDWR, "O_ACCMODE": O_ACCMODE,
		"O_CREAT": O_CREAT, "O_TRUNC": O_TRUNC, "O_APPEND": O_APPEND, "O_NONBLOCK": O_NONBLOCK,
		"O_DIRECTORY": O_DIRECTORY, "O_CLOEXEC": O_CLOEXEC, "AT_FDCWD": AT_FDCWD,
		"PROT_READ": PROT_READ, "PROT_WRITE": PROT_WRITE, "PROT_EXEC": PROT_EXEC,
		"MAP_SHARED": MAP_SHARED, "MAP_PRIVATE": MAP_PRIVATE, "MAP_SHARED_VALIDATE": MAP_SHARED_VALIDATE,
		"MAP_TYPE": MAP_TYPE, "MAP_FIXED": MAP_FIXED, "MAP_ANONYMOUS": MAP_ANONYMOUS, "PATH_MAX": PATH_MAX,
	} {
		if want, ok := defs[name]; !ok || want != got {
			t.Errorf("%s = %d, Linux has %d (%v)", name, got, want, ok)
		}
	}
}
