package btf_test

import (
	"encoding/binary"
	"fmt"
	"strings"

	"hachi/bpf/btf"
	"hachi/bpf/log"
)

// A one-type blob ("int"), loaded with a level-1 log as BPF_BTF_LOAD would.
func ExampleLoad() {
	strs := []byte("\x00int\x00")
	types := []uint32{1, 1 << 24, 4, 1<<24 | 32} // name "int", INT, size 4, signed 32 bits
	raw := binary.LittleEndian.AppendUint16(nil, 0xeb9f)
	raw = append(raw, 1, 0) // version, flags
	for _, v := range []uint32{24, 0, 16, 16, uint32(len(strs))} {
		raw = binary.LittleEndian.AppendUint32(raw, v) // hdr_len, type_off/len, str_off/len
	}
	for _, w := range types {
		raw = binary.LittleEndian.AppendUint32(raw, w)
	}
	raw = append(raw, strs...)

	buf := make(log.Buffer, 512)
	lg, _ := log.New(log.Level1, 1, uint32(len(buf)), buf)
	spec, err := btf.Load(raw, lg)
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := spec.TypeByID(1)
	_, size, _ := spec.ResolveSize(1)
	fmt.Println(t.Kind(), t.Name(), size)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	fmt.Println(lines[len(lines)-1]) // the header fields come first
	// Output:
	// INT int 4
	// [1] INT int size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
}
