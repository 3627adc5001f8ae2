package vm

import (
	"fmt"
	"math/bits"

	"hachi/bpf/isa"
)

// The arithmetic that needs more than one Go operator, with Linux's
// results for the corner cases (kernel/bpf/core.c, ALU_DIV_X et al.): x/0 is
// 0, x%0 is x; Go itself defines MinInt/-1 as MinInt and MinInt%-1 as 0,
// which is what Linux computes too.

func div32(a, b uint32) uint32 {
	if b == 0 {
		return 0
	}
	return a / b
}

func div64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func sdiv32(a, b int32) int32 {
	if b == 0 {
		return 0
	}
	return a / b
}

func sdiv64(a, b int64) int64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mod32(a, b uint32) uint32 {
	if b == 0 {
		return a
	}
	return a % b
}

func mod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func smod32(a, b int32) int32 {
	if b == 0 {
		return a
	}
	return a % b
}

func smod64(a, b int64) int64 {
	if b == 0 {
		return a
	}
	return a % b
}

// uninit is the checked mode's fault for reading registers that hold no
// value, named like the verifier's message.
func uninit(missing isa.RegSet) error {
	return fmt.Errorf("%w: R%d !read_ok", ErrUninit, bits.TrailingZeros16(uint16(missing)))
}
