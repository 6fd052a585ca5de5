package eager

import "github.com/keenml/keen/ir"

func init() {
	// The ONNX executor runs these as the eager ops inside their bodies
	// (If, Loop, Scan, SequenceMap) or as value passing and Slice/Gather/
	// Concat/Unsqueeze ops (sequences and optionals), so the tape sees only
	// ops that have rules of their own.
	RegisterComposite("", "If", "Loop", "Scan", "SequenceMap", "SequenceAt", "SequenceConstruct",
		"SequenceErase", "SequenceInsert", "ConcatFromSequence", "SplitToSequence", "Optional",
		"OptionalGetElement")
	RegisterGradient("", "TensorScatter", gradTensorScatter)
}

// TensorScatter(cache, update, write_indices): each output element comes
// either from the cache or from the update. Running the op on positions
// 1..N of one source (zeros for the other) tells which; the gradient is
// scatter-added back to each source.
func gradTensorScatter(g *GradContext) []*Tensor {
	cache, update, dy := g.In[0], g.In[1], g.D(0)
	iota := func(x *Tensor) *Tensor {
		n := x.Len()
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i + 1)
		}
		t, err := FromHost(x.dev, ir.FromSlice(v, x.Shape()...))
		if err != nil {
			panic(&OpError{Err: err})
		}
		return t
	}
	zeros := func(x *Tensor) *Tensor { return Full(x, ir.Int64, 0, x.Shape()...) }
	var fromCache, fromUpdate *Tensor
	NoGrad(func() {
		rest := g.In[2:]
		fromCache = op1v(g, append([]*Tensor{iota(cache), zeros(update)}, rest...))
		fromUpdate = op1v(g, append([]*Tensor{zeros(cache), iota(update)}, rest...))
	})
	return []*Tensor{scatterAddFlat(cache, fromCache, dy), scatterAddFlat(update, fromUpdate, dy)}
}

// op1v runs the recorded op again, at its opset, on other inputs.
func op1v(g *GradContext, in []*Tensor) *Tensor {
	out, err := CallDomain(g.Spec.Domain, g.Spec.Op, g.Spec.Version, g.Spec.Attrs, 1, in...)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return out[0]
}
