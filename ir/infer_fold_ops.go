package ir

import "math"

// The folded ops of infer_fold.go: elementwise math, Gather, Concat, Slice,
// Where and the reductions, on small host values.

var foldUnary = map[string]func(float64) float64{
	"Identity": func(x float64) float64 { return x },
	"Neg":      func(x float64) float64 { return -x },
	"Abs":      math.Abs,
	"Floor":    math.Floor,
	"Ceil":     math.Ceil,
	"Sqrt":     math.Sqrt,
	"Round":    math.RoundToEven,
	"Relu":     func(x float64) float64 { return max(x, 0) },
	"Not":      func(x float64) float64 { return float64(b2i(x == 0)) },
	"Sign": func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x
	},
}

type binFold struct {
	i func(a, b int64) (int64, bool) // integer form (nil: compute in float)
	f func(a, b float64) float64
}

var foldBinary = map[string]binFold{
	"Add": {func(a, b int64) (int64, bool) { return a + b, true }, func(a, b float64) float64 { return a + b }},
	"Sub": {func(a, b int64) (int64, bool) { return a - b, true }, func(a, b float64) float64 { return a - b }},
	"Mul": {func(a, b int64) (int64, bool) { return a * b, true }, func(a, b float64) float64 { return a * b }},
	"Div": {func(a, b int64) (int64, bool) {
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}, func(a, b float64) float64 { return a / b }},
	"Max":            {func(a, b int64) (int64, bool) { return max(a, b), true }, math.Max},
	"Min":            {func(a, b int64) (int64, bool) { return min(a, b), true }, math.Min},
	"Pow":            {nil, math.Pow},
	"Equal":          {func(a, b int64) (int64, bool) { return b2i(a == b), true }, func(a, b float64) float64 { return float64(b2i(a == b)) }},
	"Less":           {func(a, b int64) (int64, bool) { return b2i(a < b), true }, func(a, b float64) float64 { return float64(b2i(a < b)) }},
	"LessOrEqual":    {func(a, b int64) (int64, bool) { return b2i(a <= b), true }, func(a, b float64) float64 { return float64(b2i(a <= b)) }},
	"Greater":        {func(a, b int64) (int64, bool) { return b2i(a > b), true }, func(a, b float64) float64 { return float64(b2i(a > b)) }},
	"GreaterOrEqual": {func(a, b int64) (int64, bool) { return b2i(a >= b), true }, func(a, b float64) float64 { return float64(b2i(a >= b)) }},
	"And":            {func(a, b int64) (int64, bool) { return b2i(a != 0 && b != 0), true }, nil},
	"Or":             {func(a, b int64) (int64, bool) { return b2i(a != 0 || b != 0), true }, nil},
	"Xor":            {func(a, b int64) (int64, bool) { return b2i((a != 0) != (b != 0)), true }, nil},
	"Mod": {func(a, b int64) (int64, bool) {
		if b == 0 {
			return 0, false
		}
		m := a % b
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return m, true
	}, nil},
}

// foldElementwise folds a broadcasting op over two or more inputs (Max,
// Min, Sum-like chains fold pairwise).
func foldElementwise(op string, attrs Attrs, in []*fval, out *TensorInfo) *fval {
	bf := foldBinary[op]
	float := in[0].isFloat()
	if op == "Mod" && attrs.Int("fmod", 0) != 0 || float && bf.f == nil || !float && bf.i == nil {
		if bf.f == nil {
			return nil
		}
		float = true
	}
	acc := in[0]
	for _, b := range in[1:] {
		shape, err := Broadcast(acc.shape, b.shape)
		if err != nil {
			return nil
		}
		ia, ib := bcastIndex(shape, acc.shape), bcastIndex(shape, b.shape)
		if ia == nil || ib == nil {
			return nil
		}
		r := newFold(shape, float)
		for i := range ia {
			if float {
				r.flts[i] = bf.f(acc.f(ia[i]), b.f(ib[i]))
				continue
			}
			v, ok := bf.i(acc.i(ia[i]), b.i(ib[i]))
			if !ok {
				return nil
			}
			r.ints[i] = v
		}
		acc = r
	}
	return acc
}

func foldWhere(in []*fval, out *TensorInfo, float bool) *fval {
	ic, ix, iy := bcastIndex(out.Shape, in[0].shape), bcastIndex(out.Shape, in[1].shape), bcastIndex(out.Shape, in[2].shape)
	if ic == nil || ix == nil || iy == nil {
		return nil
	}
	r := newFold(out.Shape, float)
	for i := range ic {
		if in[0].i(ic[i]) != 0 {
			r.set(i, in[1], ix[i])
		} else {
			r.set(i, in[2], iy[i])
		}
	}
	return r
}

// foldGatherOp is Gather along axis: out = data[:axis] + indices + data[axis+1:].
func foldGatherOp(attrs Attrs, data, idx *fval, out *TensorInfo) *fval {
	r := len(data.shape)
	axis := int(attrs.Int("axis", 0))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return nil
	}
	outer, inner, dim := Size(data.shape[:axis]), Size(data.shape[axis+1:]), data.shape[axis]
	src := make([]int, 0, Size(out.Shape))
	for o := range outer {
		for k := range idx.len() {
			j := int(idx.i(k))
			if j < 0 {
				j += dim
			}
			if j < 0 || j >= dim {
				return nil
			}
			for n := range inner {
				src = append(src, (o*dim+j)*inner+n)
			}
		}
	}
	return foldGather(data, src, out.Shape)
}

func foldConcat(attrs Attrs, in []*fval, out *TensorInfo, float bool) *fval {
	r := len(out.Shape)
	axis := int(attrs.Int("axis", 0))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return nil
	}
	res := newFold(out.Shape, float)
	outer, inner := Size(out.Shape[:axis]), Size(out.Shape[axis+1:])
	k := 0
	for o := range outer {
		for _, v := range in {
			if len(v.shape) != r {
				return nil
			}
			blk := v.shape[axis] * inner
			for j := range blk {
				if k >= res.len() {
					return nil
				}
				res.set(k, v, o*blk+j)
				k++
			}
		}
	}
	if k != res.len() {
		return nil
	}
	return res
}

// foldSlice walks the output and reads the input at start + i*step on each
// sliced axis.
func foldSlice(attrs Attrs, in []*fval, out *TensorInfo) *fval {
	if len(in) == 0 || in[0] == nil {
		return nil
	}
	x := in[0]
	c := &inferCtx{op: "Slice", attrs: attrs, in: make([]*TensorInfo, len(in)), vals: make([]*Tensor, len(in))}
	for i, v := range in {
		if v != nil {
			c.in[i] = NewInfo(Int64, v.shape...)
			c.vals[i] = v.toTensor(Int64)
		}
	}
	starts, ends, axes, steps, ok := c.sliceParams()
	if !ok {
		return nil
	}
	r := len(x.shape)
	if len(out.Shape) != r {
		return nil
	}
	first, step := make([]int, r), make([]int, r)
	for i := range step {
		step[i] = 1
	}
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) || i >= len(starts) || i >= len(ends) {
			return nil
		}
		d, s := int64(x.shape[a]), starts[i]
		if s < 0 {
			s += d
		}
		if steps[i] > 0 {
			s = min(max(s, 0), d)
		} else {
			s = min(max(s, 0), d-1)
		}
		first[a], step[a] = int(s), int(steps[i])
	}
	n := Size(out.Shape)
	src := make([]int, n)
	for i := range n {
		rem, f, stride := i, 0, 1
		for k := r - 1; k >= 0; k-- {
			f += (first[k] + (rem%out.Shape[k])*step[k]) * stride
			rem /= out.Shape[k]
			stride *= x.shape[k]
		}
		src[i] = f
	}
	return foldGather(x, src, out.Shape)
}

func foldReduce(op string, attrs Attrs, in []*fval, out *TensorInfo, float bool) *fval {
	if len(in) == 0 || in[0] == nil {
		return nil
	}
	x := in[0]
	axes := attrs.Ints("axes", nil)
	if !attrs.Has("axes") && len(in) > 1 && in[1] != nil {
		axes = in[1].ints
	}
	r := len(x.shape)
	keep := make([]int, r) // x's shape with the reduced axes set to 1
	copy(keep, x.shape)
	if len(axes) == 0 {
		if attrs.Int("noop_with_empty_axes", 0) != 0 {
			return &fval{shape: out.Shape, ints: x.ints, flts: x.flts}
		}
		for i := range keep {
			keep[i] = 1
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) {
			return nil
		}
		keep[a] = 1
	}
	if Size(keep) != Size(out.Shape) {
		return nil
	}
	res := newFold(out.Shape, float)
	seen := make([]bool, res.len())
	dst := bcastIndex(x.shape, keep) // each x element's output slot
	if dst == nil {
		return nil
	}
	for i, j := range dst {
		if !seen[j] {
			seen[j] = true
			res.set(j, x, i)
			continue
		}
		if float {
			res.flts[j] = reduceF(op, res.flts[j], x.f(i))
		} else {
			res.ints[j] = reduceI(op, res.ints[j], x.i(i))
		}
	}
	if op == "ReduceProd" || op == "ReduceSum" {
		for j, s := range seen {
			if !s && op == "ReduceProd" {
				res.set(j, &fval{ints: []int64{1}}, 0)
			}
		}
	}
	return res
}

func reduceF(op string, a, b float64) float64 {
	switch op {
	case "ReduceProd":
		return a * b
	case "ReduceSum":
		return a + b
	case "ReduceMin":
		return math.Min(a, b)
	}
	return math.Max(a, b)
}

func reduceI(op string, a, b int64) int64 {
	switch op {
	case "ReduceProd":
		return a * b
	case "ReduceSum":
		return a + b
	case "ReduceMin":
		return min(a, b)
	}
	return max(a, b)
}
