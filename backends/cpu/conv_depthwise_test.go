package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestDepthwiseF32MatchesTwin runs the phase-plane depthwise kernel against
// the direct reference convDepthwise (plus bias) over strides, dilations,
// kernel sizes, asymmetric pads, 1-D planes and depth multipliers.
func TestDepthwiseF32MatchesTwin(t *testing.T) {
	cases := []struct {
		xs, ws []int
		attrs  ir.Attrs
	}{
		{[]int{1, 3, 8, 8}, []int{3, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{2, 4, 9, 7}, []int{4, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}},
		{[]int{1, 2, 17, 20}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("strides", 2, 2)}},
		{[]int{1, 2, 15, 16}, []int{2, 1, 5, 5}, ir.Attrs{ir.IntsAttr("pads", 2, 1, 0, 2), ir.IntsAttr("strides", 1, 3)}},
		{[]int{1, 2, 12, 12}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 2, 2, 2, 2), ir.IntsAttr("dilations", 2, 2)}},
		{[]int{1, 2, 10, 11}, []int{6, 1, 3, 2}, ir.Attrs{ir.IntsAttr("pads", 1, 0, 1, 1)}}, // depth multiplier 3
		{[]int{2, 3, 30}, []int{3, 1, 4}, ir.Attrs{ir.IntsAttr("pads", 2, 1), ir.IntsAttr("strides", 2)}},
		{[]int{1, 2, 7, 7}, []int{2, 1, 7, 7}, ir.Attrs{ir.IntsAttr("pads", 3, 3, 3, 3)}},
		{[]int{1, 2, 5, 5}, []int{2, 1, 1, 1}, ir.Attrs{ir.IntsAttr("strides", 2, 2)}},
		{[]int{1, 2, 3, 3}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 4, 4, 4, 4), ir.IntsAttr("strides", 3, 3)}},
		// Direct planes (unit strides, output as wide as the input):
		{[]int{1, 3, 20, 33}, []int{3, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{1, 2, 9, 9}, []int{2, 1, 5, 5}, ir.Attrs{ir.IntsAttr("pads", 2, 2, 2, 2)}}, // 25 taps: chunked
		{[]int{1, 2, 10, 12}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 0, 2, 2, 0)}},
		{[]int{1, 2, 2, 2}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}}, // narrower than the kernel
		{[]int{1, 2, 2, 5}, []int{2, 1, 5, 3}, ir.Attrs{ir.IntsAttr("pads", 2, 1, 2, 1)}}, // no interior row
		{[]int{1, 2, 4, 40}, []int{2, 1, 1, 1}, nil},                                      // 1x1
		{[]int{2, 3, 50}, []int{3, 1, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1)}},            // 1-D
		{[]int{1, 2, 16, 16}, []int{4, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 2, 2, 2, 2), ir.IntsAttr("dilations", 2, 2)}},
		// MobileNet's small planes (dwconv.Plane: 7 and 14 columns, masked tails):
		{[]int{1, 5, 7, 7}, []int{5, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{2, 3, 14, 14}, []int{3, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}},
		{[]int{1, 2, 3, 1}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}}, // one column
		{[]int{1, 2, 9, 17}, []int{2, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 0, 1, 2, 0), ir.IntsAttr("strides", 2, 1)}},
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			attrs := append(ir.Attrs{ir.IntAttr("group", int64(tc.xs[1]))}, tc.attrs...)
			win, err := convReadWin("Conv", attrs)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := convRandT(r, tc.xs...)
			w, _ := convRandT(r, tc.ws...)
			bias, _ := convRandT(r, tc.ws[0])
			p, err := convPlan(win, tc.xs[1], tc.xs, tc.ws, bias)
			if err != nil {
				t.Fatal(err)
			}
			if !p.depthwise() {
				t.Fatal("not depthwise")
			}
			xf, wf, bf := x.Data.([]float32), w.Data.([]float32), bias.Data.([]float32)
			n := ir.Size(p.outShape())
			want := make([]float32, n)
			convDepthwise(p, xf, wf, want)
			convAddBias(want, bf, p.n, p.m, p.outSize)
			got := make([]float32, n)
			for j := range got {
				got[j] = float32(math.NaN()) // every output must be written
			}
			convDepthwiseF32(p, xf, wf, bf, got)
			for j := range want {
				if math.Abs(float64(got[j]-want[j])) > 1e-4*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("out %v: [%d] = %v, want %v", p.outShape(), j, got[j], want[j])
				}
			}
		})
	}
}
