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
