//go:build tamago && amd64

package guest

import _ "hachi/arch/amd64" // QEMU microvm: console, clock, CPUs, exit device
