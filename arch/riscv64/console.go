//go:build tamago && riscv64

package riscv64

import "github.com/usbarmory/tamago/soc/sifive/fu540"

// ConsoleWrite writes b to the console (UART0, also the runtime's output).
func ConsoleWrite(b []byte) {
	for _, c := range b {
		fu540.UART0.Tx(c)
	}
}

// ConsoleReadByte returns the next byte received on the console, or false
// when none is waiting. It does not block.
func ConsoleReadByte() (byte, bool) {
	return fu540.UART0.Rx()
}
