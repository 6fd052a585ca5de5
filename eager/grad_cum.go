package eager

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

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
// Two exact evaluations: an O(n) one (cumProdBackScan) and, when the
// gradient is itself recorded for a higher-order derivative, an O(n²) one
// (cumProdBackMatrix) whose own derivative is exact at zeros too (as
// PyTorch does for cumprod's double backward).
func gradCumProd(g *GradContext) []*Tensor {
	if taping() {
		return []*Tensor{cumProdBackMatrix(g), nil}
	}
	return []*Tensor{cumProdBackScan(g), nil}
}

// cumProdBackScan: along the scan direction let k be the first zero of X.
//
//	j before k:  dX_j = adj(dY Y)_j / X_j
//	j = k:       dX_k = adj(dY Y')_k, Y' = cumprod(X with X_k set to 1)
//	j after k:   dX_j = 0 (every product holding X_j also holds X_k = 0)
//
// where adj is the adjoint scan of gradCumSum. The values are exact at
// zeros (where the usual adj(dY Y)/X is 0/0), but the masks make its own
// derivative miss the terms through X_k of the positions after k.
func cumProdBackScan(g *GradContext) *Tensor {
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
	return Add(d, Where(first, adj(Mul(dy, y1)), zeros))
}

// cumProdBackMatrix (scan forward; reverse mirrors every "after"):
// dX_j = P_j s_j with P the exclusive cumprod of X and
// s_j = Σ_{i≥j} dY'_i M_ji, M_ji = Π_{j<l≤i} X_l, where dY' = dY
// (inclusive) or dY shifted one step back (exclusive). M is the cumprod
// along l of A_jl = (l > j ? X_l : 1), a polynomial in X everywhere.
func cumProdBackMatrix(g *GradContext) *Tensor {
	x, dy := g.In[0], g.D(0)
	at := g.Attrs()
	excl, rev := scanFlags(at)
	ax, err := g.In[1].MustHost().Int64s()
	if err != nil || len(ax) != 1 {
		panic(&OpError{Err: fmt.Errorf("CumProd gradient: input 1 (axis) must hold one integer: %v", g.In[1])})
	}
	r := x.Rank()
	axis := normAxisOf(ax[0], r)
	n := x.Dim(axis)
	perm := make([]int, 0, r) // the scanned axis last
	for a := 0; a < r; a++ {
		if a != axis {
			perm = append(perm, a)
		}
	}
	perm = append(perm, axis)
	inv := make([]int, r)
	for i, p := range perm {
		inv[p] = i
	}
	xt, dyt := Transpose(x, perm...), Transpose(dy, perm...)
	if excl && n > 0 {
		z := Full(dyt, dyt.DType(), 0, append(append([]int(nil), dyt.Shape()[:r-1]...), 1)...)
		if rev {
			dyt = Concat(r-1, z, Slice(dyt, []int{0}, []int{n - 1}, []int{r - 1}))
		} else {
			dyt = Concat(r-1, Slice(dyt, []int{1}, []int{n}, []int{r - 1}), z)
		}
	}
	after := func(j, l int) bool { // l comes after j along the scan
		if rev {
			return l < j
		}
		return l > j
	}
	a := Where(boolMatrix(x, n, after), Unsqueeze(xt, r-1), ScalarLike(x, 1))
	m := op1("CumProd", ir.Attrs{ir.IntAttr("reverse", b2i(rev))}, a, Int64s(x, -1))
	m = Where(boolMatrix(x, n, func(j, i int) bool { return i == j || after(j, i) }), m, ScalarLike(m, 0))
	s := Reshape(MatMul(m, Unsqueeze(dyt, r)), xt.Shape()...)
	p := op1("CumProd", cumAttrs(nil, true, rev), xt, Int64s(x, -1))
	return Transpose(Mul(p, s), inv...)
}

// boolMatrix is the (n, n) constant with entry (j, l) = f(j, l).
func boolMatrix(like *Tensor, n int, f func(j, l int) bool) *Tensor {
	v := make([]bool, n*n)
	for j := 0; j < n; j++ {
		for l := 0; l < n; l++ {
			v[j*n+l] = f(j, l)
		}
	}
	t, err := FromHost(like.dev, ir.FromSlice(v, n, n))
	if err != nil {
		panic(&OpError{Err: err})
	}
	return t
}

// taping reports whether ops run now are recorded by some tape: a gradient
// is being taken under an outer tape, so rules should stay differentiable.
func taping() bool {
	if !recording() {
		return false
	}
	list := active.Load()
	if list == nil {
		return false
	}
	for _, t := range *list {
		t.mu.Lock()
		on := t.paused == 0 && !t.done
		t.mu.Unlock()
		if on {
			return true
		}
	}
	return false
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
