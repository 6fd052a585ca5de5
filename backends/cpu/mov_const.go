package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Generators: Constant, ConstantOfShape, Range.

func init() {
	reg("Constant", 1, prepConstant)
	reg("ConstantOfShape", 9, prepConstantOfShape)
	reg("Range", 11, prepRange)
}

func prepConstant(s *backends.OpSpec) (kernelFunc, error) {
	t, err := movConstantValue(s.Attrs)
	if err != nil {
		return nil, fmt.Errorf("Constant: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%w: Constant: value: %v", errAttr, err)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) { return one(t) }, nil
}

// movConstantValue reads the one value attribute of a Constant node.
func movConstantValue(as ir.Attrs) (*ir.Tensor, error) {
	if len(as) != 1 {
		return nil, fmt.Errorf("%w: want exactly one value attribute, got %d", errAttr, len(as))
	}
	a := as[0]
	switch a.Name {
	case "value":
		if a.Tensor == nil {
			return nil, fmt.Errorf("%w: value holds no tensor", errAttr)
		}
		return &ir.Tensor{DType: a.Tensor.DType, Shape: a.Tensor.Shape, Data: a.Tensor.Data}, nil
	case "value_float":
		return ir.Scalar(a.Float), nil
	case "value_floats":
		return ir.FromSlice(append([]float32{}, a.Floats...), len(a.Floats)), nil
	case "value_int":
		return ir.Scalar(a.Int), nil
	case "value_ints":
		return ir.FromSlice(append([]int64{}, a.Ints...), len(a.Ints)), nil
	case "value_string":
		return ir.Scalar(a.String), nil
	case "value_strings":
		return ir.FromSlice(append([]string{}, a.Strings...), len(a.Strings)), nil
	case "sparse_value":
		return nil, fmt.Errorf("%w: sparse_value is not supported", backends.ErrNotImplemented)
	}
	return nil, fmt.Errorf("%w: unknown attribute %q", errAttr, a.Name)
}

func prepConstantOfShape(s *backends.OpSpec) (kernelFunc, error) {
	value := s.Attrs.TensorAttr("value")
	if value == nil {
		value = ir.FromSlice([]float32{0}, 1)
	}
	if value.Len() != 1 {
		return nil, fmt.Errorf("%w: ConstantOfShape: value must hold one element, got shape %v", errAttr, value.Shape)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		dims, err := movShapeInput(in[0], "input 0 (shape)")
		if err != nil {
			return nil, err
		}
		shape := movToInts(dims)
		n, err := ir.NumElements(shape)
		if err != nil {
			return nil, fmt.Errorf("ConstantOfShape: %w", err)
		}
		out, err := movMap(value, value.DType, shape, []movAxis{movAffine(n, 0, 0)}, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepRange(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	stash := ir.DType(s.Attrs.Int("stash_type", int64(ir.Float32)))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		for i := 0; i < 3; i++ {
			if in[i].Len() != 1 || in[i].DType != in[0].DType {
				return nil, fmt.Errorf("%w: Range: input %d must be one %v value, got %v%v", errInput, i, in[0].DType, in[i].DType, in[i].Shape)
			}
		}
		switch dt {
		case ir.Int16, ir.Int32, ir.Int64:
			return movRangeInt(in)
		case ir.Float32, ir.Float64, ir.Float16, ir.BFloat16:
			return movRangeFloat(in, dt, stash)
		}
		return nil, fmt.Errorf("%w: Range: %v", errDType, dt)
	}, nil
}

func movRangeInt(in []*ir.Tensor) ([]*ir.Tensor, error) {
	v := [3]int64{}
	for i := range v {
		x, err := intsOf(in[i])
		if err != nil {
			return nil, err
		}
		v[i] = x[0]
	}
	start, limit, delta := v[0], v[1], v[2]
	if delta == 0 {
		return nil, fmt.Errorf("%w: Range: delta is 0", errInput)
	}
	n := int64(0)
	if delta > 0 && limit > start {
		n = (limit - start + delta - 1) / delta
	} else if delta < 0 && limit < start {
		n = (start - limit - delta - 1) / -delta
	}
	if n > ir.MaxElements {
		return nil, fmt.Errorf("%w: Range: %d elements", ir.ErrTooLarge, n)
	}
	out, err := newTensor(in[0].DType, []int{int(n)})
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(n); i++ {
		x := start + int64(i)*delta
		switch d := out.Data.(type) {
		case []int16:
			d[i] = int16(x)
		case []int32:
			d[i] = int32(x)
		case []int64:
			d[i] = x
		}
	}
	return one(out)
}

// movRangeFloat computes start + i*delta in float64; narrow floats with a
// stash_type of their own type accumulate in that type instead.
func movRangeFloat(in []*ir.Tensor, dt, stash ir.DType) ([]*ir.Tensor, error) {
	start, limit, delta := in[0].Float64At(0), in[1].Float64At(0), in[2].Float64At(0)
	if delta == 0 || math.IsNaN(start+limit+delta) {
		return nil, fmt.Errorf("%w: Range: start %v, limit %v, delta %v", errInput, start, limit, delta)
	}
	fn := math.Ceil((limit - start) / delta)
	if fn > float64(ir.MaxElements) {
		return nil, fmt.Errorf("%w: Range: %v elements", ir.ErrTooLarge, fn)
	}
	n := int(max(fn, 0))
	out, err := newTensor(dt, []int{n})
	if err != nil {
		return nil, err
	}
	narrowAcc := dt.IsSmallFloat() && stash == dt
	acc := start
	for i := 0; i < n; i++ {
		x := start + float64(i)*delta
		if narrowAcc {
			x = acc
			acc = float64(ir.SmallFloatToFloat32(dt, ir.Float32ToSmallFloat(dt, float32(acc+delta), false)))
		}
		if err := movSetFloat(out, i, x); err != nil {
			return nil, err
		}
	}
	return one(out)
}
