package eager

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Fused gradient kernels. The gradient rules are written with ONNX ops so
// that they run on every backend and can be differentiated again; a few of
// them (Conv, MaxPool, Relu) take several passes over memory that one
// kernel does in one. A backend may list such kernels as Keen-private ops
// of domain KeenDomain; a rule calls them only when
//
//   - the tensor's backend lists the op (and the dtype, where it lists
//     dtypes) in Capabilities, and
//   - no tape records the backward pass (a nested tape taking a second-order
//     gradient, or a trace for export): the private ops have no gradient
//     rules and no ONNX meaning, so a recorded rule always takes the
//     composite path.
//
// The private ops:
//
//	ReluGrad(dY, X) -> dX = dY where X > 0, else 0
//	MaxPoolGrad(dY, X) -> dX; MaxPool's attributes: dY goes to the first
//	    greatest element of each window (row-major), as MaxPool's Indices
//	ConvGradFilter(X, dY) -> dW of Y = Conv(X, W) [, dB]; Conv's attributes
//	    with kernel_shape required (W's spatial dims); with two outputs also
//	    the bias gradient Σ dY over batch and space

// KeenDomain is the domain of Keen's private ops.
const KeenDomain = backends.KeenDomain

// fusedGrads turns the fused kernels off (tests compare both paths).
var fusedGrads atomic.Bool

func init() { fusedGrads.Store(true) }

// fusedCaps caches, per backend, the private ops it lists and their
// dtypes (nil: any).
var fusedCaps sync.Map // backends.Backend -> map[string][]ir.DType

func fusedOps(dev backends.Backend) map[string][]ir.DType {
	if m, ok := fusedCaps.Load(dev); ok {
		return m.(map[string][]ir.DType)
	}
	m := map[string][]ir.DType{}
	for _, c := range dev.Capabilities() {
		if ir.NormDomain(c.Domain) == KeenDomain && c.Since <= 1 && (c.Until == 0 || c.Until >= 1) {
			m[c.Op] = c.DTypes
		}
	}
	fusedCaps.Store(dev, m)
	return m
}

// useFused reports whether a rule may run private op on like's backend
// for like's dtype now.
func useFused(op string, like *Tensor) bool {
	if !fusedGrads.Load() || taping() {
		return false
	}
	dts, ok := fusedOps(like.dev)[op]
	return ok && (len(dts) == 0 || slices.Contains(dts, like.DType()))
}

// fused1 runs a private op with one output.
func fused1(op string, attrs ir.Attrs, in ...*Tensor) *Tensor {
	out, err := CallDomain(KeenDomain, op, 1, attrs, 1, in...)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return out[0]
}

// HasPrivateOp reports whether dev lists Keen-private op (domain
// KeenDomain, opset 1) for dtype dt, for packages (the optimizers) that use
// such ops where a backend has them.
func HasPrivateOp(dev backends.Backend, op string, dt ir.DType) bool {
	dts, ok := fusedOps(dev)[op]
	return ok && (len(dts) == 0 || slices.Contains(dts, dt))
}
