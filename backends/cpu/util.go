package cpu

import (
	"errors"
	"fmt"

	"github.com/keenml/keen/ir"
)

// errShape and friends are wrapped by kernel errors so callers can test them.
var (
	errShape = errors.New("shape mismatch")
	errDType = errors.New("unsupported dtype")
	errAttr  = errors.New("bad attribute")
	errInput = errors.New("bad input")
)

// broadcastShapes returns the numpy-style broadcast of shapes.
func broadcastShapes(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case o == d || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("%w: cannot broadcast shapes %v", errShape, shapes)
			}
		}
	}
	return out, nil
}

// stridesOf returns row-major element strides of shape.
func stridesOf(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// broadcastStrides returns strides to index a tensor of shape `in` as if it
// had shape `out` (stride 0 on broadcast dimensions).
func broadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	inSt := stridesOf(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			st[off+i] = inSt[i]
		}
	}
	return st
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	a := int(axis)
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("%w: axis %d out of range for rank %d", errAttr, axis, rank)
	}
	return a, nil
}

// normAxes maps several axes, rejecting duplicates.
func normAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		n, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: axis %d repeated in %v", errAttr, a, axes)
		}
		seen[n] = true
		out[i] = n
	}
	return out, nil
}

// toFloat32 returns t as float32: itself when already float32, a converted
// copy for float16/bfloat16/float8 (the compute type of narrow floats).
func toFloat32(t *ir.Tensor) *ir.Tensor {
	if t == nil || t.DType == ir.Float32 {
		return t
	}
	out := make([]float32, t.Len())
	for i := range out {
		out[i] = float32(t.Float64At(i))
	}
	return &ir.Tensor{DType: ir.Float32, Shape: t.Shape, Data: out}
}

// fromFloat32 converts a float32 tensor to the narrow float type dt
// (round to nearest even, saturating for 8-bit formats).
func fromFloat32(t *ir.Tensor, dt ir.DType) *ir.Tensor {
	if t == nil || dt == ir.Float32 {
		return t
	}
	src := t.Data.([]float32)
	switch dt {
	case ir.Float16, ir.BFloat16:
		out := make([]uint16, len(src))
		for i, v := range src {
			out[i] = ir.Float32ToSmallFloat(dt, v, true)
		}
		return &ir.Tensor{DType: dt, Shape: t.Shape, Data: out}
	}
	out := make([]uint8, len(src))
	for i, v := range src {
		out[i] = uint8(ir.Float32ToSmallFloat(dt, v, true))
	}
	return &ir.Tensor{DType: dt, Shape: t.Shape, Data: out}
}

// viaFloat32 wraps a kernel that handles float32 so that narrow float inputs
// (float16, bfloat16, ...) are computed in float32 and converted back. Inputs
// listed in floatInputs are converted; outputs of the narrow type convert back.
func viaFloat32(fn kernelFunc, dt ir.DType, floatInputs ...int) kernelFunc {
	if !dt.IsSmallFloat() {
		return fn
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		conv := append([]*ir.Tensor{}, in...)
		for _, i := range floatInputs {
			if i < len(conv) && conv[i] != nil && conv[i].DType == dt {
				conv[i] = toFloat32(conv[i])
			}
		}
		out, err := fn(conv)
		if err != nil {
			return nil, err
		}
		for i, o := range out {
			if o != nil && o.DType == ir.Float32 {
				out[i] = fromFloat32(o, dt)
			}
		}
		return out, nil
	}
}

// inputType returns the dtype of input i of the spec (Undefined if absent).
func inputType(types []ir.DType, i int) ir.DType {
	if i < len(types) {
		return types[i]
	}
	return ir.Undefined
}

// needInputs checks that in has at least n non-nil leading inputs.
func needInputs(in []*ir.Tensor, n int) error {
	if len(in) < n {
		return fmt.Errorf("%w: want at least %d inputs, got %d", errInput, n, len(in))
	}
	for i := 0; i < n; i++ {
		if in[i] == nil {
			return fmt.Errorf("%w: input %d is missing", errInput, i)
		}
	}
	return nil
}

// one wraps a single output.
func one(t *ir.Tensor) ([]*ir.Tensor, error) { return []*ir.Tensor{t}, nil }

// intsOf reads a 1-D (or scalar) integer tensor as ints, for shape/axes inputs.
func intsOf(t *ir.Tensor) ([]int64, error) {
	if t == nil {
		return nil, nil
	}
	return t.Int64s()
}
