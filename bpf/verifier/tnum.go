package verifier

import (
	"fmt"
	"math/bits"
)

// tnum is a tristate number: the bits set in mask are unknown, the others
// are known and equal to the same bits of value (value&mask is always 0).
// It is the known-bits half of a scalar's abstract value, like Linux's
// struct tnum (kernel/bpf/tnum.c). Every operation over-approximates: the
// concrete result of an operation on any members of the operands is a
// member of the result.
type tnum struct {
	value, mask uint64
}

var tnumUnknown = tnum{0, ^uint64(0)}

func tnumConst(v uint64) tnum { return tnum{v, 0} }

// tnumRange is the smallest tnum holding every value of [lo, hi] (unsigned).
func tnumRange(lo, hi uint64) tnum {
	differ := lo ^ hi
	n := bits.Len64(differ)
	if n > 63 {
		return tnumUnknown
	}
	low := uint64(1)<<n - 1
	return tnum{lo &^ low, low}
}

func (a tnum) isConst() bool   { return a.mask == 0 }
func (a tnum) isUnknown() bool { return a.mask == ^uint64(0) }

// umin and umax are the smallest and largest members, unsigned.
func (a tnum) umin() uint64 { return a.value }
func (a tnum) umax() uint64 { return a.value | a.mask }

// smin and smax are the smallest and largest members, signed: the sign bit
// set if it may be for the minimum, clear if it may be for the maximum.
func (a tnum) smin() int64 { return int64(a.value | a.mask&(1<<63)) }
func (a tnum) smax() int64 { return int64(a.value | a.mask&^(1<<63)) }

func (a tnum) add(b tnum) tnum {
	masks := a.mask + b.mask
	values := a.value + b.value
	carries := (masks + values) ^ values
	unknown := carries | a.mask | b.mask
	return tnum{values &^ unknown, unknown}
}

func (a tnum) sub(b tnum) tnum {
	diff := a.value - b.value
	borrows := (diff + a.mask) ^ (diff - b.mask)
	unknown := borrows | a.mask | b.mask
	return tnum{diff &^ unknown, unknown}
}

func (a tnum) and(b tnum) tnum {
	maybeA := a.value | a.mask
	maybeB := b.value | b.mask
	v := a.value & b.value
	return tnum{v, maybeA & maybeB &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.value | b.value
	return tnum{v, (a.mask | b.mask) &^ v}
}

func (a tnum) xor(b tnum) tnum {
	unknown := a.mask | b.mask
	return tnum{(a.value ^ b.value) &^ unknown, unknown}
}

// mul multiplies by long multiplication: the known part of the product is
// exact, and each bit of a that is unknown (or set while b has unknown bits)
// adds a partial product whose bits are all unknown.
func (a tnum) mul(b tnum) tnum {
	exact := a.value * b.value
	uncertain := tnumConst(0)
	for a.value != 0 || a.mask != 0 {
		switch {
		case a.mask&1 != 0:
			uncertain = uncertain.add(tnum{0, b.value | b.mask})
		case a.value&1 != 0:
			uncertain = uncertain.add(tnum{0, b.mask})
		}
		a = a.rshift(1)
		b = b.lshift(1)
	}
	return tnumConst(exact).add(uncertain)
}

func (a tnum) lshift(n uint) tnum { return tnum{a.value << n, a.mask << n} }
func (a tnum) rshift(n uint) tnum { return tnum{a.value >> n, a.mask >> n} }

// arshift shifts right arithmetically.
func (a tnum) arshift(n uint) tnum {
	return tnum{uint64(int64(a.value) >> n), uint64(int64(a.mask) >> n)}
}

// intersect is the tnum of the values that are members of both.
func (a tnum) intersect(b tnum) tnum {
	v := a.value | b.value
	unknown := a.mask & b.mask
	return tnum{v &^ unknown, unknown}
}

// contains reports whether every member of b is a member of a (tnum_in).
func (a tnum) contains(b tnum) bool {
	if b.mask&^a.mask != 0 {
		return false
	}
	return a.value == b.value&^a.mask
}

// cast keeps the low size bytes (zero-extending).
func (a tnum) cast(size int) tnum {
	if size >= 8 {
		return a
	}
	keep := uint64(1)<<(8*size) - 1
	return tnum{a.value & keep, a.mask & keep}
}

// subreg is the low 32 bits; clearSubreg the high 32 bits alone.
func (a tnum) subreg() tnum      { return a.cast(4) }
func (a tnum) clearSubreg() tnum { return tnum{a.value &^ 0xffffffff, a.mask &^ 0xffffffff} }

// withSubreg replaces the low 32 bits of a by those of low.
func (a tnum) withSubreg(low tnum) tnum { return a.clearSubreg().or(low.subreg()) }

// isAligned reports whether every member is a multiple of size (a power of two).
func (a tnum) isAligned(size uint64) bool {
	if size == 0 {
		return true
	}
	return (a.value|a.mask)&(size-1) == 0
}

func (a tnum) String() string { return fmt.Sprintf("(%#x; %#x)", a.value, a.mask) }
