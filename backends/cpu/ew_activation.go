package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// Activations. Each is a float64 function built once from the node's
// attributes, applied with the unary machinery of ew_unary.go.

// ewActivations builds each activation's float64 function from attributes.
var ewActivations = map[string]func(a ir.Attrs) (func(float64) float64, error){
	"LeakyRelu": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 0.01))
		return func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}, nil
	},
	"Elu": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		return func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x)
			}
			return x
		}, nil
	},
	"Selu": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1.67326319217681884765625))
		gamma := float64(a.Float("gamma", 1.05070102920532226562500))
		return func(x float64) float64 {
			if x <= 0 {
				return gamma * alpha * math.Expm1(x)
			}
			return gamma * x
		}, nil
	},
	"Celu": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		if alpha == 0 {
			return nil, ewAttrErr("Celu", "alpha is 0")
		}
		return func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x/alpha)
			}
			return x
		}, nil
	},
	"Sigmoid": func(ir.Attrs) (func(float64) float64, error) { return ewSigmoid, nil },
	"HardSigmoid": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 0.2))
		beta := float64(a.Float("beta", 0.5))
		return func(x float64) float64 { return max(0, min(1, alpha*x+beta)) }, nil
	},
	"HardSwish": func(ir.Attrs) (func(float64) float64, error) {
		return func(x float64) float64 { return x * max(0, min(1, x/6+0.5)) }, nil
	},
	"Softplus": func(ir.Attrs) (func(float64) float64, error) { return ewSoftplus, nil },
	"Softsign": func(ir.Attrs) (func(float64) float64, error) {
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }, nil
	},
	"Mish": func(ir.Attrs) (func(float64) float64, error) {
		return func(x float64) float64 { return x * math.Tanh(ewSoftplus(x)) }, nil
	},
	"Gelu": func(a ir.Attrs) (func(float64) float64, error) {
		switch ap := a.Str("approximate", "none"); ap {
		case "none":
			return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, nil
		case "tanh":
			k := math.Sqrt(2 / math.Pi)
			return func(x float64) float64 {
				return 0.5 * x * (1 + math.Tanh(k*(x+0.044715*x*x*x)))
			}, nil
		default:
			return nil, ewAttrErr("Gelu", "approximate %q is neither none nor tanh", ap)
		}
	},
	"ThresholdedRelu": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}, nil
	},
	"Shrink": func(a ir.Attrs) (func(float64) float64, error) {
		bias := float64(a.Float("bias", 0))
		lambd := float64(a.Float("lambd", 0.5))
		return func(x float64) float64 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		}, nil
	},
	"Swish": func(a ir.Attrs) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		return func(x float64) float64 { return x * ewSigmoid(alpha*x) }, nil
	},
}

// ewActivationSince is the first opset of activations newer than opset 1.
var ewActivationSince = map[string]int{
	"Celu": 12, "HardSwish": 14, "Mish": 18, "Gelu": 20, "ThresholdedRelu": 10,
	"Shrink": 9, "Swish": 24,
}

func init() {
	for op := range ewActivations {
		since := ewActivationSince[op]
		reg(op, max(since, 1), prepActivation(op))
	}
	reg("PRelu", 1, prepPRelu)
	reg("Clip", 1, prepClipAttr)
	reg("Clip", 11, prepClip)
}

func ewSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// ewSoftplus is log(1+exp(x)) without overflow.
func ewSoftplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func prepActivation(op string) prepareFunc {
	build := ewActivations[op]
	return func(s *backends.OpSpec) (kernelFunc, error) {
		f, err := build(s.Attrs)
		if err != nil {
			return nil, err
		}
		dt := inputType(s.InputTypes, 0)
		var u ewUnaryFunc
		switch k := ewActivationF32(op, s.Attrs); {
		case op == "Shrink":
			u = ewNumMap(ewComputeType(dt), 8, f)
		case k != nil && ewComputeType(dt) == ir.Float32:
			u = ewU(ir.Float32, ewF32Cost, k)
		default:
			u = ewFloatMap(ewComputeType(dt), 20, f)
		}
		if u == nil {
			return nil, ewNoKernel(op, dt)
		}
		return ewPrep1(dt, u), nil
	}
}

// ewActivationF32 returns the vecmath float32 kernel of an activation
// with these attributes, or nil.
func ewActivationF32(op string, a ir.Attrs) func(dst, x []float32) {
	switch {
	case op == "Sigmoid":
		return vecmath.Sigmoid
	case op == "Gelu" && a.Str("approximate", "none") == "none":
		return vecmath.Gelu
	case op == "Swish" && a.Float("alpha", 1) == 1:
		return vecmath.Silu
	case op == "LeakyRelu":
		alpha := a.Float("alpha", 0.01)
		return func(dst, x []float32) { vecmath.LeakyRelu(dst, x, alpha) }
	}
	return nil
}

// PRelu: y = x < 0 ? slope*x : x, slope broadcast to x's shape. Legacy
// models give a per-channel slope of shape [C] for x of shape [N,C,...].
func prepPRelu(s *backends.OpSpec) (kernelFunc, error) {
	dt, err := ewSameTypes(s, 2)
	if err != nil {
		return nil, err
	}
	cdt := ewComputeType(dt)
	var f ewBinFunc
	switch cdt {
	case ir.Float32:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[float32]))
	case ir.Float64:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[float64]))
	case ir.Int32:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[int32]))
	case ir.Int64:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[int64]))
	case ir.Uint32:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[uint32]))
	case ir.Uint64:
		f = ewBin(cdt, 1, ewRowOf(ewPReluOf[uint64]))
	default:
		return nil, ewNoKernel("PRelu", dt)
	}
	return ewPrep2(dt, func(x, slope *ir.Tensor) (*ir.Tensor, error) {
		if slope.Rank() == 1 && x.Rank() > 2 && slope.Shape[0] == x.Shape[1] && slope.Shape[0] != x.Shape[x.Rank()-1] {
			shape := make([]int, x.Rank()-1)
			for i := range shape {
				shape[i] = 1
			}
			shape[0] = slope.Shape[0]
			slope = &ir.Tensor{DType: slope.DType, Shape: shape, Data: slope.Data}
		}
		out, err := f(x, slope)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(out.Shape, x.Shape) {
			return nil, fmt.Errorf("%w: PRelu slope (input 1) of shape %v does not broadcast to x of shape %v",
				errShape, slope.Shape, x.Shape)
		}
		return out, nil
	}), nil
}

func ewPReluOf[T ewNum](x, slope T) T {
	if x < 0 {
		return slope * x
	}
	return x
}
