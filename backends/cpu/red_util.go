package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// Helpers shared by the reduction and normalization family (files red_*.go).

// redNum is every real numeric Go element type.
type redNum interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// redFloat is the float element types kernels compute in.
type redFloat interface{ ~float32 | ~float64 }

// redIsFloat reports whether dt is float16, bfloat16, float32 or float64:
// the "tensor(float*)" constraint of the normalization ops.
func redIsFloat(dt ir.DType) bool {
	switch dt {
	case ir.Float16, ir.BFloat16, ir.Float32, ir.Float64:
		return true
	}
	return false
}

// redIsReal reports whether dt is a plain (non-bit-packed) integer or one of
// the four common float types.
func redIsReal(dt ir.DType) bool {
	switch dt {
	case ir.Int8, ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		return true
	}
	return redIsFloat(dt)
}

// redNeedFloat checks that input i has one of the four float dtypes.
func redNeedFloat(types []ir.DType, i int) error {
	dt := inputType(types, i)
	if !redIsFloat(dt) {
		return fmt.Errorf("%w: input %d has dtype %v, want a float type", errDType, i, dt)
	}
	return nil
}

// redF64 returns the values of a real numeric or bool tensor as a fresh
// float64 slice (small floats decoded).
func redF64(t *ir.Tensor) []float64 {
	switch s := t.Data.(type) {
	case []float32:
		return redConvSlice[float32, float64](s)
	case []float64:
		return append([]float64{}, s...)
	case []int32:
		return redConvSlice[int32, float64](s)
	case []int64:
		return redConvSlice[int64, float64](s)
	}
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Float64At(i)
	}
	return out
}

// redConvSlice converts every element of src.
func redConvSlice[S, D redNum](src []S) []D {
	out := make([]D, len(src))
	for i, v := range src {
		out[i] = D(v)
	}
	return out
}

// redFromF64 builds a tensor of dtype dt from float64 values: floats round,
// narrow floats round to nearest even, integers truncate toward zero
// (saturating at the type's range), bools are v != 0.
func redFromF64(vals []float64, dt ir.DType, shape []int) (*ir.Tensor, error) {
	t := &ir.Tensor{DType: dt, Shape: append([]int{}, shape...)}
	switch dt {
	case ir.Float32:
		t.Data = redConvSlice[float64, float32](vals)
	case ir.Float64:
		t.Data = vals
	case ir.Float16, ir.BFloat16:
		out := make([]uint16, len(vals))
		for i, v := range vals {
			out[i] = ir.Float32ToSmallFloat(dt, float32(v), true)
		}
		t.Data = out
	case ir.Int8:
		t.Data = redSatSlice[int8](vals, math.MinInt8, math.MaxInt8)
	case ir.Int16:
		t.Data = redSatSlice[int16](vals, math.MinInt16, math.MaxInt16)
	case ir.Int32:
		t.Data = redSatSlice[int32](vals, math.MinInt32, math.MaxInt32)
	case ir.Int64:
		t.Data = redSatSlice[int64](vals, math.MinInt64, math.MaxInt64)
	case ir.Uint8:
		t.Data = redSatSlice[uint8](vals, 0, math.MaxUint8)
	case ir.Uint16:
		t.Data = redSatSlice[uint16](vals, 0, math.MaxUint16)
	case ir.Uint32:
		t.Data = redSatSlice[uint32](vals, 0, math.MaxUint32)
	case ir.Uint64:
		t.Data = redSatSlice[uint64](vals, 0, math.MaxUint64)
	case ir.Bool:
		out := make([]bool, len(vals))
		for i, v := range vals {
			out[i] = v != 0
		}
		t.Data = out
	default:
		return nil, fmt.Errorf("%w: cannot produce %v", errDType, dt)
	}
	return t, nil
}

// redSatSlice converts float64 values to an integer type, clamping to
// [lo, hi] and mapping NaN to 0.
func redSatSlice[D redNum](vals []float64, lo, hi float64) []D {
	out := make([]D, len(vals))
	for i, v := range vals {
		switch {
		case v != v:
			out[i] = 0
		case v <= lo:
			out[i] = D(lo)
		case v >= hi:
			out[i] = redMaxOf[D]()
		default:
			out[i] = D(v)
		}
	}
	return out
}

// redMaxOf returns the largest value of an integer type.
func redMaxOf[D redNum]() D {
	var z D
	v := int64(math.MaxInt64)
	switch any(z).(type) {
	case int8:
		v = math.MaxInt8
	case int16:
		v = math.MaxInt16
	case int32:
		v = math.MaxInt32
	case int64:
	default:
		u := uint64(math.MaxUint64)
		return D(u) // truncates to the width of D
	}
	return D(v)
}

// redCastFloat converts a tensor of one of the four float dtypes to another.
func redCastFloat(t *ir.Tensor, dt ir.DType) (*ir.Tensor, error) {
	if t.DType == dt {
		return t, nil
	}
	if t.DType == ir.Float32 && dt.IsSmallFloat() {
		return fromFloat32(t, dt), nil
	}
	if dt == ir.Float32 && t.DType.IsSmallFloat() {
		return toFloat32(t), nil
	}
	return redFromF64(redF64(t), dt, t.Shape)
}

// redCompute converts a float tensor to its compute type: narrow floats to
// float32, float32 and float64 unchanged.
func redCompute(t *ir.Tensor) *ir.Tensor {
	if t != nil && t.DType.IsSmallFloat() {
		return toFloat32(t)
	}
	return t
}

// redShapeStr formats shapes for error messages.
func redShapeStr(t *ir.Tensor) string {
	if t == nil {
		return "<missing>"
	}
	return fmt.Sprint(t.Shape)
}

// redI64 returns the values of an integer tensor as int64 (uint64 wraps).
func redI64(t *ir.Tensor) []int64 {
	switch s := t.Data.(type) {
	case []int8:
		return redConvSlice[int8, int64](s)
	case []int16:
		return redConvSlice[int16, int64](s)
	case []int32:
		return redConvSlice[int32, int64](s)
	case []int64:
		return s
	case []uint8:
		return redConvSlice[uint8, int64](s)
	case []uint16:
		return redConvSlice[uint16, int64](s)
	case []uint32:
		return redConvSlice[uint32, int64](s)
	case []uint64:
		return redConvSlice[uint64, int64](s)
	}
	return nil
}

// redFromI64 builds an integer tensor of dtype dt from int64 values,
// wrapping as a Go conversion does.
func redFromI64(vals []int64, dt ir.DType, shape []int) (*ir.Tensor, error) {
	t := &ir.Tensor{DType: dt, Shape: append([]int{}, shape...)}
	switch dt {
	case ir.Int8:
		t.Data = redConvSlice[int64, int8](vals)
	case ir.Int16:
		t.Data = redConvSlice[int64, int16](vals)
	case ir.Int32:
		t.Data = redConvSlice[int64, int32](vals)
	case ir.Int64:
		t.Data = vals
	case ir.Uint8:
		t.Data = redConvSlice[int64, uint8](vals)
	case ir.Uint16:
		t.Data = redConvSlice[int64, uint16](vals)
	case ir.Uint32:
		t.Data = redConvSlice[int64, uint32](vals)
	case ir.Uint64:
		t.Data = redConvSlice[int64, uint64](vals)
	default:
		return nil, fmt.Errorf("%w: cannot produce %v", errDType, dt)
	}
	return t, nil
}
