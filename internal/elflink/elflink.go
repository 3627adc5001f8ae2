// Package elflink links a program of an ELF object parsed by cilium/ebpf
// into Hachi's instructions, for the host tools and tests that load
// clang-built objects.
package elflink

import (
	"bytes"
	"encoding/binary"
	"fmt"

	ciliumasm "github.com/cilium/ebpf/asm"

	"hachi/bpf/isa"
)

// Link resolves a program's references: calls and function pointers become
// relative offsets, map loads the value maps gives the map's name (a
// descriptor, or an index a verifier.MapList resolves) in their immediate.
// Other references (kfuncs, externs) are an error.
func Link(in ciliumasm.Instructions, maps map[string]int) ([]isa.Instruction, error) {
	insns := make(ciliumasm.Instructions, len(in))
	copy(insns, in)
	raw := make([]int, len(insns))
	symbols := map[string]int{}
	off := 0
	for i, ins := range insns {
		raw[i] = off
		if s := ins.Symbol(); s != "" {
			symbols[s] = off
		}
		off += int(ins.Width())
	}
	for i := range insns {
		ins := &insns[i]
		ref := ins.Reference()
		switch {
		case ref == "":
		case ins.IsFunctionReference():
			target, ok := symbols[ref]
			if !ok {
				return nil, fmt.Errorf("unresolved function %s", ref)
			}
			ins.Constant = int64(target - raw[i] - 1)
		case ins.IsLoadFromMap():
			fd, ok := maps[ref]
			if !ok {
				return nil, fmt.Errorf("unresolved map %s", ref)
			}
			ins.Constant = int64(uint64(ins.Constant)&^0xffffffff | uint64(fd))
		default:
			return nil, fmt.Errorf("unresolved reference %s (kfuncs and externs are not supported)", ref)
		}
		ins.Metadata = ciliumasm.Metadata{}
	}
	var code bytes.Buffer
	if err := insns.Marshal(&code, binary.LittleEndian); err != nil {
		return nil, err
	}
	return isa.Decode(code.Bytes())
}
