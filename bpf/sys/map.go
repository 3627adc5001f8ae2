package sys

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/btf"
	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Map is a BPF map object (struct bpf_map): a bpf/maps map kind with the
// attributes it was created with, an id, and two reference counts as in
// Linux: refs (descriptors, pins, programs using it, maps of maps holding
// it) and urefs (descriptors and pins only). When the last user reference
// goes, a prog array forgets its programs (map_release_uref), which breaks
// the cycles tail calls can make; when the last reference goes, the map is
// freed: its id is released and what it held is put.
type Map struct {
	refs  atomic.Int64
	urefs atomic.Int64
	id    uint32
	sys   *System

	kind   maps.Map
	handle *vm.MapHandle
	name   string
	info   maps.Info

	btf                   *BTF
	btfKeyTypeID          uint32
	btfValueTypeID        uint32
	btfVmlinuxValueTypeID uint32
	// hasTimer: the value holds a bpf_timer (such maps cannot be frozen).
	hasTimer bool

	// objMu serialises the syscall side's changes of a map of kernel
	// objects; objs is what each key holds, with a reference taken
	// (map_fd_get_ptr / map_fd_put_ptr).
	objMu sync.Mutex
	objs  map[string]any
}

// Kind is the bpf/maps map (for helpers and the kernel's mmap).
func (m *Map) Kind() maps.Map { return m.kind }

// Handle is what programs load for the map with lddw.
func (m *Map) Handle() *vm.MapHandle { return m.handle }

// ID is the map's id.
func (m *Map) ID() uint32 { return m.id }

// Name is the map's name (map_name at creation).
func (m *Map) Name() string { return m.name }

// Release implements syscall.FileObject: a descriptor goes.
func (m *Map) Release() { m.putWithUref() }

func (m *Map) pinGet() { m.getWithUref() }
func (m *Map) pinPut() { m.putWithUref() }

func (m *Map) get()         { m.refs.Add(1) }
func (m *Map) getWithUref() { m.refs.Add(1); m.urefs.Add(1) }

// tryGetWithUref is __bpf_map_inc_not_zero(map, true).
func (m *Map) tryGetWithUref() bool {
	for {
		n := m.refs.Load()
		if n <= 0 {
			return false
		}
		if m.refs.CompareAndSwap(n, n+1) {
			m.urefs.Add(1)
			return true
		}
	}
}

// putWithUref is bpf_map_put_with_uref.
func (m *Map) putWithUref() {
	if m.urefs.Add(-1) == 0 {
		m.releaseUref()
	}
	m.put()
}

// releaseUref is map_release_uref: a prog array drops its programs so that
// a program and the array it tail calls through cannot keep each other.
func (m *Map) releaseUref() {
	if m.info.Type == linux.BPF_MAP_TYPE_PROG_ARRAY {
		m.clearObjects()
	}
}

// put is bpf_map_put: the last reference frees the map.
func (m *Map) put() {
	if m.refs.Add(-1) != 0 {
		return
	}
	m.sys.maps.remove(m.id)
	m.clearObjects()
	if m.btf != nil {
		m.btf.put()
	}
}

// clearObjects empties a map of kernel objects and drops what it held.
func (m *Map) clearObjects() {
	if m.objs == nil {
		return
	}
	m.objMu.Lock()
	held := m.objs
	m.objs = map[string]any{}
	if c, ok := m.kind.(interface{ Clear() }); ok {
		c.Clear()
	} else {
		for k := range held {
			_ = m.kind.Delete([]byte(k))
		}
	}
	m.objMu.Unlock()
	for _, o := range held {
		putObject(o)
	}
}

// putObject drops the reference a map of objects held.
func putObject(o any) {
	switch o := o.(type) {
	case *Prog:
		o.put()
	case *Map:
		o.put()
	case *syscall.File:
		o.DecRef()
	}
}

// Host adapts Env to what bpf/maps asks of the kernel.
type mapHost struct{ env Env }

func (h mapHost) PossibleCPUs() int           { return h.env.PossibleCPUs() }
func (h mapHost) ChargeMemory(n uint64) error { return h.env.ChargeMemory(n) }
func (h mapHost) InTrap(cpu int) bool         { return h.env.InTrap(cpu) }
func (h mapHost) SyscallCPU() int             { return h.env.CurrentCPU() }

// bpfGetFileFlag is bpf_get_file_flag: the access mode a map's descriptors
// get from BPF_F_RDONLY / BPF_F_WRONLY.
func bpfGetFileFlag(flags uint32) (uint32, error) {
	switch {
	case flags&linux.BPF_F_RDONLY != 0 && flags&linux.BPF_F_WRONLY != 0:
		return 0, linux.EINVAL
	case flags&linux.BPF_F_RDONLY != 0:
		return syscall.O_RDONLY, nil
	case flags&linux.BPF_F_WRONLY != 0:
		return syscall.O_WRONLY, nil
	}
	return syscall.O_RDWR, nil
}

// objNameCpy is bpf_obj_name_cpy: letters, digits, '_' and '.' up to a NUL
// that must come within the 16 bytes; EINVAL otherwise.
func objNameCpy(src [linux.BPF_OBJ_NAME_LEN]byte) (string, error) {
	for i, c := range src {
		if c == 0 {
			return string(src[:i]), nil
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return "", linux.EINVAL
		}
	}
	return "", linux.EINVAL
}

// mapCreate is BPF_MAP_CREATE (syscall.c:map_create).
func (c *call) mapCreate() (int, error) {
	a := c.attr.mapCreate()
	if a.BTFVmlinuxValueTypeID != 0 {
		if a.MapType != uint32(linux.BPF_MAP_TYPE_STRUCT_OPS) || a.BTFKeyTypeID != 0 || a.BTFValueTypeID != 0 {
			return -1, linux.EINVAL
		}
	} else if a.BTFKeyTypeID != 0 && a.BTFValueTypeID == 0 {
		return -1, linux.EINVAL
	}
	if linux.BPFMapType(a.MapType) != linux.BPF_MAP_TYPE_BLOOM_FILTER && a.MapExtra != 0 {
		return -1, linux.EINVAL
	}
	fflags, err := bpfGetFileFlag(a.MapFlags)
	if err != nil {
		return -1, err
	}
	spec := maps.Spec{
		Type: linux.BPFMapType(a.MapType), KeySize: a.KeySize, ValueSize: a.ValueSize,
		MaxEntries: a.MaxEntries, Flags: a.MapFlags, NumaNode: a.NumaNode, Extra: a.MapExtra,
	}
	var inner *Map
	innerErr := error(nil)
	if spec.Type == linux.BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.Type == linux.BPF_MAP_TYPE_HASH_OF_MAPS {
		// bpf_map_meta_alloc: __bpf_map_get(inner_map_fd).
		inner, innerErr = c.mapFromFD(a.InnerMapFD)
		if inner != nil {
			defer inner.put()
			spec.Inner = inner.kind
		}
	}
	kind, err := maps.New(spec, mapHost{c.sys.env})
	if err != nil {
		if err == linux.EBADF && innerErr != nil {
			err = innerErr // the fd is open but is not a map
		}
		return -1, err
	}
	m := &Map{sys: c.sys, kind: kind, info: kind.Info()}
	m.handle = vm.NewMapHandle(kind)
	if _, ok := kind.(maps.ObjectMap); ok {
		m.objs = map[string]any{}
	}
	m.refs.Store(1)
	m.urefs.Store(1)
	fail := func(err error) (int, error) {
		if m.btf != nil {
			m.btf.put()
		}
		return -1, err
	}
	if m.name, err = objNameCpy(a.MapName); err != nil {
		return fail(err)
	}
	if a.BTFKeyTypeID != 0 || a.BTFValueTypeID != 0 || a.BTFVmlinuxValueTypeID != 0 {
		b, err := c.btfFromFD(a.BTFFD)
		if err != nil {
			return fail(err)
		}
		m.btf = b
		if a.BTFValueTypeID != 0 {
			if err := mapCheckBTF(m, b.spec, btf.TypeID(a.BTFKeyTypeID), btf.TypeID(a.BTFValueTypeID)); err != nil {
				return fail(err)
			}
		}
		m.btfKeyTypeID, m.btfValueTypeID = a.BTFKeyTypeID, a.BTFValueTypeID
		m.btfVmlinuxValueTypeID = a.BTFVmlinuxValueTypeID
	}
	if m.id, err = c.sys.maps.alloc(m); err != nil {
		return fail(err)
	}
	return installFD(c.t, syscall.NewFile(m, fflags))
}

// mapCheckBTF is map_check_btf with the kinds' map_check_btf callbacks:
// the key and value types must have the map's sizes; some kinds take no
// key type or want a particular one; a bpf_spin_lock or bpf_timer in the
// value is allowed only for the kinds Linux 6.1 allows it in.
func mapCheckBTF(m *Map, spec *btf.Spec, keyID, valueID btf.TypeID) error {
	typ := m.info.Type
	check, hasCheck := mapBTFChecks[typ]
	key, value, err := spec.CheckMapKeyValue(keyID, valueID, m.info.KeySize, m.info.ValueSize, hasCheck)
	if err != nil {
		return err
	}
	if _, found, err := spec.FindSpinLock(value); err == nil && found {
		if m.info.Flags&linux.BPF_F_RDONLY_PROG != 0 {
			return linux.EACCES
		}
		if typ != linux.BPF_MAP_TYPE_HASH && typ != linux.BPF_MAP_TYPE_ARRAY {
			return linux.ENOTSUPP
		}
	}
	if _, found, err := spec.FindTimer(value); err == nil && found {
		m.hasTimer = true
		if m.info.Flags&linux.BPF_F_RDONLY_PROG != 0 {
			return linux.EACCES
		}
		if typ != linux.BPF_MAP_TYPE_HASH && typ != linux.BPF_MAP_TYPE_LRU_HASH && typ != linux.BPF_MAP_TYPE_ARRAY {
			return linux.EOPNOTSUPP
		}
	}
	if hasCheck {
		return check(m, key, value)
	}
	return nil
}

// mapBTFChecks are the map kinds' map_check_btf callbacks (Linux 6.1).
// Kinds without one need a key type.
var mapBTFChecks = map[linux.BPFMapType]func(m *Map, key, value btf.Type) error{
	linux.BPF_MAP_TYPE_ARRAY:            arrayCheckBTF,
	linux.BPF_MAP_TYPE_PERCPU_ARRAY:     arrayCheckBTF,
	linux.BPF_MAP_TYPE_PROG_ARRAY:       noBTF,
	linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY: noBTF,
	linux.BPF_MAP_TYPE_CGROUP_ARRAY:     noBTF,
	linux.BPF_MAP_TYPE_ARRAY_OF_MAPS:    noBTF,
	linux.BPF_MAP_TYPE_HASH_OF_MAPS:     noBTF,
	linux.BPF_MAP_TYPE_STACK_TRACE:      noBTF,
	linux.BPF_MAP_TYPE_RINGBUF:          noBTF,
	linux.BPF_MAP_TYPE_LPM_TRIE: func(_ *Map, key, _ btf.Type) error {
		if key.Kind() != linux.BTF_KIND_STRUCT {
			return linux.EINVAL // trie_check_btf
		}
		return nil
	},
	linux.BPF_MAP_TYPE_BLOOM_FILTER: func(_ *Map, key, _ btf.Type) error {
		if !key.IsVoid() {
			return linux.EINVAL // bloom_map_check_btf
		}
		return nil
	},
	linux.BPF_MAP_TYPE_QUEUE: keylessBTF,
	linux.BPF_MAP_TYPE_STACK: keylessBTF,
}

// noBTF is map_check_no_btf.
func noBTF(*Map, btf.Type, btf.Type) error { return linux.ENOTSUPP }

// keylessBTF is queue_stack_map's rule: no key type.
func keylessBTF(_ *Map, key, _ btf.Type) error {
	if !key.IsVoid() {
		return linux.EINVAL
	}
	return nil
}

// arrayCheckBTF is array_map_check_btf: a u32 key, or none for the
// one-element array of a data section (.data, .rodata, .bss).
func arrayCheckBTF(m *Map, key, value btf.Type) error {
	if key.IsVoid() {
		if m.info.Type != linux.BPF_MAP_TYPE_ARRAY || m.info.MaxEntries != 1 || value.Kind() != linux.BTF_KIND_DATASEC {
			return linux.EINVAL
		}
		return nil
	}
	if key.Kind() != linux.BTF_KIND_INT || key.IntBits() != 32 || key.IntOffset() != 0 {
		return linux.EINVAL
	}
	return nil
}

// mapFromFD is __bpf_map_get: EBADF for a closed descriptor, EINVAL for
// one that is not a map. The caller owns the reference.
func (c *call) mapFromFD(fd uint32) (*Map, error) {
	m, _, err := c.mapFileFromFD(fd)
	return m, err
}

// mapFileFromFD is mapFromFD that also reports the descriptor's access
// (map_get_sys_perms: a frozen map is not writable from user space).
func (c *call) mapFileFromFD(fd uint32) (m *Map, f perms, err error) {
	file, err := getFile(c.t, fd)
	if err != nil {
		return nil, perms{}, err
	}
	defer file.DecRef()
	m, ok := file.Object().(*Map)
	if !ok {
		return nil, perms{}, linux.EINVAL
	}
	m.get()
	p := perms{read: file.Readable(), write: file.Writable()}
	if fz, ok := m.kind.(maps.Freezer); ok && fz.Frozen() {
		p.write = false
	}
	return m, p, nil
}

type perms struct{ read, write bool }

// copyKey is __bpf_copy_key: key_size bytes, or none for keyless maps
// (then a non-NULL pointer is EINVAL).
func (c *call) copyKey(ukey uint64, size uint32) ([]byte, error) {
	if size == 0 {
		if ukey != 0 {
			return nil, linux.EINVAL
		}
		return nil, nil
	}
	key := make([]byte, size)
	if err := c.t.Mem.CopyIn(ukey, key); err != nil {
		return nil, linux.EFAULT
	}
	return key, nil
}

// mapElemOp resolves the map of a MAP_*_ELEM command and checks the
// descriptor's access.
func (c *call) mapElemOp(needRead, needWrite bool) (*Map, error) {
	m, p, err := c.mapFileFromFD(c.attr.mapElem().MapFD)
	if err != nil {
		return nil, err
	}
	if needRead && !p.read || needWrite && !p.write {
		m.put()
		return nil, linux.EPERM
	}
	return m, nil
}

// isFDMap reports whether the map's values are kernel objects.
func (m *Map) isFDMap() bool { return m.objs != nil }

// mapLookupElem is BPF_MAP_LOOKUP_ELEM (map_lookup_elem).
func (c *call) mapLookupElem() (int, error) {
	a := c.attr.mapElem()
	if a.Flags&^linux.BPF_F_LOCK != 0 {
		return -1, linux.EINVAL
	}
	m, err := c.mapElemOp(true, false)
	if err != nil {
		return -1, err
	}
	defer m.put()
	if a.Flags&linux.BPF_F_LOCK != 0 {
		return -1, linux.EINVAL // no value here has a bpf_spin_lock the syscall side knows
	}
	key, err := c.copyKey(a.Key, m.info.KeySize)
	if err != nil {
		return -1, err
	}
	value := make([]byte, m.info.SyscallValueSize())
	if m.info.Type == linux.BPF_MAP_TYPE_BLOOM_FILTER {
		if err := c.t.Mem.CopyIn(a.Value, value); err != nil {
			return -1, linux.EFAULT
		}
		return 0, m.kind.Lookup(key, value, a.Flags)
	}
	if err := m.copyValue(key, value, a.Flags); err != nil {
		return -1, err
	}
	if err := c.t.Mem.CopyOut(a.Value, value); err != nil {
		return -1, linux.EFAULT
	}
	return 0, nil
}

// copyValue is bpf_map_copy_value: maps of objects report the object's
// id (map_fd_sys_lookup_elem), the others copy their value.
func (m *Map) copyValue(key, value []byte, flags uint64) error {
	om, ok := m.kind.(maps.ObjectMap)
	if !ok {
		return m.kind.Lookup(key, value, flags)
	}
	if m.info.Type == linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY {
		return linux.ENOTSUPP // no map_fd_sys_lookup_elem
	}
	obj, err := om.LookupObject(key)
	if err != nil {
		return err
	}
	var id uint32
	switch o := obj.(type) {
	case *Prog:
		id = o.id
	case *vm.MapHandle:
		m.objMu.Lock()
		if inner, ok := m.objs[string(key)].(*Map); ok && inner.handle == o {
			id = inner.id
		}
		m.objMu.Unlock()
	}
	binary.LittleEndian.PutUint32(value, id)
	return nil
}

// mapUpdateElem is BPF_MAP_UPDATE_ELEM (map_update_elem).
func (c *call) mapUpdateElem() (int, error) {
	a := c.attr.mapElem()
	m, err := c.mapElemOp(false, true)
	if err != nil {
		return -1, err
	}
	defer m.put()
	if a.Flags&linux.BPF_F_LOCK != 0 {
		return -1, linux.EINVAL
	}
	key, err := c.copyKey(a.Key, m.info.KeySize)
	if err != nil {
		return -1, err
	}
	value := make([]byte, m.info.SyscallValueSize())
	if err := c.t.Mem.CopyIn(a.Value, value); err != nil {
		return -1, linux.EFAULT
	}
	return 0, c.updateValue(m, key, value, a.Flags)
}

// updateValue is bpf_map_update_value.
func (c *call) updateValue(m *Map, key, value []byte, flags uint64) error {
	if !m.isFDMap() {
		return m.kind.Update(key, value, flags)
	}
	om := m.kind.(maps.ObjectMap)
	if m.info.Type != linux.BPF_MAP_TYPE_HASH_OF_MAPS {
		// bpf_fd_array_map_update_elem: flags and index before the fd.
		if flags != linux.BPF_ANY {
			return linux.EINVAL
		}
		if binary.LittleEndian.Uint32(key) >= m.info.MaxEntries {
			return linux.E2BIG
		}
	}
	if fz, ok := m.kind.(maps.Freezer); ok && fz.Frozen() {
		return linux.EPERM
	}
	fd := binary.LittleEndian.Uint32(value)
	held, obj, err := c.fdMapGetPtr(m, fd)
	if err != nil {
		return err
	}
	m.objMu.Lock()
	err = om.UpdateObject(key, obj, flags)
	var old any
	if err == nil {
		old = m.objs[string(key)]
		m.objs[string(key)] = held
	}
	m.objMu.Unlock()
	if err != nil {
		putObject(held)
		return err
	}
	if old != nil {
		putObject(old)
	}
	return nil
}

// fdMapGetPtr is map_fd_get_ptr: the object fd names, with a reference for
// the map (held) and what the map kind stores (obj).
func (c *call) fdMapGetPtr(m *Map, fd uint32) (held, obj any, err error) {
	switch m.info.Type {
	case linux.BPF_MAP_TYPE_PROG_ARRAY:
		p, err := c.progFromFD(fd)
		if err != nil {
			return nil, nil, err
		}
		return p, p, nil
	case linux.BPF_MAP_TYPE_ARRAY_OF_MAPS, linux.BPF_MAP_TYPE_HASH_OF_MAPS:
		inner, err := c.mapFromFD(fd)
		if err != nil {
			return nil, nil, err
		}
		return inner, inner.handle, nil
	case linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		// perf_event_get: EBADF for anything but a perf event.
		f, err := getFile(c.t, fd)
		if err != nil {
			return nil, nil, err
		}
		ev, ok := f.Object().(maps.PerfEvent)
		if !ok {
			f.DecRef()
			return nil, nil, linux.EBADF
		}
		return f, ev, nil
	}
	return nil, nil, linux.EINVAL
}

// mapDeleteElem is BPF_MAP_DELETE_ELEM (map_delete_elem).
func (c *call) mapDeleteElem() (int, error) {
	a := c.attr.mapElem()
	m, err := c.mapElemOp(false, true)
	if err != nil {
		return -1, err
	}
	defer m.put()
	key, err := c.copyKey(a.Key, m.info.KeySize)
	if err != nil {
		return -1, err
	}
	return 0, m.deleteElem(key)
}

// deleteElem deletes key, dropping the object a map of objects held there.
func (m *Map) deleteElem(key []byte) error {
	if !m.isFDMap() {
		return m.kind.Delete(key)
	}
	m.objMu.Lock()
	err := m.kind.Delete(key)
	old := m.objs[string(key)]
	if err == nil {
		delete(m.objs, string(key))
	}
	m.objMu.Unlock()
	if err == nil && old != nil {
		putObject(old)
	}
	return err
}

// mapGetNextKey is BPF_MAP_GET_NEXT_KEY (map_get_next_key).
func (c *call) mapGetNextKey() (int, error) {
	a := c.attr.mapElem()
	m, err := c.mapElemOp(true, false)
	if err != nil {
		return -1, err
	}
	defer m.put()
	var key []byte
	if a.Key != 0 {
		if key, err = c.copyKey(a.Key, m.info.KeySize); err != nil {
			return -1, err
		}
	}
	next := make([]byte, m.info.KeySize)
	if err := m.kind.NextKey(key, next); err != nil {
		return -1, err
	}
	if err := c.t.Mem.CopyOut(a.Value, next); err != nil {
		return -1, linux.EFAULT
	}
	return 0, nil
}

// mapLookupAndDeleteElem is BPF_MAP_LOOKUP_AND_DELETE_ELEM.
func (c *call) mapLookupAndDeleteElem() (int, error) {
	a := c.attr.mapElem()
	if a.Flags&^linux.BPF_F_LOCK != 0 {
		return -1, linux.EINVAL
	}
	m, err := c.mapElemOp(true, true)
	if err != nil {
		return -1, err
	}
	defer m.put()
	if a.Flags != 0 && (m.info.Type == linux.BPF_MAP_TYPE_QUEUE || m.info.Type == linux.BPF_MAP_TYPE_STACK) {
		return -1, linux.EINVAL
	}
	if a.Flags&linux.BPF_F_LOCK != 0 {
		return -1, linux.EINVAL
	}
	key, err := c.copyKey(a.Key, m.info.KeySize)
	if err != nil {
		return -1, err
	}
	value := make([]byte, m.info.SyscallValueSize())
	ld, ok := m.kind.(maps.LookupAndDeleter)
	if !ok {
		return -1, linux.ENOTSUPP
	}
	if err := ld.LookupAndDelete(key, value, a.Flags); err != nil {
		return -1, err
	}
	if err := c.t.Mem.CopyOut(a.Value, value); err != nil {
		return -1, linux.EFAULT
	}
	return 0, nil
}

// mapFreeze is BPF_MAP_FREEZE (map_freeze).
func (c *call) mapFreeze() (int, error) {
	m, err := c.mapFromFD(c.attr.mapElem().MapFD)
	if err != nil {
		return -1, err
	}
	defer m.put()
	if m.hasTimer {
		return -1, linux.ENOTSUPP
	}
	fz, ok := m.kind.(maps.Freezer)
	if !ok {
		return -1, linux.ENOTSUPP
	}
	if fz.Frozen() {
		return -1, linux.EBUSY
	}
	if !bpfCapable(c.t) {
		return -1, linux.EPERM
	}
	return 0, fz.Freeze()
}

// mapGetNextID is BPF_MAP_GET_NEXT_ID.
func (c *call) mapGetNextID() (int, error) { return getNextID(c, &c.sys.maps) }

// mapGetFDByID is BPF_MAP_GET_FD_BY_ID.
func (c *call) mapGetFDByID() (int, error) {
	a := c.attr.getID()
	if a.OpenFlags&^(linux.BPF_F_RDONLY|linux.BPF_F_WRONLY) != 0 {
		return -1, linux.EINVAL
	}
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	fflags, err := bpfGetFileFlag(a.OpenFlags)
	if err != nil {
		return -1, err
	}
	m, ok := c.sys.maps.find(a.StartID, (*Map).tryGetWithUref)
	if !ok {
		return -1, linux.ENOENT
	}
	return installFD(c.t, syscall.NewFile(m, fflags))
}

// mapInfo is bpf_map_get_info_by_fd.
func (c *call) mapInfo(m *Map, uinfo uint64, infoLen uint32) (int, error) {
	var info linux.BPFMapInfo
	n, err := c.infoLen(uinfo, infoLen, unsafe.Sizeof(info))
	if err != nil {
		return -1, err
	}
	info.Type = uint32(m.info.Type)
	info.ID = m.id
	info.KeySize = m.info.KeySize
	info.ValueSize = m.info.ValueSize
	info.MaxEntries = m.info.MaxEntries
	info.MapFlags = m.info.Flags
	info.MapExtra = m.info.Extra
	copy(info.Name[:], m.name)
	if m.btf != nil {
		info.BTFID = m.btf.id
		info.BTFKeyTypeID = m.btfKeyTypeID
		info.BTFValueTypeID = m.btfValueTypeID
	}
	info.BTFVmlinuxValueTypeID = m.btfVmlinuxValueTypeID
	return 0, c.finishInfo(uinfo, unsafe.Pointer(&info), n)
}

// Mappable is what mmap(2) on a bpf descriptor needs of the object; maps
// implement it. The kernel checks the descriptor's access mode against the
// mapping's protection first (a read-only descriptor cannot be mapped
// writable), as do_mmap does.
type Mappable interface {
	Mmap(pgoff, length uint64, writable, shared bool) ([]byte, error)
	MmapClosed(writable bool)
}

// Pollable is what poll(2) and epoll need of a bpf descriptor's object;
// maps implement it (ring buffers become readable, others never do).
type Pollable interface {
	Readable() bool
	SetWakeup(fn func())
}

var (
	_ Mappable = (*Map)(nil)
	_ Pollable = (*Map)(nil)
)

// Mmap is the bpf map side of mmap(2) on a map descriptor (bpf_map_mmap):
// the memory to map for length bytes at page offset pgoff, for
// BPF_F_MMAPABLE arrays and ring buffers. As in Linux, kinds without
// mmap are ENOTSUPP, private mappings EINVAL, writable mappings of a frozen
// map EPERM and of a BPF_F_RDONLY_PROG map EACCES, arrays without
// BPF_F_MMAPABLE EINVAL. A writable mapping must be reported to
// MmapClosed when it goes.
func (m *Map) Mmap(pgoff, length uint64, writable, shared bool) ([]byte, error) {
	mm, ok := m.kind.(maps.Mmapper)
	if !ok {
		return nil, linux.ENOTSUPP
	}
	if !shared {
		return nil, linux.EINVAL
	}
	if writable {
		if fz, ok := m.kind.(maps.Freezer); ok && fz.Frozen() {
			return nil, linux.EPERM
		}
		if m.info.Flags&linux.BPF_F_RDONLY_PROG != 0 {
			return nil, linux.EACCES
		}
	}
	return mm.Mmap(pgoff, length, writable)
}

// MmapClosed tells the map that a mapping Mmap made is gone.
func (m *Map) MmapClosed(writable bool) {
	if mm, ok := m.kind.(maps.Mmapper); ok {
		mm.MmapClosed(writable)
	}
}

// Readable is the map side of poll(2) (bpf_map_poll): a ring buffer with
// data is readable (EPOLLIN); other maps never are.
func (m *Map) Readable() bool {
	rb, ok := m.kind.(*maps.RingBuf)
	return ok && rb.Readable()
}

// SetWakeup registers the function a ring buffer calls when it has new
// data for readers (the epoll wake-up); other maps never call it.
func (m *Map) SetWakeup(fn func()) {
	if rb, ok := m.kind.(*maps.RingBuf); ok {
		rb.SetWakeup(fn)
	}
}
