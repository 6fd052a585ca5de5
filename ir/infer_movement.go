package ir

// Inference rules of the movement family: reshapes, transposes, squeezes,
// concatenation, expansion, tiling and the depth/space rearrangements
// (slicing, splitting and padding are in infer_slice.go).

func init() {
	addInferRules("", map[string]inferFunc{
		"Reshape":       inferReshape,
		"Flatten":       inferFlatten,
		"Transpose":     inferTranspose,
		"Squeeze":       inferSqueeze,
		"Unsqueeze":     inferUnsqueeze,
		"Concat":        inferConcat,
		"Split":         inferSplit,
		"Expand":        inferExpand,
		"Tile":          inferTile,
		"DepthToSpace":  inferDepthToSpace,
		"SpaceToDepth":  inferSpaceToDepth,
		"CenterCropPad": inferCenterCropPad,
	})
}

// intsAttrOrInput returns the ints of attribute name when present, else the
// value of input i; known is false when the input's value is not known, and
// given is false when neither is there.
func (c *inferCtx) intsAttrOrInput(name string, i int) (v []int64, given, known bool) {
	if a := c.attrs.Find(name); a != nil {
		return a.Ints, true, true
	}
	if !c.has(i) {
		return nil, false, true
	}
	v, known = c.ints(i)
	return v, true, known
}

// inputLen is the number of elements of 1-D input i, or -1.
func (c *inferCtx) inputLen(i int) int {
	s, known := c.shape(i)
	switch {
	case !known:
		return -1
	case len(s) == 0:
		return 1
	case len(s) == 1:
		return s[0]
	}
	return -1
}

func inferReshape(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	spec, _, known := c.intsAttrOrInput("shape", 1)
	if !known {
		if n := c.inputLen(1); n >= 0 {
			return []*TensorInfo{unknownDims(dt, n)}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	in, inKnown := c.shape(0)
	allowZero := c.attrs.Int("allowzero", 0) != 0
	out := make([]int, len(spec))
	infer := -1
	for i, d := range spec {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, c.errorf("shape %v has more than one -1", spec)
			}
			infer = i
		case d == 0 && !allowZero:
			if !inKnown || i >= len(in) {
				if inKnown {
					return nil, c.errorf("shape %v copies dim %d of input %s", spec, i, shapeString(in))
				}
				out[i] = -1
				continue
			}
			out[i] = in[i]
		case d < 0:
			return nil, c.errorf("shape %v has negative size %d", spec, d)
		default:
			out[i] = int(d)
		}
	}
	if infer < 0 {
		total := -1
		if inKnown {
			total = prodDims(in)
		}
		if p := prodDims(out); total >= 0 && p >= 0 && p != total {
			return nil, c.errorf("cannot reshape %s (%d elements) to %v", shapeString(in), total, spec)
		}
		return []*TensorInfo{{DType: dt, Shape: out}}, nil
	}
	out[infer] = -1
	if !inKnown {
		return []*TensorInfo{{DType: dt, Shape: out}}, nil
	}
	// Dims copied by a 0 are the same on both sides and cancel, so an
	// unknown batch dim copied through does not hide the -1.
	copied := func(i int) bool { return !allowZero && i < len(spec) && spec[i] == 0 && i < len(in) }
	left, rest := 1, 1
	for i, d := range in {
		if !copied(i) {
			left = mulDims(left, d)
		} else if d == 0 {
			left = -1
		}
	}
	for i, d := range out {
		if i != infer && !copied(i) {
			rest = mulDims(rest, d)
		}
	}
	if left >= 0 && rest > 0 {
		if left%rest != 0 {
			return nil, c.errorf("cannot reshape %s to %v", shapeString(in), spec)
		}
		out[infer] = left / rest
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferFlatten(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownDims(dt, 2)}, nil
	}
	axis := c.attrs.Int("axis", 1)
	if axis < 0 {
		axis += int64(len(s))
	}
	if axis < 0 || axis > int64(len(s)) {
		return nil, c.errorf("axis %d out of range for %s", c.attrs.Int("axis", 1), shapeString(s))
	}
	return []*TensorInfo{{DType: dt, Shape: []int{prodDims(s[:axis]), prodDims(s[axis:])}}}, nil
}

func inferTranspose(c *inferCtx) ([]*TensorInfo, error) {
	s, known := c.shape(0)
	perm := c.attrs.Ints("perm", nil)
	if !known {
		if perm != nil {
			return []*TensorInfo{unknownDims(c.dtype(0), len(perm))}, nil
		}
		return c.same(0), nil
	}
	if perm == nil {
		perm = make([]int64, len(s))
		for i := range perm {
			perm[i] = int64(len(s) - 1 - i)
		}
	}
	if len(perm) != len(s) {
		return nil, c.errorf("perm %v does not match input %s", perm, shapeString(s))
	}
	ax, err := c.normAxes(perm, len(s))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(s))
	for i, p := range ax {
		out[i] = s[p]
	}
	return []*TensorInfo{{DType: c.dtype(0), Shape: out}}, nil
}

func inferSqueeze(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	axes, given, axesKnown := c.intsAttrOrInput("axes", 1)
	switch {
	case !known:
		return []*TensorInfo{unknownRank(dt)}, nil
	case !axesKnown:
		if n := c.inputLen(1); n >= 0 {
			return []*TensorInfo{unknownDims(dt, len(s)-n)}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	var drop []int
	if !given || len(axes) == 0 {
		for i, d := range s {
			if d < 0 {
				return []*TensorInfo{unknownRank(dt)}, nil
			}
			if d == 1 {
				drop = append(drop, i)
			}
		}
	} else {
		ax, err := c.normAxes(axes, len(s))
		if err != nil {
			return nil, err
		}
		for _, a := range ax {
			if s[a] > 1 || s[a] == 0 {
				return nil, c.errorf("cannot squeeze axis %d of %s", a, shapeString(s))
			}
		}
		drop = ax
	}
	return []*TensorInfo{{DType: dt, Shape: reduceShape(s, drop, false)}}, nil
}

func inferUnsqueeze(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	axes, _, axesKnown := c.intsAttrOrInput("axes", 1)
	switch {
	case !known:
		return []*TensorInfo{unknownRank(dt)}, nil
	case !axesKnown:
		if n := c.inputLen(1); n >= 0 {
			return []*TensorInfo{unknownDims(dt, len(s)+n)}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	r := len(s) + len(axes)
	ax, err := c.normAxes(axes, r)
	if err != nil {
		return nil, err
	}
	out := make([]int, r)
	k := 0
	for i := range out {
		if containsInt(ax, i) {
			out[i] = 1
			continue
		}
		out[i] = s[k]
		k++
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferConcat(c *inferCtx) ([]*TensorInfo, error) {
	var out *TensorInfo
	for i := range c.in {
		t := c.input(i)
		if out == nil && t.DType != Undefined {
			out = &TensorInfo{DType: t.DType}
		}
		if t.UnknownRank {
			return []*TensorInfo{unknownRank(c.dtype(0))}, nil
		}
	}
	if out == nil {
		out = &TensorInfo{}
	}
	s0, _ := c.shape(0)
	if len(c.in) == 0 || len(s0) == 0 {
		return nil, c.errorf("needs inputs of rank >= 1, got %d inputs, the first %s", len(c.in), shapeString(s0))
	}
	axis, err := c.normAxis(c.attrs.Int("axis", 1), len(s0))
	if err != nil {
		return nil, err
	}
	out.Shape = append([]int{}, s0...)
	out.Shape[axis] = 0
	for i := range c.in {
		s, _ := c.shape(i)
		if len(s) != len(s0) {
			return nil, c.errorf("input %d %s has another rank than input 0 %s", i, shapeString(s), shapeString(s0))
		}
		for d := range s {
			if d == axis {
				out.Shape[d] = addDims(out.Shape[d], s[d])
				continue
			}
			m, err := c.mergeDim("inputs' dims off the axis", out.Shape[d], s[d])
			if err != nil {
				return nil, c.errorf("input %d %s and input 0 %s differ off axis %d", i, shapeString(s), shapeString(s0), axis)
			}
			out.Shape[d] = m
		}
	}
	return []*TensorInfo{out}, nil
}

func inferExpand(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	spec, ok := c.ints(1)
	s, known := c.shape(0)
	if !ok || !known {
		if n := c.inputLen(1); n >= 0 && known {
			return []*TensorInfo{unknownDims(dt, max(n, len(s)))}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	want := make([]int, len(spec))
	for i, v := range spec {
		want[i] = int(v)
	}
	out, err := Broadcast(s, want)
	if err != nil {
		return nil, c.errorf("input %s does not broadcast to shape %v", shapeString(s), spec)
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferTile(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	reps, ok := c.ints(1)
	switch {
	case !known:
		return []*TensorInfo{unknownRank(dt)}, nil
	case !ok:
		return []*TensorInfo{unknownDims(dt, len(s))}, nil
	case len(reps) != len(s):
		return nil, c.errorf("repeats %v do not match input %s", reps, shapeString(s))
	}
	out := make([]int, len(s))
	for i, r := range reps {
		if r < 0 {
			return nil, c.errorf("negative repeat %v", reps)
		}
		out[i] = mulDims(s[i], int(r))
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferDepthToSpace(c *inferCtx) ([]*TensorInfo, error) {
	return c.depthSpace(true)
}

func inferSpaceToDepth(c *inferCtx) ([]*TensorInfo, error) {
	return c.depthSpace(false)
}

// depthSpace moves blocksize² of channels into the spatial dims (toSpace) or back.
func (c *inferCtx) depthSpace(toSpace bool) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownDims(dt, 4)}, nil
	}
	if len(s) != 4 {
		return nil, c.errorf("input %s is not 4-D", shapeString(s))
	}
	b := int(c.attrs.Int("blocksize", 0))
	if b <= 0 {
		return nil, c.errorf("blocksize %d", b)
	}
	out := append([]int{}, s...)
	div := func(d, by int) (int, error) {
		if d < 0 {
			return -1, nil
		}
		if d%by != 0 {
			return 0, c.errorf("input %s is not divisible by blocksize %d", shapeString(s), b)
		}
		return d / by, nil
	}
	var err error
	if toSpace {
		out[1], err = div(s[1], b*b)
		out[2], out[3] = mulDims(s[2], b), mulDims(s[3], b)
		return []*TensorInfo{{DType: dt, Shape: out}}, err
	}
	out[1] = mulDims(s[1], b*b)
	if out[2], err = div(s[2], b); err == nil {
		out[3], err = div(s[3], b)
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, err
}

func inferCenterCropPad(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	want, ok := c.ints(1)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	axes := c.attrs.Ints("axes", nil)
	if axes == nil {
		for i := range s {
			axes = append(axes, int64(i))
		}
	}
	ax, err := c.normAxes(axes, len(s))
	if err != nil {
		return nil, err
	}
	out := append([]int{}, s...)
	for i, a := range ax {
		out[a] = -1
		if ok && i < len(want) {
			out[a] = int(want[i])
		}
	}
	if ok && len(want) != len(ax) {
		return nil, c.errorf("shape %v does not match axes %v", want, axes)
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}
