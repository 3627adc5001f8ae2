//go:build tamago && riscv64

package riscv64

import "github.com/usbarmory/tamago/soc/sifive/fu540"

// Nanotime returns the nanoseconds since boot counted by the CLINT's mtime
// (the runtime's monotonic clock). It reads one register: safe in trap
// context.
func Nanotime() int64 {
	return fu540.CLINT.Nanotime()
}
