package verifier

import (
	"math"
	"math/rand"
	"testing"

	"hachi/bpf/isa"
)

// Soundness of the abstract arithmetic: for random abstract values and
// random concrete members of them, the concrete result of every ALU
// operation is a member of the abstract result, every branch refinement
// keeps every pair that satisfies the condition, and branchTaken never
// claims an outcome some members contradict.

// randBounds makes an abstract value: a range, known bits, or a constant,
// with its views synced.
func randBounds(r *rand.Rand) bounds {
	interesting := []uint64{0, 1, 2, 7, 8, 15, 16, 63, 64, 255, 256, 0x7fff, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000, math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	pick := func() uint64 {
		if r.Intn(3) == 0 {
			return r.Uint64() >> uint(r.Intn(64))
		}
		v := interesting[r.Intn(len(interesting))]
		if r.Intn(4) == 0 {
			v = -v
		}
		return v
	}
	switch r.Intn(5) {
	case 0:
		return constBounds(pick())
	case 1:
		lo, hi := pick(), pick()
		if lo > hi {
			lo, hi = hi, lo
		}
		return rangeBounds(lo, hi)
	case 2:
		b := unknownBounds()
		mask := r.Uint64() >> uint(r.Intn(64))
		b.varOff = tnum{pick() &^ mask, mask}
		b.sync()
		return b
	case 3:
		b := unknownBounds()
		lo, hi := int64(pick()), int64(pick())
		if lo > hi {
			lo, hi = hi, lo
		}
		b.smin, b.smax = lo, hi
		b.sync()
		return b
	}
	return unknownBounds()
}

// member reports whether v satisfies every view of b.
func (b *bounds) member(v uint64) bool {
	return b.varOff.contains(tnumConst(v)) && b.umin <= v && v <= b.umax && b.smin <= int64(v) && int64(v) <= b.smax &&
		b.u32min <= uint32(v) && uint32(v) <= b.u32max && b.s32min <= int32(v) && int32(v) <= b.s32max
}

// sample returns members of b (none when b is empty).
func sample(r *rand.Rand, b *bounds, n int) []uint64 {
	var out []uint64
	candidates := []uint64{b.umin, b.umax, uint64(b.smin), uint64(b.smax), b.varOff.value, b.varOff.value | b.varOff.mask}
	for tries := 0; len(out) < n && tries < 64*n; tries++ {
		var v uint64
		if tries < len(candidates) {
			v = candidates[tries]
		} else {
			switch r.Intn(3) {
			case 0:
				v = b.varOff.value | r.Uint64()&b.varOff.mask
			case 1:
				v = b.umin + randBelow(r, b.umax-b.umin)
			default:
				v = uint64(b.smin) + randBelow(r, uint64(b.smax)-uint64(b.smin))
			}
		}
		if b.member(v) {
			out = append(out, v)
		}
	}
	return out
}

// randBelow is a random number in [0, n].
func randBelow(r *rand.Rand, n uint64) uint64 {
	if n == math.MaxUint64 {
		return r.Uint64()
	}
	return r.Uint64() % (n + 1)
}

// concrete is what the interpreter computes (kernel/bpf/core.c).
func concrete(alu isa.ALUOp, signed bool, x, y uint64, is32 bool) uint64 {
	if v, ok := constALU(alu, signed, x, y, is32); ok {
		return v
	}
	b := signedDivMod(alu, constBounds(x), constBounds(y), map[bool]int{true: 32, false: 64}[is32])
	if is32 {
		return uint64(uint32(b.constValue()))
	}
	return b.constValue()
}

func TestALUSoundness(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ops := []isa.ALUOp{isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUDiv, isa.ALUOr, isa.ALUAnd, isa.ALULsh,
		isa.ALURsh, isa.ALUMod, isa.ALUXor, isa.ALUArsh}
	checked := 0
	defer func() {
		if checked < 100000 {
			t.Errorf("only %d concrete pairs checked", checked)
		}
	}()
	for i := 0; i < 40000; i++ {
		a, b := randBounds(r), randBounds(r)
		alu := ops[r.Intn(len(ops))]
		is32 := r.Intn(2) == 0
		signed := (alu == isa.ALUDiv || alu == isa.ALUMod) && r.Intn(3) == 0
		if alu == isa.ALULsh || alu == isa.ALURsh || alu == isa.ALUArsh {
			if r.Intn(2) == 0 {
				b = constBounds(uint64(r.Intn(64)))
			}
		}
		res := scalarALU(alu, signed, a, b, is32)
		for _, x := range sample(r, &a, 4) {
			for _, y := range sample(r, &b, 4) {
				v := concrete(alu, signed, x, y, is32)
				checked++
				if !res.member(v) {
					t.Fatalf("%v (32: %v, signed: %v): %#x op %#x = %#x is not in %+v\na=%+v\nb=%+v",
						alu, is32, signed, x, y, v, res, a, b)
				}
			}
		}
	}
}

func TestUnarySoundness(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	ops := []isa.Op{isa.OpNeg64, isa.OpNeg32, isa.OpLE16, isa.OpLE32, isa.OpLE64, isa.OpBE16, isa.OpBE32, isa.OpBE64,
		isa.OpBswap16, isa.OpBswap32, isa.OpBswap64}
	concreteUnary := func(op isa.Op, x uint64) uint64 {
		switch op {
		case isa.OpNeg64:
			return -x
		case isa.OpNeg32:
			return uint64(-uint32(x))
		case isa.OpLE16:
			return x & 0xffff
		case isa.OpLE32:
			return x & 0xffffffff
		case isa.OpLE64:
			return x
		case isa.OpBE16, isa.OpBswap16:
			return uint64(uint16(x)>>8 | uint16(x)<<8)
		case isa.OpBE32, isa.OpBswap32:
			v := uint32(x)
			return uint64(v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24)
		}
		var v uint64
		for i := 0; i < 8; i++ {
			v = v<<8 | x>>(8*i)&0xff
		}
		return v
	}
	for i := 0; i < 20000; i++ {
		a := randBounds(r)
		op := ops[r.Intn(len(ops))]
		res := unaryBounds(op, a)
		for _, x := range sample(r, &a, 8) {
			if v := concreteUnary(op, x); !res.member(v) {
				t.Fatalf("%v %#x = %#x is not in %+v (a=%+v)", op, x, v, res, a)
			}
		}
	}
	for i := 0; i < 20000; i++ {
		a := randBounds(r)
		n := []uint{8, 16, 32}[r.Intn(3)]
		res := signExtend(a, n)
		for _, x := range sample(r, &a, 8) {
			v := uint64(int64(x<<(64-n)) >> (64 - n))
			if !res.member(v) {
				t.Fatalf("movsx%d %#x = %#x is not in %+v (a=%+v)", n, x, v, res, a)
			}
		}
	}
}

func holds(jop isa.JumpOp, x, y uint64, is32 bool) bool {
	if is32 {
		x, y = uint64(uint32(x)), uint64(uint32(y))
		switch jop {
		case isa.JumpSGT:
			return int32(x) > int32(y)
		case isa.JumpSGE:
			return int32(x) >= int32(y)
		case isa.JumpSLT:
			return int32(x) < int32(y)
		case isa.JumpSLE:
			return int32(x) <= int32(y)
		}
	}
	switch jop {
	case isa.JumpEq:
		return x == y
	case isa.JumpNE:
		return x != y
	case isa.JumpGT:
		return x > y
	case isa.JumpGE:
		return x >= y
	case isa.JumpLT:
		return x < y
	case isa.JumpLE:
		return x <= y
	case isa.JumpSGT:
		return int64(x) > int64(y)
	case isa.JumpSGE:
		return int64(x) >= int64(y)
	case isa.JumpSLT:
		return int64(x) < int64(y)
	case isa.JumpSLE:
		return int64(x) <= int64(y)
	case isa.JumpSet:
		return x&y != 0
	}
	panic("jump")
}

func TestBranchSoundness(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	jops := []isa.JumpOp{isa.JumpEq, isa.JumpNE, isa.JumpGT, isa.JumpGE, isa.JumpLT, isa.JumpLE, isa.JumpSGT,
		isa.JumpSGE, isa.JumpSLT, isa.JumpSLE, isa.JumpSet}
	checked := 0
	defer func() {
		if checked < 100000 {
			t.Errorf("only %d concrete pairs checked", checked)
		}
	}()
	for i := 0; i < 40000; i++ {
		a, b := randBounds(r), randBounds(r)
		if r.Intn(3) == 0 {
			b = constBounds(r.Uint64() >> uint(r.Intn(64)))
		}
		jop := jops[r.Intn(len(jops))]
		is32 := r.Intn(2) == 0
		ra, rb := scalarReg(a), scalarReg(b)
		taken := branchTaken(&ra, &rb, jop, is32)
		for _, outcome := range []bool{true, false} {
			// Refine copies of a and b as refineBranch does.
			va, vb := viewOf(&a, is32), viewOf(&b, is32)
			var ok bool
			if jop == isa.JumpSet {
				ok = refineSet(&va, &vb, outcome)
			} else {
				op := jop
				if !outcome {
					op = negate(op)
				}
				ok = refine(&va, &vb, op)
			}
			na, nb := a, b
			if ok {
				va.store(&na)
				vb.store(&nb)
			}
			for _, x := range sample(r, &a, 6) {
				for _, y := range sample(r, &b, 6) {
					if holds(jop, x, y, is32) != outcome {
						continue
					}
					checked++
					if taken == boolInt(!outcome) {
						t.Fatalf("branchTaken says %d for %v (32: %v) but %#x, %#x gives %v\na=%+v\nb=%+v", taken, jop, is32, x, y, outcome, a, b)
					}
					if !ok || !na.member(x) || (jop != isa.JumpSet && !nb.member(y)) {
						t.Fatalf("%v (32: %v) outcome %v: %#x, %#x lost by refinement (ok %v)\na=%+v -> %+v\nb=%+v -> %+v",
							jop, is32, outcome, x, y, ok, a, na, b, nb)
					}
				}
			}
		}
	}
}

func TestTnum(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	randTnum := func() tnum {
		mask := r.Uint64() >> uint(r.Intn(65)%64)
		return tnum{r.Uint64() &^ mask, mask}
	}
	member := func(a tnum) uint64 { return a.value | r.Uint64()&a.mask }
	for i := 0; i < 100000; i++ {
		a, b := randTnum(), randTnum()
		x, y := member(a), member(b)
		n := uint(r.Intn(64))
		for _, c := range []struct {
			name string
			got  tnum
			want uint64
		}{
			{"add", a.add(b), x + y}, {"sub", a.sub(b), x - y}, {"mul", a.mul(b), x * y},
			{"and", a.and(b), x & y}, {"or", a.or(b), x | y}, {"xor", a.xor(b), x ^ y},
			{"lsh", a.lshift(n), x << n}, {"rsh", a.rshift(n), x >> n}, {"arsh", a.arshift(n), uint64(int64(x) >> n)},
		} {
			if !c.got.contains(tnumConst(c.want)) {
				t.Fatalf("%s: %#x, %#x -> %#x not in %v (a=%v b=%v)", c.name, x, y, c.want, c.got, a, b)
			}
		}
		if in := a.intersect(b); a.contains(tnumConst(x)) && b.contains(tnumConst(x)) && !in.contains(tnumConst(x)) {
			t.Fatalf("intersect lost %#x", x)
		}
		lo, hi := r.Uint64()>>uint(r.Intn(64)), r.Uint64()>>uint(r.Intn(64))
		if lo > hi {
			lo, hi = hi, lo
		}
		rg := tnumRange(lo, hi)
		for _, v := range []uint64{lo, hi, lo + (hi-lo)/2} {
			if !rg.contains(tnumConst(v)) {
				t.Fatalf("range [%#x, %#x] lost %#x: %v", lo, hi, v, rg)
			}
		}
	}
}
