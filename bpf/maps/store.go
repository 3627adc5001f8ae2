//go:build !race

package maps

import "unsafe"

// Stores into value and key slots: plain stores, ordered before the
// element's publication by the atomic store that publishes it (a chain
// link, a ring buffer header, a lock release). Readers may race with them,
// as with Linux's memcpy; store_race.go is the same with atomic stores for
// the race detector.

// copyIn stores src into the slot at dst. The bytes of a partial last word
// past src keep their value, as Linux's memcpy of value_size bytes leaves
// a per-CPU value's padding. The slot holds at least round_up(len(src), 8)
// bytes.
func copyIn(dst unsafe.Pointer, src []byte) {
	copy(unsafe.Slice((*byte)(dst), len(src)), src)
}

// zeroSlot clears size bytes (a multiple of 8) of the slot at p.
func zeroSlot(p unsafe.Pointer, size uintptr) {
	clear(unsafe.Slice((*byte)(p), size))
}
