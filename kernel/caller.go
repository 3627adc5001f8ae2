package kernel

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// Alloc returns n zeroed bytes of kernel memory for the arguments of
// Kernel.Syscall. System call arguments are addresses, which the Go
// runtime does not track: the memory behind them must not move, and must
// stay alive until the call returns. Heap memory never moves (a goroutine
// stack does, when it grows, so a stack variable must never be passed by
// address); Alloc's memory is always on the heap, because it is returned
// from a function that is not inlined. The caller keeps the slice alive
// across the call (runtime.KeepAlive, or a later use).
//
//go:noinline
func Alloc(n int) []byte { return make([]byte, n) }

// AllocValue is Alloc for a value of type T: an attr struct, say.
//
//go:noinline
func AllocValue[T any]() *T { return new(T) }

// Addr is the kernel address of b's first byte, for a Syscall argument.
func Addr(b []byte) uint64 { return addrOf(b) }

// caller makes system calls as a kernel task, by name, with their
// arguments in Alloc'd memory: the shell's commands and the tests use it
// the way a Linux program uses syscall(2).
type caller struct {
	k *Kernel
	t *Task
}

// call makes the system call named name.
func (c caller) call(name string, args ...uint64) (uint64, error) {
	nr, ok := c.k.SyscallNumber(name)
	if !ok {
		return 0, linux.ENOSYS
	}
	return c.k.Syscall(c.t, nr, args...)
}

// bpf is bpf(cmd, attr, sizeof(*attr)) with attr from AllocValue.
func bpfCall[T any](c caller, cmd linux.BPFCmd, attr *T) (int, error) {
	r, err := c.call("bpf", uint64(cmd), uint64(uintptr(unsafe.Pointer(attr))), uint64(unsafe.Sizeof(*attr)))
	runtime.KeepAlive(attr)
	return int(r), err
}

// str is s with its NUL in kernel memory.
func str(s string) []byte {
	b := Alloc(len(s) + 1)
	copy(b, s)
	return b
}

// mapCreate makes a map and returns its descriptor.
func (c caller) mapCreate(typ linux.BPFMapType, name string, key, value, max uint32) (int, error) {
	a := AllocValue[linux.BPFAttrMapCreate]()
	*a = linux.BPFAttrMapCreate{MapType: uint32(typ), KeySize: key, ValueSize: value, MaxEntries: max}
	copy(a.MapName[:len(a.MapName)-1], name)
	return bpfCall(c, linux.BPF_MAP_CREATE, a)
}

// mapElem is BPF_MAP_{LOOKUP,UPDATE}_ELEM or GET_NEXT_KEY with key and
// value (next key) buffers from Alloc.
func (c caller) mapElem(cmd linux.BPFCmd, fd int, key, value []byte, flags uint64) error {
	a := AllocValue[linux.BPFAttrMapElem]()
	*a = linux.BPFAttrMapElem{MapFD: uint32(fd), Key: optAddr(key), Value: optAddr(value), Flags: flags}
	_, err := bpfCall(c, cmd, a)
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return err
}

// optAddr is b's address, 0 (NULL) for nil.
func optAddr(b []byte) uint64 {
	if b == nil {
		return 0
	}
	return addrOf(b)
}

// progLoad assembles src (bpf/asm syntax, "map_fd N" operands naming
// descriptors) and loads it as a GPL program of type typ; on a verifier
// rejection the error carries the verifier's log.
func (c caller) progLoad(typ linux.BPFProgType, name, src string) (int, error) {
	insns, err := asm.Assemble(src)
	if err != nil {
		return -1, err
	}
	code := Alloc(len(insns) * isa.InstructionSize)
	copy(code, isa.Encode(insns))
	license := str("GPL")
	log := Alloc(4096)
	a := AllocValue[linux.BPFAttrProgLoad]()
	*a = linux.BPFAttrProgLoad{ProgType: uint32(typ), InsnCnt: uint32(len(insns)), Insns: addrOf(code),
		License: addrOf(license), LogLevel: 1, LogSize: uint32(len(log)), LogBuf: addrOf(log)}
	copy(a.ProgName[:len(a.ProgName)-1], name)
	fd, err := bpfCall(c, linux.BPF_PROG_LOAD, a)
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if err != nil {
		return -1, &loadError{err: err, log: cString(log)}
	}
	return fd, nil
}

// loadError is a failed BPF_PROG_LOAD with the verifier's log.
type loadError struct {
	err error
	log string
}

func (e *loadError) Error() string { return e.err.Error() + "\n" + e.log }
func (e *loadError) Unwrap() error { return e.err }

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// readFile reads the whole file at path (openat, read until 0 or EAGAIN,
// close), non-blocking so that trace_pipe ends when it is empty.
func (c caller) readFile(path string) ([]byte, error) {
	p := str(path)
	fd, err := c.call("openat", atFDCWD, addrOf(p), O_RDONLY|O_NONBLOCK|O_CLOEXEC)
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	defer c.call("close", fd)
	var out []byte
	buf := Alloc(4096)
	for {
		n, err := c.call("read", fd, addrOf(buf), uint64(len(buf)))
		if err == linux.EAGAIN || err == nil && n == 0 {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, buf[:n]...)
	}
}

func le32(v uint32) []byte {
	b := Alloc(4)
	binary.LittleEndian.PutUint32(b, v)
	return b
}
