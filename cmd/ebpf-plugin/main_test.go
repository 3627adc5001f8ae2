package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm/vmtest"
)

func TestProtocol(t *testing.T) {
	prog := "bf 20 00 00 00 00 00 00 71 11 01 00 00 00 00 00 0f 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00"
	for _, tt := range []struct {
		args          []string
		stdin         string
		status        int
		stdout, error string
	}{
		{[]string{"aa  bb  cc  "}, "bf  20  00  00  00  00  00  00  71  11  01  00  00  00  00  00  0f  10  00  00  00  00  00  00  95  00  00  00  00  00  00  00  \n", 0, "0xbe\n", ""},
		{[]string{"aabbcc"}, strings.ReplaceAll(prog, " ", ""), 0, "0xbe\n", ""},
		{[]string{"aa\tbb\ncc", ""}, prog, 0, "0xbe\n", ""},
		{nil, "b7 00 00 00 07 00 00 00\n95 00 00 00 00 00 00 00", 0, "0x7\n", ""},
		{[]string{""}, "b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00", 0, "0x7\n", ""},
		{nil, prog, 1, "", "insn 1: invalid mem access"},
		{[]string{"aa"}, "b7 00 00", 1, "", "bytecode: bytecode length is not a multiple of 8"},
		{[]string{"aa"}, "b7 0", 1, "", "bytecode: odd number of hex digits"},
		{[]string{"zz"}, prog, 1, "", "memory: bad hex byte"},
		{nil, "", 1, "", "insn 0: empty program"},
		{nil, "07 00 01 00 01 00 00 00 95 00 00 00 00 00 00 00", 1, "", "insn 0: invalid instruction: BPF_ALU uses reserved fields"},
		{[]string{"aa", "--jit"}, prog, 2, "", `unknown option "--jit"`},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if status != tt.status || stdout.String() != tt.stdout || !strings.Contains(stderr.String(), tt.error) {
			t.Errorf("%q: %d %q %q; want %d %q %q", tt.args, status, stdout.String(), stderr.String(), tt.status, tt.stdout, tt.error)
		}
	}
}

// runnerHex writes bytes the way the suite's runner does: each byte in hex
// followed by two spaces.
func runnerHex(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "%02x  ", c)
	}
	return s.String()
}

// TestSuite builds the plugin and drives it as the suite's runner does,
// over every test file: the bytecode the runner's assembler produces
// (bytecode.tsv) or the raw section on standard input, the memory as the
// first argument only when the test has memory, and r0 read from standard
// output. Every program of tests/ returns its result; every negative file
// the runner can turn into bytecode makes the plugin fail or return
// something other than the file claims.
func TestSuite(t *testing.T) {
	if runtime.GOOS == "tamago" {
		t.Skip("builds the plugin with the go command and runs it as a process: the guest has neither")
	}
	suite := vmtest.Suite(t)
	plugin := filepath.Join(t.TempDir(), "ebpf-plugin")
	if out, err := exec.Command("go", "build", "-o", plugin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tsv, err := fs.ReadFile(suite, "bytecode.tsv")
	if err != nil {
		t.Fatal(err)
	}
	bytecode := map[string]string{}
	lines := bufio.NewScanner(bytes.NewReader(tsv))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		name, code, _ := strings.Cut(lines.Text(), "\t")
		bytecode[name] = code
	}
	for _, dir := range []string{"tests", "negative"} {
		for _, name := range vmtest.Files(t, suite, dir) {
			text, err := fs.ReadFile(suite, name)
			if err != nil {
				t.Fatal(err)
			}
			d, err := asm.ParseDataFile(string(text))
			if err != nil {
				continue // the runner cannot read it either
			}
			var code []byte
			if d.HasRaw {
				code = isa.Encode(d.Raw)
			} else if listed, ok := bytecode[name]; ok {
				code, _ = asm.ParseHex(listed)
			} else {
				continue // the runner's assembler refuses it
			}
			var args []string
			if len(d.Mem) > 0 {
				args = append(args, runnerHex(d.Mem))
			}
			cmd := exec.Command(plugin, args...)
			cmd.Stdin = strings.NewReader(runnerHex(code) + "\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			r0, perr := strconv.ParseUint(strings.TrimSpace(string(out)), 0, 64)
			ok := err == nil && perr == nil && d.HasResult && r0 == d.Result
			if dir == "tests" && !ok {
				t.Errorf("%s: %v %q %q, want %#x", name, err, out, stderr.String(), d.Result)
			}
			if dir == "negative" && ok {
				t.Errorf("%s: accepted, returned %#x", name, r0)
			}
		}
	}
}
