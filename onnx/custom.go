package onnx

import (
	"context"
	"fmt"
	"sync"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// CustomOp is a user-defined operator of the user's own domain: a Go kernel
// on host tensors and, optionally, its shape inference. Models that use the
// op import and run once it is registered.
type CustomOp struct {
	Domain string
	Op     string
	// Kernel computes the outputs from the inputs (nil for missing optional ones).
	Kernel func(attrs ir.Attrs, in []*ir.Tensor) ([]*ir.Tensor, error)
	// InferTypes, when set, gives output types from input types.
	InferTypes func(attrs ir.Attrs, in []*ir.Type) ([]*ir.Type, error)
}

var (
	customMu  sync.RWMutex
	customOps = map[string]*CustomOp{}
)

// RegisterOp registers a custom op. The default domain is reserved.
func RegisterOp(op CustomOp) error {
	if ir.NormDomain(op.Domain) == "" {
		return fmt.Errorf("onnx: RegisterOp %s: custom ops need a domain of their own", op.Op)
	}
	if op.Op == "" || op.Kernel == nil {
		return fmt.Errorf("onnx: RegisterOp: op name and kernel are required")
	}
	customMu.Lock()
	defer customMu.Unlock()
	customOps[op.Domain+"\x00"+op.Op] = &op
	return nil
}

func lookupCustom(domain, op string) *CustomOp {
	customMu.RLock()
	defer customMu.RUnlock()
	return customOps[domain+"\x00"+op]
}

func runCustom(c *CustomOp) specialFunc {
	return func(_ context.Context, m *Model, np *nodePlan, _ *scope, in []Value) ([]Value, error) {
		hs := make([]*ir.Tensor, len(in))
		for i, v := range in {
			if v == nil {
				continue
			}
			t, ok := v.(*eager.Tensor)
			if !ok {
				return nil, fmt.Errorf("custom op input %d is %s; custom ops take tensors", i, describe(v))
			}
			h, err := t.Host()
			if err != nil {
				return nil, err
			}
			hs[i] = h
		}
		outs, err := c.Kernel(np.n.Attrs, hs)
		if err != nil {
			return nil, err
		}
		vals := make([]Value, len(outs))
		for i, o := range outs {
			if o == nil {
				continue
			}
			if err := o.Validate(); err != nil {
				return nil, fmt.Errorf("custom op output %d: %w", i, err)
			}
			if vals[i], err = eager.FromHost(m.dev, o); err != nil {
				return nil, err
			}
		}
		return vals, nil
	}
}
