package eager_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradActivation(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	wide := func(shape ...int) *ir.Tensor { return randT(r, -5, 5, shape...) }
	f := ir.FloatAttr
	cases := []gradCase{
		{name: "LeakyRelu default", op: "LeakyRelu", in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "LeakyRelu-1 alpha", op: "LeakyRelu", attrs: ir.Attrs{f("alpha", 0.2)}, in: []*ir.Tensor{any(2, 4)}, diff: []int{0}, version: 1},
		{name: "Elu", op: "Elu", attrs: ir.Attrs{f("alpha", 0.7)}, in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Elu-1", op: "Elu", in: []*ir.Tensor{any(8)}, diff: []int{0}, version: 1},
		{name: "Selu default", op: "Selu", in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Selu-6 attrs", op: "Selu", attrs: ir.Attrs{f("alpha", 1.5), f("gamma", 2)}, in: []*ir.Tensor{any(8)}, diff: []int{0}, version: 6},
		{name: "Celu", op: "Celu", attrs: ir.Attrs{f("alpha", 2)}, in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "HardSigmoid default", op: "HardSigmoid", in: []*ir.Tensor{wide(10)}, diff: []int{0}},
		{name: "HardSigmoid-6 attrs", op: "HardSigmoid", attrs: ir.Attrs{f("alpha", 0.3), f("beta", 0.4)}, in: []*ir.Tensor{wide(10)}, diff: []int{0}, version: 6},
		{name: "HardSwish", op: "HardSwish", in: []*ir.Tensor{wide(12)}, diff: []int{0}},
		{name: "Softplus", op: "Softplus", in: []*ir.Tensor{wide(8)}, diff: []int{0}},
		{name: "Softsign", op: "Softsign", in: []*ir.Tensor{wide(8)}, diff: []int{0}},
		{name: "Mish", op: "Mish", in: []*ir.Tensor{wide(8)}, diff: []int{0}},
		{name: "Gelu none", op: "Gelu", in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Gelu tanh", op: "Gelu", attrs: ir.Attrs{ir.StringAttr("approximate", "tanh")}, in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Swish default", op: "Swish", in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Swish alpha", op: "Swish", attrs: ir.Attrs{f("alpha", 0.5)}, in: []*ir.Tensor{wide(8)}, diff: []int{0}},
		{name: "ThresholdedRelu", op: "ThresholdedRelu", attrs: ir.Attrs{f("alpha", 0.5)}, in: []*ir.Tensor{any(8)}, diff: []int{0}},
		{name: "Shrink", op: "Shrink", attrs: ir.Attrs{f("bias", 0.3), f("lambd", 0.7)}, in: []*ir.Tensor{any(10)}, diff: []int{0}},
		{name: "Shrink default", op: "Shrink", in: []*ir.Tensor{any(10)}, diff: []int{0}},
		{name: "Asin", op: "Asin", in: []*ir.Tensor{randT(r, -0.9, 0.9, 6)}, diff: []int{0}},
		{name: "Acos", op: "Acos", in: []*ir.Tensor{randT(r, -0.9, 0.9, 6)}, diff: []int{0}},
		{name: "Atan", op: "Atan", in: []*ir.Tensor{wide(6)}, diff: []int{0}},
		{name: "Sinh", op: "Sinh", in: []*ir.Tensor{any(6)}, diff: []int{0}},
		{name: "Cosh", op: "Cosh", in: []*ir.Tensor{any(6)}, diff: []int{0}},
		{name: "Asinh", op: "Asinh", in: []*ir.Tensor{wide(6)}, diff: []int{0}},
		{name: "Acosh", op: "Acosh", in: []*ir.Tensor{randT(r, 1.2, 4, 6)}, diff: []int{0}},
		{name: "Atanh", op: "Atanh", in: []*ir.Tensor{randT(r, -0.9, 0.9, 6)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradPReluClipModDropout(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	sc := func(v float64) *ir.Tensor { return ir.Scalar(v) }
	train := ir.Scalar(true)
	seed := ir.Attrs{ir.IntAttr("seed", 3)}
	cases := []gradCase{
		{name: "PRelu slope last dim", op: "PRelu", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}},
		{name: "PRelu slope [3,1]", op: "PRelu", in: []*ir.Tensor{any(2, 3, 4), any(3, 1)}, diff: []int{0, 1}},
		{name: "PRelu same shape", op: "PRelu", in: []*ir.Tensor{any(2, 3), any(2, 3)}, diff: []int{0, 1}},
		{name: "PRelu-7 scalar slope", op: "PRelu", in: []*ir.Tensor{any(2, 3), any(1)}, diff: []int{0, 1}, version: 7},
		{name: "PRelu per-channel legacy", op: "PRelu", in: []*ir.Tensor{any(2, 3, 4), any(3)}, diff: []int{0, 1}, version: 6},
		{name: "PRelu per-channel 4-D", op: "PRelu", in: []*ir.Tensor{any(2, 3, 2, 2), any(3)}, diff: []int{0, 1}},
		{name: "Clip-13 bounds", op: "Clip", in: []*ir.Tensor{any(10), sc(-1), sc(0.8)}, diff: []int{0}},
		{name: "Clip-13 max only", op: "Clip", in: []*ir.Tensor{any(10), nil, sc(0.5)}, diff: []int{0}},
		{name: "Clip-13 no bounds", op: "Clip", in: []*ir.Tensor{any(10)}, diff: []int{0}},
		{name: "Clip-11 bounds", op: "Clip", in: []*ir.Tensor{any(10), sc(-1), sc(0.8)}, diff: []int{0, 1, 2}, version: 11},
		{name: "Clip-12 min only", op: "Clip", in: []*ir.Tensor{any(10), sc(-0.5)}, diff: []int{0, 1}, version: 12},
		{name: "Clip-11 max only", op: "Clip", in: []*ir.Tensor{any(10), nil, sc(0.3)}, diff: []int{0, 2}, version: 11},
		{name: "Clip-11 min > max", op: "Clip", in: []*ir.Tensor{any(6), sc(1), sc(-1)}, diff: []int{0, 1, 2}, version: 11},
		{name: "Clip-6 attrs", op: "Clip", attrs: ir.Attrs{ir.FloatAttr("min", -0.7), ir.FloatAttr("max", 1.2)}, in: []*ir.Tensor{any(10)}, diff: []int{0}, version: 6},
		{name: "Clip-6 defaults", op: "Clip", in: []*ir.Tensor{any(10)}, diff: []int{0}, version: 6},
		{name: "Clip-1 max only", op: "Clip", attrs: ir.Attrs{ir.FloatAttr("max", 0.2)}, in: []*ir.Tensor{any(10)}, diff: []int{0}, version: 1},
		{name: "Mod fmod", op: "Mod", attrs: ir.Attrs{ir.IntAttr("fmod", 1)}, in: []*ir.Tensor{randT(r, -5, 5, 8), randT(r, 0.7, 2, 8)}, diff: []int{0}},
		{name: "Mod-10 fmod both", op: "Mod", attrs: ir.Attrs{ir.IntAttr("fmod", 1)}, in: []*ir.Tensor{randT(r, -5, 5, 8), randT(r, -2, -0.7, 8)}, diff: []int{0, 1}, version: 10},
		{name: "Mod-10 floor both", op: "Mod", in: []*ir.Tensor{randT(r, -5, 5, 2, 4), randT(r, 0.7, 2, 4)}, diff: []int{0, 1}, version: 10},
		{name: "Dropout train mask", op: "Dropout", attrs: seed, in: []*ir.Tensor{any(4, 5), sc(0.3), train}, diff: []int{0}, nout: 2},
		{name: "Dropout train no mask", op: "Dropout", attrs: seed, in: []*ir.Tensor{any(4, 5), sc(0.6), train}, diff: []int{0}},
		{name: "Dropout-12 train", op: "Dropout", attrs: seed, in: []*ir.Tensor{any(20), sc(0.5), train}, diff: []int{0}, nout: 2, version: 12},
		{name: "Dropout ratio 1", op: "Dropout", attrs: seed, in: []*ir.Tensor{any(6), sc(1), train}, diff: []int{0}, nout: 2},
		{name: "Dropout inference", op: "Dropout", in: []*ir.Tensor{any(6), sc(0.4), ir.Scalar(false)}, diff: []int{0}, nout: 2},
		{name: "Dropout-7", op: "Dropout", attrs: ir.Attrs{ir.FloatAttr("ratio", 0.4)}, in: []*ir.Tensor{any(6)}, diff: []int{0}, nout: 2, version: 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// TestGradLegacyBroadcast checks the binary rules under the broadcast/axis
// attributes of opsets 1 and 6, where input 1 aligns with input 0 at axis,
// and other rules of grad_elementwise.go at old opsets.
func TestGradLegacyBroadcast(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	bc := func(axis int64) ir.Attrs { return ir.Attrs{ir.IntAttr("broadcast", 1), ir.IntAttr("axis", axis)} }
	cases := []gradCase{
		{name: "Add-6 axis 1", op: "Add", attrs: bc(1), in: []*ir.Tensor{any(2, 3, 4), any(3)}, diff: []int{0, 1}, version: 6},
		{name: "Add-6 axis 0 rank 2", op: "Add", attrs: bc(0), in: []*ir.Tensor{any(2, 3), any(2)}, diff: []int{0, 1}, version: 6},
		{name: "Add-6 trailing", op: "Add", attrs: ir.Attrs{ir.IntAttr("broadcast", 1)}, in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}, version: 6},
		{name: "Add-1 axis 1", op: "Add", attrs: bc(1), in: []*ir.Tensor{any(2, 3, 4), any(3, 1)}, diff: []int{0, 1}, version: 1},
		{name: "Sub-6 axis 0", op: "Sub", attrs: bc(0), in: []*ir.Tensor{any(2, 3, 4), any(2, 3)}, diff: []int{0, 1}, version: 6},
		{name: "Mul-6 axis 1", op: "Mul", attrs: bc(1), in: []*ir.Tensor{any(2, 3, 4, 2), any(3, 4)}, diff: []int{0, 1}, version: 6},
		{name: "Div-6 axis -2", op: "Div", attrs: bc(-2), in: []*ir.Tensor{any(2, 3, 4), pos(3)}, diff: []int{0, 1}, version: 6},
		{name: "Div-6 axis 2 trailing", op: "Div", attrs: bc(2), in: []*ir.Tensor{any(2, 3, 4), pos(4)}, diff: []int{0, 1}, version: 6},
		{name: "Pow-1 axis 0", op: "Pow", attrs: bc(0), in: []*ir.Tensor{pos(2, 3), any(2)}, diff: []int{0, 1}, version: 1},
		{name: "Mul-6 same shape", op: "Mul", in: []*ir.Tensor{any(2, 3), any(2, 3)}, diff: []int{0, 1}, version: 6},
		{name: "Pow-7 numpy", op: "Pow", in: []*ir.Tensor{pos(2, 3), any(3)}, diff: []int{0, 1}, version: 7},
		{name: "Sum-6", op: "Sum", in: []*ir.Tensor{any(2, 3), any(2, 3), any(2, 3)}, diff: []int{0, 1, 2}, version: 6},
		{name: "Mean-6", op: "Mean", in: []*ir.Tensor{any(4), any(4)}, diff: []int{0, 1}, version: 6},
		{name: "Max-6", op: "Max", in: []*ir.Tensor{any(5), any(5)}, diff: []int{0, 1}, version: 6},
		{name: "Min-8", op: "Min", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}, version: 8},
		{name: "Sigmoid-1", op: "Sigmoid", in: []*ir.Tensor{any(5)}, diff: []int{0}, version: 1},
		{name: "Tanh-6", op: "Tanh", in: []*ir.Tensor{any(5)}, diff: []int{0}, version: 6},
		{name: "Relu-6", op: "Relu", in: []*ir.Tensor{any(5)}, diff: []int{0}, version: 6},
		{name: "Sqrt-6", op: "Sqrt", in: []*ir.Tensor{pos(5)}, diff: []int{0}, version: 6},
		{name: "Where-9", op: "Where", in: []*ir.Tensor{ir.FromSlice([]bool{true, false}, 2), any(3, 2), any(2)}, diff: []int{1, 2}, version: 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// ewVals makes a float64 tensor on the default backend.
func ewVals(v ...float64) *eager.Tensor { return eager.New(v, len(v)) }

func ewNear(t *testing.T, what string, got []float64, want func(i int) float64) {
	t.Helper()
	for i, g := range got {
		if w := want(i); math.Abs(g-w) > 1e-9+1e-9*math.Abs(w) {
			t.Errorf("%s [%d]: got %.12g, want %.12g", what, i, g, w)
		}
	}
}

// TestGradSecondOrder differentiates a gradient: the outer tape records the
// ops the inner Gradient runs.
func TestGradSecondOrder(t *testing.T) {
	xv := []float64{-1.5, -0.3, 0.2, 0.9, 2}
	cases := []struct {
		name   string
		f      func(x *eager.Tensor) *eager.Tensor
		d1, d2 func(x float64) float64
	}{
		// tanh' = 1 - tanh², tanh'' = -2 tanh (1 - tanh²)
		{"tanh", eager.Tanh,
			func(x float64) float64 { y := math.Tanh(x); return 1 - y*y },
			func(x float64) float64 { y := math.Tanh(x); return -2 * y * (1 - y*y) }},
		// (x³)' = 3x², (x³)'' = 6x
		{"x*x*x", func(x *eager.Tensor) *eager.Tensor { return eager.Mul(eager.Mul(x, x), x) },
			func(x float64) float64 { return 3 * x * x },
			func(x float64) float64 { return 6 * x }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := ewVals(xv...)
			outer := eager.NewTape()
			inner := eager.NewTape()
			y := c.f(x)
			dx := inner.Gradient(y, x)[0]
			d2x := outer.Gradient(dx, x)[0]
			ewNear(t, "first derivative", dx.Floats64(), func(i int) float64 { return c.d1(xv[i]) })
			ewNear(t, "second derivative", d2x.Floats64(), func(i int) float64 { return c.d2(xv[i]) })
		})
	}
}

func TestGradPersistentTape(t *testing.T) {
	xv := []float64{0.5, -1, 2}
	x := ewVals(xv...)
	tape := eager.NewPersistentTape()
	y := eager.Mul(x, x) // dy/dx = 2x
	z := eager.Sin(y)    // dz/dx = 2x cos(x²)
	tape.Stop()
	dy := tape.Gradient(y, x)[0]
	dz := tape.Gradient(z, x)[0]
	tape.Release()
	ewNear(t, "d x²", dy.Floats64(), func(i int) float64 { return 2 * xv[i] })
	ewNear(t, "d sin(x²)", dz.Floats64(), func(i int) float64 { return 2 * xv[i] * math.Cos(xv[i]*xv[i]) })
}

func TestGradTapeUsedTwice(t *testing.T) {
	x := ewVals(1, 2)
	tape := eager.NewTape()
	y := eager.Exp(x)
	tape.Gradient(y, x)
	err := eager.Recover(func() { tape.Gradient(y, x) })
	if err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second Gradient on a non-persistent tape: got error %v, want one saying the tape was already used", err)
	}
}

func TestGradCustomGradient(t *testing.T) {
	xv := []float64{-2, 0.5, 3}
	x := ewVals(xv...)
	w := ewVals(1, 2, 3)
	tape := eager.NewTape()
	// Forward: x² (its ops are not recorded). Declared gradient: 10 x dy
	// (deliberately not 2x, so the test sees the custom rule run).
	out := eager.CustomGradient(
		func(in []*eager.Tensor) []*eager.Tensor { return []*eager.Tensor{eager.Mul(in[0], in[0])} },
		func(in, out, dOut []*eager.Tensor) []*eager.Tensor {
			return []*eager.Tensor{eager.Mul(dOut[0], eager.Mul(eager.ScalarLike(in[0], 10), in[0]))}
		}, x)
	loss := eager.Sum(eager.Mul(out[0], w))
	g := tape.Gradient(loss, x)[0]
	ewNear(t, "forward", out[0].Floats64(), func(i int) float64 { return xv[i] * xv[i] })
	wv := []float64{1, 2, 3}
	ewNear(t, "custom gradient", g.Floats64(), func(i int) float64 { return 10 * xv[i] * wv[i] })
}

// TestGradDropoutLayerMask checks the gradient through Dropout as eager/nn
// calls it (two outputs, training): dX = mask / (1 - ratio).
func TestGradDropoutLayerMask(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	xh := randT(r, 0.5, 2, 50)
	x, _ := eager.FromHost(nil, xh)
	const p = 0.25
	tape := eager.NewTape()
	outs := eager.Op("Dropout", ir.Attrs{ir.IntAttr("seed", 11)}, 2, x, eager.ScalarLike(x, p), eager.Full(x, ir.Bool, 1))
	g := tape.Gradient(outs[0], x)[0].Floats64()
	keep := outs[1].MustHost().Data.([]bool)
	kept := 0
	for i, k := range keep {
		want := 0.0
		if k {
			want, kept = 1/(1-p), kept+1
		}
		if math.Abs(g[i]-want) > 1e-12 {
			t.Fatalf("dX[%d] = %v, want %v (mask %v)", i, g[i], want, k)
		}
	}
	if kept == 0 || kept == len(keep) {
		t.Fatalf("mask kept %d of %d: want a mix", kept, len(keep))
	}
}

// TestGradElementwiseCoverage: every default-domain elementwise op has a
// rule or is marked non-differentiable.
func TestGradElementwiseCoverage(t *testing.T) {
	ops := []string{"Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh",
		"BitCast", "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "Cast",
		"CastLike", "Ceil", "Celu", "Clip", "Cos", "Cosh", "Div", "Dropout", "Elu", "Equal", "Erf",
		"Exp", "Floor", "Gelu", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish",
		"Identity", "IsInf", "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean",
		"Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or", "PRelu", "Pow", "Reciprocal", "Relu",
		"Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign",
		"Sqrt", "Sub", "Sum", "Swish", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor"}
	for _, op := range ops {
		if ir.LookupSchema("", op, eager.LatestOpset) == nil {
			t.Errorf("%s: no schema", op)
		}
		rule, nd := eager.GradientStatus("", op)
		if rule == nd {
			t.Errorf("%s: has rule %v, non-differentiable %v: want exactly one", op, rule, nd)
		}
	}
}

// TestGradActivationSecondOrder checks that the rules are differentiable
// again: the gradient of Σ v·∂/∂x Σ op(x)·w against central differences.
func TestGradActivationSecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	any := randT(r, -2, 2, 6)
	unit := randT(r, -0.9, 0.9, 6)
	cases := []struct {
		op    string
		attrs ir.Attrs
		x     *ir.Tensor
	}{
		{"Elu", ir.Attrs{ir.FloatAttr("alpha", 0.7)}, any}, {"Selu", nil, any}, {"Celu", ir.Attrs{ir.FloatAttr("alpha", 2)}, any},
		{"LeakyRelu", nil, any}, {"HardSwish", nil, randT(r, -5, 5, 6)}, {"Softplus", nil, any},
		{"Softsign", nil, any}, {"Mish", nil, any}, {"Gelu", nil, any},
		{"Gelu", ir.Attrs{ir.StringAttr("approximate", "tanh")}, any}, {"Swish", ir.Attrs{ir.FloatAttr("alpha", 0.5)}, any},
		{"Asin", nil, unit}, {"Acos", nil, unit}, {"Atan", nil, any}, {"Sinh", nil, any}, {"Cosh", nil, any},
		{"Asinh", nil, any}, {"Acosh", nil, randT(r, 1.2, 3, 6)}, {"Atanh", nil, unit},
	}
	w := eager.New(randT(r, -1, 1, 6).Data.([]float64), 6)
	for _, c := range cases {
		loss := func(xs []*eager.Tensor) *eager.Tensor {
			return eager.Sum(eager.Mul(eager.Op(c.op, c.attrs, 1, xs[0])[0], w))
		}
		checkSecondOrder(t, fmt.Sprintf("%s %v: second order", c.op, c.attrs), []*ir.Tensor{c.x}, []int{0}, 0, loss)
	}
}

// TestGradClipBoundsTags: Clip-13 tags min and max non-differentiable (zero
// gradient); Clip-11 leaves them untagged, so they get the clipped part.
func TestGradClipBoundsTags(t *testing.T) {
	for _, c := range []struct {
		version    int
		dmin, dmax float64
	}{{13, 0, 0}, {11, 2, 1}} {
		x := ewVals(-3, -2, 0, 0.5, 4)
		lo, hi := eager.Scalar(-1.0), eager.Scalar(1.0)
		tape := eager.NewTape()
		y, err := eager.CallDomain("", "Clip", c.version, nil, 1, x, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		g := tape.Gradient(y[0], x, lo, hi)
		ewNear(t, "dx", g[0].Floats64(), func(i int) float64 { return []float64{0, 0, 1, 1, 0}[i] })
		if g[1].Item() != c.dmin || g[2].Item() != c.dmax {
			t.Errorf("Clip-%d: dmin %v dmax %v, want %v %v", c.version, g[1].Item(), g[2].Item(), c.dmin, c.dmax)
		}
	}
}
