package sys

import (
	"encoding/binary"
	"unsafe"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// attr is a copy of union bpf_attr, 8-byte aligned so that the linux.BPFAttr*
// member structs can be viewed in place.
type attr [linux.BPFAttrSize / 8]uint64

func (a *attr) bytes() []byte { return unsafe.Slice((*byte)(unsafe.Pointer(a)), linux.BPFAttrSize) }

func (a *attr) mapCreate() *linux.BPFAttrMapCreate {
	return (*linux.BPFAttrMapCreate)(unsafe.Pointer(a))
}
func (a *attr) mapElem() *linux.BPFAttrMapElem   { return (*linux.BPFAttrMapElem)(unsafe.Pointer(a)) }
func (a *attr) batch() *linux.BPFAttrBatch       { return (*linux.BPFAttrBatch)(unsafe.Pointer(a)) }
func (a *attr) progLoad() *linux.BPFAttrProgLoad { return (*linux.BPFAttrProgLoad)(unsafe.Pointer(a)) }
func (a *attr) objPin() *linux.BPFAttrObjPin     { return (*linux.BPFAttrObjPin)(unsafe.Pointer(a)) }
func (a *attr) progAttach() *linux.BPFAttrProgAttach {
	return (*linux.BPFAttrProgAttach)(unsafe.Pointer(a))
}
func (a *attr) progQueryAttr() *linux.BPFAttrQuery {
	return (*linux.BPFAttrQuery)(unsafe.Pointer(a))
}
func (a *attr) testRun() *linux.BPFAttrTestRun { return (*linux.BPFAttrTestRun)(unsafe.Pointer(a)) }
func (a *attr) getID() *linux.BPFAttrGetID     { return (*linux.BPFAttrGetID)(unsafe.Pointer(a)) }
func (a *attr) info() *linux.BPFAttrInfo       { return (*linux.BPFAttrInfo)(unsafe.Pointer(a)) }
func (a *attr) btfLoad() *linux.BPFAttrBTFLoad { return (*linux.BPFAttrBTFLoad)(unsafe.Pointer(a)) }
func (a *attr) rawTracepoint() *linux.BPFAttrRawTracepoint {
	return (*linux.BPFAttrRawTracepoint)(unsafe.Pointer(a))
}
func (a *attr) taskFDQuery() *linux.BPFAttrTaskFDQuery {
	return (*linux.BPFAttrTaskFDQuery)(unsafe.Pointer(a))
}
func (a *attr) linkCreate() *linux.BPFAttrLinkCreate {
	return (*linux.BPFAttrLinkCreate)(unsafe.Pointer(a))
}
func (a *attr) linkUpdate() *linux.BPFAttrLinkUpdate {
	return (*linux.BPFAttrLinkUpdate)(unsafe.Pointer(a))
}
func (a *attr) linkDetach() *linux.BPFAttrLinkDetach {
	return (*linux.BPFAttrLinkDetach)(unsafe.Pointer(a))
}
func (a *attr) enableStats() *linux.BPFAttrEnableStats {
	return (*linux.BPFAttrEnableStats)(unsafe.Pointer(a))
}
func (a *attr) iterCreate() *linux.BPFAttrIterCreate {
	return (*linux.BPFAttrIterCreate)(unsafe.Pointer(a))
}
func (a *attr) progBindMap() *linux.BPFAttrProgBindMap {
	return (*linux.BPFAttrProgBindMap)(unsafe.Pointer(a))
}

// call is one bpf(2) invocation: the caller, the attr as copied in, and
// where it lives in user memory (some commands write results back into it).
type call struct {
	sys   *System
	t     *syscall.Task
	cmd   linux.BPFCmd
	uattr uint64
	attr  attr
}

// putU32 writes v into the caller's attr at byte offset off (put_user on a
// field of uattr).
func (c *call) putU32(off uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return c.t.Mem.CopyOut(c.uattr+uint64(off), b[:])
}

// putU64 is putU32 for a u64 field.
func (c *call) putU64(off uintptr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return c.t.Mem.CopyOut(c.uattr+uint64(off), b[:])
}

// commands is the bpf(2) command table, indexed by command number. Every
// command of Linux 6.1 has a handler; the ones whose hooks Hachi does not
// have yet (cgroups, sockets, raw tracepoints, iterators) check their
// arguments as Linux does and answer the errno a Linux built without those
// hooks gives (see each handler). Numbers past the table are unknown:
// EINVAL, like __sys_bpf's default case.
var commands = [...]func(*call) (int, error){
	linux.BPF_MAP_CREATE:                  (*call).mapCreate,
	linux.BPF_MAP_LOOKUP_ELEM:             (*call).mapLookupElem,
	linux.BPF_MAP_UPDATE_ELEM:             (*call).mapUpdateElem,
	linux.BPF_MAP_DELETE_ELEM:             (*call).mapDeleteElem,
	linux.BPF_MAP_GET_NEXT_KEY:            (*call).mapGetNextKey,
	linux.BPF_PROG_LOAD:                   (*call).progLoad,
	linux.BPF_OBJ_PIN:                     (*call).objPin,
	linux.BPF_OBJ_GET:                     (*call).objGet,
	linux.BPF_PROG_ATTACH:                 (*call).progAttach,
	linux.BPF_PROG_DETACH:                 (*call).progDetach,
	linux.BPF_PROG_TEST_RUN:               (*call).progTestRun,
	linux.BPF_PROG_GET_NEXT_ID:            (*call).progGetNextID,
	linux.BPF_MAP_GET_NEXT_ID:             (*call).mapGetNextID,
	linux.BPF_PROG_GET_FD_BY_ID:           (*call).progGetFDByID,
	linux.BPF_MAP_GET_FD_BY_ID:            (*call).mapGetFDByID,
	linux.BPF_OBJ_GET_INFO_BY_FD:          (*call).objGetInfoByFD,
	linux.BPF_PROG_QUERY:                  (*call).progQuery,
	linux.BPF_RAW_TRACEPOINT_OPEN:         (*call).rawTracepointOpen,
	linux.BPF_BTF_LOAD:                    (*call).btfLoad,
	linux.BPF_BTF_GET_FD_BY_ID:            (*call).btfGetFDByID,
	linux.BPF_TASK_FD_QUERY:               (*call).taskFDQuery,
	linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM:  (*call).mapLookupAndDeleteElem,
	linux.BPF_MAP_FREEZE:                  (*call).mapFreeze,
	linux.BPF_BTF_GET_NEXT_ID:             (*call).btfGetNextID,
	linux.BPF_MAP_LOOKUP_BATCH:            (*call).mapBatch,
	linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH: (*call).mapBatch,
	linux.BPF_MAP_UPDATE_BATCH:            (*call).mapBatch,
	linux.BPF_MAP_DELETE_BATCH:            (*call).mapBatch,
	linux.BPF_LINK_CREATE:                 (*call).linkCreate,
	linux.BPF_LINK_UPDATE:                 (*call).linkUpdate,
	linux.BPF_LINK_GET_FD_BY_ID:           (*call).linkGetFDByID,
	linux.BPF_LINK_GET_NEXT_ID:            (*call).linkGetNextID,
	linux.BPF_ENABLE_STATS:                (*call).enableStats,
	linux.BPF_ITER_CREATE:                 (*call).iterCreate,
	linux.BPF_LINK_DETACH:                 (*call).linkDetach,
	linux.BPF_PROG_BIND_MAP:               (*call).progBindMap,
}

// Call is the bpf(2) system call: cmd with the size bytes of union
// bpf_attr at uattr in t's memory. It returns the new descriptor for the
// commands that make one, 0 otherwise, or a linux.Errno.
//
// The size rules come first, as in kernel/bpf/syscall.c:__sys_bpf: a size
// over a page is E2BIG; bytes past the union Hachi knows (144 bytes, Linux
// 6.1) must be zero (E2BIG otherwise), so newer loaders' larger structs are
// accepted; a shorter attr is zero-extended. Then bytes past the command's
// own last field must be zero (CHECK_ATTR: EINVAL).
func (s *System) Call(t *syscall.Task, cmd uint32, uattr uint64, size uint32) (int, error) {
	c := &call{sys: s, t: t, cmd: linux.BPFCmd(cmd), uattr: uattr}
	capable := bpfCapable(t) || s.UnprivilegedDisabled == 0
	if !capable && (c.cmd == linux.BPF_MAP_CREATE || c.cmd == linux.BPF_PROG_LOAD) {
		return -1, linux.EPERM
	}
	if err := checkUargTailZero(t.Mem, uattr, linux.BPFAttrSize, uint64(size)); err != nil {
		return -1, err
	}
	if size > linux.BPFAttrSize {
		size = linux.BPFAttrSize
	}
	if err := t.Mem.CopyIn(uattr, c.attr.bytes()[:size]); err != nil {
		return -1, linux.EFAULT
	}
	if int(cmd) >= len(commands) || commands[cmd] == nil {
		return -1, linux.EINVAL
	}
	if end, ok := linux.BPFAttrCmdEnd(c.cmd); !ok || !allZero(c.attr.bytes()[end:]) {
		return -1, linux.EINVAL
	}
	n, err := commands[cmd](c)
	if err != nil {
		return -1, errnoOf(err)
	}
	return n, nil
}

// Syscall is the bpf(2) entry as a syscall.Handler: bpf(int cmd, union
// bpf_attr *attr, unsigned int size), the fd or 0 in the result register.
func (s *System) Syscall(t *syscall.Task, a syscall.Args) (uintptr, error) {
	n, err := s.Call(t, uint32(a[0]), a[1], uint32(a[2]))
	if err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// checkUargTailZero is bpf_check_uarg_tail_zero: a user struct of
// actualSize bytes may be larger than the expectedSize the kernel knows
// only if its extra bytes are zero (E2BIG otherwise, or EFAULT if they
// cannot be read); over a page is E2BIG outright.
func checkUargTailZero(mem syscall.AddressSpace, addr uint64, expectedSize, actualSize uint64) error {
	if actualSize > syscall.PageSize {
		return linux.E2BIG
	}
	if actualSize <= expectedSize {
		return nil
	}
	zero, err := syscall.CheckZeroed(mem, addr+expectedSize, actualSize-expectedSize)
	if err != nil {
		return err
	}
	if !zero {
		return linux.E2BIG
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
