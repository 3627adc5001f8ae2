package elflink

import (
	"strings"
	"testing"

	ciliumasm "github.com/cilium/ebpf/asm"
)

// A call becomes the offset to its target in instructions (a lddw counts
// two), a map load gets the map's value in its immediate; an unknown name
// is an error.
func TestLink(t *testing.T) {
	prog := ciliumasm.Instructions{
		ciliumasm.LoadMapPtr(ciliumasm.R1, 0).WithReference("counts"),
		ciliumasm.Call.Label("sub"),
		ciliumasm.Return(),
		ciliumasm.Mov.Imm(ciliumasm.R0, 7).WithSymbol("sub"),
		ciliumasm.Return(),
	}
	insns, err := Link(prog, map[string]int{"counts": 42})
	if err != nil {
		t.Fatal(err)
	}
	if len(insns) != 6 { // the lddw takes two slots
		t.Fatalf("%d instructions, want 6", len(insns))
	}
	if insns[0].Imm != 42 {
		t.Errorf("map load immediate %d, want 42", insns[0].Imm)
	}
	if insns[2].Imm != 1 { // the call at slot 2 to slot 4
		t.Errorf("call offset %d, want 1", insns[2].Imm)
	}
	if _, err := Link(prog, nil); err == nil || !strings.Contains(err.Error(), "unresolved map counts") {
		t.Errorf("without the map: %v", err)
	}
}
