package eager_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// cnnGrads runs a small CNN (Conv, Relu, MaxPool, Conv) in float32 and
// returns the gradients of its weighted sum for the input and both weights.
func cnnGrads(t *testing.T, x, w1, w2, wy *eager.Tensor) [][]float64 {
	t.Helper()
	pad := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}
	pool := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	tape := eager.NewTape()
	h := eager.Op("Conv", pad, 1, x, w1)[0]
	h = eager.Op("MaxPool", pool, 1, eager.Relu(h))[0]
	y := eager.Op("Conv", ir.Attrs{ir.IntsAttr("strides", 2, 2)}, 1, h, w2)[0]
	gs := tape.Gradient(eager.Sum(eager.Mul(eager.Relu(y), wy)), x, w1, w2)
	out := make([][]float64, len(gs))
	for i, g := range gs {
		out[i] = g.Floats64()
	}
	return out
}

// TestFusedMatchesComposite: the fused kernels (float32 GEMM weight
// gradient, direct MaxPool and Relu gradients) give the composite path's
// gradients on a CNN big enough for the image and channel chunking.
func TestFusedMatchesComposite(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	f32 := func(shape ...int) *eager.Tensor {
		h := randT(r, -1, 1, shape...)
		return eager.Cast(upload(t, []*ir.Tensor{h})[0], ir.Float32)
	}
	x, w1, w2 := f32(9, 3, 16, 12), f32(8, 3, 3, 3), f32(5, 8, 3, 3)
	wy := f32(9, 5, 3, 2)
	fused := cnnGrads(t, x, w1, w2, wy)
	old := eager.SetFusedGradients(false)
	defer eager.SetFusedGradients(old)
	comp := cnnGrads(t, x, w1, w2, wy)
	for i := range fused {
		for e, want := range comp[i] {
			if got := fused[i][e]; math.Abs(got-want) > 1e-4+1e-4*math.Abs(want) {
				t.Fatalf("gradient %d [%d]: fused %.7g, composite %.7g", i, e, got, want)
			}
		}
	}
}

// TestFusedNotRecorded: a backward pass that a tape records (here the
// trace of an export) uses only ONNX ops, so it can be differentiated
// again and exported; an unrecorded one uses the private ops.
func TestFusedNotRecorded(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	in := upload(t, []*ir.Tensor{randT(r, -1, 1, 2, 2, 4, 4), randT(r, -1, 1, 3, 2, 3, 3)})
	x, w := in[0], in[1]
	pool := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	step := func() *eager.Tensor {
		tape := eager.NewTape()
		y := eager.Op("MaxPool", pool, 1, eager.Relu(eager.Op("Conv", nil, 1, x, w)[0]))[0]
		return tape.Gradient(eager.Sum(y), w)[0]
	}
	var inner *eager.Tensor
	ops := eager.Trace(func() { inner = step() })
	for _, op := range ops {
		if op.Domain == eager.KeenDomain {
			t.Errorf("a recorded backward pass ran private op %s", op.Op)
		}
	}
	if len(ops) == 0 {
		t.Fatal("the trace recorded nothing")
	}
	plain := step()
	a, b := inner.Floats64(), plain.Floats64()
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			t.Fatalf("dW[%d]: recorded %v, fused %v", i, a[i], b[i])
		}
	}
}

// TestFusedSecondOrder: a gradient of a gradient through Conv, MaxPool and
// Relu (the inner rules take the composite path under the outer tape).
func TestFusedSecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	c := gradCase{name: "Conv", op: "Conv", attrs: ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)},
		in: []*ir.Tensor{randT(r, -1, 1, 2, 2, 4, 4), randT(r, -1, 1, 3, 2, 3, 3)}, diff: []int{0, 1}}
	checkGradientSecondOrder(t, c, 1)
	checkGradientSecondOrder(t, c, 0)
}

// TestGradReluMaxPool checks MaxPool over a Relu's output, where the fused
// MaxPool gradient also does the Relu's masking, against central
// differences (windows of several geometries, many of them all negative).
func TestGradReluMaxPool(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []struct {
		name  string
		attrs ir.Attrs
		x     *ir.Tensor
	}{
		{"2x2", ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}, randT(r, -1, 0.5, 2, 2, 4, 6)},
		{"3x3 s2 pad", ir.Attrs{ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)}, randT(r, -1, 0.5, 1, 2, 5, 5)},
		{"1-D", ir.Attrs{ints("kernel_shape", 2)}, randT(r, -1, 0.5, 2, 1, 7)},
	}
	for _, fused := range []bool{true, false} {
		old := eager.SetFusedGradients(fused)
		for _, c := range cases {
			f := func(xs []*eager.Tensor) []*eager.Tensor {
				return eager.Op("MaxPool", c.attrs, 1, eager.Relu(xs[0]))
			}
			checkFn(t, c.name, []*ir.Tensor{c.x}, []int{0}, f, nonzero())
		}
		eager.SetFusedGradients(old)
	}
}

// TestGradReluMaxPoolSource: when the Relu's output is itself a source,
// its gradient is MaxPool's own (not masked for the Relu).
func TestGradReluMaxPoolSource(t *testing.T) {
	x := upload(t, []*ir.Tensor{f64([]float64{-1, -2, -3, -4, -1, -2, 3, 0.5}, 1, 1, 2, 4)})[0]
	pool := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	tape := eager.NewTape()
	h := eager.Relu(x)
	y := eager.Op("MaxPool", pool, 1, h)[0]
	gs := tape.Gradient(eager.Sum(y), h, x)
	// h = [0 0 0 0; 0 0 3 0.5]: window 1's maximum is the first 0 of row 0
	// (ties go to the first), window 2's is 3.
	want := [][]float64{{1, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 1, 0}}
	for k, g := range gs {
		for i, v := range g.Floats64() {
			if v != want[k][i] {
				t.Fatalf("gradient %d: %v, want %v", k, g.Floats64(), want[k])
			}
		}
	}
}
