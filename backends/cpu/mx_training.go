package cpu

// ai.onnx.preview.training optimizers: Adagrad, Adam and Momentum (standard
// and Nesterov). Inputs are R (learning rate), T (update count) and then,
// for n optimized tensors, n values, n gradients and n (or 2n) state
// tensors; outputs are the n new values followed by the new states.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

const mxTrainingDomain = "ai.onnx.preview.training"

func init() {
	regDomain(mxTrainingDomain, "Adagrad", 1, prepAdagrad)
	regDomain(mxTrainingDomain, "Adam", 1, prepAdam)
	regDomain(mxTrainingDomain, "Momentum", 1, prepMomentum)
}

// mxOptimStep is the per-element update: x, g and the state values st (len
// states) in, new x and new states out (written into st).
type mxOptimStep func(x, g float64, st []float64) float64

// mxOptimizer builds a kernel for an optimizer with states state tensors
// per optimized tensor; step receives the scalar learning rate and count.
func mxOptimizer(s *backends.OpSpec, states int, step func(r float64, t int64) mxOptimStep) (kernelFunc, error) {
	groups := 2 + states
	nIn := len(s.InputTypes) - 2
	if nIn <= 0 || nIn%groups != 0 {
		return nil, fmt.Errorf("%s: %w: %d inputs, want 2 + %d*n", s.Op, errInput, len(s.InputTypes), groups)
	}
	n := nIn / groups
	if s.NumOutputs > n*(1+states) {
		return nil, fmt.Errorf("%s: %w: %d outputs declared, at most %d", s.Op, errAttr, s.NumOutputs, n*(1+states))
	}
	for i := 2; i < len(s.InputTypes); i++ {
		if dt := s.InputTypes[i]; dt != ir.Float32 && dt != ir.Float64 {
			return nil, fmt.Errorf("%s: %w: input %d is %v, want float32 or float64", s.Op, errDType, i, dt)
		}
	}
	numOut := s.NumOutputs
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, len(s.InputTypes)); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Op, err)
		}
		if in[0].Len() != 1 || in[1].Len() != 1 {
			return nil, fmt.Errorf("%s: %w: R %v and T %v must be scalars", s.Op, errShape, in[0].Shape, in[1].Shape)
		}
		t, err := in[1].Int64s()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: input 1 (T): %v", s.Op, errDType, err)
		}
		f := step(in[0].Float64At(0), t[0])
		out := make([]*ir.Tensor, n*(1+states))
		st := make([]float64, states)
		for k := 0; k < n; k++ {
			x := in[2+k]
			xs := mxFloat64s(x)
			srcs := make([][]float64, 1+states)
			for j := range srcs {
				src := in[2+(j+1)*n+k]
				if src.Len() != x.Len() {
					return nil, fmt.Errorf("%s: %w: input %d has shape %v, input %d has %v", s.Op, errShape, 2+(j+1)*n+k, src.Shape, 2+k, x.Shape)
				}
				srcs[j] = mxFloat64s(src)
			}
			nx := make([]float64, len(xs))
			ns := make([][]float64, states)
			for j := range ns {
				ns[j] = make([]float64, len(xs))
			}
			for i, xv := range xs {
				for j := range st {
					st[j] = srcs[1+j][i]
				}
				nx[i] = f(xv, srcs[0][i], st)
				for j, v := range st {
					ns[j][i] = v
				}
			}
			out[k] = mxTensorFrom64(x.DType, append([]int{}, x.Shape...), nx)
			for j := range ns {
				sj := in[2+(j+2)*n+k]
				out[(j+1)*n+k] = mxTensorFrom64(sj.DType, append([]int{}, sj.Shape...), ns[j])
			}
		}
		return out[:numOut], nil
	}, nil
}

func prepAdagrad(s *backends.OpSpec) (kernelFunc, error) {
	decay := float64(s.Attrs.Float("decay_factor", 0))
	eps := float64(s.Attrs.Float("epsilon", 0))
	norm := float64(s.Attrs.Float("norm_coefficient", 0))
	return mxOptimizer(s, 1, func(r float64, t int64) mxOptimStep {
		lr := r / (1 + float64(t)*decay)
		return func(x, g float64, st []float64) float64 {
			g += norm * x
			st[0] += g * g
			return x - lr*g/(math.Sqrt(st[0])+eps)
		}
	})
}

func prepAdam(s *backends.OpSpec) (kernelFunc, error) {
	alpha := float64(s.Attrs.Float("alpha", 0.9))
	beta := float64(s.Attrs.Float("beta", 0.999))
	eps := float64(s.Attrs.Float("epsilon", 0))
	norm := float64(s.Attrs.Float("norm_coefficient", 0))
	post := float64(s.Attrs.Float("norm_coefficient_post", 0))
	return mxOptimizer(s, 2, func(r float64, t int64) mxOptimStep {
		lr := r
		if t > 0 {
			lr = r * math.Sqrt(1-math.Pow(beta, float64(t))) / (1 - math.Pow(alpha, float64(t)))
		}
		return func(x, g float64, st []float64) float64 {
			g += norm * x
			st[0] = alpha*st[0] + (1-alpha)*g
			st[1] = beta*st[1] + (1-beta)*g*g
			return (1 - post) * (x - lr*st[0]/(math.Sqrt(st[1])+eps))
		}
	})
}

func prepMomentum(s *backends.OpSpec) (kernelFunc, error) {
	for _, a := range []string{"alpha", "beta", "mode", "norm_coefficient"} {
		if !s.Attrs.Has(a) {
			return nil, fmt.Errorf("Momentum: %w: attribute %s is required", errAttr, a)
		}
	}
	alpha := float64(s.Attrs.Float("alpha", 0))
	beta := float64(s.Attrs.Float("beta", 0))
	norm := float64(s.Attrs.Float("norm_coefficient", 0))
	mode := s.Attrs.Str("mode", "")
	if mode != "standard" && mode != "nesterov" {
		return nil, fmt.Errorf("Momentum: %w: mode %q", errAttr, mode)
	}
	return mxOptimizer(s, 1, func(r float64, t int64) mxOptimStep {
		b := beta
		if t <= 0 {
			b = 1
		}
		return func(x, g float64, st []float64) float64 {
			g += norm * x
			st[0] = alpha*st[0] + b*g
			if mode == "nesterov" {
				return x - r*(g+alpha*st[0])
			}
			return x - r*st[0]
		}
	})
}
