package maps

import (
	"sync"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Prog is a loaded program as a PROG_ARRAY holds it: the bpf() layer's
// program object, which it passes to UpdateObject and gets back from
// LookupObject (to report its id).
type Prog interface {
	// VMProgram is what the VM runs on a tail call.
	VMProgram() *vm.Program
	// ProgType is the program's BPF_PROG_TYPE.
	ProgType() linux.BPFProgType
}

// ProgArray is BPF_MAP_TYPE_PROG_ARRAY (arraymap.c's prog_array_map_ops):
// the programs bpf_tail_call jumps to. It implements the VM's
// vm.ProgArray. All its programs, and the programs that tail call through
// it, must be compatible with its owner, the first program it met: same
// program type and same VM mode (checked or verified), as Linux's
// bpf_prog_map_compatible demands the same type and JIT state.
type ProgArray struct {
	fdArray[progEntry]
	ownerMu  sync.Mutex
	hasOwner bool
	owner    linux.BPFProgType
	checked  bool
}

type progEntry struct {
	prog Prog
	vm   *vm.Program
}

var (
	_ ObjectMap    = (*ProgArray)(nil)
	_ vm.ProgArray = (*ProgArray)(nil)
	_ Freezer      = (*ProgArray)(nil)
)

func newProgArray(spec Spec, host Host) (*ProgArray, error) {
	a := &ProgArray{}
	if err := a.init(spec, host); err != nil {
		return nil, err
	}
	return a, nil
}

// Len implements vm.ProgArray.
func (a *ProgArray) Len() uint32 { return a.max }

// Program implements vm.ProgArray: the program in slot i, or nil.
func (a *ProgArray) Program(i uint32) *vm.Program {
	if e := a.get(i); e != nil {
		return e.vm
	}
	return nil
}

// Compatible is bpf_prog_map_compatible: it makes p the owner if there is
// none yet, and reports whether p matches the owner. The bpf() layer calls
// it for every program that uses the array (at load) and UpdateObject for
// every program stored.
func (a *ProgArray) Compatible(p Prog) bool {
	a.ownerMu.Lock()
	defer a.ownerMu.Unlock()
	checked := p.VMProgram().Checked()
	if !a.hasOwner {
		a.hasOwner, a.owner, a.checked = true, p.ProgType(), checked
		return true
	}
	return a.owner == p.ProgType() && a.checked == checked
}

// UpdateObject implements ObjectMap (prog_fd_array_get_ptr): obj must be
// a Prog compatible with the array (EINVAL otherwise).
func (a *ProgArray) UpdateObject(key []byte, obj any, flags uint64) error {
	p, ok := obj.(Prog)
	if !ok || p.VMProgram() == nil || !a.Compatible(p) {
		return linux.EINVAL
	}
	return a.set(key, &progEntry{prog: p, vm: p.VMProgram()}, flags)
}

// LookupObject implements ObjectMap: the Prog at key (user space reads
// its id).
func (a *ProgArray) LookupObject(key []byte) (any, error) {
	e, err := a.lookupObject(key)
	if err != nil {
		return nil, err
	}
	return e.prog, nil
}

// LookupElem implements Map: programs cannot read a prog array (nil).
func (a *ProgArray) LookupElem(int, []byte) unsafe.Pointer { return nil }

// Lookup implements Map: ids come through LookupObject (EINVAL).
func (a *ProgArray) Lookup(_, _ []byte, _ uint64) error { return linux.EINVAL }
