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

// Switch is a dense switch, which the compiler turns into a jump table
// (an indirect jump inside the function).
//
//go:noinline
func Switch(x int) int {
	switch x {
	case 0:
		return 10
	case 1:
		return 21
	case 2:
		return 32
	case 3:
		return 43
	case 4:
		return 54
	case 5:
		return 65
	case 6:
		return 76
	case 7:
		return 87
	case 8:
		return 98
	}
	return -1
}

// Loop sums i*i for i below n: a backward conditional branch.
//
//go:noinline
func Loop(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	return s
}

// Indirect calls f through a function value: an indirect call.
//
//go:noinline
func Indirect(f func(int) int, x int) int { return f(x) + 1 }

// Recurse calls itself depth times, then Target: Target runs deep in the
// goroutine's stack.
//
//go:noinline
func Recurse(depth, x int) int {
	if depth == 0 {
		return Target(x, x)
	}
	return Recurse(depth-1, x) + 1
}
