package ir

// Inference rules of Slice, Split and Pad, whose output sizes come from
// index inputs (attributes in older opsets).

func init() {
	addInferRules("", map[string]inferFunc{
		"Slice": inferSlice,
		"Split": inferSplit,
		"Pad":   inferPad,
	})
}

// SlicedLen is the number of elements a Slice with start, end and step (end
// exclusive, negative values counting from the end, out-of-range values
// clamped as ONNX says) takes from a dimension of size dim.
func SlicedLen(dim int, start, end, step int64) int {
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var n int64
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		n = (end - start + step - 1) / step
	} else {
		start = min(max(start, 0), d-1)
		end = min(max(end, -1), d-1)
		n = (start - end - step - 1) / -step
	}
	return int(max(n, 0))
}

// sliceParams gathers starts, ends, axes and steps from attributes (opset <
// 10) or inputs; known is false when one of them is not known.
func (c *inferCtx) sliceParams() (starts, ends, axes, steps []int64, known bool) {
	if c.attrs.Has("starts") {
		starts, ends = c.attrs.Ints("starts", nil), c.attrs.Ints("ends", nil)
		axes = c.attrs.Ints("axes", nil)
		known = true
	} else {
		var ok1, ok2 bool
		starts, ok1 = c.ints(1)
		ends, ok2 = c.ints(2)
		known = ok1 && ok2
		if c.has(3) {
			var ok bool
			axes, ok = c.ints(3)
			known = known && ok
		}
		if c.has(4) {
			var ok bool
			steps, ok = c.ints(4)
			known = known && ok
		}
	}
	if !known {
		return nil, nil, nil, nil, false
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	return starts, ends, axes, steps, true
}

func inferSlice(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	starts, ends, axes, steps, ok := c.sliceParams()
	if !ok {
		return []*TensorInfo{c.sliceUnknown(s)}, nil
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, c.errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	ax, err := c.normAxes(axes, len(s))
	if err != nil {
		return nil, err
	}
	out := append([]int{}, s...)
	for i, a := range ax {
		if steps[i] == 0 {
			return nil, c.errorf("step 0 on axis %d", a)
		}
		if s[a] >= 0 {
			out[a] = SlicedLen(s[a], starts[i], ends[i], steps[i])
		}
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

// sliceUnknown: the sliced axes become unknown when axes are known; all
// dims otherwise.
func (c *inferCtx) sliceUnknown(s []int) *TensorInfo {
	out := unknownDims(c.dtype(0), len(s))
	if c.attrs.Has("starts") || !c.has(3) {
		return out
	}
	axes, ok := c.ints(3)
	if !ok {
		return out
	}
	ax, err := c.normAxes(axes, len(s))
	if err != nil {
		return out
	}
	for i := range s {
		if !containsInt(ax, i) {
			out.Shape[i] = s[i]
		}
	}
	return out
}

func inferPad(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	pads := c.attrs.Ints("pads", c.attrs.Ints("paddings", nil))
	if pads == nil {
		var ok bool
		if pads, ok = c.ints(1); !ok {
			return []*TensorInfo{unknownDims(dt, len(s))}, nil
		}
	}
	axes := make([]int, len(s))
	for i := range axes {
		axes[i] = i
	}
	if c.has(3) {
		v, ok := c.ints(3)
		if !ok {
			return []*TensorInfo{unknownDims(dt, len(s))}, nil
		}
		var err error
		if axes, err = c.normAxes(v, len(s)); err != nil {
			return nil, err
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, c.errorf("pads %v do not match input %s", pads, shapeString(s))
	}
	out := append([]int{}, s...)
	for i, a := range axes {
		if s[a] < 0 {
			continue
		}
		out[a] = s[a] + int(pads[i]+pads[i+len(axes)])
		if out[a] < 0 {
			return nil, c.errorf("pads %v make axis %d of %s negative", pads, a, shapeString(s))
		}
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferSplit(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	outs := make([]*TensorInfo, c.nout)
	s, known := c.shape(0)
	if !known {
		for i := range outs {
			outs[i] = unknownRank(dt)
		}
		return outs, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", 0), len(s))
	if err != nil {
		return nil, err
	}
	sizes, given, sizesKnown := c.intsAttrOrInput("split", 1)
	if given && sizesKnown && len(sizes) == 0 && c.attrs.Find("split") == nil {
		given = false // an empty split input means equal parts
	}
	if k := c.attrs.Int("num_outputs", 0); k != 0 && k != int64(c.nout) {
		return nil, c.errorf("num_outputs=%d for %d outputs", k, c.nout)
	}
	parts := c.splitSizes(s[axis], sizes, given, sizesKnown)
	if len(parts) != c.nout && parts != nil {
		return nil, c.errorf("split %v of axis %d of %s gives %d parts for %d outputs", sizes, axis, shapeString(s), len(parts), c.nout)
	}
	if p := sumInts(parts); p >= 0 && s[axis] >= 0 && p != s[axis] {
		return nil, c.errorf("split %v does not add up to axis %d of %s", sizes, axis, shapeString(s))
	}
	for i := range outs {
		o := append([]int{}, s...)
		o[axis] = -1
		if parts != nil {
			o[axis] = parts[i]
		}
		outs[i] = &TensorInfo{DType: dt, Shape: o}
	}
	return outs, nil
}

// splitSizes are the sizes of the parts (nil: unknown).
func (c *inferCtx) splitSizes(dim int, sizes []int64, given, known bool) []int {
	switch {
	case given && !known:
		return nil
	case given:
		out := make([]int, len(sizes))
		for i, v := range sizes {
			out[i] = int(v)
		}
		return out
	case dim < 0:
		return nil
	}
	n := c.nout
	if n <= 0 {
		return nil
	}
	out := make([]int, n)
	chunk := dim / n
	if dim%n != 0 {
		chunk = (dim + n - 1) / n // opset 18: the last part is smaller
	}
	left := dim
	for i := range out {
		out[i] = min(chunk, left)
		left -= out[i]
	}
	return out
}

// sumInts is the sum of s, or -1 when s is nil or holds an unknown size.
func sumInts(s []int) int {
	if s == nil {
		return -1
	}
	t := 0
	for _, v := range s {
		t = addDims(t, v)
	}
	return t
}
