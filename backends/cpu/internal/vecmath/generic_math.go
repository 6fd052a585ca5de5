package vecmath

import "math"

// The plain Go twins of the transcendental kernels: the same algorithm as
// the assembly, one element at a time, with fma32 where the assembly fuses
// a multiply-add and float32(a*b) where it must not (Go may fuse a*b + c),
// so that a twin and its assembly agree to the bit.

var nan32 = float32(math.NaN())

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func copysign32(x, s float32) float32 {
	return math.Float32frombits(math.Float32bits(x)&^(1<<31) | math.Float32bits(s)&(1<<31))
}

// poly is Σ c[i]·x^i by Horner's rule with fused steps.
func poly(x float32, c []float32) float32 {
	acc := c[len(c)-1]
	for i := len(c) - 2; i >= 0; i-- {
		acc = fma32(acc, x, c[i])
	}
	return acc
}

var (
	expQ  = []float32{expQ0, expQ1, expQ2, expQ3, expQ4}
	logP  = []float32{logP0, logP1, logP2, logP3, logP4, logP5, logP6, logP7}
	tanhP = []float32{tanhP0, tanhP1, tanhP2, tanhP3, tanhP4}
	erfP  = []float32{erfP0, erfP1, erfP2, erfP3, erfP4, erfP5, erfP6}
	erfcQ = []float32{erfcQ0, erfcQ1, erfcQ2, erfcQ3, erfcQ4, erfcQ5, erfcQ6}
	geluQ = []float32{geluQ0, geluQ1, geluQ2, geluQ3, geluQ4, geluQ5, geluQ6, geluQ7, geluQ8, geluQ9}
)

// expParts splits e^(x+lo) = p·s1·s2 for x in [expZero, expHi] and a small
// lo: p is e^r, s1 and s2 normal powers of two whose product may
// underflow or overflow.
func expParts(x, lo float32) (p, s1, s2 float32) {
	n := float32(math.RoundToEven(float64(x * expLog2e)))
	r := fma32(-n, expLn2Hi, x)
	r = fma32(-n, expLn2Lo, r)
	r += lo
	p = fma32(r*r, poly(r, expQ), r) + 1
	ni := int32(n)
	n1 := ni >> 1
	s1 = math.Float32frombits(uint32(n1+127) << 23)
	s2 = math.Float32frombits(uint32(ni-n1+127) << 23)
	return p, s1, s2
}

func exp1(x float32) float32 {
	if x != x {
		return x
	}
	if x < expZero {
		return 0
	}
	p, s1, s2 := expParts(min(x, expHi), 0)
	return p * s1 * s2
}

func log1(x float32) float32 {
	switch {
	case x != x || x < 0:
		return nan32
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	e := float32(0)
	if x < logMinNormal {
		x *= logSubScale
		e = -23
	}
	b := math.Float32bits(x) - logSqrtHalfBits
	e += float32(int32(b) >> 23)
	f := math.Float32frombits(b&0x7fffff+logSqrtHalfBits) - 1
	f2 := f * f
	y := fma32(f*f2, poly(f, logP), -0.5*f2)
	y = fma32(e, expLn2Lo, y)
	y += f
	return fma32(e, expLn2Hi, y)
}

func tanh1(x float32) float32 {
	if x != x {
		return x
	}
	a := abs32(x)
	var r float32
	if a < tanhSmall {
		a2 := a * a
		r = fma32(a*a2, poly(a2, tanhP), a)
	} else {
		p, s1, s2 := expParts(2*min(a, tanhBig), 0)
		r = 1 - 2/(1+float32(p*s1*s2))
	}
	return copysign32(r, x)
}

// sigmoidParts returns num, d, s2 with σ(x) = num/d·s2, where num/d keeps
// its precision when σ(x) is subnormal (x not NaN); e^-|x| is taken as 0
// below zero.
func sigmoidParts(x, zero float32) (num, d, s2 float32) {
	e1, s2 := float32(0), float32(1)
	if t := -abs32(x); t >= zero {
		p, s1, s := expParts(t, 0)
		e1, s2 = p*s1, s
	}
	d = fma32(e1, s2, 1)
	if x >= 0 {
		return 1, d, 1
	}
	return e1, d, s2
}

func sigmoid1(x float32) float32 {
	if x != x {
		return x
	}
	num, d, s2 := sigmoidParts(x, expZero)
	return num / d * s2
}

func silu1(x float32) float32 {
	if x != x {
		return x
	}
	num, d, s2 := sigmoidParts(x, siluZero)
	return num / d * max(x, siluZero) * s2
}

// tail returns c1, s2 with e^{-(q+qe)}·R = c1·s2: the tails of erf and
// gelu, given q + qe exactly.
func tail(R, q, qe float32) (c1, s2 float32) {
	p, s1, s2 := expParts(-q, -qe)
	return p * s1 * R, s2
}

// tailR returns R = t·Q(t), t = 1/(1+a/2). With refine it corrects R for
// the rounding of t to first order, by gelu's R'(a) = a·R - 1/√(2π).
func tailR(a float32, coeffs []float32, refine bool) float32 {
	h := tailP * a
	u := h + 1
	t := 1 / u
	R := t * poly(t, coeffs)
	if refine {
		ul := (max(h, 1) - u) + min(h, 1)   // u + ul = h + 1 exactly
		d := fma32(-ul, t, fma32(-t, u, 1)) // t·(1+d) ≈ 1/(h+1)
		R = fma32(-2*d*u, fma32(a, R, -invSqrt2Pi), R)
	}
	return R
}

func erfSmallPoly(z float32) float32 { return fma32(z, poly(z*z, erfP), z) }

func erf1(x float32) float32 {
	if x != x {
		return x
	}
	z := abs32(x)
	if z < erfSmall {
		return copysign32(erfSmallPoly(z), x)
	}
	z = min(z, erfBig)
	q := z * z
	c1, s2 := tail(tailR(z, erfcQ, false), q, fma32(z, z, -q))
	return copysign32(1-float32(c1*s2), x)
}

// gelu1 is x·Φ(x); where 1 + erf(x/√2) would cancel it uses Φ's tail.
func gelu1(x float32) float32 {
	if x != x {
		return x
	}
	a := abs32(x)
	if a < geluSmallPos && (x >= 0 || a < geluSmallNeg) {
		e := erfSmallPoly(a * sqrtHalf)
		if x < 0 {
			e = -e
		}
		return 0.5 * x * (1 + e)
	}
	if x < -geluBig {
		return float32(math.Copysign(0, -1))
	}
	if x >= 0 {
		a = min(a, geluPosBig)
	}
	q := a * a
	c1, s2 := tail(tailR(a, geluQ, true), 0.5*q, 0.5*fma32(a, a, -q))
	if x >= 0 {
		return x * (1 - float32(c1*s2))
	}
	return x * c1 * s2
}

// The slice loops of the twins: dst and x have equal lengths (dst may be x).

func mapGeneric(f func(float32) float32) func(dst, x []float32) {
	return func(dst, x []float32) {
		dst = dst[:len(x)]
		for i, v := range x {
			dst[i] = f(v)
		}
	}
}

var (
	expGeneric     = mapGeneric(exp1)
	logGeneric     = mapGeneric(log1)
	tanhGeneric    = mapGeneric(tanh1)
	sigmoidGeneric = mapGeneric(sigmoid1)
	siluGeneric    = mapGeneric(silu1)
	erfGeneric     = mapGeneric(erf1)
	geluGeneric    = mapGeneric(gelu1)
)

func expShiftSumGeneric(dst, x []float32, shift float32) float32 {
	dst = dst[:len(x)]
	var s float32
	for i, v := range x {
		e := exp1(v - shift)
		dst[i] = e
		s += e
	}
	return s
}
