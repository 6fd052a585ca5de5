package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestMxDFT(t *testing.T) {
	real4 := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 4, 1)
	// DFT([1 2 3 4]) = [10, -2+2i, -2, -2-2i]
	full := []float64{10, 0, -2, 2, -2, 0, -2, -2}
	cases := []struct {
		name    string
		version int
		attrs   ir.Attrs
		in      []*ir.Tensor
		shape   []int
		want    []float64
	}{
		{"forward v17", 17, nil, []*ir.Tensor{real4}, []int{1, 4, 2}, full},
		{"forward v20 axis input", 20, nil, []*ir.Tensor{real4, nil, ir.Scalar(int64(1))}, []int{1, 4, 2}, full},
		{"onesided", 20, ir.Attrs{ir.IntAttr("onesided", 1)}, []*ir.Tensor{real4}, []int{1, 3, 2}, full[:6]},
		{"zero-padded length 3 of [1 0 0]", 20, nil,
			[]*ir.Tensor{ir.FromSlice(mxF32(1, 0), 1, 2, 1), ir.Scalar(int64(3))}, []int{1, 3, 2}, []float64{1, 0, 1, 0, 1, 0}},
		{"inverse", 20, ir.Attrs{ir.IntAttr("inverse", 1)},
			[]*ir.Tensor{ir.FromSlice([]float32{10, 0, -2, 2, -2, 0, -2, -2}, 1, 4, 2)}, []int{1, 4, 2}, []float64{1, 0, 2, 0, 3, 0, 4, 0}},
		{"irfft", 20, ir.Attrs{ir.IntAttr("inverse", 1), ir.IntAttr("onesided", 1)},
			[]*ir.Tensor{ir.FromSlice([]float32{10, 0, -2, 2, -2, 0}, 1, 3, 2)}, []int{1, 4, 1}, []float64{1, 2, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOp(t, "DFT", c.version, c.attrs, 1, c.in...)
			assertClose(t, out[0], c.shape, c.want, 1e-5)
		})
	}
	// axis 2 of a (1, 2, 2, 1) input: columns [1 3] and [2 4] become rows of sums/differences.
	x := ir.FromSlice([]float64{1, 2, 3, 4}, 1, 2, 2, 1)
	out := runOp(t, "DFT", 17, ir.Attrs{ir.IntAttr("axis", 2)}, 1, x)
	assertClose(t, out[0], []int{1, 2, 2, 2}, []float64{3, 0, -1, 0, 7, 0, -1, 0}, 1e-12)
	if _, err := tryOp("DFT", 17, ir.Attrs{ir.IntAttr("axis", 3)}, 1, x); !errors.Is(err, errAttr) {
		t.Errorf("axis on the complex dim: %v", err)
	}
}

func TestMxSTFT(t *testing.T) {
	sig := ir.FromSlice(mxF32(1, 2, 3, 4, 5), 1, 5, 1)
	out := runOp(t, "STFT", 17, nil, 1, sig, ir.Scalar(int64(1)), nil, ir.Scalar(int64(4)))
	assertClose(t, out[0], []int{1, 2, 3, 2}, []float64{10, 0, -2, 2, -2, 0, 14, 0, -2, 2, -2, 0}, 1e-5)
	// A window of [0 1] over frames of 2 with step 2 keeps the odd samples.
	win := ir.FromSlice(mxF32(0, 1), 2)
	out = runOp(t, "STFT", 17, ir.Attrs{ir.IntAttr("onesided", 0)}, 1, sig, ir.Scalar(int64(2)), win)
	assertClose(t, out[0], []int{1, 2, 2, 2}, []float64{2, 0, -2, 0, 4, 0, -4, 0}, 1e-5)
}

func TestMxWindows(t *testing.T) {
	cases := []struct {
		op       string
		periodic int64
		size     int64
		want     []float64
	}{
		{"HannWindow", 1, 4, []float64{0, 0.5, 1, 0.5}},
		{"HannWindow", 0, 3, []float64{0, 1, 0}},
		{"HammingWindow", 0, 3, []float64{4.0 / 46, 1, 4.0 / 46}},
		{"BlackmanWindow", 1, 4, []float64{0, 0.34, 1, 0.34}},
	}
	for _, c := range cases {
		out := runOp(t, c.op, 17, ir.Attrs{ir.IntAttr("periodic", c.periodic)}, 1, ir.Scalar(c.size))
		assertClose(t, out[0], []int{int(c.size)}, c.want, 1e-6)
	}
	out := runOp(t, "HannWindow", 17, ir.Attrs{ir.IntAttr("output_datatype", int64(ir.Float64))}, 1, ir.Scalar(int32(2)))
	if out[0].DType != ir.Float64 {
		t.Errorf("output_datatype: got %v", out[0].DType)
	}
}

func TestMxMelWeightMatrix(t *testing.T) {
	// The ONNX example: 8 mel bins, DFT 16, 8192 Hz, 0..4096 Hz.
	in := []*ir.Tensor{ir.Scalar(int32(8)), ir.Scalar(int32(16)), ir.Scalar(int32(8192)), ir.Scalar(float32(0)), ir.Scalar(float32(4096))}
	out := runOp(t, "MelWeightMatrix", 17, nil, 1, in...)
	want := make([]float64, 9*8)
	for _, p := range [][2]int{{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}} {
		want[p[0]*8+p[1]] = 1
	}
	assertClose(t, out[0], []int{9, 8}, want, 0)
}

func TestMxNonMaxSuppression(t *testing.T) {
	// Boxes 0 and 1 overlap with IoU 0.9/1.1; box 2 is apart.
	boxes := ir.FromSlice(mxF32(0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 10, 1, 11), 1, 3, 4)
	scores := ir.FromSlice(mxF32(0.9, 0.95, 0.3), 1, 1, 3)
	maxOut := ir.Scalar(int64(3))
	iou := ir.Scalar(float32(0.5))
	out := runOp(t, "NonMaxSuppression", 11, nil, 1, boxes, scores, maxOut, iou)
	assertClose(t, out[0], []int{2, 3}, []float64{0, 0, 1, 0, 0, 2}, 0)
	// score threshold drops box 2; max 1 keeps only the best.
	out = runOp(t, "NonMaxSuppression", 11, nil, 1, boxes, scores, ir.Scalar(int64(1)), iou, ir.Scalar(float32(0.5)))
	assertClose(t, out[0], []int{1, 3}, []float64{0, 0, 1}, 0)
	// center format: (0.5, 0.5, 1, 1) is box 0 in corners.
	cb := ir.FromSlice(mxF32(0.5, 0.5, 1, 1, 0.5, 0.5, 1, 1), 1, 2, 4)
	out = runOp(t, "NonMaxSuppression", 11, ir.Attrs{ir.IntAttr("center_point_box", 1)}, 1,
		cb, ir.FromSlice(mxF32(0.1, 0.2), 1, 1, 2), maxOut, iou)
	assertClose(t, out[0], []int{1, 3}, []float64{0, 0, 1}, 0)
	if _, err := tryOp("NonMaxSuppression", 11, nil, 1, boxes, ir.FromSlice(mxF32(1), 1, 1, 1)); !errors.Is(err, errShape) {
		t.Errorf("scores of the wrong size: %v", err)
	}
}

func TestMxRandom(t *testing.T) {
	seed := ir.FloatAttr("seed", 3)
	attrs := ir.Attrs{seed, ir.IntsAttr("shape", 1000), ir.FloatAttr("low", 2), ir.FloatAttr("high", 4)}
	u := runOp(t, "RandomUniform", 22, attrs, 1)[0]
	n := runOp(t, "RandomNormal", 22, ir.Attrs{seed, ir.IntsAttr("shape", 1000), ir.FloatAttr("mean", 5)}, 1)[0]
	var su, sn float64
	for i := 0; i < 1000; i++ {
		v := u.Float64At(i)
		if v < 2 || v >= 4 {
			t.Fatalf("uniform value %v outside [2, 4)", v)
		}
		su += v
		sn += n.Float64At(i)
	}
	if math.Abs(su/1000-3) > 0.1 || math.Abs(sn/1000-5) > 0.15 {
		t.Errorf("means %v, %v; want about 3 and 5", su/1000, sn/1000)
	}
	again := runOp(t, "RandomUniform", 22, attrs, 1)[0]
	if again.Float64At(0) != u.Float64At(0) {
		t.Errorf("same seed, new kernel: %v vs %v", again.Float64At(0), u.Float64At(0))
	}
	like := runOp(t, "RandomNormalLike", 22, ir.Attrs{ir.IntAttr("dtype", int64(ir.Float64))}, 1, ir.Zeros(ir.Int32, 2, 3))[0]
	if like.DType != ir.Float64 || !equalInts(like.Shape, []int{2, 3}) {
		t.Errorf("RandomNormalLike: %v%v", like.DType, like.Shape)
	}
	p := ir.FromSlice([]float64{0, 1, 0, 1}, 4)
	b := runOp(t, "Bernoulli", 22, ir.Attrs{ir.IntAttr("dtype", int64(ir.Bool))}, 1, p)[0]
	assertClose(t, b, []int{4}, []float64{0, 1, 0, 1}, 0)
	logits := ir.FromSlice(mxF32(-100, 0, -100), 1, 3)
	m := runOp(t, "Multinomial", 22, ir.Attrs{ir.IntAttr("sample_size", 5)}, 1, logits)[0]
	assertClose(t, m, []int{1, 5}, []float64{1, 1, 1, 1, 1}, 0)
}
