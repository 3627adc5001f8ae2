//go:build tamago && amd64

package amd64

// ConsoleWrite writes b to the console (COM1, also the runtime's output).
func ConsoleWrite(b []byte) {
	for _, c := range b {
		serial.Tx(c)
	}
}

// ConsoleReadByte returns the next byte received on the console, or false
// when none is waiting. It does not block.
func ConsoleReadByte() (byte, bool) {
	return serial.Rx()
}
