package vm

import (
	"unsafe"

	"hachi/bpf/isa"
)

// HelperFunc is a helper (or kfunc) implementation. It receives r1-r5 and
// returns the new r0, like Linux's BPF_CALL_5 functions; env is the running
// CPU's state (env.Program(), env.Context(), env.Call for callbacks,
// env.Memory to reach program memory, env.Declare for memory it returns).
//
// Pointers arrive as addresses. A helper running a checked program
// (env.Checked()) must not trust them: it reaches memory only through
// env.Memory and maps through env.Map, which check; for a verified
// program those trust the verifier and cost nothing. A helper that returns
// the address of memory the program may then access (a map value) calls
// env.Declare on it. Helpers must not retain env after returning.
type HelperFunc func(env *Env, r1, r2, r3, r4, r5 uint64) uint64

// Helpers is the helper table, indexed by Linux helper id (enum
// bpf_func_id in uapi/linux/bpf.h); nil entries do not exist. The kernel
// builds one per program type, as Linux's get_func_proto does. Id 12
// (bpf_tail_call) is the VM's own and its entry is ignored.
type Helpers []HelperFunc

// TailCallHelper is the Linux helper id of bpf_tail_call, which the VM
// implements itself.
const TailCallHelper = 12

// MapHandle is the stable object whose address `lddw rX, map_fd N` puts in
// a register, like the `struct bpf_map *` Linux loads. The loader makes one
// per map (NewMapHandle) and keeps it, unmoved and alive, as long as any
// program refers to it; helpers turn a register back into it with env.Map.
type MapHandle struct {
	// Map is the map object (a bpf/maps type).
	Map    any
	progs  ProgArray
	inline *inlineLookup
}

// NewMapHandle wraps a map object. If it is a ProgArray, programs can tail
// call through it; if it is a LookupInliner, verified programs can look it
// up without the helper.
func NewMapHandle(m any) *MapHandle {
	h := &MapHandle{Map: m}
	h.progs, _ = m.(ProgArray)
	h.setInline()
	return h
}

// Addr is the register value that stands for h.
func (h *MapHandle) Addr() uint64 { return uint64(uintptr(unsafe.Pointer(h))) }

// ProgArray is what a BPF_MAP_TYPE_PROG_ARRAY offers the VM for tail calls
// (kernel/bpf/arraymap.c). A tail call goes through only to a program of
// the same mode (Program.Checked) as the caller: a prog array should refuse
// others at update time, as Linux's bpf_prog_map_compatible does.
type ProgArray interface {
	// Len is the number of slots (max_entries).
	Len() uint32
	// Program is the program in slot i < Len(), or nil if the slot is empty.
	// It is called concurrently with updates and must be safe for that.
	Program(i uint32) *Program
}

// Resolver supplies, at load time, what the pseudo sources of lddw and
// kfunc calls refer to, like Linux's resolve_pseudo_ldimm64 and
// add_kfunc_call (kernel/bpf/verifier.c): the bpf() layer implements it
// with the loading process's file descriptors and fd_array.
type Resolver interface {
	// Map is the map of `lddw map_fd FD` (src 1, ref is the fd) or
	// `lddw map_idx I` (src 5, ref indexes fd_array).
	Map(src isa.PseudoSource, ref int32) (*MapHandle, error)
	// MapValue is the value memory of a map with direct value access
	// (array maps) for `lddw map_value` (src 2) and `lddw map_idx_value`
	// (src 6); the VM adds the offset of the instruction's second half.
	MapValue(src isa.PseudoSource, ref int32) (Region, error)
	// KernelVariable is a kernel variable named by BTF id, for
	// `lddw btf_id` (src 3); btfFD names the module BTF, 0 for vmlinux.
	KernelVariable(btfID, btfFD int32) (Region, error)
	// Kfunc is the kernel function of a kfunc call (call src 2), named by
	// BTF id and the fd_array index of its module BTF (0 for vmlinux).
	Kfunc(btfID int32, btfIndex int16) (HelperFunc, error)
}

// Region is memory a program may access, as the checked mode sees it.
type Region struct {
	Base     unsafe.Pointer
	Size     uintptr
	Writable bool
}

// Bytes is the region of b.
func Bytes(b []byte, writable bool) Region {
	return Region{Base: unsafe.Pointer(unsafe.SliceData(b)), Size: uintptr(len(b)), Writable: writable}
}

func (r Region) addr() uint64 { return uint64(uintptr(r.Base)) }

// contains reports whether [addr, addr+size) lies inside r.
func (r Region) contains(addr, size uint64) bool {
	base := r.addr()
	return size <= uint64(r.Size) && addr >= base && addr-base <= uint64(r.Size)-size
}
