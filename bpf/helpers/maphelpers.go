package helpers

import (
	"unsafe"

	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The map helpers (kernel/bpf/helpers.c): thin shims over the program side
// of bpf/maps. Array and hash lookups are dispatched on the concrete type
// first, so the hot path is one type test and a direct call.

// valueRegion makes a map value accessible to a checked program until the
// end of the run; writable unless the map is BPF_F_RDONLY_PROG.
func valueRegion(env *vm.Env, p unsafe.Pointer, size uint32, flags uint32) {
	if p != nil && env.Checked() {
		env.Declare(vm.Region{Base: p, Size: uintptr(size), Writable: flags&linux.BPF_F_RDONLY_PROG == 0})
	}
}

// trusted is size bytes of a verified program's memory at addr: the
// verifier proved the access, so no check (what env.Memory does for a
// verified program, without the call).
func trusted(addr uint64, size uint32) []byte {
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), size)
}

// mapLookupElem is bpf_map_lookup_elem (1): the value's address or NULL;
// for maps of maps, the inner map. Verified programs on arrays and hash
// tables take the fast path: a type test and an inlined lookup.
func mapLookupElem(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	h := env.Map(r1)
	if h == nil {
		return 0
	}
	if !env.Checked() {
		switch m := h.Map.(type) {
		case *maps.Array:
			return uint64(uintptr(m.LookupElem(int(env.CPU), trusted(r2, 4))))
		case *maps.Hash:
			return uint64(uintptr(m.LookupElem(int(env.CPU), trusted(r2, m.KeySize()))))
		}
	}
	m, ok := h.Map.(maps.Map)
	if !ok {
		return 0
	}
	info := m.Info()
	key, err := env.Memory(r2, uint64(info.KeySize), false)
	if err != nil {
		return 0
	}
	p := m.LookupElem(int(env.CPU), key)
	switch info.Type {
	case linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, linux.BPF_MAP_TYPE_HASH_OF_MAPS:
		// An inner map, not memory.
	default:
		valueRegion(env, p, info.ValueSize, info.Flags)
	}
	return uint64(uintptr(p))
}

// mapUpdateElem is bpf_map_update_elem (2).
func mapUpdateElem(env *vm.Env, r1, r2, r3, r4, _ uint64) uint64 {
	if !env.Checked() {
		if h := env.Map(r1); h != nil {
			switch m := h.Map.(type) {
			case *maps.Array:
				return errno(m.UpdateElem(int(env.CPU), trusted(r2, 4), trusted(r3, m.ValueSize()), r4))
			case *maps.Hash:
				return errno(m.UpdateElem(int(env.CPU), trusted(r2, m.KeySize()), trusted(r3, m.ValueSize()), r4))
			}
		}
	}
	m := mapOf(env, r1)
	if m == nil {
		return errno(linux.EINVAL)
	}
	info := m.Info()
	key, err := env.Memory(r2, uint64(info.KeySize), false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	value, err := env.Memory(r3, uint64(info.ValueSize), false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	return errno(m.UpdateElem(int(env.CPU), key, value, r4))
}

// mapDeleteElem is bpf_map_delete_elem (3).
func mapDeleteElem(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	if !env.Checked() {
		if h := env.Map(r1); h != nil {
			if m, ok := h.Map.(*maps.Hash); ok {
				return errno(m.DeleteElem(int(env.CPU), trusted(r2, m.KeySize())))
			}
		}
	}
	m := mapOf(env, r1)
	if m == nil {
		return errno(linux.EINVAL)
	}
	key, err := env.Memory(r2, uint64(m.Info().KeySize), false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	return errno(m.DeleteElem(int(env.CPU), key))
}

// queuer is the map a push, pop or peek names, and its value memory.
func queuer(env *vm.Env, r1, r2 uint64, write bool) (maps.Queuer, []byte, error) {
	m := mapOf(env, r1)
	q, ok := m.(maps.Queuer)
	if !ok {
		return nil, nil, linux.EINVAL
	}
	value, err := env.Memory(r2, uint64(m.Info().ValueSize), write)
	if err != nil {
		return nil, nil, linux.EFAULT
	}
	return q, value, nil
}

// mapPushElem is bpf_map_push_elem (87): queue, stack, bloom filter.
func mapPushElem(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	q, value, err := queuer(env, r1, r2, false)
	if err != nil {
		return errno(err)
	}
	return errno(q.PushElem(int(env.CPU), value, r3))
}

// mapPopElem is bpf_map_pop_elem (88).
func mapPopElem(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	q, value, err := queuer(env, r1, r2, true)
	if err != nil {
		return errno(err)
	}
	return errno(q.PopElem(int(env.CPU), value))
}

// mapPeekElem is bpf_map_peek_elem (89); for a bloom filter it tests
// membership of the value the program passes.
func mapPeekElem(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	q, value, err := queuer(env, r1, r2, true)
	if err != nil {
		return errno(err)
	}
	return errno(q.PeekElem(int(env.CPU), value))
}

// mapLookupPercpuElem is bpf_map_lookup_percpu_elem (195): the value in
// another CPU's slot; NULL past the possible CPUs.
func mapLookupPercpuElem(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	m, ok := mapOf(env, r1).(maps.PerCPUMap)
	if !ok {
		return 0
	}
	info := m.Info()
	key, err := env.Memory(r2, uint64(info.KeySize), false)
	if err != nil {
		return 0
	}
	p := m.LookupPerCPUElem(key, int(uint32(r3)))
	valueRegion(env, p, info.ValueSize, info.Flags)
	return uint64(uintptr(p))
}

// forEachVisitor calls a program's callback for each element
// (bpf_for_each_map_elem's callback: long cb(map, key, value, ctx)). The
// visitors live in the per-CPU state (an interface argument would escape)
// and hold the running Env by address: the helper fills one in trap
// context when the program runs there, where storing a pointer into the
// heap would run the GC write barrier that the trap may have interrupted.
// The Env is its CPU's, alive and unmoved while the program runs.
type forEachVisitor struct {
	env       uintptr // the *vm.Env
	fn, ctx   uint64
	mapAddr   uint64
	keySize   uint32
	valueSize uint32
	flags     uint32
}

// Visit implements maps.Visitor: the callback returns 0 to continue, 1 to
// stop.
func (v *forEachVisitor) Visit(key, value unsafe.Pointer) bool {
	env := (*vm.Env)(*(*unsafe.Pointer)(unsafe.Pointer(&v.env)))
	if env.Checked() {
		env.Declare(vm.Region{Base: key, Size: uintptr(v.keySize)})
		valueRegion(env, value, v.valueSize, v.flags)
	}
	r0, ok := env.Call(v.fn, v.mapAddr, uint64(uintptr(key)), uint64(uintptr(value)), v.ctx, 0)
	return !ok || r0 != 0
}

// forEachMapElem is bpf_for_each_map_elem (164): the number of elements
// visited; EINVAL for flags or a map without iteration.
func (s *Set) forEachMapElem(env *vm.Env, r1, r2, r3, r4, _ uint64) uint64 {
	if r4 != 0 {
		return errno(linux.EINVAL)
	}
	m := mapOf(env, r1)
	fe, ok := m.(maps.ForEacher)
	if !ok {
		return errno(linux.EINVAL)
	}
	c := s.cpu(env)
	if c.visitNest >= len(c.visitors) {
		return errno(linux.EBUSY)
	}
	v := &c.visitors[c.visitNest]
	info := m.Info()
	*v = forEachVisitor{env: uintptr(unsafe.Pointer(env)), fn: r2, ctx: r3, mapAddr: r1, keySize: info.KeySize, valueSize: info.ValueSize, flags: info.Flags}
	c.visitNest++
	n := fe.ForEachElem(int(env.CPU), v)
	c.visitNest--
	v.env = 0
	return n
}

// maxLoops is BPF_MAX_LOOPS, the most iterations bpf_loop makes.
const maxLoops = 1 << 23

// loop is bpf_loop (181): calls the callback with the index and ctx until
// it returns non-zero (1 means stop) or nr_loops calls were made; returns
// the number of calls. EINVAL for flags, E2BIG past BPF_MAX_LOOPS.
func loop(env *vm.Env, r1, r2, r3, r4, _ uint64) uint64 {
	if r4 != 0 {
		return errno(linux.EINVAL)
	}
	n := uint32(r1)
	if n > maxLoops {
		return errno(linux.E2BIG)
	}
	for i := uint32(0); i < n; i++ {
		r0, ok := env.Call(r2, uint64(i), r3, 0, 0, 0)
		if !ok {
			return 0 // the callback faulted: the run ends
		}
		if r0 != 0 {
			return uint64(i) + 1
		}
	}
	return uint64(n)
}
