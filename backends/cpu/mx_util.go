package cpu

import (
	"fmt"
	"math"
	"strings"

	"github.com/keenml/keen/ir"
)

// mxFloat is the compute element type of the mx kernels; narrower floats
// are widened to float32 by viaFloat32 first.
type mxFloat interface{ ~float32 | ~float64 }

// mxMatMulNT sets c = a·bᵀ (or adds it when acc): a (m,k), b (n,k), c (m,n).
// It is the small reference product of the mx kernels (recurrent weights are
// stored (gates*hidden, input), so the transposed form is the natural one).
// float32 goes to the SIMD GEMM; float64 runs the loops below.
func mxMatMulNT[T mxFloat](c, a, b []T, m, n, k int, acc bool) {
	if cf, ok := any(c).([]float32); ok {
		beta := float32(0)
		if acc {
			beta = 1
		}
		convSgemm(false, true, m, n, k, 1, any(a).([]float32), max(k, 1), any(b).([]float32), max(k, 1), beta, cf, n)
		return
	}
	parallelFor(m, 2*n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ar := a[i*k : i*k+k]
			cr := c[i*n : i*n+n]
			for j := 0; j < n; j++ {
				br := b[j*k : j*k+k]
				var s T
				for p, av := range ar {
					s += av * br[p]
				}
				if acc {
					cr[j] += s
				} else {
					cr[j] = s
				}
			}
		}
	})
}

// mxMatMul sets c = a·b: a (m,k), b (k,n), c (m,n).
// float32 goes to the SIMD GEMM; float64 runs the loops below.
func mxMatMul[T mxFloat](c, a, b []T, m, n, k int) {
	if cf, ok := any(c).([]float32); ok {
		convSgemm(false, false, m, n, k, 1, any(a).([]float32), max(k, 1), any(b).([]float32), n, 0, cf, n)
		return
	}
	parallelFor(m, 2*n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			cr := c[i*n : i*n+n]
			clear(cr)
			for p := 0; p < k; p++ {
				av := a[i*k+p]
				if av == 0 {
					continue
				}
				br := b[p*n : p*n+n]
				for j, bv := range br {
					cr[j] += av * bv
				}
			}
		}
	})
}

// mxAct is a scalar activation of the recurrent ops.
type mxAct func(float64) float64

// mxActUses reports whether an activation reads alpha and beta.
func mxActUses(name string) (alpha, beta bool) {
	switch strings.ToLower(name) {
	case "affine", "scaledtanh", "hardsigmoid":
		return true, true
	case "leakyrelu", "thresholdedrelu", "elu":
		return true, false
	}
	return false, false
}

// mxActivation builds the named activation; alpha/beta NaN select the
// defaults of the ONNX op of the same name.
func mxActivation(name string, alpha, beta float64) (mxAct, error) {
	def := func(v, d float64) float64 {
		if math.IsNaN(v) {
			return d
		}
		return v
	}
	switch strings.ToLower(name) {
	case "sigmoid":
		return mxSigmoid, nil
	case "tanh":
		return math.Tanh, nil
	case "relu":
		return func(x float64) float64 { return math.Max(x, 0) }, nil
	case "affine":
		a, b := def(alpha, 1), def(beta, 0)
		return func(x float64) float64 { return a*x + b }, nil
	case "leakyrelu":
		a := def(alpha, 0.01)
		return func(x float64) float64 {
			if x >= 0 {
				return x
			}
			return a * x
		}, nil
	case "thresholdedrelu":
		a := def(alpha, 1)
		return func(x float64) float64 {
			if x > a {
				return x
			}
			return 0
		}, nil
	case "scaledtanh":
		a, b := def(alpha, 1), def(beta, 1)
		return func(x float64) float64 { return a * math.Tanh(b*x) }, nil
	case "hardsigmoid":
		a, b := def(alpha, 0.2), def(beta, 0.5)
		return func(x float64) float64 { return math.Min(math.Max(a*x+b, 0), 1) }, nil
	case "elu":
		a := def(alpha, 1)
		return func(x float64) float64 {
			if x >= 0 {
				return x
			}
			return a * (math.Exp(x) - 1)
		}, nil
	case "softsign":
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }, nil
	case "softplus":
		return func(x float64) float64 {
			if x > 30 {
				return x
			}
			return math.Log1p(math.Exp(x))
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown activation %q", errAttr, name)
}

func mxSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// mxFloatData returns t's data as []T (t must hold T).
func mxFloatData[T mxFloat](t *ir.Tensor) []T {
	if t == nil {
		return nil
	}
	return t.Data.([]T)
}

// mxCheckFloat rejects dtypes other than the float types ONNX allows for T.
func mxCheckFloat(op string, dt ir.DType, idx int) error {
	switch dt {
	case ir.Float32, ir.Float64, ir.Float16, ir.BFloat16:
		return nil
	}
	return fmt.Errorf("%s: %w: input %d is %v, want a float type", op, errDType, idx, dt)
}

// mxShapeIs checks that t has exactly shape want.
func mxShapeIs(op string, t *ir.Tensor, idx int, want ...int) error {
	if !mxSameInts(t.Shape, want) {
		return fmt.Errorf("%s: %w: input %d has shape %v, want %v", op, errShape, idx, t.Shape, want)
	}
	return nil
}

// mxSameInts reports whether a and b are equal.
func mxSameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
