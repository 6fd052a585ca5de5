package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// ArgMax, ArgMin (keepdims; select_last_index from opset 12).

func init() {
	reg("ArgMax", 1, prepArg(true))
	reg("ArgMin", 1, prepArg(false))
}

// redSplit views shape around axis as (outer, n, inner).
func redSplit(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i, d := range shape {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	return outer, shape[axis], inner
}

// redDropAxis is shape with dim axis set to 1 (keep) or removed.
func redDropAxis(shape []int, axis int, keep bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case i != axis:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func prepArg(isMax bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		if !redIsReal(dt) {
			return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, dt)
		}
		axisAttr := s.Attrs.Int("axis", 0)
		keep := s.Attrs.Int("keepdims", 1) != 0
		last := s.Attrs.Int("select_last_index", 0) != 0
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			x := redCompute(in[0])
			axis, err := normAxis(axisAttr, x.Rank())
			if err != nil {
				return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
			}
			outer, n, inner := redSplit(x.Shape, axis)
			if n == 0 {
				return nil, fmt.Errorf("%w: input 0 shape %v is empty along axis %d", errShape, x.Shape, axis)
			}
			out := make([]int64, outer*inner)
			switch d := x.Data.(type) {
			case []float32:
				redArg(out, d, outer, n, inner, isMax, last)
			case []float64:
				redArg(out, d, outer, n, inner, isMax, last)
			case []int8:
				redArg(out, d, outer, n, inner, isMax, last)
			case []int16:
				redArg(out, d, outer, n, inner, isMax, last)
			case []int32:
				redArg(out, d, outer, n, inner, isMax, last)
			case []int64:
				redArg(out, d, outer, n, inner, isMax, last)
			case []uint8:
				redArg(out, d, outer, n, inner, isMax, last)
			case []uint16:
				redArg(out, d, outer, n, inner, isMax, last)
			case []uint32:
				redArg(out, d, outer, n, inner, isMax, last)
			case []uint64:
				redArg(out, d, outer, n, inner, isMax, last)
			default:
				return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
			}
			return one(&ir.Tensor{DType: ir.Int64, Shape: redDropAxis(x.Shape, axis, keep), Data: out})
		}, nil
	}
}

// redArg writes, for each (outer, inner), the index along the middle axis
// of the extreme value. NaN counts as the extreme (as numpy does).
// x (outer, n, inner), out (outer, inner)
func redArg[T redNum](out []int64, x []T, outer, n, inner int, isMax, last bool) {
	parallelFor(outer, n*inner, func(lo, hi int) {
		best := make([]T, inner)
		for o := lo; o < hi; o++ {
			idx := out[o*inner : (o+1)*inner]
			base := o * n * inner
			copy(best, x[base:base+inner])
			for j := 1; j < n; j++ {
				row := x[base+j*inner : base+(j+1)*inner]
				for k, v := range row {
					b := best[k]
					var take bool
					switch {
					case v != v:
						take = b == b || last
					case b != b:
						take = false
					case isMax:
						take = v > b || (last && v == b)
					default:
						take = v < b || (last && v == b)
					}
					if take {
						best[k] = v
						idx[k] = int64(j)
					}
				}
			}
		}
	})
}
