// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && amd64

// Command microvm is the Hachi kernel for QEMU microvm (x86-64): it prints
// the banner, checks the machine and powers off.
package main

import (
	"fmt"
	"runtime"

	"hachi/arch/amd64"
	"hachi/boot/selfcheck"
)

func main() {
	selfcheck.Run(selfcheck.Machine{
		Arch:     "amd64",
		NumCPU:   amd64.NumCPU,
		CPUID:    amd64.CPUID,
		Poweroff: amd64.Poweroff,
		Exit:     amd64.Exit,
		RAM:      runtime.MemRegion,
		Info: func() []string {
			return []string{
				fmt.Sprintf("clock: TSC %.3f MHz, calibrated against the PIT", float64(amd64.TSCFrequency())/1e6),
				"idle: " + amd64.IdleMode(),
			}
		},
	})
}
