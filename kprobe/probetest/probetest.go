// Package probetest holds functions that kprobe's tests probe: the
// machine code the Go compiler makes of them (calls, branches,
// RIP-relative or AUIPC-relative data references, returns) is what the
// tests decode, relocate and emulate. Package kprobe itself may not be
// probed.
package probetest

// Global is data the functions reach PC-relatively.
var Global = 7

// Target returns a*b+7.
//
//go:noinline
func Target(a, b int) int { return a*b + 7 }

// AddressOfGlobal returns &Global: a PC-relative address computation.
//
//go:noinline
func AddressOfGlobal() *int { return &Global }

// Caller calls Target.
//
//go:noinline
func Caller(x int) int { return Target(x, 3) + 1 }

// Branch has a conditional branch.
//
//go:noinline
func Branch(x int) int {
	if x > 10 {
		return 1
	}
	return 2
}

// Sum4 adds its four arguments with weights, so that each argument is
// told apart: a + 2b + 3c + 4d.
//
//go:noinline
func Sum4(a, b, c, d int) int { return a + 2*b + 3*c + 4*d }
