// Command _asm generates taps_amd64.s and taps_stub_amd64.go, the SIMD
// kernel of package dwconv, with avo. Run it through `go generate` in the
// parent package (`make generate`); it is its own module so that avo never
// becomes a dependency of Keen.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	taps9()
	plane9()
	direct3()
	direct3x16()
	direct3s2x16()
	evenRows()
	rows()
	Generate()
}

// taps9 emits taps9AVX2: dst[t] = init[t] + Σ_k w[k]·src[k][t] over nine
// shifted source rows, 16 floats a step then one 8-float step; init is
// bias, or dst itself when acc is set. Two accumulators per vector (taps
// 0–4 and 5–8) halve the FMA dependency chain.
func taps9() {
	TEXT("taps9AVX2", NOSPLIT, "func(dst *float32, src *[9]*float32, w *[9]float32, bias float32, n int, acc bool)")
	Pragma("noescape") // else ps and ws of every Taps call are heap allocations
	Doc("taps9AVX2 sets dst[t] = bias + Σ_k w[k]·src[k][t] for t < n (dst[t] += Σ_k ... when acc);",
		"n is a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	srcArr := Load(Param("src"), GP64())
	wArr := Load(Param("w"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP8())
	ws := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8}
	for k, r := range ws {
		VBROADCASTSS(Mem{Base: wArr, Disp: 4 * k}, r)
	}
	bias := Y9
	VBROADCASTSS(NewParamAddr("bias", 24), bias)
	var src []Register
	for k := range 9 {
		r := GP64()
		MOVQ(Mem{Base: srcArr, Disp: 8 * k}, r)
		src = append(src, r)
	}
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(2), n) // n in bytes from here on
	// body accumulates one 8-float vector at byte offset disp from off.
	body := func(disp int, a0, a1 VecPhysical, fromDst bool) {
		if fromDst {
			VMOVUPS(Mem{Base: dst, Index: off, Scale: 1, Disp: disp}, a0)
		} else {
			VMOVAPS(bias, a0)
		}
		VMULPS(Mem{Base: src[5], Index: off, Scale: 1, Disp: disp}, ws[5], a1)
		for k := range 9 {
			if k == 5 {
				continue
			}
			a := a0
			if k > 5 {
				a = a1
			}
			VFMADD231PS(Mem{Base: src[k], Index: off, Scale: 1, Disp: disp}, ws[k], a)
		}
		VADDPS(a1, a0, a0)
		VMOVUPS(a0, Mem{Base: dst, Index: off, Scale: 1, Disp: disp})
	}
	loops := func(prefix string, fromDst bool) {
		Label(prefix + "_loop16")
		end16 := GP64()
		LEAQ(Mem{Base: off, Disp: 64}, end16)
		CMPQ(end16, n)
		JGT(LabelRef(prefix + "_tail"))
		body(0, Y10, Y11, fromDst)
		body(32, Y12, Y13, fromDst)
		ADDQ(U32(64), off)
		JMP(LabelRef(prefix + "_loop16"))
		Label(prefix + "_tail")
		CMPQ(off, n)
		JGE(LabelRef("taps9AVX2_done"))
		body(0, Y10, Y11, fromDst)
		JMP(LabelRef("taps9AVX2_done"))
	}
	TESTB(acc, acc)
	JNZ(LabelRef("taps9AVX2_acc_loop16"))
	loops("taps9AVX2_set", false)
	loops("taps9AVX2_acc", true)
	Label("taps9AVX2_done")
	VZEROUPPER()
	RET()
}
