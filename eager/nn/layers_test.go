package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// refConvTranspose1D is a 1-D transposed convolution in plain Go loops:
// every input step i of channel c spreads x[n,c,i] w[c,o,k] to output
// position i*stride - padBegin + k*dilation of channel o (within c's group).
func refConvTranspose1D(l *nn.ConvTranspose, x *eager.Tensor) ([]float64, []int) {
	xs, ws := x.Floats64(), l.Weight.Floats64()
	n, cin, length := x.Dim(0), x.Dim(1), x.Dim(2)
	g := int(l.Groups)
	outPerGroup, k := l.Weight.Dim(1), l.Weight.Dim(2)
	cout := outPerGroup * g
	s, d := int(l.Strides[0]), int(l.Dilations[0])
	pb, pe, op := int(l.Pads[0]), int(l.Pads[1]), int(l.OutputPadding[0])
	outLen := (length-1)*s - pb - pe + d*(k-1) + op + 1
	y := make([]float64, n*cout*outLen)
	bias := l.Bias.Floats64()
	for b := 0; b < n; b++ {
		for o := 0; o < cout; o++ {
			for j := 0; j < outLen; j++ {
				y[(b*cout+o)*outLen+j] = bias[o]
			}
		}
		for c := 0; c < cin; c++ {
			grp := c / (cin / g)
			for ol := 0; ol < outPerGroup; ol++ {
				o := grp*outPerGroup + ol
				for i := 0; i < length; i++ {
					for kk := 0; kk < k; kk++ {
						j := i*s - pb + kk*d
						if j >= 0 && j < outLen {
							y[(b*cout+o)*outLen+j] += xs[(b*cin+c)*length+i] * ws[(c*outPerGroup+ol)*k+kk]
						}
					}
				}
			}
		}
	}
	return y, []int{n, cout, outLen}
}

// TestConvTranspose checks the 1-D layer against plain loops, and the
// gradients of 1-D and 2-D layers against differences.
func TestConvTranspose(t *testing.T) {
	for _, c := range []struct {
		name       string
		in, out, k int
		co         nn.ConvOptions
		outPad     int
		spatial    []int
	}{
		{"1d", 2, 3, 3, nn.ConvOptions{}, 0, []int{5}},
		{"1d-stride2-pad1-outpad1", 2, 3, 3, nn.ConvOptions{Stride: 2, Padding: 1}, 1, []int{4}},
		{"1d-groups2-dilation2", 4, 2, 3, nn.ConvOptions{Groups: 2, Dilation: 2, Stride: 3}, 0, []int{4}},
		{"1d-pad-beyond-kernel", 2, 2, 2, nn.ConvOptions{Stride: 2, Padding: 3}, 0, []int{6}},
		{"2d-stride2", 2, 3, 3, nn.ConvOptions{Stride: 2, Padding: 1}, 1, []int{3, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l *nn.ConvTranspose
			x := randF64(1, append([]int{2, c.in}, c.spatial...)...)
			if len(c.spatial) == 2 {
				l = nn.NewConvTranspose2D(c.in, c.out, c.k, c.co, c.outPad, nn.Seed(2), nn.DType(ir.Float64))
			} else {
				l = nn.NewConvTranspose1D(c.in, c.out, c.k, c.co, c.outPad, nn.Seed(2), nn.DType(ir.Float64))
				want, shape := refConvTranspose1D(l, x)
				got := l.Forward(x)
				if fmt.Sprint(got.Shape()) != fmt.Sprint(shape) {
					t.Fatalf("shape %v, want %v", got.Shape(), shape)
				}
				if d := maxDiff(t, got, eager.New(want, shape...)); d > 1e-12 {
					t.Fatalf("differs from the plain-loop reference by %g", d)
				}
			}
			checkGrads(t, c.name, func() *eager.Tensor { return l.Forward(x) }, withInput(l, x))
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
