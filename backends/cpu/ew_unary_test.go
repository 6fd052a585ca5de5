package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestEwUnary(t *testing.T) {
	x := ir.FromSlice(f32s(-2, -0.5, 0, 0.5, 2.5), 5)
	inf := math.Inf(1)
	cases := []struct {
		op    string
		attrs ir.Attrs
		x     *ir.Tensor
		want  []float64
	}{
		{"Abs", nil, x, []float64{2, 0.5, 0, 0.5, 2.5}},
		{"Neg", nil, x, []float64{2, 0.5, 0, -0.5, -2.5}},
		{"Sign", nil, x, []float64{-1, -1, 0, 1, 1}},
		{"Relu", nil, x, []float64{0, 0, 0, 0.5, 2.5}},
		{"Round", nil, x, []float64{-2, -0, 0, 0, 2}},
		{"Floor", nil, x, []float64{-2, -1, 0, 0, 2}},
		{"Ceil", nil, x, []float64{-2, -0, 0, 1, 3}},
		{"Exp", nil, x, []float64{math.Exp(-2), math.Exp(-0.5), 1, math.Exp(0.5), math.Exp(2.5)}},
		{"Reciprocal", nil, x, []float64{-0.5, -2, inf, 2, 0.4}},
		{"Erf", nil, x, []float64{math.Erf(-2), math.Erf(-0.5), 0, math.Erf(0.5), math.Erf(2.5)}},
		{"Sqrt", nil, ir.FromSlice([]float64{4, -1}, 2), []float64{2, math.NaN()}},
		{"Log", nil, ir.FromSlice([]float64{1, 0}, 2), []float64{0, math.Inf(-1)}},
		{"Atanh", nil, ir.FromSlice([]float64{0.5}, 1), []float64{math.Atanh(0.5)}},
		{"Abs", nil, ir.FromSlice([]int32{-3, 4}, 2), []float64{3, 4}},
		{"Sign", nil, ir.FromSlice([]uint8{0, 9}, 2), []float64{0, 1}},
		{"Relu", nil, ir.FromSlice([]int8{-3, 4}, 2), []float64{0, 4}},
		{"BitwiseNot", nil, ir.FromSlice([]int32{0, 5}, 2), []float64{-1, -6}},
		{"BitwiseNot", nil, ir.FromSlice([]uint8{0, 5}, 2), []float64{255, 250}},
		{"LeakyRelu", ir.Attrs{ir.FloatAttr("alpha", 0.5)}, x, []float64{-1, -0.25, 0, 0.5, 2.5}},
		{"Elu", nil, x, []float64{math.Expm1(-2), math.Expm1(-0.5), 0, 0.5, 2.5}},
		{"Selu", ir.Attrs{ir.FloatAttr("alpha", 2), ir.FloatAttr("gamma", 3)}, x, []float64{6 * math.Expm1(-2), 6 * math.Expm1(-0.5), 0, 1.5, 7.5}},
		{"Celu", ir.Attrs{ir.FloatAttr("alpha", 2)}, x, []float64{2 * math.Expm1(-1), 2 * math.Expm1(-0.25), 0, 0.5, 2.5}},
		{"Sigmoid", nil, x, []float64{1 / (1 + math.Exp(2)), 1 / (1 + math.Exp(0.5)), 0.5, 1 / (1 + math.Exp(-0.5)), 1 / (1 + math.Exp(-2.5))}},
		{"HardSigmoid", nil, x, []float64{0.1, 0.4, 0.5, 0.6, 1}},
		{"HardSwish", nil, x, []float64{-2 * (1.0 / 6), -0.5 * (2.5 / 6), 0, 0.5 * (3.5 / 6), 2.5 * (5.5 / 6)}},
		{"Softplus", nil, ir.FromSlice([]float64{0, 1000, -1000}, 3), []float64{math.Ln2, 1000, 0}},
		{"Softsign", nil, x, []float64{-2.0 / 3, -0.5 / 1.5, 0, 0.5 / 1.5, 2.5 / 3.5}},
		{"Mish", nil, ir.FromSlice([]float64{1}, 1), []float64{math.Tanh(math.Log1p(math.E))}},
		{"Gelu", nil, ir.FromSlice([]float64{1}, 1), []float64{0.5 * (1 + math.Erf(1/math.Sqrt2))}},
		{"Gelu", ir.Attrs{ir.StringAttr("approximate", "tanh")}, ir.FromSlice([]float64{1}, 1), []float64{0.5 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*1.044715))}},
		{"ThresholdedRelu", ir.Attrs{ir.FloatAttr("alpha", 0.5)}, x, []float64{0, 0, 0, 0, 2.5}},
		{"Shrink", ir.Attrs{ir.FloatAttr("lambd", 1), ir.FloatAttr("bias", 0.5)}, x, []float64{-1.5, 0, 0, 0, 2}},
		{"Shrink", ir.Attrs{ir.FloatAttr("lambd", 1.5), ir.FloatAttr("bias", 1.5)}, ir.FromSlice([]int8{-3, 1, 3}, 3), []float64{-1, 0, 1}},
		{"Swish", ir.Attrs{ir.FloatAttr("alpha", 2)}, ir.FromSlice([]float64{1}, 1), []float64{1 / (1 + math.Exp(-2))}},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			out := runOp(t, c.op, 24, c.attrs, 1, c.x)[0]
			if out.DType != c.x.DType {
				t.Fatalf("dtype %v, want %v", out.DType, c.x.DType)
			}
			assertClose(t, out, c.x.Shape, c.want, 1e-6)
		})
	}
}

func TestEwUnaryNarrowFloats(t *testing.T) {
	for _, dt := range []ir.DType{ir.Float16, ir.BFloat16} {
		x := &ir.Tensor{DType: dt, Shape: []int{2}, Data: []uint16{
			ir.Float32ToSmallFloat(dt, -1, true), ir.Float32ToSmallFloat(dt, 4, true)}}
		out := runOp(t, "Sqrt", 22, nil, 1, x)[0]
		if out.DType != dt {
			t.Fatalf("%v: dtype %v", dt, out.DType)
		}
		assertClose(t, out, []int{2}, []float64{math.NaN(), 2}, 0)
	}
}

func TestEwPredicates(t *testing.T) {
	x := ir.FromSlice([]float64{1, math.NaN(), math.Inf(1), math.Inf(-1)}, 4)
	check := func(name string, got *ir.Tensor, want ...bool) {
		t.Helper()
		d := got.Data.([]bool)
		for i := range want {
			if d[i] != want[i] {
				t.Fatalf("%s: %v, want %v", name, d, want)
			}
		}
	}
	check("IsNaN", runOp(t, "IsNaN", 20, nil, 1, x)[0], false, true, false, false)
	check("IsInf", runOp(t, "IsInf", 20, nil, 1, x)[0], false, false, true, true)
	check("IsInf neg", runOp(t, "IsInf", 20, ir.Attrs{ir.IntAttr("detect_positive", 0)}, 1, x)[0], false, false, false, true)
	f8 := &ir.Tensor{DType: ir.Float8E4M3FN, Shape: []int{2}, Data: []uint8{0x7F, 0x38}}
	check("IsNaN e4m3fn", runOp(t, "IsNaN", 20, nil, 1, f8)[0], true, false)
	check("Not", runOp(t, "Not", 1, nil, 1, ir.FromSlice([]bool{true, false}, 2))[0], false, true)
}

func TestEwClip(t *testing.T) {
	x := ir.FromSlice(f32s(-3, -1, 0, 2, 5), 5)
	out := runOp(t, "Clip", 13, nil, 1, x, ir.Scalar(float32(-1.5)), ir.Scalar(float32(2)))[0]
	assertClose(t, out, []int{5}, []float64{-1.5, -1, 0, 2, 2}, 0)
	out = runOp(t, "Clip", 13, nil, 1, x, nil, ir.Scalar(float32(0)))[0]
	assertClose(t, out, []int{5}, []float64{-3, -1, 0, 0, 0}, 0)
	out = runOp(t, "Clip", 13, nil, 1, x, ir.Scalar(float32(3)), ir.Scalar(float32(1)))[0]
	assertClose(t, out, []int{5}, []float64{1, 1, 1, 1, 1}, 0)
	out = runOp(t, "Clip", 6, ir.Attrs{ir.FloatAttr("min", -1)}, 1, x)[0]
	assertClose(t, out, []int{5}, []float64{-1, -1, 0, 2, 5}, 0)
	i := runOp(t, "Clip", 13, nil, 1, ir.FromSlice([]int8{-100, 100}, 2), ir.Scalar(int8(-5)))[0]
	assertClose(t, i, []int{2}, []float64{-5, 100}, 0)
	if _, err := tryOp("Clip", 13, nil, 1, x, ir.FromSlice(f32s(1, 2), 2)); !errors.Is(err, errShape) {
		t.Fatalf("Clip with a 2-element bound: want a shape error, got %v", err)
	}
}

func TestEwVariadic(t *testing.T) {
	a := ir.FromSlice(f32s(1, 5, 3), 3)
	b := ir.FromSlice(f32s(4, 2), 2, 1)
	c := ir.Scalar(float32(3))
	cases := []struct {
		op   string
		in   []*ir.Tensor
		want []float64
	}{
		{"Sum", []*ir.Tensor{a, b, c}, []float64{8, 12, 10, 6, 10, 8}},
		{"Max", []*ir.Tensor{a, b, c}, []float64{4, 5, 4, 3, 5, 3}},
		{"Min", []*ir.Tensor{a, b, c}, []float64{1, 3, 3, 1, 2, 2}},
		{"Mean", []*ir.Tensor{a, b, c}, []float64{8.0 / 3, 4, 10.0 / 3, 2, 10.0 / 3, 8.0 / 3}},
	}
	for _, c := range cases {
		out := runOp(t, c.op, 13, nil, 1, c.in...)[0]
		assertClose(t, out, []int{2, 3}, c.want, 1e-6)
	}
	one := runOp(t, "Max", 13, nil, 1, a)[0]
	assertClose(t, one, []int{3}, []float64{1, 5, 3}, 0)
	nan := runOp(t, "Max", 13, nil, 1, ir.FromSlice([]float64{math.NaN(), 1}, 2), ir.FromSlice([]float64{1, 2}, 2))[0]
	assertClose(t, nan, []int{2}, []float64{math.NaN(), 2}, 0)
	ints := runOp(t, "Min", 13, nil, 1, ir.FromSlice([]uint16{7, 1}, 2), ir.FromSlice([]uint16{3}, 1))[0]
	assertClose(t, ints, []int{2}, []float64{3, 1}, 0)
	if _, err := tryOp("Sum", 13, nil, 1, a, ir.FromSlice(f32s(1, 2), 2)); !errors.Is(err, errShape) {
		t.Fatalf("Sum of [3] and [2]: want a shape error, got %v", err)
	}
}

func TestEwWhere(t *testing.T) {
	c := ir.FromSlice([]bool{true, false, true}, 3)
	x := ir.FromSlice([]int64{1, 2}, 2, 1)
	y := ir.Scalar(int64(-1))
	out := runOp(t, "Where", 16, nil, 1, c, x, y)[0]
	assertClose(t, out, []int{2, 3}, []float64{1, -1, 1, 2, -1, 2}, 0)
	s := runOp(t, "Where", 16, nil, 1, ir.FromSlice([]bool{false, true}, 2), ir.FromSlice([]string{"a", "b"}, 2), ir.Scalar("z"))[0]
	if d := s.Data.([]string); d[0] != "z" || d[1] != "b" {
		t.Fatalf("Where strings: %q", d)
	}
	same := runOp(t, "Where", 16, nil, 1, c, ir.FromSlice(f32s(1, 2, 3), 3), ir.FromSlice(f32s(7, 8, 9), 3))[0]
	assertClose(t, same, []int{3}, []float64{1, 8, 3}, 0)
	if _, err := tryOp("Where", 16, nil, 1, c, ir.FromSlice(f32s(1, 2), 2), y); err == nil {
		t.Fatal("Where with bad shapes: want an error")
	}
}
