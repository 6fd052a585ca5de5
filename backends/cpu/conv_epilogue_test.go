package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

// fusedActs are the epilogues TestFusedConvMatchesPlain runs: FusedConv
// attributes, whether a residual is fed, and the plain op applied after
// Conv (+ Add).
var fusedActs = []struct {
	name     string
	attrs    ir.Attrs
	residual bool
	clipIn   bool // Clip bounds as inputs 4, 5
	plain    func(t *testing.T, y *ir.Tensor) *ir.Tensor
}{
	{"add", nil, true, false, nil},
	{"relu", ir.Attrs{ir.StringAttr("activation", "Relu")}, false, false,
		func(t *testing.T, y *ir.Tensor) *ir.Tensor { return runOp(t, "Relu", 14, nil, 1, y)[0] }},
	{"add-relu", ir.Attrs{ir.StringAttr("activation", "Relu")}, true, false,
		func(t *testing.T, y *ir.Tensor) *ir.Tensor { return runOp(t, "Relu", 14, nil, 1, y)[0] }},
	{"clip", ir.Attrs{ir.StringAttr("activation", "Clip")}, false, true,
		func(t *testing.T, y *ir.Tensor) *ir.Tensor {
			return runOp(t, "Clip", 13, nil, 1, y, ir.Scalar(float32(-2.5)), ir.Scalar(float32(6)))[0]
		}},
	{"clip-attr", ir.Attrs{ir.StringAttr("activation", "Clip"), ir.FloatAttr("min", 0.5)}, true, false,
		func(t *testing.T, y *ir.Tensor) *ir.Tensor {
			return runOp(t, "Clip", 6, ir.Attrs{ir.FloatAttr("min", 0.5)}, 1, y)[0]
		}},
	{"leaky", ir.Attrs{ir.StringAttr("activation", "LeakyRelu"), ir.FloatAttr("alpha", 0.25)}, true, false,
		func(t *testing.T, y *ir.Tensor) *ir.Tensor {
			return runOp(t, "LeakyRelu", 16, ir.Attrs{ir.FloatAttr("alpha", 0.25)}, 1, y)[0]
		}},
}

// TestFusedConvMatchesPlain runs FusedConv against Conv, Add and the
// activation as separate ops on every float32 conv path (pointwise in one
// and in several cache chunks, depthwise, padded and unpadded implicit
// GEMM, explicit im2col, the wide batched path, grouped), on one and two
// threads. The data are small integers, so both orders of work give the
// same floats and the comparison is exact.
func TestFusedConvMatchesPlain(t *testing.T) {
	cases := []struct {
		name   string
		xs, ws []int
		attrs  ir.Attrs
	}{
		{"pointwise", []int{1, 16, 12, 12}, []int{24, 16, 1, 1}, nil},
		{"pointwise-chunks", []int{1, 8, 80, 80}, []int{64, 8, 1, 1}, nil},
		{"pointwise-7x7", []int{1, 16, 7, 7}, []int{24, 16, 1, 1}, nil}, // one image: not the wide path
		{"pointwise-batch", []int{3, 8, 20, 20}, []int{32, 8, 1, 1}, nil},
		{"depthwise", []int{1, 6, 15, 15}, []int{6, 1, 3, 3}, ir.Attrs{ir.IntAttr("group", 6), ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"depthwise-s2", []int{2, 4, 16, 16}, []int{4, 1, 3, 3},
			ir.Attrs{ir.IntAttr("group", 4), ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}},
		{"padded", []int{1, 8, 20, 20}, []int{16, 8, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"padded-s2", []int{1, 3, 33, 33}, []int{8, 3, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}}, // the stem
		{"unpadded", []int{1, 3, 40, 6}, []int{5, 3, 3, 3}, nil},
		{"im2col-3d", []int{1, 2, 5, 5, 5}, []int{3, 2, 3, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1, 1, 1)}},
		{"wide", []int{4, 8, 5, 5}, []int{6, 8, 3, 3}, nil},
		{"grouped", []int{1, 4, 10, 10}, []int{6, 2, 3, 3}, ir.Attrs{ir.IntAttr("group", 2), ir.IntsAttr("pads", 1, 1, 1, 1)}},
	}
	defer setPoolThreads(Threads())
	r := rand.New(rand.NewPCG(3, 4))
	for _, threads := range []int{1, 2} {
		setPoolThreads(threads)
		for _, tc := range cases {
			x, _ := convRandT(r, tc.xs...)
			w, _ := convRandT(r, tc.ws...)
			b, _ := convRandT(r, tc.ws[0])
			y := runOp(t, "Conv", 11, tc.attrs, 1, x, w, b)[0]
			z, _ := convRandT(r, y.Shape...)
			for _, a := range fusedActs {
				t.Run(fmt.Sprintf("t%d/%s/%s", threads, tc.name, a.name), func(t *testing.T) {
					want := y
					in := []*ir.Tensor{x, w, b, nil}
					if a.residual {
						want = runOp(t, "Add", 14, nil, 1, want, z)[0]
						in[3] = z
					}
					if a.plain != nil {
						want = a.plain(t, want)
					}
					if a.clipIn {
						in = append(in, ir.Scalar(float32(-2.5)), ir.Scalar(float32(6)))
					}
					got := runOp2(t, keenDomain, "FusedConv", 1, append(slices.Clone(tc.attrs), a.attrs...), 1, in...)[0]
					fusedSame(t, got, want)
				})
			}
		}
	}
}

// fusedSame asserts equal shapes and equal values (NaN matching NaN).
func fusedSame(t *testing.T, got, want *ir.Tensor) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) || got.DType != want.DType {
		t.Fatalf("got %v%v, want %v%v", got.DType, got.Shape, want.DType, want.Shape)
	}
	g, w := fusedF64s(got), fusedF64s(want)
	for i := range g {
		if g[i] != w[i] && !(math.IsNaN(g[i]) && math.IsNaN(w[i])) {
			t.Fatalf("[%d] = %g, the plain ops give %g", i, g[i], w[i])
		}
	}
}

// TestFusedConvEdges: a residual that broadcasts, float64 (the plain
// kernels), a NaN Clip bound (NaN everywhere, as Clip gives), no bias, and
// the errors.
func TestFusedConvEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x, _ := convRandT(r, 1, 4, 6, 6)
	w, _ := convRandT(r, 5, 4, 3, 3)
	pads := ir.IntsAttr("pads", 1, 1, 1, 1)
	relu := ir.StringAttr("activation", "Relu")
	y := runOp(t, "Conv", 11, ir.Attrs{pads}, 1, x, w)[0]

	z, _ := convRandT(r, 1, 5, 1, 6) // broadcasts over rows
	want := runOp(t, "Relu", 14, nil, 1, runOp(t, "Add", 14, nil, 1, y, z)[0])[0]
	got := runOp2(t, keenDomain, "FusedConv", 1, ir.Attrs{pads, relu}, 1, x, w, nil, z)[0]
	fusedSame(t, got, want)

	x64, w64 := toF64(x), toF64(w)
	y64 := runOp(t, "Conv", 11, ir.Attrs{pads}, 1, x64, w64)[0]
	want = runOp(t, "Clip", 13, nil, 1, y64, ir.Scalar(-1.0), ir.Scalar(3.0))[0]
	got = runOp2(t, keenDomain, "FusedConv", 1, ir.Attrs{pads, ir.StringAttr("activation", "Clip")}, 1,
		x64, w64, nil, nil, ir.Scalar(-1.0), ir.Scalar(3.0))[0]
	fusedSame(t, got, want)

	got = runOp2(t, keenDomain, "FusedConv", 1, ir.Attrs{pads, ir.StringAttr("activation", "Clip")}, 1,
		x, w, nil, nil, ir.Scalar(float32(math.NaN())), ir.Scalar(float32(6)))[0]
	for i, v := range got.Data.([]float32) {
		if v == v {
			t.Fatalf("Clip with a NaN bound: [%d] = %g, want NaN", i, v)
		}
	}
	if _, err := tryOp2(keenDomain, "FusedConv", 1, ir.Attrs{ir.StringAttr("activation", "Gelu")}, 1, x, w); err == nil {
		t.Fatal("activation Gelu: want an error")
	}
	if _, err := tryOp2(keenDomain, "FusedConv", 1, ir.Attrs{ir.StringAttr("activation", "Clip")}, 1,
		x, w, nil, nil, ir.FromSlice(f32s(0, 1), 2)); err == nil {
		t.Fatal("Clip bound of 2 elements: want an error")
	}
}

func toF64(x *ir.Tensor) *ir.Tensor {
	return ir.FromSlice(fusedF64s(x), x.Shape...)
}

// fusedF64s reads a float32 or float64 tensor as float64s.
func fusedF64s(x *ir.Tensor) []float64 {
	if d, ok := x.Data.([]float64); ok {
		return d
	}
	d := x.Data.([]float32)
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}
