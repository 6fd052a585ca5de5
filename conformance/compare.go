package conformance

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"

	"github.com/keenml/keen/ir"
)

// Tolerances of ONNX's backend test runner.
const (
	RTol = 1e-3
	ATol = 1e-7
)

// Tolerance is a float comparison rule: |got - want| <= ATol + RTol*|want|.
type Tolerance struct{ RTol, ATol float64 }

// Compare checks got against want with ONNX's default tolerances.
func Compare(got, want ir.Value) error { return Tolerance{RTol, ATol}.Compare(got, want) }

// Compare checks got against want: same kind, dtype and shape; floats within
// the tolerance with NaN equal to NaN; everything else exactly.
func (tl Tolerance) Compare(got, want ir.Value) error {
	switch w := want.(type) {
	case *ir.Tensor:
		g, ok := got.(*ir.Tensor)
		if !ok {
			return fmt.Errorf("got %T, want a tensor", got)
		}
		return tl.compareTensor(g, w)
	case *ir.Sequence:
		g, ok := got.(*ir.Sequence)
		if !ok {
			return fmt.Errorf("got %T, want a sequence", got)
		}
		if len(g.Items) != len(w.Items) {
			return fmt.Errorf("sequence of %d items, want %d", len(g.Items), len(w.Items))
		}
		for i := range w.Items {
			if err := tl.Compare(g.Items[i], w.Items[i]); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	case *ir.Optional:
		g, ok := got.(*ir.Optional)
		if !ok {
			if w.Value != nil {
				return tl.Compare(got, w.Value)
			}
			return fmt.Errorf("got %T, want an empty optional", got)
		}
		if (g.Value == nil) != (w.Value == nil) {
			return fmt.Errorf("optional has value %v, want %v", g.Value != nil, w.Value != nil)
		}
		if w.Value == nil {
			return nil
		}
		return tl.Compare(g.Value, w.Value)
	}
	return fmt.Errorf("cannot compare values of type %T", want)
}

func (tl Tolerance) compareTensor(g, w *ir.Tensor) error {
	if g.DType != w.DType {
		return fmt.Errorf("dtype %v, want %v", g.DType, w.DType)
	}
	if !slices.Equal(g.Shape, w.Shape) {
		return fmt.Errorf("shape %v, want %v", g.Shape, w.Shape)
	}
	n := w.Len()
	if g.Len() != n {
		return fmt.Errorf("%d values, want %d", g.Len(), n)
	}
	switch wd := w.Data.(type) {
	case []string:
		gd := g.Data.([]string)
		for i := range wd {
			if gd[i] != wd[i] {
				return fmt.Errorf("value %d = %q, want %q", i, gd[i], wd[i])
			}
		}
		return nil
	case []complex64, []complex128:
		for i := 0; i < n; i++ {
			gv, wv := complexAt(g, i), complexAt(w, i)
			if cmplx.Abs(gv-wv) > tl.ATol+tl.RTol*cmplx.Abs(wv) {
				return fmt.Errorf("value %d = %v, want %v", i, gv, wv)
			}
		}
		return nil
	}
	exact := !w.DType.IsFloat()
	for i := 0; i < n; i++ {
		gv, wv := g.Float64At(i), w.Float64At(i)
		if exact {
			if !exactEqual(g, w, i) {
				return fmt.Errorf("value %d = %v, want %v", i, gv, wv)
			}
			continue
		}
		if math.IsNaN(wv) && math.IsNaN(gv) {
			continue
		}
		if math.IsInf(wv, 0) && gv == wv {
			continue
		}
		if !(math.Abs(gv-wv) <= tl.ATol+tl.RTol*math.Abs(wv)) {
			return fmt.Errorf("value %d = %v, want %v (rule: rtol %g, atol %g)", i, gv, wv, tl.RTol, tl.ATol)
		}
	}
	return nil
}

// exactEqual compares integer and bool elements without float rounding.
func exactEqual(g, w *ir.Tensor, i int) bool {
	switch wd := w.Data.(type) {
	case []int64:
		return g.Data.([]int64)[i] == wd[i]
	case []uint64:
		return g.Data.([]uint64)[i] == wd[i]
	}
	return g.Float64At(i) == w.Float64At(i)
}

func complexAt(t *ir.Tensor, i int) complex128 {
	switch d := t.Data.(type) {
	case []complex64:
		return complex128(d[i])
	case []complex128:
		return d[i]
	}
	return 0
}
