// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package runtime

import (
	"runtime/goos"
	"unsafe"
)

// bootStackSize is the part of RAM below the boot stack pointer kept for g0's
// stack (see rt0_tamago_*.s): the heap must not grow into it.
const bootStackSize = 64 << 10

// heapLimit is the first address the heap may not use: the heap grows up from
// the end of the program (mem_sbrk.go) towards the boot stack at the top of
// the RAM given to the runtime.
func heapLimit() uintptr {
	return uintptr(goos.RamStart+goos.RamSize-goos.RamStackOffset) - bootStackSize
}

// sbrk extends the heap by n bytes. The memory is cleared: RAM is not known
// to be zero after a reset.
func sbrk(n uintptr) unsafe.Pointer {
	bl := bloc
	n = memRound(n)
	if bl+n < bl || bl+n > heapLimit() {
		return nil
	}
	if bl+n > blocMax {
		memclrNoHeapPointers(unsafe.Pointer(blocMax), bl+n-blocMax)
		blocMax = bl + n
	}
	bloc += n
	return unsafe.Pointer(bl)
}
