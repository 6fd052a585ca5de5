package cpu

// ai.onnx.preview.training optimizers: Adagrad, Adam and Momentum (standard
// and Nesterov). Inputs are R (learning rate), T (update count) and then,
// for n optimized tensors, n values, n gradients and n (or 2n) state
// tensors; outputs are the n new values followed by the new states.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/adam"
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
// vec, when set, gives the same update as a loop over float32 slices.
func mxOptimizer(s *backends.OpSpec, states int, step func(r float64, t int64) mxOptimStep, vec func(r float64, t int64) mxOptimVec) (kernelFunc, error) {
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
		var fv mxOptimVec
		if vec != nil {
			fv = vec(in[0].Float64At(0), t[0])
		}
		out := make([]*ir.Tensor, n*(1+states))
		for k := 0; k < n; k++ {
			x := in[2+k]
			for j := 0; j < 1+states; j++ {
				if src := in[2+(j+1)*n+k]; src.Len() != x.Len() {
					return nil, fmt.Errorf("%s: %w: input %d has shape %v, input %d has %v", s.Op, errShape, 2+(j+1)*n+k, src.Shape, 2+k, x.Shape)
				}
			}
			if !mxOptimF32(in, n, k, states, f, fv, out) {
				mxOptimF64(in, n, k, states, f, out)
			}
		}
		return out[:numOut], nil
	}, nil
}

// mxOptimF64 runs tensor k's update element by element in float64, for any
// mix of float32 and float64 tensors.
func mxOptimF64(in []*ir.Tensor, n, k, states int, f mxOptimStep, out []*ir.Tensor) {
	x := in[2+k]
	xs := mxFloat64s(x)
	srcs := make([][]float64, 1+states)
	for j := range srcs {
		srcs[j] = mxFloat64s(in[2+(j+1)*n+k])
	}
	nx := make([]float64, len(xs))
	ns := make([][]float64, states)
	for j := range ns {
		ns[j] = make([]float64, len(xs))
	}
	st := make([]float64, states)
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

// mxOptimVec is an optimizer's update over float32 slices: in holds x, g
// and the states, out the new x and the new states (all of one length).
type mxOptimVec func(in, out [][]float32)

// mxOptimF32 runs tensor k's update when its value, gradient and states
// are all float32, read from and written to float32 slices directly and
// spread over the workers: the optimizer's vector form fv where it has one
// (Adam), else the same float64 step per element. It reports false (doing
// nothing) for any other element type.
func mxOptimF32(in []*ir.Tensor, n, k, states int, f mxOptimStep, fv mxOptimVec, out []*ir.Tensor) bool {
	srcs := make([][]float32, 2+states) // x, g, states
	for j := range srcs {
		d, ok := in[2+j*n+k].Data.([]float32)
		if !ok {
			return false
		}
		srcs[j] = d
	}
	x := in[2+k]
	dst := make([][]float32, 1+states) // new x, new states
	for j := range dst {
		dst[j] = make([]float32, len(srcs[0]))
		src := in[2+(j+1)*n+k]
		if j == 0 {
			src = x
		}
		out[j*n+k] = &ir.Tensor{DType: ir.Float32, Shape: append([]int{}, src.Shape...), Data: dst[j]}
	}
	parallelFor(len(srcs[0]), 16, func(lo, hi int) {
		if fv != nil {
			part := func(s [][]float32) [][]float32 {
				p := make([][]float32, len(s))
				for j := range s {
					p[j] = s[j][lo:hi]
				}
				return p
			}
			fv(part(srcs), part(dst))
			return
		}
		st := make([]float64, states)
		for i := lo; i < hi; i++ {
			for j := range st {
				st[j] = float64(srcs[2+j][i])
			}
			dst[0][i] = float32(f(float64(srcs[0][i]), float64(srcs[1][i]), st))
			for j, v := range st {
				dst[1+j][i] = float32(v)
			}
		}
	})
	return true
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
	}, nil)
}

func prepAdam(s *backends.OpSpec) (kernelFunc, error) {
	alpha := float64(s.Attrs.Float("alpha", 0.9))
	beta := float64(s.Attrs.Float("beta", 0.999))
	eps := float64(s.Attrs.Float("epsilon", 0))
	norm := float64(s.Attrs.Float("norm_coefficient", 0))
	post := float64(s.Attrs.Float("norm_coefficient_post", 0))
	return mxOptimizer(s, 2, func(r float64, t int64) mxOptimStep {
		lr := mxAdamRate(r, t, alpha, beta)
		return func(x, g float64, st []float64) float64 {
			g += norm * x
			st[0] = alpha*st[0] + (1-alpha)*g
			st[1] = beta*st[1] + (1-beta)*g*g
			return (1 - post) * (x - lr*st[0]/(math.Sqrt(st[1])+eps))
		}
	}, func(r float64, t int64) mxOptimVec {
		// float32 tensors update in float32 arithmetic (as PyTorch's Adam
		// does), in SIMD: internal/adam.
		p := adam.Params{LR: float32(mxAdamRate(r, t, alpha, beta)), Alpha: float32(alpha), Beta: float32(beta),
			Eps: float32(eps), Norm: float32(norm), Post: float32(post)}
		return func(in, out [][]float32) {
			adam.Step(in[0], in[1], in[2], in[3], out[0], out[1], out[2], p)
		}
	})
}

// mxAdamRate is Adam's bias-corrected learning rate at update count t.
func mxAdamRate(r float64, t int64, alpha, beta float64) float64 {
	if t > 0 {
		return r * math.Sqrt(1-math.Pow(beta, float64(t))) / (1 - math.Pow(alpha, float64(t)))
	}
	return r
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
	}, nil)
}
