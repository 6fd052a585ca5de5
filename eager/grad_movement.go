package eager

import (
	"github.com/keenml/keen/ir"
)

// Gradient rules of movement ops. Most gather-like ops share one rule: the
// op is run again on the positions 1..N of its data input (an "iota"), which
// tells for each output element which input element it came from (0: none,
// e.g. padding); the output gradient is then scatter-added back.

func init() {
	reshapeBack := func(g *GradContext) []*Tensor { return []*Tensor{Reshape(g.D(0), g.In[0].Shape()...)} }
	for _, op := range []string{"Reshape", "Flatten", "Squeeze", "Unsqueeze"} {
		RegisterGradient("", op, reshapeBack)
	}
	// Transpose: dX = dYᵀ with the inverse permutation
	RegisterGradient("", "Transpose", func(g *GradContext) []*Tensor {
		perm := g.Attrs().Ints("perm", nil)
		r := g.In[0].Rank()
		inv := make([]int, r)
		for i := 0; i < r; i++ {
			p := r - 1 - i
			if len(perm) == r {
				p = int(perm[i])
			}
			inv[p] = i
		}
		return []*Tensor{Transpose(g.D(0), inv...)}
	})
	// Expand: dX = dY summed over the broadcast axes (done by the engine)
	RegisterGradient("", "Expand", func(g *GradContext) []*Tensor { return []*Tensor{g.D(0)} })
	// Concat: dX_i = the slice of dY that X_i filled
	RegisterGradient("", "Concat", func(g *GradContext) []*Tensor {
		axis := int(g.Attrs().Int("axis", 0))
		if axis < 0 {
			axis += g.Out[0].Rank()
		}
		out := make([]*Tensor, len(g.In))
		lo := 0
		for i, x := range g.In {
			n := x.Dim(axis)
			out[i] = Slice(g.D(0), []int{lo}, []int{lo + n}, []int{axis})
			lo += n
		}
		return out
	})
	// Split: dX = concat(dY_i) (zeros for outputs without gradient)
	RegisterGradient("", "Split", func(g *GradContext) []*Tensor {
		axis := int(g.Attrs().Int("axis", 0))
		if axis < 0 {
			axis += g.In[0].Rank()
		}
		parts := make([]*Tensor, len(g.Out))
		for i := range g.Out {
			parts[i] = g.D(i)
		}
		return []*Tensor{Concat(axis, parts...)}
	})
	for _, op := range []string{"Slice", "Gather", "GatherElements", "GatherND", "Tile", "Pad",
		"DepthToSpace", "SpaceToDepth", "ReverseSequence", "Compress", "Trilu", "CenterCropPad"} {
		RegisterGradient("", op, gradByIndexMap)
	}
	// ScatterElements/ScatterND (reduction none or add): the data gradient is
	// dY where no update landed (every position for add); the update gradient
	// is dY gathered at the indices.
	RegisterGradient("", "ScatterElements", gradScatter("GatherElements"))
	RegisterGradient("", "Scatter", gradScatter("GatherElements"))
	RegisterGradient("", "ScatterND", gradScatter("GatherND"))
	RegisterNonDifferentiable("", "Shape", "Size", "NonZero", "Unique", "OneHot", "Range",
		"EyeLike", "ConstantOfShape", "Constant")
}

// gradByIndexMap is the rule of ops that only move or drop elements of
// input 0 (the others are indices, shapes or pads).
func gradByIndexMap(g *GradContext) []*Tensor {
	x := g.In[0]
	n := x.Len()
	iota := make([]int64, n)
	for i := range iota {
		iota[i] = int64(i + 1)
	}
	in := append([]*Tensor(nil), g.In...)
	var err error
	if in[0], err = FromHost(x.dev, ir.FromSlice(iota, x.Shape()...)); err != nil {
		panic(&OpError{Err: err})
	}
	if g.Spec.Op == "Pad" && len(in) > 2 && in[2] != nil {
		in[2] = Int64s(x, 0).reshapedScalar()
	}
	var src *Tensor
	NoGrad(func() {
		spec := *g.Spec
		spec.InputTypes = append([]ir.DType(nil), spec.InputTypes...)
		spec.InputTypes[0] = ir.Int64
		if spec.Op == "Pad" && len(spec.InputTypes) > 2 && in[2] != nil {
			spec.InputTypes[2] = ir.Int64
		}
		if spec.Op == "Pad" {
			spec.Attrs = spec.Attrs.With(ir.FloatAttr("value", 0))
		}
		outs, err := CallDomain(spec.Domain, spec.Op, spec.Version, spec.Attrs, len(g.Out), in...)
		if err != nil {
			panic(&OpError{Err: err})
		}
		src = outs[0]
	})
	return []*Tensor{scatterAddFlat(x, src, g.D(0))}
}

// scatterAddFlat returns a tensor shaped like x whose element i-1 is the sum
// of d over the positions where src equals i (src 0 is dropped).
func scatterAddFlat(x, src, d *Tensor) *Tensor {
	n := x.Len()
	zeros := Full(d, d.DType(), 0, n+1)
	idx := Reshape(src, -1)
	upd := Reshape(d, -1)
	acc := op1("ScatterElements", ir.Attrs{ir.IntAttr("axis", 0), ir.StringAttr("reduction", "add")}, zeros, idx, upd)
	return Reshape(Slice(acc, []int{1}, []int{n + 1}, []int{0}), x.Shape()...)
}

// reshapedScalar makes a one-element tensor rank 0.
func (t *Tensor) reshapedScalar() *Tensor { return Reshape(t) }

func gradScatter(gather string) GradRule {
	return func(g *GradContext) []*Tensor {
		data, indices, updates, dy := g.In[0], g.In[1], g.In[2], g.D(0)
		attrs := ir.Attrs{}
		if gather == "GatherElements" {
			attrs = ir.Attrs{ir.IntAttr("axis", g.Attrs().Int("axis", 0))}
		}
		red := g.Attrs().Str("reduction", "none")
		if red != "none" && red != "add" {
			panic(&OpError{Err: errNoGrad(g.Spec.Op + " with reduction " + red)})
		}
		dData := dy
		if red == "none" {
			kept := op1(g.Spec.Op, g.Attrs(), OnesLike(data), indices, ZerosLike(updates))
			dData = Mul(dy, kept)
		}
		dUpd := op1(gather, attrs, dy, indices)
		return []*Tensor{dData, nil, dUpd}
	}
}

type errNoGrad string

func (e errNoGrad) Error() string { return "no gradient rule for " + string(e) }
