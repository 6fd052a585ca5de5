package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("CausalConvWithState", 27, prepCausalConvWithState)
}

func prepCausalConvWithState(s *backends.OpSpec) (kernelFunc, error) {
	act := s.Attrs.Str("activation", "none")
	silu := act == "silu" || act == "swish"
	if !silu && act != "none" {
		return nil, fmt.Errorf("%w: CausalConvWithState: activation %q", errAttr, act)
	}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 4; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: CausalConvWithState: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) { return convCausal(in, silu) }
	switch dt {
	case ir.Float32:
		return fn, nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(fn, dt, 0, 1, 2, 3), nil
	}
	return nil, fmt.Errorf("%w: CausalConvWithState: %v", errDType, dt)
}

// convCausal: input (B,C,L), weight (C,1,k), [bias (C)], [past (B,C,k-1)] ->
// output (B,C,L), present (B,C,k-1). Over the sequence p = past ++ input,
// output[t] = act(bias + Σ_j weight[j]·p[t+j]) and present is p's tail.
func convCausal(in []*ir.Tensor, silu bool) ([]*ir.Tensor, error) {
	const op = "CausalConvWithState"
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	xs, ws := in[0].Shape, in[1].Shape
	if len(xs) != 3 || len(ws) != 3 || ws[0] != xs[1] || ws[1] != 1 || ws[2] < 1 {
		return nil, fmt.Errorf("%w: %s: want input (B,C,L) and weight (C,1,k), got %v and %v", errShape, op, xs, ws)
	}
	b, c, l, k := xs[0], xs[1], xs[2], ws[2]
	bias, past := convOpt(in, 2), convOpt(in, 3)
	if bias != nil && !convEqualInts(bias.Shape, []int{c}) {
		return nil, fmt.Errorf("%w: %s: bias (input 2) shape %v, want [%d]", errShape, op, bias.Shape, c)
	}
	if past != nil && !convEqualInts(past.Shape, []int{b, c, k - 1}) {
		return nil, fmt.Errorf("%w: %s: past_state (input 3) shape %v, want [%d %d %d]", errShape, op, past.Shape, b, c, k-1)
	}
	y, err := newTensor(ir.Float32, xs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	st, err := newTensor(ir.Float32, []int{b, c, k - 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	x, w := in[0].Data.([]float32), in[1].Data.([]float32)
	yd, sd := y.Data.([]float32), st.Data.([]float32)
	parallelFor(b*c, l*k, func(lo, hi int) {
		seq := make([]float32, k-1+l)
		for bc := lo; bc < hi; bc++ {
			clear(seq[:k-1])
			if past != nil {
				copy(seq, past.Data.([]float32)[bc*(k-1):(bc+1)*(k-1)])
			}
			copy(seq[k-1:], x[bc*l:(bc+1)*l])
			wk := w[bc%c*k : bc%c*k+k]
			bv := float32(0)
			if bias != nil {
				bv = bias.Data.([]float32)[bc%c]
			}
			out := yd[bc*l : (bc+1)*l]
			for t := range out {
				s := bv
				for j, wv := range wk {
					s += wv * seq[t+j]
				}
				if silu {
					s = s / (1 + float32(math.Exp(float64(-s))))
				}
				out[t] = s
			}
			copy(sd[bc*(k-1):(bc+1)*(k-1)], seq[l:])
		}
	})
	return []*ir.Tensor{y, st}, nil
}
