package backendtest

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/ir"
)

// sameBits reports the first element where got and want differ in storage
// (floats by their bits, so -0 and NaN payloads count), or -1.
func sameBits(got, want *ir.Tensor) int {
	switch w := want.Data.(type) {
	case []float32:
		g := got.Data.([]float32)
		return firstDiff(len(w), func(i int) bool { return math.Float32bits(g[i]) != math.Float32bits(w[i]) })
	case []float64:
		g := got.Data.([]float64)
		return firstDiff(len(w), func(i int) bool { return math.Float64bits(g[i]) != math.Float64bits(w[i]) })
	case []complex64:
		g := got.Data.([]complex64)
		return firstDiff(len(w), func(i int) bool {
			return math.Float32bits(real(g[i])) != math.Float32bits(real(w[i])) ||
				math.Float32bits(imag(g[i])) != math.Float32bits(imag(w[i]))
		})
	case []complex128:
		g := got.Data.([]complex128)
		return firstDiff(len(w), func(i int) bool {
			return math.Float64bits(real(g[i])) != math.Float64bits(real(w[i])) ||
				math.Float64bits(imag(g[i])) != math.Float64bits(imag(w[i]))
		})
	case []int8:
		return diffEq(got.Data.([]int8), w)
	case []int16:
		return diffEq(got.Data.([]int16), w)
	case []int32:
		return diffEq(got.Data.([]int32), w)
	case []int64:
		return diffEq(got.Data.([]int64), w)
	case []uint8:
		return diffEq(got.Data.([]uint8), w)
	case []uint16:
		return diffEq(got.Data.([]uint16), w)
	case []uint32:
		return diffEq(got.Data.([]uint32), w)
	case []uint64:
		return diffEq(got.Data.([]uint64), w)
	case []bool:
		return diffEq(got.Data.([]bool), w)
	case []string:
		return diffEq(got.Data.([]string), w)
	}
	return 0
}

func diffEq[T comparable](g, w []T) int {
	return firstDiff(len(w), func(i int) bool { return g[i] != w[i] })
}

func firstDiff(n int, differ func(i int) bool) int {
	for i := range n {
		if differ(i) {
			return i
		}
	}
	return -1
}

// checkHeader checks that got is a valid tensor of want's dtype and shape.
func checkHeader(got, want *ir.Tensor) error {
	if got == nil {
		return fmt.Errorf("got no tensor, want %v%v", want.DType, want.Shape)
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	if !slices.Equal(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if err := got.Validate(); err != nil {
		return fmt.Errorf("invalid tensor: %v", err)
	}
	return nil
}

// identical checks that got holds exactly want's dtype, shape and bits.
func identical(got, want *ir.Tensor) error {
	if err := checkHeader(got, want); err != nil {
		return err
	}
	if i := sameBits(got, want); i >= 0 {
		return fmt.Errorf("element %d differs: got %v, want %v", i, got, want)
	}
	return nil
}

// agree checks got against want: same dtype and shape; floating-point
// elements within tol*(1+|want|) (NaN matches NaN, infinities match exactly),
// everything else exact. tol 0 asks for identical bits.
func agree(got, want *ir.Tensor, tol float64) error {
	if tol == 0 || !(want.DType.IsFloat() || want.DType.IsComplex()) {
		return identical(got, want)
	}
	if err := checkHeader(got, want); err != nil {
		return err
	}
	for i := range want.Len() {
		g, w := got.Float64At(i), want.Float64At(i)
		if !near(g, w, tol) {
			return fmt.Errorf("element %d = %.8g, want %.8g (tolerance %g)\ngot  %v\nwant %v", i, g, w, tol, got, want)
		}
		if want.DType.IsComplex() {
			gi, wi := imagAt(got, i), imagAt(want, i)
			if !near(gi, wi, tol) {
				return fmt.Errorf("element %d imaginary part = %.8g, want %.8g (tolerance %g)", i, gi, wi, tol)
			}
		}
	}
	return nil
}

func near(g, w, tol float64) bool {
	switch {
	case math.IsNaN(w) || math.IsNaN(g):
		return math.IsNaN(w) && math.IsNaN(g)
	case math.IsInf(w, 0) || math.IsInf(g, 0):
		return g == w
	}
	return math.Abs(g-w) <= tol*(1+math.Abs(w))
}

func imagAt(t *ir.Tensor, i int) float64 {
	switch s := t.Data.(type) {
	case []complex64:
		return float64(imag(s[i]))
	case []complex128:
		return imag(s[i])
	}
	return 0
}

// defaultTol is the tolerance of a computed (not copied) result of dtype dt:
// a few units in the last place of the format.
func defaultTol(dt ir.DType) float64 {
	switch dt {
	case ir.Float32, ir.Complex64:
		return 1e-5
	case ir.Float64, ir.Complex128:
		return 1e-12
	case ir.Float16:
		return 2e-3
	case ir.BFloat16:
		return 1.6e-2
	}
	if dt.IsFloat() {
		return 0.25 // 8- and 4-bit formats: one step
	}
	return 0
}
