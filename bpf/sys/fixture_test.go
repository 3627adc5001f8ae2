package sys

import (
	"encoding/binary"
	"reflect"
	"unsafe"

	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// fixture is a process with one object of each kind the command tables
// use, fresh for every row.
type fixture struct {
	*proc
	arr, hash, wronly, rdonly, queue, progArr, perfArr int
	xdp, sock, kprobe, tracepoint                      int
	btf, other, perf                                   int
	perfEv                                             *fakePerfEvent
	closed                                             int
}

// otherFile is a descriptor that is not a BPF object (a pipe, say).
type otherFile struct{}

func (otherFile) Release() {}

// fakePerfEvent stands in for the perf subsystem's event files.
type fakePerfEvent struct {
	prog     perf.Program
	cookie   uint64
	released bool
}

func (e *fakePerfEvent) Release() { e.released = true }
func (e *fakePerfEvent) AttachBPF(p perf.Program, cookie uint64) error {
	if e.prog != nil {
		return linux.EEXIST
	}
	e.prog, e.cookie = p, cookie
	return nil
}
func (e *fakePerfEvent) DetachBPF() {
	if e.prog != nil {
		e.prog.Put()
		e.prog = nil
	}
}

// testBTF is a blob with [1] int, [2] int(void) proto, [3] FUNC main, and
// the strings of a line_info record ("file.c" at 10, "line" at 17).
func testBTF() []byte {
	strs := "\x00int\x00main\x00file.c\x00line\x00"
	types := []uint32{
		1, 1 << 24, 4, 1<<24 | 32, // [1] INT "int" size 4, signed, 32 bits
		0, 13 << 24, 1, // [2] FUNC_PROTO returning [1], no params
		5, 12<<24 | 1, 2, // [3] FUNC "main" global, type [2]
	}
	raw := binary.LittleEndian.AppendUint16(nil, 0xeb9f)
	raw = append(raw, 1, 0)
	tlen := uint32(4 * len(types))
	for _, v := range []uint32{24, 0, tlen, tlen, uint32(len(strs))} {
		raw = binary.LittleEndian.AppendUint32(raw, v)
	}
	for _, w := range types {
		raw = binary.LittleEndian.AppendUint32(raw, w)
	}
	return append(raw, strs...)
}

func newFixture(p *proc) *fixture {
	f := &fixture{proc: p}
	f.arr = p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0)
	f.hash = p.createMap(linux.BPF_MAP_TYPE_HASH, 4, 8, 4, 0)
	f.wronly = p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, linux.BPF_F_WRONLY)
	f.rdonly = p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 4, linux.BPF_F_RDONLY)
	f.queue = p.createMap(linux.BPF_MAP_TYPE_QUEUE, 0, 4, 4, 0)
	f.progArr = p.createMap(linux.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0)
	f.perfArr = p.createMap(linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0)
	f.xdp = p.loadProg(linux.BPF_PROG_TYPE_XDP, asmProg(p.t, "mov %r0, 2\nexit"))
	f.sock = p.loadProg(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(p.t, "mov %r0, 0\nexit"))
	f.kprobe = p.loadProg(linux.BPF_PROG_TYPE_KPROBE, asmProg(p.t, "mov %r0, 0\nexit"))
	f.tracepoint = p.loadProg(linux.BPF_PROG_TYPE_TRACEPOINT, asmProg(p.t, "mov %r0, 0\nexit"))
	blob := testBTF()
	a := linux.BPFAttrBTFLoad{BTF: p.buf(blob), BTFSize: uint32(len(blob))}
	f.btf = p.mustOK(sysCall(p, linux.BPF_BTF_LOAD, &a))
	f.other = p.mustOK(p.tk.Files.Install(syscall.NewFile(otherFile{}, syscall.O_RDWR), false))
	f.perfEv = &fakePerfEvent{}
	f.perf = p.mustOK(p.tk.Files.Install(syscall.NewFile(f.perfEv, syscall.O_RDWR), false))
	f.closed = 900
	return f
}

// raw is the bytes of the struct v points to.
func raw(v any) []byte {
	rv := reflect.ValueOf(v)
	return unsafe.Slice((*byte)(rv.UnsafePointer()), rv.Type().Elem().Size())
}
