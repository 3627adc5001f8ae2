package sys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// cmdCase is one row of the command tables: an attr built against a fresh
// fixture, the errno expected (0: success) and the Linux check it mirrors.
type cmdCase struct {
	name   string
	linux  string
	cmd    linux.BPFCmd
	attr   func(f *fixture) any // a pointer to the attr struct, or []byte
	size   int                  // 0: the struct's size; -1: zero
	caps   *syscall.CapSet      // nil: every capability
	unpriv bool                 // kernel.unprivileged_bpf_disabled = 0
	want   linux.Errno
	check  func(t *testing.T, f *fixture, ret int, attr []byte)
}

func capsOf(c ...syscall.Capability) *syscall.CapSet {
	var s syscall.CapSet
	for _, x := range c {
		s |= 1 << x
	}
	return &s
}

func runCases(t *testing.T, cases []cmdCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.linux == "" {
				t.Fatal("row does not name the Linux check it mirrors")
			}
			s := newSystem()
			p := newProc(t, s)
			f := newFixture(p)
			if c.caps != nil {
				p.tk.Caps = *c.caps
			}
			if c.unpriv {
				s.UnprivilegedDisabled = 0
			}
			v := c.attr(f)
			b, ok := v.([]byte)
			if !ok {
				b = raw(v)
			}
			size := len(b)
			if c.size != 0 {
				size = max(c.size, 0)
			}
			addr := p.buf(b)
			ret, err := s.Call(p.tk, uint32(c.cmd), addr, uint32(size))
			if c.want == 0 && err != nil || c.want != 0 && err != c.want {
				t.Fatalf("%s: got %s, want %s (%s)", c.cmd, errName(err), errName(errOrNil(c.want)), c.linux)
			}
			if c.check != nil {
				c.check(t, f, ret, b)
			}
		})
	}
}

func errOrNil(e linux.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func TestSizeRules(t *testing.T) {
	mapCreate := func(f *fixture) any {
		b := make([]byte, 4096+8)
		a := (*linux.BPFAttrMapCreate)(unsafe.Pointer(&b[0]))
		*a = linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
		return b
	}
	runCases(t, []cmdCase{
		{name: "over a page", linux: "bpf_check_uarg_tail_zero: size > PAGE_SIZE is E2BIG",
			cmd: linux.BPF_MAP_CREATE, attr: mapCreate, size: 4097, want: linux.E2BIG},
		{name: "a page with a zero tail", linux: "bpf_check_uarg_tail_zero: zero bytes past sizeof(attr) accepted",
			cmd: linux.BPF_MAP_CREATE, attr: mapCreate, size: 4096},
		{name: "non-zero past the known union", linux: "bpf_check_uarg_tail_zero: non-zero tail is E2BIG",
			cmd: linux.BPF_MAP_CREATE, attr: func(f *fixture) any { b := mapCreate(f).([]byte); b[150] = 1; return b },
			size: 168, want: linux.E2BIG},
		{name: "cilium/ebpf's 168-byte PROG_LOAD", linux: "newer loaders' larger attr with a zero tail is accepted",
			cmd: linux.BPF_PROG_LOAD, attr: func(f *fixture) any {
				a := f.progAttr(linux.BPF_PROG_TYPE_SOCKET_FILTER, retProg(f.t, 0))
				return append(raw(&a), make([]byte, 168-linux.BPFAttrSize)...)
			}},
		{name: "tail unreadable", linux: "bpf_check_uarg_tail_zero: check_zeroed_user fault is EFAULT",
			cmd: linux.BPF_MAP_CREATE, attr: func(f *fixture) any { return mapCreate(f).([]byte)[:144] },
			size: 200, want: linux.EFAULT},
		{name: "short attr zero-extended", linux: "__sys_bpf: memset then copy size bytes",
			cmd: linux.BPF_MAP_CREATE, attr: mapCreate, size: 16},
		{name: "empty attr", linux: "map_create: map_type 0 (UNSPEC) has no ops: EINVAL",
			cmd: linux.BPF_MAP_CREATE, attr: mapCreate, size: -1, want: linux.EINVAL},
		{name: "bytes past the command's fields", linux: "CHECK_ATTR(BPF_MAP_LOOKUP_ELEM): non-zero past flags",
			cmd: linux.BPF_MAP_LOOKUP_ELEM, attr: func(f *fixture) any {
				a := linux.BPFAttrMapElem{MapFD: uint32(f.arr)}
				b := append(raw(&a), make([]byte, 16)...)
				b[34] = 1
				return b
			}, want: linux.EINVAL},
		{name: "unknown command", linux: "__sys_bpf: default case is EINVAL",
			cmd: 36, attr: mapCreate, size: 16, want: linux.EINVAL},
		{name: "huge command number", linux: "__sys_bpf: default case is EINVAL",
			cmd: 1 << 31, attr: mapCreate, size: 16, want: linux.EINVAL},
		{name: "unprivileged map creation", linux: "__sys_bpf: !bpf_capable() && unprivileged_bpf_disabled is EPERM",
			cmd: linux.BPF_MAP_CREATE, attr: mapCreate, size: 16, caps: capsOf(), want: linux.EPERM},
		{name: "unprivileged lookup", linux: "__sys_bpf: only MAP_CREATE and PROG_LOAD are refused up front",
			cmd: linux.BPF_MAP_LOOKUP_ELEM, attr: func(f *fixture) any {
				return &linux.BPFAttrMapElem{MapFD: uint32(f.arr), Key: f.buf(u32(0)), Value: f.buf(make([]byte, 8))}
			}, caps: capsOf()},
	})
	// An attr pointer into nothing.
	s := newSystem()
	p := newProc(t, s)
	if _, err := s.Call(p.tk, uint32(linux.BPF_MAP_CREATE), 0x1234000, 72); err != linux.EFAULT {
		t.Errorf("unmapped attr: %s, want EFAULT", errName(err))
	}
}

func retProg(t testing.TB, v int) []isa.Instruction {
	return asmProg(t, fmt.Sprintf("mov %%r0, %d\nexit", v))
}

func TestMapCreate(t *testing.T) {
	ok := func(mod func(a *linux.BPFAttrMapCreate, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			a := &linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 8, MaxEntries: 4}
			copy(a.MapName[:], "counts")
			if mod != nil {
				mod(a, f)
			}
			return a
		}
	}
	withBTF := func(key, value uint32) func(a *linux.BPFAttrMapCreate, f *fixture) {
		return func(a *linux.BPFAttrMapCreate, f *fixture) {
			a.BTFFD, a.BTFKeyTypeID, a.BTFValueTypeID = uint32(f.btf), key, value
		}
	}
	runCases(t, []cmdCase{
		{name: "array", linux: "map_create", cmd: linux.BPF_MAP_CREATE, attr: ok(nil),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if ce, _ := f.tk.Files.CloseOnExec(fd); !ce {
					t.Errorf("map fd %d not close-on-exec", fd)
				}
				if fd != 14 {
					t.Errorf("fd %d, want the lowest free (14)", fd)
				}
			}},
		{name: "unknown type", linux: "find_and_alloc_map: type past bpf_map_types is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MapType = 100 }), want: linux.EINVAL},
		{name: "type Hachi lacks", linux: "find_and_alloc_map: no ops (kind not built) is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MapType = uint32(linux.BPF_MAP_TYPE_SOCKMAP) }), want: linux.EINVAL},
		{name: "zero max_entries", linux: "array_map_alloc_check: max_entries 0 is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MaxEntries = 0 }), want: linux.EINVAL},
		{name: "key type without value type", linux: "map_create: btf_key_type_id && !btf_value_type_id", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) { a.BTFFD, a.BTFKeyTypeID = uint32(f.btf), 1 }), want: linux.EINVAL},
		{name: "vmlinux value type on an array", linux: "map_create: btf_vmlinux_value_type_id needs STRUCT_OPS", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.BTFVmlinuxValueTypeID = 1 }), want: linux.EINVAL},
		{name: "map_extra on an array", linux: "map_create: map_extra only for BLOOM_FILTER", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MapExtra = 1 }), want: linux.EINVAL},
		{name: "read-only and write-only", linux: "bpf_get_file_flag: RDONLY|WRONLY is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MapFlags = linux.BPF_F_RDONLY | linux.BPF_F_WRONLY }), want: linux.EINVAL},
		{name: "NUMA node 1", linux: "map_create: numa_node >= nr_node_ids is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { a.MapFlags, a.NumaNode = linux.BPF_F_NUMA_NODE, 1 }), want: linux.EINVAL},
		{name: "name with a dash", linux: "bpf_obj_name_cpy: only isalnum, '_' and '.'", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { copy(a.MapName[:], "a-b") }), want: linux.EINVAL},
		{name: "name without NUL", linux: "bpf_obj_name_cpy: no NUL in 16 bytes is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { copy(a.MapName[:], "0123456789abcdef") }), want: linux.EINVAL},
		{name: "name with bytes after the NUL", linux: "bpf_obj_name_cpy stops at the NUL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, _ *fixture) { copy(a.MapName[:], "ab\x00-!") })},
		{name: "BTF key and value", linux: "map_check_btf: sizes match, array key is a u32 INT", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) { a.ValueSize = 4; withBTF(1, 1)(a, f) })},
		{name: "BTF value size mismatch", linux: "map_check_btf: value_size != btf size is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(withBTF(1, 1)), want: linux.EINVAL},
		{name: "BTF fd closed", linux: "btf_get_by_fd: EBADF", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) { withBTF(1, 1)(a, f); a.BTFFD = uint32(f.closed) }), want: linux.EBADF},
		{name: "BTF fd is a map", linux: "btf_get_by_fd: not btf_fops is EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) { withBTF(1, 1)(a, f); a.BTFFD = uint32(f.arr) }), want: linux.EINVAL},
		{name: "BTF type of a FUNC", linux: "btf_type_id_size fails for FUNC: EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) { a.ValueSize = 4; withBTF(1, 3)(a, f) }), want: linux.EINVAL},
		{name: "BTF on a prog array", linux: "map_check_no_btf: ENOTSUPP", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) {
				a.MapType, a.ValueSize = uint32(linux.BPF_MAP_TYPE_PROG_ARRAY), 4
				withBTF(1, 1)(a, f)
			}), want: linux.ENOTSUPP},
		{name: "array of maps, inner fd closed", linux: "bpf_map_meta_alloc: __bpf_map_get EBADF", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) {
				a.MapType, a.ValueSize, a.InnerMapFD = uint32(linux.BPF_MAP_TYPE_ARRAY_OF_MAPS), 4, uint32(f.closed)
			}), want: linux.EBADF},
		{name: "array of maps, inner fd a program", linux: "bpf_map_meta_alloc: __bpf_map_get EINVAL", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) {
				a.MapType, a.ValueSize, a.InnerMapFD = uint32(linux.BPF_MAP_TYPE_ARRAY_OF_MAPS), 4, uint32(f.xdp)
			}), want: linux.EINVAL},
		{name: "array of maps", linux: "map_create with inner_map_fd", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(a *linux.BPFAttrMapCreate, f *fixture) {
				a.MapType, a.ValueSize, a.InnerMapFD = uint32(linux.BPF_MAP_TYPE_ARRAY_OF_MAPS), 4, uint32(f.hash)
			})},
		{name: "descriptor table full", linux: "anon_inode_getfd: EMFILE past RLIMIT_NOFILE", cmd: linux.BPF_MAP_CREATE,
			attr: ok(func(_ *linux.BPFAttrMapCreate, f *fixture) {
				for f.tk.Files.Len() < syscall.DefaultFDLimit {
					f.tk.Files.Install(syscall.NewFile(otherFile{}, 0), false)
				}
			}), want: linux.EMFILE,
			check: func(t *testing.T, f *fixture, _ int, _ []byte) {
				if live := f.sys.Live(); live.Maps != 7 {
					t.Errorf("a map whose fd could not be installed is still alive: %+v", live)
				}
			}},
	})
}

func elem(fd int, key, value uint64, flags uint64) *linux.BPFAttrMapElem {
	return &linux.BPFAttrMapElem{MapFD: uint32(fd), Key: key, Value: value, Flags: flags}
}

func TestMapElemCommands(t *testing.T) {
	k := func(f *fixture, v uint32) uint64 { return f.buf(u32(v)) }
	v8 := func(f *fixture) uint64 { return f.buf(make([]byte, 8)) }
	unmapped := uint64(0xdead0000)
	lookupValue := func(key uint32, want []byte) func(t *testing.T, f *fixture, _ int, _ []byte) {
		return func(t *testing.T, f *fixture, _ int, _ []byte) {
			got, err := f.lookup(f.arr, u32(key), len(want))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("value %x (%s), want %x", got, errName(err), want)
			}
		}
	}
	runCases(t, []cmdCase{
		// BPF_MAP_LOOKUP_ELEM
		{name: "lookup", linux: "map_lookup_elem", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 1), v8(f), 0) }},
		{name: "lookup unknown flag", linux: "map_lookup_elem: flags & ~BPF_F_LOCK", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 1), v8(f), 8) }, want: linux.EINVAL},
		{name: "lookup BPF_F_LOCK without a lock", linux: "map_lookup_elem: BPF_F_LOCK && !map_value_has_spin_lock", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 1), v8(f), linux.BPF_F_LOCK) }, want: linux.EINVAL},
		{name: "lookup closed fd", linux: "__bpf_map_get: EBADF", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.closed, k(f, 1), v8(f), 0) }, want: linux.EBADF},
		{name: "lookup program fd", linux: "__bpf_map_get: not bpf_map_fops is EINVAL", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.xdp, k(f, 1), v8(f), 0) }, want: linux.EINVAL},
		{name: "lookup key fault", linux: "__bpf_copy_key: vmemdup_user EFAULT", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, unmapped, v8(f), 0) }, want: linux.EFAULT},
		{name: "lookup value fault", linux: "map_lookup_elem: copy_to_user EFAULT", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 1), unmapped, 0) }, want: linux.EFAULT},
		{name: "lookup past the array", linux: "array_map_lookup_elem: NULL is ENOENT", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 9), v8(f), 0) }, want: linux.ENOENT},
		{name: "lookup missing hash key", linux: "bpf_map_copy_value: NULL is ENOENT", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, k(f, 9), v8(f), 0) }, want: linux.ENOENT},
		{name: "lookup on a write-only fd", linux: "map_get_sys_perms: !FMODE_CAN_READ is EPERM", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.wronly, k(f, 1), v8(f), 0) }, want: linux.EPERM},
		{name: "lookup queue with a key", linux: "__bpf_copy_key: key_size 0 with a key pointer is EINVAL", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.queue, k(f, 1), v8(f), 0) }, want: linux.EINVAL},
		{name: "lookup empty queue", linux: "queue_stack_map_peek_elem: ENOENT", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any { return elem(f.queue, 0, v8(f), 0) }, want: linux.ENOENT},
		{name: "lookup prog array slot", linux: "bpf_fd_array_map_lookup_elem: the program's id", cmd: linux.BPF_MAP_LOOKUP_ELEM,
			attr: func(f *fixture) any {
				if err := f.update(f.progArr, u32(1), u32(uint32(f.xdp)), 0); err != nil {
					f.t.Fatal(errName(err))
				}
				return elem(f.progArr, k(f, 1), f.buf(make([]byte, 4)), 0)
			}, check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				v := make([]byte, 4)
				f.as.CopyIn((*linux.BPFAttrMapElem)(unsafe.Pointer(&attr[0])).Value, v)
				if binary.LittleEndian.Uint32(v) != 1 { // the XDP program is the first one loaded
					t.Errorf("prog array lookup gave id %d, want 1", binary.LittleEndian.Uint32(v))
				}
			}},
		{name: "lookup perf event array", linux: "bpf_fd_array_map_lookup_elem: no map_fd_sys_lookup_elem is ENOTSUPP",
			cmd: linux.BPF_MAP_LOOKUP_ELEM, attr: func(f *fixture) any { return elem(f.perfArr, k(f, 0), f.buf(make([]byte, 4)), 0) },
			want: linux.ENOTSUPP},
		// BPF_MAP_UPDATE_ELEM
		{name: "update", linux: "map_update_elem", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr:  func(f *fixture) any { return elem(f.arr, k(f, 2), f.buf(u64(7)), 0) },
			check: lookupValue(2, u64(7))},
		{name: "update NOEXIST on an array", linux: "array_map_update_elem: BPF_NOEXIST is EEXIST", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 2), v8(f), linux.BPF_NOEXIST) }, want: linux.EEXIST},
		{name: "update EXIST on a missing hash key", linux: "htab_map_update_elem: BPF_EXIST is ENOENT", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, k(f, 2), v8(f), linux.BPF_EXIST) }, want: linux.ENOENT},
		{name: "update BPF_F_LOCK", linux: "map_update_elem: BPF_F_LOCK without spin lock is EINVAL", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 2), v8(f), linux.BPF_F_LOCK) }, want: linux.EINVAL},
		{name: "update read-only fd", linux: "map_get_sys_perms: !FMODE_CAN_WRITE is EPERM", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.rdonly, k(f, 2), v8(f), 0) }, want: linux.EPERM},
		{name: "update frozen map", linux: "map_get_sys_perms: frozen drops FMODE_CAN_WRITE", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any {
				f.mustOK(sysCall(f.proc, linux.BPF_MAP_FREEZE, &linux.BPFAttrMapElem{MapFD: uint32(f.arr)}))
				return elem(f.arr, k(f, 2), v8(f), 0)
			}, want: linux.EPERM},
		{name: "update value fault", linux: "kvmemdup_bpfptr: EFAULT", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 2), unmapped, 0) }, want: linux.EFAULT},
		{name: "update past the array", linux: "array_map_update_elem: index >= max_entries is E2BIG", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 4), v8(f), 0) }, want: linux.E2BIG},
		{name: "update prog array", linux: "bpf_fd_array_map_update_elem: prog_fd_array_get_ptr", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.progArr, k(f, 0), f.buf(u32(uint32(f.xdp))), 0) }},
		{name: "update prog array with a map fd", linux: "prog_fd_array_get_ptr: bpf_prog_get EINVAL", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.progArr, k(f, 0), f.buf(u32(uint32(f.arr))), 0) }, want: linux.EINVAL},
		{name: "update prog array with a closed fd", linux: "prog_fd_array_get_ptr: bpf_prog_get EBADF", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.progArr, k(f, 0), f.buf(u32(uint32(f.closed))), 0) }, want: linux.EBADF},
		{name: "update prog array with BPF_EXIST", linux: "bpf_fd_array_map_update_elem: flags != BPF_ANY before the fd", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.progArr, k(f, 0), f.buf(u32(uint32(f.closed))), linux.BPF_EXIST) }, want: linux.EINVAL},
		{name: "update prog array past the end", linux: "bpf_fd_array_map_update_elem: index >= max_entries is E2BIG", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.progArr, k(f, 2), f.buf(u32(uint32(f.xdp))), 0) }, want: linux.E2BIG},
		{name: "update prog array with another type", linux: "bpf_prog_map_compatible: owner type differs is EINVAL", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any {
				f.update(f.progArr, u32(0), u32(uint32(f.xdp)), 0)
				return elem(f.progArr, k(f, 1), f.buf(u32(uint32(f.sock))), 0)
			}, want: linux.EINVAL},
		{name: "update perf event array with a non-perf fd", linux: "perf_event_get: not perf_fops is EBADF", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.perfArr, k(f, 0), f.buf(u32(uint32(f.arr))), 0) }, want: linux.EBADF},
		{name: "push to queue", linux: "bpf_map_update_value: queue push", cmd: linux.BPF_MAP_UPDATE_ELEM,
			attr: func(f *fixture) any { return elem(f.queue, 0, f.buf(u32(5)), 0) }},
		// BPF_MAP_DELETE_ELEM
		{name: "delete", linux: "map_delete_elem", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { f.update(f.hash, u32(3), u64(1), 0); return elem(f.hash, k(f, 3), 0, 0) }},
		{name: "delete missing", linux: "htab_map_delete_elem: ENOENT", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, k(f, 3), 0, 0) }, want: linux.ENOENT},
		{name: "delete from an array", linux: "array_map_delete_elem: EINVAL", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 0), 0, 0) }, want: linux.EINVAL},
		{name: "delete through a read-only fd", linux: "map_delete_elem: !FMODE_CAN_WRITE is EPERM", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.rdonly, k(f, 0), 0, 0) }, want: linux.EPERM},
		{name: "delete key fault", linux: "___bpf_copy_key: EFAULT", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, unmapped, 0, 0) }, want: linux.EFAULT},
		{name: "delete with bytes past key", linux: "CHECK_ATTR(BPF_MAP_DELETE_ELEM): value must be zero", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, k(f, 3), 1, 0) }, want: linux.EINVAL},
		{name: "delete prog array slot", linux: "fd_array_map_delete_elem", cmd: linux.BPF_MAP_DELETE_ELEM,
			attr: func(f *fixture) any {
				f.update(f.progArr, u32(0), u32(uint32(f.xdp)), 0)
				return elem(f.progArr, k(f, 0), 0, 0)
			}},
		// BPF_MAP_GET_NEXT_KEY
		{name: "first key", linux: "map_get_next_key with a NULL key", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.arr, 0, f.buf(make([]byte, 4)), 0) },
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				v := make([]byte, 4)
				f.as.CopyIn((*linux.BPFAttrMapElem)(unsafe.Pointer(&attr[0])).Value, v)
				if binary.LittleEndian.Uint32(v) != 0 {
					t.Errorf("first key %x", v)
				}
			}},
		{name: "after the last key", linux: "array_map_get_next_key: ENOENT", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 3), f.buf(make([]byte, 4)), 0) }, want: linux.ENOENT},
		{name: "next key fault", linux: "map_get_next_key: copy_to_user EFAULT", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.arr, 0, unmapped, 0) }, want: linux.EFAULT},
		{name: "next key on a write-only fd", linux: "map_get_next_key: !FMODE_CAN_READ is EPERM", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.wronly, 0, f.buf(make([]byte, 4)), 0) }, want: linux.EPERM},
		{name: "next key of a queue", linux: "queue_stack_map_get_next_key: EINVAL", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.queue, 0, f.buf(make([]byte, 4)), 0) }, want: linux.EINVAL},
		{name: "next key with flags", linux: "CHECK_ATTR(BPF_MAP_GET_NEXT_KEY): flags past next_key", cmd: linux.BPF_MAP_GET_NEXT_KEY,
			attr: func(f *fixture) any { return elem(f.arr, 0, f.buf(make([]byte, 4)), 1) }, want: linux.EINVAL},
		// BPF_MAP_LOOKUP_AND_DELETE_ELEM
		{name: "lookup and delete", linux: "map_lookup_and_delete_elem on a hash", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any { f.update(f.hash, u32(3), u64(9), 0); return elem(f.hash, k(f, 3), v8(f), 0) },
			check: func(t *testing.T, f *fixture, _ int, _ []byte) {
				if _, err := f.lookup(f.hash, u32(3), 8); err != linux.ENOENT {
					t.Errorf("element still there: %s", errName(err))
				}
			}},
		{name: "lookup and delete on an array", linux: "map_lookup_and_delete_elem: other kinds ENOTSUPP", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.arr, k(f, 3), v8(f), 0) }, want: linux.ENOTSUPP},
		{name: "pop", linux: "map_lookup_and_delete_elem: queue map_pop_elem", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any {
				f.mustOK(sysCall(f.proc, linux.BPF_MAP_UPDATE_ELEM, elem(f.queue, 0, f.buf(u32(8)), 0)))
				return elem(f.queue, 0, f.buf(make([]byte, 4)), 0)
			}},
		{name: "pop with flags", linux: "map_lookup_and_delete_elem: flags on QUEUE/STACK is EINVAL", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.queue, 0, f.buf(make([]byte, 4)), linux.BPF_F_LOCK) }, want: linux.EINVAL},
		{name: "lookup and delete, unknown flag", linux: "map_lookup_and_delete_elem: flags & ~BPF_F_LOCK", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.hash, k(f, 3), v8(f), 2) }, want: linux.EINVAL},
		{name: "lookup and delete on read-only fd", linux: "map_lookup_and_delete_elem: needs read and write", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM,
			attr: func(f *fixture) any { return elem(f.rdonly, k(f, 3), v8(f), 0) }, want: linux.EPERM},
		// BPF_MAP_FREEZE
		{name: "freeze", linux: "map_freeze", cmd: linux.BPF_MAP_FREEZE,
			attr: func(f *fixture) any { return &linux.BPFAttrMapElem{MapFD: uint32(f.arr)} }},
		{name: "freeze twice", linux: "map_freeze: frozen is EBUSY", cmd: linux.BPF_MAP_FREEZE,
			attr: func(f *fixture) any {
				f.mustOK(sysCall(f.proc, linux.BPF_MAP_FREEZE, &linux.BPFAttrMapElem{MapFD: uint32(f.arr)}))
				return &linux.BPFAttrMapElem{MapFD: uint32(f.arr)}
			}, want: linux.EBUSY},
		{name: "freeze unprivileged", linux: "map_freeze: !bpf_capable is EPERM", cmd: linux.BPF_MAP_FREEZE,
			attr: func(f *fixture) any { return &linux.BPFAttrMapElem{MapFD: uint32(f.arr)} }, caps: capsOf(), want: linux.EPERM},
		{name: "freeze with a key", linux: "CHECK_ATTR(BPF_MAP_FREEZE): only map_fd", cmd: linux.BPF_MAP_FREEZE,
			attr: func(f *fixture) any { return &linux.BPFAttrMapElem{MapFD: uint32(f.arr), Key: 1} }, want: linux.EINVAL},
		{name: "freeze closed fd", linux: "__bpf_map_get: EBADF", cmd: linux.BPF_MAP_FREEZE,
			attr: func(f *fixture) any { return &linux.BPFAttrMapElem{MapFD: uint32(f.closed)} }, want: linux.EBADF},
	})
}

func TestBatchCommands(t *testing.T) {
	batch := func(fd int, mod func(a *linux.BPFAttrBatch, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			a := &linux.BPFAttrBatch{MapFD: uint32(fd), Count: 4,
				Keys: f.buf(make([]byte, 16)), Values: f.buf(make([]byte, 32)), OutBatch: f.buf(make([]byte, 4))}
			if mod != nil {
				mod(a, f)
			}
			return a
		}
	}
	count := func(want uint32) func(t *testing.T, f *fixture, _ int, attr []byte) {
		return func(t *testing.T, f *fixture, _ int, attr []byte) {
			if got := (*linux.BPFAttrBatch)(unsafe.Pointer(&attr[0])).Count; got != want {
				t.Errorf("count %d, want %d", got, want)
			}
		}
	}
	fill := func(a *linux.BPFAttrBatch, f *fixture) {
		for i := uint32(0); i < 3; i++ {
			f.update(f.hash, u32(i), u64(uint64(i)), 0)
		}
	}
	runCases(t, []cmdCase{
		{name: "lookup array", linux: "generic_map_lookup_batch", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any { return batch(f.arr, nil)(f) }, check: count(4)},
		{name: "lookup hash", linux: "htab_map_lookup_batch: ENOENT after the last bucket", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any { return batch(f.hash, fill)(f) }, want: linux.ENOENT, check: count(3)},
		{name: "lookup and delete hash", linux: "htab_map_lookup_and_delete_batch", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH,
			attr: func(f *fixture) any { return batch(f.hash, fill)(f) }, want: linux.ENOENT,
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				count(3)(t, f, 0, attr)
				if _, err := f.lookup(f.hash, u32(1), 8); err != linux.ENOENT {
					t.Errorf("element left after lookup_and_delete_batch")
				}
			}},
		{name: "lookup and delete array", linux: "array_map_ops has no map_lookup_and_delete_batch: ENOTSUPP", cmd: linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH,
			attr: func(f *fixture) any { return batch(f.arr, nil)(f) }, want: linux.ENOTSUPP},
		{name: "delete array", linux: "array_map_ops has no map_delete_batch: ENOTSUPP", cmd: linux.BPF_MAP_DELETE_BATCH,
			attr: func(f *fixture) any { return batch(f.arr, nil)(f) }, want: linux.ENOTSUPP},
		{name: "batch on a queue", linux: "queue has no batch ops: ENOTSUPP", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any { return batch(f.queue, nil)(f) }, want: linux.ENOTSUPP},
		{name: "update array", linux: "generic_map_update_batch", cmd: linux.BPF_MAP_UPDATE_BATCH,
			attr: func(f *fixture) any { return batch(f.arr, nil)(f) }, check: count(4)},
		{name: "update past the array", linux: "generic_map_update_batch stops at the first error, count says how far",
			cmd: linux.BPF_MAP_UPDATE_BATCH, attr: func(f *fixture) any {
				return batch(f.arr, func(a *linux.BPFAttrBatch, f *fixture) {
					a.Keys = f.buf(append(append(u32(0), u32(1)...), u32(7)...))
					a.Count = 3
				})(f)
			}, want: linux.E2BIG, check: count(2)},
		{name: "update keys fault", linux: "generic_map_update_batch: copy_from_user EFAULT after the mapped ones",
			cmd: linux.BPF_MAP_UPDATE_BATCH, attr: func(f *fixture) any {
				return batch(f.arr, func(a *linux.BPFAttrBatch, f *fixture) { a.Keys = f.as.PlaceEnd(u32(1)); a.Count = 2 })(f)
			}, want: linux.EFAULT, check: count(1)},
		{name: "delete hash", linux: "generic_map_delete_batch", cmd: linux.BPF_MAP_DELETE_BATCH,
			attr: func(f *fixture) any {
				return batch(f.hash, func(a *linux.BPFAttrBatch, f *fixture) {
					fill(a, f)
					a.Keys, a.Count = f.buf(append(u32(0), u32(2)...)), 2
				})(f)
			}, check: count(2)},
		{name: "delete missing", linux: "generic_map_delete_batch: map_delete_elem ENOENT", cmd: linux.BPF_MAP_DELETE_BATCH,
			attr: func(f *fixture) any { return batch(f.hash, nil)(f) }, want: linux.ENOENT, check: count(0)},
		{name: "update read-only fd", linux: "bpf_map_do_batch: has_write && !FMODE_CAN_WRITE", cmd: linux.BPF_MAP_UPDATE_BATCH,
			attr: func(f *fixture) any { return batch(f.rdonly, nil)(f) }, want: linux.EPERM},
		{name: "lookup write-only fd", linux: "bpf_map_do_batch: has_read && !FMODE_CAN_READ", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any { return batch(f.wronly, nil)(f) }, want: linux.EPERM},
		{name: "elem flags", linux: "generic_map_lookup_batch: elem_flags & ~BPF_F_LOCK", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any {
				return batch(f.arr, func(a *linux.BPFAttrBatch, _ *fixture) { a.ElemFlags = 2 })(f)
			}, want: linux.EINVAL},
		{name: "count 0", linux: "generic_map_update_batch: !max_count returns 0", cmd: linux.BPF_MAP_UPDATE_BATCH,
			attr: func(f *fixture) any { return batch(f.arr, func(a *linux.BPFAttrBatch, _ *fixture) { a.Count = 0 })(f) }},
		{name: "closed fd", linux: "__bpf_map_get: EBADF", cmd: linux.BPF_MAP_LOOKUP_BATCH,
			attr: func(f *fixture) any { return batch(f.closed, nil)(f) }, want: linux.EBADF},
	})
}

func TestProgLoad(t *testing.T) {
	load := func(typ linux.BPFProgType, src string, mod func(a *linux.BPFAttrProgLoad, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			a := f.progAttr(typ, asmProg(f.t, src))
			if mod != nil {
				mod(&a, f)
			}
			return &a
		}
	}
	ret0 := "mov %r0, 0\nexit"
	sock := linux.BPF_PROG_TYPE_SOCKET_FILTER
	withFuncInfo := func(recSize uint32, recs []byte) func(a *linux.BPFAttrProgLoad, f *fixture) {
		return func(a *linux.BPFAttrProgLoad, f *fixture) {
			a.ProgBTFFD, a.FuncInfoRecSize, a.FuncInfo = uint32(f.btf), recSize, f.buf(recs)
			a.FuncInfoCnt = uint32(len(recs)) / recSize
		}
	}
	funcRec := append(u32(0), u32(3)...) // insn 0, FUNC [3]
	lineRec := func(off uint32) []byte {
		return append(append(append(u32(off), u32(10)...), u32(17)...), u32(1<<10|2)...)
	}
	logBuf := func(size uint32, level uint32) func(a *linux.BPFAttrProgLoad, f *fixture) {
		return func(a *linux.BPFAttrProgLoad, f *fixture) {
			a.LogLevel, a.LogSize, a.LogBuf = level, size, f.buf(make([]byte, size))
		}
	}
	runCases(t, []cmdCase{
		{name: "socket filter", linux: "bpf_prog_load", cmd: linux.BPF_PROG_LOAD, attr: load(sock, ret0, nil),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if ce, _ := f.tk.Files.CloseOnExec(fd); !ce {
					t.Errorf("program fd not close-on-exec")
				}
			}},
		{name: "unknown prog_flags", linux: "bpf_prog_load: prog_flags outside the mask", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.ProgFlags = 1 << 6 }), want: linux.EINVAL},
		{name: "license NULL", linux: "strncpy_from_bpfptr(license) < 0 is EFAULT", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.License = 0 }), want: linux.EFAULT},
		{name: "license longer than 127 bytes", linux: "license[127] = 0: truncated, not refused", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) { a.License = f.str(strings.Repeat("x", 300)) })},
		{name: "no instructions", linux: "bpf_prog_load: insn_cnt == 0 is E2BIG", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.InsnCnt = 0 }), want: linux.E2BIG},
		{name: "over a million instructions", linux: "bpf_prog_load: insn_cnt > BPF_COMPLEXITY_LIMIT_INSNS", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.InsnCnt = 1_000_001 }), want: linux.E2BIG},
		{name: "unprivileged over 4096 instructions", linux: "bpf_prog_load: !bpf_capable limit BPF_MAXINSNS", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.InsnCnt = 4097 }),
			caps: capsOf(), unpriv: true, want: linux.E2BIG},
		{name: "unprivileged socket filter", linux: "bpf_prog_load: SOCKET_FILTER needs no capability", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, nil), caps: capsOf(), unpriv: true},
		{name: "unprivileged XDP", linux: "bpf_prog_load: other types need bpf_capable", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_XDP, ret0, nil), caps: capsOf(), unpriv: true, want: linux.EPERM},
		{name: "XDP without CAP_NET_ADMIN", linux: "is_net_admin_prog_type && !capable(NET_ADMIN|SYS_ADMIN)", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_XDP, ret0, nil), caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "kprobe without CAP_PERFMON", linux: "is_perfmon_prog_type && !perfmon_capable", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_KPROBE, ret0, nil), caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "kprobe with CAP_BPF and CAP_PERFMON", linux: "bpf_capable + perfmon_capable suffice", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_KPROBE, ret0, nil), caps: capsOf(syscall.CAP_BPF, syscall.CAP_PERFMON)},
		{name: "attach_btf_id without vmlinux BTF", linux: "bpf_get_btf_vmlinux() NULL is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_TRACING, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.AttachBTFID = 5 }), want: linux.EINVAL},
		{name: "attach_btf_obj_fd of a loaded BTF", linux: "bpf_prog_load: !btf_is_kernel(attach_btf) is ENOTSUPP", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_TRACING, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) { a.AttachProgFD = uint32(f.btf) }), want: linux.ENOTSUPP},
		{name: "attach_prog_fd of a map", linux: "bpf_prog_load: neither prog nor BTF is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_TRACING, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) { a.AttachProgFD = uint32(f.arr) }), want: linux.EINVAL},
		{name: "extension of a socket filter", linux: "bpf_prog_load_check_attach: dst_prog without btf_id", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) { a.AttachProgFD = uint32(f.xdp) }), want: linux.EINVAL},
		{name: "cgroup skb with a wrong attach type", linux: "bpf_prog_load_check_attach: CGROUP_SKB expects INGRESS/EGRESS", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_CGROUP_SKB, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) {
				a.ExpectedAttachType = uint32(linux.BPF_XDP)
			}), want: linux.EINVAL},
		{name: "instructions fault", linux: "copy_from_bpfptr(insns) EFAULT", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.InsnCnt = 3 }), want: linux.EFAULT},
		{name: "offload to a device", linux: "bpf_prog_offload_init: no such netdev is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_XDP, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.ProgIfindex = 1 }), want: linux.EINVAL},
		{name: "unknown type", linux: "find_prog_type: EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(100, ret0, nil), want: linux.EINVAL},
		{name: "type Hachi lacks", linux: "find_prog_type: type not built is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(linux.BPF_PROG_TYPE_SCHED_CLS, ret0, nil), want: linux.EINVAL},
		{name: "bad name", linux: "bpf_obj_name_cpy EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { copy(a.ProgName[:], "x y") }), want: linux.EINVAL},
		{name: "log level without a buffer", linux: "bpf_verifier_log_attr_valid: !ubuf is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.LogLevel = 1 }), want: linux.EINVAL},
		{name: "log buffer under 128 bytes", linux: "bpf_verifier_log_attr_valid: len_total < 128", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, logBuf(64, 1)), want: linux.EINVAL},
		{name: "log level 8", linux: "bpf_verifier_log_attr_valid: level & ~BPF_LOG_MASK", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, logBuf(256, 8)), want: linux.EINVAL},
		{name: "log full", linux: "bpf_check: log full is ENOSPC", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, strings.Repeat("mov %r1, 1\n", 40)+ret0, logBuf(128, 2)), want: linux.ENOSPC},
		{name: "log buffer unmapped", linux: "bpf_check: log->ubuf dropped after a fault is EFAULT", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.LogLevel, a.LogSize, a.LogBuf = 1, 4096, 0xdead0000 }),
			want: linux.EFAULT},
		{name: "log written", linux: "bpf_verifier_log: level 1 text in the buffer", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "exit", logBuf(4096, 1)), want: linux.EACCES,
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				a := (*linux.BPFAttrProgLoad)(unsafe.Pointer(&attr[0]))
				b := make(log.Buffer, a.LogSize)
				f.as.CopyIn(a.LogBuf, b)
				if !strings.Contains(b.String(), "R0 !read_ok") {
					t.Errorf("log %q lacks the verifier's reason", b.String())
				}
			}},
		{name: "verifier refusal", linux: "do_check: R0 !read_ok is EACCES", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "exit", nil), want: linux.EACCES},
		{name: "map fd closed", linux: "resolve_pseudo_ldimm64: __bpf_map_get EBADF", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "lddw %r1, map_fd 900\n"+ret0, nil), want: linux.EBADF},
		{name: "map_idx without fd_array", linux: "resolve_pseudo_ldimm64: fd_idx without fd_array is EPROTO", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "lddw %r1, map_idx 0\n"+ret0, nil), want: linux.EPROTO},
		{name: "fd_array fault", linux: "resolve_pseudo_ldimm64: copy_from_bpfptr_offset(fd_array) EFAULT", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "lddw %r1, map_idx 0\n"+ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.FDArray = 0xdead0000 }),
			want: linux.EFAULT},
		{name: "map_idx through fd_array", linux: "resolve_pseudo_ldimm64: fd = fd_array[imm]", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, "lddw %r1, map_idx 1\n"+ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				a.FDArray = f.buf(append(u32(uint32(f.closed)), u32(uint32(f.arr))...))
			})},
		{name: "map_idx_value through fd_array", linux: "resolve_pseudo_ldimm64: BPF_PSEUDO_MAP_IDX_VALUE", cmd: linux.BPF_PROG_LOAD,
			attr: func(f *fixture) any {
				one := f.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0)
				return load(sock, "lddw %r1, map_idx_value 0, 4\nldxw %r0, [%r1+0]\nexit", func(a *linux.BPFAttrProgLoad, f *fixture) {
					a.FDArray = f.buf(u32(uint32(one)))
				})(f)
			}},
		{name: "map_value past the value", linux: "check_ld_imm: direct value offset >= value_size", cmd: linux.BPF_PROG_LOAD,
			attr: func(f *fixture) any {
				one := f.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0)
				return load(sock, fmt.Sprintf("lddw %%r1, map_value %d, 8\nmov %%r0, 0\nexit", one), nil)(f)
			}, want: linux.EINVAL},
		{name: "ext_infos probe", linux: "check_btf_info: btf_get_by_fd(prog_btf_fd) EBADF (cilium/ebpf's probe)", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, _ *fixture) { a.FuncInfoCnt, a.ProgBTFFD = 1, ^uint32(0) }), want: linux.EBADF},
		{name: "func_info with a map as BTF", linux: "check_btf_info: btf_get_by_fd not BTF is EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.ProgBTFFD = uint32(f.arr)
			}), want: linux.EINVAL},
		{name: "func_info", linux: "check_btf_func", cmd: linux.BPF_PROG_LOAD, attr: load(sock, ret0, withFuncInfo(8, funcRec))},
		{name: "func_info record size 7", linux: "check_btf_func: urec_size < MIN_BPF_FUNCINFO_SIZE", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) { withFuncInfo(8, funcRec)(a, f); a.FuncInfoRecSize = 7 }),
			want: linux.EINVAL},
		{name: "func_info with a non-zero tail", linux: "check_btf_func: bpf_check_uarg_tail_zero E2BIG, rec size written back",
			cmd: linux.BPF_PROG_LOAD, attr: load(sock, ret0, withFuncInfo(12, append(funcRec, 1, 0, 0, 0))), want: linux.E2BIG,
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				if rs := (*linux.BPFAttrProgLoad)(unsafe.Pointer(&attr[0])).FuncInfoRecSize; rs != 8 {
					t.Errorf("func_info_rec_size %d written back, want 8", rs)
				}
			}},
		{name: "func_info for two functions", linux: "check_btf_func: nfuncs != subprog_cnt", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, withFuncInfo(8, append(funcRec, funcRec...))), want: linux.EINVAL},
		{name: "func_info naming an INT", linux: "check_btf_func: type is not FUNC", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, withFuncInfo(8, append(u32(0), u32(1)...))), want: linux.EINVAL},
		{name: "line_info", linux: "check_btf_line", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.LineInfoRecSize, a.LineInfoCnt, a.LineInfo = 16, 2, f.buf(append(lineRec(0), lineRec(1)...))
			})},
		{name: "line_info record size 8", linux: "check_btf_line: rec_size < MIN_BPF_LINEINFO_SIZE", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.LineInfoRecSize, a.LineInfoCnt, a.LineInfo = 8, 1, f.buf(lineRec(0))
			}), want: linux.EINVAL},
		{name: "line_info past the program", linux: "check_btf_line: insn_off >= prog->len", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.LineInfoRecSize, a.LineInfoCnt, a.LineInfo = 16, 2, f.buf(append(lineRec(0), lineRec(2)...))
			}), want: linux.EINVAL},
		{name: "line_info missing for main", linux: "check_btf_line: missing bpf_line_info for func#0", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.LineInfoRecSize, a.LineInfoCnt, a.LineInfo = 16, 1, f.buf(lineRec(1))
			}), want: linux.EINVAL},
		{name: "line_info with a bad string offset", linux: "check_btf_line: btf_name_by_offset NULL", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				rec := lineRec(0)
				binary.LittleEndian.PutUint32(rec[8:], 5000)
				a.LineInfoRecSize, a.LineInfoCnt, a.LineInfo = 16, 1, f.buf(rec)
			}), want: linux.EINVAL},
		{name: "CO-RE relocations", linux: "check_core_relo: needs vmlinux BTF (bpf_core_apply fails) EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: load(sock, ret0, func(a *linux.BPFAttrProgLoad, f *fixture) {
				withFuncInfo(8, funcRec)(a, f)
				a.CoreReloCnt, a.CoreReloRecSize, a.CoreRelos = 1, 16, f.buf(make([]byte, 16))
			}), want: linux.EINVAL},
		{name: "prog array of another type", linux: "bpf_check_tail_call: bpf_prog_map_compatible EINVAL", cmd: linux.BPF_PROG_LOAD,
			attr: func(f *fixture) any {
				f.update(f.progArr, u32(0), u32(uint32(f.xdp)), 0)
				return load(sock, fmt.Sprintf("lddw %%r1, map_fd %d\n%s", f.progArr, ret0), nil)(f)
			}, want: linux.EINVAL},
	})
}

func TestObjPinGet(t *testing.T) {
	pin := func(fdOf func(f *fixture) int, path string) func(f *fixture) any {
		return func(f *fixture) any { return &linux.BPFAttrObjPin{BPFFD: uint32(fdOf(f)), Pathname: f.str(path)} }
	}
	arr := func(f *fixture) int { return f.arr }
	get := func(path string, flags uint32) func(f *fixture) any {
		return func(f *fixture) any {
			f.mustOK(sysCall(f.proc, linux.BPF_OBJ_PIN, &linux.BPFAttrObjPin{BPFFD: uint32(f.arr), Pathname: f.str("/sys/fs/bpf/m")}))
			return &linux.BPFAttrObjPin{Pathname: f.str(path), FileFlags: flags}
		}
	}
	runCases(t, []cmdCase{
		{name: "pin a map", linux: "bpf_obj_pin_user", cmd: linux.BPF_OBJ_PIN, attr: pin(arr, "/sys/fs/bpf/m"),
			check: func(t *testing.T, f *fixture, _ int, _ []byte) {
				f.closeAll()
				if live := f.sys.Live(); live.Maps != 1 {
					t.Errorf("pinned map gone with its descriptors: %+v", live)
				}
				f.sys.FS().Unmount()
				if live := f.sys.Live(); live.Maps != 0 {
					t.Errorf("map alive after unmount: %+v", live)
				}
			}},
		{name: "pin a program", linux: "bpf_fd_probe_obj: prog", cmd: linux.BPF_OBJ_PIN,
			attr: pin(func(f *fixture) int { return f.xdp }, "/sys/fs/bpf/p")},
		{name: "pin BTF", linux: "bpf_fd_probe_obj: BTF is neither map, prog nor link: EINVAL", cmd: linux.BPF_OBJ_PIN,
			attr: pin(func(f *fixture) int { return f.btf }, "/sys/fs/bpf/b"), want: linux.EINVAL},
		{name: "pin a closed fd", linux: "bpf_fd_probe_obj: EINVAL (not EBADF)", cmd: linux.BPF_OBJ_PIN,
			attr: pin(func(f *fixture) int { return f.closed }, "/sys/fs/bpf/b"), want: linux.EINVAL},
		{name: "pin with file_flags", linux: "bpf_obj_pin: file_flags != 0 is EINVAL", cmd: linux.BPF_OBJ_PIN,
			attr: func(f *fixture) any {
				return &linux.BPFAttrObjPin{BPFFD: uint32(f.arr), Pathname: f.str("/sys/fs/bpf/m"), FileFlags: linux.BPF_F_RDONLY}
			}, want: linux.EINVAL},
		{name: "pin twice", linux: "user_path_create: existing name is EEXIST", cmd: linux.BPF_OBJ_PIN,
			attr: func(f *fixture) any {
				pin(arr, "/sys/fs/bpf/m")(f)
				get("/", 0)(f)
				return pin(arr, "/sys/fs/bpf/m")(f)
			},
			want: linux.EEXIST},
		{name: "pin in a missing directory", linux: "user_path_create: missing parent is ENOENT", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf/d/m"), want: linux.ENOENT},
		{name: "pin in a directory", linux: "bpf_obj_do_pin in a bpffs subdirectory", cmd: linux.BPF_OBJ_PIN,
			attr: func(f *fixture) any {
				if err := f.sys.FS().Mkdir("/sys/fs/bpf/d", 0o755); err != nil {
					f.t.Fatal(errName(err))
				}
				return pin(arr, "/sys/fs/bpf//d/./m")(f)
			}},
		{name: "pin under a pinned file", linux: "path walk: a file as a directory is ENOTDIR", cmd: linux.BPF_OBJ_PIN,
			attr: func(f *fixture) any { get("/", 0)(f); return pin(arr, "/sys/fs/bpf/m/x")(f) }, want: linux.ENOTDIR},
		{name: "pin with a trailing slash", linux: "filename_create: trailing '/' for a non-directory is ENOENT", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf/m/"), want: linux.ENOENT},
		{name: "pin outside bpffs", linux: "bpf_obj_do_pin: parent not bpf_dir_iops is EPERM", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/m"), want: linux.EPERM},
		{name: "pin in a missing outside directory", linux: "user_path_create: ENOENT", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/tmp/m"), want: linux.ENOENT},
		{name: "pin at the mount point", linux: "user_path_create: existing name is EEXIST", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf"), want: linux.EEXIST},
		{name: "pin at '..'", linux: "filename_create: last component not LAST_NORM is EEXIST", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf/.."), want: linux.EEXIST},
		{name: "pin NULL path", linux: "getname: EFAULT", cmd: linux.BPF_OBJ_PIN,
			attr: func(f *fixture) any { return &linux.BPFAttrObjPin{BPFFD: uint32(f.arr)} }, want: linux.EFAULT},
		{name: "pin empty path", linux: "getname: empty is ENOENT", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, ""), want: linux.ENOENT},
		{name: "pin path of PATH_MAX", linux: "getname: no NUL in PATH_MAX bytes is ENAMETOOLONG", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf/"+strings.Repeat("a/", 2100)), want: linux.ENAMETOOLONG},
		{name: "pin a 256-byte name", linux: "path walk: component > NAME_MAX is ENAMETOOLONG", cmd: linux.BPF_OBJ_PIN,
			attr: pin(arr, "/sys/fs/bpf/"+strings.Repeat("a", 256)), want: linux.ENAMETOOLONG},
		{name: "get", linux: "bpf_obj_get_user", cmd: linux.BPF_OBJ_GET, attr: get("/sys/fs/bpf/m", 0),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				fl, _ := f.tk.Files.Get(fd)
				defer fl.DecRef()
				if fl.Object() != fl.Object().(*Map) || !fl.Writable() {
					t.Errorf("OBJ_GET did not give a writable map descriptor")
				}
			}},
		{name: "get read-only", linux: "bpf_obj_get_user: BPF_F_RDONLY gives an O_RDONLY map fd", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf/m", linux.BPF_F_RDONLY),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if err := f.update(fd, u32(0), u64(1), 0); err != linux.EPERM {
					t.Errorf("update through a read-only OBJ_GET fd: %s", errName(err))
				}
			}},
		{name: "get with bpf_fd", linux: "bpf_obj_get: bpf_fd != 0 is EINVAL", cmd: linux.BPF_OBJ_GET,
			attr: func(f *fixture) any { a := get("/sys/fs/bpf/m", 0)(f).(*linux.BPFAttrObjPin); a.BPFFD = 1; return a },
			want: linux.EINVAL},
		{name: "get with unknown flags", linux: "bpf_obj_get: file_flags & ~BPF_OBJ_FLAG_MASK", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf/m", 1), want: linux.EINVAL},
		{name: "get read-only and write-only", linux: "bpf_get_file_flag: EINVAL", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf/m", linux.BPF_F_RDONLY|linux.BPF_F_WRONLY), want: linux.EINVAL},
		{name: "get missing", linux: "kern_path: ENOENT", cmd: linux.BPF_OBJ_GET, attr: get("/sys/fs/bpf/x", 0), want: linux.ENOENT},
		{name: "get a directory", linux: "bpf_inode_type: not a bpf object is EACCES", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf", 0), want: linux.EACCES},
		{name: "get with a trailing slash", linux: "path walk: a file with '/' is ENOTDIR", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf/m/", 0), want: linux.ENOTDIR},
		{name: "get through '..'", linux: "path walk resolves '..'", cmd: linux.BPF_OBJ_GET,
			attr: get("/sys/fs/bpf/../bpf/m", 0)},
	})
}
