package sys

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/helpers"
	"hachi/bpf/helpers/helperstest"
	"hachi/bpf/isa"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// testEnv is an Env for host tests: 2 CPUs, a fake clock that advances by
// 100 ns per reading, and bpf/helpers over helperstest's fake kernel.
type testEnv struct {
	clock atomic.Int64
	arch  verifier.Arch
	// memLimit bounds one map allocation (0: maps.DefaultMemoryLimit).
	memLimit uint64
	helpers  *helpers.Set
	kernel   *helperstest.Kernel
}

func newTestEnv() *testEnv {
	k := &helperstest.Kernel{Monotonic: 1e9, Boot: 2e9, Coarse: 1e9, Step: 1}
	return &testEnv{helpers: helpers.New(k, 2), kernel: k}
}

func (e *testEnv) PossibleCPUs() int { return 2 }
func (e *testEnv) ChargeMemory(n uint64) error {
	return maps.FixedHost{CPUs: 2, MemoryLimit: e.memLimit}.ChargeMemory(n)
}
func (e *testEnv) CurrentCPU() int       { return 0 }
func (e *testEnv) InTrap(int) bool       { return false }
func (e *testEnv) Nanotime() int64       { return e.clock.Add(100) }
func (e *testEnv) BootTime() uint64      { return 42e9 }
func (e *testEnv) Arch() verifier.Arch   { return e.arch }
func (e *testEnv) Helpers() *helpers.Set { return e.helpers }

// proc is a process calling bpf(2) through the byte-level interface: its
// attrs live in its SliceSpace.
type proc struct {
	t   *testing.T
	sys *System
	as  *syscall.SliceSpace
	tk  *syscall.Task
}

func newSystem() *System { return New(newTestEnv()) }

func newProc(t *testing.T, s *System) *proc {
	as := syscall.NewSliceSpace()
	return &proc{t: t, sys: s, as: as, tk: &syscall.Task{Mem: as, Files: syscall.NewFDTable(0), Caps: syscall.AllCaps}}
}

// bytesOf is the memory of *v.
func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// sysCall runs cmd with *attr placed in user memory (shared: results written
// into the attr are seen in *attr).
func sysCall[T any](p *proc, cmd linux.BPFCmd, attr *T) (int, error) {
	b := bytesOf(attr)
	addr := p.as.Place(b)
	defer p.as.Unmap(addr)
	return p.sys.Call(p.tk, uint32(cmd), addr, uint32(len(b)))
}

// buf places b in user memory and returns its address.
func (p *proc) buf(b []byte) uint64 { return p.as.Place(b) }

func (p *proc) str(s string) uint64 { return p.as.Place(append([]byte(s), 0)) }

func (p *proc) mustOK(fd int, err error) int {
	p.t.Helper()
	if err != nil {
		p.t.Fatalf("unexpected error %v", errName(err))
	}
	return fd
}

func errName(err error) string {
	var e linux.Errno
	if errors.As(err, &e) {
		return e.Name()
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func (p *proc) createMap(typ linux.BPFMapType, key, value, max, flags uint32) int {
	p.t.Helper()
	a := linux.BPFAttrMapCreate{MapType: uint32(typ), KeySize: key, ValueSize: value, MaxEntries: max, MapFlags: flags}
	return p.mustOK(sysCall(p, linux.BPF_MAP_CREATE, &a))
}

func (p *proc) update(fd int, key, value []byte, flags uint64) error {
	a := linux.BPFAttrMapElem{MapFD: uint32(fd), Key: p.buf(key), Value: p.buf(value), Flags: flags}
	_, err := sysCall(p, linux.BPF_MAP_UPDATE_ELEM, &a)
	return err
}

func (p *proc) lookup(fd int, key []byte, size int) ([]byte, error) {
	v := make([]byte, size)
	a := linux.BPFAttrMapElem{MapFD: uint32(fd), Key: p.buf(key), Value: p.buf(v)}
	_, err := sysCall(p, linux.BPF_MAP_LOOKUP_ELEM, &a)
	return v, err
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// progAttr is a PROG_LOAD attr for insns with a GPL license.
func (p *proc) progAttr(typ linux.BPFProgType, insns []isa.Instruction) linux.BPFAttrProgLoad {
	return linux.BPFAttrProgLoad{ProgType: uint32(typ), InsnCnt: uint32(len(insns)),
		Insns: p.buf(isa.Encode(insns)), License: p.str("GPL")}
}

func (p *proc) loadProg(typ linux.BPFProgType, insns []isa.Instruction) int {
	p.t.Helper()
	a := p.progAttr(typ, insns)
	return p.mustOK(sysCall(p, linux.BPF_PROG_LOAD, &a))
}

// asmProg assembles a test program (bpf/asm syntax).
func asmProg(t testing.TB, src string) []isa.Instruction {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	return insns
}

// closeAll closes the process's descriptors and checks nothing is left.
func (p *proc) closeAll() { p.tk.Files.CloseAll() }

// asmAssemble is asm.Assemble, for builders without a testing.TB.
func asmAssemble(src string) ([]isa.Instruction, error) { return asm.Assemble(src) }
