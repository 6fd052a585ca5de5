package cpu

// CausalConvWithState (opset 27): a causal depthwise 1-D convolution over
// (batch, channels, length) whose left padding is the carried state of the
// previous call (zeros when absent), with optional bias and fused SiLU.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { reg("CausalConvWithState", 27, prepCausalConvWithState) }

func prepCausalConvWithState(s *backends.OpSpec) (kernelFunc, error) {
	act := s.Attrs.Str("activation", "none")
	silu := false
	switch act {
	case "none":
	case "silu", "swish":
		silu = true
	default:
		return nil, fmt.Errorf("cpu: CausalConvWithState: %w: activation %q (want none, silu or swish)", errAttr, act)
	}
	if s.NumOutputs > 2 {
		return nil, fmt.Errorf("cpu: CausalConvWithState: %w: %d outputs declared, at most 2", errAttr, s.NumOutputs)
	}
	dt := inputType(s.InputTypes, 0)
	for i := range min(len(s.InputTypes), 4) {
		t := s.InputTypes[i]
		if t == ir.Undefined && i >= 2 {
			continue
		}
		if err := nxCheckFloat("CausalConvWithState", t, i); err != nil {
			return nil, err
		}
		if t != dt {
			return nil, fmt.Errorf("cpu: CausalConvWithState: %w: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	nout := max(s.NumOutputs, 1)
	if dt == ir.Float64 {
		return nxCausalConvKernel[float64](silu, nout, func(v float64) float64 { return v }), nil
	}
	return viaFloat32(nxCausalConvKernel[float32](silu, nout, nxRounder(dt)), dt, 0, 1, 2, 3), nil
}

// nxCausalConvKernel computes the op in T. rnd rounds the convolution result
// to the precision of the op's dtype before the activation, as the reference
// does for float16.
func nxCausalConvKernel[T mxFloat](silu bool, nout int, rnd func(T) T) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		g, err := nxCausalConvGeom(in)
		if err != nil {
			return nil, err
		}
		x, w := mxFloatData[T](in[0]), mxFloatData[T](in[1])
		var bias, past []T
		if len(in) > 2 {
			bias = mxFloatData[T](in[2])
		}
		if len(in) > 3 {
			past = mxFloatData[T](in[3])
		}
		b, c, l, k := g[0], g[1], g[2], g[3]
		out := make([]T, b*c*l)
		state := make([]T, b*c*(k-1))
		parallelFor(b*c, (l+k)*k, func(lo, hi int) {
			pad := make([]T, l+k-1)
			for bc := lo; bc < hi; bc++ {
				ch := bc % c
				if past != nil {
					copy(pad, past[bc*(k-1):(bc+1)*(k-1)])
				} else {
					clear(pad[:k-1])
				}
				copy(pad[k-1:], x[bc*l:(bc+1)*l])
				nxCausalConvRow(out[bc*l:(bc+1)*l], pad, w[ch*k:(ch+1)*k], bias, ch, silu, rnd)
				copy(state[bc*(k-1):(bc+1)*(k-1)], pad[l:])
			}
		})
		res := []*ir.Tensor{
			{DType: in[0].DType, Shape: []int{b, c, l}, Data: out},
			{DType: in[0].DType, Shape: []int{b, c, k - 1}, Data: state},
		}
		return res[:nout], nil
	}
}

// nxCausalConvRow computes one (batch, channel) row: out[t] = bias + Σ_j
// w[j]·pad[t+j], then the optional SiLU. pad holds the k-1 carried values
// followed by the input row.
func nxCausalConvRow[T mxFloat](out, pad, w, bias []T, ch int, silu bool, rnd func(T) T) {
	for t := range out {
		var acc T
		if bias != nil {
			acc = bias[ch]
		}
		for j, wj := range w {
			acc += wj * pad[t+j]
		}
		if silu {
			v := float64(rnd(acc))
			acc = T(v / (1 + math.Exp(-v)))
		}
		out[t] = acc
	}
}

// nxCausalConvGeom validates the inputs and returns (batch, channels,
// length, k).
func nxCausalConvGeom(in []*ir.Tensor) ([4]int, error) {
	var g [4]int
	if err := needInputs(in, 2); err != nil {
		return g, fmt.Errorf("cpu: CausalConvWithState: %w", err)
	}
	x, w := in[0], in[1]
	if x.Rank() != 3 {
		return g, fmt.Errorf("cpu: CausalConvWithState: %w: input 0 has shape %v, want (batch, channels, length)", errShape, x.Shape)
	}
	b, c, l := x.Shape[0], x.Shape[1], x.Shape[2]
	if w.Rank() != 3 || w.Shape[0] != c || w.Shape[1] != 1 || w.Shape[2] < 1 {
		return g, fmt.Errorf("cpu: CausalConvWithState: %w: weight (input 1) has shape %v, want (%d, 1, k>=1) for input %v",
			errShape, w.Shape, c, x.Shape)
	}
	k := w.Shape[2]
	if len(in) > 2 && in[2] != nil && !mxSameInts(in[2].Shape, []int{c}) {
		return g, fmt.Errorf("cpu: CausalConvWithState: %w: bias (input 2) has shape %v, want [%d]", errShape, in[2].Shape, c)
	}
	if len(in) > 3 && in[3] != nil && !mxSameInts(in[3].Shape, []int{b, c, k - 1}) {
		return g, fmt.Errorf("cpu: CausalConvWithState: %w: past_state (input 3) has shape %v, want %v",
			errShape, in[3].Shape, []int{b, c, k - 1})
	}
	return [4]int{b, c, l, k}, nil
}
