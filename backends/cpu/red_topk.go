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
			data, err := redTopKAny(c, x, idx)
			if err != nil {
				return nil, err
			}
			vals.Data = data
			return []*ir.Tensor{vals, {DType: ir.Int64, Shape: append([]int{}, shape...), Data: idx}}, nil
		}
		return viaFloat32(fn, dt, 0), nil
	}
}

// redTopKAny dispatches redTopK on the element type of x.
func redTopKAny(c redTopKCfg, x *ir.Tensor, idx []int64) (any, error) {
	switch d := x.Data.(type) {
	case []float32:
		return redTopK(c, d, idx), nil
	case []float64:
		return redTopK(c, d, idx), nil
	case []int8:
		return redTopK(c, d, idx), nil
	case []int16:
		return redTopK(c, d, idx), nil
	case []int32:
		return redTopK(c, d, idx), nil
	case []int64:
		return redTopK(c, d, idx), nil
	case []uint8:
		return redTopK(c, d, idx), nil
	case []uint16:
		return redTopK(c, d, idx), nil
	case []uint32:
		return redTopK(c, d, idx), nil
	case []uint64:
		return redTopK(c, d, idx), nil
	}
	return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
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
	parallelFor(c.outer*c.inner, c.n*8, func(lo, hi int) {
		col := make([]T, c.n)
		order := make([]int, c.n)
		for it := lo; it < hi; it++ {
			o, ci := it/c.inner, it%c.inner
			base := o*c.n*c.inner + ci
			for j := range col {
				col[j] = x[base+j*c.inner]
			}
			top := redTopKSelect(col, c.k, c.largest, order)
			obase := o*c.k*c.inner + ci
			for j, at := range top {
				vals[obase+j*c.inner] = col[at]
				idx[obase+j*c.inner] = int64(at)
			}
		}
	})
	return vals
}

// redTopKSelect returns the indices of the k first elements of col in rank
// order: by value (NaN first), then by index. order is scratch of len(col).
func redTopKSelect[T redNum](col []T, k int, largest bool, order []int) []int {
	// ahead reports whether element i ranks before element j.
	ahead := func(i, j int) bool {
		a, b := col[i], col[j]
		switch {
		case a != a || b != b:
			if (a != a) != (b != b) {
				return a != a
			}
		case a != b:
			return (a > b) == largest
		}
		return i < j
	}
	cmp := func(i, j int) int {
		if i == j {
			return 0
		}
		if ahead(i, j) {
			return -1
		}
		return 1
	}
	if k*8 >= len(col) {
		for j := range order {
			order[j] = j
		}
		slices.SortFunc(order, cmp)
		return order[:k]
	}
	// A heap of the best k so far with the worst of them at the root.
	h := order[:k]
	for j := range h {
		h[j] = j
	}
	down := func(i int) {
		for {
			w, l, r := i, 2*i+1, 2*i+2
			if l < k && ahead(h[w], h[l]) {
				w = l
			}
			if r < k && ahead(h[w], h[r]) {
				w = r
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for j := k; j < len(col); j++ {
		if ahead(j, h[0]) {
			h[0] = j
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}
