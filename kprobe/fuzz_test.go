//go:build !tamago

package kprobe

import (
	"testing"
	"unsafe"
)

// FuzzRISCVDecode: any bytes decode or are refused without a panic, and
// emulation of what decodes never panics.
func FuzzRISCVDecode(f *testing.F) {
	for _, seed := range [][]byte{{0x97, 0x35, 0x0d, 0x00}, {0x67, 0x80, 0x00, 0x00}, {0x82, 0x80}, {0x63, 0x68, 0x23, 0x00}, {0x02, 0x90}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		in, err := RISCV64.decode(code, 0x80020000)
		if err != nil || RISCV64.check(&in) != nil {
			return
		}
		var frame [36]uint64
		if in.act != actSlot {
			RISCV64.emulate(&in, unsafe.Pointer(&frame))
		}
	})
}

// FuzzSymtab: a function table of any bytes is refused or read without a
// panic.
func FuzzSymtab(f *testing.F) {
	hdr := make([]byte, pcHeaderSize+64)
	copy(hdr, []byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8, 1})
	f.Add(hdr)
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := NewSymtab(b, 0x1000)
		if err != nil {
			return
		}
		for i := 0; i < st.Len() && i < 64; i++ {
			s := st.Symbol(i)
			st.LookupAddr(s.Addr)
			st.Lookup(s.Name)
		}
	})
}
