package cpu

// Helpers of the nx family (opset-27 sequence ops: CausalConvWithState,
// LinearAttention).

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

// nxCheckFloat accepts the float dtypes these ops compute in: float32,
// float16 and bfloat16 as ONNX allows, and float64 as an extension (the
// gradient checks run in float64).
func nxCheckFloat(op string, dt ir.DType, idx int) error {
	switch dt {
	case ir.Float32, ir.Float64, ir.Float16, ir.BFloat16:
		return nil
	}
	return fmt.Errorf("cpu: %s: %w: input %d is %v, want float, float16 or bfloat16", op, errDType, idx, dt)
}

// nxFloats returns t's values as []C, converting from any float dtype. When t
// already holds C its data is returned as is (callers must not modify it).
func nxFloats[C mxFloat](t *ir.Tensor) []C {
	if t == nil {
		return nil
	}
	if d, ok := t.Data.([]C); ok {
		return d
	}
	if d, ok := t.Data.([]float32); ok {
		out := make([]C, len(d))
		for i, v := range d {
			out[i] = C(v)
		}
		return out
	}
	out := make([]C, t.Len())
	for i := range out {
		out[i] = C(t.Float64At(i))
	}
	return out
}

// nxTensorAs wraps data (computed in C) as a tensor of dtype dt, converting
// when dt is not C's dtype.
func nxTensorAs[C mxFloat](data []C, shape []int, dt ir.DType) *ir.Tensor {
	var zero C
	src := &ir.Tensor{DType: nxDTypeOf(zero), Shape: shape, Data: data}
	if src.DType == dt {
		return src
	}
	if dt == ir.Float64 {
		out := make([]float64, len(data))
		for i, v := range data {
			out[i] = float64(v)
		}
		return &ir.Tensor{DType: ir.Float64, Shape: shape, Data: out}
	}
	f32 := make([]float32, len(data))
	for i, v := range data {
		f32[i] = float32(v)
	}
	return fromFloat32(&ir.Tensor{DType: ir.Float32, Shape: shape, Data: f32}, dt)
}

// nxDTypeOf is the ONNX dtype of a compute type.
func nxDTypeOf[C mxFloat](C) ir.DType {
	var v any = C(0)
	if _, ok := v.(float64); ok {
		return ir.Float64
	}
	return ir.Float32
}

// nxRounder returns a function that rounds a float32 value to the precision
// of dt (identity for float32 and float64).
func nxRounder(dt ir.DType) func(float32) float32 {
	if dt != ir.Float16 && dt != ir.BFloat16 {
		return func(v float32) float32 { return v }
	}
	return func(v float32) float32 {
		return ir.SmallFloatToFloat32(dt, ir.Float32ToSmallFloat(dt, v, true))
	}
}
