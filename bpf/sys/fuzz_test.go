package sys

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// The fuzz target drives the whole dispatcher the way a process does: a
// sequence of bpf(2) calls, each a command number and attr bytes, in an
// address space holding four pages of fuzzer-chosen data at fixed
// addresses (so attrs can point into them), with a few objects made
// beforehand. After each call the outcome must be success or one of the
// errnos Linux's bpf(2) gives; after the sequence, closing every
// descriptor and unmounting the bpffs must leave no object alive.

// fuzzPage is the address of fuzz buffer k (k < fuzzPages); each is one
// page, with unmapped memory between them.
func fuzzPage(k int) uint64 { return uint64(0x4000_0000 + 0x10000*k) }

const (
	fuzzPages    = 4
	fuzzAttrAddr = 0x4010_0000
)

// bpfErrnos are the errnos Linux's bpf(2) returns.
var bpfErrnos = map[linux.Errno]bool{
	linux.EPERM: true, linux.ENOENT: true, linux.ESRCH: true, linux.EINTR: true, linux.ENXIO: true,
	linux.E2BIG: true, linux.EBADF: true, linux.EAGAIN: true, linux.ENOMEM: true, linux.EACCES: true,
	linux.EFAULT: true, linux.EBUSY: true, linux.EEXIST: true, linux.ENODEV: true, linux.ENOTDIR: true,
	linux.EISDIR: true, linux.EINVAL: true, linux.EMFILE: true, linux.ENOSPC: true, linux.ERANGE: true,
	linux.ENAMETOOLONG: true, linux.ENOTEMPTY: true, linux.ELOOP: true, linux.EPROTO: true,
	linux.EOPNOTSUPP: true, linux.ENOTSUPP: true, linux.EBADFD: true, linux.EMSGSIZE: true,
}

// fuzzRecord encodes one call of a fuzz input: cmd, attr length, attr.
func fuzzRecord(cmd linux.BPFCmd, attr []byte) []byte {
	return append([]byte{byte(cmd), byte(len(attr))}, attr...)
}

// fuzzPageData lays out the page contents of a seed.
func fuzzPageData(pages ...[]byte) []byte {
	out := make([]byte, 0, fuzzPages*syscall.PageSize)
	for _, p := range pages {
		b := make([]byte, syscall.PageSize)
		copy(b, p)
		out = append(out, b...)
	}
	return out
}

func FuzzDispatch(f *testing.F) {
	prog := isa.Encode(asmProg(f, "mov %r0, 2\nexit"))
	pkt := make([]byte, 64)
	seeds := []struct {
		calls [][]byte
		pages []byte
	}{
		{[][]byte{fuzzRecord(linux.BPF_MAP_UPDATE_ELEM, raw(&linux.BPFAttrMapElem{MapFD: 0, Key: fuzzPage(0), Value: fuzzPage(1)})),
			fuzzRecord(linux.BPF_MAP_LOOKUP_ELEM, raw(&linux.BPFAttrMapElem{MapFD: 0, Key: fuzzPage(0), Value: fuzzPage(2)}))},
			fuzzPageData(u32(1), u64(5))},
		{[][]byte{fuzzRecord(linux.BPF_PROG_LOAD, raw(&linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_XDP),
			InsnCnt: 2, Insns: fuzzPage(0), License: fuzzPage(1)}))}, fuzzPageData(prog, []byte("GPL\x00"))},
		{[][]byte{fuzzRecord(linux.BPF_PROG_TEST_RUN, raw(&linux.BPFAttrTestRun{ProgFD: 3, DataIn: fuzzPage(0), DataSizeIn: 64,
			DataOut: fuzzPage(1), DataSizeOut: 64, Repeat: 2}))}, fuzzPageData(pkt)},
		{[][]byte{fuzzRecord(linux.BPF_PROG_TEST_RUN, raw(&linux.BPFAttrTestRun{ProgFD: 2, DataIn: fuzzPage(0), DataSizeIn: 60,
			CtxIn: fuzzPage(1), CtxSizeIn: 192, CtxOut: fuzzPage(2), CtxSizeOut: 192}))}, fuzzPageData(pkt)},
		{[][]byte{fuzzRecord(linux.BPF_OBJ_PIN, raw(&linux.BPFAttrObjPin{BPFFD: 0, Pathname: fuzzPage(0)})),
			fuzzRecord(linux.BPF_OBJ_GET, raw(&linux.BPFAttrObjPin{Pathname: fuzzPage(0)}))},
			fuzzPageData([]byte("/sys/fs/bpf/m\x00"))},
		{[][]byte{fuzzRecord(linux.BPF_BTF_LOAD, raw(&linux.BPFAttrBTFLoad{BTF: fuzzPage(0), BTFSize: uint32(len(testBTF()))}))},
			fuzzPageData(testBTF())},
		{[][]byte{fuzzRecord(linux.BPF_MAP_CREATE, raw(&linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_HASH),
			KeySize: 4, ValueSize: 8, MaxEntries: 8}))}, nil},
		{[][]byte{fuzzRecord(linux.BPF_OBJ_GET_INFO_BY_FD, raw(&linux.BPFAttrInfo{BPFFD: 2, InfoLen: 228, Info: fuzzPage(0)}))}, nil},
		{[][]byte{fuzzRecord(linux.BPF_MAP_UPDATE_BATCH, raw(&linux.BPFAttrBatch{MapFD: 1, Keys: fuzzPage(0), Values: fuzzPage(1), Count: 3})),
			fuzzRecord(linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH, raw(&linux.BPFAttrBatch{MapFD: 1, Keys: fuzzPage(2), Values: fuzzPage(3),
				OutBatch: fuzzPage(3) + 2048, Count: 8}))}, fuzzPageData([]byte{0, 0, 0, 0, 1, 0, 0, 0, 2})},
		{[][]byte{fuzzRecord(linux.BPF_MAP_UPDATE_ELEM, raw(&linux.BPFAttrMapElem{MapFD: 5, Key: fuzzPage(0), Value: fuzzPage(1)})),
			fuzzRecord(linux.BPF_MAP_GET_NEXT_ID, raw(&linux.BPFAttrGetID{}))}, fuzzPageData(u32(0), u32(3))},
		{[][]byte{fuzzRecord(linux.BPF_ENABLE_STATS, raw(&linux.BPFAttrEnableStats{})),
			fuzzRecord(linux.BPF_PROG_BIND_MAP, raw(&linux.BPFAttrProgBindMap{ProgFD: 2, MapFD: 1}))}, nil},
	}
	for _, s := range seeds {
		var calls []byte
		for _, c := range s.calls {
			calls = append(calls, c...)
		}
		f.Add(calls, s.pages)
	}
	f.Fuzz(func(t *testing.T, calls, pages []byte) {
		env := newTestEnv()
		env.memLimit = 1 << 20
		sys := New(env)
		p := newProc(t, sys)
		// Objects the calls can name: maps 0 (array) and 1 (hash),
		// programs 2 (socket filter) and 3 (XDP), BTF 4, prog array 5.
		p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0)
		p.createMap(linux.BPF_MAP_TYPE_HASH, 4, 8, 8, 0)
		p.loadProg(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(t, "mov %r0, 0\nexit"))
		p.loadProg(linux.BPF_PROG_TYPE_XDP, asmProg(t, "mov %r0, 2\nexit"))
		blob := testBTF()
		p.mustOK(sysCall(p, linux.BPF_BTF_LOAD, &linux.BPFAttrBTFLoad{BTF: p.buf(blob), BTFSize: uint32(len(blob))}))
		p.createMap(linux.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0)
		for k := 0; k < fuzzPages; k++ {
			page := make([]byte, syscall.PageSize)
			if k*syscall.PageSize < len(pages) {
				copy(page, pages[k*syscall.PageSize:])
			}
			if err := p.as.Map(fuzzPage(k), page, false); err != nil {
				t.Fatal(err)
			}
		}
		attr := make([]byte, 256)
		if err := p.as.Map(fuzzAttrAddr, attr, false); err != nil {
			t.Fatal(err)
		}
		for len(calls) >= 2 {
			cmd, n := uint32(calls[0]), int(calls[1])
			calls = calls[2:]
			n = min(n, len(calls))
			clear(attr)
			copy(attr, calls[:n])
			calls = calls[n:]
			if linux.BPFCmd(cmd) == linux.BPF_PROG_TEST_RUN {
				// Bound the runs: Linux honours any repeat count, a fuzz
				// iteration cannot wait for 2^32 of them.
				a := (*linux.BPFAttrTestRun)(unsafe.Pointer(&attr[0]))
				a.Repeat %= 8
			}
			start := time.Now()
			fd, err := sys.Call(p.tk, cmd, fuzzAttrAddr, uint32(n))
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("cmd %d took %v (attr %x)", cmd, d, attr[:n])
			}
			if err != nil {
				var e linux.Errno
				if !errors.As(err, &e) || !bpfErrnos[e] {
					t.Fatalf("cmd %d: %v is not one of bpf(2)'s errnos", cmd, err)
				}
				if fd != -1 {
					t.Fatalf("cmd %d failed with %s but returned %d", cmd, e.Name(), fd)
				}
				continue
			}
			if fd < 0 {
				t.Fatalf("cmd %d returned %d without an error", cmd, fd)
			}
		}
		p.closeAll()
		sys.FS().Unmount()
		if live := sys.Live(); live != (Live{}) {
			t.Fatalf("objects left after closing every descriptor and unmounting: %+v", live)
		}
		if sys.StatsEnabled() {
			t.Fatal("statistics left enabled with no descriptor open")
		}
	})
}
