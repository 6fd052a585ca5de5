package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

func TestQuantizeLinear(t *testing.T) {
	x := ir.FromSlice([]float32{0, 2, 3, 1000, -254, -1000}, 6)
	got := runOp(t, "QuantizeLinear", 10, nil, 1, x, ir.Scalar[float32](2), ir.Scalar[uint8](128))[0]
	if got.DType != ir.Uint8 {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{6}, []float64{128, 129, 130, 255, 1, 0}, 0)
	// No zero point: uint8 output.
	got = runOp(t, "QuantizeLinear", 13, nil, 1, x, ir.Scalar[float32](2))[0]
	assertClose(t, got, []int{6}, []float64{0, 1, 2, 255, 0, 0}, 0)

	xa := ir.FromSlice([]float32{-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470}, 1, 3, 3, 2)
	got = runOp(t, "QuantizeLinear", 13, nil, 1, xa, ir.FromSlice([]float32{2, 4, 5}, 3), ir.FromSlice([]uint8{84, 24, 196}, 3))[0]
	assertClose(t, got, []int{1, 3, 3, 2}, []float64{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102}, 0)

	xb := ir.FromSlice([]float32{6, 12, 50, 5, 1, 8, 4, 5, 0, 20, 10, 4}, 3, 4)
	sb := ir.FromSlice([]float32{1.5, 2.5, 3, 4.9, 5.1, 6.9}, 3, 2)
	zb := ir.FromSlice([]uint8{0, 1, 2, 3, 4, 5}, 3, 2)
	blocked := ir.Attrs{ir.IntAttr("axis", 1), ir.IntAttr("block_size", 2)}
	got = runOp(t, "QuantizeLinear", 21, blocked, 1, xb, sb, zb)[0]
	assertClose(t, got, []int{3, 4}, []float64{4, 8, 21, 3, 2, 5, 4, 4, 4, 8, 6, 6}, 0)

	// int4 and int16 saturate; output_dtype picks the type without a zero point.
	x4 := ir.FromSlice([]float32{0, 100, -100, 2.5}, 4)
	got = runOp(t, "QuantizeLinear", 21, nil, 1, x4, ir.Scalar[float32](1), &ir.Tensor{DType: ir.Int4, Shape: []int{}, Data: []int8{0}})[0]
	if got.DType != ir.Int4 {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{4}, []float64{0, 7, -8, 2}, 0)
	got = runOp(t, "QuantizeLinear", 21, ir.Attrs{ir.IntAttr("output_dtype", int64(ir.Int16))}, 1, x4, ir.Scalar[float32](0.001))[0]
	assertClose(t, got, []int{4}, []float64{0, 32767, -32768, 2500}, 0)
	got = runOp(t, "QuantizeLinear", 25, ir.Attrs{ir.IntAttr("output_dtype", int64(ir.Int2))}, 1, x4, ir.Scalar[float32](1))[0]
	assertClose(t, got, []int{4}, []float64{0, 1, -2, 1}, 0)

	// float8 saturates at 448.
	x8 := ir.FromSlice([]float32{0, 0.5, 1, 448, 10000}, 5)
	zp8 := &ir.Tensor{DType: ir.Float8E4M3FN, Shape: []int{}, Data: []uint8{0}}
	got = runOp(t, "QuantizeLinear", 19, nil, 1, x8, ir.Scalar[float32](1), zp8)[0]
	if got.DType != ir.Float8E4M3FN {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{5}, []float64{0, 0.5, 1, 448, 448}, 0)
}

func TestDequantizeLinear(t *testing.T) {
	x := ir.FromSlice([]uint8{0, 3, 128, 255}, 4)
	got := runOp(t, "DequantizeLinear", 10, nil, 1, x, ir.Scalar[float32](2), ir.Scalar[uint8](128))[0]
	assertClose(t, got, []int{4}, []float64{-256, -250, 0, 254}, 0)
	xa := ir.FromSlice([]uint8{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102}, 1, 3, 3, 2)
	got = runOp(t, "DequantizeLinear", 13, nil, 1, xa, ir.FromSlice([]float32{2, 4, 5}, 3), ir.FromSlice([]uint8{84, 24, 196}, 3))[0]
	assertClose(t, got, []int{1, 3, 3, 2}, []float64{-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470}, 0)
	// Blocked along axis 0 with a remainder block, float16 output.
	xb := ir.FromSlice([]int8{1, 2, 3, 4, 5, 6}, 3, 2)
	sb := fromFloat32(ir.FromSlice([]float32{1, 10, 0.5, 2}, 2, 2), ir.Float16)
	got = runOp(t, "DequantizeLinear", 21, ir.Attrs{ir.IntAttr("axis", 0), ir.IntAttr("block_size", 2)}, 1, xb, sb)[0]
	if got.DType != ir.Float16 {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{3, 2}, []float64{1, 20, 3, 40, 2.5, 12}, 0)
	// int32 input has no zero point.
	got = runOp(t, "DequantizeLinear", 13, nil, 1, ir.FromSlice([]int32{-3, 1000000}, 2), ir.Scalar[float32](0.5))[0]
	assertClose(t, got, []int{2}, []float64{-1.5, 500000}, 0)
	// Bad per-axis scale.
	if _, err := tryOp("DequantizeLinear", 13, nil, 1, xa, ir.FromSlice([]float32{2, 4}, 2)); err == nil {
		t.Fatal("bad scale: no error")
	}
}

func TestDynamicQuantizeLinear(t *testing.T) {
	x := ir.FromSlice([]float32{0, 2, -3, -2.5, 1.34, 0.5}, 6)
	out := runOp(t, "DynamicQuantizeLinear", 11, nil, 3, x)
	assertClose(t, out[0], []int{6}, []float64{153, 255, 0, 26, 221, 179}, 0)
	assertClose(t, out[1], []int{}, []float64{5.0 / 255}, 1e-6)
	assertClose(t, out[2], []int{}, []float64{153}, 0)
	out = runOp(t, "DynamicQuantizeLinear", 11, nil, 3, ir.FromSlice([]float32{0, 0}, 2))
	assertClose(t, out[0], []int{2}, []float64{0, 0}, 0)
	assertClose(t, out[1], []int{}, []float64{1}, 0)
}
