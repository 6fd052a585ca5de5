package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// mathKernels emits the transcendental kernels for g's ISA. Each body
// follows its Go twin in ../generic_math.go step for step (fma32 there is
// a fused multiply-add here). NaN inputs flow through the arithmetic to
// NaN results: every clamp keeps them.
func (g *gen) mathKernels() {
	g.unary("exp", "e^x[i]", g.exp)
	g.unary("log", "log(x[i])", g.log)
	g.unary("tanh", "tanh(x[i])", g.tanh)
	g.unary("sigmoid", "1/(1+e^-x[i])", func(x reg.VecVirtual) reg.VecVirtual { return g.sigmoid(x, false) })
	g.unary("silu", "x[i]/(1+e^-x[i])", func(x reg.VecVirtual) reg.VecVirtual { return g.sigmoid(x, true) })
	g.unary("erf", "erf(x[i])", g.erf)
	g.unary("gelu", "x[i]·Φ(x[i]) (the erf form)", g.gelu)
	g.expShiftSum()
}

// unary emits name+ISA(dst, x *float32, n int): dst[i] = f(x[i]) for i < n.
func (g *gen) unary(name, what string, f func(x reg.VecVirtual) reg.VecVirtual) {
	fn := name + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets dst[i] = %s for i < n.", fn, what))
	p := params("dst", "x", "n")
	g.stream(fn, p[2], p[:2], 1, func(_ int, mask Op) {
		g.st(f(g.ld(p[1], 0, mask)), p[0], 0, mask)
	})
	VZEROUPPER()
	RET()
}

// expParts returns p, s1, s2 with e^(x+lo) = p·s1·s2 for x in
// [expZero, expHi] and a small lo (nil for none).
func (g *gen) expParts(x, lo reg.VecVirtual) (p, s1, s2 reg.VecVirtual) {
	n := g.roundEven(g.mul(g.k("expLog2e"), x))
	r := g.load(g.k("expLn2Hi"))
	VFNMADD213PS(x, n, r)
	VFNMADD231PS(g.k("expLn2Lo"), n, r)
	if lo != nil {
		r = g.add(lo, r)
	}
	q := g.horner(r, "expQ0", "expQ1", "expQ2", "expQ3", "expQ4")
	g.fmaInto(q, g.mul(r, r), r)
	p = g.add(g.f(1), q)
	ni := g.toInt(n)
	n1 := g.sar(1, ni)
	n2 := g.isub(ni, n1)
	s1 = g.shl(23, g.iadd(g.bits(127), n1))
	s2 = g.shl(23, g.iadd(g.bits(127), n2))
	return p, s1, s2
}

func (g *gen) exp(x reg.VecVirtual) reg.VecVirtual {
	zero := g.cmp(cmpLT, x, g.k("expZero"))
	p, s1, s2 := g.expParts(g.blend(zero, g.f(0), g.atMost(x, g.k("expHi"))), nil)
	return g.blend(zero, g.f(0), g.mul(s2, g.mul(s1, p)))
}

func (g *gen) log(x reg.VecVirtual) reg.VecVirtual {
	sub := g.cmp(cmpLT, x, g.k("logMinNormal"))
	xn := g.blend(sub, g.mul(g.k("logSubScale"), x), x)
	eadj := g.blend(sub, g.f(-23), g.zero())
	b := g.isub(xn, g.ki("logSqrtHalfBits"))
	e := g.add(eadj, g.toFloat(g.sar(23, b)))
	f := g.sub(g.iadd(g.ki("logSqrtHalfBits"), g.and(g.bits(0x7fffff), b)), g.f(1))
	f2 := g.mul(f, f)
	y := g.horner(f, "logP0", "logP1", "logP2", "logP3", "logP4", "logP5", "logP6", "logP7")
	g.fmaInto(y, g.mul(f, f2), g.mul(g.f(-0.5), f2))
	VFMADD231PS(g.k("expLn2Lo"), e, y)
	y = g.add(f, y)
	VFMADD231PS(g.k("expLn2Hi"), e, y)
	y = g.blend(g.cmp(cmpEQ, x, g.bits(0x7f800000)), g.bits(0x7f800000), y)
	y = g.blend(g.cmp(cmpEQ, x, g.f(0)), g.bits(0xff800000), y)
	return g.blend(g.cmp(cmpNGE, x, g.f(0)), g.bits(0x7fc00000), y)
}

// tanh works on |x| and copies x's sign last, so that tanh(-0) = -0.
func (g *gen) tanh(x reg.VecVirtual) reg.VecVirtual {
	a := g.and(g.bits(absMask), x)
	a2 := g.mul(a, a)
	small := g.horner(a2, "tanhP0", "tanhP1", "tanhP2", "tanhP3", "tanhP4")
	g.fmaInto(small, g.mul(a, a2), a)
	p, s1, s2 := g.expParts(g.mul(g.f(2), g.atMost(a, g.k("tanhBig"))), nil)
	e := g.mul(s2, g.mul(s1, p))
	big := g.sub(g.load(g.f(1)), g.div(g.load(g.f(2)), g.add(g.f(1), e)))
	r := g.blend(g.cmp(cmpLT, a, g.k("tanhSmall")), small, big)
	return g.or(g.and(g.bits(signBit), x), r)
}

// sigmoid is σ(x), or x·σ(x) with silu.
func (g *gen) sigmoid(x reg.VecVirtual, silu bool) reg.VecVirtual {
	lo := g.k("expZero")
	if silu {
		lo = g.k("siluZero")
	}
	t := g.or(g.bits(signBit), x)
	zero := g.cmp(cmpLT, t, lo)
	p, s1, s2 := g.expParts(g.blend(zero, g.f(0), t), nil)
	e1 := g.blend(zero, g.f(0), g.mul(s1, p))
	d := g.load(e1)
	g.fmaInto(d, s2, g.f(1))
	pos := g.cmp(cmpGE, x, g.f(0))
	one := g.load(g.f(1))
	q := g.div(g.blend(pos, one, e1), d)
	if silu {
		q = g.mul(g.atLeast(x, lo), q)
	}
	return g.mul(g.blend(pos, one, s2), q)
}

// tail returns c1, s2 with e^{-(q+qe)}·R = c1·s2.
func (g *gen) tail(R, q, qe reg.VecVirtual) (c1, s2 reg.VecVirtual) {
	p, s1, s2 := g.expParts(g.xor(g.bits(signBit), q), g.xor(g.bits(signBit), qe))
	return g.mul(g.mul(s1, p), R), s2
}

// tailR returns R = t·Q(t), t = 1/(1+a/2), Q the polynomial with
// coefficients prefix0, prefix1, ...; refine as in the twin.
func (g *gen) tailR(a reg.VecVirtual, prefix string, n int, refine bool) reg.VecVirtual {
	h := g.mul(g.k("tailP"), a)
	u := g.add(g.f(1), h)
	t := g.div(g.load(g.f(1)), u)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	R := g.mul(t, g.horner(t, names...))
	if !refine {
		return R
	}
	ul := g.add(g.min(g.f(1), h), g.sub(g.max(g.f(1), h), u))
	d := g.load(t)
	VFNMADD213PS(g.f(1), u, d)
	VFNMADD231PS(t, ul, d)
	dr := g.load(a)
	g.fmaInto(dr, R, g.f(-g.kv("invSqrt2Pi")))
	VFMADD231PS(dr, g.mul(u, g.mul(g.f(-2), d)), R)
	return R
}

// square returns q, qe with a·a = q + qe exactly.
func (g *gen) square(a reg.VecVirtual) (q, qe reg.VecVirtual) {
	q = g.mul(a, a)
	qe = g.load(a)
	VFMSUB213PS(q, a, qe)
	return q, qe
}

func (g *gen) erfSmallPoly(z reg.VecVirtual) reg.VecVirtual {
	p := g.horner(g.mul(z, z), "erfP0", "erfP1", "erfP2", "erfP3", "erfP4", "erfP5", "erfP6")
	g.fmaInto(p, z, z)
	return p
}

func (g *gen) erf(x reg.VecVirtual) reg.VecVirtual {
	z := g.and(g.bits(absMask), x)
	small := g.erfSmallPoly(z)
	zc := g.atMost(z, g.k("erfBig"))
	q, qe := g.square(zc)
	c1, s2 := g.tail(g.tailR(zc, "erfcQ", 7, false), q, qe)
	big := g.sub(g.load(g.f(1)), g.mul(s2, c1))
	r := g.blend(g.cmp(cmpLT, z, g.k("erfSmall")), small, big)
	return g.or(g.and(g.bits(signBit), x), r)
}

func (g *gen) gelu(x reg.VecVirtual) reg.VecVirtual {
	a := g.and(g.bits(absMask), x)
	neg := g.cmp(cmpLT, x, g.f(0))
	isSmall := g.cmp(cmpLT, a, g.blend(neg, g.k("geluSmallNeg"), g.load(g.k("geluSmallPos"))))
	es := g.xor(g.and(g.bits(signBit), x), g.erfSmallPoly(g.mul(g.k("sqrtHalf"), a)))
	rs := g.mul(g.mul(g.f(0.5), x), g.add(g.f(1), es))
	zero := g.cmp(cmpLT, x, g.f(-g.kv("geluBig")))
	ac := g.min(a, g.blend(neg, g.k("geluBig"), g.load(g.k("geluPosBig"))))
	ac = g.blend(zero, g.f(1), ac)
	q, qe := g.square(ac)
	c1, s2 := g.tail(g.tailR(ac, "geluQ", 10, true), g.mul(g.f(0.5), q), g.mul(g.f(0.5), qe))
	rp := g.mul(x, g.sub(g.load(g.f(1)), g.mul(s2, c1)))
	rn := g.blend(zero, g.bits(signBit), g.mul(s2, g.mul(c1, x)))
	return g.blend(isSmall, rs, g.blend(neg, rn, rp))
}

// expShiftSum emits expShiftSum+ISA(dst, x *float32, shift float32, n int)
// float32: dst[i] = e^(x[i]-shift) and their sum.
func (g *gen) expShiftSum() {
	fn := "expShiftSum" + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, shift float32, n int) float32")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets dst[i] = e^(x[i]-shift) for i < n and returns their sum.", fn))
	p := params("dst", "x", "n")
	shift, acc := g.v(), g.zero()
	broadcastParam("shift", shift)
	g.stream(fn, p[2], p[:2], 1, func(_ int, mask Op) {
		r := g.exp(g.sub(g.ld(p[1], 0, mask), shift))
		g.st(r, p[0], 0, mask)
		switch {
		case mask == nil:
			VADDPS(r, acc, acc)
		case g.lanes == 16:
			VADDPS(r, acc, mask, acc)
		default:
			VADDPS(g.and(mask, r), acc, acc)
		}
	})
	r := g.hsum(acc)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// hsum returns the sum of acc's lanes in the low lane of an XMM register.
func (g *gen) hsum(acc reg.VecVirtual) reg.VecVirtual {
	y := acc
	if g.lanes == 16 {
		y = YMM()
		VEXTRACTF64X4(U8(1), acc, y)
		VADDPS(acc.AsY(), y, y)
	}
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	VADDPS(y.AsX(), x, x)
	VHADDPS(x, x, x)
	VHADDPS(x, x, x)
	return x
}
