package kernel

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// entrySource is a raw tracepoint program: array[0] += ctx[0];
// hash[ctx[1]] = array[0]; return array[0] (-1 if the lookup fails).
const entrySource = `
	mov %%r6, %%r1
	stw [%%r10-4], 0
	lddw %%r1, map_fd %[1]d
	mov %%r2, %%r10
	add %%r2, -4
	call 1
	jeq %%r0, 0, fail
	ldxdw %%r7, [%%r0+0]
	ldxdw %%r1, [%%r6+0]
	add %%r7, %%r1
	stxdw [%%r0+0], %%r7
	ldxdw %%r1, [%%r6+8]
	stxw [%%r10-8], %%r1
	stxdw [%%r10-16], %%r7
	lddw %%r1, map_fd %[2]d
	mov %%r2, %%r10
	add %%r2, -8
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 0
	call 2
	mov %%r0, %%r7
	exit
fail:
	mov %%r0, -1
	exit
`

func mustOK[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// The kernel-internal bpf() entry through the raw byte interface, as
// issue 6 asks of the guest: maps created, a program loaded, run with
// BPF_PROG_TEST_RUN, the maps read back; a map's memory mapped with mmap
// and changed through the mapping; a pin seen in /sys/fs/bpf; every object
// gone once the descriptors are closed. On both architectures' numbering.
func TestKernelBPFEntry(t *testing.T) {
	for _, machineName := range []string{"x86_64", "riscv64"} {
		t.Run(machineName, func(t *testing.T) { testKernelBPFEntry(t, machineName) })
	}
}

func testKernelBPFEntry(t *testing.T, machineName string) {
	k, c := newTestKernel(t, machineName)
	create := AllocValue[linux.BPFAttrMapCreate]()
	*create = linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 8,
		MaxEntries: 1, MapFlags: linux.BPF_F_MMAPABLE}
	arr := mustOK[int](t, "BPF_MAP_CREATE array")(bpfCall(c, linux.BPF_MAP_CREATE, create))
	hash := mustOK[int](t, "BPF_MAP_CREATE hash")(c.mapCreate(linux.BPF_MAP_TYPE_HASH, "h", 4, 8, 8))
	if err := c.mapElem(linux.BPF_MAP_UPDATE_ELEM, arr, le32(0), u64(40), 0); err != nil {
		t.Fatalf("BPF_MAP_UPDATE_ELEM: %v", err)
	}
	prog := mustOK[int](t, "BPF_PROG_LOAD")(c.progLoad(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, "entry",
		fmt.Sprintf(entrySource, arr, hash)))

	if ret := mustOK[uint32](t, "BPF_PROG_TEST_RUN")(c.testRunRawTP(prog, [2]uint64{2, 9})); ret != 42 {
		t.Errorf("retval %d, want 42", ret)
	}
	if v := mustOK[uint64](t, "lookup array[0]")(c.lookupU64(arr, 0)); v != 42 {
		t.Errorf("array[0] = %d, want 42", v)
	}
	if v := mustOK[uint64](t, "lookup hash[9]")(c.lookupU64(hash, 9)); v != 42 {
		t.Errorf("hash[9] = %d, want 42", v)
	}

	// mmap: the array's value at the mapping's address, shared with the
	// program both ways.
	addr, err := c.call("mmap", 0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, uint64(arr), 0)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	value := (*uint64)(unsafe.Pointer(unsafe.SliceData(at(addr, 8))))
	if *value != 42 {
		t.Errorf("mapped value %d, want 42", *value)
	}
	*value = 100
	if ret := mustOK[uint32](t, "BPF_PROG_TEST_RUN")(c.testRunRawTP(prog, [2]uint64{1, 3})); ret != 101 {
		t.Errorf("retval after the write through the mapping: %d, want 101", ret)
	}
	if *value != 101 {
		t.Errorf("mapped value after the run %d, want 101", *value)
	}
	for _, bad := range []struct {
		name                         string
		length, prot, flags, fd, off uint64
		want                         error
	}{
		{"private", 4096, PROT_READ, MAP_PRIVATE, uint64(arr), 0, linux.EINVAL},
		{"anonymous", 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, ^uint64(0), 0, linux.EINVAL},
		{"unaligned offset", 4096, PROT_READ, MAP_SHARED, uint64(arr), 100, linux.EINVAL},
		{"length 0", 0, PROT_READ, MAP_SHARED, uint64(arr), 0, linux.EINVAL},
		{"closed fd", 4096, PROT_READ, MAP_SHARED, 99, 0, linux.EBADF},
		{"not mmapable", 4096, PROT_READ, MAP_SHARED, uint64(hash), 0, linux.ENOTSUPP},
		{"past the map", 8192, PROT_READ, MAP_SHARED, uint64(arr), 0, linux.EINVAL},
	} {
		if _, err := c.call("mmap", 0, bad.length, bad.prot, bad.flags, bad.fd, bad.off); err != bad.want {
			t.Errorf("mmap %s: %v, want %v", bad.name, err, bad.want)
		}
	}
	if _, err := c.call("munmap", addr, 2048); err != nil { // rounded up: the whole mapping
		t.Errorf("munmap: %v", err)
	}
	if _, err := c.call("munmap", addr, 4096); err != nil {
		t.Errorf("munmap of nothing: %v, want success as on Linux", err)
	}

	// Pins show in the bpffs directory; a pinned object is not a file.
	p := str("/sys/fs/bpf/entry_array")
	pin := AllocValue[linux.BPFAttrObjPin]()
	*pin = linux.BPFAttrObjPin{Pathname: addrOf(p), BPFFD: uint32(arr)}
	mustOK[int](t, "BPF_OBJ_PIN")(bpfCall(c, linux.BPF_OBJ_PIN, pin))
	runtime.KeepAlive(p)
	if names, err := k.ReadDir("/sys/fs/bpf"); err != nil || !slices.Contains(names, "entry_array") {
		t.Errorf("ls /sys/fs/bpf = %v, %v; want entry_array", names, err)
	}
	if _, err := c.readFile("/sys/fs/bpf/entry_array"); err != linux.EIO {
		t.Errorf("cat of a pinned map: %v, want EIO", err)
	}
	if err := k.bpf.FS().Unlink("/sys/fs/bpf/entry_array"); err != nil {
		t.Errorf("unlink: %v", err)
	}

	// Bad pointers fault; nothing is written to the kernel's code.
	if _, err := c.call("bpf", uint64(linux.BPF_MAP_CREATE), 8, 72); err != linux.EFAULT {
		t.Errorf("bpf with attr at 8: %v, want EFAULT", err)
	}
	if _, err := c.call("bpf", uint64(linux.BPF_MAP_CREATE), fakeRAMEnd-8, 72); err != linux.EFAULT {
		t.Errorf("bpf with attr across RAM's end: %v, want EFAULT", err)
	}
	board := k.board
	textStart, _ := board.Text()
	elem := AllocValue[linux.BPFAttrMapElem]()
	key := le32(0)
	*elem = linux.BPFAttrMapElem{MapFD: uint32(arr), Key: addrOf(key), Value: uint64(textStart)}
	if _, err := bpfCall(c, linux.BPF_MAP_LOOKUP_ELEM, elem); err != linux.EFAULT {
		t.Errorf("lookup into the kernel's code: %v, want EFAULT", err)
	}
	runtime.KeepAlive(key)

	for _, fd := range []int{prog, hash, arr} {
		if _, err := c.call("close", uint64(fd)); err != nil {
			t.Errorf("close(%d): %v", fd, err)
		}
	}
	if _, err := c.call("close", uint64(arr)); err != linux.EBADF {
		t.Errorf("second close: %v, want EBADF", err)
	}
	if live := k.bpf.Live(); live.Maps != 0 || live.Progs != 0 {
		t.Errorf("objects left after closing: %+v", live)
	}
}

func u64(v uint64) []byte {
	b := Alloc(8)
	binary.LittleEndian.PutUint64(b, v)
	return b
}
