package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// write puts a file in a temporary directory and returns its path.
func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCommands runs the command's main function like a script: each case
// is a command line, its exit status and (parts of) its output.
func TestCommands(t *testing.T) {
	asmFile := write(t, "prog.s", "mov32 %r0, 1\nldxb %r1, [%r1+1]\nadd %r0, %r1\nexit\n")
	hexFile := write(t, "prog.hex", "b4 00 00 00 01 00 00 00\n71 11 01 00 00 00 00 00\n0f 10 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n")
	dataFile := write(t, "prog.data", "-- asm\nmov %r0, %r2\nexit\n-- mem\n01 02 03\n-- result\n0x3\n")
	faulting := write(t, "fault.data", "-- asm\nmov %r0, 0\nldxdw %r0, [%r1+8]\nexit\n-- result\n0x0\n")
	badAsm := write(t, "bad.s", "mov %r0, 1\nfrob %r0\nexit\n")
	badHex := write(t, "bad.hex", "b4 00 00 00 01 00 00\n")
	reserved := write(t, "reserved.hex", "b4 00 00 00 01 00 00 00 07 00 01 00 01 00 00 00 95 00 00 00 00 00 00 00")
	for _, tt := range []struct {
		args   []string
		status int
		stdout string // the whole standard output, or a prefix ending in "..."
		stderr string // a part of standard error
	}{
		{[]string{"asm", asmFile}, 0, "b4 00 00 00 01 00 00 00\n71 11 01 00 00 00 00 00\n0f 10 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n", ""},
		{[]string{"asm", dataFile}, 0, "bf 20 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n", ""},
		{[]string{"disasm", hexFile}, 0, "mov32 %r0, 1\nldxb %r1, [%r1+1]\nadd %r0, %r1\nexit\n", ""},
		{[]string{"disasm", "--llvm", asmFile}, 0, "     0:\tw0 = 1\n     1:\tr1 = *(u8 *)(r1 + 1)\n     2:\tr0 += r1\n     3:\texit\n", ""},
		{[]string{"disasm", dataFile}, 0, "mov %r0, %r2\nexit\n", ""},
		{[]string{"run", "--mem", "00 29", asmFile}, 0, "0x2a\n", ""},
		{[]string{"run", "--mem", "0029", hexFile}, 0, "0x2a\n", ""},
		{[]string{"run", dataFile}, 0, "0x3\n", ""},
		{[]string{"run", "--mem", "0000000000", dataFile}, 0, "0x5\n", ""},
		{[]string{"run", "--repeat", "100", "--mem", "00ff", hexFile}, 0, "0x100\n100 runs, ...", ""},
		{[]string{"run", faulting}, 1, "", "fault.data: insn 1: invalid mem access"},
		{[]string{"run", "--mem", "00", hexFile}, 1, "", "prog.hex: insn 1: invalid mem access: read of 1 bytes"},
		{[]string{"run", reserved}, 1, "", "reserved.hex: insn 1: invalid instruction: BPF_ALU uses reserved fields"},
		{[]string{"asm", badAsm}, 1, "", "bad.s: line 2: frob %r0: invalid mnemonic"},
		{[]string{"disasm", badHex}, 1, "", "bad.hex: bytecode length is not a multiple of 8"},
		{[]string{"run", filepath.Join(t.TempDir(), "missing")}, 1, "", "no such file"},
		{[]string{}, 2, "", "no command"},
		{[]string{"frob", asmFile}, 2, "", "unknown command"},
		{[]string{"run"}, 2, "", "takes one FILE"},
		{[]string{"asm", "--llvm", asmFile}, 2, "", "asm takes no -llvm"},
		{[]string{"run", "--repeat", "0", asmFile}, 2, "", "--repeat must be at least 1"},
		{[]string{"run", "--mem", "0g", asmFile}, 2, "", "--mem: bad hex byte"},
		{[]string{"disasm", "--bogus", asmFile}, 2, "", "flag provided but not defined"},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		out := stdout.String()
		want, prefix := strings.CutSuffix(tt.stdout, "...")
		if status != tt.status || (prefix && !strings.HasPrefix(out, want)) || (!prefix && out != want) ||
			!strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("ebpf %s: status %d, stdout %q, stderr %q; want %d, %q, %q",
				strings.Join(tt.args, " "), status, out, stderr.String(), tt.status, tt.stdout, tt.stderr)
		}
	}
}

// TestELF reads a program from an object clang built (testdata/prog.c),
// with its bpf-to-bpf call linked, runs it, and checks the llvm-style
// disassembly against llvm-objdump's (testdata/prog.objdump).
func TestELF(t *testing.T) {
	var stdout, stderr bytes.Buffer
	mem := "01000000 02000000 03000000 04000000 05000000"
	if status := run([]string{"run", "--mem", mem, "testdata/prog.o:socket"}, &stdout, &stderr); status != 0 || stdout.String() != "0x20c\n" {
		t.Fatalf("run: %d %q %q", status, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if status := run([]string{"disasm", "--llvm", "testdata/prog.o:sum"}, &stdout, &stderr); status != 0 {
		t.Fatalf("disasm: %d %q", status, stderr.String())
	}
	ours := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	objdump, err := os.ReadFile("testdata/prog.objdump")
	if err != nil {
		t.Fatal(err)
	}
	// llvm-objdump lists the unlinked sections one by one: `sum` (section
	// socket) and then `mix` (.text), which the linked program appends.
	var theirs []string
	for _, section := range []string{"<sum>:", "<mix>:"} {
		_, body, _ := strings.Cut(string(objdump), section+"\n")
		body, _, _ = strings.Cut(body, "\n\n")
		theirs = append(theirs, strings.Split(strings.TrimSpace(body), "\n")...)
	}
	if len(ours) != len(theirs) {
		t.Fatalf("%d lines, llvm-objdump %d:\n%s", len(ours), len(theirs), stdout.String())
	}
	for n := range ours {
		_, a, _ := strings.Cut(ours[n], ":\t")
		_, b, _ := strings.Cut(theirs[n], ":\t")
		if b == "call -1" {
			// llvm-objdump shows calls before relocation.
			b = a
		}
		if a != b {
			t.Errorf("slot %d: %q, llvm-objdump %q", n, a, b)
		}
	}
	for _, tt := range []struct{ arg, err string }{
		{"testdata/prog.o:nowhere", "no program in section nowhere; there are: socket (sum)"},
	} {
		stderr.Reset()
		if status := run([]string{"disasm", tt.arg}, &stdout, &stderr); status != 1 || !strings.Contains(stderr.String(), tt.err) {
			t.Errorf("%s: %d %q", tt.arg, status, stderr.String())
		}
	}
}
