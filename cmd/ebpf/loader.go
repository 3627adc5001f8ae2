package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"hachi/bpf/helpers"
	"hachi/bpf/maps"
	"hachi/bpf/sys"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// loader is a user space loader over hachi's bpf(2): it reads an ELF
// object with cilium/ebpf's parser and makes every object with bpf(2)
// calls on attrs in a host address space, as libbpf or cilium/ebpf do
// against Linux. Nothing is trusted on the way: the bpf() layer checks
// what it is given.
type loader struct {
	env   *hostEnv
	sys   *sys.System
	mem   *syscall.SliceSpace
	task  *syscall.Task
	spec  *ebpf.CollectionSpec
	btfFD int
	maps  map[string]int // map name -> fd
	progs map[string]int // program name -> fd
}

// hostEnv is the kernel environment of the host tool: the host's CPU
// count and clocks, and helpers over hostKernel.
type hostEnv struct {
	start   time.Time
	helpers *helpers.Set
}

func newHostEnv(trace io.Writer) *hostEnv {
	e := &hostEnv{start: time.Now()}
	e.helpers = helpers.New(&hostKernel{env: e, trace: trace}, e.PossibleCPUs())
	return e
}

func (e *hostEnv) PossibleCPUs() int { return runtime.NumCPU() }
func (e *hostEnv) ChargeMemory(n uint64) error {
	return maps.FixedHost{CPUs: e.PossibleCPUs()}.ChargeMemory(n)
}
func (e *hostEnv) CurrentCPU() int       { return 0 }
func (e *hostEnv) InTrap(int) bool       { return false }
func (e *hostEnv) Nanotime() int64       { return int64(time.Since(e.start)) }
func (e *hostEnv) BootTime() uint64      { return uint64(time.Since(e.start)) }
func (e *hostEnv) Helpers() *helpers.Set { return e.helpers }
func (e *hostEnv) Arch() verifier.Arch {
	if runtime.GOARCH == "riscv64" {
		return verifier.ArchRISCV64
	}
	return verifier.ArchAMD64
}

// hostKernel is what helpers see of the host tool's "kernel": its clocks,
// this process as the current task, no kernel or user memory to probe, no
// stacks, and a trace pipe that writes to trace.
type hostKernel struct {
	env   *hostEnv
	trace io.Writer
}

func (k *hostKernel) MonotonicNS() uint64 { return uint64(time.Since(k.env.start)) }
func (k *hostKernel) BootNS() uint64      { return uint64(time.Since(k.env.start)) }
func (k *hostKernel) CoarseNS() uint64 {
	return uint64(time.Since(k.env.start).Truncate(4 * time.Millisecond))
}
func (k *hostKernel) CurrentTask(uint32) (helpers.Task, bool) {
	t := helpers.Task{PID: uint32(os.Getpid()), TGID: uint32(os.Getpid()), UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	copy(t.Comm[:], "ebpf")
	return t, true
}
func (k *hostKernel) ReadKernel([]byte, uint64) error { return linux.EFAULT }
func (k *hostKernel) ReadUser([]byte, uint64) error   { return linux.EFAULT }
func (k *hostKernel) UserLimit() uint64               { return 1 << 47 }
func (k *hostKernel) StackTrace(uint32, vm.Region, bool, []uint64) (int, error) {
	return 0, linux.EFAULT
}
func (k *hostKernel) FuncIP(uint32, vm.Region) uint64 { return 0 }
func (k *hostKernel) Symbol(uint64) (string, uint64, uint64, bool) {
	return "", 0, 0, false
}
func (k *hostKernel) TracePrintk(cpu uint32, msg []byte) {
	fmt.Fprintf(k.trace, "trace_printk cpu %d: %s\n", cpu, bytes.TrimRight(msg, "\n"))
}

func newLoader(trace io.Writer) *loader {
	mem := syscall.NewSliceSpace()
	env := newHostEnv(trace)
	return &loader{
		env:   env,
		sys:   sys.New(env),
		mem:   mem,
		task:  &syscall.Task{Mem: mem, Files: syscall.NewFDTable(0), Caps: syscall.AllCaps, UID: uint32(os.Getuid())},
		btfFD: -1,
		maps:  map[string]int{},
		progs: map[string]int{},
	}
}

// bpf calls bpf(2) with the attr *a, which the kernel side may write back
// into (it is mapped in place, not copied).
func bpf[T any](l *loader, cmd linux.BPFCmd, a *T) (int, error) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(a)), unsafe.Sizeof(*a))
	addr := l.mem.Place(b)
	defer l.mem.Unmap(addr)
	return l.sys.Call(l.task, uint32(cmd), addr, uint32(len(b)))
}

// buf maps b (shared) and returns its user address; 0 for no buffer.
func (l *loader) buf(b []byte) uint64 {
	if b == nil {
		return 0
	}
	return l.mem.Place(b)
}

// fd is an asm.FDer for a descriptor of the loader's table.
type fd int

func (f fd) FD() int { return int(f) }

// objName is a name as bpf_obj_name_cpy accepts it: the allowed characters
// of the first 15 bytes (cilium/ebpf strips the others the same way).
func objName(s string) (n [linux.BPF_OBJ_NAME_LEN]byte) {
	k := 0
	for i := 0; i < len(s) && k < len(n)-1; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' {
			n[k] = c
			k++
		}
	}
	return n
}

// load makes every map and program of the ELF object at path.
func (l *loader) load(path string) error {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return err
	}
	l.spec = spec
	// One BTF object for the map types and the programs' function and
	// line information, as the kernel's BTF_LOAD receives it.
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		return err
	}
	type btfIDs struct{ key, value btf.TypeID }
	mapTypes := map[string]btfIDs{}
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if ms.Key == nil || ms.Value == nil {
			continue
		}
		var ids btfIDs
		if ids.key, err = b.Add(ms.Key); err == nil {
			ids.value, err = b.Add(ms.Value)
		}
		if err != nil {
			return fmt.Errorf("map %s: BTF: %v", name, err)
		}
		mapTypes[name] = ids
	}
	type extInfo struct{ funcs, lines []byte }
	extInfos := map[string]extInfo{}
	for _, name := range sortedKeys(spec.Programs) {
		fi, li, err := btf.MarshalExtInfos(spec.Programs[name].Instructions, b)
		if err != nil {
			return fmt.Errorf("program %s: %v", name, err)
		}
		extInfos[name] = extInfo{fi, li}
	}
	if !b.Empty() {
		blob, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian, PreventNoTypeFound: true})
		if err != nil {
			return err
		}
		logBuf := make([]byte, 1<<16)
		a := linux.BPFAttrBTFLoad{BTF: l.buf(blob), BTFSize: uint32(len(blob))}
		if l.btfFD, err = bpf(l, linux.BPF_BTF_LOAD, &a); err != nil {
			a.BTFLogBuf, a.BTFLogSize, a.BTFLogLevel = l.buf(logBuf), uint32(len(logBuf)), 1
			bpf(l, linux.BPF_BTF_LOAD, &a)
			return fmt.Errorf("BTF_LOAD: %s\n%s", errText(err), cString(logBuf))
		}
	}
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		ids, hasBTF := mapTypes[name]
		fd, err := l.createMap(ms, ids.key, ids.value, hasBTF)
		if err != nil {
			return fmt.Errorf("map %s: %v", name, err)
		}
		l.maps[name] = fd
		if ms.Type == ebpf.ProgramArray {
			continue // filled once the programs are loaded
		}
		for _, kv := range ms.Contents {
			if err := l.update(fd, ms, kv.Key, kv.Value); err != nil {
				return fmt.Errorf("map %s: contents: %v", name, err)
			}
		}
		if strings.HasPrefix(ms.Name, ".rodata") || ms.Name == ".kconfig" {
			if _, err := bpf(l, linux.BPF_MAP_FREEZE, &linux.BPFAttrMapElem{MapFD: uint32(fd)}); err != nil {
				return fmt.Errorf("map %s: freeze: %s", name, errText(err))
			}
		}
	}
	for _, name := range sortedKeys(spec.Programs) {
		fd, err := l.loadProgram(spec.Programs[name], extInfos[name].funcs, extInfos[name].lines)
		if err != nil {
			return fmt.Errorf("program %s: %v", name, err)
		}
		l.progs[name] = fd
	}
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if ms.Type != ebpf.ProgramArray {
			continue
		}
		for _, kv := range ms.Contents {
			if err := l.update(l.maps[name], ms, kv.Key, kv.Value); err != nil {
				return fmt.Errorf("map %s: contents: %v", name, err)
			}
		}
	}
	return nil
}

// createMap is BPF_MAP_CREATE for ms (and its inner template).
func (l *loader) createMap(ms *ebpf.MapSpec, keyID, valueID btf.TypeID, hasBTF bool) (int, error) {
	a := linux.BPFAttrMapCreate{MapType: uint32(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, MapFlags: ms.Flags, NumaNode: ms.NumaNode, MapExtra: ms.MapExtra, MapName: objName(ms.Name)}
	if ms.InnerMap != nil {
		inner, err := l.createMap(ms.InnerMap, 0, 0, false)
		if err != nil {
			return -1, fmt.Errorf("inner map: %v", err)
		}
		defer l.task.Files.Close(inner)
		a.InnerMapFD = uint32(inner)
	}
	if hasBTF && l.btfFD >= 0 {
		a.BTFFD, a.BTFKeyTypeID, a.BTFValueTypeID = uint32(l.btfFD), uint32(keyID), uint32(valueID)
	}
	fd, err := bpf(l, linux.BPF_MAP_CREATE, &a)
	if err != nil {
		return -1, fmt.Errorf("MAP_CREATE: %s", errText(err))
	}
	return fd, nil
}

// update stores one element of a map's initial contents; values naming
// programs or maps (prog arrays, maps of maps) become their descriptors.
func (l *loader) update(mapFD int, ms *ebpf.MapSpec, key, value any) error {
	k, err := encode(key, ms.KeySize)
	if err != nil {
		return err
	}
	var v []byte
	switch val := value.(type) {
	case string:
		objFD, ok := l.progs[val]
		if ms.Type != ebpf.ProgramArray {
			objFD, ok = l.maps[val]
		}
		if !ok {
			return fmt.Errorf("no object %q", val)
		}
		v = binary.LittleEndian.AppendUint32(nil, uint32(objFD))
	default:
		if v, err = encode(value, ms.ValueSize); err != nil {
			return err
		}
	}
	a := linux.BPFAttrMapElem{MapFD: uint32(mapFD), Key: l.buf(k), Value: l.buf(v)}
	if _, err := bpf(l, linux.BPF_MAP_UPDATE_ELEM, &a); err != nil {
		return fmt.Errorf("MAP_UPDATE_ELEM: %s", errText(err))
	}
	return nil
}

// encode is a key or value of a MapSpec's contents as size bytes.
func encode(v any, size uint32) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		if uint32(len(b)) != size {
			return nil, fmt.Errorf("%d bytes for a %d-byte field", len(b), size)
		}
		return b, nil
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
		return nil, err
	}
	if uint32(buf.Len()) != size {
		return nil, fmt.Errorf("%T is %d bytes for a %d-byte field", v, buf.Len(), size)
	}
	return buf.Bytes(), nil
}

// loadProgram is BPF_PROG_LOAD for ps, its map references relocated to the
// loader's descriptors. On refusal it loads again with a log to say why,
// as loaders do.
func (l *loader) loadProgram(ps *ebpf.ProgramSpec, funcInfo, lineInfo []byte) (int, error) {
	insns := append(asm.Instructions(nil), ps.Instructions...)
	for i := range insns {
		ins := &insns[i]
		if !ins.IsLoadFromMap() || ins.Reference() == "" {
			continue
		}
		mapFD, ok := l.maps[ins.Reference()]
		if !ok {
			return -1, fmt.Errorf("instruction %d refers to unknown map %q", i, ins.Reference())
		}
		if err := ins.AssociateMap(fd(mapFD)); err != nil {
			return -1, err
		}
	}
	var code bytes.Buffer
	if err := insns.Marshal(&code, binary.LittleEndian); err != nil {
		return -1, err
	}
	a := linux.BPFAttrProgLoad{
		ProgType: uint32(ps.Type), InsnCnt: uint32(code.Len() / asm.InstructionSize), Insns: l.buf(code.Bytes()),
		License: l.buf(append([]byte(ps.License), 0)), KernVersion: ps.KernelVersion, ProgFlags: ps.Flags,
		ProgName: objName(ps.Name), ExpectedAttachType: uint32(ps.AttachType),
	}
	if len(funcInfo) > 0 || len(lineInfo) > 0 {
		a.ProgBTFFD = uint32(l.btfFD)
		a.FuncInfoRecSize, a.FuncInfo, a.FuncInfoCnt = 8, l.buf(funcInfo), uint32(len(funcInfo)/8)
		a.LineInfoRecSize, a.LineInfo, a.LineInfoCnt = 16, l.buf(lineInfo), uint32(len(lineInfo)/16)
	}
	fd, err := bpf(l, linux.BPF_PROG_LOAD, &a)
	if err == nil {
		return fd, nil
	}
	logBuf := make([]byte, 1<<20)
	a.LogLevel, a.LogSize, a.LogBuf = 1, uint32(len(logBuf)), l.buf(logBuf)
	bpf(l, linux.BPF_PROG_LOAD, &a)
	return -1, fmt.Errorf("PROG_LOAD: %s\n%s", errText(err), cString(logBuf))
}

// runResult is what a test run gives back.
type runResult struct {
	Retval   uint32
	Duration uint32
	DataOut  []byte
	CtxOut   []byte
}

// testRun is BPF_PROG_TEST_RUN of a loaded program.
func (l *loader) testRun(prog string, data, ctx []byte, repeat uint32) (*runResult, error) {
	progFD, ok := l.progs[prog]
	if !ok {
		return nil, fmt.Errorf("no program %q; there are: %s", prog, strings.Join(sortedKeys(l.progs), ", "))
	}
	out := make([]byte, len(data)+4096)
	a := linux.BPFAttrTestRun{ProgFD: uint32(progFD), DataIn: l.buf(data), DataSizeIn: uint32(len(data)),
		DataOut: l.buf(out), DataSizeOut: uint32(len(out)), Repeat: repeat}
	var ctxOut []byte
	if ctx != nil {
		ctxOut = make([]byte, len(ctx))
		a.CtxIn, a.CtxSizeIn = l.buf(ctx), uint32(len(ctx))
		a.CtxOut, a.CtxSizeOut = l.buf(ctxOut), uint32(len(ctxOut))
	}
	if _, err := bpf(l, linux.BPF_PROG_TEST_RUN, &a); err != nil {
		return nil, fmt.Errorf("PROG_TEST_RUN: %s", errText(err))
	}
	return &runResult{Retval: a.Retval, Duration: a.Duration, DataOut: out[:a.DataSizeOut], CtxOut: ctxOut}, nil
}

// mapEntry is one element of a map dump.
type mapEntry struct{ Key, Value []byte }

// dumpMap reads every element of a map through bpf(2)
// (MAP_GET_NEXT_KEY, MAP_LOOKUP_ELEM), in the map's key order.
func (l *loader) dumpMap(name string) ([]mapEntry, error) {
	ms := l.spec.Maps[name]
	mapFD := l.maps[name]
	valueSize := int(ms.ValueSize)
	switch ms.Type {
	case ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash:
		valueSize = (valueSize + 7) &^ 7 * l.env.PossibleCPUs()
	}
	var entries []mapEntry
	var prev []byte
	for {
		next := make([]byte, ms.KeySize)
		a := linux.BPFAttrMapElem{MapFD: uint32(mapFD), Key: l.buf(prev), Value: l.buf(next)}
		if _, err := bpf(l, linux.BPF_MAP_GET_NEXT_KEY, &a); err != nil {
			if errors.Is(err, linux.ENOENT) {
				return entries, nil
			}
			return entries, fmt.Errorf("MAP_GET_NEXT_KEY: %s", errText(err))
		}
		value := make([]byte, valueSize)
		a = linux.BPFAttrMapElem{MapFD: uint32(mapFD), Key: l.buf(next), Value: l.buf(value)}
		if _, err := bpf(l, linux.BPF_MAP_LOOKUP_ELEM, &a); err != nil {
			return entries, fmt.Errorf("MAP_LOOKUP_ELEM: %s", errText(err))
		}
		entries = append(entries, mapEntry{next, value})
		prev = next
	}
}

// close closes every descriptor; the objects must then be gone.
func (l *loader) close() error {
	l.task.Files.CloseAll()
	if live := l.sys.Live(); live != (sys.Live{}) {
		return fmt.Errorf("objects still alive after closing every descriptor: %+v", live)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errText names an errno as strace does: "EINVAL (Invalid argument)".
func errText(err error) string {
	var e linux.Errno
	if errors.As(err, &e) {
		return e.Name() + " (" + e.Error() + ")"
	}
	return err.Error()
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimRight(string(b), "\n")
}
