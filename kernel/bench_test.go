package kernel

import (
	"fmt"
	"runtime"
	"testing"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// The cost of the kernel's system call entry: getpid through Kernel.Syscall
// (table lookup, tracepoint keys, current-task window) against calling the
// handler directly, then with a program counting sys_enter attached, and a
// bpf() map lookup (Linux 6.18 here: 155-161 ns, see NOTES.md).

func BenchmarkGetpidDirect(b *testing.B) {
	k, c := benchKernel(b)
	for b.Loop() {
		sysGetpid(k, c.t, syscall.Args{})
	}
}

func BenchmarkGetpidSyscall(b *testing.B) {
	k, c := benchKernel(b)
	nr, _ := k.SyscallNumber("getpid")
	for b.Loop() {
		k.Syscall(c.t, nr)
	}
}

func BenchmarkGetpidSyscallTraced(b *testing.B) {
	k, c := benchKernel(b)
	nr, _ := k.SyscallNumber("getpid")
	hash, err := c.mapCreate(linux.BPF_MAP_TYPE_HASH, "enter", 4, 8, 64)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := c.progLoad(linux.BPF_PROG_TYPE_TRACEPOINT, "count", fmt.Sprintf(sysEnterCountSource, hash))
	if err != nil {
		b.Fatal(err)
	}
	ev, err := c.perfEventOpenTracepoint(uint64(tpSysEnter.ID()))
	if err != nil {
		b.Fatal(err)
	}
	c.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, uint64(prog))
	c.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0)
	defer func() {
		for _, fd := range []uint64{ev, uint64(prog), uint64(hash)} {
			c.call("close", fd)
		}
	}()
	for b.Loop() {
		k.Syscall(c.t, nr)
	}
}

func BenchmarkMapLookupSyscall(b *testing.B) {
	_, c := benchKernel(b)
	fd, err := c.mapCreate(linux.BPF_MAP_TYPE_ARRAY, "a", 4, 8, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer c.call("close", uint64(fd))
	key, value := le32(0), Alloc(8)
	a := AllocValue[linux.BPFAttrMapElem]()
	*a = linux.BPFAttrMapElem{MapFD: uint32(fd), Key: addrOf(key), Value: addrOf(value)}
	for b.Loop() {
		if _, err := bpfCall(c, linux.BPF_MAP_LOOKUP_ELEM, a); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
}

func benchKernel(b *testing.B) (*Kernel, caller) {
	k := New(newFakeBoard("").board())
	t := k.NewTask("bench")
	b.Cleanup(t.Exit)
	return k, caller{k, t}
}
