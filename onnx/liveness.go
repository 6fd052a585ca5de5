package onnx

import "github.com/keenml/keen/ir"

// A static liveness pass over a graph plan: which intermediates can be
// released (their buffers given back to the backend) after which node.
//
// A value is released after the last node that reads it, when all of this
// holds: a plain kernel node of this graph produced it (control flow,
// sequence, function and custom nodes may hand their inputs on inside the
// values they return, so neither their outputs nor their inputs are
// released); every reader is a plain kernel node; it is not a graph output,
// input or initializer; and a subgraph does not read it (a read inside a
// subgraph counts as a read by the node holding the subgraph, which is a
// control-flow node). A value nothing reads is released right after the
// node that made it. The executor skips the releases while a tape records,
// since the tape holds the intermediates for the backward pass.

// releasePlan returns, per node index, the names to release after it runs.
func releasePlan(gp *graphPlan) [][]string {
	g := gp.g
	producer := map[string]int{}
	keep := map[string]bool{}
	for _, vi := range g.Inputs {
		keep[vi.Name] = true
	}
	for _, vi := range g.Outputs {
		keep[vi.Name] = true
	}
	for name := range gp.inits {
		keep[name] = true
	}
	last := map[string]int{}
	for i, np := range gp.nodes {
		plain := np.special == nil
		for _, name := range np.n.Inputs {
			if name == "" {
				continue
			}
			last[name] = i
			if !plain {
				keep[name] = true
			}
		}
		for _, a := range np.n.Attrs {
			for _, sg := range attrGraphs(a) {
				for name := range graphReads(sg) {
					last[name] = i
					keep[name] = true
				}
			}
		}
		for _, name := range np.n.Outputs {
			if name == "" {
				continue
			}
			if _, twice := producer[name]; twice || !plain {
				keep[name] = true
			}
			producer[name] = i
		}
	}
	plan := make([][]string, len(gp.nodes))
	for name, p := range producer {
		if keep[name] {
			continue
		}
		at := p
		if l, ok := last[name]; ok && l > p {
			at = l
		}
		plan[at] = append(plan[at], name)
	}
	return plan
}

// attrGraphs returns the subgraphs an attribute holds.
func attrGraphs(a ir.Attr) []*ir.Graph {
	switch {
	case a.Type == ir.AttrGraph && a.Graph != nil:
		return []*ir.Graph{a.Graph}
	case a.Type == ir.AttrGraphs:
		return a.Graphs
	}
	return nil
}

// graphReads returns every name a graph and its nested subgraphs read
// (node inputs and graph outputs), whether or not it is defined inside.
func graphReads(g *ir.Graph) map[string]bool {
	reads := map[string]bool{}
	var walk func(g *ir.Graph)
	walk = func(g *ir.Graph) {
		if g == nil {
			return
		}
		for _, vi := range g.Outputs {
			reads[vi.Name] = true
		}
		for _, n := range g.Nodes {
			for _, name := range n.Inputs {
				if name != "" {
					reads[name] = true
				}
			}
			for _, a := range n.Attrs {
				for _, sg := range attrGraphs(a) {
					walk(sg)
				}
			}
		}
	}
	walk(g)
	return reads
}
