package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// convNaive is the reference twin of Conv: a direct loop in float64 over
// explicit geometry.
func convNaive(x []float64, xs []int, w []float64, ws []int, b []float64, group int, g *convGeom) ([]float64, []int) {
	n, c, m := xs[0], xs[1], ws[0]
	cg, mg := c/group, m/group
	r := len(g.in)
	outShape := append([]int{n, m}, g.out...)
	y := make([]float64, ir.Size(outShape))
	inSt, kSt, oSt := stridesOf(g.in), stridesOf(g.kernel), stridesOf(g.out)
	inSize, kSize, outSize := ir.Size(g.in), ir.Size(g.kernel), ir.Size(g.out)
	for bi := 0; bi < n; bi++ {
		for oc := 0; oc < m; oc++ {
			grp := oc / mg
			for op := 0; op < outSize; op++ {
				s := 0.0
				if b != nil {
					s = b[oc]
				}
				for ic := 0; ic < cg; ic++ {
					for kk := 0; kk < kSize; kk++ {
						off, ok := 0, true
						for d := 0; d < r; d++ {
							o := op / oSt[d] % g.out[d]
							k := kk / kSt[d] % g.kernel[d]
							i := o*g.strides[d] - g.padBegin[d] + k*g.dilations[d]
							if i < 0 || i >= g.in[d] {
								ok = false
								break
							}
							off += i * inSt[d]
						}
						if ok {
							s += x[(bi*c+grp*cg+ic)*inSize+off] * w[(oc*cg+ic)*kSize+kk]
						}
					}
				}
				y[(bi*m+oc)*outSize+op] = s
			}
		}
	}
	return y, outShape
}

func convRandT(r *rand.Rand, shape ...int) (*ir.Tensor, []float64) {
	n := ir.Size(shape)
	f := make([]float32, n)
	d := make([]float64, n)
	for i := range f {
		f[i] = float32(r.IntN(9) - 4)
		d[i] = float64(f[i])
	}
	return ir.FromSlice(f, shape...), d
}

func TestConvMatchesNaive(t *testing.T) {
	// Every path: wide (whole budget, or 100 floats to chunk channels), and
	// with wide off, implicit over padded planes, implicit with per-row
	// bounds, and explicit im2col.
	for _, c := range []struct {
		budget, wideMax  int
		implicit, padded bool
	}{{convWideBudget, 64, true, true}, {100, 64, true, true}, {convWideBudget, 0, true, true},
		{convWideBudget, 0, true, false}, {convWideBudget, 0, false, false}} {
		savedB, savedW, savedI, savedM := convWideBudget, convWideMaxOut, convImplicit, convImplicitMin
		savedP, savedPW, savedWino := convPadded, convPadWaste, convWinogradOn
		convWinogradOn = false // conv_winograd_test.go checks it
		convWideBudget, convWideMaxOut, convImplicit, convImplicitMin = c.budget, c.wideMax, c.implicit, 0
		convPadded, convPadWaste = c.padded, 0
		t.Run(fmt.Sprintf("budget %d wide %d implicit %v padded %v", c.budget, c.wideMax, c.implicit, c.padded), convCheckNaive)
		convWideBudget, convWideMaxOut, convImplicit, convImplicitMin = savedB, savedW, savedI, savedM
		convPadded, convPadWaste, convWinogradOn = savedP, savedPW, savedWino
	}
}

func convCheckNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name  string
		xs    []int
		ws    []int
		group int
		attrs ir.Attrs
	}{
		{"1d", []int{2, 3, 11}, []int{4, 3, 3}, 1, nil},
		{"1d strided dilated padded", []int{1, 2, 13}, []int{3, 2, 3}, 1, ir.Attrs{
			ir.IntsAttr("strides", 2), ir.IntsAttr("dilations", 2), ir.IntsAttr("pads", 1, 2)}},
		{"2d pointwise", []int{2, 5, 4, 6}, []int{7, 5, 1, 1}, 1, nil},
		{"2d 3x3 pad", []int{1, 3, 9, 8}, []int{4, 3, 3, 3}, 1, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"2d asym stride", []int{2, 4, 10, 7}, []int{6, 2, 3, 2}, 2, ir.Attrs{
			ir.IntsAttr("strides", 2, 3), ir.IntsAttr("pads", 0, 1, 2, 0)}},
		{"2d same upper", []int{1, 2, 7, 7}, []int{2, 2, 4, 4}, 1, ir.Attrs{
			ir.StringAttr("auto_pad", "SAME_UPPER"), ir.IntsAttr("strides", 2, 2)}},
		{"2d same lower", []int{1, 2, 7, 6}, []int{2, 2, 4, 3}, 1, ir.Attrs{ir.StringAttr("auto_pad", "SAME_LOWER")}},
		{"2d valid dilated", []int{1, 2, 9, 9}, []int{3, 2, 3, 3}, 1, ir.Attrs{
			ir.StringAttr("auto_pad", "VALID"), ir.IntsAttr("dilations", 2, 3)}},
		{"depthwise", []int{2, 4, 8, 9}, []int{4, 1, 3, 3}, 4, ir.Attrs{
			ir.IntsAttr("pads", 1, 0, 1, 2), ir.IntsAttr("strides", 1, 2)}},
		{"depthwise mult 2 dilated", []int{1, 3, 7, 7}, []int{6, 1, 3, 3}, 3, ir.Attrs{
			ir.IntsAttr("dilations", 2, 2), ir.IntsAttr("pads", 2, 2, 2, 2)}},
		{"depthwise 1d", []int{1, 3, 12}, []int{3, 1, 5}, 3, ir.Attrs{ir.IntsAttr("pads", 2, 2), ir.IntsAttr("strides", 3)}},
		// 3x3, stride 1, padding 1: dwconv.Direct3Planes (one plane a channel)
		// and Direct3 (two output channels an input channel).
		{"depthwise direct", []int{2, 5, 9, 20}, []int{5, 1, 3, 3}, 5, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"depthwise direct narrow", []int{1, 4, 7, 7}, []int{4, 1, 3, 3}, 4, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"depthwise direct mult 2", []int{1, 3, 6, 35}, []int{6, 1, 3, 3}, 3, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		// 3x3, stride 2, padding 1, even planes: dwconv.Direct3s2Planes.
		{"depthwise direct stride 2", []int{2, 5, 12, 40}, []int{5, 1, 3, 3}, 5, ir.Attrs{
			ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}},
		{"depthwise direct stride 2 no bottom pad", []int{1, 3, 8, 6}, []int{3, 1, 3, 3}, 3, ir.Attrs{
			ir.IntsAttr("pads", 1, 1, 0, 0), ir.IntsAttr("strides", 2, 2)}},
		{"3d", []int{1, 2, 5, 6, 4}, []int{3, 2, 3, 2, 2}, 1, ir.Attrs{
			ir.IntsAttr("pads", 1, 0, 1, 1, 1, 0), ir.IntsAttr("strides", 2, 1, 1)}},
		{"3d groups", []int{1, 4, 4, 4, 4}, []int{4, 2, 2, 2, 2}, 2, nil},
		{"batch of 5 over workers", []int{5, 4, 6, 6}, []int{6, 2, 3, 3}, 2, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"batch pointwise", []int{5, 3, 4, 4}, []int{2, 3, 1, 1}, 1, nil},
		{"wide: weight-gradient shape", []int{3, 6, 9, 9}, []int{4, 6, 8, 8}, 1, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"wide groups strided", []int{4, 4, 9, 8}, []int{6, 2, 3, 3}, 2, ir.Attrs{ir.IntsAttr("strides", 2, 2)}},
		{"wide 1d", []int{3, 2, 10}, []int{3, 2, 3}, 1, nil},
		{"big: depth blocks and panels", []int{1, 40, 30, 33}, []int{20, 40, 3, 3}, 1, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		// 192 outputs split the GEMM by columns, so a slab can start in a
		// short segment that lies wholly in the left padding.
		{"alexnet conv2 shape: 5x5 pad 2 on 27x27", []int{1, 8, 27, 27}, []int{192, 8, 5, 5}, 1, ir.Attrs{ir.IntsAttr("pads", 2, 2, 2, 2)}},
		{"big strided dilated", []int{1, 24, 37, 41}, []int{17, 24, 3, 3}, 1, ir.Attrs{
			ir.IntsAttr("pads", 2, 1, 0, 2), ir.IntsAttr("strides", 2, 3), ir.IntsAttr("dilations", 2, 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, xd := convRandT(r, tc.xs...)
			w, wd := convRandT(r, tc.ws...)
			b, bd := convRandT(r, tc.ws[0])
			attrs := append(ir.Attrs{ir.IntAttr("group", int64(tc.group))}, tc.attrs...)
			win, err := convReadWin("Conv", attrs)
			if err != nil {
				t.Fatal(err)
			}
			g, err := win.resolve(tc.xs[2:], tc.ws[2:])
			if err != nil {
				t.Fatal(err)
			}
			want, shape := convNaive(xd, tc.xs, wd, tc.ws, bd, tc.group, g)
			for range 3 { // later calls reuse prepared weights (prepared.go)
				got := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
				assertClose(t, got, shape, want, 1e-5)
			}
			x64 := &ir.Tensor{DType: ir.Float64, Shape: tc.xs, Data: xd}
			w64 := &ir.Tensor{DType: ir.Float64, Shape: tc.ws, Data: wd}
			got := runOp(t, "Conv", 22, attrs, 1, x64, w64)[0]
			want, _ = convNaive(xd, tc.xs, wd, tc.ws, nil, tc.group, g)
			assertClose(t, got, shape, want, 1e-12)
		})
	}
}

func TestConvBasicWithPadding(t *testing.T) {
	// ONNX's basic_conv example: 5×5 ramp, 3×3 ones, pads 1.
	x := make([]float32, 25)
	for i := range x {
		x[i] = float32(i)
	}
	w := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("pads", 1, 1, 1, 1)}
	got := runOp(t, "Conv", 11, attrs, 1, ir.FromSlice(x, 1, 1, 5, 5), ir.FromSlice(w, 1, 1, 3, 3))[0]
	want := []float64{12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84}
	assertClose(t, got, []int{1, 1, 5, 5}, want, 0)
	// Strided with asymmetric padding (conv_with_strides_and_asymmetric_padding).
	attrs = ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("pads", 1, 0, 1, 0), ir.IntsAttr("strides", 2, 2)}
	x7 := make([]float32, 35)
	for i := range x7 {
		x7[i] = float32(i)
	}
	got = runOp(t, "Conv", 11, attrs, 1, ir.FromSlice(x7, 1, 1, 7, 5), ir.FromSlice(w, 1, 1, 3, 3))[0]
	assertClose(t, got, []int{1, 1, 4, 2}, []float64{21, 33, 99, 117, 189, 207, 171, 183}, 0)
}

func TestConvErrors(t *testing.T) {
	x := ir.Zeros(ir.Float32, 1, 4, 5, 5)
	bad := []struct {
		name  string
		w     *ir.Tensor
		attrs ir.Attrs
	}{
		{"channels", ir.Zeros(ir.Float32, 2, 3, 3, 3), nil},
		{"rank", ir.Zeros(ir.Float32, 2, 4, 3), nil},
		{"group", ir.Zeros(ir.Float32, 2, 4, 3, 3), ir.Attrs{ir.IntAttr("group", 3)}},
		{"kernel too big", ir.Zeros(ir.Float32, 2, 4, 7, 7), nil},
		{"strides len", ir.Zeros(ir.Float32, 2, 4, 3, 3), ir.Attrs{ir.IntsAttr("strides", 1)}},
		{"zero stride", ir.Zeros(ir.Float32, 2, 4, 3, 3), ir.Attrs{ir.IntsAttr("strides", 1, 0)}},
		{"kernel attr", ir.Zeros(ir.Float32, 2, 4, 3, 3), ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2)}},
	}
	for _, tc := range bad {
		if _, err := tryOp("Conv", 22, tc.attrs, 1, x, tc.w); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
