//go:build linux

package sys

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// errCase is a bpf(2) call whose attr needs no object of the caller: the
// same bytes go to Hachi and to the host, and the errnos must agree.
type errCase struct {
	name string
	cmd  linux.BPFCmd
	// attr builds the attr, placing buffers with alloc; the call's size is
	// len(attr).
	attr func(alloc func([]byte) uint64) []byte
}

// sized is the attr bytes of *v, zero-extended or cut to size.
func sized[T any](v *T, size int) []byte {
	b := make([]byte, size)
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)))
	return b
}

func mapCreateAttr(mod func(a *linux.BPFAttrMapCreate)) func(func([]byte) uint64) []byte {
	return func(func([]byte) uint64) []byte {
		a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 8, MaxEntries: 4}
		mod(&a)
		return sized(&a, linux.BPFAttrSize)
	}
}

func progLoadAttr(src string, mod func(a *linux.BPFAttrProgLoad, alloc func([]byte) uint64)) func(func([]byte) uint64) []byte {
	return func(alloc func([]byte) uint64) []byte {
		insns, err := asmAssemble(src)
		if err != nil {
			panic(err)
		}
		a := linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER), InsnCnt: uint32(len(insns)),
			Insns: alloc(isa.Encode(insns)), License: alloc([]byte("GPL\x00"))}
		mod(&a, alloc)
		return sized(&a, linux.BPFAttrSize)
	}
}

const closedFD = 12345

func errnoCases() []errCase {
	ret0 := "mov %r0, 0\nexit"
	none := func(*linux.BPFAttrProgLoad, func([]byte) uint64) {}
	return []errCase{
		{"map create", linux.BPF_MAP_CREATE, mapCreateAttr(func(*linux.BPFAttrMapCreate) {})},
		{"map type 0", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.MapType = 0 })},
		{"map type 100", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.MapType = 100 })},
		{"array key 8", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.KeySize = 8 })},
		{"array value 0", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.ValueSize = 0 })},
		{"array no entries", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.MaxEntries = 0 })},
		{"hash key 0", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapType, a.KeySize = uint32(linux.BPF_MAP_TYPE_HASH), 0
		})},
		{"rdonly|wronly", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapFlags = linux.BPF_F_RDONLY | linux.BPF_F_WRONLY
		})},
		{"map_extra on array", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.MapExtra = 3 })},
		{"name a-b", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { copy(a.MapName[:], "a-b") })},
		{"name of 16 bytes", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { copy(a.MapName[:], "0123456789abcdef") })},
		{"btf key without value", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.BTFKeyTypeID = 1 })},
		{"btf on a closed fd", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.BTFFD, a.BTFKeyTypeID, a.BTFValueTypeID = closedFD, 1, 1
		})},
		{"vmlinux value type", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) { a.BTFVmlinuxValueTypeID = 1 })},
		{"ring buffer", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapType, a.KeySize, a.ValueSize, a.MaxEntries = uint32(linux.BPF_MAP_TYPE_RINGBUF), 0, 0, 4096
		})},
		{"ring buffer of 1000 bytes", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapType, a.KeySize, a.ValueSize, a.MaxEntries = uint32(linux.BPF_MAP_TYPE_RINGBUF), 0, 0, 1000
		})},
		{"bloom filter", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapType, a.KeySize, a.MapExtra = uint32(linux.BPF_MAP_TYPE_BLOOM_FILTER), 0, 3
		})},
		{"inner map fd closed", linux.BPF_MAP_CREATE, mapCreateAttr(func(a *linux.BPFAttrMapCreate) {
			a.MapType, a.ValueSize, a.InnerMapFD = uint32(linux.BPF_MAP_TYPE_ARRAY_OF_MAPS), 4, closedFD
		})},
		{"size over a page", linux.BPF_MAP_CREATE, func(func([]byte) uint64) []byte {
			a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
			return sized(&a, 4097)
		}},
		{"non-zero byte at 200", linux.BPF_MAP_CREATE, func(func([]byte) uint64) []byte {
			a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
			b := sized(&a, 256)
			b[200] = 1
			return b
		}},
		{"zero tail to 256", linux.BPF_MAP_CREATE, func(func([]byte) uint64) []byte {
			a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
			return sized(&a, 256)
		}},
		{"16-byte map create", linux.BPF_MAP_CREATE, func(func([]byte) uint64) []byte {
			a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 4, MaxEntries: 1}
			return sized(&a, 16)
		}},
		{"lookup with a byte past flags", linux.BPF_MAP_LOOKUP_ELEM, func(func([]byte) uint64) []byte {
			a := linux.BPFAttrMapElem{MapFD: closedFD}
			b := sized(&a, 64)
			b[40] = 1
			return b
		}},
		{"lookup closed fd", linux.BPF_MAP_LOOKUP_ELEM, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrMapElem{MapFD: closedFD}, 32)
		}},
		{"unknown command", 1000, func(func([]byte) uint64) []byte { return make([]byte, 8) }},
		{"prog load", linux.BPF_PROG_LOAD, progLoadAttr(ret0, none)},
		{"prog flags bit 20", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			a.ProgFlags = 1 << 20
		})},
		{"license NULL", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) { a.License = 0 })},
		{"no instructions", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) { a.InsnCnt = 0 })},
		{"instructions NULL", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) { a.Insns = 0 })},
		{"prog type 100", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) { a.ProgType = 100 })},
		{"prog name x y", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			copy(a.ProgName[:], "x y")
		})},
		{"log level without buffer", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			a.LogLevel = 1
		})},
		{"log of 64 bytes", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, alloc func([]byte) uint64) {
			a.LogLevel, a.LogSize, a.LogBuf = 1, 64, alloc(make([]byte, 64))
		})},
		{"uninitialised r0", linux.BPF_PROG_LOAD, progLoadAttr("exit", none)},
		{"map fd closed", linux.BPF_PROG_LOAD, progLoadAttr("lddw %r1, map_fd 12345\n"+ret0, none)},
		{"ext_infos probe", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			a.FuncInfoCnt, a.ProgBTFFD = 1, ^uint32(0)
		})},
		{"attach_btf_id without fd", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			a.AttachBTFID = 5
		})},
		{"cgroup skb, xdp attach type", linux.BPF_PROG_LOAD, progLoadAttr(ret0, func(a *linux.BPFAttrProgLoad, _ func([]byte) uint64) {
			a.ProgType, a.ExpectedAttachType = uint32(linux.BPF_PROG_TYPE_CGROUP_SKB), uint32(linux.BPF_XDP)
		})},
		{"info of a closed fd", linux.BPF_OBJ_GET_INFO_BY_FD, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrInfo{BPFFD: closedFD}, 16)
		}},
		{"next map id from INT_MAX", linux.BPF_MAP_GET_NEXT_ID, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrGetID{StartID: 1<<31 - 1}, 12)
		}},
		{"map fd of a free id", linux.BPF_MAP_GET_FD_BY_ID, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrGetID{StartID: 1<<31 - 2}, 12)
		}},
		{"map fd by id, flag 4", linux.BPF_MAP_GET_FD_BY_ID, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrGetID{StartID: 1, OpenFlags: 4}, 12)
		}},
		{"btf bad magic", linux.BPF_BTF_LOAD, func(alloc func([]byte) uint64) []byte {
			b := testBTF()
			b[0] = 0
			return sized(&linux.BPFAttrBTFLoad{BTF: alloc(b), BTFSize: uint32(len(b))}, 28)
		}},
		{"btf of 17 MiB", linux.BPF_BTF_LOAD, func(alloc func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrBTFLoad{BTF: alloc(make([]byte, 8)), BTFSize: 17 << 20}, 28)
		}},
		{"btf NULL", linux.BPF_BTF_LOAD, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrBTFLoad{BTFSize: 40}, 28)
		}},
		{"obj get empty path", linux.BPF_OBJ_GET, func(alloc func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrObjPin{Pathname: alloc([]byte{0})}, 16)
		}},
		{"obj get missing", linux.BPF_OBJ_GET, func(alloc func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrObjPin{Pathname: alloc([]byte("/sys/fs/bpf/hachi-test-missing\x00"))}, 16)
		}},
		{"obj get with flag 1", linux.BPF_OBJ_GET, func(alloc func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrObjPin{Pathname: alloc([]byte("/sys/fs/bpf/x\x00")), FileFlags: 1}, 16)
		}},
		{"pin a closed fd", linux.BPF_OBJ_PIN, func(alloc func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrObjPin{BPFFD: closedFD, Pathname: alloc([]byte("/sys/fs/bpf/hachi-test\x00"))}, 16)
		}},
		{"stats type 1", linux.BPF_ENABLE_STATS, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrEnableStats{Type: 1}, 4)
		}},
		{"test run closed fd", linux.BPF_PROG_TEST_RUN, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrTestRun{ProgFD: closedFD}, 80)
		}},
		{"test run ctx size without ctx", linux.BPF_PROG_TEST_RUN, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrTestRun{ProgFD: closedFD, CtxSizeIn: 4}, 80)
		}},
		{"link create closed prog", linux.BPF_LINK_CREATE, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrLinkCreate{ProgFD: closedFD}, 48)
		}},
		{"bind map flags", linux.BPF_PROG_BIND_MAP, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrProgBindMap{ProgFD: closedFD, Flags: 1}, 12)
		}},
		{"iter create flags", linux.BPF_ITER_CREATE, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrIterCreate{LinkFD: closedFD, Flags: 1}, 8)
		}},
		{"link detach closed", linux.BPF_LINK_DETACH, func(func([]byte) uint64) []byte {
			return sized(&linux.BPFAttrLinkDetach{LinkFD: closedFD}, 4)
		}},
	}
}

// knownErrnoDiffs are the cases where Hachi follows Linux 6.1 on purpose
// and the host (6.18) answers otherwise; the test fails if they agree.
var knownErrnoDiffs = map[string]string{
	"log level without buffer": "bpf/log keeps 6.1's log attributes: level needs a buffer; " +
		"6.4+ allows a NULL buffer to ask log_true_size",
	"log of 64 bytes": "bpf/log keeps 6.1's 128-byte minimum; 6.4+ takes any size and answers ENOSPC when it fills",
}

// TestErrnosMatchHost sends the same self-contained attrs to Hachi and to
// the host kernel and compares the outcomes.
func TestErrnosMatchHost(t *testing.T) {
	needHostBPF(t)
	s := newSystem()
	p := newProc(t, s)
	for _, c := range errnoCases() {
		hm := &hostMem{}
		hostAttr := c.attr(hm.buf)
		hfd, herr := hostBPF(c.cmd, hostAttr)
		if herr == nil && hfd > 0 {
			unix.Close(hfd)
		}
		hachiAttr := c.attr(p.buf)
		_, err := s.Call(p.tk, uint32(c.cmd), p.buf(hachiAttr), uint32(len(hachiAttr)))
		reason, known := knownErrnoDiffs[c.name]
		switch same := errName(err) == errName(herr); {
		case !same && !known:
			t.Errorf("%s: hachi %s, host %s", c.name, errName(err), errName(herr))
		case !same:
			t.Logf("known disagreement, %s: hachi %s, host %s: %s", c.name, errName(err), errName(herr), reason)
		case known:
			t.Errorf("%s now agrees with the host: remove it from knownErrnoDiffs", c.name)
		}
	}
}
