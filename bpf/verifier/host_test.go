//go:build linux && amd64

package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"hachi/bpf/internal/hostbpf"
	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// The host kernel is the reference: each case also goes through the host's
// BPF_PROG_LOAD (root can load programs here), and the test checks that
// both accept or both refuse. Cases marked `host: differs` name a known,
// explained disagreement (checked to still disagree, so the note cannot go
// stale); `host: skip` ones cannot run there (Hachi's own program type).

// hostBPF calls the host's bpf(2).
func hostBPF(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) (int, error) {
	return hostbpf.Call(cmd, attr, size)
}

// hostMap creates a map like s on the host.
func hostMap(s mapSpec) (int, error) {
	attr := linux.BPFAttrMapCreate{MapType: uint32(s.kind), KeySize: s.key, ValueSize: s.value,
		MaxEntries: s.max, MapFlags: s.flags}
	if s.kind == linux.BPF_MAP_TYPE_RINGBUF || s.kind == linux.BPF_MAP_TYPE_QUEUE ||
		s.kind == linux.BPF_MAP_TYPE_STACK || s.kind == linux.BPF_MAP_TYPE_BLOOM_FILTER {
		attr.KeySize = 0
	}
	if s.kind == linux.BPF_MAP_TYPE_RINGBUF {
		attr.ValueSize = 0
	}
	if s.inner != nil {
		inner, err := hostMap(*s.inner)
		if err != nil {
			return -1, err
		}
		defer syscall.Close(inner)
		attr.InnerMapFD = uint32(inner)
	}
	fd, err := hostBPF(linux.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, fmt.Errorf("map create %v: %w", s.kind, err)
	}
	if s.frozen {
		key := uint32(0)
		value := make([]byte, s.value)
		copy(value, s.contents)
		elem := linux.BPFAttrMapElem{MapFD: uint32(fd), Key: uint64(uintptr(unsafe.Pointer(&key))),
			Value: uint64(uintptr(unsafe.Pointer(&value[0])))}
		_, err := hostBPF(linux.BPF_MAP_UPDATE_ELEM, unsafe.Pointer(&elem), unsafe.Sizeof(elem))
		runtime.KeepAlive(&key)
		runtime.KeepAlive(value)
		if err != nil {
			syscall.Close(fd)
			return -1, fmt.Errorf("map update: %w", err)
		}
		freeze := linux.BPFAttrMapElem{MapFD: uint32(fd)}
		if _, err := hostBPF(linux.BPF_MAP_FREEZE, unsafe.Pointer(&freeze), unsafe.Sizeof(freeze)); err != nil {
			syscall.Close(fd)
			return -1, fmt.Errorf("map freeze: %w", err)
		}
	}
	return fd, nil
}

// hostFuncBTF builds the smallest BTF that describes the program's
// functions (an int, a prototype, and one static FUNC per subprogram) and
// loads it: Linux wants BTF func_info for programs that hand callbacks to
// helpers ("missing btf func_info"). It returns the BTF fd and the
// func_info records.
func hostFuncBTF(starts []int) (int, []linux.BPFFuncInfo, error) {
	strs := []byte("\x00int\x00")
	le := binary.LittleEndian
	var types []byte
	put := func(v ...uint32) {
		for _, x := range v {
			types = le.AppendUint32(types, x)
		}
	}
	// [1] int: name "int", kind INT, size 4, 32-bit signed.
	put(1, linux.BTF_KIND_INT<<24, 4, 1<<24|32)
	// [2] int (void): a prototype without parameters returning int.
	put(0, linux.BTF_KIND_FUNC_PROTO<<24, 1)
	var infos []linux.BPFFuncInfo
	for k, start := range starts {
		name := uint32(len(strs))
		strs = append(strs, fmt.Sprintf("f%d\x00", k)...)
		put(name, linux.BTF_KIND_FUNC<<24, 2) // static linkage
		infos = append(infos, linux.BPFFuncInfo{InsnOff: uint32(start), TypeID: uint32(3 + k)})
	}
	var blob []byte
	blob = le.AppendUint16(blob, linux.BTF_MAGIC)
	blob = append(blob, 1, 0)
	blob = le.AppendUint32(blob, 24)
	blob = le.AppendUint32(blob, 0)
	blob = le.AppendUint32(blob, uint32(len(types)))
	blob = le.AppendUint32(blob, uint32(len(types)))
	blob = le.AppendUint32(blob, uint32(len(strs)))
	blob = append(append(blob, types...), strs...)
	attr := linux.BPFAttrBTFLoad{BTF: uint64(uintptr(unsafe.Pointer(&blob[0]))), BTFSize: uint32(len(blob))}
	fd, err := hostBPF(linux.BPF_BTF_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(blob)
	if err != nil {
		return -1, nil, fmt.Errorf("btf load: %w", err)
	}
	return fd, infos, nil
}

// hostLoad loads a case's program on the host and reports its verdict.
func hostLoad(c *testCase, insns []isa.Instruction) (errno linux.Errno, logText string, err error) {
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	for _, s := range c.maps {
		fd, err := hostMap(s)
		if err != nil {
			return 0, "", err
		}
		fds = append(fds, fd)
	}
	prog := append([]isa.Instruction(nil), insns...)
	for i := range prog {
		if prog[i].Opcode == isa.MemOpcode(isa.ClassLD, isa.ModeImm, isa.SizeDW) && prog[i].Src != 0 &&
			isa.PseudoSource(prog[i].Src) != isa.PseudoFunc {
			k := int(prog[i].Imm)
			if k < 0 || k >= len(fds) {
				continue // an invalid fd on purpose
			}
			prog[i].Imm = int32(fds[k])
		}
	}
	code := isa.Encode(prog)
	starts := subprogStarts(prog)
	license := []byte("GPL\x00")
	if !c.gpl {
		license = []byte("Proprietary\x00")
	}
	logBuf := make([]byte, 1<<20)
	attr := linux.BPFAttrProgLoad{ProgType: uint32(c.progType), InsnCnt: uint32(len(prog)),
		Insns: uint64(uintptr(unsafe.Pointer(&code[0]))), License: uint64(uintptr(unsafe.Pointer(&license[0]))),
		LogLevel: 1, LogSize: uint32(len(logBuf)), LogBuf: uint64(uintptr(unsafe.Pointer(&logBuf[0])))}
	var infos []linux.BPFFuncInfo
	if len(starts) > 1 {
		// Linux wants BTF func_info for callbacks ("missing btf
		// func_info") and tail calls in subprograms.
		var btf int
		var err error
		btf, infos, err = hostFuncBTF(starts)
		if err != nil {
			return 0, "", err
		}
		fds = append(fds, btf)
		attr.ProgBTFFD = uint32(btf)
		attr.FuncInfoRecSize = uint32(unsafe.Sizeof(infos[0]))
		attr.FuncInfo = uint64(uintptr(unsafe.Pointer(&infos[0])))
		attr.FuncInfoCnt = uint32(len(infos))
	}
	fd, lerr := hostBPF(linux.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	text := string(logBuf[:strings.IndexByte(string(logBuf), 0)])
	if errors.Is(lerr, linux.ENOSPC) {
		// The log did not fit, whatever the verdict: ask again without one.
		attr.LogLevel, attr.LogSize, attr.LogBuf = 0, 0, 0
		fd, lerr = hostBPF(linux.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	}
	// attr holds their addresses only: without these the collector may
	// free them while the kernel reads them.
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(infos)
	if lerr == nil {
		syscall.Close(fd)
		return 0, text, nil
	}
	var e linux.Errno
	errors.As(lerr, &e)
	return e, text, nil
}

// subprogStarts lists the entries of the program's functions.
func subprogStarts(prog []isa.Instruction) (starts []int) {
	set := map[int]bool{0: true}
	for i, ins := range prog {
		lddw := ins.Opcode == isa.MemOpcode(isa.ClassLD, isa.ModeImm, isa.SizeDW)
		call := ins.Opcode == isa.JumpOpcode(isa.ClassJMP, isa.JumpCall, isa.SourceImm) && ins.Src == isa.Register(isa.CallLocal)
		if lddw && isa.PseudoSource(ins.Src) == isa.PseudoFunc {
			set[i+1+int(ins.Imm)] = true
		}
		if call {
			set[i+1+int(ins.Imm)] = true
		}
	}
	for s := range set {
		starts = append(starts, s)
	}
	sort.Ints(starts)
	return starts
}

// hostAvailable reports whether this process may load programs.
func hostAvailable() error {
	prog := isa.Encode([]isa.Instruction{{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMov, isa.SourceImm)},
		{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpExit, isa.SourceImm)}})
	license := []byte("GPL\x00")
	attr := linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER), InsnCnt: 2,
		Insns: uint64(uintptr(unsafe.Pointer(&prog[0]))), License: uint64(uintptr(unsafe.Pointer(&license[0])))}
	fd, err := hostBPF(linux.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if err != nil {
		return err
	}
	syscall.Close(fd)
	return nil
}

func TestCasesAgainstHost(t *testing.T) {
	if err := hostAvailable(); err != nil {
		t.Skipf("the host kernel does not let this process load BPF programs (%v): run as root to compare", err)
	}
	agree, differ, skipped := 0, 0, 0
	for _, c := range loadCases(t) {
		if c.progType == ProgTypeMemory || strings.HasPrefix(c.host, "skip ") {
			skipped++
			continue
		}
		insns, err := c.program()
		if err != nil {
			t.Errorf("%v: %v", c, err)
			continue
		}
		errno, text, err := hostLoad(c, insns)
		if err != nil {
			t.Errorf("%v: host setup: %v", c, err)
			continue
		}
		if show := os.Getenv("HACHI_HOST_LOG"); show != "" && strings.Contains(c.name, show) {
			t.Logf("%v: host errno %v, log:\n%s", c, errno, text)
		}
		hostAccepts := errno == 0
		weAccept := c.errno == 0
		documented := strings.HasPrefix(c.host, "differs ")
		switch {
		case hostAccepts == weAccept && documented:
			t.Errorf("%v: marked as differing from the host, but both %s", c, verdict(weAccept))
		case hostAccepts != weAccept && !documented:
			t.Errorf("%v: Hachi %s (%v), the host %s (%v):\n%s", c, verdict(weAccept), c.errno,
				verdict(hostAccepts), errno, tail(text, 12))
		case hostAccepts != weAccept:
			differ++
		default:
			agree++
		}
	}
	t.Logf("host kernel: %d cases agree, %d differ as documented, %d not comparable", agree, differ, skipped)
}

func verdict(accepted bool) string {
	if accepted {
		return "accepts"
	}
	return "refuses"
}
