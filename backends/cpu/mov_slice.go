package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Slice, Concat and Split.

func init() {
	reg("Slice", 1, prepSlice)
	reg("Slice", 10, prepSlice)
	reg("Concat", 1, prepConcat)
	reg("Concat", 4, prepConcat)
	reg("Split", 1, prepSplit)
	reg("Split", 2, prepSplit)
	reg("Split", 13, prepSplit)
	reg("Split", 18, prepSplit)
}

func prepSlice(s *backends.OpSpec) (kernelFunc, error) {
	if movVer(s) < 10 {
		starts, ends := s.Attrs.Ints("starts", nil), s.Attrs.Ints("ends", nil)
		axes := s.Attrs.Ints("axes", nil)
		if starts == nil || ends == nil {
			return nil, fmt.Errorf("%w: Slice-1 needs starts and ends attributes", errAttr)
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			return movSlice(in[0], starts, ends, axes, nil)
		}, nil
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		var vals [4][]int64
		names := [4]string{"input 1 (starts)", "input 2 (ends)", "input 3 (axes)", "input 4 (steps)"}
		for i := range vals {
			if i+1 < len(in) && in[i+1] != nil {
				v, err := movShapeInput(in[i+1], names[i])
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
		}
		return movSlice(in[0], vals[0], vals[1], vals[2], vals[3])
	}, nil
}

// movSlice slices x. axes nil means 0..len(starts)-1; steps nil means 1s.
func movSlice(x *ir.Tensor, starts, ends, axes, steps []int64) ([]*ir.Tensor, error) {
	r := x.Rank()
	if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("%w: Slice: starts %v, ends %v, axes %v, steps %v differ in length", errInput, starts, ends, axes, steps)
	}
	if axes == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	norm, err := normAxes(axes, r)
	if err != nil {
		return nil, fmt.Errorf("Slice: input shape %v: %w", x.Shape, err)
	}
	st := stridesOf(x.Shape)
	plan := movIdentityAxes(x.Shape)
	shape := append([]int{}, x.Shape...)
	identity := true
	for i, a := range norm {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("%w: Slice: step 0 on axis %d", errInput, a)
		}
		start, count := movSliceRange(starts[i], ends[i], step, x.Shape[a])
		shape[a] = count
		stride := 0
		if count > 1 {
			stride = int(step) * st[a]
		}
		plan[a] = movAffine(count, start*st[a], stride)
		identity = identity && count == x.Shape[a] && (count == 0 || start == 0 && (count == 1 || step == 1))
	}
	if identity {
		return one(x)
	}
	out, err := movMap(x, x.DType, shape, plan, nil)
	if err != nil {
		return nil, err
	}
	return one(out)
}

// movSliceRange clamps start and end as ONNX Slice does and returns the
// first index and the element count.
func movSliceRange(start, end, step int64, dim int) (int, int) {
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var count int64
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end > start {
			count = (end - start + step - 1) / step
		}
	} else {
		start = min(max(start, -1), d-1)
		end = min(max(end, -1), d-1)
		if start > end {
			count = (start - end - step - 1) / -step
		}
	}
	if count == 0 {
		start = 0
	}
	return int(start), int(count)
}

func prepConcat(s *backends.OpSpec) (kernelFunc, error) {
	if movVer(s) >= 4 && !s.Attrs.Has("axis") {
		return nil, fmt.Errorf("%w: Concat needs the axis attribute", errAttr)
	}
	axis := s.Attrs.Int("axis", 1)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("%w: Concat: no inputs", errInput)
		}
		if err := needInputs(in, len(in)); err != nil {
			return nil, err
		}
		out, err := movConcat(in, axis)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

// movConcat joins ts along axis.
func movConcat(ts []*ir.Tensor, axis int64) (*ir.Tensor, error) {
	first := ts[0]
	a, err := normAxis(axis, first.Rank())
	if err != nil {
		return nil, fmt.Errorf("Concat: input 0 shape %v: %w", first.Shape, err)
	}
	shape := append([]int{}, first.Shape...)
	shape[a] = 0
	for i, t := range ts {
		if t.DType != first.DType {
			return nil, fmt.Errorf("%w: Concat: input %d is %v, input 0 is %v", errDType, i, t.DType, first.DType)
		}
		if t.Rank() != first.Rank() {
			return nil, fmt.Errorf("%w: Concat: input %d shape %v, input 0 shape %v", errShape, i, t.Shape, first.Shape)
		}
		for k, d := range t.Shape {
			if k != a && d != first.Shape[k] {
				return nil, fmt.Errorf("%w: Concat: input %d shape %v, input 0 shape %v", errShape, i, t.Shape, first.Shape)
			}
		}
		shape[a] += t.Shape[a]
	}
	out, err := newTensorRaw(first.DType, shape)
	if err != nil {
		return nil, err
	}
	outer := ir.Size(shape[:a])
	inner := ir.Size(shape[a+1:])
	switch d := movRaw(out.Data).(type) {
	case []uint8:
		movConcatT(d, ts, outer, inner, a)
	case []uint16:
		movConcatT(d, ts, outer, inner, a)
	case []uint32:
		movConcatT(d, ts, outer, inner, a)
	case []uint64:
		movConcatT(d, ts, outer, inner, a)
	case []complex128:
		movConcatT(d, ts, outer, inner, a)
	case []string:
		movConcatT(d, ts, outer, inner, a)
	default:
		return nil, fmt.Errorf("%w: Concat: %v", errDType, first.DType)
	}
	return out, nil
}

func movConcatT[T movElem](dst []T, ts []*ir.Tensor, outer, inner, axis int) {
	row := len(dst) / max(outer, 1)
	parallelFor(outer, row+8, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			pos := o * row
			for _, t := range ts {
				chunk := t.Shape[axis] * inner
				src := movRaw(t.Data).([]T)
				pos += copy(dst[pos:pos+chunk], src[o*chunk:(o+1)*chunk])
			}
		}
	})
}

func prepSplit(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", 0)
	attrSplit := s.Attrs.Ints("split", nil)
	numOut := s.NumOutputs
	if movVer(s) >= 18 && s.Attrs.Has("num_outputs") {
		n := s.Attrs.Int("num_outputs", 0)
		if n < 1 || (numOut > 0 && int(n) != numOut) {
			return nil, fmt.Errorf("%w: Split: num_outputs %d with %d declared outputs", errAttr, n, numOut)
		}
		numOut = int(n)
	}
	splitInput := movVer(s) == 1 || movVer(s) >= 13
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		a, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("Split: input shape %v: %w", x.Shape, err)
		}
		split := attrSplit
		if splitInput && len(in) > 1 && in[1] != nil {
			if split, err = movSplitInput(in[1]); err != nil {
				return nil, err
			}
		}
		sizes, err := movSplitSizes(split, x.Shape[a], numOut, movVer(s) >= 18)
		if err != nil {
			return nil, fmt.Errorf("Split: input shape %v axis %d: %w", x.Shape, a, err)
		}
		outs := make([]*ir.Tensor, len(sizes))
		pos := int64(0)
		for i, n := range sizes {
			o, err := movSlice(x, []int64{pos}, []int64{pos + int64(n)}, []int64{int64(a)}, nil)
			if err != nil {
				return nil, err
			}
			outs[i] = o[0]
			pos += int64(n)
		}
		return outs, nil
	}, nil
}

// movSplitInput reads Split's split input: int64 from opset 13, of the
// data's float type in Split-1.
func movSplitInput(t *ir.Tensor) ([]int64, error) {
	if !t.DType.IsFloat() {
		return movShapeInput(t, "input 1 (split)")
	}
	v := make([]int64, t.Len())
	for i := range v {
		f := t.Float64At(i)
		if f != math.Trunc(f) || math.Abs(f) > float64(ir.MaxElements) {
			return nil, fmt.Errorf("%w: Split: input 1 (split) value %v is not a size", errInput, f)
		}
		v[i] = int64(f)
	}
	return v, nil
}

// movSplitSizes returns the chunk sizes of a split of dim into n parts.
func movSplitSizes(split []int64, dim, n int, uneven bool) ([]int, error) {
	if split != nil {
		if n > 0 && len(split) != n {
			return nil, fmt.Errorf("%w: split %v for %d outputs", errInput, split, n)
		}
		sum := int64(0)
		for _, v := range split {
			if v < 0 || v > int64(dim) {
				return nil, fmt.Errorf("%w: split %v has a size outside [0, %d]", errInput, split, dim)
			}
			sum += v
		}
		if sum != int64(dim) {
			return nil, fmt.Errorf("%w: split %v sums to %d, not the axis size %d", errInput, split, sum, dim)
		}
		return movToInts(split), nil
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: split into %d outputs", errInput, n)
	}
	sizes := make([]int, n)
	if !uneven || dim%n == 0 {
		if dim%n != 0 {
			return nil, fmt.Errorf("%w: axis size %d does not split evenly into %d outputs", errShape, dim, n)
		}
		for i := range sizes {
			sizes[i] = dim / n
		}
		return sizes, nil
	}
	chunk := (dim + n - 1) / n
	rest := dim
	for i := range sizes {
		sizes[i] = min(chunk, rest)
		rest -= sizes[i]
	}
	return sizes, nil
}
