//go:build race

package maps

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Stores into value and key slots, as the race detector sees them: with
// atomic stores, since programs and the syscall side read slots while
// others write them, as Linux's memcpy races with them too. Such races are
// part of the maps' contract, so the detector must not report them; the
// other build (store.go) uses plain stores, which the hardware does not
// tear within a word either.

// copyIn stores src into the slot at dst. The bytes of a partial last word
// past src keep their value, as Linux's memcpy of value_size bytes leaves
// a per-CPU value's padding. The slot holds at least round_up(len(src), 8)
// bytes.
func copyIn(dst unsafe.Pointer, src []byte) {
	off := uintptr(0)
	for len(src) >= 8 {
		atomic.StoreUint64(wordAt(dst, off), binary.LittleEndian.Uint64(src))
		src = src[8:]
		off += 8
	}
	if len(src) > 0 {
		w := wordAt(dst, off)
		keep := ^uint64(0) << (8 * len(src))
		atomic.StoreUint64(w, atomic.LoadUint64(w)&keep|loadTail(src))
	}
}

// zeroSlot clears size bytes (a multiple of 8) of the slot at p.
func zeroSlot(p unsafe.Pointer, size uintptr) {
	for off := uintptr(0); off < size; off += 8 {
		atomic.StoreUint64(wordAt(p, off), 0)
	}
}
