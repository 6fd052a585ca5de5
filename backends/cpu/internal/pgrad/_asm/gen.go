// Command _asm generates pgrad_amd64.s and pgrad_stub_amd64.go, the
// AVX-512 kernel of package pgrad, with avo. Run it through `go generate`
// in the parent package (`make generate`); it is its own module so that avo
// never becomes a dependency of Keen.
package main

import (
	"github.com/mmcloughlin/avo/attr"
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	max2x2Pos()
	max2x2()
	Generate()
}

// Comparison predicates of VPCMPD.
const (
	cmpLE = 2
	cmpGE = 5
	cmpGT = 6
)

// max2x2Pos emits max2x2PosAVX512: the positive-only MaxPool gradient of
// one row of 2x2 windows, 8 windows (16 input columns) a step, the last
// step under masks. Bit patterns are compared as int32 (see the Go twin).
func max2x2Pos() {
	TEXT("max2x2PosAVX512", NOSPLIT, "func(g0, g1, r0, r1, dy *float32, n int, cols, grads uint16)")
	Pragma("noescape")
	Doc("max2x2PosAVX512 sets g0[0:2n], g1[0:2n] from windows r0, r1 and gradients dy[0:n] (see max2x2PosGo);",
		"cols and grads are the masks of the last n%8 windows' columns and gradients.")
	g0 := Load(Param("g0"), GP64())
	g1 := Load(Param("g1"), GP64())
	r0 := Load(Param("r0"), GP64())
	r1 := Load(Param("r1"), GP64())
	dy := Load(Param("dy"), GP64())
	n := Load(Param("n"), GP64())
	t := GP32()
	MOVL(U32(0x5555), t)
	KMOVW(t, K1) // even lanes: the window's left column
	MOVL(U32(0xaaaa), t)
	KMOVW(t, K2)
	MOVL(U32(0xffff), t)
	KMOVW(t, K3) // columns stored
	KMOVW(t, K7) // gradients loaded (low 8 bits)
	zero, inf := Z30, Z31
	VPXORD(zero, zero, zero)
	MOVL(U32(0x7f800000), t)
	VPBROADCASTD(t, inf)

	step := func() { max2x2PosStep(g0, g1, r0, r1, dy) }
	Label("loop")
	CMPQ(n, U8(8))
	JL(LabelRef("tail"))
	step()
	for _, p := range []Register{g0, g1, r0, r1} {
		ADDQ(U8(64), p)
	}
	ADDQ(U8(32), dy)
	SUBQ(U8(8), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	KMOVW(Load(Param("cols"), GP32()), K3)
	KMOVW(Load(Param("grads"), GP32()), K7)
	step()
	Label("done")
	for _, r := range []VecPhysical{Z30, Z31} {
		VPXORD(r, r, r)
	}
	VZEROUPPER()
	RET()
}

// max2 sets m to Go's max(a, b): the greater, +0 over -0 (the bits of
// equal values ANDed), and a NaN when either is one (their sum).
func max2(a, b, m VecPhysical) {
	VMAXPS(b, a, m)
	VCMPPS(U8(0), b, a, K4) // EQ_OQ
	VPANDD(a, b, K4, m)
	VCMPPS(U8(3), b, a, K5) // UNORD_Q
	VADDPS(a, b, K5, m)
}

// max2x2 emits max2x2AVX512: MaxPool 2x2 stride 2 of one row of windows,
// 16 windows (32 input columns) a step, the last step under masks.
func max2x2() {
	even := GLOBL("max2x2_even", attr.RODATA|attr.NOPTR)
	for i := range 16 {
		DATA(4*i, U32(2*i))
	}
	odd := GLOBL("max2x2_odd", attr.RODATA|attr.NOPTR)
	for i := range 16 {
		DATA(4*i, U32(2*i+1))
	}
	TEXT("max2x2AVX512", NOSPLIT, "func(y, r0, r1 *float32, n int, lo, hi, out uint16)")
	Pragma("noescape")
	Doc("max2x2AVX512 sets y[o] = max(r0[2o], r0[2o+1], r1[2o], r1[2o+1]) for o < n (Go's max);",
		"lo, hi and out mask the last n%16 windows' input columns and outputs.")
	y := Load(Param("y"), GP64())
	r0 := Load(Param("r0"), GP64())
	r1 := Load(Param("r1"), GP64())
	n := Load(Param("n"), GP64())
	VMOVUPS(even, Z20)
	VMOVUPS(odd, Z21)
	t := GP32()
	MOVL(U32(0xffff), t)
	KMOVW(t, K1)
	KMOVW(t, K2)
	KMOVW(t, K3)
	step := func() {
		VMOVUPS_Z(Mem{Base: r0}, K1, Z0)
		VMOVUPS_Z(Mem{Base: r0, Disp: 64}, K2, Z1)
		VMOVUPS_Z(Mem{Base: r1}, K1, Z2)
		VMOVUPS_Z(Mem{Base: r1, Disp: 64}, K2, Z3)
		max2(Z0, Z2, Z4) // columns 0-15, both rows
		max2(Z1, Z3, Z5) // columns 16-31
		VMOVAPS(Z20, Z6)
		VPERMI2PS(Z5, Z4, Z6) // even columns
		VMOVAPS(Z21, Z7)
		VPERMI2PS(Z5, Z4, Z7) // odd columns
		max2(Z6, Z7, Z8)
		VMOVUPS(Z8, K3, Mem{Base: y})
	}
	Label("loop")
	CMPQ(n, U8(16))
	JL(LabelRef("tail"))
	step()
	ADDQ(U8(64), y)
	ADDQ(U32(128), r0)
	ADDQ(U32(128), r1)
	SUBQ(U8(16), n)
	JMP(LabelRef("loop"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	KMOVW(Load(Param("lo"), GP32()), K1)
	KMOVW(Load(Param("hi"), GP32()), K2)
	KMOVW(Load(Param("out"), GP32()), K3)
	step()
	Label("done")
	for _, r := range []VecPhysical{Z20, Z21} {
		VPXORD(r, r, r)
	}
	VZEROUPPER()
	RET()
}

// max2x2PosStep emits one step of max2x2PosAVX512: 8 windows, the columns
// under K3 and the gradients under K7 (K1, K2: even and odd lanes; Z30,
// Z31: zero and +Inf as int32).
func max2x2PosStep(g0, g1, r0, r1, dy Register) {
	zero, inf := Z30, Z31
	a, c := Z0, Z1 // top and bottom rows
	VMOVDQU32_Z(Mem{Base: r0}, K3, a)
	VMOVDQU32_Z(Mem{Base: r1}, K3, c)
	as, cs := Z2, Z3 // pair-swapped
	VPSHUFD(U8(0xb1), a, as)
	VPSHUFD(U8(0xb1), c, cs)
	// K4: the top row's winner lane (the left one on ties), K5 the bottom's.
	VPCMPD(U8(cmpGE), as, a, K1, K4)
	VPCMPD(U8(cmpGT), as, a, K2, K6)
	KORW(K4, K6, K4)
	VPCMPD(U8(cmpGE), cs, c, K1, K5)
	VPCMPD(U8(cmpGT), cs, c, K2, K6)
	KORW(K5, K6, K5)
	top, bot, best := Z4, Z5, Z6
	VPMAXSD(a, as, top)
	VPMAXSD(c, cs, bot)
	VPMAXSD(top, bot, best)
	VPCMPD(U8(cmpGE), bot, top, K4, K4) // the top row wins ties
	VPCMPD(U8(cmpGT), top, bot, K5, K5)
	VPCMPD(U8(cmpGT), zero, best, K6) // positive, no NaN
	VPCMPD(U8(cmpLE), inf, best, K6, K6)
	KANDW(K4, K6, K4)
	KANDW(K5, K6, K5)
	d := Y7
	VMOVDQU32_Z(Mem{Base: dy}, K7, d)
	dd := Z7
	VPMOVZXDQ(d, dd)
	VPSHUFD(U8(0xa0), dd, dd) // each gradient in both lanes of its window
	VMOVDQU32_Z(dd, K4, Z8)
	VMOVDQU32_Z(dd, K5, Z9)
	VMOVDQU32(Z8, K3, Mem{Base: g0})
	VMOVDQU32(Z9, K3, Mem{Base: g1})
}
