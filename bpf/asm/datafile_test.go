package asm_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
)

func TestParseDataFile(t *testing.T) {
	d, err := asm.ParseDataFile(`# Copyright line
# SPDX line
-- c
int f(void) { return i--; }
-- asm
mov %r0, 1 # comment
exit
-- raw
0x00000001000000b7
95 00 00 00
00 00 00 00
-- mem
00 01
  02
-- result
0xffffffffffffffff
-- no register offset
call instruction
-- linux
skip: a
reason
`)
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasAsm || !d.HasRaw || !d.HasMem || !d.HasResult || d.HasError {
		t.Errorf("flags %+v", d)
	}
	if !bytes.Equal(d.Mem, []byte{0, 1, 2}) || d.Result != ^uint64(0) || d.Linux != "skip: a reason" {
		t.Errorf("mem % x result %#x linux %q", d.Mem, d.Result, d.Linux)
	}
	raw, _ := d.Program()
	assembled, err := asm.Assemble(d.Asm)
	if err != nil || !bytes.Equal(isa.Encode(raw), isa.Encode(assembled)) {
		t.Errorf("raw % x, asm % x (%v)", isa.Encode(raw), isa.Encode(assembled), err)
	}

	d, err = asm.ParseDataFile("-- asm\nexit\n-- error\nsomething\n  went wrong\n")
	if err != nil || d.Error != "something\nwent wrong" || d.HasResult {
		t.Errorf("%+v %v", d, err)
	}

	for _, tt := range []struct{ text, err string }{
		{"", "no asm or raw section"},
		{"# only a comment\n-- result\n0x0\n", "no asm or raw section"},
		{"-- asm\nexit\n", "no result or error section"},
		{"-- asm\nexit\n-- Unknown directive\n", `line 3: unknown section "Unknown directive"`},
		{"-- asm\nexit\n-- result\n1 2\n", "result must be one number"},
		{"-- asm\nexit\n-- result\nzero\n", "result"},
		{"-- asm\nexit\n-- mem\n0\n-- result\n0\n", "mem: odd number of hex digits"},
		{"-- raw\n0xzz\n-- result\n0\n", "raw"},
		{"-- raw\n95 00 00\n-- result\n0\n", "raw: bytecode length is not a multiple of 8"},
		{"-- raw\n950\n-- result\n0\n", `raw: bad byte "950"`},
	} {
		_, err := asm.ParseDataFile(tt.text)
		if !errors.Is(err, asm.ErrDataFile) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.err)
		}
	}
}

func TestParseHex(t *testing.T) {
	for _, s := range []string{"b700ff", "b7 00 ff", "b7  00  ff  ", "\tb7\n00\r\nFF"} {
		if b, err := asm.ParseHex(s); err != nil || !bytes.Equal(b, []byte{0xb7, 0, 0xff}) {
			t.Errorf("%q: % x, %v", s, b, err)
		}
	}
	for _, s := range []string{"b", "b7 0", "g0", "0x10"} {
		if _, err := asm.ParseHex(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
