//go:build tamago && riscv64

package guest

import _ "hachi/arch/riscv64" // QEMU sifive_u: console, clock, exit through semihosting
