package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// arithKernels emits the slice arithmetic and the reductions (AVX2 only:
// they are bound by memory bandwidth, which wider vectors do not raise).
// Each main loop handles four vectors per iteration.
func arithKernels(g *gen) {
	for _, b := range []struct {
		name, sym string
		f         op3
	}{{"add", "+", VADDPS}, {"sub", "-", VSUBPS}, {"mul", "·", VMULPS}, {"div", "/", VDIVPS}} {
		g.binary(b.name, b.sym, b.f)
	}
	g.scalar("addScalar", "+", VADDPS)
	g.scalar("mulScalar", "·", VMULPS)
	g.reluKernel()
	g.clampKernel()
	g.leakyKernel()
	g.addClampKernel()
	g.axpyKernel()
	g.max3Kernel()
	g.dotKernel()
	g.sumKernel()
	g.maxKernel()
	newGen(isa{name: "AVX2", lanes: 4, vec: XMM}, g.consts).sum64Kernel()
}

// binary emits dst[i] = a[i] op b[i].
func (g *gen) binary(name, sym string, f op3) {
	fn := name + g.name
	TEXT(fn, NOSPLIT, "func(dst, a, b *float32, n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets dst[i] = a[i] %s b[i] for i < n.", fn, sym))
	p := params("dst", "a", "b", "n")
	g.stream(fn, p[3], p[:3], 4, func(v int, mask Op) {
		var b Op = Mem{Base: p[2], Disp: 4 * g.lanes * v}
		if mask != nil {
			b = g.ld(p[2], v, mask)
		}
		g.st(g.bin(f, b, g.ld(p[1], v, mask)), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// scalar emits dst[i] = x[i] op s.
func (g *gen) scalar(name, sym string, f op3) {
	fn := name + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, s float32, n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets dst[i] = x[i] %s s for i < n.", fn, sym))
	p := params("dst", "x", "n")
	s := g.v()
	broadcastParam("s", s)
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		g.st(g.bin(f, s, g.ld(p[1], v, mask)), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// reluKernel emits dst[i] = max(x[i], 0): VMAXPS returns its memory operand
// (x) when either is NaN or both are zero, and adding +0 turns -0 into +0.
func (g *gen) reluKernel() {
	fn := "relu" + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets dst[i] = max(x[i], 0) for i < n, NaN kept and -0 made +0.")
	p := params("dst", "x", "n")
	z := g.zero()
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		g.st(g.add(z, g.max(g.ld(p[1], v, mask), z)), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// clampKernel emits dst[i] = min(max(x[i], lo), hi): both instructions
// return their first operand (x) when either is NaN or both are zero, so
// NaN stays NaN and a zero keeps its sign, as the twin's comparisons do.
// (Bounds come through broadcastParam: see there why.)
func (g *gen) clampKernel() {
	fn := "clamp" + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, lo, hi float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets dst[i] = min(max(x[i], lo), hi) for i < n, NaN kept.")
	p := params("dst", "x", "n")
	lo, hi := g.bounds()
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		g.st(g.min(g.max(g.ld(p[1], v, mask), lo), hi), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// leakyKernel emits dst[i] = x[i] < 0 ? alpha·x[i] : x[i] as a blend, so
// NaN (which compares false) and every zero come out as the twin's.
func (g *gen) leakyKernel() {
	fn := "leakyRelu" + g.name
	TEXT(fn, NOSPLIT, "func(dst, x *float32, alpha float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets dst[i] = x[i] < 0 ? alpha·x[i] : x[i] for i < n, NaN kept.")
	p := params("dst", "x", "n")
	alpha := g.v()
	broadcastParam("alpha", alpha)
	z := g.zero()
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		x := g.ld(p[1], v, mask)
		neg := g.cmp(cmpLT, x, z) // false for NaN
		g.st(g.blend(neg, g.mul(alpha, x), x), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// addClampKernel emits dst[i] = min(max(a[i] + b[i], lo), hi), NaN kept.
func (g *gen) addClampKernel() {
	fn := "addClamp" + g.name
	TEXT(fn, NOSPLIT, "func(dst, a, b *float32, lo, hi float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets dst[i] = min(max(a[i] + b[i], lo), hi) for i < n, NaN kept.")
	p := params("dst", "a", "b", "n")
	lo, hi := g.bounds()
	g.stream(fn, p[3], p[:3], 4, func(v int, mask Op) {
		s := g.add(g.ld(p[2], v, mask), g.ld(p[1], v, mask))
		g.st(g.min(g.max(s, lo), hi), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// bounds broadcasts the float32 parameters lo and hi.
func (g *gen) bounds() (reg.VecVirtual, reg.VecVirtual) {
	lo, hi := g.v(), g.v()
	broadcastParam("lo", lo)
	broadcastParam("hi", hi)
	return lo, hi
}

func (g *gen) axpyKernel() {
	fn := "axpy" + g.name
	TEXT(fn, NOSPLIT, "func(alpha float32, x, y *float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets y[i] += alpha·x[i] for i < n.")
	p := params("x", "y", "n")
	alpha := g.v()
	broadcastParam("alpha", alpha)
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		y := g.ld(p[1], v, mask)
		VFMADD231PS(g.ld(p[0], v, mask), alpha, y)
		g.st(y, p[1], v, mask)
	})
	VZEROUPPER()
	RET()
}

// max3Kernel emits dst[i] = max(a[i], b[i], c[i]) with Go's max: NaN if
// any is NaN, +0 over -0 (AVX2 only: it is bound by memory).
func (g *gen) max3Kernel() {
	fn := "max3" + g.name
	TEXT(fn, NOSPLIT, "func(dst, a, b, c *float32, n int)")
	Pragma("noescape")
	Doc(fn + " sets dst[i] = max(a[i], b[i], c[i]) for i < n: NaN if any is NaN, +0 over -0.")
	p := params("dst", "a", "b", "c", "n")
	g.stream(fn, p[4], p[:4], 2, func(v int, mask Op) {
		m := g.max2(g.ld(p[1], v, mask), g.ld(p[2], v, mask))
		g.st(g.max2(m, g.ld(p[3], v, mask)), p[0], v, mask)
	})
	VZEROUPPER()
	RET()
}

// max2 is Go's max(a, b) on AVX2 lanes. VMAXPS gives b where the two are
// equal or either is NaN; equal lanes take a AND b instead (+0 AND -0 is
// +0; equal nonzero values are their own AND), NaN lanes all ones (NaN).
func (g *gen) max2(a, b reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	VMAXPS(b, a, r) // a > b ? a : b
	eq, un := g.v(), g.v()
	VCMPPS(U8(0), b, a, eq) // EQ_OQ
	VCMPPS(U8(3), b, a, un) // UNORD_Q
	t := g.v()
	VANDNPS(eq, a, t) // ~a & eq: lanes to clear where a's bit is 0
	VANDNPS(r, t, r)  // r & ~t
	VORPS(un, r, r)
	return r
}

// accs returns four zeroed accumulators.
func (g *gen) accs() []reg.VecVirtual {
	return []reg.VecVirtual{g.zero(), g.zero(), g.zero(), g.zero()}
}

// fold4 adds the four accumulators into the first.
func fold4(add op3, a []reg.VecVirtual) reg.VecVirtual {
	add(a[1], a[0], a[0])
	add(a[3], a[2], a[2])
	add(a[2], a[0], a[0])
	return a[0]
}

func (g *gen) dotKernel() {
	fn := "dot" + g.name
	TEXT(fn, NOSPLIT, "func(x, y *float32, n int) float32")
	Pragma("noescape")
	Doc(fn + " returns the sum of x[i]·y[i] for i < n.")
	p := params("x", "y", "n")
	acc := g.accs()
	g.stream(fn, p[2], p[:2], 4, func(v int, mask Op) {
		var y Op = Mem{Base: p[1], Disp: 4 * g.lanes * v}
		if mask != nil {
			y = g.ld(p[1], v, mask)
		}
		VFMADD231PS(y, g.ld(p[0], v, mask), acc[v])
	})
	r := g.hsum(fold4(VADDPS, acc))
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

func (g *gen) sumKernel() {
	fn := "sum" + g.name
	TEXT(fn, NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc(fn + " returns the sum of x[i] for i < n.")
	p := params("x", "n")
	acc := g.accs()
	g.stream(fn, p[1], p[:1], 4, func(v int, mask Op) {
		if mask != nil {
			VADDPS(g.ld(p[0], v, mask), acc[v], acc[v])
			return
		}
		VADDPS(Mem{Base: p[0], Disp: 4 * g.lanes * v}, acc[v], acc[v])
	})
	r := g.hsum(fold4(VADDPS, acc))
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// sum64Kernel (g has 4 lanes: each XMM of floats widens to a YMM of doubles).
func (g *gen) sum64Kernel() {
	fn := "sum64" + g.name
	TEXT(fn, NOSPLIT, "func(x *float32, n int) float64")
	Pragma("noescape")
	Doc(fn + " returns the sum of x[i] for i < n, accumulated in float64.")
	p := params("x", "n")
	acc := []reg.VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VXORPD(a, a, a)
	}
	g.stream(fn, p[1], p[:1], 4, func(v int, mask Op) {
		w := YMM()
		if mask != nil {
			VCVTPS2PD(g.ld(p[0], v, mask), w)
		} else {
			VCVTPS2PD(Mem{Base: p[0], Disp: 16 * v}, w)
		}
		VADDPD(w, acc[v], acc[v])
	})
	a := fold4(VADDPD, acc)
	x := XMM()
	VEXTRACTF128(U8(1), a, x)
	VADDPD(a.AsX(), x, x)
	VHADDPD(x, x, x)
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}

// maxKernel keeps four running maxima and, since VMAXPS drops NaNs, an OR of
// the unordered-compare masks; masked-out tail lanes read as -Inf.
func (g *gen) maxKernel() {
	fn := "max" + g.name
	TEXT(fn, NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc(fn+" returns the largest x[i] for i < n: -Inf when n is 0, NaN when any", "x[i] is NaN.")
	p := params("x", "n")
	ninf := g.load(g.bits(0xff800000))
	acc := []reg.VecVirtual{g.load(ninf), g.load(ninf), g.load(ninf), g.load(ninf)}
	nan := g.zero()
	g.stream(fn, p[1], p[:1], 4, func(v int, mask Op) {
		x := g.ld(p[0], v, mask)
		if mask != nil {
			x = g.blend(mask, x, ninf)
		}
		VORPS(g.cmp(cmpUnord, x, x), nan, nan)
		VMAXPS(x, acc[v], acc[v])
	})
	a := fold4(VMAXPS, acc)
	x, t := XMM(), XMM()
	VEXTRACTF128(U8(1), a, x)
	VMAXPS(a.AsX(), x, x)
	VMOVHLPS(x, x, t)
	VMAXPS(t, x, x)
	VMOVSHDUP(x, t)
	VMAXPS(t, x, x)
	m := GP32()
	VMOVMSKPS(nan, m)
	TESTL(m, m)
	JZ(LabelRef(fn + "_ret"))
	VMOVSS(g.bits(0x7fc00000), x)
	Label(fn + "_ret")
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}
