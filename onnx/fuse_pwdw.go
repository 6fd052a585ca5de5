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

// fusePwDw rewrites the pairs among nodes (fuseConvChains' output) and
// returns the nodes and chains with each pair's two chains merged.
func fusePwDw(g *ir.Graph, nodes []*ir.Node, chains []fusedChain) ([]*ir.Node, []fusedChain) {
	shapes := map[string][]int{}
	for _, t := range g.Initializers {
		shapes[t.Name] = t.Shape
	}
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
	replace := map[*ir.Node]*ir.Node{} // the depthwise node -> the pair
	var pairs []fusedChain
	for _, a := range nodes {
		if !isFusedConv(a) || !pointwiseConv(a, shapes) || uses[a.Outputs[0]] != 1 {
			continue
		}
		b := reader[a.Outputs[0]]
		if b == nil || drop[b] || !isFusedConv(b) || b.Inputs[0] != a.Outputs[0] || !depthwiseConv(b, shapes, shapes[a.Inputs[1]][0]) {
			continue
		}
		in := func(n *ir.Node, i int) string {
			if i < len(n.Inputs) {
				return n.Inputs[i]
			}
			return ""
		}
		inputs := []string{a.Inputs[0], a.Inputs[1], in(a, 2), in(a, 4), in(a, 5), b.Inputs[1], in(b, 2), in(b, 4), in(b, 5)}
		for len(inputs) > 6 && inputs[len(inputs)-1] == "" {
			inputs = inputs[:len(inputs)-1]
		}
		attrs := slices.Clone(b.Attrs)
		for _, at := range a.Attrs {
			switch at.Name {
			case "activation", "alpha", "min", "max":
				at.Name = "pw_" + at.Name
				attrs = append(attrs, at)
			}
		}
		pn := &ir.Node{Name: a.Name, OpType: "FusedPwDw", Domain: FusedDomain, Inputs: inputs, Outputs: b.Outputs, Attrs: attrs}
		pair := fusedChain{node: pn}
		for _, n := range []*ir.Node{a, b} {
			if i, ok := byNode[n]; ok {
				pair.parts = append(pair.parts, chains[i].parts...)
			}
		}
		drop[a], drop[b] = true, true
		replace[b] = pn
		pairs = append(pairs, pair)
	}
	if len(pairs) == 0 {
		return nodes, chains
	}
	var out []*ir.Node
	for _, n := range nodes {
		if p := replace[n]; p != nil {
			out = append(out, p)
		} else if !drop[n] {
			out = append(out, n)
		}
	}
	kept := pairs
	for _, c := range chains {
		if !drop[c.node] {
			kept = append(kept, c)
		}
	}
	return out, kept
}

func isFusedConv(n *ir.Node) bool {
	return n.OpType == "FusedConv" && n.Domain == FusedDomain && len(n.Outputs) == 1 && len(n.Inputs) >= 2 &&
		(len(n.Inputs) < 4 || n.Inputs[3] == "")
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
