package onnx

import (
	"context"
	"fmt"

	"github.com/keenml/keen/eager"
)

const trainingDomain = "ai.onnx.preview.training"

// runGradient is ai.onnx.preview.training Gradient: d y / d x for each name
// in xs, where y and the xs are values computed earlier in the same graph,
// which runs under a tape for this purpose.
func runGradient(_ context.Context, _ *Model, np *nodePlan, s *scope, _ []Value) ([]Value, error) {
	if s.tape == nil {
		return nil, fmt.Errorf("Gradient outside a graph run with a tape")
	}
	a := np.n.Attrs
	yName := a.Str("y", "")
	xs := a.Strs("xs", nil)
	lookupT := func(name string) (*eager.Tensor, error) {
		v, ok := s.lookup(name)
		if !ok {
			return nil, fmt.Errorf("value %q is not defined", name)
		}
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("value %q is %s, not a tensor", name, describe(v))
		}
		return t, nil
	}
	y, err := lookupT(yName)
	if err != nil {
		return nil, fmt.Errorf("y: %w", err)
	}
	srcs := make([]*eager.Tensor, len(xs))
	for i, x := range xs {
		if srcs[i], err = lookupT(x); err != nil {
			return nil, fmt.Errorf("xs[%d]: %w", i, err)
		}
	}
	var grads []*eager.Tensor
	if err := eager.Recover(func() { grads = s.tape.Gradient(y, srcs...) }); err != nil {
		return nil, err
	}
	out := make([]Value, len(grads))
	for i, g := range grads {
		out[i] = g
	}
	return out, nil
}
