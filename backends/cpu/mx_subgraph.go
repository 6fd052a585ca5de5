package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// mxNewestOpset is the default-domain opset a subgraph node is prepared
// for: a kernel does not know its model's opset imports.
const mxNewestOpset = 28

// mxRunGraph evaluates a small attribute subgraph (such as FlexAttention's
// score_mod) on the CPU kernels: in binds the graph's non-initializer
// inputs by position. Nodes run in their listed (topological) order at the
// newest opset (mxNewestOpset for the default domain), since a kernel does
// not know the model's opset imports. Nested subgraphs referring to outer
// names are not supported.
func mxRunGraph(g *ir.Graph, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	vals := map[string]*ir.Tensor{}
	for _, t := range g.Initializers {
		vals[t.Name] = t
	}
	real := g.RealInputs()
	if len(real) != len(in) {
		return nil, fmt.Errorf("%w: subgraph %q takes %d inputs, got %d", errInput, g.Name, len(real), len(in))
	}
	for i, vi := range real {
		vals[vi.Name] = in[i]
	}
	for _, n := range g.Nodes {
		if err := mxRunGraphNode(n, vals); err != nil {
			return nil, fmt.Errorf("subgraph %q: %w", g.Name, err)
		}
	}
	out := make([]*ir.Tensor, len(g.Outputs))
	for i, vi := range g.Outputs {
		t, ok := vals[vi.Name]
		if !ok {
			return nil, fmt.Errorf("%w: subgraph %q does not produce output %q", errInput, g.Name, vi.Name)
		}
		out[i] = t
	}
	return out, nil
}

func mxRunGraphNode(n *ir.Node, vals map[string]*ir.Tensor) error {
	spec := &backends.OpSpec{Domain: n.Domain, Op: n.OpType, Attrs: n.Attrs, Node: n.Name}
	outs := n.Outputs
	for len(outs) > 0 && outs[len(outs)-1] == "" {
		outs = outs[:len(outs)-1]
	}
	spec.NumOutputs = len(outs)
	ins := make([]*ir.Tensor, len(n.Inputs))
	for i, name := range n.Inputs {
		if name == "" {
			spec.InputTypes = append(spec.InputTypes, ir.Undefined)
			continue
		}
		t, ok := vals[name]
		if !ok {
			return fmt.Errorf("%w: node %s reads unknown value %q", errInput, n.OpType, name)
		}
		ins[i] = t
		spec.InputTypes = append(spec.InputTypes, t.DType)
	}
	e := lookup(spec.Domain, spec.Op, 0)
	if e == nil {
		return fmt.Errorf("%v: %w", spec, backends.ErrNotImplemented)
	}
	spec.Version = e.since
	if ir.NormDomain(spec.Domain) == "" {
		spec.Version = mxNewestOpset
	}
	fn, err := e.prepare(spec)
	if err != nil {
		return fmt.Errorf("%v: %w", spec, err)
	}
	res, err := fn(ins)
	if err != nil {
		return fmt.Errorf("%v: %w", spec, err)
	}
	for i, name := range outs {
		if name != "" && i < len(res) && res[i] != nil {
			vals[name] = res[i]
		}
	}
	return nil
}
