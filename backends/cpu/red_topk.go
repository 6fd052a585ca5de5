package cpu

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// TopK: k is an attribute before opset 10 and input 1 from 10; largest and
// sorted exist from 11. Equal values keep ascending index order; NaN ranks
// above every number. Results are always sorted.

func init() {
	reg("TopK", 1, prepTopK(false))
	reg("TopK", 10, prepTopK(true))
}

func prepTopK(kInput bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		if !redIsReal(dt) {
			return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, dt)
		}
		axisAttr := s.Attrs.Int("axis", -1)
		largest := s.Attrs.Int("largest", 1) != 0
		kAttr := s.Attrs.Int("k", -1)
		if !kInput && kAttr < 0 {
			return nil, fmt.Errorf("%w: k = %d", errAttr, kAttr)
		}
		fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			need := 1
			if kInput {
				need = 2
			}
			if err := needInputs(in, need); err != nil {
				return nil, err
			}
			x := in[0]
			k := kAttr
			if kInput {
				ks, err := intsOf(in[1])
				if err != nil || len(ks) != 1 {
					return nil, fmt.Errorf("%w: input 1 (K) must hold one integer, got %v", errInput, in[1])
				}
				k = ks[0]
			}
			axis, err := normAxis(axisAttr, x.Rank())
			if err != nil {
				return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
			}
			outer, n, inner := redSplit(x.Shape, axis)
			if k < 0 || k > int64(n) {
				return nil, fmt.Errorf("%w: k = %d outside [0, %d] for input 0 shape %v axis %d", errInput, k, n, x.Shape, axis)
			}
			shape := append([]int{}, x.Shape...)
			shape[axis] = int(k)
			c := redTopKCfg{outer, n, inner, int(k), largest}
			idx := make([]int64, ir.Size(shape))
			vals := &ir.Tensor{DType: x.DType, Shape: shape}
			switch d := x.Data.(type) {
			case []float32:
				vals.Data = redTopK(c, d, idx)
			case []float64:
				vals.Data = redTopK(c, d, idx)
			case []int8:
				vals.Data = redTopK(c, d, idx)
			case []int16:
				vals.Data = redTopK(c, d, idx)
			case []int32:
				vals.Data = redTopK(c, d, idx)
			case []int64:
				vals.Data = redTopK(c, d, idx)
			case []uint8:
				vals.Data = redTopK(c, d, idx)
			case []uint16:
				vals.Data = redTopK(c, d, idx)
			case []uint32:
				vals.Data = redTopK(c, d, idx)
			case []uint64:
				vals.Data = redTopK(c, d, idx)
			default:
				return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
			}
			return []*ir.Tensor{vals, {DType: ir.Int64, Shape: append([]int{}, shape...), Data: idx}}, nil
		}
		return viaFloat32(fn, dt, 0), nil
	}
}

// redTopKCfg is the layout (outer, n, inner), k and the direction.
type redTopKCfg struct {
	outer, n, inner, k int
	largest            bool
}

// redTopK selects the k extreme values of each column of x (outer, n,
// inner) and their indices; outputs are (outer, k, inner).
func redTopK[T redNum](c redTopKCfg, x []T, idx []int64) []T {
	vals := make([]T, len(idx))
	if c.k == 0 {
		return vals
	}
	// before reports whether element a ranks ahead of element b.
	before := func(a, b T) bool {
		if a != a || b != b {
			return a != a && b == b // NaN first
		}
		if c.largest {
			return a > b
		}
		return a < b
	}
	parallelFor(c.outer*c.inner, c.n*8, func(lo, hi int) {
		order := make([]int, c.n)
		for it := lo; it < hi; it++ {
			o, col := it/c.inner, it%c.inner
			base := o*c.n*c.inner + col
			for j := range order {
				order[j] = j
			}
			slices.SortStableFunc(order, func(i, j int) int {
				a, b := x[base+i*c.inner], x[base+j*c.inner]
				switch {
				case before(a, b):
					return -1
				case before(b, a):
					return 1
				}
				return 0
			})
			obase := o*c.k*c.inner + col
			for j := 0; j < c.k; j++ {
				vals[obase+j*c.inner] = x[base+order[j]*c.inner]
				idx[obase+j*c.inner] = int64(order[j])
			}
		}
	})
	return vals
}
