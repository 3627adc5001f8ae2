package asm_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm/vmtest"
)

// bytecodeTSV reads the suite's bytecode.tsv: file -> bytecode.
func bytecodeTSV(t *testing.T, fsys fs.FS) map[string][]byte {
	b, err := fs.ReadFile(fsys, "bytecode.tsv")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		name, code, ok := strings.Cut(s.Text(), "\t")
		if !ok {
			t.Fatalf("bytecode.tsv: bad line %q", s.Text())
		}
		if want[name], err = asm.ParseHex(code); err != nil {
			t.Fatalf("bytecode.tsv: %s: %v", name, err)
		}
	}
	return want
}

// TestConformanceAssembly assembles every asm section of the suite and
// checks the bytes against bytecode.tsv (the suite's own assembler), then
// disassembles them and assembles the text again to the same bytes.
func TestConformanceAssembly(t *testing.T) {
	fsys := vmtest.Suite(t)
	want := bytecodeTSV(t, fsys)
	checked := 0
	for _, dir := range []string{"tests", "negative"} {
		for _, name := range vmtest.Files(t, fsys, dir) {
			text, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			d, err := asm.ParseDataFile(string(text))
			if err != nil || !d.HasAsm {
				if _, listed := want[name]; listed {
					t.Errorf("%s: in bytecode.tsv but not assembled: %v", name, err)
				}
				continue
			}
			insns, err := asm.Assemble(d.Asm)
			wantCode, listed := want[name]
			if !listed {
				if err == nil {
					t.Errorf("%s: assembled, but the suite's assembler refuses it", name)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got := isa.Encode(insns); !bytes.Equal(got, wantCode) {
				t.Errorf("%s:\n got % x\nwant % x", name, got, wantCode)
				continue
			}
			if d.HasRaw && !bytes.Equal(isa.Encode(d.Raw), wantCode) {
				t.Errorf("%s: raw section differs from the assembly", name)
			}
			checked++
			roundTrip(t, name, insns)
		}
	}
	if checked != len(want) {
		t.Errorf("checked %d files, bytecode.tsv lists %d", checked, len(want))
	}
}

// roundTrip disassembles insns in both syntaxes and checks the conformance
// syntax assembles back to the same bytes.
func roundTrip(t *testing.T, name string, insns []isa.Instruction) {
	t.Helper()
	text, err := asm.Disassemble(insns, asm.Conformance)
	if err != nil {
		t.Errorf("%s: disassemble: %v", name, err)
		return
	}
	again, err := asm.Assemble(text)
	if err != nil {
		t.Errorf("%s: reassemble: %v\n%s", name, err, text)
		return
	}
	if !bytes.Equal(isa.Encode(again), isa.Encode(insns)) {
		t.Errorf("%s: round trip changed the bytes:\n%s", name, text)
	}
	if _, err := asm.Disassemble(insns, asm.LLVM); err != nil {
		t.Errorf("%s: llvm: %v", name, err)
	}
}
