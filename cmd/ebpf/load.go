package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
	"unsafe"

	hasm "hachi/bpf/asm"
	"hachi/syscall/linux"
)

// The load and test-run commands: an ELF object built by clang, loaded
// through hachi's bpf(2) layer (bpf/sys) the way a loader loads it into
// Linux.
//
//	ebpf load OBJ                                   maps and programs as loaded: ids, types, tags
//	ebpf test-run [--data HEX] [--ctx HEX] [--repeat N] OBJ:PROG
//	                                                BPF_PROG_TEST_RUN, then every map's contents

const loadUsage = `	ebpf load OBJ
	ebpf test-run [--data HEX] [--ctx HEX] [--repeat N] OBJ:PROG`

// loadCommand runs load or test-run.
func loadCommand(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	data := flags.String("data", "", "packet, as hex bytes")
	ctx := flags.String("ctx", "", "context, as hex bytes")
	repeat := flags.Uint("repeat", 1, "number of runs")
	if err := flags.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: %s takes one argument", errUsage, args[0])
	}
	l := newLoader(stderr)
	if args[0] == "load" {
		if *data != "" || *ctx != "" {
			return fmt.Errorf("%w: load takes no --data or --ctx", errUsage)
		}
		if err := l.load(flags.Arg(0)); err != nil {
			return fmt.Errorf("%s: %v", flags.Arg(0), err)
		}
		if err := printLoaded(l, stdout); err != nil {
			return err
		}
		return l.close()
	}
	path, prog, ok := strings.Cut(flags.Arg(0), ":")
	if !ok {
		return fmt.Errorf("%w: test-run takes OBJ:PROG", errUsage)
	}
	var pkt, ctxIn []byte
	var err error
	if pkt, err = hasm.ParseHex(*data); err != nil {
		return fmt.Errorf("%w: --data: %v", errUsage, err)
	}
	if *ctx != "" {
		if ctxIn, err = hasm.ParseHex(*ctx); err != nil {
			return fmt.Errorf("%w: --ctx: %v", errUsage, err)
		}
	}
	if err := l.load(path); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	r, err := l.testRun(prog, pkt, ctxIn, uint32(*repeat))
	if err != nil {
		return fmt.Errorf("%s: %v", flags.Arg(0), err)
	}
	fmt.Fprintf(stdout, "retval %#x\n", r.Retval)
	fmt.Fprintf(stdout, "data_out %d bytes: %s\n", len(r.DataOut), hex.EncodeToString(r.DataOut))
	if r.CtxOut != nil {
		fmt.Fprintf(stdout, "ctx_out %d bytes: %s\n", len(r.CtxOut), hex.EncodeToString(r.CtxOut))
	}
	fmt.Fprintf(stdout, "duration %d ns/run\n", r.Duration)
	for _, name := range sortedKeys(l.maps) {
		entries, err := l.dumpMap(name)
		fmt.Fprintf(stdout, "map %s (%s)", name, linux.BPFMapType(l.spec.Maps[name].Type))
		if err != nil {
			fmt.Fprintf(stdout, ": %v", err)
		}
		fmt.Fprintln(stdout)
		for _, e := range entries {
			fmt.Fprintf(stdout, "\t%s: %s\n", hex.EncodeToString(e.Key), hex.EncodeToString(e.Value))
		}
	}
	return l.close()
}

// printLoaded lists the loaded objects as BPF_OBJ_GET_INFO_BY_FD reports them.
func printLoaded(l *loader, w io.Writer) error {
	for _, name := range sortedKeys(l.maps) {
		var info linux.BPFMapInfo
		if err := l.info(l.maps[name], unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
			return fmt.Errorf("map %s: %v", name, err)
		}
		fmt.Fprintf(w, "map %s: id %d %s key %d value %d max_entries %d flags %#x\n", name, info.ID,
			linux.BPFMapType(info.Type), info.KeySize, info.ValueSize, info.MaxEntries, info.MapFlags)
	}
	for _, name := range sortedKeys(l.progs) {
		var info linux.BPFProgInfo
		if err := l.info(l.progs[name], unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
			return fmt.Errorf("program %s: %v", name, err)
		}
		fmt.Fprintf(w, "prog %s: id %d %s tag %x %d insns, %d verified, %d maps, btf %d, %d func_info, %d line_info\n",
			name, info.ID, linux.BPFProgType(info.Type), info.Tag, info.XlatedProgLen/8, info.VerifiedInsns,
			info.NrMapIDs, info.BTFID, info.NrFuncInfo, info.NrLineInfo)
	}
	return nil
}

// info is BPF_OBJ_GET_INFO_BY_FD into the size bytes at p.
func (l *loader) info(objFD int, p unsafe.Pointer, size uintptr) error {
	b := unsafe.Slice((*byte)(p), size)
	a := linux.BPFAttrInfo{BPFFD: uint32(objFD), InfoLen: uint32(size), Info: l.buf(b)}
	if _, err := bpf(l, linux.BPF_OBJ_GET_INFO_BY_FD, &a); err != nil {
		return fmt.Errorf("OBJ_GET_INFO_BY_FD: %s", errText(err))
	}
	return nil
}
