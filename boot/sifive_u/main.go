// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && riscv64

// Command sifive_u is the Hachi kernel for QEMU sifive_u (RISC-V 64): it
// prints the banner, checks the machine and powers off.
package main

import (
	"runtime"

	"hachi/arch/riscv64"
	"hachi/boot/selfcheck"
)

func main() {
	selfcheck.Run(selfcheck.Machine{
		Arch:     "riscv64",
		NumCPU:   riscv64.NumCPU,
		CPUID:    riscv64.CPUID,
		Poweroff: riscv64.Poweroff,
		Exit:     riscv64.Exit,
		RAM:      runtime.MemRegion,
	})
}
