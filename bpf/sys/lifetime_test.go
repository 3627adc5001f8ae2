package sys

import (
	"encoding/binary"
	"fmt"
	"testing"

	"hachi/bpf/maps"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Reference counting: what keeps each kind of object alive, and that
// closing the last reference frees it (its id goes).

func TestMapLivesWhileItsProgramLives(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	m := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0)
	prog := p.loadProg(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(t, fmt.Sprintf("lddw %%r1, map_fd %d\nmov %%r0, 0\nexit", m)))
	p.tk.Files.Close(m)
	if live := s.Live(); live.Maps != 1 {
		t.Fatalf("map freed while a program uses it: %+v", live)
	}
	p.tk.Files.Close(prog)
	if live := s.Live(); live != (Live{}) {
		t.Fatalf("program and map not freed: %+v", live)
	}
}

func TestProgArrayCycle(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	pa := p.createMap(linux.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0)
	// The program tail calls through the array that holds it.
	prog := p.loadProg(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(t, fmt.Sprintf(`
		mov %%r6, %%r1
		lddw %%r2, map_fd %d
		mov %%r3, 0
		call 12
		mov %%r0, 0
		exit`, pa)))
	if err := p.update(pa, u32(0), u32(uint32(prog)), 0); err != nil {
		t.Fatal(errName(err))
	}
	p.tk.Files.Close(prog)
	if live := s.Live(); live.Progs != 1 {
		t.Fatalf("program in a prog array freed: %+v", live)
	}
	// Pinning keeps the array's user reference: its entries stay.
	p.mustOK(sysCall(p, linux.BPF_OBJ_PIN, &linux.BPFAttrObjPin{BPFFD: uint32(pa), Pathname: p.str("/sys/fs/bpf/pa")}))
	p.tk.Files.Close(pa)
	if live := s.Live(); live.Progs != 1 || live.Maps != 1 {
		t.Fatalf("pinned prog array lost its program: %+v", live)
	}
	// The last user reference goes: the array drops its programs
	// (map_release_uref), which breaks the cycle.
	if err := s.FS().Unlink("/sys/fs/bpf/pa"); err != nil {
		t.Fatal(errName(err))
	}
	if live := s.Live(); live != (Live{}) {
		t.Fatalf("prog array cycle leaked: %+v", live)
	}
}

func TestProgArrayReplaceAndDelete(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	pa := p.createMap(linux.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0)
	a := p.loadProg(linux.BPF_PROG_TYPE_XDP, retProg(t, 1))
	b := p.loadProg(linux.BPF_PROG_TYPE_XDP, retProg(t, 2))
	p.update(pa, u32(0), u32(uint32(a)), 0)
	p.tk.Files.Close(a)
	p.update(pa, u32(0), u32(uint32(b)), 0) // replaces a: a goes
	if live := s.Live(); live.Progs != 1 {
		t.Fatalf("replaced program kept: %+v", live)
	}
	p.tk.Files.Close(b)
	if _, err := sysCall(p, linux.BPF_MAP_DELETE_ELEM, &linux.BPFAttrMapElem{MapFD: uint32(pa), Key: p.buf(u32(0))}); err != nil {
		t.Fatal(errName(err))
	}
	if live := s.Live(); live.Progs != 0 {
		t.Fatalf("deleted program kept: %+v", live)
	}
}

func TestInnerMapLivesInItsOuterMap(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	inner := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0)
	a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_HASH_OF_MAPS), KeySize: 4, ValueSize: 4, MaxEntries: 4,
		InnerMapFD: uint32(inner)}
	outer := p.mustOK(sysCall(p, linux.BPF_MAP_CREATE, &a))
	if err := p.update(outer, u32(7), u32(uint32(inner)), 0); err != nil {
		t.Fatal(errName(err))
	}
	v, err := p.lookup(outer, u32(7), 4)
	if err != nil || binary.LittleEndian.Uint32(v) != 1 {
		t.Fatalf("outer lookup gave id %x (%s), want the inner map's id 1", v, errName(err))
	}
	p.tk.Files.Close(inner)
	if live := s.Live(); live.Maps != 2 {
		t.Fatalf("inner map freed while its outer map holds it: %+v", live)
	}
	p.tk.Files.Close(outer)
	if live := s.Live(); live != (Live{}) {
		t.Fatalf("outer map did not drop its inner map: %+v", live)
	}
}

func TestSharedBetweenProcesses(t *testing.T) {
	s := newSystem()
	p1 := newProc(t, s)
	p2 := newProc(t, s)
	m := p1.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0)
	p1.update(m, u32(0), u64(99), 0)
	// The second process reaches the map by id, the way bpftool does.
	fd := p2.mustOK(sysCall(p2, linux.BPF_MAP_GET_FD_BY_ID, &linux.BPFAttrGetID{StartID: 1}))
	if v, err := p2.lookup(fd, u32(0), 8); err != nil || binary.LittleEndian.Uint64(v) != 99 {
		t.Fatalf("second process reads %x (%s)", v, errName(err))
	}
	p1.closeAll()
	if s.Live().Maps != 1 {
		t.Fatal("map freed while another process has a descriptor")
	}
	// A forked table shares the file; exec closes close-on-exec ones.
	child := p2.tk.Files.Fork()
	if ce, _ := child.CloseOnExec(fd); !ce {
		t.Error("bpf descriptors are close-on-exec (O_CLOEXEC)")
	}
	p2.closeAll()
	if s.Live().Maps != 1 {
		t.Fatal("map freed while the forked table holds it")
	}
	child.Exec()
	if live := s.Live(); live != (Live{}) {
		t.Fatalf("exec did not close the close-on-exec descriptor: %+v", live)
	}
}

func TestDupKeepsObject(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	prog := p.loadProg(linux.BPF_PROG_TYPE_XDP, retProg(t, 1))
	dup, err := p.tk.Files.Dup(prog)
	if err != nil {
		t.Fatal(err)
	}
	p.tk.Files.Close(prog)
	if s.Live().Progs != 1 {
		t.Fatal("program freed with a dup'ed descriptor open")
	}
	p.tk.Files.Close(dup)
	if s.Live().Progs != 0 {
		t.Fatal("program not freed")
	}
}

func TestLinkKeepsProgram(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	f := newFixture(p)
	lfd := f.mustOK(sysCall(p, linux.BPF_LINK_CREATE, &linux.BPFAttrLinkCreate{ProgFD: uint32(f.kprobe),
		TargetFD: uint32(f.perf), AttachType: uint32(linux.BPF_PERF_EVENT)}))
	f.mustOK(sysCall(p, linux.BPF_OBJ_PIN, &linux.BPFAttrObjPin{BPFFD: uint32(lfd), Pathname: p.str("/sys/fs/bpf/link")}))
	p.closeAll()
	if live := s.Live(); live.Links != 1 || live.Progs != 1 || f.perfEv.prog == nil {
		t.Fatalf("pinned link lost its program or was detached: %+v", live)
	}
	s.FS().Unmount()
	if live := s.Live(); live != (Live{}) || f.perfEv.prog != nil || !f.perfEv.released {
		t.Fatalf("unpinned link left %+v, event prog %v", live, f.perfEv.prog)
	}
}

// The kernel's mmap and epoll reach maps through these methods.
func TestMmapAndPoll(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	arr := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 512, linux.BPF_F_MMAPABLE)
	plain := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0)
	rb := p.createMap(linux.BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0)
	obj := func(fd int) *Map {
		f, err := p.tk.Files.Get(fd)
		if err != nil {
			t.Fatal(err)
		}
		defer f.DecRef()
		return f.Object().(*Map)
	}
	mem, err := obj(arr).Mmap(0, 4096, true, true)
	if err != nil || len(mem) != 4096 {
		t.Fatalf("mmap of an mmapable array: %d bytes, %s", len(mem), errName(err))
	}
	binary.LittleEndian.PutUint64(mem[8:], 1234)
	if v, _ := p.lookup(arr, u32(1), 8); binary.LittleEndian.Uint64(v) != 1234 {
		t.Errorf("a write through the mapping is not the map's value: %x", v)
	}
	if _, err := sysCall(p, linux.BPF_MAP_FREEZE, &linux.BPFAttrMapElem{MapFD: uint32(arr)}); err != linux.EBUSY {
		t.Errorf("freeze with a writable mapping: %s, want EBUSY", errName(err))
	}
	obj(arr).MmapClosed(true)
	if _, err := obj(arr).Mmap(0, 4096, true, false); err != linux.EINVAL {
		t.Errorf("private mapping: %s, want EINVAL", errName(err))
	}
	if _, err := obj(plain).Mmap(0, 4096, false, true); err != linux.EINVAL {
		t.Errorf("mmap of an array without BPF_F_MMAPABLE: %s, want EINVAL", errName(err))
	}
	hash := p.createMap(linux.BPF_MAP_TYPE_HASH, 4, 8, 4, 0)
	if _, err := obj(hash).Mmap(0, 4096, false, true); err != linux.ENOTSUPP {
		t.Errorf("mmap of a hash: %s, want ENOTSUPP (no map_mmap)", errName(err))
	}
	p.mustOK(sysCall(p, linux.BPF_MAP_FREEZE, &linux.BPFAttrMapElem{MapFD: uint32(arr)}))
	if _, err := obj(arr).Mmap(0, 4096, true, true); err != linux.EPERM {
		t.Errorf("writable mapping of a frozen map: %s, want EPERM", errName(err))
	}
	ring := obj(rb)
	woken := 0
	ring.SetWakeup(func() { woken++ })
	if ring.Readable() {
		t.Error("empty ring buffer readable")
	}
	if err := ring.Kind().(*maps.RingBuf).Output(0, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if !ring.Readable() || woken == 0 {
		t.Errorf("ring buffer with a record: readable %v, wake-ups %d", ring.Readable(), woken)
	}
	if obj(plain).Readable() {
		t.Error("an array map is never readable")
	}
	if _, err := ring.Mmap(0, syscall.PageSize, true, true); err != nil {
		t.Errorf("ring buffer consumer page: %s", errName(err))
	}
}

// Processes using one System at once (run with -race): objects are shared
// by id, pinned, run and closed concurrently, and none is left.
func TestConcurrentProcesses(t *testing.T) {
	s := newSystem()
	shared := newProc(t, s)
	m := shared.createMap(linux.BPF_MAP_TYPE_HASH, 4, 8, 64, 0)
	shared.loadProg(linux.BPF_PROG_TYPE_XDP, asmProg(t, fmt.Sprintf(`
		stw [%%r10-4], 1
		lddw %%r1, map_fd %d
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, +2
		mov %%r1, 1
		lock add [%%r0+0], %%r1
		mov %%r0, 2
		exit`, m)))
	shared.update(m, u32(1), u64(0), 0)
	done := make(chan error)
	const workers = 4
	for w := 0; w < workers; w++ {
		go func() {
			p := newProc(t, s)
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				var fd, pfd int
				if fd, err = sysCall(p, linux.BPF_MAP_GET_FD_BY_ID, &linux.BPFAttrGetID{StartID: 1}); err != nil {
					break
				}
				if err = p.update(fd, u32(uint32(10+i)), u64(uint64(i)), 0); err != nil {
					break
				}
				if pfd, err = sysCall(p, linux.BPF_PROG_GET_FD_BY_ID, &linux.BPFAttrGetID{StartID: 1}); err != nil {
					break
				}
				a := linux.BPFAttrTestRun{ProgFD: uint32(pfd), DataIn: p.buf(make([]byte, 20)), DataSizeIn: 20}
				if _, err = sysCall(p, linux.BPF_PROG_TEST_RUN, &a); err != nil {
					break
				}
				own := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
				var ofd int
				if ofd, err = sysCall(p, linux.BPF_MAP_CREATE, &own); err != nil {
					break
				}
				path := fmt.Sprintf("/sys/fs/bpf/w%p-%d", p, i)
				if _, err = sysCall(p, linux.BPF_OBJ_PIN, &linux.BPFAttrObjPin{BPFFD: uint32(ofd), Pathname: p.str(path)}); err != nil {
					break
				}
				err = s.FS().Unlink(path)
				p.closeAll()
			}
			done <- err
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-done; err != nil {
			t.Fatal(errName(err))
		}
	}
	v, _ := shared.lookup(m, u32(1), 8)
	if binary.LittleEndian.Uint64(v) != workers*50 {
		t.Errorf("counter %d, want %d runs", binary.LittleEndian.Uint64(v), workers*50)
	}
	shared.closeAll()
	if live := s.Live(); live != (Live{}) {
		t.Fatalf("left alive: %+v", live)
	}
}
