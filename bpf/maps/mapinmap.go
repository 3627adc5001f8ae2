package maps

import (
	"sync"
	"unsafe"

	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Maps of maps (kernel/bpf/map_in_map.c, with the ops in arraymap.c and
// hashtab.c): values are inner maps, stored as the vm.MapHandle the
// bpf() layer made for each map, checked against the template inner_map_fd
// named at creation. A program's lookup returns the inner map's handle
// address, which the program uses like a map loaded with lddw.
//
// Lifetime: a program may hold an inner map's address after the outer map
// dropped it, and Linux keeps the inner map alive until an RCU grace period
// has passed. Hachi has no grace periods, so an outer map keeps every inner
// map it ever held until the outer map itself goes.

// innerTemplate is bpf_map_meta_alloc's copy of the inner map's attributes.
type innerTemplate struct {
	meta Info
	mu   sync.Mutex
	held map[*vm.MapHandle]struct{}
}

// newInnerTemplate is bpf_map_meta_alloc: EBADF without an inner map,
// EINVAL for a map of maps (one level only), ENOTSUPP for kinds that
// cannot be inner maps.
func newInnerTemplate(inner Map) (*innerTemplate, error) {
	if inner == nil {
		return nil, linux.EBADF
	}
	info := inner.Info()
	switch info.Type {
	case linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, linux.BPF_MAP_TYPE_HASH_OF_MAPS:
		return nil, linux.EINVAL
	case linux.BPF_MAP_TYPE_PROG_ARRAY:
		// Linux refuses prog arrays as inner maps: tail calls must know
		// their array at verification time.
		return nil, linux.ENOTSUPP
	}
	return &innerTemplate{meta: info, held: map[*vm.MapHandle]struct{}{}}, nil
}

// accept is map_fd_get_ptr's check (bpf_map_meta_equal, and for arrays
// array_map_meta_equal's max_entries unless BPF_F_INNER_MAP): the inner
// map of obj must match the template.
func (t *innerTemplate) accept(obj any) (*vm.MapHandle, error) {
	h, ok := obj.(*vm.MapHandle)
	if !ok || h == nil {
		return nil, linux.EINVAL
	}
	m, ok := h.Map.(Map)
	if !ok {
		return nil, linux.EINVAL
	}
	info := m.Info()
	if info.Type != t.meta.Type || info.KeySize != t.meta.KeySize ||
		info.ValueSize != t.meta.ValueSize || info.Flags != t.meta.Flags {
		return nil, linux.EINVAL
	}
	arrayKind := info.Type == linux.BPF_MAP_TYPE_ARRAY || info.Type == linux.BPF_MAP_TYPE_PERCPU_ARRAY
	if arrayKind && t.meta.Flags&linux.BPF_F_INNER_MAP == 0 && info.MaxEntries != t.meta.MaxEntries {
		return nil, linux.EINVAL
	}
	t.mu.Lock()
	t.held[h] = struct{}{}
	t.mu.Unlock()
	return h, nil
}

// InnerInfo describes the template inner map (the verifier types an inner
// lookup's result from it, as Linux uses map->inner_map_meta).
func (t *innerTemplate) InnerInfo() Info { return t.meta }

// ArrayOfMaps is BPF_MAP_TYPE_ARRAY_OF_MAPS.
type ArrayOfMaps struct {
	fdArray[vm.MapHandle]
	*innerTemplate
}

var (
	_ ObjectMap = (*ArrayOfMaps)(nil)
	_ Freezer   = (*ArrayOfMaps)(nil)
)

func newArrayOfMaps(spec Spec, host Host) (*ArrayOfMaps, error) {
	a := &ArrayOfMaps{}
	if err := a.init(spec, host); err != nil {
		return nil, err
	}
	t, err := newInnerTemplate(spec.Inner)
	if err != nil {
		return nil, err
	}
	a.innerTemplate = t
	return a, nil
}

// LookupElem implements Map (array_of_map_lookup_elem): the inner map's
// handle, or nil.
func (a *ArrayOfMaps) LookupElem(_ int, key []byte) unsafe.Pointer {
	return unsafe.Pointer(a.get(le32(key)))
}

// UpdateObject implements ObjectMap: obj must be a *vm.MapHandle matching
// the template.
func (a *ArrayOfMaps) UpdateObject(key []byte, obj any, flags uint64) error {
	h, err := a.accept(obj)
	if err != nil {
		return err
	}
	return a.set(key, h, flags)
}

// LookupObject implements ObjectMap: the *vm.MapHandle at key (user space
// reads its id).
func (a *ArrayOfMaps) LookupObject(key []byte) (any, error) {
	h, err := a.lookupObject(key)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Lookup implements Map: ids come through LookupObject (EINVAL).
func (a *ArrayOfMaps) Lookup(_, _ []byte, _ uint64) error { return linux.EINVAL }

// HashOfMaps is BPF_MAP_TYPE_HASH_OF_MAPS: a hash table (any key) of inner
// maps. Batch operations, which Linux has, are not implemented (the bpf()
// layer answers ENOTSUPP).
type HashOfMaps struct {
	h *Hash
	*innerTemplate
}

var (
	_ ObjectMap = (*HashOfMaps)(nil)
	_ Freezer   = (*HashOfMaps)(nil)
)

func newHashOfMaps(spec Spec, host Host) (*HashOfMaps, error) {
	// fd_htab_map_alloc_check
	if spec.ValueSize != 4 {
		return nil, linux.EINVAL
	}
	if err := htabAllocCheck(spec); err != nil {
		return nil, err
	}
	t, err := newInnerTemplate(spec.Inner)
	if err != nil {
		return nil, err
	}
	h, err := allocHash(spec, host, true)
	if err != nil {
		return nil, err
	}
	return &HashOfMaps{h: h, innerTemplate: t}, nil
}

// Info implements Map.
func (m *HashOfMaps) Info() Info { return m.h.Info() }

// Freeze implements Freezer.
func (m *HashOfMaps) Freeze() error { return m.h.Freeze() }

// Frozen implements Freezer.
func (m *HashOfMaps) Frozen() bool { return m.h.Frozen() }

// LookupElem implements Map (htab_of_map_lookup_elem): the inner map's
// handle, or nil.
func (m *HashOfMaps) LookupElem(_ int, key []byte) unsafe.Pointer {
	h := m.h
	id := h.find(key[:h.keySize], hashKey(key[:h.keySize], h.seed))
	if id == 0 {
		return nil
	}
	c, i := h.chunkOf(id)
	return unsafe.Pointer(c.inner[i].Load())
}

// UpdateObject implements ObjectMap (bpf_fd_htab_map_update_elem).
func (m *HashOfMaps) UpdateObject(key []byte, obj any, flags uint64) error {
	if err := m.h.sysWritable(); err != nil {
		return err
	}
	inner, err := m.accept(obj)
	if err != nil {
		return err
	}
	var zero [4]byte
	return m.h.update(-1, key, zero[:], flags, inner)
}

// LookupObject implements ObjectMap: the *vm.MapHandle at key.
func (m *HashOfMaps) LookupObject(key []byte) (any, error) {
	if h := m.LookupElem(-1, key); h != nil {
		return (*vm.MapHandle)(h), nil
	}
	return nil, linux.ENOENT
}

// UpdateElem implements Map: programs cannot store maps (EINVAL).
func (m *HashOfMaps) UpdateElem(int, []byte, []byte, uint64) error { return linux.EINVAL }

// DeleteElem implements Map.
func (m *HashOfMaps) DeleteElem(cpu int, key []byte) error { return m.h.DeleteElem(cpu, key) }

// Lookup implements Map: ids come through LookupObject (EINVAL).
func (m *HashOfMaps) Lookup(_, _ []byte, _ uint64) error { return linux.EINVAL }

// Update implements Map: maps come through UpdateObject (EINVAL).
func (m *HashOfMaps) Update(_, _ []byte, _ uint64) error {
	if err := m.h.sysWritable(); err != nil {
		return err
	}
	return linux.EINVAL
}

// Delete implements Map.
func (m *HashOfMaps) Delete(key []byte) error { return m.h.Delete(key) }

// NextKey implements Map.
func (m *HashOfMaps) NextKey(key, next []byte) error { return m.h.NextKey(key, next) }
