package eager_test

import (
	"math"
	"slices"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// TestGradDequantizeLinear checks dL/dscale for L = Σ y·w, y = (x - zp)·scale,
// against Σ w·(x - zp) over the elements sharing each scale, computed here.
func TestGradDequantizeLinear(t *testing.T) {
	x := ir.FromSlice([]int8{-5, 3, 7, -2, 0, 9, 4, -8, 1, 6, -3, 2}, 2, 2, 3)
	w := make([]float32, 12)
	for i := range w {
		w[i] = float32(i%5) - 1.5
	}
	zp := func(v ...int8) *ir.Tensor { return ir.FromSlice(v, len(v)) }
	cases := []struct {
		name  string
		attrs ir.Attrs
		scale *ir.Tensor
		zp    *ir.Tensor
		group func(i int) int // which scale element x[i] uses
	}{
		{"per-tensor", nil, ir.Scalar(float32(0.25)), nil, func(int) int { return 0 }},
		{"per-tensor zero point", nil, ir.Scalar(float32(0.5)), ir.Scalar(int8(-3)), func(int) int { return 0 }},
		{"per-axis", nil, ir.FromSlice([]float32{0.5, 2}, 2), zp(1, -2), func(i int) int { return i / 3 % 2 }},
		{"per-axis last", ir.Attrs{ir.IntAttr("axis", -1)}, ir.FromSlice([]float32{0.5, 2, 1.5}, 3), nil, func(i int) int { return i % 3 }},
		{"blocked ragged", ir.Attrs{ir.IntAttr("axis", 2), ir.IntAttr("block_size", 2)},
			ir.FromSlice([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2), ir.FromSlice([]int8{0, 1, 2, 3, -1, -2, -3, 4}, 2, 2, 2),
			func(i int) int { return i/3*2 + i%3/2 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []*ir.Tensor{x, c.scale}
			if c.zp != nil {
				in = append(in, c.zp)
			}
			xs := upload(t, in)
			tape := eager.NewTape()
			y := eager.Op("DequantizeLinear", c.attrs, 1, xs...)[0]
			loss := eager.Sum(eager.Mul(y, eager.New(w, 2, 2, 3)))
			got := tape.Gradient(loss, xs[1])[0]
			if !slices.Equal(got.Shape(), c.scale.Shape) {
				t.Fatalf("gradient shape %v, scale shape %v", got.Shape(), c.scale.Shape)
			}
			want := make([]float64, c.scale.Len())
			xv := x.Data.([]int8)
			for i, v := range xv {
				k := c.group(i)
				z := 0.0
				if c.zp != nil {
					z = c.zp.Float64At(k)
				}
				want[k] += float64(w[i]) * (float64(v) - z)
			}
			for k, g := range got.Floats64() {
				if math.Abs(g-want[k]) > 1e-4 {
					t.Errorf("dscale[%d] = %g, want %g", k, g, want[k])
				}
			}
		})
	}
}

// TestGradNonDifferentiable: marked ops pass no gradient and raise no error;
// ArrayFeatureExtractor (ai.onnx.ml) scatters its gradient back.
func TestGradNonDifferentiable(t *testing.T) {
	x := eager.New([]float64{1, 2, 3, 4}, 2, 2)
	tape := eager.NewTape()
	noise := eager.Op("RandomUniformLike", ir.Attrs{ir.FloatAttr("seed", 1)}, 1, x)[0]
	loss := eager.Sum(eager.Mul(eager.Add(x, noise), x))
	g := tape.Gradient(loss, x)[0].Floats64()
	nv := noise.Floats64()
	for i, v := range []float64{1, 2, 3, 4} {
		if want := 2*v + nv[i]; math.Abs(g[i]-want) > 1e-12 {
			t.Errorf("d/dx[%d] = %g, want %g", i, g[i], want)
		}
	}
	// Z[i,j] = X[i,idx[j]]: dX[i,k] = Σ_{j: idx[j]=k} dZ[i,j].
	xs := eager.New([]float64{1, -2, 3, 0.5, 4, -1}, 2, 3)
	tape = eager.NewTape()
	z, err := eager.CallDomain("ai.onnx.ml", "ArrayFeatureExtractor", 1, nil, 1, xs, eager.New([]int64{2, 0, 2}, 3))
	if err != nil {
		t.Fatal(err)
	}
	dz := eager.New([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	got := tape.GradientWith(z[0], dz, xs)[0].Floats64()
	for i, want := range []float64{2, 0, 4, 5, 0, 10} {
		if got[i] != want {
			t.Errorf("ArrayFeatureExtractor: dX[%d] = %g, want %g", i, got[i], want)
		}
	}
}
