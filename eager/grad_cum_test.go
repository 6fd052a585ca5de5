package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradCumTopK(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	flags := func(excl, rev int64) ir.Attrs {
		return ir.Attrs{ir.IntAttr("exclusive", excl), ir.IntAttr("reverse", rev)}
	}
	// zeros: one per row of the first, two in a row of the second, one at each end
	zeros := f64([]float64{1.5, 0, -2, 0.5, -1, 2, 0.7, 1.2, 0, 0.8, 0, -1.3}, 3, 4)
	zeros2 := f64([]float64{0, 1.5, -2, 0.5, 1.1, -1, 2, 0}, 2, 4)
	var cases []gradCase
	for _, f := range [][2]int64{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		name := func(s string) string {
			return s + [4]string{" incl", " excl", " reverse", " excl reverse"}[f[0]+2*f[1]]
		}
		cases = append(cases,
			gradCase{name: name("CumSum axis 1"), op: "CumSum", attrs: flags(f[0], f[1]), in: []*ir.Tensor{any(2, 4, 2), i64(1)}, diff: []int{0}},
			gradCase{name: name("CumProd axis -1"), op: "CumProd", attrs: flags(f[0], f[1]), in: []*ir.Tensor{any(2, 5), i64(-1)}, diff: []int{0}},
			gradCase{name: name("CumProd zeros"), op: "CumProd", attrs: flags(f[0], f[1]), in: []*ir.Tensor{zeros, i64(1)}, diff: []int{0}},
			gradCase{name: name("CumProd zeros axis 0"), op: "CumProd", attrs: flags(f[0], f[1]), in: []*ir.Tensor{zeros, i64(0)}, diff: []int{0}},
			gradCase{name: name("CumProd zeros at ends"), op: "CumProd", attrs: flags(f[0], f[1]), in: []*ir.Tensor{zeros2, i64(1)}, diff: []int{0}},
		)
	}
	cases = append(cases,
		gradCase{name: "CumSum-11 int32 axis", op: "CumSum", version: 11, in: []*ir.Tensor{any(3, 2), ir.FromSlice([]int32{0}, 1)}, diff: []int{0}},
		gradCase{name: "CumSum scalar axis", op: "CumSum", attrs: flags(1, 1), in: []*ir.Tensor{any(5), ir.Scalar(int64(0))}, diff: []int{0}},
		gradCase{name: "TopK largest", op: "TopK", in: []*ir.Tensor{any(3, 5), i64(2)}, diff: []int{0}, nout: 2},
		gradCase{name: "TopK smallest axis 0", op: "TopK", attrs: ir.Attrs{ir.IntAttr("axis", 0), ir.IntAttr("largest", 0)}, in: []*ir.Tensor{any(4, 3), i64(3)}, diff: []int{0}, nout: 2},
		gradCase{name: "TopK unsorted 3D", op: "TopK", attrs: ir.Attrs{ir.IntAttr("axis", 1), ir.IntAttr("sorted", 0)}, in: []*ir.Tensor{any(2, 4, 2), i64(2)}, diff: []int{0}, nout: 2},
		gradCase{name: "TopK all", op: "TopK", in: []*ir.Tensor{any(2, 3), i64(3)}, diff: []int{0}, nout: 2},
		gradCase{name: "TopK-10", op: "TopK", version: 10, in: []*ir.Tensor{any(2, 4), i64(1)}, diff: []int{0}, nout: 2},
		gradCase{name: "TopK-1 attribute k", op: "TopK", version: 1, attrs: ir.Attrs{ir.IntAttr("k", 2), ir.IntAttr("axis", 0)}, in: []*ir.Tensor{any(4, 2)}, diff: []int{0}, nout: 2},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// Under an outer tape the CumProd rule takes its twice-differentiable
	// O(n²) form: check its first derivative over the same cases.
	outer := eager.NewTape()
	defer outer.Stop()
	for _, c := range cases {
		if c.op == "CumProd" {
			t.Run(c.name+" (under outer tape)", func(t *testing.T) { checkGradient(t, c) })
		}
	}
}
