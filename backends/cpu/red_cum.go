package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// CumSum (opset 11, 14) and CumProd (opset 26): running sum or product along
// the axis given as input 1, with the exclusive and reverse attributes.

func init() {
	reg("CumSum", 11, prepCum(false))
	reg("CumProd", 26, prepCum(true))
}

func prepCum(prod bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		if !redIsReal(dt) {
			return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, dt)
		}
		exclusive := s.Attrs.Int("exclusive", 0) != 0
		reverse := s.Attrs.Int("reverse", 0) != 0
		fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 2); err != nil {
				return nil, err
			}
			x := in[0]
			ax, err := intsOf(in[1])
			if err != nil || len(ax) != 1 {
				return nil, fmt.Errorf("%w: input 1 (axis) must hold one integer, got %v", errInput, in[1])
			}
			axis, err := normAxis(ax[0], x.Rank())
			if err != nil {
				return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
			}
			outer, n, inner := redSplit(x.Shape, axis)
			c := redCumCfg{outer, n, inner, prod, exclusive, reverse}
			var data any
			switch d := x.Data.(type) {
			case []float32:
				data = redCum[float32, float64](c, d)
			case []float64:
				data = redCum[float64, float64](c, d)
			case []int8:
				data = redCum[int8, int64](c, d)
			case []int16:
				data = redCum[int16, int64](c, d)
			case []int32:
				data = redCum[int32, int64](c, d)
			case []int64:
				data = redCum[int64, int64](c, d)
			case []uint8:
				data = redCum[uint8, uint64](c, d)
			case []uint16:
				data = redCum[uint16, uint64](c, d)
			case []uint32:
				data = redCum[uint32, uint64](c, d)
			case []uint64:
				data = redCum[uint64, uint64](c, d)
			default:
				return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
			}
			return one(&ir.Tensor{DType: x.DType, Shape: append([]int{}, x.Shape...), Data: data})
		}
		return viaFloat32(fn, dt, 0), nil
	}
}

// redCumCfg is the layout (outer, n, inner) and the attributes of a scan.
type redCumCfg struct {
	outer, n, inner          int
	prod, exclusive, reverse bool
}

// redCum scans x along the middle axis with accumulators of type A.
// x (outer, n, inner)
func redCum[T redNum, A redAcc](c redCumCfg, x []T) []T {
	y := make([]T, len(x))
	parallelFor(c.outer, c.n*c.inner, func(lo, hi int) {
		acc := make([]A, c.inner)
		for o := lo; o < hi; o++ {
			for k := range acc {
				acc[k] = 0
				if c.prod {
					acc[k] = 1
				}
			}
			for jj := 0; jj < c.n; jj++ {
				j := jj
				if c.reverse {
					j = c.n - 1 - jj
				}
				off := (o*c.n + j) * c.inner
				xs, ys := x[off:off+c.inner], y[off:off+c.inner]
				for k, v := range xs {
					if c.exclusive {
						ys[k] = T(acc[k])
					}
					if c.prod {
						acc[k] *= A(v)
					} else {
						acc[k] += A(v)
					}
					if !c.exclusive {
						ys[k] = T(acc[k])
					}
				}
			}
		}
	})
	return y
}
