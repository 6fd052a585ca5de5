package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/adam"
	"github.com/keenml/keen/ir"
)

// AdamInPlace(R, T, X, G, V, H), a Keen-private op (see conv_grad.go): the
// update of ai.onnx.preview.training Adam for one tensor, with its
// attributes, written into X, V and H instead of new outputs (it has
// none). Unlike every other kernel it modifies its inputs: the optimizer
// calls it only on storage it owns (a parameter and its two moments), so a
// training step allocates and zeroes no new parameter-sized buffers.

func init() { regKeen("AdamInPlace", prepAdamInPlace, ir.Float32) }

func prepAdamInPlace(s *backends.OpSpec) (kernelFunc, error) {
	const op = "AdamInPlace"
	if s.NumOutputs > 0 {
		return nil, fmt.Errorf("%w: %s has no outputs, %d declared", errAttr, op, s.NumOutputs)
	}
	if len(s.InputTypes) != 6 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 6 (R, T, X, G, V, H)", errInput, op, len(s.InputTypes))
	}
	for i := 2; i < 6; i++ {
		if dt := s.InputTypes[i]; dt != ir.Float32 {
			return nil, fmt.Errorf("%w: %s: input %d is %v, want float32", errDType, op, i, dt)
		}
	}
	alpha := float64(s.Attrs.Float("alpha", 0.9))
	beta := float64(s.Attrs.Float("beta", 0.999))
	p := adam.Params{Alpha: float32(alpha), Beta: float32(beta), Eps: s.Attrs.Float("epsilon", 0),
		Norm: s.Attrs.Float("norm_coefficient", 0), Post: s.Attrs.Float("norm_coefficient_post", 0)}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 6); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if in[0].Len() != 1 || in[1].Len() != 1 {
			return nil, fmt.Errorf("%w: %s: R %v and T %v must be scalars", errShape, op, in[0].Shape, in[1].Shape)
		}
		t, err := in[1].Int64s()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: input 1 (T): %v", errDType, op, err)
		}
		var s [4][]float32
		for i := range s {
			d, ok := in[2+i].Data.([]float32)
			if !ok || len(d) != in[2].Len() {
				return nil, fmt.Errorf("%w: %s: input %d %v%v, want float32%v", errShape, op, 2+i, in[2+i].DType, in[2+i].Shape, in[2].Shape)
			}
			s[i] = d
		}
		q := p
		q.LR = float32(mxAdamRate(in[0].Float64At(0), t[0], alpha, beta))
		x, g, v, h := s[0], s[1], s[2], s[3]
		noteInPlace() // forms prepared from X are stale from here on
		parallelFor(len(x), 16, func(lo, hi int) {
			adam.Step(x[lo:hi], g[lo:hi], v[lo:hi], h[lo:hi], x[lo:hi], v[lo:hi], h[lo:hi], q)
		})
		return nil, nil
	}, nil
}
