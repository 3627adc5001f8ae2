package verifier

import (
	"math"
	"math/bits"
)

// bounds is the numeric abstraction of a 64-bit value: known bits (varOff)
// and signed and unsigned ranges of the whole value and of its low 32 bits,
// like the scalar part of Linux's struct bpf_reg_state. For a pointer it is
// the variable part of the offset. The five views constrain each other;
// sync (Linux's reg_bounds_sync) makes each as tight as the others allow.
type bounds struct {
	varOff         tnum
	smin, smax     int64
	umin, umax     uint64
	s32min, s32max int32
	u32min, u32max uint32
}

func unknownBounds() bounds {
	return bounds{varOff: tnumUnknown, smin: math.MinInt64, smax: math.MaxInt64, umax: math.MaxUint64,
		s32min: math.MinInt32, s32max: math.MaxInt32, u32max: math.MaxUint32}
}

func constBounds(v uint64) bounds {
	return bounds{varOff: tnumConst(v), smin: int64(v), smax: int64(v), umin: v, umax: v,
		s32min: int32(uint32(v)), s32max: int32(uint32(v)), u32min: uint32(v), u32max: uint32(v)}
}

// rangeBounds is every value of [lo, hi] (unsigned).
func rangeBounds(lo, hi uint64) bounds {
	b := unknownBounds()
	b.umin, b.umax = lo, hi
	b.sync()
	return b
}

func (b *bounds) isConst() bool { return b.varOff.isConst() }

// constValue is the value of a constant.
func (b *bounds) constValue() uint64 { return b.varOff.value }

// isUnknown reports whether nothing is known.
func (b *bounds) isUnknown() bool { return *b == unknownBounds() }

// empty reports whether no value satisfies every view: the state that
// holds it cannot happen (a branch that cannot be taken).
func (b *bounds) empty() bool {
	return b.smin > b.smax || b.umin > b.umax || b.s32min > b.s32max || b.u32min > b.u32max ||
		b.varOff.value&b.varOff.mask != 0
}

// contains reports whether every value of c is a value of b (Linux's
// range_within plus tnum_in).
func (b *bounds) contains(c *bounds) bool {
	return b.smin <= c.smin && c.smax <= b.smax && b.umin <= c.umin && c.umax <= b.umax &&
		b.s32min <= c.s32min && c.s32max <= b.s32max && b.u32min <= c.u32min && c.u32max <= b.u32max &&
		b.varOff.contains(c.varOff)
}

// intersectWith narrows b to the values c allows too; false when no value
// is left (then b is unchanged).
func (b *bounds) intersectWith(c *bounds) bool {
	r := bounds{varOff: b.varOff.intersect(c.varOff),
		smin: max(b.smin, c.smin), smax: min(b.smax, c.smax), umin: max(b.umin, c.umin), umax: min(b.umax, c.umax),
		s32min: max(b.s32min, c.s32min), s32max: min(b.s32max, c.s32max),
		u32min: max(b.u32min, c.u32min), u32max: min(b.u32max, c.u32max)}
	if (b.varOff.value^c.varOff.value)&^(b.varOff.mask|c.varOff.mask) != 0 {
		return false
	}
	r.sync()
	if r.empty() {
		return false
	}
	*b = r
	return true
}

// fromVarOff narrows the ranges to what the known bits allow
// (__update_reg_bounds).
func (b *bounds) fromVarOff() {
	low := b.varOff.subreg()
	b.s32min = max(b.s32min, int32(uint32(low.value|low.mask&(1<<31))))
	b.s32max = min(b.s32max, int32(uint32(low.value|low.mask&^(1<<31))))
	b.u32min = max(b.u32min, uint32(low.value))
	b.u32max = min(b.u32max, uint32(low.value|low.mask))
	b.smin = max(b.smin, b.varOff.smin())
	b.smax = min(b.smax, b.varOff.smax())
	b.umin = max(b.umin, b.varOff.umin())
	b.umax = min(b.umax, b.varOff.umax())
}

// deduce32 narrows the 32-bit ranges from each other and from the 64-bit
// ones (__reg32_deduce_bounds).
func (b *bounds) deduce32() {
	// Where the 64-bit range stays within one 2^32 block, its low halves
	// form a range too.
	if b.umin>>32 == b.umax>>32 {
		b.u32min = max(b.u32min, uint32(b.umin))
		b.u32max = min(b.u32max, uint32(b.umax))
		if int32(uint32(b.umin)) <= int32(uint32(b.umax)) {
			b.s32min = max(b.s32min, int32(uint32(b.umin)))
			b.s32max = min(b.s32max, int32(uint32(b.umax)))
		}
	}
	if b.smin>>32 == b.smax>>32 {
		if uint32(b.smin) <= uint32(b.smax) {
			b.u32min = max(b.u32min, uint32(b.smin))
			b.u32max = min(b.u32max, uint32(b.smax))
		}
		if int32(b.smin) <= int32(b.smax) {
			b.s32min = max(b.s32min, int32(b.smin))
			b.s32max = min(b.s32max, int32(b.smax))
		}
	}
	// A range that does not cross the sign boundary reads the same both ways.
	if int32(b.u32min) <= int32(b.u32max) {
		b.s32min = max(b.s32min, int32(b.u32min))
		b.s32max = min(b.s32max, int32(b.u32max))
	}
	if uint32(b.s32min) <= uint32(b.s32max) {
		b.u32min = max(b.u32min, uint32(b.s32min))
		b.u32max = min(b.u32max, uint32(b.s32max))
	}
}

// deduce64 narrows the 64-bit ranges from each other and from the 32-bit
// ones (__reg64_deduce_bounds, __reg_deduce_mixed_bounds).
func (b *bounds) deduce64() {
	if int64(b.umin) <= int64(b.umax) {
		b.smin = max(b.smin, int64(b.umin))
		b.smax = min(b.smax, int64(b.umax))
	}
	if uint64(b.smin) <= uint64(b.smax) {
		b.umin = max(b.umin, uint64(b.smin))
		b.umax = min(b.umax, uint64(b.smax))
	}
	// The low 32 bits of the value lie in [u32min, u32max]: move umin up to
	// the first value whose low half does, and umax down to the last.
	const block = uint64(1) << 32
	if lo := uint32(b.umin); lo < b.u32min {
		b.umin = b.umin&^(block-1) | uint64(b.u32min)
	} else if lo > b.u32max {
		if next := (b.umin | (block - 1)) + 1; next != 0 {
			b.umin = next | uint64(b.u32min)
		} else {
			b.umin = math.MaxUint64 // nothing fits: the bounds are empty
			b.umax = 0
			return
		}
	}
	if hi := uint32(b.umax); hi > b.u32max {
		b.umax = b.umax&^(block-1) | uint64(b.u32max)
	} else if hi < b.u32min {
		if b.umax >= block {
			b.umax = (b.umax&^(block-1)-1)&^(block-1) | uint64(b.u32max)
		} else {
			b.umin = math.MaxUint64
			b.umax = 0
			return
		}
	}
	if int64(b.umin) <= int64(b.umax) {
		b.smin = max(b.smin, int64(b.umin))
		b.smax = min(b.smax, int64(b.umax))
	}
}

// toVarOff narrows the known bits to what the ranges allow (__reg_bound_offset).
func (b *bounds) toVarOff() {
	if b.umin > b.umax || b.u32min > b.u32max {
		return
	}
	whole := b.varOff.intersect(tnumRange(b.umin, b.umax))
	low := whole.subreg().intersect(tnumRange(uint64(b.u32min), uint64(b.u32max)))
	b.varOff = whole.withSubreg(low)
}

// sync makes every view as tight as the others allow (reg_bounds_sync).
func (b *bounds) sync() {
	b.fromVarOff()
	b.deduce32()
	b.deduce64()
	b.deduce32()
	b.toVarOff()
	b.fromVarOff()
}

// zext32 is b's low 32 bits, zero-extended: the result of a 32-bit operation.
func (b bounds) zext32() bounds {
	r := bounds{varOff: b.varOff.subreg(), s32min: b.s32min, s32max: b.s32max, u32min: b.u32min, u32max: b.u32max}
	r.umin, r.umax = uint64(b.u32min), uint64(b.u32max)
	r.smin, r.smax = int64(b.u32min), int64(b.u32max)
	r.sync()
	return r
}

// sext32 is b's low 32 bits, sign-extended.
func (b bounds) sext32() bounds {
	r := unknownBounds()
	r.s32min, r.s32max, r.u32min, r.u32max = b.s32min, b.s32max, b.u32min, b.u32max
	r.smin, r.smax = int64(b.s32min), int64(b.s32max)
	low := b.varOff.subreg()
	if low.mask&(1<<31) == 0 {
		high := uint64(0)
		if low.value&(1<<31) != 0 {
			high = 0xffffffff00000000
		}
		r.varOff = tnum{low.value | high, low.mask}
	} else {
		r.varOff = tnum{low.value, low.mask | 0xffffffff00000000}
	}
	r.sync()
	return r
}

// low32 is the zero-extended low half of a 64-bit result r: what a 32-bit
// operation leaves in the register.
func (r bounds) low32() bounds {
	z := unknownBounds()
	z.varOff = r.varOff.subreg()
	if r.umin>>32 == r.umax>>32 {
		z.u32min, z.u32max = uint32(r.umin), uint32(r.umax)
	}
	if r.smin>>32 == r.smax>>32 && int32(r.smin) <= int32(r.smax) {
		z.s32min, z.s32max = int32(r.smin), int32(r.smax)
	}
	z.u32min, z.u32max = max(z.u32min, r.u32min), min(z.u32max, r.u32max)
	z.s32min, z.s32max = max(z.s32min, r.s32min), min(z.s32max, r.s32max)
	z.sync()
	return z.zext32()
}

// signedAdd and friends report overflow of int64 arithmetic.
func signedAdd(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

func signedSub(a, b int64) (int64, bool) {
	s := a - b
	return s, (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0)
}

func signedMul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	p := a * b
	return p, p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64)
}

// The 64-bit transfer functions compute the known bits and the 64-bit
// ranges of a result; its 32-bit ranges are left unknown for sync to derive.

// addBounds is a + b, wrapping: an unsigned range survives if both its ends
// wrap (or neither), since its span then stays below 2^64.
func addBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.add(b.varOff)
	lo, c1 := bits.Add64(a.umin, b.umin, 0)
	hi, c2 := bits.Add64(a.umax, b.umax, 0)
	if c1 == c2 {
		r.umin, r.umax = lo, hi
	}
	slo, o1 := signedAdd(a.smin, b.smin)
	shi, o2 := signedAdd(a.smax, b.smax)
	if !o1 && !o2 {
		r.smin, r.smax = slo, shi
	}
	return r
}

func subBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.sub(b.varOff)
	lo, c1 := bits.Sub64(a.umin, b.umax, 0)
	hi, c2 := bits.Sub64(a.umax, b.umin, 0)
	if c1 == c2 {
		r.umin, r.umax = lo, hi
	}
	slo, o1 := signedSub(a.smin, b.smax)
	shi, o2 := signedSub(a.smax, b.smin)
	if !o1 && !o2 {
		r.smin, r.smax = slo, shi
	}
	return r
}

func mulBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.mul(b.varOff)
	if hi, lo := bits.Mul64(a.umax, b.umax); hi == 0 {
		r.umin, r.umax = a.umin*b.umin, lo
	}
	p1, o1 := signedMul(a.smin, b.smin)
	p2, o2 := signedMul(a.smin, b.smax)
	p3, o3 := signedMul(a.smax, b.smin)
	p4, o4 := signedMul(a.smax, b.smax)
	if !o1 && !o2 && !o3 && !o4 {
		r.smin = min(p1, p2, p3, p4)
		r.smax = max(p1, p2, p3, p4)
	}
	return r
}

func andBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.and(b.varOff)
	r.umin = r.varOff.value
	r.umax = min(a.umax, b.umax)
	if a.smin >= 0 || b.smin >= 0 {
		// AND with a non-negative value is non-negative and no larger.
		r.smin = 0
		if a.smin >= 0 {
			r.smax = min(r.smax, a.smax)
		}
		if b.smin >= 0 {
			r.smax = min(r.smax, b.smax)
		}
	}
	return r
}

func orBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.or(b.varOff)
	r.umin = max(a.umin, b.umin)
	r.umax = r.varOff.umax()
	if a.smin >= 0 && b.smin >= 0 {
		r.smin = int64(r.umin)
		r.smax = int64(r.umax)
	}
	return r
}

func xorBounds(a, b *bounds) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.xor(b.varOff)
	r.umin = r.varOff.value
	r.umax = r.varOff.umax()
	if a.smin >= 0 && b.smin >= 0 {
		r.smin = int64(r.umin)
		r.smax = int64(r.umax)
	}
	return r
}

// lshBounds shifts left by a known amount n < 64.
func lshBounds(a *bounds, n uint) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.lshift(n)
	if a.umax <= math.MaxUint64>>n {
		r.umin, r.umax = a.umin<<n, a.umax<<n
	}
	return r
}

// rshBounds shifts right logically by a known amount n < 64.
func rshBounds(a *bounds, n uint) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.rshift(n)
	r.umin, r.umax = a.umin>>n, a.umax>>n
	return r
}

// arshBounds shifts right arithmetically by a known amount n < 64.
func arshBounds(a *bounds, n uint) bounds {
	r := unknownBounds()
	r.varOff = a.varOff.arshift(n)
	r.smin, r.smax = a.smin>>n, a.smax>>n
	return r
}
