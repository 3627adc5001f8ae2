package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hachi/internal/hosttool"
)

// clangObject builds testdata/NAME.bpf.c with clang as NOTES.md says. CI
// installs clang, so there a missing clang fails; elsewhere it skips.
func clangObject(t *testing.T, name string) string {
	t.Helper()
	clang := hosttool.Require(t, "clang", "clang", "build the test objects")
	triple, err := exec.Command("gcc", "-dumpmachine").Output()
	if err != nil {
		t.Fatalf("gcc -dumpmachine: %v", err)
	}
	out := filepath.Join(t.TempDir(), name+".o")
	cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/"+strings.TrimSpace(string(triple)),
		"-c", filepath.Join("testdata", name+".bpf.c"), "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang %s: %v\n%s", name, err, msg)
	}
	return out
}

// TestLoadCommands runs `ebpf load` and `ebpf test-run` on the clang-built
// objects, and their usage errors.
func TestLoadCommands(t *testing.T) {
	xdp := clangObject(t, "xdp_count")
	sock := clangObject(t, "sock_filter")
	udp := "021122334455020000000001080045000028000040004011" + "00000a0000010a000002" + "1415161718191a1b1c1d1e1f2021222324252627"
	for _, tt := range []struct {
		args   []string
		status int
		stdout []string // lines the output must contain
		stderr string
	}{
		{[]string{"load", xdp}, 0, []string{"map .rodata: id 3 BPF_MAP_TYPE_ARRAY key 4 value 2 max_entries 1 flags 0x80",
			"map proto_count: id 5 BPF_MAP_TYPE_HASH", "prog xdp_count: id 1 BPF_PROG_TYPE_XDP tag ", "2 func_info"}, ""},
		// 54 bytes: under 60, sent back (XDP_TX) with the addresses swapped.
		{[]string{"test-run", "--data", udp, xdp + ":xdp_count"}, 0, []string{"retval 0x3",
			"data_out 54 bytes: 020000000001021122334455" + udp[24:],
			"map .bss (BPF_MAP_TYPE_ARRAY)\n\t00000000: 0100000000000000", "map .data (BPF_MAP_TYPE_ARRAY)\n\t00000000: 36000000",
			"\t03000000: 3600000000000000", "map proto_count (BPF_MAP_TYPE_HASH)\n\t00080000: 0100000000000000"}, ""},
		{[]string{"test-run", "--repeat", "4", "--data", udp, sock + ":sock_filter"}, 0, []string{"retval 0x28",
			"\t11000000: 0400000000000000"}, ""},
		{[]string{"test-run", "--data", "0011", xdp + ":xdp_count"}, 1, nil, "PROG_TEST_RUN: EINVAL"},
		{[]string{"test-run", "--data", udp, xdp + ":nope"}, 1, nil, `no program "nope"; there are: xdp_count`},
		{[]string{"test-run", xdp}, 2, nil, "test-run takes OBJ:PROG"},
		{[]string{"test-run", "--data", "zz", xdp + ":xdp_count"}, 2, nil, "--data"},
		{[]string{"load", "--data", "00", xdp}, 2, nil, "load takes no --data"},
		{[]string{"load", filepath.Join(t.TempDir(), "missing.o")}, 1, nil, "missing.o"},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		if status != tt.status {
			t.Errorf("%v: status %d, want %d; stderr %s", tt.args, status, tt.status, stderr.String())
			continue
		}
		for _, want := range tt.stdout {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, want, stdout.String())
			}
		}
		if !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, stderr.String(), tt.stderr)
		}
	}
}
