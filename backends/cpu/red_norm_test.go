package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func f32(shape []int, v ...float32) *ir.Tensor { return ir.FromSlice(v, shape...) }

func TestBatchNorm(t *testing.T) {
	x := f32([]int{2, 2}, 1, 2, 3, 4)
	scale, bias := f32([]int{2}, 1, 2), f32([]int{2}, 0, 1)
	mean, variance := f32([]int{2}, 0, 0), f32([]int{2}, 1, 1)
	eps0 := ir.Attrs{ir.FloatAttr("epsilon", 0)}
	// inference: y = x*scale + bias since mean 0, var 1
	y := runOp(t, "BatchNormalization", 15, eps0, 1, x, scale, bias, mean, variance)
	assertClose(t, y[0], []int{2, 2}, []float64{1, 5, 3, 9}, 1e-6)
	// training: batch mean (2, 3), batch var (1, 1)
	tr := append(eps0, ir.IntAttr("training_mode", 1))
	y = runOp(t, "BatchNormalization", 15, tr, 3, x, scale, bias, mean, variance)
	assertClose(t, y[0], []int{2, 2}, []float64{-1, -1, 1, 3}, 1e-6)
	assertClose(t, y[1], []int{2}, []float64{0.2, 0.3}, 1e-6)
	assertClose(t, y[2], []int{2}, []float64{1, 1}, 1e-6)
	// opset 7 with five outputs trains and also returns the batch statistics
	y = runOp(t, "BatchNormalization", 7, eps0, 5, x, scale, bias, mean, variance)
	assertClose(t, y[0], []int{2, 2}, []float64{-1, -1, 1, 3}, 1e-6)
	assertClose(t, y[3], []int{2}, []float64{2, 3}, 1e-6)
	assertClose(t, y[4], []int{2}, []float64{1, 1}, 1e-6)
	// opset 7, spatial=0: per-activation parameters (C x D1)
	x3 := f32([]int{1, 2, 2}, 1, 2, 3, 4)
	ones, zeros := f32([]int{2, 2}, 1, 1, 1, 1), f32([]int{2, 2}, 0, 0, 0, 0)
	fours := f32([]int{2, 2}, 4, 4, 4, 4)
	y = runOp(t, "BatchNormalization", 7, append(eps0, ir.IntAttr("spatial", 0)), 1, x3, ones, zeros, ones, fours)
	assertClose(t, y[0], []int{1, 2, 2}, []float64{0, 0.5, 1, 1.5}, 1e-6)
	if _, err := tryOp("BatchNormalization", 15, nil, 1, x, f32([]int{3}, 1, 1, 1), bias, mean, variance); err == nil {
		t.Fatal("scale of the wrong size accepted")
	}
}

func TestLayerAndRMSNorm(t *testing.T) {
	x := f32([]int{2, 2}, 1, 3, 2, 6)
	eps0 := ir.Attrs{ir.FloatAttr("epsilon", 0)}
	y := runOp(t, "LayerNormalization", 17, eps0, 3, x, f32([]int{2}, 2, 3), f32([]int{2}, 1, 1))
	assertClose(t, y[0], []int{2, 2}, []float64{-1, 4, -1, 4}, 1e-6)
	assertClose(t, y[1], []int{2, 1}, []float64{2, 4}, 1e-6)
	assertClose(t, y[2], []int{2, 1}, []float64{1, 0.5}, 1e-6)
	if y[1].DType != ir.Float32 {
		t.Fatalf("mean dtype %v", y[1].DType)
	}
	// axis 0 normalizes everything: mean 3, var 3.5
	y = runOp(t, "LayerNormalization", 17, append(eps0, ir.IntAttr("axis", 0)), 1, x, f32([]int{1}, 1))
	s := math.Sqrt(3.5)
	assertClose(t, y[0], []int{2, 2}, []float64{-2 / s, 0, -1 / s, 3 / s}, 1e-6)
	// RMS: x / sqrt(mean(x^2))
	r := math.Sqrt(12.5)
	y = runOp(t, "RMSNormalization", 23, eps0, 1, f32([]int{1, 2}, 3, 4), f32([]int{2}, 1, 2))
	assertClose(t, y[0], []int{1, 2}, []float64{3 / r, 8 / r}, 1e-6)
	if _, err := tryOp("LayerNormalization", 17, nil, 1, x, f32([]int{3}, 1, 1, 1)); err == nil {
		t.Fatal("scale that does not broadcast accepted")
	}
}

func TestInstanceAndGroupNorm(t *testing.T) {
	eps0 := ir.Attrs{ir.FloatAttr("epsilon", 0)}
	x := f32([]int{1, 2, 2}, 1, 3, 2, 6)
	y := runOp(t, "InstanceNormalization", 22, eps0, 1, x, f32([]int{2}, 1, 2), f32([]int{2}, 0, 1))
	assertClose(t, y[0], []int{1, 2, 2}, []float64{-1, 1, -1, 3}, 1e-6)
	g := f32([]int{1, 4, 1}, 1, 3, 2, 6)
	attrs := append(eps0, ir.IntAttr("num_groups", 2))
	y = runOp(t, "GroupNormalization", 21, attrs, 1, g, f32([]int{4}, 1, 2, 3, 4), f32([]int{4}, 0, 0, 0, 1))
	assertClose(t, y[0], []int{1, 4, 1}, []float64{-1, 2, -3, 5}, 1e-6)
	y = runOp(t, "GroupNormalization", 18, attrs, 1, g, f32([]int{2}, 1, 2), f32([]int{2}, 0, 1))
	assertClose(t, y[0], []int{1, 4, 1}, []float64{-1, 1, -1, 3}, 1e-6)
	bad := append(eps0, ir.IntAttr("num_groups", 3))
	if _, err := tryOp("GroupNormalization", 21, bad, 1, g, f32([]int{4}, 1, 1, 1, 1), f32([]int{4}, 0, 0, 0, 0)); err == nil {
		t.Fatal("4 channels in 3 groups accepted")
	}
}

func TestLpMVNLRN(t *testing.T) {
	x := f32([]int{2, 2}, 3, 4, 0, 0)
	y := runOp(t, "LpNormalization", 22, nil, 1, x)
	assertClose(t, y[0], []int{2, 2}, []float64{0.6, 0.8, 0, 0}, 1e-6)
	y = runOp(t, "LpNormalization", 1, ir.Attrs{ir.IntAttr("p", 1), ir.IntAttr("axis", 1)}, 1, x)
	assertClose(t, y[0], []int{2, 2}, []float64{3. / 7, 4. / 7, 0, 0}, 1e-6)

	m := f32([]int{1, 2, 1, 2}, 1, 3, 2, 6)
	y = runOp(t, "MeanVarianceNormalization", 13, nil, 1, m)
	assertClose(t, y[0], []int{1, 2, 1, 2}, []float64{-1, 1, -1, 1}, 1e-6)

	l := f32([]int{1, 3, 1, 1}, 1, 2, 3)
	attrs := ir.Attrs{ir.IntAttr("size", 3), ir.FloatAttr("alpha", 3), ir.FloatAttr("beta", 1), ir.FloatAttr("bias", 1)}
	y = runOp(t, "LRN", 13, attrs, 1, l)
	assertClose(t, y[0], []int{1, 3, 1, 1}, []float64{1. / 6, 2. / 15, 3. / 14}, 1e-6)
	// an even size looks one channel further ahead than behind
	attrs = ir.Attrs{ir.IntAttr("size", 2), ir.FloatAttr("alpha", 2), ir.FloatAttr("beta", 1), ir.FloatAttr("bias", 1)}
	y = runOp(t, "LRN", 13, attrs, 1, l)
	assertClose(t, y[0], []int{1, 3, 1, 1}, []float64{1. / 6, 2. / 14, 3. / 10}, 1e-6)
}

func TestDropout(t *testing.T) {
	x := f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	y := runOp(t, "Dropout", 22, nil, 2, x)
	assertClose(t, y[0], []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0)
	assertClose(t, y[1], []int{2, 3}, []float64{1, 1, 1, 1, 1, 1}, 0)
	if y[1].DType != ir.Bool {
		t.Fatalf("mask dtype %v", y[1].DType)
	}
	old := runOp(t, "Dropout", 7, nil, 2, x)
	if old[1].DType != ir.Float32 {
		t.Fatalf("opset 7 mask dtype %v", old[1].DType)
	}
	on := ir.Scalar(true)
	y = runOp(t, "Dropout", 22, nil, 1, x, ir.Scalar(float32(0)), on)
	assertClose(t, y[0], []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0)
	// numpy.random.seed(0); uniform draws 0.549 0.715 0.603 0.545 0.424 0.646
	y = runOp(t, "Dropout", 22, ir.Attrs{ir.IntAttr("seed", 0)}, 2, x, ir.Scalar(float32(0.5)), on)
	assertClose(t, y[0], []int{2, 3}, []float64{2, 4, 6, 8, 0, 12}, 1e-6)
	assertClose(t, y[1], []int{2, 3}, []float64{1, 1, 1, 1, 0, 1}, 0)
}

func TestMT19937MatchesReference(t *testing.T) {
	// First output of the reference generator for its default seed 5489.
	if got := redNewMT19937(5489).uint32(); got != 3499211612 {
		t.Fatalf("first draw %d", got)
	}
	if got := redNewMT19937(0).float64(); math.Abs(got-0.5488135039273248) > 1e-16 {
		t.Fatalf("numpy seed 0 sample %v", got)
	}
}

func TestLosses(t *testing.T) {
	x := f32([]int{2, 3}, -1, -2, -3, -0.5, -1.5, -2.5)
	tgt := ir.FromSlice([]int64{2, 0}, 2)
	w := f32([]int{3}, 1, 2, 3)
	red := func(r string) ir.Attrs { return ir.Attrs{ir.StringAttr("reduction", r)} }
	y := runOp(t, "NegativeLogLikelihoodLoss", 22, red("none"), 1, x, tgt, w)
	assertClose(t, y[0], []int{2}, []float64{9, 0.5}, 1e-6)
	y = runOp(t, "NegativeLogLikelihoodLoss", 22, red("sum"), 1, x, tgt, w)
	assertClose(t, y[0], []int{}, []float64{9.5}, 1e-6)
	y = runOp(t, "NegativeLogLikelihoodLoss", 22, red("mean"), 1, x, tgt, w)
	assertClose(t, y[0], []int{}, []float64{9.5 / 4}, 1e-6)
	y = runOp(t, "NegativeLogLikelihoodLoss", 22, append(red("mean"), ir.IntAttr("ignore_index", 0)), 1, x, tgt, w)
	assertClose(t, y[0], []int{}, []float64{3}, 1e-6)
	if _, err := tryOp("NegativeLogLikelihoodLoss", 22, nil, 1, x, ir.FromSlice([]int64{3, 0}, 2)); err == nil {
		t.Fatal("target out of range accepted")
	}
	s := runOp(t, "SoftmaxCrossEntropyLoss", 13, nil, 2, f32([]int{1, 2}, 0, 0), ir.FromSlice([]int32{1}, 1))
	assertClose(t, s[0], []int{}, []float64{math.Ln2}, 1e-6)
	assertClose(t, s[1], []int{1, 2}, []float64{-math.Ln2, -math.Ln2}, 1e-6)
}

func TestDet(t *testing.T) {
	y := runOp(t, "Det", 22, nil, 1, f32([]int{2, 2}, 1, 2, 3, 4))
	assertClose(t, y[0], []int{}, []float64{-2}, 1e-6)
	b := f32([]int{3, 2, 2}, 1, 0, 0, 1, 0, 1, 1, 0, 2, 4, 1, 2)
	y = runOp(t, "Det", 22, nil, 1, b)
	assertClose(t, y[0], []int{3}, []float64{1, -1, 0}, 1e-6)
	y = runOp(t, "Det", 11, nil, 1, ir.FromSlice([]float64{0, 0, 4, 0, 3, 0, 2, 0, 0}, 3, 3))
	assertClose(t, y[0], []int{}, []float64{-24}, 1e-12)
	if _, err := tryOp("Det", 22, nil, 1, f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)); err == nil {
		t.Fatal("non-square matrix accepted")
	}
}
