package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hachi/bpf/vm/vmtest"
	"hachi/internal/hosttool"
)

// TestVerify runs the verify command on conformance files, assembly and a
// clang-built object (when clang is present; CI requires it).
func TestVerify(t *testing.T) {
	suiteDir, err := vmtest.SuiteDir()
	if err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(suiteDir, "tests") + "/"
	accepted := write(t, "ok.s", "ldxw %r0, [%r1+0]\nexit\n")
	refused := write(t, "bad.s", "ldxdw %r0, [%r1+0]\nexit\n")
	for _, tt := range []struct {
		args   []string
		status int
		want   []string // parts of the standard output
	}{
		{[]string{"verify", suite + "subnet.data"}, 0, []string{"subnet.data: accepted (memory, 14 insns): processed"}},
		{[]string{"verify", suite + "lsh64-imm-high.data"}, 1, []string{"1: (67) r0 <<= 68\ninvalid shift 68\n", "refused: insn 1: invalid shift 68"}},
		{[]string{"verify", "--type", "kprobe", accepted}, 0, []string{"accepted (kprobe, 2 insns)"}},
		{[]string{"verify", "--type", "socket_filter", refused}, 1, []string{"invalid bpf_context access off=0 size=8", "processed 1 insns"}},
		{[]string{"verify", "--type", "socket_filter", "--log-level", "2", accepted}, 0, []string{"0: (61) r0 = *(u32 *)(r1 +0)", "processed 2 insns", "accepted"}},
		{[]string{"verify", "--type", "tracepoint", "--ctx-size", "16", refused}, 1, []string{"invalid bpf_context access off=0 size=8"}},
		{[]string{"verify", "--type", "nope", accepted}, 2, nil},
		{[]string{"verify", "--arch", "mips", accepted}, 2, nil},
		{[]string{"verify"}, 2, nil},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		if status != tt.status {
			t.Errorf("%v: status %d, want %d\n%s%s", tt.args, status, tt.status, stdout.String(), stderr.String())
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
	}
}

// TestVerifyObject verifies a clang-built object with its maps.
func TestVerifyObject(t *testing.T) {
	hosttool.Require(t, "clang", "clang", "build the test object")
	triple, err := exec.Command("gcc", "-dumpmachine").Output()
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(t.TempDir(), "loops.o")
	cmd := exec.Command("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/"+strings.TrimSpace(string(triple)),
		"-c", "../../bpf/verifier/testdata/progs/loops.bpf.c", "-o", obj)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	if status := run([]string{"verify", obj}, &stdout, &stderr); status != 0 {
		t.Fatalf("status %d:\n%s%s", status, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "loops.o:loops: accepted (raw_tracepoint") {
		t.Errorf("unexpected output:\n%s", stdout.String())
	}
	if status := run([]string{"verify", "--arch", "riscv64", obj + ":raw_tracepoint/sys_enter"}, &stdout, &stderr); status != 0 {
		t.Errorf("by section: status %d:\n%s", status, stdout.String())
	}
}
