package sys

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// TestEndToEnd walks the path an unmodified loader takes: create a map,
// load a program that updates it, run it, read the map back, then close
// everything and find no object left.
func TestEndToEnd(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	m := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0)
	if err := p.update(m, u32(1), u64(41), linux.BPF_ANY); err != nil {
		t.Fatal(errName(err))
	}
	prog := p.loadProg(linux.BPF_PROG_TYPE_XDP, asmProg(t, fmt.Sprintf(`
		stw [%%r10-4], 1
		lddw %%r1, map_fd %d
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, +3
		ldxdw %%r1, [%%r0+0]
		add %%r1, 1
		stxdw [%%r0+0], %%r1
		mov %%r0, 2
		exit`, m)))
	pkt := bytes.Repeat([]byte{0xab}, 20)
	out := make([]byte, 64)
	a := linux.BPFAttrTestRun{ProgFD: uint32(prog), DataIn: p.buf(pkt), DataSizeIn: 20,
		DataOut: p.buf(out), DataSizeOut: 64, Repeat: 3}
	p.mustOK(sysCall(p, linux.BPF_PROG_TEST_RUN, &a))
	if a.Retval != 2 || a.DataSizeOut != 20 || !bytes.Equal(out[:20], pkt) {
		t.Errorf("test run: retval %d size %d out %x", a.Retval, a.DataSizeOut, out[:20])
	}
	if a.Duration == 0 {
		t.Errorf("duration 0")
	}
	v, err := p.lookup(m, u32(1), 8)
	if err != nil || !bytes.Equal(v, u64(44)) {
		t.Errorf("map value %x, %v; want 44 after 3 runs", v, errName(err))
	}
	if live := s.Live(); live.Maps != 1 || live.Progs != 1 {
		t.Errorf("live %+v", live)
	}
	p.closeAll()
	if live := s.Live(); live != (Live{}) {
		t.Errorf("objects left after closing every descriptor: %+v", live)
	}
}

// The kernel's entry: registers in, result register out.
func TestSyscallEntry(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	var h syscall.Handler = s.Syscall
	a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
	addr := p.buf(raw(&a))
	fd, err := h(p.tk, syscall.Args{uint64(linux.BPF_MAP_CREATE), addr, uint64(unsafe.Sizeof(a))})
	if err != nil || syscall.Return(fd, err) != 0 {
		t.Fatalf("MAP_CREATE: %d, %v", fd, err)
	}
	// The upper bits of cmd and size are not the kernel's (int, unsigned int).
	ret := syscall.Return(h(p.tk, syscall.Args{1<<32 | uint64(linux.BPF_MAP_CREATE), addr, 1<<32 | 5000}))
	if int64(ret) != -int64(linux.E2BIG) {
		t.Errorf("size 5000: result %d, want -E2BIG", int64(ret))
	}
	if syscall.SysBPF.AMD64 != 321 || syscall.SysBPF.RISCV64 != 280 {
		t.Errorf("bpf(2) numbers %+v", syscall.SysBPF)
	}
}

// Run statistics count only while a BPF_ENABLE_STATS descriptor is open.
func TestRunStats(t *testing.T) {
	s := newSystem()
	p := newProc(t, s)
	prog := p.loadProg(linux.BPF_PROG_TYPE_XDP, retProg(t, 2))
	run := func(repeat uint32) {
		a := linux.BPFAttrTestRun{ProgFD: uint32(prog), DataIn: p.buf(make([]byte, 20)), DataSizeIn: 20, Repeat: repeat}
		p.mustOK(sysCall(p, linux.BPF_PROG_TEST_RUN, &a))
	}
	stats := func() (cnt, ns uint64) {
		var info linux.BPFProgInfo
		ib := bytesOf(&info)
		a := linux.BPFAttrInfo{BPFFD: uint32(prog), InfoLen: uint32(len(ib)), Info: p.buf(ib)}
		p.mustOK(sysCall(p, linux.BPF_OBJ_GET_INFO_BY_FD, &a))
		return info.RunCnt, info.RunTimeNs
	}
	run(3)
	if cnt, ns := stats(); cnt != 0 || ns != 0 {
		t.Fatalf("counted without BPF_ENABLE_STATS: %d runs, %d ns", cnt, ns)
	}
	fd := p.mustOK(sysCall(p, linux.BPF_ENABLE_STATS, &linux.BPFAttrEnableStats{Type: linux.BPF_STATS_RUN_TIME}))
	run(5)
	cnt, ns := stats()
	if cnt != 5 || ns != 5*100 { // the test clock advances 100 ns per reading
		t.Errorf("with stats: %d runs, %d ns; want 5, 500", cnt, ns)
	}
	p.tk.Files.Close(fd)
	run(2)
	if c, _ := stats(); c != 5 {
		t.Errorf("counted after the stats descriptor closed: %d", c)
	}
}
