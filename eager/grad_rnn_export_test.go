package eager

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// HasRecompute reports whether domain/op has a recomputed rule.
func HasRecompute(domain, op string) bool {
	_, ok := recomputations[gradKey(domain, op)]
	return ok
}

// Recompute runs the eager re-expression that the gradient rule of
// domain/op differentiates (for tests that compare it with the kernel).
func Recompute(domain, op string, version int, attrs ir.Attrs, nout int, in ...*Tensor) ([]*Tensor, error) {
	fwd, ok := recomputations[gradKey(domain, op)]
	if !ok {
		return nil, fmt.Errorf("eager: %s has no recomputed rule", op)
	}
	if version == 0 {
		version = 1
		if ir.NormDomain(domain) == "" {
			version = LatestOpset
		}
	}
	spec := &backends.OpSpec{Domain: domain, Op: op, Version: version, Attrs: attrs, NumOutputs: nout}
	for _, t := range in {
		dt := ir.Undefined
		if t != nil {
			dt = t.DType()
		}
		spec.InputTypes = append(spec.InputTypes, dt)
	}
	var out []*Tensor
	err := Recover(func() { out = fwd(spec, in) })
	return out, err
}
