package ir

import "fmt"

// Inference rules of the indexing family: gathers, scatters, OneHot and the
// data-dependent selections (Compress, NonZero, Unique), whose sizes are
// known only when the values that decide them are.

func init() {
	sameAsData := func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil }
	addInferRules("", map[string]inferFunc{
		"Gather":          inferGather,
		"GatherElements":  inferGatherElements,
		"GatherND":        inferGatherND,
		"Scatter":         sameAsData,
		"ScatterElements": sameAsData,
		"ScatterND":       sameAsData,
		"TensorScatter":   sameAsData,
		"ReverseSequence": sameAsData,
		"Trilu":           sameAsData,
		"OneHot":          inferOneHot,
		"Compress":        inferCompress,
		"NonZero":         inferNonZero,
		"Unique":          inferUnique,
	})
}

func inferGather(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	idx, idxKnown := c.shape(1)
	if !known || !idxKnown {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", 0), len(s))
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(s)-1+len(idx))
	out = append(out, s[:axis]...)
	out = append(out, idx...)
	out = append(out, s[axis+1:]...)
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferGatherElements(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(1)
	out.DType = c.dtype(0)
	s, known := c.shape(0)
	if known && !out.UnknownRank && len(s) != len(out.Shape) {
		return nil, c.errorf("indices %s and data %s differ in rank", shapeString(out.Shape), shapeString(s))
	}
	return []*TensorInfo{out}, nil
}

func inferGatherND(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	idx, idxKnown := c.shape(1)
	if !known || !idxKnown || len(idx) == 0 || idx[len(idx)-1] < 0 {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	b := int(c.attrs.Int("batch_dims", 0))
	last := idx[len(idx)-1]
	if b+last > len(s) {
		return nil, c.errorf("indices %s index too many dims of data %s", shapeString(idx), shapeString(s))
	}
	out := append([]int{}, idx[:len(idx)-1]...)
	out = append(out, s[b+last:]...)
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferOneHot(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(2)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", -1), len(s)+1)
	if err != nil {
		return nil, err
	}
	depth := -1
	if v, ok := c.floats(1); ok && len(v) == 1 {
		depth = int(v[0])
	}
	out := make([]int, 0, len(s)+1)
	out = append(out, s[:axis]...)
	out = append(out, depth)
	out = append(out, s[axis:]...)
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

// countTrue counts the non-zero values of input i among its first n (all
// when n < 0); -1 when the values are not known.
func (c *inferCtx) countTrue(i, n int) int {
	v := c.value(i)
	if v == nil || v.DType == String {
		return -1
	}
	if n < 0 || n > v.Len() {
		n = v.Len()
	}
	k := 0
	for j := range n {
		if v.Float64At(j) != 0 {
			k++
		}
	}
	return k
}

func inferCompress(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !c.attrs.Has("axis") {
		return []*TensorInfo{{DType: dt, Shape: []int{c.countTrue(1, -1)}}}, nil
	}
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", 0), len(s))
	if err != nil {
		return nil, err
	}
	out := append([]int{}, s...)
	out[axis] = -1
	if s[axis] >= 0 {
		out[axis] = c.countTrue(1, s[axis])
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferNonZero(c *inferCtx) ([]*TensorInfo, error) {
	r := c.input(0).Rank()
	if r < 0 {
		return []*TensorInfo{unknownDims(Int64, 2)}, nil
	}
	return []*TensorInfo{{DType: Int64, Shape: []int{r, c.countTrue(0, -1)}}}, nil
}

// inferUnique: the number of unique values (or slices) is data-dependent;
// inverse_indices has one entry per input element (or slice).
func inferUnique(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	n := c.uniqueCount()
	y := &TensorInfo{DType: dt, Shape: []int{n}}
	inv := &TensorInfo{DType: Int64, Shape: []int{-1}}
	switch {
	case known && !c.attrs.Has("axis"):
		inv.Shape[0] = prodDims(s)
	case known:
		axis, err := c.normAxis(c.attrs.Int("axis", 0), len(s))
		if err != nil {
			return nil, err
		}
		y.Shape = append([]int{}, s...)
		y.Shape[axis] = n
		inv.Shape[0] = s[axis]
	case c.attrs.Has("axis"):
		y = unknownRank(dt)
	}
	return []*TensorInfo{y, NewInfo(Int64, n), inv, NewInfo(Int64, n)}, nil
}

// uniqueCount counts the distinct values (or, with axis, slices along it)
// of Unique's input when its value is known; -1 otherwise.
func (c *inferCtx) uniqueCount() int {
	v := c.value(0)
	if v == nil || v.DType == String && c.attrs.Has("axis") {
		return -1
	}
	outer, dim, inner := 1, v.Len(), 1
	if c.attrs.Has("axis") {
		axis, err := c.normAxis(c.attrs.Int("axis", 0), len(v.Shape))
		if err != nil {
			return -1
		}
		outer, dim, inner = Size(v.Shape[:axis]), v.Shape[axis], Size(v.Shape[axis+1:])
	}
	seen := map[string]bool{}
	key := make([]byte, 0, 64)
	for j := range dim {
		key = key[:0]
		for o := range outer {
			for k := range inner {
				i := (o*dim+j)*inner + k
				if d, ok := v.Data.([]string); ok {
					key = append(key, d[i]...)
					key = append(key, 0)
				} else {
					key = fmt.Appendf(key, "%v,", v.Float64At(i))
				}
			}
		}
		seen[string(key)] = true
	}
	return len(seen)
}
