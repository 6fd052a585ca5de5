package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// direct3 emits direct3AVX2: a 3x3, stride-1, padding-1 depthwise plane
// read straight from the unpadded input, with its clamp:
//
//	dst[o·w+x] = min(max(bias + Σ_{i,j<3} k[3i+j]·in(o+i-1, x+j-1), lo), hi)
//
// in() zero outside the h×w plane. Each output row takes three input row
// pointers (rows[3o+i], a zero row standing in above the first row and
// below the last) and runs over 8-column vectors: the loads of column
// shift j go through masks[j] on the first vector (the column left of the
// plane), masks[3+j] on the last (right of it and past the row), or
// masks[6+j] when one vector is the whole row; the vectors between load
// unmasked. The last vector's store goes through masks[4].
func direct3() {
	TEXT("direct3AVX2", NOSPLIT, "func(dst *float32, rows **float32, k *[9]float32, bias, lo, hi float32, h, w int, masks *[9][8]int32)")
	Pragma("noescape")
	Doc("direct3AVX2 sets the h×w plane dst to the clamped 3x3 depthwise convolution (stride 1, padding 1)",
		"of the rows rows[3o..3o+2] for output row o; masks as built by direct3Masks.")
	dst := Load(Param("dst"), GP64())
	rowsP := Load(Param("rows"), GP64())
	kp := Load(Param("k"), GP64())
	maskP := Load(Param("masks"), GP64())
	bias, lo, hi := Y13, Y14, Y15
	VBROADCASTSS(NewParamAddr("bias", 24), bias)
	VBROADCASTSS(NewParamAddr("lo", 28), lo)
	VBROADCASTSS(NewParamAddr("hi", 32), hi)
	h := Load(Param("h"), GP64())
	w := Load(Param("w"), GP64())
	// last: byte offset of the row's last vector, ((w-1)/8)·32.
	last := GP64()
	MOVQ(w, last)
	DECQ(last)
	SHRQ(U8(3), last)
	SHLQ(U8(5), last)
	r0, r1, r2 := GP64(), GP64(), GP64()
	x := GP64()
	acc0, acc1, in, wk := Y0, Y1, Y2, Y3
	m := []VecPhysical{Y4, Y5, Y6}

	// vec sums one vector at byte offset x; masked loads through m when
	// masked, and stores through m[1] when store is masked.
	vec := func(masked, maskedStore bool) {
		VMOVAPS(bias, acc0)
		VXORPS(acc1, acc1, acc1)
		for i, r := range []Register{r0, r1, r2} {
			for j := range 3 {
				a := Mem{Base: r, Index: x, Scale: 1, Disp: 4 * (j - 1)}
				if masked {
					VMASKMOVPS(a, m[j], in)
				} else {
					VMOVUPS(a, in)
				}
				VBROADCASTSS(Mem{Base: kp, Disp: 4 * (3*i + j)}, wk)
				acc := acc0
				if (3*i+j)%2 == 1 {
					acc = acc1
				}
				VFMADD231PS(in, wk, acc)
			}
		}
		VADDPS(acc1, acc0, acc0)
		VMAXPS(acc0, lo, acc0)
		VMINPS(acc0, hi, acc0)
		if maskedStore {
			VMASKMOVPS(acc0, m[1], Mem{Base: dst, Index: x, Scale: 1})
		} else {
			VMOVUPS(acc0, Mem{Base: dst, Index: x, Scale: 1})
		}
	}
	loadMasks := func(set int) {
		for j := range 3 {
			VMOVDQU(Mem{Base: maskP, Disp: 32 * (3*set + j)}, m[j])
		}
	}

	Label("direct3_row")
	MOVQ(Mem{Base: rowsP}, r0)
	MOVQ(Mem{Base: rowsP, Disp: 8}, r1)
	MOVQ(Mem{Base: rowsP, Disp: 16}, r2)
	XORQ(x, x)
	TESTQ(last, last)
	JNZ(LabelRef("direct3_first"))
	// One vector is the whole row.
	loadMasks(2)
	vec(true, true)
	JMP(LabelRef("direct3_next"))

	Label("direct3_first")
	loadMasks(0)
	vec(true, false)
	ADDQ(U32(32), x)
	Label("direct3_mid")
	CMPQ(x, last)
	JGE(LabelRef("direct3_last"))
	vec(false, false)
	ADDQ(U32(32), x)
	JMP(LabelRef("direct3_mid"))
	Label("direct3_last")
	loadMasks(1)
	vec(true, true)

	Label("direct3_next")
	ADDQ(U32(24), rowsP)
	MOVQ(w, x)
	SHLQ(U8(2), x)
	ADDQ(x, dst)
	DECQ(h)
	JNZ(LabelRef("direct3_row"))
	VZEROUPPER()
	RET()
}

// direct3x16 emits direct3AVX512: direct3AVX2 in 16-float vectors over n
// planes in one call (MobileNet's 7² and 14² planes are too small to pay
// a call each), the nine weights of a plane held in registers, the row
// pointers found in the loop (a zero row above the first row and below
// the last) and the masks in k registers: set 2 for rows of one vector
// (7 or 14 wide), else sets 0 and 1. Plane c reads src[c·h·w:], writes
// dst[c·h·w:], weights k[9c:], bias at bias + c·biasStep bytes.
func direct3x16() {
	TEXT("direct3AVX512", NOSPLIT, "func(dst, src, k, bias *float32, biasStep int, lo, hi float32, n, h, w, r0, r1 int, masks *[9]uint16, zero *float32)")
	Pragma("noescape")
	Doc("direct3AVX512 runs output rows [r0, r1) of direct3AVX2's plane, in 16-float vectors, over n planes;",
		"dst points at the first plane's row r0; masks as built by direct3Masks16, zero at least w+16 zero floats.")
	pl := planesPrologue()
	dst, base, ws, bias, lo, hi := pl.dst, pl.base, pl.ws, pl.bias, pl.lo, pl.hi
	VBROADCASTSS(NewParamAddr("lo", 40), lo)
	VBROADCASTSS(NewParamAddr("hi", 44), hi)
	w4 := Load(Param("w"), GP64())
	last := GP64()
	MOVQ(w4, last)
	DECQ(last)
	SHRQ(U8(4), last)
	SHLQ(U8(6), last)
	SHLQ(U8(2), w4)
	{
		maskP := GP64()
		MOVQ(NewParamAddr("masks", 88), maskP)
		TESTQ(last, last)
		JNZ(LabelRef("direct3x16_wide"))
		for j, k := range []Physical{K1, K2, K3} {
			KMOVW(Mem{Base: maskP, Disp: 2 * (6 + j)}, k)
		}
		JMP(LabelRef("direct3x16_plane"))
		Label("direct3x16_wide")
		for j, k := range []Physical{K1, K2, K3, K4, K5, K6} {
			KMOVW(Mem{Base: maskP, Disp: 2 * j}, k)
		}
	}
	r0, r1, r2 := GP64(), GP64(), GP64()
	x, o := GP64(), GP64()
	acc0, acc1 := Z0, Z1
	ins := []VecPhysical{Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10}

	vec := func(ks []Physical, maskedStore bool) {
		for i, r := range []Register{r0, r1, r2} {
			for j := range 3 {
				a := Mem{Base: r, Index: x, Scale: 1, Disp: 4 * (j - 1)}
				if ks != nil {
					VMOVUPS_Z(a, ks[j], ins[3*i+j])
				} else {
					VMOVUPS(a, ins[3*i+j])
				}
			}
		}
		VMOVAPS(bias, acc0)
		VMULPS(ins[1], ws[1], acc1)
		for t := range 9 {
			if t == 1 {
				continue
			}
			acc := acc0
			if t%2 == 1 {
				acc = acc1
			}
			VFMADD231PS(ins[t], ws[t], acc)
		}
		VADDPS(acc1, acc0, acc0)
		VMAXPS(acc0, lo, acc0)
		VMINPS(acc0, hi, acc0)
		if maskedStore {
			VMOVUPS(acc0, ks[1], Mem{Base: dst, Index: x, Scale: 1})
		} else {
			VMOVUPS(acc0, Mem{Base: dst, Index: x, Scale: 1})
		}
	}

	Label("direct3x16_plane")
	pl.loadPlane()
	MOVQ(NewParamAddr("r0", 72), o)
	MOVQ(o, r1)
	IMULQ(w4, r1)
	ADDQ(base, r1)
	Label("direct3x16_row")
	// r0 and r2: the rows above and below, or the zero row.
	MOVQ(r1, r0)
	SUBQ(w4, r0)
	TESTQ(o, o)
	JNZ(LabelRef("direct3x16_hasabove"))
	MOVQ(NewParamAddr("zero", 96), r0)
	Label("direct3x16_hasabove")
	MOVQ(r1, r2)
	ADDQ(w4, r2)
	INCQ(o)
	CMPQ(o, NewParamAddr("h", 56))
	JNE(LabelRef("direct3x16_hasbelow"))
	MOVQ(NewParamAddr("zero", 96), r2)
	Label("direct3x16_hasbelow")
	XORQ(x, x)
	TESTQ(last, last)
	JNZ(LabelRef("direct3x16_first"))
	vec([]Physical{K1, K2, K3}, true)
	JMP(LabelRef("direct3x16_next"))

	Label("direct3x16_first")
	vec([]Physical{K1, K2, K3}, false)
	ADDQ(U32(64), x)
	Label("direct3x16_mid")
	CMPQ(x, last)
	JGE(LabelRef("direct3x16_last"))
	vec(nil, false)
	ADDQ(U32(64), x)
	JMP(LabelRef("direct3x16_mid"))
	Label("direct3x16_last")
	vec([]Physical{K4, K5, K6}, true)

	Label("direct3x16_next")
	ADDQ(w4, r1)
	ADDQ(w4, dst)
	CMPQ(o, NewParamAddr("r1", 80))
	JNE(LabelRef("direct3x16_row"))
	// Next plane: its row r0 (planes are contiguous, h rows each).
	MOVQ(NewParamAddr("h", 56), r0)
	IMULQ(w4, r0)
	ADDQ(r0, base)
	MOVQ(NewParamAddr("r1", 80), r2)
	SUBQ(NewParamAddr("r0", 72), r2)
	IMULQ(w4, r2)
	SUBQ(r2, r0)
	ADDQ(r0, dst)
	pl.nextPlane()
	JNZ(LabelRef("direct3x16_plane"))
	VZEROUPPER()
	RET()
}

// direct3s2x16 emits direct3s2AVX512: the stride-2 twin of direct3AVX512
// over n planes of h×w (both even; output h/2 × w/2, padding 1 above and
// left, none needed below or right). Output row o reads input rows 2o-1
// (the zero row for o = 0), 2o and 2o+1; output columns ox..ox+15 read
// input columns 2ox-1+2l (tap 0), 2ox+2l (tap 1) and 2ox+1+2l (tap 2),
// deinterleaved from two pairs of 16-float loads by VPERMT2PS with the
// even and odd index vectors idx[0:16] and idx[16:32]. masks holds, per
// vector class (first, last, only), the four loads' lane masks and the
// store's (5 uint16 each).
func direct3s2x16() {
	TEXT("direct3s2AVX512", NOSPLIT, "func(dst, src, k, bias *float32, biasStep int, lo, hi float32, n, h, w int, masks *[15]uint16, idx *[32]int32, zero *float32)")
	Pragma("noescape")
	Doc("direct3s2AVX512 sets n planes of dst ((h/2)×(w/2) each) to the clamped 3x3 depthwise convolution",
		"with strides 2 and padding 1 of the h×w planes of src (h, w even); masks as built by direct3s2Masks, idx deinterleave.")
	pl := planesPrologue()
	dst, base, ws, bias, lo, hi := pl.dst, pl.base, pl.ws, pl.bias, pl.lo, pl.hi
	idxE, idxO := Z28, Z29
	VBROADCASTSS(NewParamAddr("lo", 40), lo)
	VBROADCASTSS(NewParamAddr("hi", 44), hi)
	{
		ip := GP64()
		MOVQ(NewParamAddr("idx", 80), ip)
		VMOVDQU32(Mem{Base: ip}, idxE)
		VMOVDQU32(Mem{Base: ip, Disp: 64}, idxO)
	}
	w4 := Load(Param("w"), GP64()) // input row bytes
	// last: byte offset in the output row of its last vector, ((w/2-1)/16)·64.
	last := GP64()
	MOVQ(w4, last)
	SHRQ(U8(1), last)
	DECQ(last)
	SHRQ(U8(4), last)
	SHLQ(U8(6), last)
	SHLQ(U8(2), w4)
	maskP := GP64()
	MOVQ(NewParamAddr("masks", 72), maskP)
	r0, r1, r2 := GP64(), GP64(), GP64()
	x, o := GP64(), GP64() // x: output byte offset in the row; input offset is 2x
	x2 := GP64()
	acc0, acc1 := Z0, Z1
	p, q, rr, s, t := Z2, Z3, Z4, Z5, Z6
	km := []Physical{K1, K2, K3, K4, K5}

	// vec computes output vector at x (input at 2x) through the masks of
	// class set (-1: none).
	vec := func(set int) {
		if set >= 0 {
			for j, k := range km {
				KMOVW(Mem{Base: maskP, Disp: 2 * (5*set + j)}, k)
			}
		}
		MOVQ(x, x2)
		SHLQ(U8(1), x2)
		VMOVAPS(bias, acc0)
		VXORPS(acc1, acc1, acc1)
		for i, r := range []Register{r0, r1, r2} {
			loads := []struct {
				z    VecPhysical
				disp int
			}{{p, -4}, {q, 60}, {rr, 4}, {s, 68}}
			for j, l := range loads {
				a := Mem{Base: r, Index: x2, Scale: 1, Disp: l.disp}
				if set >= 0 {
					VMOVUPS_Z(a, km[j], l.z)
				} else {
					VMOVUPS(a, l.z)
				}
			}
			// tap 0: even lanes of (p, q); tap 1: odd lanes of (p, q);
			// tap 2: even lanes of (rr, s).
			VMOVAPS(p, t)
			VPERMT2PS(q, idxE, p)
			VPERMT2PS(q, idxO, t)
			VPERMT2PS(s, idxE, rr)
			for j, z := range []VecPhysical{p, t, rr} {
				acc := acc0
				if (3*i+j)%2 == 1 {
					acc = acc1
				}
				VFMADD231PS(z, ws[3*i+j], acc)
			}
		}
		VADDPS(acc1, acc0, acc0)
		VMAXPS(acc0, lo, acc0)
		VMINPS(acc0, hi, acc0)
		if set >= 1 {
			VMOVUPS(acc0, km[4], Mem{Base: dst, Index: x, Scale: 1})
		} else {
			VMOVUPS(acc0, Mem{Base: dst, Index: x, Scale: 1})
		}
	}

	Label("direct3s2_plane")
	pl.loadPlane()
	XORQ(o, o)
	MOVQ(base, r1) // input row 2o
	Label("direct3s2_row")
	MOVQ(r1, r0)
	SUBQ(w4, r0)
	TESTQ(o, o)
	JNZ(LabelRef("direct3s2_hasabove"))
	MOVQ(NewParamAddr("zero", 88), r0)
	Label("direct3s2_hasabove")
	MOVQ(r1, r2)
	ADDQ(w4, r2)
	XORQ(x, x)
	TESTQ(last, last)
	JNZ(LabelRef("direct3s2_first"))
	vec(2)
	JMP(LabelRef("direct3s2_next"))
	Label("direct3s2_first")
	vec(0)
	ADDQ(U32(64), x)
	Label("direct3s2_mid")
	CMPQ(x, last)
	JGE(LabelRef("direct3s2_last"))
	vec(-1)
	ADDQ(U32(64), x)
	JMP(LabelRef("direct3s2_mid"))
	Label("direct3s2_last")
	vec(1)

	Label("direct3s2_next")
	// Next output row: dst by w/2 floats, input by two rows.
	MOVQ(w4, x)
	SHRQ(U8(1), x)
	ADDQ(x, dst)
	ADDQ(w4, r1)
	ADDQ(w4, r1)
	INCQ(o)
	MOVQ(NewParamAddr("h", 56), x)
	SHRQ(U8(1), x)
	CMPQ(o, x)
	JNE(LabelRef("direct3s2_row"))
	MOVQ(r1, base) // 2·(h/2) rows on: the next plane
	pl.nextPlane()
	JNZ(LabelRef("direct3s2_plane"))
	VZEROUPPER()
	RET()
}

// planes holds what the multi-plane AVX-512 kernels share: the
// parameters dst, src, k, bias (their first five, the same in both), the
// current plane's weights and bias in registers, and the clamp bounds.
type planes struct {
	dst, base, kp, bp Register
	ws                []VecPhysical
	bias, lo, hi      VecPhysical
}

// planesPrologue loads the shared parameters.
func planesPrologue() planes {
	return planes{dst: Load(Param("dst"), GP64()), base: Load(Param("src"), GP64()),
		kp: Load(Param("k"), GP64()), bp: Load(Param("bias"), GP64()),
		ws:   []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24},
		bias: Z25, lo: Z26, hi: Z27}
}

// loadPlane broadcasts the current plane's nine weights and its bias.
func (p planes) loadPlane() {
	for t, z := range p.ws {
		VBROADCASTSS(Mem{Base: p.kp, Disp: 4 * t}, z)
	}
	VBROADCASTSS(Mem{Base: p.bp}, p.bias)
}

// nextPlane moves the weights and bias on a plane and counts n down
// (the flags then say whether planes remain).
func (p planes) nextPlane() {
	ADDQ(U32(36), p.kp)
	ADDQ(NewParamAddr("biasStep", 32), p.bp)
	DECQ(NewParamAddr("n", 48))
}
