package eager_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradNormalization(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	eps := ir.FloatAttr("epsilon", 0.01)
	train := ir.IntAttr("training_mode", 1)
	bn := func(x *ir.Tensor, c int) []*ir.Tensor { return []*ir.Tensor{x, any(c), any(c), any(c), pos(c)} }
	cases := []gradCase{
		{name: "BatchNorm inference", op: "BatchNormalization", attrs: ir.Attrs{eps}, in: bn(any(2, 3, 2, 2), 3), diff: []int{0, 1, 2, 3, 4}},
		{name: "BatchNorm inference 2D", op: "BatchNormalization", in: bn(any(4, 3), 3), diff: []int{0, 1, 2, 3, 4}},
		{name: "BatchNorm-15 training", op: "BatchNormalization", attrs: ir.Attrs{eps, train}, in: bn(any(3, 2, 3), 2), diff: []int{0, 1, 2}, nout: 3, outs: []int{0}},
		{name: "BatchNorm-14 training Y only", op: "BatchNormalization", version: 14, attrs: ir.Attrs{eps, train}, in: bn(any(2, 2, 2, 2), 2), diff: []int{0, 1, 2}},
		{name: "BatchNorm-9 training", op: "BatchNormalization", version: 9, attrs: ir.Attrs{eps}, in: bn(any(3, 2, 2), 2), diff: []int{0, 1, 2}, nout: 5, outs: []int{0}},
		{name: "BatchNorm-9 inference", op: "BatchNormalization", version: 9, in: bn(any(2, 2, 3), 2), diff: []int{0, 1, 2, 3, 4}},
		{name: "BatchNorm-7 spatial=0 inference", op: "BatchNormalization", version: 7, attrs: ir.Attrs{ir.IntAttr("spatial", 0)}, in: []*ir.Tensor{any(2, 2, 3), any(2, 3), any(2, 3), any(2, 3), pos(2, 3)}, diff: []int{0, 1, 2, 3, 4}},
		{name: "BatchNorm-7 spatial=0 training", op: "BatchNormalization", version: 7, attrs: ir.Attrs{eps, ir.IntAttr("spatial", 0)}, in: []*ir.Tensor{any(4, 2, 3), any(2, 3), any(2, 3), any(2, 3), pos(2, 3)}, diff: []int{0, 1, 2}, nout: 5, outs: []int{0}},
		{name: "BatchNorm-6 is_test=0", op: "BatchNormalization", version: 6, attrs: ir.Attrs{eps}, in: bn(any(3, 2, 2), 2), diff: []int{0, 1, 2}, nout: 5, outs: []int{0}},
		{name: "BatchNorm-6 is_test=1", op: "BatchNormalization", version: 6, attrs: ir.Attrs{ir.IntAttr("is_test", 1)}, in: bn(any(3, 2, 2), 2), diff: []int{0, 1, 2, 3, 4}, nout: 5, outs: []int{0}},
		{name: "LayerNorm axis -1", op: "LayerNormalization", attrs: ir.Attrs{eps}, in: []*ir.Tensor{any(2, 3, 4), any(4), any(4)}, diff: []int{0, 1, 2}, nout: 3, outs: []int{0}},
		{name: "LayerNorm axis 1 no bias", op: "LayerNormalization", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3, 4), any(3, 4)}, diff: []int{0, 1}},
		{name: "LayerNorm axis 0 broadcast scale", op: "LayerNormalization", attrs: ir.Attrs{eps, ir.IntAttr("axis", 0)}, in: []*ir.Tensor{any(2, 3), any(3), any(1)}, diff: []int{0, 1, 2}},
		{name: "LayerNorm axis -2 per-row scale", op: "LayerNormalization", attrs: ir.Attrs{ir.IntAttr("axis", -2)}, in: []*ir.Tensor{any(2, 2, 3), any(2, 2, 3), any(2, 3)}, diff: []int{0, 1, 2}, nout: 2, outs: []int{0}},
		{name: "RMSNorm", op: "RMSNormalization", attrs: ir.Attrs{eps}, in: []*ir.Tensor{any(2, 3, 4), any(4)}, diff: []int{0, 1}},
		{name: "RMSNorm axis 1", op: "RMSNormalization", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3, 2), any(3, 2)}, diff: []int{0, 1}},
		{name: "InstanceNorm", op: "InstanceNormalization", attrs: ir.Attrs{eps}, in: []*ir.Tensor{any(2, 3, 2, 2), any(3), any(3)}, diff: []int{0, 1, 2}},
		{name: "InstanceNorm-6 1D", op: "InstanceNormalization", version: 6, in: []*ir.Tensor{any(2, 2, 5), any(2), any(2)}, diff: []int{0, 1, 2}},
		{name: "GroupNorm-21", op: "GroupNormalization", attrs: ir.Attrs{eps, ir.IntAttr("num_groups", 2)}, in: []*ir.Tensor{any(2, 4, 3), any(4), any(4)}, diff: []int{0, 1, 2}},
		{name: "GroupNorm-21 one group", op: "GroupNormalization", attrs: ir.Attrs{ir.IntAttr("num_groups", 1)}, in: []*ir.Tensor{any(2, 3, 2, 2), any(3), any(3)}, diff: []int{0, 1, 2}},
		{name: "GroupNorm-18", op: "GroupNormalization", version: 18, attrs: ir.Attrs{eps, ir.IntAttr("num_groups", 2)}, in: []*ir.Tensor{any(2, 4, 3), any(2), any(2)}, diff: []int{0, 1, 2}},
		{name: "LpNorm p=2", op: "LpNormalization", in: []*ir.Tensor{any(3, 4)}, diff: []int{0}},
		{name: "LpNorm p=1 axis 0", op: "LpNormalization", attrs: ir.Attrs{ir.IntAttr("p", 1), ir.IntAttr("axis", 0)}, in: []*ir.Tensor{any(3, 2, 2)}, diff: []int{0}},
		{name: "LpNorm-1 p=2 axis 1", op: "LpNormalization", version: 1, attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3, 2)}, diff: []int{0}},
		{name: "MVN default axes", op: "MeanVarianceNormalization", in: []*ir.Tensor{any(2, 3, 2, 2)}, diff: []int{0}},
		{name: "MVN axes 1", op: "MeanVarianceNormalization", attrs: ir.Attrs{ir.IntsAttr("axes", 1)}, in: []*ir.Tensor{any(2, 4)}, diff: []int{0}},
		{name: "MVN-9 axes -1,0", op: "MeanVarianceNormalization", version: 9, attrs: ir.Attrs{ir.IntsAttr("axes", -1, 0)}, in: []*ir.Tensor{any(3, 2, 3)}, diff: []int{0}},
		{name: "LRN size 3", op: "LRN", attrs: ir.Attrs{ir.IntAttr("size", 3), ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 0.75), ir.FloatAttr("bias", 1.5)}, in: []*ir.Tensor{any(2, 5, 2)}, diff: []int{0}},
		{name: "LRN size 2", op: "LRN", attrs: ir.Attrs{ir.IntAttr("size", 2), ir.FloatAttr("alpha", 0.8), ir.FloatAttr("beta", 0.6)}, in: []*ir.Tensor{any(1, 4, 2, 2)}, diff: []int{0}},
		{name: "LRN-1 size 4 2D", op: "LRN", version: 1, attrs: ir.Attrs{ir.IntAttr("size", 4), ir.FloatAttr("alpha", 0.3)}, in: []*ir.Tensor{any(3, 6)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// A zero vector is left as is by LpNormalization; its gradient is dY.
func TestGradLpNormZeroVector(t *testing.T) {
	x := eager.New([]float64{0, 0, 3, 4}, 2, 2)
	w := eager.New([]float64{1, 2, 1, 1}, 2, 2)
	tape := eager.NewTape()
	y := eager.Op("LpNormalization", ir.Attrs{ir.IntAttr("axis", 1)}, 1, x)[0]
	dx := tape.Gradient(eager.Sum(eager.Mul(y, w)), x)[0].Floats64()
	// row 1: y = (0.6, 0.8), dX = (w - y (w·y))/5 = ((1,1) - (0.6,0.8)·1.4)/5
	want := []float64{1, 2, (1 - 0.6*1.4) / 5, (1 - 0.8*1.4) / 5}
	for i := range want {
		if math.Abs(dx[i]-want[i]) > 1e-12 {
			t.Fatalf("dX = %v, want %v", dx, want)
		}
	}
}

// ReduceMax/ReduceMin in their attribute-axes forms (opsets 1 and 13) with
// two-way ties: the gradient is split evenly, which is what central
// differences measure at a two-way tie.
func TestGradReduceExtremaAttrForms(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	tied := f64([]float64{1, 3, 3, -1, 0.5, -2, 0.5, 2, 7, 7, -4, 1}, 3, 4)
	cases := []gradCase{
		{name: "ReduceMax-1 axes=1", op: "ReduceMax", version: 1, attrs: ir.Attrs{ir.IntsAttr("axes", 1)}, in: []*ir.Tensor{tied}, diff: []int{0}},
		{name: "ReduceMax-13 axes=-1 keepdims=0", op: "ReduceMax", version: 13, attrs: ir.Attrs{ir.IntsAttr("axes", -1), ir.IntAttr("keepdims", 0)}, in: []*ir.Tensor{tied}, diff: []int{0}},
		{name: "ReduceMax-13 all axes", op: "ReduceMax", version: 13, in: []*ir.Tensor{f64([]float64{1, 5, 5, 2}, 2, 2)}, diff: []int{0}},
		{name: "ReduceMax-11 axes=0,2", op: "ReduceMax", version: 11, attrs: ir.Attrs{ir.IntsAttr("axes", 0, 2)}, in: []*ir.Tensor{randT(r, -2, 2, 2, 3, 2)}, diff: []int{0}},
		{name: "ReduceMin-1 axes=0", op: "ReduceMin", version: 1, attrs: ir.Attrs{ir.IntsAttr("axes", 0)}, in: []*ir.Tensor{f64([]float64{1, -2, 1, 4, -2, 0}, 2, 3)}, diff: []int{0}},
		{name: "ReduceMin-13 axes=1 keepdims=0", op: "ReduceMin", version: 13, attrs: ir.Attrs{ir.IntsAttr("axes", 1), ir.IntAttr("keepdims", 0)}, in: []*ir.Tensor{tied}, diff: []int{0}},
		{name: "ReduceMin-18 axes input", op: "ReduceMin", version: 18, in: []*ir.Tensor{tied, i64(0)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradNormFamilySecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	eps := ir.FloatAttr("epsilon", 0.01)
	eq := func(e string) ir.Attrs { return ir.Attrs{ir.StringAttr("equation", e)} }
	cases := []struct {
		c gradCase
		j int
	}{
		{gradCase{name: "BatchNorm training", op: "BatchNormalization", attrs: ir.Attrs{eps, ir.IntAttr("training_mode", 1)}, in: []*ir.Tensor{any(3, 2, 2), any(2), any(2), any(2), pos(2)}}, 0},
		{gradCase{name: "BatchNorm inference var", op: "BatchNormalization", in: []*ir.Tensor{any(3, 2), any(2), any(2), any(2), pos(2)}}, 4},
		{gradCase{name: "LayerNorm", op: "LayerNormalization", attrs: ir.Attrs{eps}, in: []*ir.Tensor{any(2, 4), any(4), any(4)}}, 0},
		{gradCase{name: "GroupNorm-18", op: "GroupNormalization", version: 18, attrs: ir.Attrs{eps, ir.IntAttr("num_groups", 2)}, in: []*ir.Tensor{any(2, 4, 2), any(2), any(2)}}, 0},
		{gradCase{name: "LpNorm p=2", op: "LpNormalization", in: []*ir.Tensor{any(2, 3)}}, 0},
		{gradCase{name: "MVN", op: "MeanVarianceNormalization", attrs: ir.Attrs{ir.IntsAttr("axes", 1)}, in: []*ir.Tensor{any(2, 4)}}, 0},
		{gradCase{name: "LRN", op: "LRN", attrs: ir.Attrs{ir.IntAttr("size", 3), ir.FloatAttr("alpha", 0.5)}, in: []*ir.Tensor{any(1, 4, 2)}}, 0},
		{gradCase{name: "SoftmaxCE weights", op: "SoftmaxCrossEntropyLoss", in: []*ir.Tensor{any(3, 4), i64(1, 3, 0), pos(4)}}, 0},
		{gradCase{name: "CumProd zeros", op: "CumProd", in: []*ir.Tensor{f64([]float64{1.5, 0, -2, 0.5, -1, 2, 0.7, 1.2}, 2, 4), i64(1)}}, 0},
		{gradCase{name: "CumProd zeros excl reverse axis 0", op: "CumProd", attrs: ir.Attrs{ir.IntAttr("exclusive", 1), ir.IntAttr("reverse", 1)}, in: []*ir.Tensor{f64([]float64{1.5, 0, -2, 0.5, 0, 2, 0.7, 1.2, 0.9}, 3, 3), i64(0)}}, 0},
		{gradCase{name: "CumProd excl", op: "CumProd", attrs: ir.Attrs{ir.IntAttr("exclusive", 1)}, in: []*ir.Tensor{any(2, 4), i64(-1)}}, 0},
		{gradCase{name: "TopK", op: "TopK", in: []*ir.Tensor{any(2, 4), i64(2)}, nout: 2}, 0},
		{gradCase{name: "Einsum diagonal", op: "Einsum", attrs: eq("iij,jk->ik"), in: []*ir.Tensor{any(2, 2, 3), any(3, 2)}}, 0},
		{gradCase{name: "Det 3x3", op: "Det", in: []*ir.Tensor{any(3, 3)}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.c.name, func(t *testing.T) { checkGradientSecondOrder(t, tc.c, tc.j) })
	}
}

// The rules run in float32 too (constants take the input's dtype): their
// float32 gradients agree with the float64 ones.
func TestGradNormFamilyFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	eq := func(e string) ir.Attrs { return ir.Attrs{ir.StringAttr("equation", e)} }
	cases := []gradCase{
		{name: "BatchNorm training", op: "BatchNormalization", attrs: ir.Attrs{ir.IntAttr("training_mode", 1)}, in: []*ir.Tensor{any(3, 2, 2), any(2), any(2), any(2), pos(2)}, diff: []int{0, 1, 2}},
		{name: "BatchNorm inference", op: "BatchNormalization", in: []*ir.Tensor{any(3, 2, 2), any(2), any(2), any(2), pos(2)}, diff: []int{0, 1, 2, 3, 4}},
		{name: "LayerNorm", op: "LayerNormalization", in: []*ir.Tensor{any(2, 4), any(4), any(4)}, diff: []int{0, 1, 2}},
		{name: "RMSNorm", op: "RMSNormalization", in: []*ir.Tensor{any(2, 4), any(4)}, diff: []int{0, 1}},
		{name: "GroupNorm", op: "GroupNormalization", attrs: ir.Attrs{ir.IntAttr("num_groups", 2)}, in: []*ir.Tensor{any(2, 4, 2), any(4), any(4)}, diff: []int{0, 1, 2}},
		{name: "InstanceNorm", op: "InstanceNormalization", in: []*ir.Tensor{any(2, 2, 3), any(2), any(2)}, diff: []int{0, 1, 2}},
		{name: "LpNorm", op: "LpNormalization", attrs: ir.Attrs{ir.IntAttr("p", 1)}, in: []*ir.Tensor{any(2, 3)}, diff: []int{0}},
		{name: "MVN", op: "MeanVarianceNormalization", in: []*ir.Tensor{any(2, 2, 2, 2)}, diff: []int{0}},
		{name: "LRN", op: "LRN", attrs: ir.Attrs{ir.IntAttr("size", 3)}, in: []*ir.Tensor{any(1, 4, 2)}, diff: []int{0}},
		{name: "SoftmaxCE", op: "SoftmaxCrossEntropyLoss", attrs: ir.Attrs{ir.IntAttr("ignore_index", 0)}, in: []*ir.Tensor{any(4, 3), i64(1, 0, 2, 2), pos(3)}, diff: []int{0}},
		{name: "NLL", op: "NegativeLogLikelihoodLoss", in: []*ir.Tensor{any(4, 3), i64(1, 0, 2, 2), pos(3)}, diff: []int{0}},
		{name: "CumSum", op: "CumSum", in: []*ir.Tensor{any(2, 3), i64(1)}, diff: []int{0}},
		{name: "CumProd", op: "CumProd", in: []*ir.Tensor{f64([]float64{1, 0, 2, -1, 3, 0.5}, 2, 3), i64(1)}, diff: []int{0}},
		{name: "TopK", op: "TopK", in: []*ir.Tensor{any(2, 4), i64(2)}, diff: []int{0}, nout: 2},
		{name: "Einsum", op: "Einsum", attrs: eq("...ii,...->i"), in: []*ir.Tensor{any(2, 3, 3), any(2)}, diff: []int{0, 1}},
		{name: "Det", op: "Det", in: []*ir.Tensor{any(2, 3, 3)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradientFloat32(t, c) })
	}
}
