// Package helperstest is a helpers.Kernel for host tests: fixed clocks,
// tasks per CPU, kernel and user memory made of registered byte slices
// (any other address faults), a symbol table, canned stack traces, and a
// trace pipe that records what programs print.
package helperstest

import (
	"sort"
	"sync"
	"unsafe"

	"hachi/bpf/helpers"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Kernel implements helpers.Kernel from its fields, which must be set up
// before programs run. Memory and symbols may be added at any time.
type Kernel struct {
	// Monotonic, Boot and Coarse are what the clocks return; each reading
	// of Monotonic adds Step to it.
	Monotonic, Boot, Coarse uint64
	Step                    uint64
	// Tasks are the tasks running on each CPU; a CPU not in the map runs
	// none.
	Tasks map[uint32]helpers.Task
	// Limit is TASK_SIZE: addresses below it are user addresses.
	Limit uint64
	// Stacks are the stack traces StackTrace reports per CPU (kernel and
	// user); FuncIPs the probed function addresses per CPU.
	Stacks, UserStacks map[uint32][]uint64
	FuncIPs            map[uint32]uint64

	mu      sync.Mutex
	memMu   sync.RWMutex // kernel, user
	clock   uint64
	kernel  []region // sorted by start
	user    []region
	symbols []symbol // sorted by addr
	lines   []Line
}

// Line is one message a program printed with bpf_trace_printk.
type Line struct {
	CPU uint32
	Msg string
}

type region struct {
	start uint64
	mem   []byte
}

type symbol struct {
	name       string
	addr, size uint64
}

var _ helpers.Kernel = (*Kernel)(nil)

// KernelMemory makes b readable at its own address, as kernel memory.
func (k *Kernel) KernelMemory(b []byte) uint64 {
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	k.memMu.Lock()
	k.kernel = insert(k.kernel, region{addr, b})
	k.memMu.Unlock()
	return addr
}

// UserMemory makes b readable at user address addr.
func (k *Kernel) UserMemory(addr uint64, b []byte) {
	k.memMu.Lock()
	k.user = insert(k.user, region{addr, b})
	k.memMu.Unlock()
}

func insert(rs []region, r region) []region {
	rs = append(rs, r)
	sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	return rs
}

// AddSymbol names [addr, addr+size) for %pS and %ps.
func (k *Kernel) AddSymbol(name string, addr, size uint64) {
	k.memMu.Lock()
	k.symbols = append(k.symbols, symbol{name, addr, size})
	sort.Slice(k.symbols, func(i, j int) bool { return k.symbols[i].addr < k.symbols[j].addr })
	k.memMu.Unlock()
}

// Lines returns what programs printed so far, and forgets it.
func (k *Kernel) Lines() []Line {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.lines
	k.lines = nil
	return l
}

// MonotonicNS implements helpers.Clock.
func (k *Kernel) MonotonicNS() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clock += k.Step
	return k.Monotonic + k.clock - k.Step
}

// BootNS implements helpers.Clock.
func (k *Kernel) BootNS() uint64 { return k.Boot }

// CoarseNS implements helpers.Clock.
func (k *Kernel) CoarseNS() uint64 { return k.Coarse }

// CurrentTask implements helpers.Tasks.
func (k *Kernel) CurrentTask(cpu uint32) (helpers.Task, bool) {
	t, ok := k.Tasks[cpu]
	return t, ok
}

func read(rs []region, dst []byte, addr uint64) error {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].start > addr }) - 1
	if i < 0 {
		return linux.EFAULT
	}
	r := rs[i]
	off := addr - r.start
	if off > uint64(len(r.mem)) || uint64(len(dst)) > uint64(len(r.mem))-off {
		return linux.EFAULT
	}
	copy(dst, r.mem[off:])
	return nil
}

// ReadKernel implements helpers.Memory: registered kernel memory only;
// ERANGE for a user address, as x86's copy_from_kernel_nofault.
func (k *Kernel) ReadKernel(dst []byte, addr uint64) error {
	if addr < k.Limit {
		return linux.ERANGE
	}
	k.memMu.RLock()
	defer k.memMu.RUnlock()
	return read(k.kernel, dst, addr)
}

// ReadUser implements helpers.Memory.
func (k *Kernel) ReadUser(dst []byte, addr uint64) error {
	if addr >= k.Limit {
		return linux.EFAULT
	}
	k.memMu.RLock()
	defer k.memMu.RUnlock()
	return read(k.user, dst, addr)
}

// UserLimit implements helpers.Memory.
func (k *Kernel) UserLimit() uint64 { return k.Limit }

// StackTrace implements helpers.Unwinder with the canned traces.
func (k *Kernel) StackTrace(cpu uint32, _ vm.Region, user bool, ips []uint64) (int, error) {
	stacks := k.Stacks
	if user {
		stacks = k.UserStacks
	}
	s, ok := stacks[cpu]
	if !ok {
		return 0, linux.EFAULT
	}
	return copy(ips, s), nil
}

// FuncIP implements helpers.Unwinder.
func (k *Kernel) FuncIP(cpu uint32, _ vm.Region) uint64 { return k.FuncIPs[cpu] }

// Symbol implements helpers.Unwinder.
func (k *Kernel) Symbol(addr uint64) (string, uint64, uint64, bool) {
	k.memMu.RLock()
	defer k.memMu.RUnlock()
	i := sort.Search(len(k.symbols), func(i int) bool { return k.symbols[i].addr > addr }) - 1
	if i < 0 || addr-k.symbols[i].addr >= k.symbols[i].size {
		return "", 0, 0, false
	}
	s := k.symbols[i]
	return s.name, addr - s.addr, s.size, true
}

// TracePrintk implements helpers.TracePipe.
func (k *Kernel) TracePrintk(cpu uint32, msg []byte) {
	k.mu.Lock()
	k.lines = append(k.lines, Line{cpu, string(msg)})
	k.mu.Unlock()
}
