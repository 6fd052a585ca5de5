package onnx

import (
	"slices"

	"github.com/keenml/keen/ir"
)

// Expand and depthwise pairs. A pointwise FusedConv (1×1 kernel, unit
// strides, no padding, one group, no residual) whose output only a
// depthwise FusedConv reads (group = channels, one filter per channel, no
// residual) becomes one com.keenml FusedPwDw node when the backend lists
// it: the CPU kernel convolves each block of expanded channels while it is
// still in cache instead of writing the whole expansion out (MobileNet's
// inverted residual blocks). Under a tape it runs its plain nodes, as a
// FusedConv does.
//
// FusedPwDw inputs: 0 X, 1 W1, 2 B1, 3 min1, 4 max1, 5 W2, 6 B2, 7 min2,
// 8 max2; attributes: the depthwise FusedConv's, and the pointwise one's
// activation, alpha, min and max prefixed "pw_". See
// backends/cpu/conv_pwdw.go.

// fusePwDw rewrites the pairs among nodes (fuseConvChains' output) and,
// where blocks is set, the pairs' projections too (FusedBlock); it returns
// the nodes and chains with each rewrite's chains merged.
func fusePwDw(g *ir.Graph, nodes []*ir.Node, chains []fusedChain, blocks bool) ([]*ir.Node, []fusedChain) {
	shapes := map[string][]int{}
	for _, t := range g.Initializers {
		shapes[t.Name] = t.Shape
	}
	nodes, chains = mergePairs(g, nodes, chains, func(a, b *ir.Node) *ir.Node {
		if !isFusedConv(a, false) || !pointwiseConv(a, shapes) || !isFusedConv(b, false) ||
			!depthwiseConv(b, shapes, shapes[a.Inputs[1]][0]) {
			return nil
		}
		inputs := []string{a.Inputs[0], a.Inputs[1], input(a, 2), input(a, 4), input(a, 5), b.Inputs[1], input(b, 2), input(b, 4), input(b, 5)}
		attrs := append(slices.Clone(b.Attrs), actAttrs(a, "pw_")...)
		return &ir.Node{Name: a.Name, OpType: "FusedPwDw", Domain: FusedDomain, Inputs: trimInputs(inputs, 6), Outputs: b.Outputs, Attrs: attrs}
	})
	if !blocks {
		return nodes, chains
	}
	return mergePairs(g, nodes, chains, func(a, b *ir.Node) *ir.Node {
		if a.OpType != "FusedPwDw" || a.Domain != FusedDomain || !isFusedConv(b, true) || !pointwiseConv(b, shapes) {
			return nil
		}
		inputs := append(append([]string{}, a.Inputs...), "", "", "", "", "", "", "", "", "")[:9]
		inputs = append(inputs, b.Inputs[1], input(b, 2), input(b, 3), input(b, 4), input(b, 5))
		attrs := append(slices.Clone(a.Attrs), actAttrs(b, "pj_")...)
		return &ir.Node{Name: a.Name, OpType: "FusedBlock", Domain: FusedDomain, Inputs: trimInputs(inputs, 11), Outputs: b.Outputs, Attrs: attrs}
	})
}

// mergePairs rewrites each node a whose only reader b takes a's output as
// its input 0 into merge(a, b) where that is not nil, at b's place, with
// a's and b's chains merged into the new node's.
func mergePairs(g *ir.Graph, nodes []*ir.Node, chains []fusedChain, merge func(a, b *ir.Node) *ir.Node) ([]*ir.Node, []fusedChain) {
	uses := valueUses(&ir.Graph{Nodes: nodes})
	for _, o := range g.Outputs {
		uses[o.Name] += 2
	}
	byNode := map[*ir.Node]int{}
	for i, c := range chains {
		byNode[c.node] = i
	}
	reader := map[string]*ir.Node{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			reader[in] = n
		}
	}
	drop := map[*ir.Node]bool{}
	replace := map[*ir.Node]*ir.Node{} // b -> the merged node
	var merged []fusedChain
	for _, a := range nodes {
		if drop[a] || len(a.Outputs) != 1 || uses[a.Outputs[0]] != 1 {
			continue
		}
		b := reader[a.Outputs[0]]
		if b == nil || drop[b] || len(b.Inputs) == 0 || b.Inputs[0] != a.Outputs[0] {
			continue
		}
		m := merge(a, b)
		if m == nil {
			continue
		}
		c := fusedChain{node: m}
		for _, n := range []*ir.Node{a, b} {
			if i, ok := byNode[n]; ok {
				c.parts = append(c.parts, chains[i].parts...)
			}
		}
		drop[a], drop[b] = true, true
		replace[b] = m
		merged = append(merged, c)
	}
	if len(merged) == 0 {
		return nodes, chains
	}
	var out []*ir.Node
	for _, n := range nodes {
		if m := replace[n]; m != nil {
			out = append(out, m)
		} else if !drop[n] {
			out = append(out, n)
		}
	}
	for _, c := range chains {
		if !drop[c.node] {
			merged = append(merged, c)
		}
	}
	return out, merged
}

// input is n's input i, "" when absent.
func input(n *ir.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// trimInputs drops trailing absent inputs past the first keep.
func trimInputs(in []string, keep int) []string {
	for len(in) > keep && in[len(in)-1] == "" {
		in = in[:len(in)-1]
	}
	return in
}

// actAttrs are a FusedConv's activation attributes, renamed with prefix.
func actAttrs(n *ir.Node, prefix string) ir.Attrs {
	var attrs ir.Attrs
	for _, at := range n.Attrs {
		switch at.Name {
		case "activation", "alpha", "min", "max":
			at.Name = prefix + at.Name
			attrs = append(attrs, at)
		}
	}
	return attrs
}

// isFusedConv: a FusedConv, with no residual unless residual is set.
func isFusedConv(n *ir.Node, residual bool) bool {
	return n.OpType == "FusedConv" && n.Domain == FusedDomain && len(n.Outputs) == 1 && len(n.Inputs) >= 2 &&
		(residual || len(n.Inputs) < 4 || n.Inputs[3] == "")
}

// pointwiseConv: a 1×1 kernel (weights an initializer), unit strides and
// dilations, no padding, one group.
func pointwiseConv(n *ir.Node, shapes map[string][]int) bool {
	ws := shapes[n.Inputs[1]]
	if len(ws) != 4 || ws[2] != 1 || ws[3] != 1 || n.Attrs.Int("group", 1) != 1 || n.Attrs.Str("auto_pad", "NOTSET") != "NOTSET" {
		return false
	}
	for _, name := range []string{"strides", "dilations"} {
		if a := n.Attrs.Find(name); a != nil && slices.ContainsFunc(a.Ints, func(v int64) bool { return v != 1 }) {
			return false
		}
	}
	if a := n.Attrs.Find("pads"); a != nil && slices.ContainsFunc(a.Ints, func(v int64) bool { return v != 0 }) {
		return false
	}
	return true
}

// depthwiseConv: group = c = the weights' filters, one input channel each.
func depthwiseConv(n *ir.Node, shapes map[string][]int, c int) bool {
	ws := shapes[n.Inputs[1]]
	return len(ws) == 4 && ws[0] == c && ws[1] == 1 && n.Attrs.Int("group", 1) == int64(c)
}
