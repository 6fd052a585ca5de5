// Command _asm generates dconv_amd64.s and dconv_stub_amd64.go, the
// AVX-512 kernels of package dconv, with avo. Run it through `go generate`
// in the parent package (`make generate`); it is its own module so that avo
// never becomes a dependency of Keen.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	rows3x3(1, 16)
	rows3x3(2, 8)
	grad3x3(1, 16)
	grad3x3(2, 8)
	copyRows()
	Generate()
}

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

// rows3x3 emits rows3x3V<nv>M<mb>: output rows of mb channels, nv vectors
// of 16 pixels each, of a 3x3 unit-stride convolution over padded planes.
// The accumulators (mb·nv registers) start at the bias; every tap of every
// input channel loads nv input vectors and adds them times each channel's
// weight, broadcast from memory.
func rows3x3(nv, mb int) {
	name := fmt.Sprintf("rows3x3V%dM%dAVX512", nv, mb)
	TEXT(name, NOSPLIT, "func(y, x, w, bias *float32, cin, xcs, xrs, ycs, rows, ysr int, mask uint16)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes rows output rows (byte stride ysr) of %d output channels", name, mb),
		"(byte stride ycs) from cin padded input planes (byte strides xcs, xrs);",
		fmt.Sprintf("w holds cin·9·%d weights (channel, tap, output channel), bias %d values.", mb, mb),
		fmt.Sprintf("Each row stores %d pixels, the last vector under mask.", 16*nv))
	acc := make([][]VecPhysical, mb)
	for m := range acc {
		acc[m] = zmm[m*nv : (m+1)*nv]
	}
	xv := zmm[mb*nv : mb*nv+3*nv] // three taps of a kernel row, nv vectors each
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	xrs := Load(Param("xrs"), GP64())
	rows := Load(Param("rows"), GP64())
	KMOVW(Load(Param("mask"), GP32()), K1)

	Label(name + "_row")
	bias := Load(Param("bias"), GP64())
	for m := range mb {
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * m}, acc[m][0])
		for v := 1; v < nv; v++ {
			VMOVAPS(acc[m][0], acc[m][v])
		}
	}
	w := Load(Param("w"), GP64())
	cin := Load(Param("cin"), GP64())
	xc := GP64()
	MOVQ(x, xc)
	Label(name + "_chan")
	rows3x3Taps(acc, xv, xc, xrs, w)
	ADDQ(U32(4*9*mb), w)
	ADDQ(NewParamAddr("xcs", 40), xc)
	DECQ(cin)
	JNZ(LabelRef(name + "_chan"))

	ycs := Load(Param("ycs"), GP64())
	yp := GP64()
	MOVQ(y, yp)
	for m := range mb {
		for v := range nv - 1 {
			VMOVUPS(acc[m][v], Mem{Base: yp, Disp: 64 * v})
		}
		VMOVUPS(acc[m][nv-1], K1, Mem{Base: yp, Disp: 64 * (nv - 1)})
		if m < mb-1 {
			ADDQ(ycs, yp)
		}
	}
	ADDQ(xrs, x)
	ADDQ(NewParamAddr("ysr", 72), y)
	DECQ(rows)
	JNZ(LabelRef(name + "_row"))
	for _, r := range xv { // upper halves of Z16–Z31 stay dirty through VZEROUPPER
		VPXORD(r, r, r)
	}
	VZEROUPPER()
	RET()
}

// rows3x3Taps emits the nine taps of one input channel at xc (row stride
// xrs) into the accumulators, the weights at w.
func rows3x3Taps(acc [][]VecPhysical, xv []VecPhysical, xc, xrs, w Register) {
	mb, nv := len(acc), len(acc[0])
	xr := GP64()
	MOVQ(xc, xr)
	for i := range 3 {
		for j := range 3 {
			for v := range nv {
				VMOVUPS(Mem{Base: xr, Disp: 4*j + 64*v}, xv[j*nv+v])
			}
		}
		for j := range 3 {
			for m := range mb {
				for v := range nv {
					VFMADD231PS_BCST(Mem{Base: w, Disp: 4 * ((i*3+j)*mb + m)}, xv[j*nv+v], acc[m][v])
				}
			}
		}
		if i < 2 {
			ADDQ(xrs, xr)
		}
	}
}

// grad3x3 emits grad3x3V<nv>M<mb>: the weight gradient's partial sums of a
// 3x3 unit-stride convolution over padded planes. For every input channel
// and tap, mb·nv accumulators (one vector of lane sums per output channel
// and row vector) are loaded from part, every output row adds dY's row of
// each output channel times the tap's shifted input row, and they go back
// to part. The last vector's FMAs run under the mask, so dY is never read
// past a row's width (masked lanes fault on nothing).
func grad3x3(nv, mb int) {
	name := fmt.Sprintf("grad3x3V%dM%dAVX512", nv, mb)
	TEXT(name, NOSPLIT, "func(part, x, dy *float32, cin, xcs, xrs, dycs, rows, dysr int, mask uint16)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds to part (cin·9·%d vectors of %d lane sums) the products of", name, mb, 16*nv),
		fmt.Sprintf("rows rows of dY (%d channels, byte strides dycs, dysr) and the shifted rows of", mb),
		"cin padded input planes (byte strides xcs, xrs); lanes outside mask are left alone.")
	acc := make([][]VecPhysical, mb)
	for m := range acc {
		acc[m] = zmm[m*nv : (m+1)*nv]
	}
	xv := zmm[mb*nv : mb*nv+nv]
	part := Load(Param("part"), GP64())
	xc := Load(Param("x"), GP64())
	xrs := Load(Param("xrs"), GP64())
	dycs := Load(Param("dycs"), GP64())
	cin := Load(Param("cin"), GP64())
	KMOVW(Load(Param("mask"), GP32()), K1)
	Label(name + "_chan")
	for i := range 3 {
		for j := range 3 {
			grad3x3Tap(fmt.Sprintf("%s_tap%d%d", name, i, j), i, j, acc, xv, part, xc, xrs, dycs)
			ADDQ(U32(64*mb*nv), part)
		}
	}
	ADDQ(NewParamAddr("xcs", 32), xc)
	DECQ(cin)
	JNZ(LabelRef(name + "_chan"))
	for _, r := range xv {
		VPXORD(r, r, r)
	}
	VZEROUPPER()
	RET()
}

// grad3x3Tap emits the loop over output rows of tap (i, j) of one input
// channel at xc: the lane sums come from part and go back to it.
func grad3x3Tap(tap string, i, j int, acc [][]VecPhysical, xv []VecPhysical, part, xc, xrs, dycs Register) {
	mb, nv := len(acc), len(acc[0])
	for m := range mb {
		for v := range nv {
			VMOVUPS(Mem{Base: part, Disp: 64 * (m*nv + v)}, acc[m][v])
		}
	}
	xr := GP64()
	MOVQ(xc, xr)
	for range i {
		ADDQ(xrs, xr)
	}
	dyr := Load(Param("dy"), GP64())
	cnt := Load(Param("rows"), GP64())
	Label(tap)
	for v := range nv {
		VMOVUPS(Mem{Base: xr, Disp: 4*j + 64*v}, xv[v])
	}
	dyp := GP64()
	MOVQ(dyr, dyp)
	for m := range mb {
		for v := range nv - 1 {
			VFMADD231PS(Mem{Base: dyp, Disp: 64 * v}, xv[v], acc[m][v])
		}
		VFMADD231PS(Mem{Base: dyp, Disp: 64 * (nv - 1)}, xv[nv-1], K1, acc[m][nv-1])
		if m < mb-1 {
			ADDQ(dycs, dyp)
		}
	}
	ADDQ(xrs, xr)
	ADDQ(NewParamAddr("dysr", 64), dyr)
	DECQ(cnt)
	JNZ(LabelRef(tap))
	for m := range mb {
		for v := range nv {
			VMOVUPS(acc[m][v], Mem{Base: part, Disp: 64 * (m*nv + v)})
		}
	}
}

// copyRows emits copyRowsAVX512: rows rows of up to 32 floats, each as two
// masked vectors (a zero mask reads and writes nothing).
func copyRows() {
	TEXT("copyRowsAVX512", NOSPLIT, "func(dst, src *float32, rows, dstStride, srcStride int, mask0, mask1 uint16)")
	Pragma("noescape")
	Doc("copyRowsAVX512 copies rows rows (byte strides dstStride, srcStride) of the lanes in mask0 and",
		"mask1 of two 16-float vectors.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	rows := Load(Param("rows"), GP64())
	ds := Load(Param("dstStride"), GP64())
	ss := Load(Param("srcStride"), GP64())
	KMOVW(Load(Param("mask0"), GP32()), K1)
	KMOVW(Load(Param("mask1"), GP32()), K2)
	Label("row")
	VMOVUPS_Z(Mem{Base: src}, K1, Z0)
	VMOVUPS_Z(Mem{Base: src, Disp: 64}, K2, Z1)
	VMOVUPS(Z0, K1, Mem{Base: dst})
	VMOVUPS(Z1, K2, Mem{Base: dst, Disp: 64})
	ADDQ(ds, dst)
	ADDQ(ss, src)
	DECQ(rows)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}
