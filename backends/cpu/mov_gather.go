package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Gather, GatherElements and GatherND.

func init() {
	reg("Gather", 1, prepGather)
	reg("GatherElements", 11, prepGatherElements)
	reg("GatherND", 11, prepGatherND)
}

// movIndex wraps a negative index and checks it against dim, naming op and
// input in the error.
func movIndex(op, input string, v int64, dim int) (int, error) {
	w := v
	if w < 0 {
		w += int64(dim)
	}
	if w < 0 || w >= int64(dim) {
		return 0, fmt.Errorf("%w: %s: %s value %d out of range [%d, %d)", errInput, op, input, v, -dim, dim)
	}
	return int(w), nil
}

// movIndices reads an int32/int64 index input.
func movIndices(op string, t *ir.Tensor, i int) ([]int64, error) {
	if t.DType != ir.Int32 && t.DType != ir.Int64 {
		return nil, fmt.Errorf("%w: %s: input %d (indices) must be int32 or int64, got %v", errDType, op, i, t.DType)
	}
	return intsOf(t)
}

func prepGather(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", 0)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x, ind := in[0], in[1]
		a, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("Gather: input 0 shape %v: %w", x.Shape, err)
		}
		idx, err := movIndices("Gather", ind, 1)
		if err != nil {
			return nil, err
		}
		st := stridesOf(x.Shape)
		tab := make([]int, len(idx))
		for i, v := range idx {
			j, err := movIndex("Gather", "input 1 (indices)", v, x.Shape[a])
			if err != nil {
				return nil, err
			}
			tab[i] = j * st[a]
		}
		axes := movIdentityAxes(x.Shape)
		axes[a] = movTable(tab)
		shape := append(append(append([]int{}, x.Shape[:a]...), ind.Shape...), x.Shape[a+1:]...)
		out, err := movMap(x, x.DType, shape, axes, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepGatherElements(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", 0)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x, ind := in[0], in[1]
		offs, err := movElementOffsets("GatherElements", x.Shape, ind, axis)
		if err != nil {
			return nil, err
		}
		out, err := movMap(x, x.DType, ind.Shape, []movAxis{movTable(offs)}, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

// movElementOffsets maps every element of an indices tensor (same rank as
// data, used along axis) to a flat offset into data, as GatherElements and
// ScatterElements index.
func movElementOffsets(op string, shape []int, ind *ir.Tensor, axis int64) ([]int, error) {
	r := len(shape)
	a, err := normAxis(axis, r)
	if err != nil {
		return nil, fmt.Errorf("%s: input 0 shape %v: %w", op, shape, err)
	}
	if ind.Rank() != r {
		return nil, fmt.Errorf("%w: %s: indices shape %v and data shape %v differ in rank", errShape, op, ind.Shape, shape)
	}
	for k, d := range ind.Shape {
		if k != a && d > shape[k] {
			return nil, fmt.Errorf("%w: %s: indices shape %v exceeds data shape %v on axis %d", errShape, op, ind.Shape, shape, k)
		}
	}
	idx, err := movIndices(op, ind, 1)
	if err != nil {
		return nil, err
	}
	st := stridesOf(shape)
	offs := make([]int, len(idx))
	pos := make([]int, r)
	for i, v := range idx {
		j, err := movIndex(op, "input 1 (indices)", v, shape[a])
		if err != nil {
			return nil, err
		}
		o := j * st[a]
		for k, p := range pos {
			if k != a {
				o += p * st[k]
			}
		}
		offs[i] = o
		for k := r - 1; k >= 0; k-- {
			if pos[k]++; pos[k] < ind.Shape[k] {
				break
			}
			pos[k] = 0
		}
	}
	return offs, nil
}

func prepGatherND(s *backends.OpSpec) (kernelFunc, error) {
	batch := int(s.Attrs.Int("batch_dims", 0))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x, ind := in[0], in[1]
		offs, k, err := movNDOffsets("GatherND", x.Shape, ind, batch)
		if err != nil {
			return nil, err
		}
		slice := ir.Size(x.Shape[batch+k:])
		shape := append(append([]int{}, ind.Shape[:ind.Rank()-1]...), x.Shape[batch+k:]...)
		out, err := movMap(x, x.DType, shape, []movAxis{movTable(offs), movAffine(slice, 0, 1)}, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

// movNDOffsets maps each index tuple (last axis of ind) of GatherND or
// ScatterND to the flat offset of the slice it selects in data, and returns
// the tuple length k.
func movNDOffsets(op string, shape []int, ind *ir.Tensor, batch int) ([]int, int, error) {
	r, q := len(shape), ind.Rank()
	if q < 1 || batch < 0 || batch >= q || batch >= r {
		return nil, 0, fmt.Errorf("%w: %s: batch_dims %d with data shape %v and indices shape %v", errShape, op, batch, shape, ind.Shape)
	}
	k := ind.Shape[q-1]
	if k < 1 && ind.Len() > 0 || k > r-batch {
		return nil, 0, fmt.Errorf("%w: %s: index tuples of length %d for data shape %v (batch_dims %d)", errShape, op, k, shape, batch)
	}
	for i := 0; i < batch; i++ {
		if ind.Shape[i] != shape[i] {
			return nil, 0, fmt.Errorf("%w: %s: batch dims of indices shape %v and data shape %v differ", errShape, op, ind.Shape, shape)
		}
	}
	idx, err := movIndices(op, ind, 1)
	if err != nil {
		return nil, 0, err
	}
	st := stridesOf(shape)
	n := 0
	if k > 0 {
		n = len(idx) / k
	} else {
		n = ir.Size(ind.Shape[:q-1])
	}
	perBatch := max(ir.Size(ind.Shape[batch:q-1]), 1)
	batchStride := ir.Size(shape[batch:])
	offs := make([]int, n)
	for t := range offs {
		o := (t / perBatch) * batchStride
		for j := 0; j < k; j++ {
			v, err := movIndex(op, "input 1 (indices)", idx[t*k+j], shape[batch+j])
			if err != nil {
				return nil, 0, err
			}
			o += v * st[batch+j]
		}
		offs[t] = o
	}
	return offs, k, nil
}
