package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// convTransNaive is the reference twin of ConvTranspose: scatter every
// input value times every kernel tap.
func convTransNaive(x []float64, xs []int, w []float64, ws []int, group int, g *convGeom) []float64 {
	n, c := xs[0], xs[1]
	cg, mg := c/group, ws[1]
	m := mg * group
	r := len(g.in)
	inSize, kSize, outSize := ir.Size(g.in), ir.Size(g.kernel), ir.Size(g.out)
	inSt, kSt, oSt := stridesOf(g.in), stridesOf(g.kernel), stridesOf(g.out)
	y := make([]float64, n*m*outSize)
	for b := 0; b < n; b++ {
		for ic := 0; ic < c; ic++ {
			grp := ic / cg
			for ip := 0; ip < inSize; ip++ {
				for oc := 0; oc < mg; oc++ {
					for kk := 0; kk < kSize; kk++ {
						off, ok := 0, true
						for d := 0; d < r; d++ {
							i := ip / inSt[d] % g.in[d]
							k := kk / kSt[d] % g.kernel[d]
							o := i*g.strides[d] - g.padBegin[d] + k*g.dilations[d]
							if o < 0 || o >= g.out[d] {
								ok = false
								break
							}
							off += o * oSt[d]
						}
						if ok {
							y[(b*m+grp*mg+oc)*outSize+off] += x[(b*c+ic)*inSize+ip] * w[(ic*mg+oc)*kSize+kk]
						}
					}
				}
			}
		}
	}
	return y
}

func TestConvTransposeMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		name  string
		xs    []int
		ws    []int
		group int
		attrs ir.Attrs
		out   []int
	}{
		{"1d", []int{1, 1, 3}, []int{1, 2, 3}, 1, nil, []int{5}},
		{"2d", []int{2, 3, 4, 5}, []int{3, 2, 3, 3}, 1, nil, []int{6, 7}},
		{"2d strides pads", []int{1, 2, 3, 3}, []int{2, 3, 3, 3}, 1, ir.Attrs{
			ir.IntsAttr("strides", 3, 2), ir.IntsAttr("pads", 1, 2, 1, 2)}, []int{7, 3}},
		{"output_padding", []int{1, 1, 3, 3}, []int{1, 2, 3, 3}, 1, ir.Attrs{
			ir.IntsAttr("strides", 3, 2), ir.IntsAttr("output_padding", 1, 1)}, []int{10, 8}},
		{"output_shape", []int{1, 1, 3, 3}, []int{1, 2, 3, 3}, 1, ir.Attrs{
			ir.IntsAttr("strides", 3, 2), ir.IntsAttr("output_shape", 10, 8)}, []int{10, 8}},
		{"same upper", []int{1, 1, 3, 3}, []int{1, 2, 3, 3}, 1, ir.Attrs{
			ir.StringAttr("auto_pad", "SAME_UPPER"), ir.IntsAttr("strides", 2, 2)}, []int{6, 6}},
		{"dilations", []int{1, 1, 3, 3}, []int{1, 1, 2, 2}, 1, ir.Attrs{ir.IntsAttr("dilations", 2, 2)}, []int{5, 5}},
		{"groups", []int{1, 4, 3, 3}, []int{4, 2, 3, 3}, 2, ir.Attrs{ir.IntsAttr("strides", 2, 2)}, []int{7, 7}},
		{"3d", []int{1, 2, 3, 4, 5}, []int{2, 2, 3, 3, 3}, 1, ir.Attrs{ir.IntsAttr("strides", 1, 2, 1)}, []int{5, 9, 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, xd := convRandT(r, tc.xs...)
			w, wd := convRandT(r, tc.ws...)
			attrs := append(ir.Attrs{ir.IntAttr("group", int64(tc.group))}, tc.attrs...)
			c := convTrans{group: tc.group}
			c.win, _ = convReadWin("ConvTranspose", attrs)
			c.outPadding = attrs.Ints("output_padding", nil)
			c.outputShape = attrs.Ints("output_shape", nil)
			p, err := c.plan(tc.xs, tc.ws, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(p.geo.out, tc.out) {
				t.Fatalf("output spatial shape %v, want %v", p.geo.out, tc.out)
			}
			want := convTransNaive(xd, tc.xs, wd, tc.ws, tc.group, p.geo)
			got := runOp(t, "ConvTranspose", 22, attrs, 1, x, w)[0]
			assertClose(t, got, p.outShape(), want, 1e-5)
			x64 := &ir.Tensor{DType: ir.Float64, Shape: tc.xs, Data: xd}
			w64 := &ir.Tensor{DType: ir.Float64, Shape: tc.ws, Data: wd}
			got = runOp(t, "ConvTranspose", 22, attrs, 1, x64, w64)[0]
			assertClose(t, got, p.outShape(), want, 1e-12)
		})
	}
}

func TestConvTransposeExample(t *testing.T) {
	// ONNX convtranspose_1d: x [0 1 2], w ones (1,2,3) -> [0 1 3 3 2] twice.
	x := ir.FromSlice([]float32{0, 1, 2}, 1, 1, 3)
	w := ir.FromSlice([]float32{1, 1, 1, 1, 1, 1}, 1, 2, 3)
	b := ir.FromSlice([]float32{10, 20}, 2)
	got := runOp(t, "ConvTranspose", 11, nil, 1, x, w, b)[0]
	assertClose(t, got, []int{1, 2, 5}, []float64{10, 11, 13, 13, 12, 20, 21, 23, 23, 22}, 0)
}
