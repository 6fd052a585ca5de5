package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// Interpolating ops (Resize, GridSample, AffineGrid, Col2Im) compute in
// float64 and convert back at the end; these helpers move values between a
// tensor of any real numeric dtype and []float64.

// movFloats returns the elements of t as float64.
func movFloats(t *ir.Tensor) ([]float64, error) {
	switch d := t.Data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	case []float64:
		return d, nil
	case []string, []complex64, []complex128:
		return nil, fmt.Errorf("%w: %v is not a real number type", errDType, t.DType)
	}
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Float64At(i)
	}
	return out, nil
}

// movFromFloats builds a tensor of dtype dt from float64 values; integer
// types round to nearest and saturate.
func movFromFloats(dt ir.DType, shape []int, v []float64) (*ir.Tensor, error) {
	out, err := newTensor(dt, shape)
	if err != nil {
		return nil, err
	}
	switch d := out.Data.(type) {
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, v)
	case []int8:
		movRoundInts(d, v, math.MinInt8, math.MaxInt8)
	case []int16:
		movRoundInts(d, v, math.MinInt16, math.MaxInt16)
	case []int32:
		movRoundInts(d, v, math.MinInt32, math.MaxInt32)
	case []int64:
		movRoundInts(d, v, math.MinInt64, math.MaxInt64)
	case []uint16:
		if dt.IsSmallFloat() {
			for i, x := range v {
				d[i] = ir.Float32ToSmallFloat(dt, float32(x), true)
			}
			break
		}
		movRoundInts(d, v, 0, math.MaxUint16)
	case []uint8:
		if dt.IsSmallFloat() {
			for i, x := range v {
				d[i] = uint8(ir.Float32ToSmallFloat(dt, float32(x), true))
			}
			break
		}
		movRoundInts(d, v, 0, math.MaxUint8)
	case []uint32:
		movRoundInts(d, v, 0, math.MaxUint32)
	case []uint64:
		movRoundInts(d, v, 0, math.MaxUint64)
	default:
		return nil, fmt.Errorf("%w: %v is not a real number type", errDType, dt)
	}
	return out, nil
}

func movRoundInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](d []T, v []float64, lo, hi T) {
	for i, x := range v {
		x = math.RoundToEven(x)
		switch {
		case x != x:
			d[i] = 0
		case x <= float64(lo):
			d[i] = lo
		case x >= float64(hi):
			d[i] = hi
		default:
			d[i] = T(x)
		}
	}
}
