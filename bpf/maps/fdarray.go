package maps

import (
	"sync/atomic"

	"hachi/syscall/linux"
)

// fdArray is what the arrays of kernel objects share (arraymap.c's fd_array
// functions): max_entries slots of a u32 index, each empty or holding one
// object, replaced atomically; user space names objects by fd.
type fdArray[T any] struct {
	base
	max   uint32
	slots []atomic.Pointer[T]
}

// fdArrayAllocCheck is fd_array_map_alloc_check.
func fdArrayAllocCheck(spec Spec) error {
	if spec.ValueSize != 4 {
		return linux.EINVAL
	}
	// Program read-only/write-only is not supported for special maps.
	if spec.Flags&(linux.BPF_F_RDONLY_PROG|linux.BPF_F_WRONLY_PROG) != 0 {
		return linux.EINVAL
	}
	return arrayAllocCheck(spec)
}

// init sets a up for spec (fd_array_map_alloc_check, array_map_alloc).
func (a *fdArray[T]) init(spec Spec, host Host) error {
	if err := fdArrayAllocCheck(spec); err != nil {
		return err
	}
	if err := host.ChargeMemory(uint64(spec.MaxEntries) * 8); err != nil {
		return err
	}
	a.base = newBase(spec, host.PossibleCPUs())
	a.max = spec.MaxEntries
	a.slots = make([]atomic.Pointer[T], spec.MaxEntries)
	return nil
}

// get is slot i's object, nil when empty or out of range.
func (a *fdArray[T]) get(i uint32) *T {
	if i >= a.max {
		return nil
	}
	return a.slots[i].Load()
}

// set is bpf_fd_array_map_update_elem once the object is resolved.
func (a *fdArray[T]) set(key []byte, obj *T, flags uint64) error {
	if err := a.sysWritable(); err != nil {
		return err
	}
	if flags != linux.BPF_ANY {
		return linux.EINVAL
	}
	i := le32(key)
	if i >= a.max {
		return linux.E2BIG
	}
	a.slots[i].Store(obj)
	return nil
}

// lookupObject is the syscall side's read of slot key.
func (a *fdArray[T]) lookupObject(key []byte) (*T, error) {
	if obj := a.get(le32(key)); obj != nil {
		return obj, nil
	}
	return nil, linux.ENOENT
}

// DeleteElem implements Map (fd_array_map_delete_elem).
func (a *fdArray[T]) DeleteElem(_ int, key []byte) error {
	i := le32(key)
	if i >= a.max {
		return linux.E2BIG
	}
	if a.slots[i].Swap(nil) == nil {
		return linux.ENOENT
	}
	return nil
}

// Delete implements Map.
func (a *fdArray[T]) Delete(key []byte) error {
	if err := a.sysWritable(); err != nil {
		return err
	}
	return a.DeleteElem(-1, key)
}

// UpdateElem implements Map: programs cannot store objects (EINVAL).
func (a *fdArray[T]) UpdateElem(int, []byte, []byte, uint64) error { return linux.EINVAL }

// Update implements Map: objects come through UpdateObject (EINVAL).
func (a *fdArray[T]) Update(_, _ []byte, _ uint64) error {
	if err := a.sysWritable(); err != nil {
		return err
	}
	return linux.EINVAL
}

// NextKey implements Map (array_map_get_next_key).
func (a *fdArray[T]) NextKey(key, next []byte) error { return arrayNextKey(a.max, key, next) }

// Clear empties every slot (bpf_fd_array_map_clear): Linux does it for a
// PROG_ARRAY when its last user reference goes (map_release_uref), and for
// a PERF_EVENT_ARRAY on release unless BPF_F_PRESERVE_ELEMS; the bpf()
// layer calls it then.
func (a *fdArray[T]) Clear() {
	for i := range a.slots {
		a.slots[i].Store(nil)
	}
}
