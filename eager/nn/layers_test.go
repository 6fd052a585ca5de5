package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// TestConvTransposeMatchesOp checks the Conv-based ConvTranspose against the
// ONNX ConvTranspose op, and its gradients against differences.
func TestConvTransposeMatchesOp(t *testing.T) {
	for _, c := range []struct {
		name          string
		in, out, k    int
		co            nn.ConvOptions
		outPad        int
		spatial       []int
		twoD, gradChk bool
	}{
		{"1d", 2, 3, 3, nn.ConvOptions{}, 0, []int{5}, false, true},
		{"1d-stride2-pad1-outpad1", 2, 3, 3, nn.ConvOptions{Stride: 2, Padding: 1}, 1, []int{4}, false, true},
		{"1d-groups2-dilation2", 4, 2, 3, nn.ConvOptions{Groups: 2, Dilation: 2, Stride: 3}, 0, []int{4}, false, true},
		{"1d-pad-beyond-kernel", 2, 2, 2, nn.ConvOptions{Stride: 2, Padding: 3}, 0, []int{6}, false, false},
		{"2d-stride2", 2, 3, 3, nn.ConvOptions{Stride: 2, Padding: 1}, 1, []int{3, 4}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l *nn.ConvTranspose
			if c.twoD {
				l = nn.NewConvTranspose2D(c.in, c.out, c.k, c.co, c.outPad, nn.Seed(2), nn.DType(ir.Float64))
			} else {
				l = nn.NewConvTranspose1D(c.in, c.out, c.k, c.co, c.outPad, nn.Seed(2), nn.DType(ir.Float64))
			}
			x := randF64(1, append([]int{2, c.in}, c.spatial...)...)
			attrs := ir.Attrs{ir.IntsAttr("strides", l.Strides...), ir.IntsAttr("pads", l.Pads...),
				ir.IntsAttr("output_padding", l.OutputPadding...), ir.IntsAttr("dilations", l.Dilations...),
				ir.IntAttr("group", l.Groups)}
			want := eager.Op("ConvTranspose", attrs, 1, x, l.Weight, l.Bias)[0]
			got := l.Forward(x)
			if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
				t.Fatalf("shape %v, the op gives %v", got.Shape(), want.Shape())
			}
			if d := maxDiff(t, got, want); d > 1e-12 {
				t.Fatalf("differs from the ConvTranspose op by %g", d)
			}
			if c.gradChk {
				checkGrads(t, c.name, func() *eager.Tensor { return l.Forward(x) }, withInput(l, x))
			}
		})
	}
}

func TestPoolAndActivationLayers(t *testing.T) {
	x := eager.New([]float64{1, -3, 2, 5, -1, 0, 4, -2}, 1, 2, 4)
	for _, c := range []struct {
		name  string
		layer nn.Module
		want  []float64
	}{
		{"maxpool1d", nn.NewMaxPool1D(2, 0), []float64{1, 5, 0, 4}},
		{"maxpool1d-stride1", nn.NewMaxPool1D(3, 1), []float64{2, 5, 4, 4}},
		{"avgpool1d", nn.NewAvgPool1D(2, 0), []float64{-1, 3.5, -0.5, 1}},
		{"globalmaxpool", nn.GlobalMaxPool{}, []float64{5, 4}},
		{"softmax", nn.NewSoftmax(-1), softmaxRows([]float64{1, -3, 2, 5, -1, 0, 4, -2}, 4)},
		{"leakyrelu", nn.NewLeakyReLU(0.1), []float64{1, -0.3, 2, 5, -0.1, 0, 4, -0.2}},
		{"silu", nn.SiLU, mapF([]float64{1, -3, 2, 5, -1, 0, 4, -2}, func(v float64) float64 { return v / (1 + math.Exp(-v)) })},
		{"gelu", nn.GELU, mapF([]float64{1, -3, 2, 5, -1, 0, 4, -2}, func(v float64) float64 { return v * (1 + math.Erf(v/math.Sqrt2)) / 2 })},
		{"gelu-tanh", nn.GELUTanh, mapF([]float64{1, -3, 2, 5, -1, 0, 4, -2}, func(v float64) float64 {
			return v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))) / 2
		})},
	} {
		got := c.layer.Forward(x).Floats64()
		if len(got) != len(c.want) {
			t.Errorf("%s: %d values, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-6 {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
		// Values away from kinks and ties, so differences are smooth.
		xs := eager.New([]float64{0.3, -1.2, 0.7, 1.9, -0.4, 0.05, 1.1, -0.8}, 1, 2, 4)
		checkGrads(t, c.name, func() *eager.Tensor { return c.layer.Forward(xs) }, []nn.Named{{Name: "input", T: xs}})
	}
}

func softmaxRows(v []float64, n int) []float64 {
	out := make([]float64, len(v))
	for r := 0; r < len(v); r += n {
		s := 0.0
		for _, x := range v[r : r+n] {
			s += math.Exp(x)
		}
		for i, x := range v[r : r+n] {
			out[r+i] = math.Exp(x) / s
		}
	}
	return out
}

func mapF(v []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}
