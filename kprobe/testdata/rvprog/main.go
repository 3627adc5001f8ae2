// Command rvprog links package probetest into a program that the kprobe
// tests cross-compile for linux/riscv64, to decode and emulate RISC-V
// code the Go compiler made.
package main

import (
	"fmt"

	"hachi/kprobe/probetest"
)

func main() {
	double := func(x int) int { return 2 * x }
	fmt.Println(probetest.Target(1, 2), probetest.Caller(3), probetest.Branch(4), *probetest.AddressOfGlobal(),
		probetest.Sum4(1, 2, 3, 4), probetest.Switch(5), probetest.Loop(6), probetest.Indirect(double, 7),
		probetest.Recurse(8, 9))
}
