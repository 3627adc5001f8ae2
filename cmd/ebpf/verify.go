package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"

	"hachi/bpf/helpers"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/internal/elflink"
	"hachi/syscall/linux"
)

// The verify command: hachi's verifier on the host, for either target.
//
//	ebpf verify [--type PROGTYPE] [--arch amd64|riscv64] [--log-level N] [--ctx-size N] FILE
//
// FILE is what the other commands take: a conformance `.data` test (type
// memory over its memory), hex bytecode or assembly (type memory unless
// --type says otherwise), or an ELF object OBJ[:SECTION] whose maps are
// created as a loader would (global data filled, .rodata frozen) and whose
// programs (all of them, or the one named) are verified with their
// section's type. An accepted program prints a summary line and exits 0; a
// refused one prints the verifier log (level 1 unless --log-level) and
// exits 1. Loads are privileged (CAP_BPF and CAP_PERFMON), like a root
// loader.

const verifyUsage = `	ebpf verify [--type PROGTYPE] [--arch amd64|riscv64] [--log-level N] [--ctx-size N] FILE
		PROGTYPE: memory, socket_filter, kprobe, tracepoint, raw_tracepoint, perf_event, xdp`

var verifyTypes = map[string]linux.BPFProgType{
	"memory": verifier.ProgTypeMemory, "socket_filter": linux.BPF_PROG_TYPE_SOCKET_FILTER,
	"kprobe": linux.BPF_PROG_TYPE_KPROBE, "tracepoint": linux.BPF_PROG_TYPE_TRACEPOINT,
	"raw_tracepoint": linux.BPF_PROG_TYPE_RAW_TRACEPOINT, "perf_event": linux.BPF_PROG_TYPE_PERF_EVENT,
	"xdp": linux.BPF_PROG_TYPE_XDP,
}

// verifyTarget is one program to verify.
type verifyTarget struct {
	name     string
	progType linux.BPFProgType
	gpl      bool
	ctxSize  uint32
	insns    []isa.Instruction
	maps     verifier.MapList
}

// verifyCommand runs verify.
func verifyCommand(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	typeName := flags.String("type", "", "program type")
	archName := flags.String("arch", "amd64", "target architecture")
	level := flags.Uint("log-level", 0, "verifier log level (1, 2; 4 adds statistics)")
	ctxSize := flags.Uint("ctx-size", 0, "context size: memory bytes, or a tracepoint's record size")
	if err := flags.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: verify takes one FILE", errUsage)
	}
	var arch verifier.Arch
	switch *archName {
	case "amd64":
		arch = verifier.ArchAMD64
	case "riscv64":
		arch = verifier.ArchRISCV64
	default:
		return fmt.Errorf("%w: unknown --arch %q", errUsage, *archName)
	}
	progType, typeSet := verifyTypes[*typeName]
	if *typeName != "" && !typeSet {
		return fmt.Errorf("%w: unknown --type %q", errUsage, *typeName)
	}
	if *level&^uint(log.LevelMask) != 0 {
		return fmt.Errorf("%w: --log-level must be a combination of 1, 2 and 4", errUsage)
	}
	targets, err := verifyTargets(flags.Arg(0), progType, typeSet, uint32(*ctxSize))
	if err != nil {
		return err
	}
	env := newHostEnv(io.Discard)
	refused := 0
	for _, tg := range targets {
		if !verifyOne(env.Helpers(), tg, arch, uint32(*level), stdout) {
			refused++
		}
	}
	if refused > 0 {
		return fmt.Errorf("%d of %d programs refused", refused, len(targets))
	}
	return nil
}

// verifyOne verifies a program and reports the verdict on w.
func verifyOne(set *helpers.Set, tg *verifyTarget, arch verifier.Arch, level uint32, w io.Writer) bool {
	impl, protos := set.ForProgType(tg.progType, helpers.Caps{BPF: true, Perfmon: true})
	if tg.progType == verifier.ProgTypeMemory {
		// The conformance suite's helper #5 returns its first argument.
		impl = make(vm.Helpers, 6)
		impl[5] = func(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }
		protos = func(id int32) *verifier.HelperProto {
			if id != 5 {
				return nil
			}
			return &verifier.HelperProto{Name: "conformance_helper", Ret: verifier.RetInteger,
				Args: [5]verifier.ArgType{verifier.ArgAnything}}
		}
	}
	verify := func(level uint32, buf log.Buffer) (*verifier.Program, time.Duration, error) {
		lg := &log.Log{}
		if level != 0 {
			var err error
			if lg, err = log.New(level, 1, uint32(len(buf)), buf); err != nil {
				return nil, 0, err
			}
		}
		start := time.Now()
		p, err := verifier.Verify(tg.insns, verifier.Options{ProgType: tg.progType, Arch: arch, CtxSize: tg.ctxSize,
			GPL: tg.gpl, Maps: tg.maps, Helpers: impl, Protos: protos, Log: lg})
		return p, time.Since(start), err
	}
	var buf log.Buffer
	if level != 0 {
		buf = make(log.Buffer, 16<<20)
	}
	p, elapsed, err := verify(level, buf)
	if err != nil && level == 0 {
		// Say why, with the level-1 log of a second run.
		buf = make(log.Buffer, 16<<20)
		_, _, err = verify(log.Level1, buf)
	}
	if buf != nil {
		io.WriteString(w, buf.String())
	}
	if err != nil {
		fmt.Fprintf(w, "%s: refused: %v\n", tg.name, err)
		return false
	}
	fmt.Fprintf(w, "%s: accepted (%v, %d insns): processed %d insns, %d states (peak %d, max %d per insn), stack %v, %v\n",
		tg.name, typeLabel(tg.progType), len(tg.insns), p.Stats.Processed, p.Stats.TotalStates, p.Stats.PeakStates,
		p.Stats.MaxStatesPerInsn, p.StackDepth, elapsed.Round(time.Microsecond))
	return true
}

func typeLabel(t linux.BPFProgType) string {
	for name, v := range verifyTypes {
		if v == t {
			return name
		}
	}
	return t.String()
}

// verifyTargets reads FILE into the programs to verify.
func verifyTargets(arg string, progType linux.BPFProgType, typeSet bool, ctxSize uint32) ([]*verifyTarget, error) {
	if path, section, _ := strings.Cut(arg, ":"); isELF(path) {
		return elfTargets(path, section, progType, typeSet)
	}
	p, err := readProgram(arg)
	if err != nil {
		return nil, err
	}
	tg := &verifyTarget{name: arg, progType: verifier.ProgTypeMemory, gpl: true, ctxSize: uint32(len(p.mem)), insns: p.insns}
	if typeSet {
		tg.progType = progType
	}
	if ctxSize != 0 {
		tg.ctxSize = ctxSize
	}
	return []*verifyTarget{tg}, nil
}

// elfTargets reads the programs of an ELF object (or the one named by
// section or function name) and makes the maps they use.
func elfTargets(path, section string, progType linux.BPFProgType, typeSet bool) ([]*verifyTarget, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	mapList, index, err := elfMaps(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*verifyTarget
	for _, name := range names {
		ps := spec.Programs[name]
		if section != "" && ps.SectionName != section && name != section {
			continue
		}
		insns, err := elflink.Link(ps.Instructions, index)
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %v", path, name, err)
		}
		tg := &verifyTarget{name: path + ":" + name, progType: linux.BPFProgType(ps.Type), gpl: ps.License == "GPL",
			insns: insns, maps: mapList}
		if typeSet {
			tg.progType = progType
		}
		out = append(out, tg)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no program in section %s", path, section)
	}
	return out, nil
}

// elfMaps creates the object's maps with bpf/maps as a loader would (global
// data filled, .rodata frozen) and describes them to the verifier; index
// maps each name to its fd, the position in the list.
func elfMaps(spec *ebpf.CollectionSpec) (verifier.MapList, map[string]int, error) {
	names := make([]string, 0, len(spec.Maps))
	for name := range spec.Maps {
		names = append(names, name)
	}
	sort.Strings(names)
	host := maps.FixedHost{CPUs: 2}
	var list verifier.MapList
	index := map[string]int{}
	for _, name := range names {
		ms := spec.Maps[name]
		s := maps.Spec{Type: linux.BPFMapType(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
			MaxEntries: ms.MaxEntries, Flags: ms.Flags}
		if s.Type == linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY && s.MaxEntries == 0 {
			s.MaxEntries = uint32(host.CPUs)
		}
		if ms.InnerMap != nil {
			s.Inner, _ = maps.New(maps.Spec{Type: linux.BPFMapType(ms.InnerMap.Type), KeySize: ms.InnerMap.KeySize,
				ValueSize: ms.InnerMap.ValueSize, MaxEntries: ms.InnerMap.MaxEntries, Flags: ms.InnerMap.Flags}, host)
		}
		m, err := maps.New(s, host)
		if err != nil {
			return nil, nil, fmt.Errorf("map %s: %v", name, err)
		}
		for _, kv := range ms.Contents {
			key, kok := kv.Key.(uint32)
			value, vok := kv.Value.([]byte)
			if !kok || !vok {
				continue // contents of other forms are loader business, not the verifier's
			}
			if err := m.Update(binary.LittleEndian.AppendUint32(nil, key), value, 0); err != nil {
				return nil, nil, fmt.Errorf("map %s: %v", name, err)
			}
		}
		v := &verifier.Map{Name: name, Type: s.Type, KeySize: s.KeySize, ValueSize: s.ValueSize,
			MaxEntries: s.MaxEntries, Flags: s.Flags, Handle: vm.NewMapHandle(m)}
		if s.Inner != nil {
			in := s.Inner.Info()
			v.Inner = &verifier.Map{Type: in.Type, KeySize: in.KeySize, ValueSize: in.ValueSize,
				MaxEntries: in.MaxEntries, Flags: in.Flags}
		}
		if dv, ok := m.(maps.DirectValuer); ok {
			if ptr, size, err := dv.DirectValue(); err == nil {
				v.Value = vm.Region{Base: ptr, Size: uintptr(size), Writable: s.Flags&linux.BPF_F_RDONLY_PROG == 0}
			}
		}
		if fz, ok := m.(maps.Freezer); ok && strings.HasPrefix(name, ".rodata") && v.Value.Base != nil {
			if err := fz.Freeze(); err != nil {
				return nil, nil, fmt.Errorf("map %s: freeze: %v", name, err)
			}
			v.Frozen = true
			v.Contents = append([]byte(nil), unsafe.Slice((*byte)(v.Value.Base), v.Value.Size)...)
		}
		index[name] = len(list)
		list = append(list, v)
	}
	return list, index, nil
}
