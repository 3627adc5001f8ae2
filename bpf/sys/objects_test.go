package sys

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/syscall"
	"hachi/syscall/linux"
)

func TestInfoByFD(t *testing.T) {
	info := func(fdOf func(f *fixture) int, size int, mod func(b []byte, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			b := make([]byte, size)
			if mod != nil {
				mod(b, f)
			}
			return &linux.BPFAttrInfo{BPFFD: uint32(fdOf(f)), InfoLen: uint32(size), Info: f.buf(b)}
		}
	}
	infoOut := func(f *fixture, attr []byte) ([]byte, uint32) {
		a := (*linux.BPFAttrInfo)(unsafe.Pointer(&attr[0]))
		b := make([]byte, 512)
		f.as.CopyIn(a.Info, b[:a.InfoLen])
		return b, a.InfoLen
	}
	arr := func(f *fixture) int { return f.arr }
	mapSize := int(unsafe.Sizeof(linux.BPFMapInfo{}))
	progSize := int(unsafe.Sizeof(linux.BPFProgInfo{}))
	btfSize := int(unsafe.Sizeof(linux.BPFBTFInfo{}))
	runCases(t, []cmdCase{
		{name: "map info", linux: "bpf_map_get_info_by_fd", cmd: linux.BPF_OBJ_GET_INFO_BY_FD, attr: info(arr, mapSize, nil),
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				b, n := infoOut(f, attr)
				mi := (*linux.BPFMapInfo)(unsafe.Pointer(&b[0]))
				if n != uint32(mapSize) || mi.Type != uint32(linux.BPF_MAP_TYPE_ARRAY) || mi.ID != 1 || mi.KeySize != 4 ||
					mi.ValueSize != 8 || mi.MaxEntries != 4 {
					t.Errorf("map info %+v, len %d", *mi, n)
				}
			}},
		{name: "map info, short buffer", linux: "info_len = min(sizeof, info_len)", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(arr, 8, nil),
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				b, n := infoOut(f, attr)
				if n != 8 || binary.LittleEndian.Uint32(b[4:]) != 1 {
					t.Errorf("len %d, id %d", n, binary.LittleEndian.Uint32(b[4:]))
				}
			}},
		{name: "map info, larger zero-tailed buffer", linux: "bpf_check_uarg_tail_zero accepts, info_len = sizeof", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(arr, mapSize+16, nil),
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				if _, n := infoOut(f, attr); n != uint32(mapSize) {
					t.Errorf("info_len %d, want %d", n, mapSize)
				}
			}},
		{name: "map info, non-zero tail", linux: "bpf_check_uarg_tail_zero: E2BIG", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(arr, mapSize+16, func(b []byte, _ *fixture) { b[mapSize+3] = 1 }), want: linux.E2BIG},
		{name: "info of a closed fd", linux: "bpf_obj_get_info_by_fd: fdget fails is EBADFD", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.closed }, mapSize, nil), want: linux.EBADFD},
		{name: "info of another file", linux: "bpf_obj_get_info_by_fd: unknown f_op is EINVAL", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.other }, mapSize, nil), want: linux.EINVAL},
		{name: "info buffer unmapped", linux: "copy_to_user EFAULT", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: func(f *fixture) any { return &linux.BPFAttrInfo{BPFFD: uint32(f.arr), InfoLen: 80, Info: 0xdead0000} }, want: linux.EFAULT},
		{name: "prog info", linux: "bpf_prog_get_info_by_fd: type, id, tag, name, map ids, xlated insns", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: func(f *fixture) any {
				a := f.progAttr(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(f.t,
					"lddw %r1, map_fd 0\nlddw %r1, map_fd 1\nlddw %r1, map_fd 0\nmov %r0, 0\nexit"))
				copy(a.ProgName[:], "named")
				fd := f.mustOK(sysCall(f.proc, linux.BPF_PROG_LOAD, &a))
				return info(func(*fixture) int { return fd }, progSize, func(b []byte, f *fixture) {
					pi := (*linux.BPFProgInfo)(unsafe.Pointer(&b[0]))
					pi.NrMapIDs, pi.MapIDs = 1, f.buf(make([]byte, 4))
					pi.XlatedProgLen, pi.XlatedProgInsns = 1000, f.buf(make([]byte, 1000))
					pi.NrProgTags, pi.ProgTags = 1, f.buf(make([]byte, 8))
				})(f)
			},
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				b, _ := infoOut(f, attr)
				pi := (*linux.BPFProgInfo)(unsafe.Pointer(&b[0]))
				if pi.Type != uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER) || pi.ID != 5 || pi.NrMapIDs != 2 ||
					string(bytes.TrimRight(pi.Name[:], "\x00")) != "named" || pi.Bits != linux.BPFProgInfoGPLCompatible ||
					pi.XlatedProgLen != 8*8 || pi.LoadTime != 42e9 || pi.VerifiedInsns == 0 {
					t.Errorf("prog info %+v", *pi)
				}
				ids := make([]byte, 4)
				f.as.CopyIn(pi.MapIDs, ids)
				if binary.LittleEndian.Uint32(ids) != 1 {
					t.Errorf("first map id %d, want 1 (only nr_map_ids=1 copied)", binary.LittleEndian.Uint32(ids))
				}
				x := make([]byte, pi.XlatedProgLen)
				f.as.CopyIn(pi.XlatedProgInsns, x)
				insns, _ := isa.Decode(x)
				if insns[0].Imm != 1 || insns[2].Imm != 2 || insns[4].Imm != 1 {
					t.Errorf("xlated lddw imms %d %d %d, want the map ids 1 2 1", insns[0].Imm, insns[2].Imm, insns[4].Imm)
				}
				tag := make([]byte, 8)
				f.as.CopyIn(pi.ProgTags, tag)
				if !bytes.Equal(tag, pi.Tag[:]) || bytes.Equal(tag, make([]byte, 8)) {
					t.Errorf("prog_tags %x, tag %x", tag, pi.Tag)
				}
			}},
		{name: "prog info, wrong func_info_rec_size", linux: "set_info_rec_size: EINVAL", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.xdp }, progSize, func(b []byte, _ *fixture) {
				(*linux.BPFProgInfo)(unsafe.Pointer(&b[0])).FuncInfoRecSize = 4
			}), want: linux.EINVAL},
		{name: "prog info, map_ids unmapped", linux: "put_user(map id) EFAULT", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: func(f *fixture) any {
				a := f.progAttr(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(f.t, "lddw %r1, map_fd 0\nmov %r0, 0\nexit"))
				fd := f.mustOK(sysCall(f.proc, linux.BPF_PROG_LOAD, &a))
				return info(func(*fixture) int { return fd }, progSize, func(b []byte, _ *fixture) {
					pi := (*linux.BPFProgInfo)(unsafe.Pointer(&b[0]))
					pi.NrMapIDs, pi.MapIDs = 1, 0xdead0000
				})(f)
			}, want: linux.EFAULT},
		{name: "btf info", linux: "btf_get_info_by_fd: the blob into btf, btf_size the full size", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.btf }, btfSize, func(b []byte, f *fixture) {
				bi := (*linux.BPFBTFInfo)(unsafe.Pointer(&b[0]))
				bi.BTF, bi.BTFSize = f.buf(make([]byte, 10)), 10
			}),
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				b, _ := infoOut(f, attr)
				bi := (*linux.BPFBTFInfo)(unsafe.Pointer(&b[0]))
				blob := make([]byte, 10)
				f.as.CopyIn(bi.BTF, blob)
				if bi.BTFSize != uint32(len(testBTF())) || bi.ID != 1 || !bytes.Equal(blob, testBTF()[:10]) {
					t.Errorf("btf info %+v, blob %x", *bi, blob)
				}
			}},
		{name: "btf info, name without length", linux: "btf_get_info_by_fd: !uname ^ !uname_len is EINVAL", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.btf }, btfSize, func(b []byte, f *fixture) {
				(*linux.BPFBTFInfo)(unsafe.Pointer(&b[0])).Name = f.buf(make([]byte, 8))
			}), want: linux.EINVAL},
		{name: "btf info, non-zero tail", linux: "bpf_btf_get_info_by_fd: bpf_check_uarg_tail_zero E2BIG", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: info(func(f *fixture) int { return f.btf }, btfSize+8, func(b []byte, _ *fixture) { b[btfSize] = 1 }), want: linux.E2BIG},
		{name: "link info", linux: "bpf_link_get_info_by_fd: type, id, prog_id", cmd: linux.BPF_OBJ_GET_INFO_BY_FD,
			attr: func(f *fixture) any {
				lfd := f.mustOK(sysCall(f.proc, linux.BPF_LINK_CREATE, &linux.BPFAttrLinkCreate{ProgFD: uint32(f.kprobe),
					TargetFD: uint32(f.perf), AttachType: uint32(linux.BPF_PERF_EVENT)}))
				return info(func(*fixture) int { return lfd }, int(unsafe.Sizeof(linux.BPFLinkInfo{})), nil)(f)
			},
			check: func(t *testing.T, f *fixture, _ int, attr []byte) {
				b, _ := infoOut(f, attr)
				li := (*linux.BPFLinkInfo)(unsafe.Pointer(&b[0]))
				if li.Type != uint32(linux.BPF_LINK_TYPE_PERF_EVENT) || li.ID != 1 || li.ProgID != 3 {
					t.Errorf("link info %+v", *li)
				}
			}},
	})
}

func TestIDCommands(t *testing.T) {
	getID := func(id uint32) func(f *fixture) any {
		return func(f *fixture) any { return &linux.BPFAttrGetID{StartID: id} }
	}
	nextID := func(want uint32) func(t *testing.T, f *fixture, _ int, attr []byte) {
		return func(t *testing.T, f *fixture, _ int, attr []byte) {
			if got := (*linux.BPFAttrGetID)(unsafe.Pointer(&attr[0])).NextID; got != want {
				t.Errorf("next_id %d, want %d", got, want)
			}
		}
	}
	fdOf := func(want func(o any) bool) func(t *testing.T, f *fixture, fd int, _ []byte) {
		return func(t *testing.T, f *fixture, fd int, _ []byte) {
			fl, err := f.tk.Files.Get(fd)
			if err != nil || !want(fl.Object()) {
				t.Errorf("fd %d is not the object asked for", fd)
			} else {
				fl.DecRef()
			}
		}
	}
	runCases(t, []cmdCase{
		{name: "first map id", linux: "bpf_obj_get_next_id: idr_get_next from start_id+1", cmd: linux.BPF_MAP_GET_NEXT_ID,
			attr: getID(0), check: nextID(1)},
		{name: "next map id", linux: "bpf_obj_get_next_id", cmd: linux.BPF_MAP_GET_NEXT_ID, attr: getID(3), check: nextID(4)},
		{name: "past the last map", linux: "bpf_obj_get_next_id: none is ENOENT", cmd: linux.BPF_MAP_GET_NEXT_ID,
			attr: getID(7), want: linux.ENOENT},
		{name: "start_id INT_MAX", linux: "bpf_obj_get_next_id: next_id >= INT_MAX is EINVAL", cmd: linux.BPF_PROG_GET_NEXT_ID,
			attr: getID(1<<31 - 1), want: linux.EINVAL},
		{name: "next id without CAP_SYS_ADMIN", linux: "bpf_obj_get_next_id: !capable(CAP_SYS_ADMIN)", cmd: linux.BPF_PROG_GET_NEXT_ID,
			attr: getID(0), caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "next prog id", linux: "bpf_obj_get_next_id(prog_idr)", cmd: linux.BPF_PROG_GET_NEXT_ID, attr: getID(1), check: nextID(2)},
		{name: "next btf id", linux: "bpf_obj_get_next_id(btf_idr)", cmd: linux.BPF_BTF_GET_NEXT_ID, attr: getID(0), check: nextID(1)},
		{name: "no links", linux: "bpf_obj_get_next_id(link_idr): ENOENT", cmd: linux.BPF_LINK_GET_NEXT_ID, attr: getID(0), want: linux.ENOENT},
		{name: "next id with open_flags", linux: "CHECK_ATTR(BPF_OBJ_GET_NEXT_ID): open_flags past next_id", cmd: linux.BPF_MAP_GET_NEXT_ID,
			attr: func(f *fixture) any { return &linux.BPFAttrGetID{OpenFlags: 1} }, want: linux.EINVAL},
		{name: "map fd by id", linux: "bpf_map_get_fd_by_id", cmd: linux.BPF_MAP_GET_FD_BY_ID, attr: getID(2),
			check: fdOf(func(o any) bool { m, ok := o.(*Map); return ok && m.id == 2 })},
		{name: "map fd by id, read-only", linux: "bpf_map_get_fd_by_id: open_flags BPF_F_RDONLY", cmd: linux.BPF_MAP_GET_FD_BY_ID,
			attr: func(f *fixture) any { return &linux.BPFAttrGetID{StartID: 1, OpenFlags: linux.BPF_F_RDONLY} },
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if err := f.update(fd, u32(0), u64(0), 0); err != linux.EPERM {
					t.Errorf("update through read-only fd: %s", errName(err))
				}
			}},
		{name: "map fd by id, unknown flags", linux: "bpf_map_get_fd_by_id: open_flags & ~BPF_OBJ_FLAG_MASK", cmd: linux.BPF_MAP_GET_FD_BY_ID,
			attr: func(f *fixture) any { return &linux.BPFAttrGetID{StartID: 1, OpenFlags: 4} }, want: linux.EINVAL},
		{name: "map fd by unknown id", linux: "bpf_map_get_fd_by_id: idr_find NULL is ENOENT", cmd: linux.BPF_MAP_GET_FD_BY_ID,
			attr: getID(99), want: linux.ENOENT},
		{name: "map fd by id unprivileged", linux: "bpf_map_get_fd_by_id: !capable(CAP_SYS_ADMIN)", cmd: linux.BPF_MAP_GET_FD_BY_ID,
			attr: getID(1), caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "prog fd by id", linux: "bpf_prog_get_fd_by_id", cmd: linux.BPF_PROG_GET_FD_BY_ID, attr: getID(1),
			check: fdOf(func(o any) bool { p, ok := o.(*Prog); return ok && p.typ == linux.BPF_PROG_TYPE_XDP })},
		{name: "prog fd by id with open_flags", linux: "CHECK_ATTR(BPF_PROG_GET_FD_BY_ID): only prog_id", cmd: linux.BPF_PROG_GET_FD_BY_ID,
			attr: func(f *fixture) any { return &linux.BPFAttrGetID{StartID: 1, NextID: 1} }, want: linux.EINVAL},
		{name: "btf fd by id", linux: "btf_get_fd_by_id", cmd: linux.BPF_BTF_GET_FD_BY_ID, attr: getID(1),
			check: fdOf(func(o any) bool { _, ok := o.(*BTF); return ok })},
		{name: "btf fd by unknown id", linux: "btf_get_fd_by_id: ENOENT", cmd: linux.BPF_BTF_GET_FD_BY_ID, attr: getID(2), want: linux.ENOENT},
		{name: "link fd by unknown id", linux: "bpf_link_by_id: ENOENT", cmd: linux.BPF_LINK_GET_FD_BY_ID, attr: getID(1), want: linux.ENOENT},
	})
}

func TestIDAllocation(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	a := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0)
	p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0)
	p.tk.Files.Close(a)
	if id := s.maps.nextIDFor(t); id != 3 {
		t.Errorf("a freed id was reused: next %d, want 3 (idr_alloc_cyclic)", id)
	}
	s.maps.next = idMax - 1
	if got := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0); got < 0 {
		t.Fatal("create")
	}
	if id := s.maps.nextIDFor(t); id != 1 {
		t.Errorf("after INT_MAX-1 the ids wrap to the lowest free: %d, want 1", id)
	}
}

// nextIDFor is the id the next allocation would take (a test probe).
func (r *idr[T]) nextIDFor(t *testing.T) uint32 {
	var zero T
	id, err := r.alloc(zero)
	if err != nil {
		t.Fatal(err)
	}
	r.remove(id)
	r.next = id
	return id
}

func TestBTFLoad(t *testing.T) {
	load := func(mod func(a *linux.BPFAttrBTFLoad, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			blob := testBTF()
			a := &linux.BPFAttrBTFLoad{BTF: f.buf(blob), BTFSize: uint32(len(blob))}
			if mod != nil {
				mod(a, f)
			}
			return a
		}
	}
	runCases(t, []cmdCase{
		{name: "load", linux: "bpf_btf_load", cmd: linux.BPF_BTF_LOAD, attr: load(nil),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				fl, _ := f.tk.Files.Get(fd)
				defer fl.DecRef()
				if fl.Writable() {
					t.Errorf("BTF fd is writable: Linux opens it O_RDONLY")
				}
			}},
		{name: "unprivileged", linux: "bpf_btf_load: !bpf_capable is EPERM", cmd: linux.BPF_BTF_LOAD, attr: load(nil),
			caps: capsOf(syscall.CAP_PERFMON), want: linux.EPERM},
		{name: "over 16 MiB", linux: "btf_parse: btf_data_size > BTF_MAX_SIZE is E2BIG", cmd: linux.BPF_BTF_LOAD,
			attr: load(func(a *linux.BPFAttrBTFLoad, _ *fixture) { a.BTFSize = 16<<20 + 1 }), want: linux.E2BIG},
		{name: "blob unmapped", linux: "btf_parse: copy_from_bpfptr EFAULT", cmd: linux.BPF_BTF_LOAD,
			attr: load(func(a *linux.BPFAttrBTFLoad, _ *fixture) { a.BTF = 0xdead0000 }), want: linux.EFAULT},
		{name: "bad magic", linux: "btf_parse_hdr: magic is EINVAL", cmd: linux.BPF_BTF_LOAD,
			attr: load(func(a *linux.BPFAttrBTFLoad, f *fixture) { b := testBTF(); b[0] = 0; a.BTF = f.buf(b) }), want: linux.EINVAL},
		{name: "log without buffer", linux: "bpf_verifier_log_attr_valid: EINVAL", cmd: linux.BPF_BTF_LOAD,
			attr: load(func(a *linux.BPFAttrBTFLoad, _ *fixture) { a.BTFLogLevel = 1 }), want: linux.EINVAL},
		{name: "log too small", linux: "btf_parse: log full is ENOSPC", cmd: linux.BPF_BTF_LOAD,
			attr: load(func(a *linux.BPFAttrBTFLoad, f *fixture) {
				a.BTFLogLevel, a.BTFLogSize, a.BTFLogBuf = 1, 128, f.buf(make([]byte, 128))
			}), want: linux.ENOSPC},
	})
}

func TestLinkAndMisc(t *testing.T) {
	link := func(prog func(f *fixture) int, target func(f *fixture) int, at linux.BPFAttachType) func(f *fixture) any {
		return func(f *fixture) any {
			return &linux.BPFAttrLinkCreate{ProgFD: uint32(prog(f)), TargetFD: uint32(target(f)), AttachType: uint32(at)}
		}
	}
	kprobe := func(f *fixture) int { return f.kprobe }
	perf := func(f *fixture) int { return f.perf }
	newLink := func(f *fixture) int {
		return f.mustOK(sysCall(f.proc, linux.BPF_LINK_CREATE, link(kprobe, perf, linux.BPF_PERF_EVENT)(f).(*linux.BPFAttrLinkCreate)))
	}
	runCases(t, []cmdCase{
		{name: "perf event link", linux: "bpf_perf_link_attach", cmd: linux.BPF_LINK_CREATE, attr: link(kprobe, perf, linux.BPF_PERF_EVENT),
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if f.perfEv.prog == nil || f.perfEv.prog.Type() != linux.BPF_PROG_TYPE_KPROBE {
					t.Fatalf("program not attached to the event")
				}
				f.closeAll()
				if f.perfEv.prog != nil || !f.perfEv.released {
					t.Errorf("closing the link did not detach the program and drop the event")
				}
				if live := f.sys.Live(); live != (Live{}) {
					t.Errorf("left alive: %+v", live)
				}
			}},
		{name: "perf link with a cookie", linux: "perf_event_set_bpf_prog(bpf_cookie)", cmd: linux.BPF_LINK_CREATE,
			attr: func(f *fixture) any {
				a := link(kprobe, perf, linux.BPF_PERF_EVENT)(f).(*linux.BPFAttrLinkCreate)
				a.PerfEvent().BPFCookie = 77
				return a
			},
			check: func(t *testing.T, f *fixture, _ int, _ []byte) {
				if f.perfEv.cookie != 77 {
					t.Errorf("cookie %d", f.perfEv.cookie)
				}
			}},
		{name: "perf link on a busy event", linux: "perf_event_set_bpf_prog: EEXIST (from the perf side)", cmd: linux.BPF_LINK_CREATE,
			attr: func(f *fixture) any { newLink(f); return link(kprobe, perf, linux.BPF_PERF_EVENT)(f) }, want: linux.EEXIST},
		{name: "perf link to a map", linux: "perf_event_get: not perf_fops is EBADF", cmd: linux.BPF_LINK_CREATE,
			attr: link(kprobe, func(f *fixture) int { return f.arr }, linux.BPF_PERF_EVENT), want: linux.EBADF},
		{name: "perf link with flags", linux: "bpf_perf_link_attach: flags is EINVAL", cmd: linux.BPF_LINK_CREATE,
			attr: func(f *fixture) any {
				a := link(kprobe, perf, linux.BPF_PERF_EVENT)(f).(*linux.BPFAttrLinkCreate)
				a.Flags = 1
				return a
			}, want: linux.EINVAL},
		{name: "link with a closed prog fd", linux: "bpf_prog_get: EBADF", cmd: linux.BPF_LINK_CREATE,
			attr: link(func(f *fixture) int { return f.closed }, perf, linux.BPF_PERF_EVENT), want: linux.EBADF},
		{name: "tracepoint with another attach type", linux: "link_create: TRACEPOINT needs BPF_PERF_EVENT", cmd: linux.BPF_LINK_CREATE,
			attr: link(func(f *fixture) int { return f.tracepoint }, perf, linux.BPF_TRACE_RAW_TP), want: linux.EINVAL},
		{name: "kprobe_multi", linux: "bpf_kprobe_multi_link_attach without fprobe: EOPNOTSUPP", cmd: linux.BPF_LINK_CREATE,
			attr: func(f *fixture) any {
				a := f.progAttr(linux.BPF_PROG_TYPE_KPROBE, retProg(f.t, 0))
				a.ExpectedAttachType = uint32(linux.BPF_TRACE_KPROBE_MULTI)
				fd := f.mustOK(sysCall(f.proc, linux.BPF_PROG_LOAD, &a))
				return link(func(*fixture) int { return fd }, perf, linux.BPF_TRACE_KPROBE_MULTI)(f)
			}, want: linux.EOPNOTSUPP},
		{name: "kprobe as kprobe_multi", linux: "bpf_prog_attach_check_attach_type: expected type differs", cmd: linux.BPF_LINK_CREATE,
			attr: link(kprobe, perf, linux.BPF_TRACE_KPROBE_MULTI), want: linux.EINVAL},
		{name: "XDP link", linux: "bpf_xdp_link_attach: no device with the ifindex is EINVAL", cmd: linux.BPF_LINK_CREATE,
			attr: link(func(f *fixture) int { return f.xdp }, func(*fixture) int { return 1 }, linux.BPF_XDP), want: linux.EINVAL},
		{name: "socket filter link", linux: "link_create: attach_type_to_prog_type mismatch", cmd: linux.BPF_LINK_CREATE,
			attr: link(func(f *fixture) int { return f.sock }, perf, linux.BPF_XDP), want: linux.EINVAL},
		{name: "update a perf link", linux: "link_update: no update_prog is EINVAL", cmd: linux.BPF_LINK_UPDATE,
			attr: func(f *fixture) any {
				return &linux.BPFAttrLinkUpdate{LinkFD: uint32(newLink(f)), NewProgFD: uint32(f.kprobe)}
			},
			want: linux.EINVAL},
		{name: "update with unknown flags", linux: "link_update: flags & ~BPF_F_REPLACE", cmd: linux.BPF_LINK_UPDATE,
			attr: func(f *fixture) any { return &linux.BPFAttrLinkUpdate{LinkFD: uint32(newLink(f)), Flags: 8} }, want: linux.EINVAL},
		{name: "update with old prog but no REPLACE", linux: "link_update: old_prog_fd without BPF_F_REPLACE", cmd: linux.BPF_LINK_UPDATE,
			attr: func(f *fixture) any {
				return &linux.BPFAttrLinkUpdate{LinkFD: uint32(newLink(f)), NewProgFD: uint32(f.kprobe), OldProgFD: uint32(f.kprobe)}
			}, want: linux.EINVAL},
		{name: "update a map fd", linux: "bpf_link_get_from_fd: not a link is EINVAL", cmd: linux.BPF_LINK_UPDATE,
			attr: func(f *fixture) any {
				return &linux.BPFAttrLinkUpdate{LinkFD: uint32(f.arr), NewProgFD: uint32(f.kprobe)}
			},
			want: linux.EINVAL},
		{name: "detach a perf link", linux: "link_detach: no detach op is EOPNOTSUPP", cmd: linux.BPF_LINK_DETACH,
			attr: func(f *fixture) any { return &linux.BPFAttrLinkDetach{LinkFD: uint32(newLink(f))} }, want: linux.EOPNOTSUPP},
		{name: "detach a closed fd", linux: "bpf_link_get_from_fd: EBADF", cmd: linux.BPF_LINK_DETACH,
			attr: func(f *fixture) any { return &linux.BPFAttrLinkDetach{LinkFD: uint32(f.closed)} }, want: linux.EBADF},
		{name: "link fd by id", linux: "bpf_link_get_fd_by_id", cmd: linux.BPF_LINK_GET_FD_BY_ID,
			attr: func(f *fixture) any { newLink(f); return &linux.BPFAttrGetID{StartID: 1} }},
		{name: "pin a link, get it read-only", linux: "bpf_obj_get_user: links need O_RDWR", cmd: linux.BPF_OBJ_GET,
			attr: func(f *fixture) any {
				f.mustOK(sysCall(f.proc, linux.BPF_OBJ_PIN, &linux.BPFAttrObjPin{BPFFD: uint32(newLink(f)), Pathname: f.str("/sys/fs/bpf/l")}))
				return &linux.BPFAttrObjPin{Pathname: f.str("/sys/fs/bpf/l"), FileFlags: linux.BPF_F_RDONLY}
			}, want: linux.EINVAL},
		{name: "iterator from a perf link", linux: "bpf_iter_new_fd: not an iter link is EINVAL", cmd: linux.BPF_ITER_CREATE,
			attr: func(f *fixture) any { return &linux.BPFAttrIterCreate{LinkFD: uint32(newLink(f))} }, want: linux.EINVAL},
		{name: "iterator with flags", linux: "bpf_iter_create: flags is EINVAL", cmd: linux.BPF_ITER_CREATE,
			attr: func(f *fixture) any { return &linux.BPFAttrIterCreate{LinkFD: uint32(newLink(f)), Flags: 1} }, want: linux.EINVAL},
		{name: "enable stats", linux: "bpf_enable_runtime_stats", cmd: linux.BPF_ENABLE_STATS,
			attr: func(f *fixture) any { return &linux.BPFAttrEnableStats{Type: linux.BPF_STATS_RUN_TIME} },
			check: func(t *testing.T, f *fixture, fd int, _ []byte) {
				if !f.sys.StatsEnabled() {
					t.Fatal("stats not enabled")
				}
				f.tk.Files.Close(fd)
				if f.sys.StatsEnabled() {
					t.Error("stats still enabled after closing the descriptor")
				}
			}},
		{name: "enable unknown stats", linux: "bpf_enable_stats: unknown type is EINVAL", cmd: linux.BPF_ENABLE_STATS,
			attr: func(f *fixture) any { return &linux.BPFAttrEnableStats{Type: 1} }, want: linux.EINVAL},
		{name: "enable stats unprivileged", linux: "bpf_enable_stats: !capable(CAP_SYS_ADMIN)", cmd: linux.BPF_ENABLE_STATS,
			attr: func(f *fixture) any { return &linux.BPFAttrEnableStats{} }, caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "bind a map", linux: "bpf_prog_bind_map", cmd: linux.BPF_PROG_BIND_MAP,
			attr: func(f *fixture) any { return &linux.BPFAttrProgBindMap{ProgFD: uint32(f.xdp), MapFD: uint32(f.hash)} },
			check: func(t *testing.T, f *fixture, _ int, _ []byte) {
				f.tk.Files.Close(f.hash)
				if f.sys.Live().Maps != 7 {
					t.Errorf("bound map freed with its descriptor")
				}
			}},
		{name: "bind with flags", linux: "bpf_prog_bind_map: flags is EINVAL", cmd: linux.BPF_PROG_BIND_MAP,
			attr: func(f *fixture) any {
				return &linux.BPFAttrProgBindMap{ProgFD: uint32(f.xdp), MapFD: uint32(f.hash), Flags: 1}
			},
			want: linux.EINVAL},
		{name: "bind a closed map fd", linux: "bpf_map_get: EBADF", cmd: linux.BPF_PROG_BIND_MAP,
			attr: func(f *fixture) any { return &linux.BPFAttrProgBindMap{ProgFD: uint32(f.xdp), MapFD: uint32(f.closed)} },
			want: linux.EBADF},
		{name: "prog attach", linux: "bpf_prog_attach: no cgroup/sockmap/lirc/netns hook built: EINVAL", cmd: linux.BPF_PROG_ATTACH,
			attr: func(f *fixture) any {
				return &linux.BPFAttrProgAttach{TargetFD: uint32(f.other), AttachBPFFD: uint32(f.xdp), AttachType: uint32(linux.BPF_XDP)}
			}, want: linux.EINVAL},
		{name: "prog attach unknown flags", linux: "bpf_prog_attach: attach_flags outside the mask", cmd: linux.BPF_PROG_ATTACH,
			attr: func(f *fixture) any { return &linux.BPFAttrProgAttach{AttachFlags: 8} }, want: linux.EINVAL},
		{name: "prog attach closed prog", linux: "bpf_prog_get_type: EBADF", cmd: linux.BPF_PROG_ATTACH,
			attr: func(f *fixture) any {
				return &linux.BPFAttrProgAttach{AttachBPFFD: uint32(f.closed), AttachType: uint32(linux.BPF_CGROUP_INET_INGRESS)}
			}, want: linux.EBADF},
		{name: "prog detach", linux: "bpf_prog_detach: no hook: EINVAL", cmd: linux.BPF_PROG_DETACH,
			attr: func(f *fixture) any {
				return &linux.BPFAttrProgAttach{AttachType: uint32(linux.BPF_CGROUP_INET_INGRESS)}
			}, want: linux.EINVAL},
		{name: "prog query", linux: "bpf_prog_query: no hook: EINVAL", cmd: linux.BPF_PROG_QUERY,
			attr: func(f *fixture) any { return &linux.BPFAttrQuery{AttachType: uint32(linux.BPF_CGROUP_INET_INGRESS)} }, want: linux.EINVAL},
		{name: "prog query unprivileged", linux: "bpf_prog_query: !capable(CAP_NET_ADMIN)", cmd: linux.BPF_PROG_QUERY,
			attr: func(f *fixture) any { return &linux.BPFAttrQuery{} }, caps: capsOf(syscall.CAP_BPF), want: linux.EPERM},
		{name: "raw tracepoint open", linux: "bpf_raw_tp_link_attach: bpf_get_raw_tracepoint NULL is ENOENT", cmd: linux.BPF_RAW_TRACEPOINT_OPEN,
			attr: func(f *fixture) any {
				fd := f.loadProg(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, retProg(f.t, 0))
				return &linux.BPFAttrRawTracepoint{Name: f.str("sched_switch"), ProgFD: uint32(fd)}
			}, want: linux.ENOENT},
		{name: "raw tracepoint open with a kprobe", linux: "bpf_raw_tracepoint_open: other types EINVAL", cmd: linux.BPF_RAW_TRACEPOINT_OPEN,
			attr: func(f *fixture) any { return &linux.BPFAttrRawTracepoint{Name: f.str("x"), ProgFD: uint32(f.kprobe)} }, want: linux.EINVAL},
		{name: "task fd query", linux: "bpf_task_fd_query: not a raw tp or perf event fd is ENOTSUPP", cmd: linux.BPF_TASK_FD_QUERY,
			attr: func(f *fixture) any { return &linux.BPFAttrTaskFDQuery{FD: uint32(f.arr)} }, want: linux.ENOTSUPP},
		{name: "task fd query flags", linux: "bpf_task_fd_query: flags is EINVAL", cmd: linux.BPF_TASK_FD_QUERY,
			attr: func(f *fixture) any { return &linux.BPFAttrTaskFDQuery{FD: uint32(f.arr), Flags: 1} }, want: linux.EINVAL},
	})
}

func TestRawTracepointTestRun(t *testing.T) {
	rawTP := func(f *fixture) int {
		return f.loadProg(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, asmProg(f.t, "ldxdw %r0, [%r1+8]\nexit"))
	}
	run := func(mod func(a *linux.BPFAttrTestRun, f *fixture)) func(f *fixture) any {
		return func(f *fixture) any {
			a := &linux.BPFAttrTestRun{ProgFD: uint32(rawTP(f)), CtxIn: f.buf(append(u64(1), u64(77)...)), CtxSizeIn: 16}
			if mod != nil {
				mod(a, f)
			}
			return a
		}
	}
	retval := func(want uint32) func(t *testing.T, f *fixture, _ int, attr []byte) {
		return func(t *testing.T, f *fixture, _ int, attr []byte) {
			if got := (*linux.BPFAttrTestRun)(unsafe.Pointer(&attr[0])).Retval; got != want {
				t.Errorf("retval %d, want %d", got, want)
			}
		}
	}
	runCases(t, []cmdCase{
		{name: "arguments", linux: "bpf_prog_test_run_raw_tp", cmd: linux.BPF_PROG_TEST_RUN, attr: run(nil), check: retval(77)},
		{name: "on CPU 1", linux: "bpf_prog_test_run_raw_tp: BPF_F_TEST_RUN_ON_CPU", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.Flags, a.CPU = linux.BPF_F_TEST_RUN_ON_CPU, 1 }), check: retval(77)},
		{name: "on a CPU that does not exist", linux: "bpf_prog_test_run_raw_tp: cpu >= nr_cpu_ids is ENXIO", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.Flags, a.CPU = linux.BPF_F_TEST_RUN_ON_CPU, 9 }), want: linux.ENXIO},
		{name: "cpu without the flag", linux: "bpf_prog_test_run_raw_tp: cpu != 0 without BPF_F_TEST_RUN_ON_CPU", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.CPU = 1 }), want: linux.EINVAL},
		{name: "arguments shorter than read", linux: "bpf_prog_test_run_raw_tp: ctx_size_in < max_ctx_offset", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.CtxSizeIn = 8 }), want: linux.EINVAL},
		{name: "more than 12 arguments", linux: "bpf_prog_test_run_raw_tp: ctx_size_in > MAX_BPF_FUNC_ARGS * 8", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, f *fixture) { a.CtxIn, a.CtxSizeIn = f.buf(make([]byte, 104)), 104 }), want: linux.EINVAL},
		{name: "with data", linux: "bpf_prog_test_run_raw_tp: data_in is EINVAL", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, f *fixture) { a.DataIn, a.DataSizeIn = f.buf(make([]byte, 20)), 20 }), want: linux.EINVAL},
		{name: "with repeat", linux: "bpf_prog_test_run_raw_tp: repeat is EINVAL", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.Repeat = 2 }), want: linux.EINVAL},
		{name: "arguments unmapped", linux: "bpf_prog_test_run_raw_tp: memdup_user EFAULT", cmd: linux.BPF_PROG_TEST_RUN,
			attr: run(func(a *linux.BPFAttrTestRun, _ *fixture) { a.CtxIn = 0xdead0000 }), want: linux.EFAULT},
		{name: "kprobe", linux: "bpf_prog_test_run: no test_run op is ENOTSUPP", cmd: linux.BPF_PROG_TEST_RUN,
			attr: func(f *fixture) any { return &linux.BPFAttrTestRun{ProgFD: uint32(f.kprobe)} }, want: linux.ENOTSUPP},
		{name: "map fd", linux: "bpf_prog_get: not a program is EINVAL", cmd: linux.BPF_PROG_TEST_RUN,
			attr: func(f *fixture) any { return &linux.BPFAttrTestRun{ProgFD: uint32(f.arr)} }, want: linux.EINVAL},
	})
}
