package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

func TestConvInteger(t *testing.T) {
	x := ir.FromSlice([]uint8{2, 3, 4, 5, 6, 7, 8, 9, 10}, 1, 1, 3, 3)
	w := ir.FromSlice([]uint8{1, 1, 1, 1}, 1, 1, 2, 2)
	got := runOp(t, "ConvInteger", 10, nil, 1, x, w, ir.Scalar[uint8](1))[0]
	if got.DType != ir.Int32 {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{1, 1, 2, 2}, []float64{12, 16, 24, 28}, 0)
	// Padding counts as the zero point (contributes 0).
	got = runOp(t, "ConvInteger", 10, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 1, x, w, ir.Scalar[uint8](1))[0]
	assertClose(t, got, []int{1, 1, 4, 4}, []float64{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}, 0)
	// Per-output-channel weight zero point.
	w2 := ir.FromSlice([]int8{2, 2, 2, 2, -1, -1, -1, -1}, 2, 1, 2, 2)
	xi := ir.FromSlice([]int8{1, 2, 3, 4}, 1, 1, 2, 2)
	got = runOp(t, "ConvInteger", 10, nil, 1, xi, w2, nil, ir.FromSlice([]int8{1, -2}, 2))[0]
	assertClose(t, got, []int{1, 2, 1, 1}, []float64{10, 10}, 0)
}

func TestMatMulInteger(t *testing.T) {
	a := ir.FromSlice([]uint8{11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, 4, 3)
	b := ir.FromSlice([]uint8{1, 4, 2, 5, 3, 6}, 3, 2)
	got := runOp(t, "MatMulInteger", 10, nil, 1, a, b, ir.Scalar[uint8](12), ir.Scalar[uint8](0))[0]
	assertClose(t, got, []int{4, 2}, []float64{-38, -83, -44, -98, -50, -113, -56, -128}, 0)
	// Per-row a zero point, per-column b zero point.
	got = runOp(t, "MatMulInteger", 10, nil, 1, a, b, ir.FromSlice([]uint8{11, 10, 9, 8}, 4), ir.FromSlice([]uint8{1, 4}, 2))[0]
	assertClose(t, got, []int{4, 2}, []float64{-20, -20, -20, -20, -20, -20, -20, -20}, 0)
}

func TestQLinearMatMul(t *testing.T) {
	a := ir.FromSlice([]uint8{208, 236, 0, 238, 3, 214, 255, 29}, 2, 4)
	b := ir.FromSlice([]uint8{152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247}, 4, 3)
	f := ir.Scalar[float32]
	got := runOp(t, "QLinearMatMul", 10, nil, 1, a, f(0.0066), ir.Scalar[uint8](113), b, f(0.00705), ir.Scalar[uint8](114), f(0.0107), ir.Scalar[uint8](118))[0]
	assertClose(t, got, []int{2, 3}, []float64{168, 115, 255, 1, 66, 151}, 0)
}

func TestQLinearConv(t *testing.T) {
	x := ir.FromSlice([]uint8{1, 2, 3, 4}, 1, 1, 2, 2)
	w := ir.FromSlice([]int8{1, -1}, 2, 1, 1, 1)
	f := ir.Scalar[float32]
	ws := ir.FromSlice([]float32{1, 0.5}, 2)
	got := runOp(t, "QLinearConv", 10, nil, 1, x, f(0.5), ir.Scalar[uint8](0), w, ws, ir.Scalar[int8](0), f(0.25), ir.Scalar[uint8](10))[0]
	if got.DType != ir.Uint8 {
		t.Fatalf("dtype %v", got.DType)
	}
	// channel 0: 2x+10; channel 1: -x+10.
	assertClose(t, got, []int{1, 2, 2, 2}, []float64{12, 14, 16, 18, 9, 8, 7, 6}, 0)
	bias := ir.FromSlice([]int32{3, -20}, 2)
	got = runOp(t, "QLinearConv", 10, nil, 1, x, f(0.5), ir.Scalar[uint8](0), w, ws, ir.Scalar[int8](0), f(0.25), ir.Scalar[uint8](10), bias)[0]
	assertClose(t, got, []int{1, 2, 2, 2}, []float64{18, 20, 22, 24, 0, 0, 0, 0}, 0)
}

func TestQLinearMatMulFloat8(t *testing.T) {
	f8 := func(v ...float32) *ir.Tensor {
		return fromFloat32(ir.FromSlice(v, len(v)), ir.Float8E4M3FN)
	}
	a := f8(1, 2, 3, 4).Reshaped(2, 2)
	b := f8(0.5, 1, -1, 2).Reshaped(2, 2)
	zero := f8(0).Reshaped()
	f := ir.Scalar[float32]
	// (a×b)*2*1/0.5 = 4*[[−1.5 5] [−2.5 11]].
	got := runOp(t, "QLinearMatMul", 21, nil, 1, a, f(2), zero, b, f(1), zero, f(0.5), zero)[0]
	if got.DType != ir.Float8E4M3FN {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{2, 2}, []float64{-6, 20, -10, 44}, 0)
}
