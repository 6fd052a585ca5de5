package eager

import "github.com/keenml/keen/ir"

// Gradient rules of the scans (CumSum, CumProd) and of TopK.

func init() {
	RegisterGradient("", "CumSum", gradCumSum)
	RegisterGradient("", "CumProd", gradCumProd)
	RegisterGradient("", "TopK", gradTopK)
}

// cumAttrs returns a scan's attributes with exclusive and reverse set.
func cumAttrs(at ir.Attrs, exclusive, reverse bool) ir.Attrs {
	return at.With(ir.IntAttr("exclusive", b2i(exclusive))).With(ir.IntAttr("reverse", b2i(reverse)))
}

// scanFlags returns the exclusive and reverse attributes of a scan.
func scanFlags(at ir.Attrs) (exclusive, reverse bool) {
	return at.Int("exclusive", 0) != 0, at.Int("reverse", 0) != 0
}

// CumSum is linear; its adjoint runs the scan the other way:
// dX = cumsum(dY) with reverse flipped and exclusive kept
// (inclusive: dX_j = Σ_{i≥j} dY_i; exclusive: Σ_{i>j} dY_i).
func gradCumSum(g *GradContext) []*Tensor {
	excl, rev := scanFlags(g.Attrs())
	dx := op1("CumSum", cumAttrs(g.Attrs(), excl, !rev), g.D(0), g.In[1])
	return []*Tensor{dx, nil}
}

// CumProd, Y_i = Π_{l∈W(i)} X_l (W(i) = {l ≤ i}, {l < i} when exclusive,
// mirrored when reverse): dX_j = Σ_{i: j∈W(i)} dY_i Π_{l∈W(i), l≠j} X_l.
// Along the scan direction let k be the first zero of X. Then
//
//	j before k:  dX_j = adj(dY Y)_j / X_j
//	j = k:       dX_k = adj(dY Y')_k, Y' = cumprod(X with X_k set to 1)
//	j after k:   dX_j = 0 (every product holding X_j also holds X_k = 0)
//
// where adj is the adjoint scan of gradCumSum. This is exact at zeros,
// where the usual adj(dY Y)/X is 0/0.
func gradCumProd(g *GradContext) []*Tensor {
	x, axis, y, dy := g.In[0], g.In[1], g.Out[0], g.D(0)
	at := g.Attrs()
	excl, rev := scanFlags(at)
	adj := func(t *Tensor) *Tensor { return op1("CumSum", cumAttrs(at, excl, !rev), t, axis) }
	zero := Equal(x, ScalarLike(x, 0))
	// zeros seen so far along the scan, the current position included
	seen := op1("CumSum", cumAttrs(at, false, rev), Cast(zero, x.DType()), axis)
	before := Equal(seen, ScalarLike(seen, 0))
	first := And(zero, Equal(seen, ScalarLike(seen, 1)))
	ones, zeros := OnesLike(x), ZerosLike(x)
	d := Where(before, Div(adj(Mul(dy, y)), Where(before, x, ones)), zeros)
	y1 := op1("CumProd", at, Where(first, ones, x), axis)
	d = Add(d, Where(first, adj(Mul(dy, y1)), zeros))
	return []*Tensor{d, nil}
}

// TopK: the values output is X at the selected indices, so dX is dValues
// scattered (added) back to those positions along axis; the indices carry
// no gradient, and neither does K.
func gradTopK(g *GradContext) []*Tensor {
	x := g.In[0]
	if !x.DType().IsFloat() {
		return nil
	}
	axis := int64(normAxisOf(g.Attrs().Int("axis", -1), x.Rank()))
	idx := topKIndices(g)
	attrs := ir.Attrs{ir.IntAttr("axis", axis), ir.StringAttr("reduction", "add")}
	dx := op1("ScatterElements", attrs, ZerosLike(x), idx, g.D(0))
	out := make([]*Tensor, len(g.In))
	out[0] = dx
	return out
}

// topKIndices returns the recorded indices output, or recomputes it when
// the op was run without one.
func topKIndices(g *GradContext) *Tensor {
	if len(g.Out) > 1 && g.Out[1] != nil {
		return g.Out[1]
	}
	var idx *Tensor
	NoGrad(func() {
		outs, err := CallDomain(g.Spec.Domain, g.Spec.Op, g.Spec.Version, g.Spec.Attrs, 2, g.In...)
		if err != nil {
			panic(&OpError{Err: err})
		}
		idx = outs[1]
	})
	return idx
}
