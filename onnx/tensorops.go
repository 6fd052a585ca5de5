package onnx

import (
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// The executor's own tensor plumbing (stacking scan outputs, slicing scan
// inputs, splitting to sequences) runs as ordinary ops on the model's
// backend, so control flow works on any backend.

func call1(op string, attrs ir.Attrs, in ...*eager.Tensor) (*eager.Tensor, error) {
	out, err := eager.Call(op, attrs, 1, in...)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func int64Tensor(like *eager.Tensor, vals ...int64) (*eager.Tensor, error) {
	return eager.FromHost(like.Backend(), ir.FromSlice(vals, len(vals)))
}

// stack joins equally shaped tensors along a new axis.
func stack(ts []*eager.Tensor, axis int) (*eager.Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("stack of no tensors")
	}
	axes, err := int64Tensor(ts[0], int64(axis))
	if err != nil {
		return nil, err
	}
	parts := make([]*eager.Tensor, len(ts))
	for i, t := range ts {
		if parts[i], err = call1("Unsqueeze", nil, t, axes); err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return call1("Concat", ir.Attrs{ir.IntAttr("axis", int64(axis))}, parts...)
}

// concat joins tensors along an existing axis.
func concat(ts []*eager.Tensor, axis int) (*eager.Tensor, error) {
	if len(ts) == 1 {
		return ts[0], nil
	}
	return call1("Concat", ir.Attrs{ir.IntAttr("axis", int64(axis))}, ts...)
}

// index takes slice i along axis, dropping the axis.
func index(t *eager.Tensor, axis, i int) (*eager.Tensor, error) {
	idx, err := eager.FromHost(t.Backend(), ir.Scalar(int64(i)))
	if err != nil {
		return nil, err
	}
	return call1("Gather", ir.Attrs{ir.IntAttr("axis", int64(axis))}, t, idx)
}

// emptyLike makes a zero-length tensor of dtype and the given shape.
func emptyTensor(like *eager.Tensor, dt ir.DType, shape []int) (*eager.Tensor, error) {
	h, err := ir.NewTensor(dt, shape...)
	if err != nil {
		return nil, err
	}
	return eager.FromHost(like.Backend(), h)
}

// scalarInt reads a one-element integer tensor.
func scalarInt(v Value, what string) (int64, error) {
	t, ok := v.(*eager.Tensor)
	if !ok {
		return 0, fmt.Errorf("%s must be a tensor, got %s", what, describe(v))
	}
	h, err := t.Host()
	if err != nil {
		return 0, err
	}
	if h.Len() != 1 {
		return 0, fmt.Errorf("%s must hold one value, got shape %v", what, h.Shape)
	}
	vals, err := h.Int64s()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return vals[0], nil
}

// scalarBool reads a one-element bool tensor.
func scalarBool(v Value, what string) (bool, error) {
	t, ok := v.(*eager.Tensor)
	if !ok {
		return false, fmt.Errorf("%s must be a tensor, got %s", what, describe(v))
	}
	h, err := t.Host()
	if err != nil {
		return false, err
	}
	if h.Len() != 1 {
		return false, fmt.Errorf("%s must hold one value, got shape %v", what, h.Shape)
	}
	return h.Float64At(0) != 0, nil
}

// densify turns a COO sparse tensor into a dense host tensor.
func densify(s *ir.SparseTensor) (*ir.Tensor, error) {
	if s == nil || s.Values == nil {
		return nil, fmt.Errorf("sparse tensor without values")
	}
	out, err := ir.NewTensor(s.Values.DType, s.Dims...)
	if err != nil {
		return nil, err
	}
	nnz := s.Values.Len()
	var idx []int64
	if s.Indices != nil {
		if idx, err = s.Indices.Int64s(); err != nil {
			return nil, err
		}
	}
	rank := len(s.Dims)
	strides := make([]int, rank)
	st := 1
	for i := rank - 1; i >= 0; i-- {
		strides[i] = st
		st *= s.Dims[i]
	}
	total := out.Len()
	for k := 0; k < nnz; k++ {
		var flat int
		switch {
		case len(idx) == nnz:
			flat = int(idx[k])
		case len(idx) == nnz*rank:
			for d := 0; d < rank; d++ {
				flat += int(idx[k*rank+d]) * strides[d]
			}
		default:
			return nil, fmt.Errorf("sparse indices of %d values for %d non-zeros of rank %d", len(idx), nnz, rank)
		}
		if flat < 0 || flat >= total {
			return nil, fmt.Errorf("sparse index %d outside shape %v", flat, s.Dims)
		}
		ir.CopyElem(out, flat, s.Values, k)
	}
	return out, nil
}
