package onnx

import (
	"context"
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Conv fusion. When a model is compiled for a backend that lists Keen's
// own op com.keenml FusedConv (the CPU backend does; plugin and CUDA
// backends do not), the main graph is planned with chains
//
//	Conv -> [Add(·, Z)] -> [Relu | Clip | LeakyRelu]
//
// rewritten into one FusedConv node, whose kernel adds the residual and
// applies the activation while each block of the output is in cache. A link
// is fused only when the intermediate value has no other reader (in the graph
// or any subgraph) and is no graph output. The IR (m.IR) keeps the plain
// nodes: export, Truncate and inspection see the model as it was read.
//
// Gradients: while a tape records (Model.Forward under a tape, fine-tuning,
// onnxrun grad), a fused node runs its plain nodes instead, so the tape sees
// Conv, Add and the activation with their usual rules; graphs with
// training-domain Gradient nodes are not fused at all.
//
// FusedConv inputs: 0 X, 1 W, 2 B, 3 Z (residual), 4 min, 5 max (Clip from
// opset 11); attributes: those of Conv, plus activation, alpha (LeakyRelu)
// and min, max (Clip before opset 11). See backends/cpu/conv_epilogue.go.

// FusedDomain is the domain of Keen's fused ops.
const FusedDomain = backends.KeenDomain

func init() {
	// Under a tape a FusedConv runs as its plain ops (fusedRun), whose
	// rules give its gradient.
	eager.RegisterComposite(FusedDomain, "FusedConv")
	eager.RegisterComposite(FusedDomain, "FusedPwDw")
	eager.RegisterComposite(FusedDomain, "FusedBlock")
}

// fusedChain is one FusedConv node and the plain nodes it stands for.
type fusedChain struct {
	node  *ir.Node
	parts []*ir.Node
}

// planFused returns the plan of m's main graph with Conv chains fused, or
// nil when nothing is fused. gp is the plain plan; the fused plan shares
// its initializer tensors and, for the split runs under a tape, its node
// plans.
func (m *Model) planFused(gp *graphPlan) (*graphPlan, error) {
	if gp.gradient || !listsOp(m.dev, FusedDomain, "FusedConv") ||
		lookupCustom(FusedDomain, "FusedConv") != nil || m.funcs[funcKey(FusedDomain, "FusedConv", "")] != nil {
		return nil, nil // (a model or user defining the name keeps it)
	}
	g := m.IR.Graph
	nodes, chains := fuseConvChains(g, m.IR.Opsets)
	if len(chains) == 0 {
		return nil, nil
	}
	if m.mayFuse("FusedPwDw") {
		nodes, chains = fusePwDw(g, nodes, chains, m.mayFuse("FusedBlock"))
	}
	fg := *g
	fg.Nodes = nodes
	opsets := append(slices.Clone(m.IR.Opsets), ir.OpsetImport{Domain: FusedDomain, Version: 1})
	// Plan the fused graph as the model's own, with the plain plan's
	// initializer tensors shared (plan reuses m.shared for the model's
	// graph), so fine-tuning updates are seen by both.
	ir0, shared0 := m.IR, m.shared
	fm := *m.IR
	fm.Graph = &fg
	m.IR, m.shared = &fm, gp.inits
	fp, err := m.plan(&fg, opsets, nil)
	m.IR, m.shared = ir0, shared0
	if err != nil {
		return nil, err
	}
	fp.inits = gp.inits
	plain := map[*ir.Node]*nodePlan{}
	for _, np := range gp.nodes {
		plain[np.n] = np
	}
	byNode := map[*ir.Node]*fusedChain{}
	for i := range chains {
		byNode[chains[i].node] = &chains[i]
	}
	for _, np := range fp.nodes {
		c := byNode[np.n]
		if c == nil {
			continue
		}
		parts := make([]*nodePlan, len(c.parts))
		for i, n := range c.parts {
			parts[i] = plain[n]
		}
		np.special = fusedRun(parts)
	}
	return fp, nil
}

// mayFuse reports whether the backend lists the fused op and neither the
// model nor the user defines one by that name.
func (m *Model) mayFuse(op string) bool {
	return listsOp(m.dev, FusedDomain, op) && lookupCustom(FusedDomain, op) == nil && m.funcs[funcKey(FusedDomain, op, "")] == nil
}

// listsOp reports whether the backend itself (not the CPU fallback) lists
// the op.
func listsOp(b backends.Backend, domain, op string) bool {
	for _, c := range b.Capabilities() {
		if ir.NormDomain(c.Domain) == domain && c.Op == op {
			return true
		}
	}
	return false
}

// fusedRun runs a fused node's kernel, or its plain nodes while a tape
// records, so that the tape holds ops with gradient rules.
func fusedRun(parts []*nodePlan) specialFunc {
	return func(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error) {
		if !eager.Recording() {
			return m.runKernel(np, in)
		}
		sub := &scope{vals: make(map[string]Value, len(in)+len(parts)), parent: s}
		for i, name := range np.n.Inputs {
			if name != "" && i < len(in) && in[i] != nil {
				sub.vals[name] = in[i]
			}
		}
		for _, p := range parts {
			if err := m.runNode(ctx, p, sub); err != nil {
				return nil, err
			}
		}
		out := np.n.Outputs[0]
		v, ok := sub.vals[out]
		if !ok {
			return nil, fmt.Errorf("fused nodes did not compute %q", out)
		}
		return []Value{v}, nil
	}
}

// fuseConvChains returns g's nodes with each fusable Conv chain replaced by
// one FusedConv node at the place of the chain's last node (where every
// input of the chain is computed), and the chains.
func fuseConvChains(g *ir.Graph, opsets []ir.OpsetImport) ([]*ir.Node, []fusedChain) {
	uses := valueUses(g)
	for _, o := range g.Outputs {
		uses[o.Name] += 2 // never fused away
	}
	reader := map[string]int{} // value -> index of its (only) reading node
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			reader[in] = i
		}
	}
	// single returns the index of the one node that reads node n's only
	// output, or -1.
	single := func(n *ir.Node) int {
		if len(n.Outputs) != 1 || uses[n.Outputs[0]] != 1 {
			return -1
		}
		i, ok := reader[n.Outputs[0]]
		if !ok {
			return -1
		}
		return i
	}
	clipVersion := ir.OpsetVersion(opsets, "")
	replace := map[int]*ir.Node{} // node index -> fused node
	drop := map[int]bool{}
	var chains []fusedChain
	for i, conv := range g.Nodes {
		if !isPlain(conv, "Conv") || len(conv.Inputs) < 2 || single(conv) < 0 || drop[i] {
			continue
		}
		idx := []int{i}
		inputs := append(slices.Clone(conv.Inputs), "", "", "", "")[:6]
		attrs := slices.Clone(conv.Attrs)
		j := single(conv)
		if add := g.Nodes[j]; !drop[j] && isPlain(add, "Add") && len(add.Inputs) == 2 && add.Inputs[0] != add.Inputs[1] {
			inputs[3] = add.Inputs[0]
			if inputs[3] == conv.Outputs[0] {
				inputs[3] = add.Inputs[1]
			}
			idx = append(idx, j)
			j = single(add)
		}
		if j >= 0 && !drop[j] {
			if act, a, ok := fusableAct(g.Nodes[j], clipVersion); ok {
				attrs = append(attrs, a...)
				copy(inputs[4:], act)
				idx = append(idx, j)
			}
		}
		if len(idx) == 1 {
			continue
		}
		last := g.Nodes[idx[len(idx)-1]]
		for len(inputs) > 2 && inputs[len(inputs)-1] == "" {
			inputs = inputs[:len(inputs)-1]
		}
		fn := &ir.Node{Name: conv.Name, OpType: "FusedConv", Domain: FusedDomain,
			Inputs: inputs, Outputs: []string{last.Outputs[0]}, Attrs: attrs}
		c := fusedChain{node: fn}
		for _, k := range idx {
			c.parts = append(c.parts, g.Nodes[k])
			drop[k] = true
		}
		replace[idx[len(idx)-1]] = fn
		chains = append(chains, c)
	}
	if len(chains) == 0 {
		return nil, nil
	}
	var out []*ir.Node
	for i, n := range g.Nodes {
		if f := replace[i]; f != nil {
			out = append(out, f)
		} else if !drop[i] {
			out = append(out, n)
		}
	}
	return out, chains
}

// fusableAct recognizes an activation FusedConv applies: it returns the
// activation's extra inputs (Clip's bounds from opset 11) and the
// attributes that describe it.
func fusableAct(n *ir.Node, opset int64) (inputs []string, attrs ir.Attrs, ok bool) {
	if len(n.Outputs) != 1 || ir.NormDomain(n.Domain) != "" || len(n.Inputs) < 1 {
		return nil, nil, false
	}
	switch n.OpType {
	case "Relu":
		return nil, ir.Attrs{ir.StringAttr("activation", "Relu")}, true
	case "LeakyRelu":
		return nil, ir.Attrs{ir.StringAttr("activation", "LeakyRelu"),
			ir.FloatAttr("alpha", n.Attrs.Float("alpha", 0.01))}, true
	case "Clip":
		attrs = ir.Attrs{ir.StringAttr("activation", "Clip")}
		if opset < 11 {
			for _, name := range []string{"min", "max"} {
				if a := n.Attrs.Find(name); a != nil {
					attrs = append(attrs, ir.FloatAttr(name, a.Float))
				}
			}
			return nil, attrs, true
		}
		return n.Inputs[1:], attrs, true
	}
	return nil, nil, false
}

// isPlain reports whether n is the default-domain op.
func isPlain(n *ir.Node, op string) bool {
	return n.OpType == op && ir.NormDomain(n.Domain) == "" && n.Overload == ""
}

// valueUses counts the readers of each value: node inputs of g and the
// names g's subgraphs read from outside (each such subgraph counts twice,
// so those values are never fused away).
func valueUses(g *ir.Graph) map[string]int {
	uses := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" {
				uses[in]++
			}
		}
		for _, a := range n.Attrs {
			if a.Graph != nil {
				for _, name := range outerNames(a.Graph) {
					uses[name] += 2
				}
			}
		}
	}
	return uses
}
