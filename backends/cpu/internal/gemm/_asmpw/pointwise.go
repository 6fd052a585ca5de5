// Command _asmpw generates pointwise_amd64.s and pointwise_stub_amd64.go,
// the whole-tile pointwise-convolution kernels of package gemm, with avo.
// Run it through `go generate` in the parent package; it is its own module
// so that avo never becomes a dependency of Keen.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	for mr := 1; mr <= 14; mr++ {
		pointwise(mr)
	}
	for mr := 1; mr <= 28; mr++ {
		pointwise16(mr)
	}
	for mr := 1; mr <= 8; mr++ {
		pointwiseDot(mr)
	}
	Generate()
}

// pointwise emits pw<mr>x32AVX512, an mr×32 tile of
//
//	c[i][j] = epi(init[i][j] + Σ_q a[i][q]·b[q][j])
//
// with A (the weights) and B (the input planes) both read where they lie,
// row strides lda and ldb. Columns past the product are masked off (mask:
// the low 16 bits for the first vector, the high 16 for the second), in
// loads and stores alike, so partial tiles need no edge buffer. flags bit
// 0: init is c itself (a later depth block), else bias[i]; bit 1: the
// epilogue runs: add res[i][j] (row stride ldc) when res is not nil, then
// clamp to [lo, hi] (VMAXPS and VMINPS keep a NaN sum).
func pointwise(mr int) {
	name := fmt.Sprintf("pw%dx32AVX512", mr)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes tiles ≥ 1 %dx32 tiles, one under the other, of a pointwise convolution", name, mr),
		"(see pointwise.go).")
	Label(name + "_tile")
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27}
	acc := zs[:2*mr]
	bv := []VecPhysical{Z28, Z29}
	bc := []VecPhysical{Z30, Z31}
	ks := []Op{K1, K2}
	m := Load(Param("mask"), GP32())
	KMOVW(m, K1)
	SHRL(U8(16), m)
	KMOVW(m, K2)
	flags := Load(Param("flags"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	// Rows of c: c + i·ldc, through a walking pointer (set up per pass).
	rowsOf := func(base Register, stride Register, f func(i int, row Mem)) {
		p := GP64()
		MOVQ(base, p)
		for i := range mr {
			if i > 0 {
				ADDQ(stride, p)
			}
			f(i, Mem{Base: p})
		}
	}
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_bias"))
	rowsOf(c, ldc, func(i int, row Mem) {
		for v := range 2 {
			VMOVUPS_Z(row.Offset(64*v), ks[v], acc[2*i+v])
		}
	})
	JMP(LabelRef(name + "_depth"))
	Label(name + "_bias")
	bias := Load(Param("bias"), GP64())
	for i := range mr {
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, acc[2*i])
		VMOVAPS(acc[2*i], acc[2*i+1])
	}
	Label(name + "_depth")
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	// A's rows from bases a, a+3·lda, ... with index scales 1 and 2.
	var arows []Mem
	var bases []Register
	base := Register(a)
	bases = append(bases, a)
	for i := range mr {
		if i > 0 && i%3 == 0 {
			next := GP64()
			LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, next)
			ADDQ(base, next)
			base = next
			bases = append(bases, next)
		}
		switch i % 3 {
		case 0:
			arows = append(arows, Mem{Base: base})
		case 1:
			arows = append(arows, Mem{Base: base, Index: lda, Scale: 1})
		case 2:
			arows = append(arows, Mem{Base: base, Index: lda, Scale: 2})
		}
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	step := func(brow Mem, u int) {
		for v := range 2 {
			VMOVUPS_Z(brow.Offset(64*v), ks[v], bv[v])
		}
		for i := range mr {
			x := bc[i%2]
			VBROADCASTSS(arows[i].Offset(4*u), x)
			for v := range 2 {
				VFMADD231PS(bv[v], x, acc[2*i+v])
			}
		}
	}
	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop4")
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	step(Mem{Base: b}, 0)
	step(Mem{Base: b, Index: ldb, Scale: 1}, 1)
	step(Mem{Base: b, Index: ldb, Scale: 2}, 2)
	step(Mem{Base: b, Index: ldb3, Scale: 1}, 3)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	for _, r := range bases {
		ADDQ(U32(16), r)
	}
	DECQ(n4)
	JNZ(LabelRef(name + "_loop4"))
	Label(name + "_tail")
	ANDQ(U32(3), k)
	JZ(LabelRef(name + "_epi"))
	Label(name + "_loop1")
	step(Mem{Base: b}, 0)
	ADDQ(ldb, b)
	for _, r := range bases {
		ADDQ(U32(4), r)
	}
	DECQ(k)
	JNZ(LabelRef(name + "_loop1"))

	Label(name + "_epi")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_store"))
	res := Load(Param("res"), GP64())
	TESTQ(res, res)
	JZ(LabelRef(name + "_clamp"))
	rowsOf(res, ldc, func(i int, row Mem) {
		for v := range 2 {
			VADDPS(row.Offset(64*v), acc[2*i+v], ks[v], acc[2*i+v])
		}
	})
	Label(name + "_clamp")
	VBROADCASTSS(NewParamAddr("lo", 72), bv[0])
	VBROADCASTSS(NewParamAddr("hi", 76), bv[1])
	for _, r := range acc {
		VMAXPS(r, bv[0], r)
		VMINPS(r, bv[1], r)
	}
	Label(name + "_store")
	rowsOf(c, ldc, func(i int, row Mem) {
		for v := range 2 {
			VMOVUPS(acc[2*i+v], ks[v], row.Offset(64*v))
		}
	})
	// The next tile down: a, bias, c and res (when set) advance by mr
	// rows, in their argument slots.
	tiles := NewParamAddr("tiles", 96)
	DECQ(tiles)
	JZ(LabelRef(name + "_done"))
	step4 := GP64()
	MOVQ(NewParamAddr("lda", 16), step4)
	IMUL3Q(U8(4*mr), step4, step4)
	ADDQ(step4, NewParamAddr("a", 8))
	ADDQ(U32(4*mr), NewParamAddr("bias", 40))
	MOVQ(NewParamAddr("ldc", 56), step4)
	IMUL3Q(U8(4*mr), step4, step4)
	ADDQ(step4, NewParamAddr("c", 48))
	rp := GP64()
	MOVQ(NewParamAddr("res", 64), rp)
	TESTQ(rp, rp)
	JZ(LabelRef(name + "_tile"))
	ADDQ(step4, NewParamAddr("res", 64))
	JMP(LabelRef(name + "_tile"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// pointwise16 emits pw<mr>x16AVX512, an mr×16 tile (one vector a row, up
// to 28 rows) for the last ≤ 16 columns of a product, with the arguments,
// flags and summation order of pointwise (mask: its low 16 bits). It
// reloads the arguments it needs after the depth loop so that the loop
// keeps ten row bases of A in registers.
func pointwise16(mr int) {
	name := fmt.Sprintf("pw%dx16AVX512", mr)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes tiles ≥ 1 %dx16 tiles, one under the other, of a pointwise convolution", name, mr),
		"(see pointwise.go).")
	Label(name + "_tile")
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27}
	acc := zs[:mr]
	bv := []VecPhysical{Z28, Z29}
	bc := []VecPhysical{Z30, Z31}
	m := Load(Param("mask"), GP32())
	KMOVW(m, K1)
	rowsOf := func(base Register, stride Register, f func(i int, row Mem)) {
		p := GP64()
		MOVQ(base, p)
		for i := range mr {
			if i > 0 {
				ADDQ(stride, p)
			}
			f(i, Mem{Base: p})
		}
	}
	cldc := func() (Register, Register) {
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		return c, ldc
	}
	flags := Load(Param("flags"), GP64())
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_bias"))
	c, ldc := cldc()
	rowsOf(c, ldc, func(i int, row Mem) { VMOVUPS_Z(row, K1, acc[i]) })
	JMP(LabelRef(name + "_depth"))
	Label(name + "_bias")
	bias := Load(Param("bias"), GP64())
	for i := range mr {
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, acc[i])
	}
	Label(name + "_depth")
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	var arows []Mem
	var bases []Register
	base := Register(a)
	bases = append(bases, a)
	for i := range mr {
		if i > 0 && i%3 == 0 {
			next := GP64()
			LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, next)
			ADDQ(base, next)
			base = next
			bases = append(bases, next)
		}
		switch i % 3 {
		case 0:
			arows = append(arows, Mem{Base: base})
		case 1:
			arows = append(arows, Mem{Base: base, Index: lda, Scale: 1})
		case 2:
			arows = append(arows, Mem{Base: base, Index: lda, Scale: 2})
		}
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	step := func(u int) {
		VMOVUPS_Z(Mem{Base: b}, K1, bv[u%2])
		for i := range mr {
			x := bc[i%2]
			VBROADCASTSS(arows[i].Offset(4*u), x)
			VFMADD231PS(bv[u%2], x, acc[i])
		}
		ADDQ(ldb, b)
	}
	n4 := Load(Param("k"), GP64())
	SHRQ(U8(2), n4)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop4")
	for u := range 4 {
		step(u)
	}
	for _, r := range bases {
		ADDQ(U32(16), r)
	}
	DECQ(n4)
	JNZ(LabelRef(name + "_loop4"))
	Label(name + "_tail")
	k := Load(Param("k"), GP64())
	ANDQ(U32(3), k)
	JZ(LabelRef(name + "_epi"))
	Label(name + "_loop1")
	step(0)
	for _, r := range bases {
		ADDQ(U32(4), r)
	}
	DECQ(k)
	JNZ(LabelRef(name + "_loop1"))

	Label(name + "_epi")
	c, ldc = cldc()
	flags = Load(Param("flags"), GP64())
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_store"))
	res := Load(Param("res"), GP64())
	TESTQ(res, res)
	JZ(LabelRef(name + "_clamp"))
	rowsOf(res, ldc, func(i int, row Mem) { VADDPS(row, acc[i], K1, acc[i]) })
	Label(name + "_clamp")
	VBROADCASTSS(NewParamAddr("lo", 72), bv[0])
	VBROADCASTSS(NewParamAddr("hi", 76), bv[1])
	for _, r := range acc {
		VMAXPS(r, bv[0], r)
		VMINPS(r, bv[1], r)
	}
	Label(name + "_store")
	rowsOf(c, ldc, func(i int, row Mem) { VMOVUPS(acc[i], K1, row) })
	tiles := NewParamAddr("tiles", 96)
	DECQ(tiles)
	JZ(LabelRef(name + "_done"))
	step4 := GP64()
	MOVQ(NewParamAddr("lda", 16), step4)
	IMUL3Q(U8(4*mr), step4, step4)
	ADDQ(step4, NewParamAddr("a", 8))
	ADDQ(U32(4*mr), NewParamAddr("bias", 40))
	MOVQ(NewParamAddr("ldc", 56), step4)
	IMUL3Q(U8(4*mr), step4, step4)
	ADDQ(step4, NewParamAddr("c", 48))
	rp := GP64()
	MOVQ(NewParamAddr("res", 64), rp)
	TESTQ(rp, rp)
	JZ(LabelRef(name + "_tile"))
	ADDQ(step4, NewParamAddr("res", 64))
	JMP(LabelRef(name + "_tile"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// pointwiseDot emits pwdot<mr>AVX512: out[i] = Σ_q a[i·lda+q]·x[q] for
// i < mr, q < k, one accumulator a row (16 lanes; the last k%16 values
// under mask, its low 16 bits), the lanes summed at the end.
func pointwiseDot(mr int) {
	name := fmt.Sprintf("pwdot%dAVX512", mr)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, x, out *float32, mask uint32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes %d dot products of rows of A with x (see pointwise.go).", name, mr))
	acc := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}[:mr]
	xv, av := Z8, Z9
	m := Load(Param("mask"), GP32())
	KMOVW(m, K1)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	rows := []Register{a}
	for i := 1; i < mr; i++ {
		r := GP64()
		LEAQ(Mem{Base: rows[i-1], Index: lda, Scale: 1}, r)
		rows = append(rows, r)
	}
	x := Load(Param("x"), GP64())
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	n16 := Load(Param("k"), GP64())
	SHRQ(U8(4), n16)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	VMOVUPS(Mem{Base: x}, xv)
	for i, r := range acc {
		VFMADD231PS(Mem{Base: rows[i]}, xv, r)
	}
	ADDQ(U32(64), x)
	for _, r := range rows {
		ADDQ(U32(64), r)
	}
	DECQ(n16)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_tail")
	k := Load(Param("k"), GP64())
	ANDQ(U32(15), k)
	JZ(LabelRef(name + "_sum"))
	VMOVUPS_Z(Mem{Base: x}, K1, xv)
	for i, r := range acc {
		VMOVUPS_Z(Mem{Base: rows[i]}, K1, av)
		VFMADD231PS(av, xv, r)
	}
	Label(name + "_sum")
	out := Load(Param("out"), GP64())
	for i, r := range acc {
		VEXTRACTF64X4(U8(1), r, av.AsY())
		VADDPS(av.AsY(), r.AsY(), r.AsY())
		VEXTRACTF128(U8(1), r.AsY(), av.AsX())
		VADDPS(av.AsX(), r.AsX(), r.AsX())
		VMOVHLPS(r.AsX(), r.AsX(), av.AsX())
		VADDPS(av.AsX(), r.AsX(), r.AsX())
		VMOVSHDUP(r.AsX(), av.AsX())
		VADDSS(av.AsX(), r.AsX(), r.AsX())
		VMOVSS(r.AsX(), Mem{Base: out, Disp: 4 * i})
	}
	VZEROUPPER()
	RET()
}
