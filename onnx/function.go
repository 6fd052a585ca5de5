package onnx

import (
	"context"
	"fmt"
	"sync"

	"github.com/keenml/keen/ir"
)

// funcBodies caches the planned body of a model-local function per calling
// node (attribute references are resolved against that node's attributes).
var funcBodies sync.Map // *nodePlan -> *funcBody

type funcBody struct {
	once sync.Once
	gp   *graphPlan
	err  error
}

func runFunction(ctx context.Context, m *Model, np *nodePlan, _ *scope, in []Value) ([]Value, error) {
	fb, _ := funcBodies.LoadOrStore(np, &funcBody{})
	body := fb.(*funcBody)
	body.once.Do(func() { body.gp, body.err = m.planFunction(np) })
	if body.err != nil {
		return nil, body.err
	}
	return m.runGraph(ctx, body.gp, nil, in, false)
}

// planFunction instantiates a function body for one call: inputs and outputs
// become graph inputs and outputs, ref_attr_name attributes take the
// caller's values (or the function's defaults).
func (m *Model) planFunction(np *nodePlan) (*graphPlan, error) {
	f := np.fn
	if len(np.n.Inputs) > len(f.Inputs) {
		return nil, fmt.Errorf("function %s takes %d inputs, node gives %d", f.Name, len(f.Inputs), len(np.n.Inputs))
	}
	attrs := ir.Attrs{}
	attrs = append(attrs, f.AttrDefault...)
	for _, a := range np.n.Attrs {
		attrs = attrs.With(a)
	}
	g := &ir.Graph{Name: f.Name}
	for _, name := range f.Inputs {
		g.Inputs = append(g.Inputs, ir.ValueInfo{Name: name})
	}
	for _, name := range f.Outputs {
		g.Outputs = append(g.Outputs, ir.ValueInfo{Name: name})
	}
	for _, n := range f.Nodes {
		c := *n
		c.Attrs = substituteAttrs(n.Attrs, attrs)
		g.Nodes = append(g.Nodes, &c)
	}
	opsets := f.Opsets
	if len(opsets) == 0 {
		opsets = m.IR.Opsets
	}
	return m.plan(g, opsets, nil)
}

// substituteAttrs resolves ref_attr_name attributes against the caller's.
func substituteAttrs(body, caller ir.Attrs) ir.Attrs {
	var out ir.Attrs
	for _, a := range body {
		if a.RefAttrName == "" {
			out = append(out, a)
			continue
		}
		if v := caller.Find(a.RefAttrName); v != nil {
			c := *v
			c.Name = a.Name
			out = append(out, c)
		}
	}
	return out
}
