package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// plane9 emits plane9AVX2: a whole output plane of a 3x3 depthwise
// convolution with its clamp, row by row,
//
//	dst[o·ds+x] = min(max(bias + Σ_k w[k]·src[k][o·ss+x], lo), hi)
//
// for o < rows, x < cols, 8 columns a step; the last step of a row stores
// through mask (the first cols%8 lanes set) so rows need not be a multiple
// of 8 wide and nothing past them is written. Sources are read in whole
// vectors: src[k] must hold (rows-1)·ss + ⌈cols/8⌉·8 values. Taps 0–4 and
// 5–8 go to two accumulators (halving the FMA chain); VMAXPS and VMINPS
// return the sum when it is NaN, as the twin's comparisons keep it.
func plane9() {
	TEXT("plane9AVX2", NOSPLIT, "func(dst *float32, src *[9]*float32, w *[9]float32, bias, lo, hi float32, rows, cols, ss, ds int, mask *int32)")
	Pragma("noescape")
	Doc("plane9AVX2 sets dst[o·ds+x] = min(max(bias + Σ_k w[k]·src[k][o·ss+x], lo), hi)",
		"for o < rows, x < cols (rows ≥ 1); mask holds 8 lanes, the first cols%8 set.")
	dst := Load(Param("dst"), GP64())
	srcArr := Load(Param("src"), GP64())
	wArr := Load(Param("w"), GP64())
	ws := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8}
	for k, r := range ws {
		VBROADCASTSS(Mem{Base: wArr, Disp: 4 * k}, r)
	}
	bias, lo, hi, mask := Y9, Y10, Y11, Y12
	VBROADCASTSS(NewParamAddr("bias", 24), bias)
	VBROADCASTSS(NewParamAddr("lo", 28), lo)
	VBROADCASTSS(NewParamAddr("hi", 32), hi)
	maskP := Load(Param("mask"), GP64())
	VMOVDQU(Mem{Base: maskP}, mask)
	var src []Register
	for k := range 9 {
		r := GP64()
		MOVQ(Mem{Base: srcArr, Disp: 8 * k}, r)
		src = append(src, r)
	}
	rows := Load(Param("rows"), GP64())
	full := Load(Param("cols"), GP64())
	SHLQ(U8(2), full)
	ANDQ(I32(-32), full) // bytes of the whole vectors of a row
	x := GP64()
	// body sums one 8-float vector at byte offset x of the row into a0.
	body := func(a0, a1 VecPhysical) {
		VMOVAPS(bias, a0)
		VMULPS(Mem{Base: src[5], Index: x, Scale: 1}, ws[5], a1)
		for k := range 9 {
			if k == 5 {
				continue
			}
			a := a0
			if k > 5 {
				a = a1
			}
			VFMADD231PS(Mem{Base: src[k], Index: x, Scale: 1}, ws[k], a)
		}
		VADDPS(a1, a0, a0)
		VMAXPS(a0, lo, a0)
		VMINPS(a0, hi, a0)
	}
	Label("plane9AVX2_row")
	XORQ(x, x)
	Label("plane9AVX2_vec")
	CMPQ(x, full)
	JGE(LabelRef("plane9AVX2_tail"))
	body(Y13, Y14)
	VMOVUPS(Y13, Mem{Base: dst, Index: x, Scale: 1})
	ADDQ(U32(32), x)
	JMP(LabelRef("plane9AVX2_vec"))
	Label("plane9AVX2_tail")
	t := Load(Param("cols"), GP64())
	TESTQ(U32(7), t)
	JZ(LabelRef("plane9AVX2_next"))
	body(Y13, Y14)
	VMASKMOVPS(Y13, mask, Mem{Base: dst, Index: x, Scale: 1})
	Label("plane9AVX2_next")
	ss := Load(Param("ss"), GP64())
	SHLQ(U8(2), ss)
	for _, r := range src {
		ADDQ(ss, r)
	}
	ds := Load(Param("ds"), GP64())
	SHLQ(U8(2), ds)
	ADDQ(ds, dst)
	DECQ(rows)
	JNZ(LabelRef("plane9AVX2_row"))
	VZEROUPPER()
	RET()
}

// rows emits rowsAVX2, a strided copy of a block of rows: dst[o·ds+x] =
// src[o·ss+x] for o < rows, x < cols, 8 floats a step and the last
// cols%8 through mask (loads and stores both masked, so nothing past a
// row is read or written).
func rows() {
	TEXT("rowsAVX2", NOSPLIT, "func(dst, src *float32, rows, cols, ds, ss int, mask *int32)")
	Pragma("noescape")
	Doc("rowsAVX2 sets dst[o·ds+x] = src[o·ss+x] for o < rows, x < cols (rows ≥ 1);",
		"mask holds 8 lanes, the first cols%8 set.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("rows"), GP64())
	full := Load(Param("cols"), GP64())
	tail := GP64()
	MOVQ(full, tail)
	ANDQ(U32(7), tail)
	SHLQ(U8(2), full)
	ANDQ(I32(-32), full)
	ds := Load(Param("ds"), GP64())
	SHLQ(U8(2), ds)
	ss := Load(Param("ss"), GP64())
	SHLQ(U8(2), ss)
	maskP := Load(Param("mask"), GP64())
	VMOVDQU(Mem{Base: maskP}, Y1)
	x := GP64()
	Label("rowsAVX2_row")
	XORQ(x, x)
	Label("rowsAVX2_vec")
	CMPQ(x, full)
	JGE(LabelRef("rowsAVX2_tail"))
	VMOVUPS(Mem{Base: src, Index: x, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: dst, Index: x, Scale: 1})
	ADDQ(U32(32), x)
	JMP(LabelRef("rowsAVX2_vec"))
	Label("rowsAVX2_tail")
	TESTQ(tail, tail)
	JZ(LabelRef("rowsAVX2_next"))
	VMASKMOVPS(Mem{Base: src, Index: x, Scale: 1}, Y1, Y0)
	VMASKMOVPS(Y0, Y1, Mem{Base: dst, Index: x, Scale: 1})
	Label("rowsAVX2_next")
	ADDQ(ss, src)
	ADDQ(ds, dst)
	DECQ(n)
	JNZ(LabelRef("rowsAVX2_row"))
	VZEROUPPER()
	RET()
}

// evenRows emits evenRows2AVX2, Even over a block of rows: dst[o·ds+i] =
// src[o·ss+2i] for o < rows, i < n. Each row's last 1..8 outputs go
// through masks (lo and hi for the 16 loaded floats, st for the store),
// so nothing past src[o·ss+2n-2] is read nor past dst[o·ds+n-1] written.
func evenRows() {
	TEXT("evenRows2AVX2", NOSPLIT, "func(dst, src *float32, rows, n, ds, ss int, lo, hi, st *int32)")
	Pragma("noescape")
	Doc("evenRows2AVX2 sets dst[o·ds+i] = src[o·ss+2i] for o < rows, i < n (rows, n ≥ 1);",
		"lo, hi and st are the masks of the last (n-1)%8+1 outputs of a row.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	nr := Load(Param("rows"), GP64())
	full := Load(Param("n"), GP64())
	DECQ(full)
	SHRQ(U8(3), full) // whole vectors before the masked last one
	ds := Load(Param("ds"), GP64())
	SHLQ(U8(2), ds)
	ss := Load(Param("ss"), GP64())
	SHLQ(U8(2), ss)
	for i, name := range []string{"lo", "hi", "st"} {
		p := Load(Param(name), GP64())
		VMOVDQU(Mem{Base: p}, []VecPhysical{Y4, Y5, Y6}[i])
	}
	s, d, c := GP64(), GP64(), GP64()
	Label("evenRows2AVX2_row")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(full, c)
	TESTQ(c, c)
	JZ(LabelRef("evenRows2AVX2_last"))
	Label("evenRows2AVX2_vec")
	VMOVUPS(Mem{Base: s}, Y0)
	VMOVUPS(Mem{Base: s, Disp: 32}, Y1)
	VSHUFPS(U8(0x88), Y1, Y0, Y2)
	VPERMPD(U8(0xd8), Y2, Y2)
	VMOVUPS(Y2, Mem{Base: d})
	ADDQ(U32(64), s)
	ADDQ(U32(32), d)
	DECQ(c)
	JNZ(LabelRef("evenRows2AVX2_vec"))
	Label("evenRows2AVX2_last")
	VMASKMOVPS(Mem{Base: s}, Y4, Y0)
	VMASKMOVPS(Mem{Base: s, Disp: 32}, Y5, Y1)
	VSHUFPS(U8(0x88), Y1, Y0, Y2)
	VPERMPD(U8(0xd8), Y2, Y2)
	VMASKMOVPS(Y2, Y6, Mem{Base: d})
	ADDQ(ss, src)
	ADDQ(ds, dst)
	DECQ(nr)
	JNZ(LabelRef("evenRows2AVX2_row"))
	VZEROUPPER()
	RET()
}
