package verifier

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The verifier's own cases live in testdata/cases, one file per concern,
// like Linux's tools/testing/selftests/bpf/verifier/*.c. A file holds cases:
//
//	== name of the case
//	mirrors: the Linux behaviour it checks (function, message, selftest)
//	type: socket_filter | kprobe | tracepoint | raw_tracepoint | perf_event | xdp | memory:N
//	arch: amd64 | riscv64            (default amd64)
//	ctxsize: N                       (tracepoint record size)
//	license: GPL | proprietary       (default GPL)
//	flags: strict_stack              (Options.StrictStackReads)
//	maps: SPEC ...                   (fd i is the i-th: `lddw %r1, map_fd i`)
//	host: skip REASON | differs REASON   (how it compares with the host kernel)
//	loglevel: N                      (default 1)
//	log: SUBSTRING                   (may repeat: must all be in the log)
//	expect: accept | ERRNO MESSAGE   (MESSAGE must be in the last log line)
//	-- asm
//	assembly (package asm syntax)
//
// A map SPEC is KIND:KEY:VALUE:MAX[:FLAG...], FLAG one of rdonly_prog,
// wronly_prog, frozen=HEX (the value's bytes), inner=KIND/KEY/VALUE/MAX.
// The runner fails on anything it does not understand.

type testCase struct {
	file     string
	line     int
	name     string
	mirrors  string
	progType linux.BPFProgType
	arch     Arch
	ctxSize  uint32
	gpl      bool
	strict   bool
	maps     []mapSpec
	host     string
	logLevel uint32
	logWant  []string
	errno    linux.Errno // 0: accepted
	msg      string
	asm      string
	raw      string
}

type mapSpec struct {
	kind                   linux.BPFMapType
	key, value, max, flags uint32
	frozen                 bool
	contents               []byte
	inner                  *mapSpec
}

var mapKinds = map[string]linux.BPFMapType{
	"hash": linux.BPF_MAP_TYPE_HASH, "array": linux.BPF_MAP_TYPE_ARRAY, "prog_array": linux.BPF_MAP_TYPE_PROG_ARRAY,
	"perf_event_array": linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, "percpu_hash": linux.BPF_MAP_TYPE_PERCPU_HASH,
	"percpu_array": linux.BPF_MAP_TYPE_PERCPU_ARRAY, "stack_trace": linux.BPF_MAP_TYPE_STACK_TRACE,
	"lru_hash": linux.BPF_MAP_TYPE_LRU_HASH, "array_of_maps": linux.BPF_MAP_TYPE_ARRAY_OF_MAPS,
	"hash_of_maps": linux.BPF_MAP_TYPE_HASH_OF_MAPS, "queue": linux.BPF_MAP_TYPE_QUEUE,
	"stack": linux.BPF_MAP_TYPE_STACK, "ringbuf": linux.BPF_MAP_TYPE_RINGBUF,
	"bloom_filter": linux.BPF_MAP_TYPE_BLOOM_FILTER,
}

var progTypes = map[string]linux.BPFProgType{
	"socket_filter": linux.BPF_PROG_TYPE_SOCKET_FILTER, "kprobe": linux.BPF_PROG_TYPE_KPROBE,
	"tracepoint": linux.BPF_PROG_TYPE_TRACEPOINT, "raw_tracepoint": linux.BPF_PROG_TYPE_RAW_TRACEPOINT,
	"perf_event": linux.BPF_PROG_TYPE_PERF_EVENT, "xdp": linux.BPF_PROG_TYPE_XDP,
}

var errnos = map[string]linux.Errno{"EACCES": linux.EACCES, "EINVAL": linux.EINVAL, "E2BIG": linux.E2BIG,
	"EBADF": linux.EBADF, "ENOSPC": linux.ENOSPC, "ENOTSUPP": linux.ENOTSUPP}

func parseMapSpec(s string) (mapSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 4 {
		return mapSpec{}, fmt.Errorf("map %q: want KIND:KEY:VALUE:MAX", s)
	}
	kind, ok := mapKinds[parts[0]]
	if !ok {
		return mapSpec{}, fmt.Errorf("map %q: unknown kind", s)
	}
	m := mapSpec{kind: kind}
	for i, p := range []*uint32{&m.key, &m.value, &m.max} {
		v, err := strconv.ParseUint(parts[i+1], 0, 32)
		if err != nil {
			return mapSpec{}, fmt.Errorf("map %q: %v", s, err)
		}
		*p = uint32(v)
	}
	for _, f := range parts[4:] {
		switch name, arg, _ := strings.Cut(f, "="); name {
		case "rdonly_prog":
			m.flags |= linux.BPF_F_RDONLY_PROG
		case "wronly_prog":
			m.flags |= linux.BPF_F_WRONLY_PROG
		case "frozen":
			b, err := hex.DecodeString(arg)
			if err != nil {
				return mapSpec{}, fmt.Errorf("map %q: %v", s, err)
			}
			m.frozen, m.contents = true, b
		case "inner":
			in, err := parseMapSpec(strings.ReplaceAll(arg, "/", ":"))
			if err != nil {
				return mapSpec{}, err
			}
			m.inner = &in
		default:
			return mapSpec{}, fmt.Errorf("map %q: unknown flag %q", s, f)
		}
	}
	return m, nil
}

// verifierMap makes the verifier's view of a test map.
func (s mapSpec) verifierMap(name string) *Map {
	m := &Map{Name: name, Type: s.kind, KeySize: s.key, ValueSize: s.value, MaxEntries: s.max, Flags: s.flags,
		Frozen: s.frozen, Contents: s.contents, Handle: vm.NewMapHandle(name)}
	if s.inner != nil {
		m.Inner = s.inner.verifierMap(name + "_inner")
	}
	if m.hasDirectValue() {
		m.Value = vm.Bytes(make([]byte, s.value), s.flags&linux.BPF_F_RDONLY_PROG == 0)
	}
	return m
}

func parseCases(path string) ([]*testCase, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases []*testCase
	var c *testCase
	inAsm, inRaw := false, false
	for n, line := range strings.Split(string(text), "\n") {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n+1, fmt.Sprintf(format, args...))
		}
		if name, ok := strings.CutPrefix(line, "== "); ok {
			c = &testCase{file: filepath.Base(path), line: n + 1, name: strings.TrimSpace(name),
				progType: linux.BPF_PROG_TYPE_SOCKET_FILTER, gpl: true, logLevel: 1}
			cases = append(cases, c)
			inAsm, inRaw = false, false
			continue
		}
		if c == nil {
			if line != "" && !strings.HasPrefix(line, "#") {
				return nil, bad("text before the first case")
			}
			continue
		}
		if inAsm {
			c.asm += line + "\n"
			continue
		}
		if inRaw {
			c.raw += line + "\n"
			continue
		}
		if line == "-- asm" {
			inAsm = true
			continue
		}
		if line == "-- raw" {
			inRaw = true
			continue
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, bad("want KEY: VALUE")
		}
		val = strings.TrimSpace(val)
		switch key {
		case "mirrors":
			c.mirrors = val
		case "type":
			if n, ok := strings.CutPrefix(val, "memory:"); ok {
				size, err := strconv.ParseUint(n, 0, 32)
				if err != nil {
					return nil, bad("%v", err)
				}
				c.progType, c.ctxSize = ProgTypeMemory, uint32(size)
				continue
			}
			t, ok := progTypes[val]
			if !ok {
				return nil, bad("unknown type %q", val)
			}
			c.progType = t
		case "arch":
			switch val {
			case "amd64":
				c.arch = ArchAMD64
			case "riscv64":
				c.arch = ArchRISCV64
			default:
				return nil, bad("unknown arch %q", val)
			}
		case "ctxsize":
			size, err := strconv.ParseUint(val, 0, 32)
			if err != nil {
				return nil, bad("%v", err)
			}
			c.ctxSize = uint32(size)
		case "license":
			switch val {
			case "GPL":
				c.gpl = true
			case "proprietary":
				c.gpl = false
			default:
				return nil, bad("unknown license %q", val)
			}
		case "flags":
			if val != "strict_stack" {
				return nil, bad("unknown flags %q", val)
			}
			c.strict = true
		case "maps":
			for _, s := range strings.Fields(val) {
				m, err := parseMapSpec(s)
				if err != nil {
					return nil, bad("%v", err)
				}
				c.maps = append(c.maps, m)
			}
		case "host":
			if !strings.HasPrefix(val, "skip ") && !strings.HasPrefix(val, "differs ") {
				return nil, bad("host: want skip or differs with a reason")
			}
			c.host = val
		case "loglevel":
			l, err := strconv.ParseUint(val, 0, 32)
			if err != nil {
				return nil, bad("%v", err)
			}
			c.logLevel = uint32(l)
		case "log":
			c.logWant = append(c.logWant, val)
		case "expect":
			if val == "accept" {
				continue
			}
			name, msg, _ := strings.Cut(val, " ")
			errno, ok := errnos[name]
			if !ok {
				return nil, bad("unknown errno %q", name)
			}
			c.errno, c.msg = errno, msg
		default:
			return nil, bad("unknown key %q", key)
		}
	}
	for _, c := range cases {
		if c.mirrors == "" || strings.TrimSpace(c.asm+c.raw) == "" {
			return nil, fmt.Errorf("%s:%d: case %q needs mirrors and an asm or raw section", path, c.line, c.name)
		}
	}
	return cases, nil
}

func loadCases(t testing.TB) []*testCase {
	files, err := filepath.Glob("testdata/cases/*.cases")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	sort.Strings(files)
	var all []*testCase
	for _, f := range files {
		cases, err := parseCases(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cases...)
	}
	return all
}

// options are the verifier options of a case, with a log buffer.
func (c *testCase) options(buf log.Buffer) Options {
	protos, impl := testHelpers(c.progType)
	if c.progType == ProgTypeMemory {
		protos, impl = testHelpers(linux.BPF_PROG_TYPE_KPROBE)
	}
	maps := make(MapList, len(c.maps))
	for i, s := range c.maps {
		maps[i] = s.verifierMap(fmt.Sprintf("m%d", i))
	}
	l := &log.Log{}
	if c.logLevel != 0 {
		var err error
		if l, err = log.New(c.logLevel, 1, uint32(len(buf)), buf); err != nil {
			panic(err)
		}
	}
	return Options{ProgType: c.progType, Arch: c.arch, CtxSize: c.ctxSize, GPL: c.gpl, Maps: maps,
		Helpers: impl, Protos: protos, Log: l, StrictStackReads: c.strict}
}

// program is the case's bytecode: the raw section (hex bytes, 8 per
// instruction) if there is one, else the assembled asm section.
func (c *testCase) program() ([]isa.Instruction, error) {
	if c.raw == "" {
		return asm.Assemble(c.asm)
	}
	code, err := asm.ParseHex(c.raw)
	if err != nil {
		return nil, err
	}
	return isa.Decode(code)
}

func (c *testCase) String() string { return fmt.Sprintf("%s:%d %s", c.file, c.line, c.name) }

func TestCases(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 200 && os.Getenv("HACHI_CASE") == "" {
		t.Errorf("only %d cases; the table must hold at least 200", len(cases))
	}
	accepted, refused := 0, 0
	only := os.Getenv("HACHI_CASE")
	for _, c := range cases {
		if only != "" && !strings.Contains(c.name, only) {
			continue
		}
		insns, err := c.program()
		if err != nil {
			t.Errorf("%v: %v", c, err)
			continue
		}
		buf := make(log.Buffer, 1<<20)
		_, err = Verify(insns, c.options(buf))
		text := buf.String()
		switch {
		case c.errno == 0 && err != nil:
			t.Errorf("%v: refused: %v\n%s", c, err, tail(text, 30))
			continue
		case c.errno != 0 && err == nil:
			t.Errorf("%v: accepted, want %v %q\n%s", c, c.errno.Name(), c.msg, tail(text, 30))
			continue
		case c.errno != 0:
			var verr *Error
			if !errors.As(err, &verr) || verr.Errno != c.errno || !strings.Contains(verr.Msg, c.msg) {
				t.Errorf("%v: refused with %v, want %v %q\n%s", c, err, c.errno.Name(), c.msg, tail(text, 30))
				continue
			}
			if c.logLevel != 0 && !strings.Contains(text, verr.Msg+"\n") {
				t.Errorf("%v: the log does not hold the message %q", c, verr.Msg)
			}
			refused++
		default:
			accepted++
		}
		if c.logLevel != 0 && !strings.Contains(text, "processed ") {
			t.Errorf("%v: the log has no statistics line", c)
		}
		for _, want := range c.logWant {
			if !strings.Contains(text, want) {
				t.Errorf("%v: log lacks %q:\n%s", c, want, tail(text, 40))
			}
		}
	}
	t.Logf("%d cases: %d accepted, %d refused", len(cases), accepted, refused)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
