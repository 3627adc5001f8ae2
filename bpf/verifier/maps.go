package verifier

import (
	"encoding/binary"
	"fmt"

	"hachi/bpf/isa"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Map is what the verifier knows of a map a program refers to: its
// attributes as BPF_MAP_CREATE set them, and the run-time objects the
// interpreter needs. The loader fills one per map.
type Map struct {
	Name       string           // map_name, for the log
	Type       linux.BPFMapType // map_type
	KeySize    uint32           // key_size: bytes a key argument must hold
	ValueSize  uint32           // value_size: bounds of value accesses
	MaxEntries uint32           // max_entries: bounds bpf_for_each_map_elem's iterations
	Flags      uint32           // map_flags: BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, ...
	// Inner is the template inner map of an array or hash of maps: what a
	// lookup in it returns.
	Inner *Map
	// Frozen is set once BPF_MAP_FREEZE succeeded. The contents of a frozen
	// map the program cannot write (BPF_F_RDONLY_PROG) never change, so
	// loads from it are constants (Linux's bpf_map_direct_read), read from
	// Contents (the single value of an array map, typically .rodata).
	Frozen   bool
	Contents []byte
	// Handle is what `lddw map_fd` loads at run time.
	Handle *vm.MapHandle
	// Value is the memory of the value that `lddw map_value` points into
	// (map_direct_value_addr): only single-element array maps have one.
	Value vm.Region
}

func (m *Map) displayName() string {
	if m.Name != "" {
		return m.Name
	}
	return fmt.Sprintf("map%d", m.Type)
}

func (m *Map) readOnlyProg() bool  { return m.Flags&linux.BPF_F_RDONLY_PROG != 0 }
func (m *Map) writeOnlyProg() bool { return m.Flags&linux.BPF_F_WRONLY_PROG != 0 }

// constant reports whether loads from m's value are constants.
func (m *Map) constant() bool {
	return m.Frozen && m.readOnlyProg() && m.Type == linux.BPF_MAP_TYPE_ARRAY && m.MaxEntries == 1 &&
		uint32(len(m.Contents)) == m.ValueSize
}

// readConstant is the size-byte little-endian value at off of a constant map.
func (m *Map) readConstant(off, size int) uint64 {
	b := m.Contents[off : off+size]
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// hasDirectValue reports whether lddw map_value may point into m
// (array_map_direct_value_addr).
func (m *Map) hasDirectValue() bool {
	return m.Type == linux.BPF_MAP_TYPE_ARRAY && m.MaxEntries == 1
}

// isMapOfMaps reports whether lookups in m return maps.
func (m *Map) isMapOfMaps() bool {
	return m.Type == linux.BPF_MAP_TYPE_ARRAY_OF_MAPS || m.Type == linux.BPF_MAP_TYPE_HASH_OF_MAPS
}

// Resolver supplies what a program's lddw pseudo sources refer to, like
// Linux's resolve_pseudo_ldimm64 over the loader's file descriptors and
// fd_array. The bpf() layer implements it.
type Resolver interface {
	// Map is the map of `lddw map_fd FD` and `lddw map_value FD, OFF`
	// (ref is the fd), or of `lddw map_idx I` and `lddw map_idx_value I, OFF`
	// (ref indexes fd_array). Errors are errnos: EBADF for a descriptor
	// that is not a map, EINVAL for an index past fd_array.
	Map(src isa.PseudoSource, ref int32) (*Map, error)
}

// MapList is a Resolver over a slice: fds and fd_array indexes both index it.
type MapList []*Map

// Map implements Resolver.
func (l MapList) Map(_ isa.PseudoSource, ref int32) (*Map, error) {
	if ref < 0 || int(ref) >= len(l) || l[ref] == nil {
		return nil, linux.EBADF
	}
	return l[ref], nil
}

// vmResolver lends the maps the verifier resolved to vm.Load.
type vmResolver struct {
	maps map[vmRef]*Map
}

type vmRef struct {
	src isa.PseudoSource
	ref int32
}

func (r *vmResolver) Map(src isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	m := r.maps[vmRef{src, ref}]
	if m == nil || m.Handle == nil {
		return nil, linux.EBADF
	}
	return m.Handle, nil
}

func (r *vmResolver) MapValue(src isa.PseudoSource, ref int32) (vm.Region, error) {
	m := r.maps[vmRef{src, ref}]
	if m == nil || m.Value.Base == nil {
		return vm.Region{}, linux.EINVAL
	}
	return m.Value, nil
}

func (r *vmResolver) KernelVariable(btfID, btfFD int32) (vm.Region, error) {
	return vm.Region{}, linux.EINVAL
}

func (r *vmResolver) Kfunc(btfID int32, btfIndex int16) (vm.HelperFunc, error) {
	return nil, linux.EINVAL
}
