//go:build tamago && amd64

package amd64

import tamago "github.com/usbarmory/tamago/amd64"

// debugExitPort is QEMU's isa-debug-exit device at its default iobase: a
// write of v makes QEMU exit with status v<<1|1.
const debugExitPort = 0x501

// Exit stops the machine. Code 0 powers off through a triple fault, which
// QEMU run with -no-reboot turns into exit status 0; any other code is
// written to isa-debug-exit, so QEMU exits with status (code&0xff)<<1|1
// (a code whose low byte is 0 is sent as 1). Without that device a failure
// halts the CPU rather than powering off, so that it never reads as a
// success. It is the runtime's goos.Exit: a Go panic ends here with code 2
// (QEMU status 5).
func Exit(code int32) {
	if code == 0 {
		tamago.Fault()
	}
	v := uint8(code)
	if v == 0 {
		v = 1
	}
	outb(debugExitPort, v)
	for {
		haltForever()
	}
}

// Poweroff stops the machine cleanly (QEMU exit status 0, with -no-reboot).
func Poweroff() {
	Exit(0)
}
