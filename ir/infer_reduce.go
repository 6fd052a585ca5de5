package ir

// Inference rules of reductions, arg-reductions, the softmax family,
// scans along an axis (CumSum), TopK and the losses.

func init() {
	rules := map[string]inferFunc{
		"ArgMax":                    inferArgReduce,
		"ArgMin":                    inferArgReduce,
		"TopK":                      inferTopK,
		"Det":                       inferDet,
		"NegativeLogLikelihoodLoss": inferNLLLoss,
		"SoftmaxCrossEntropyLoss":   inferSCELoss,
	}
	for _, op := range []string{"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
		"ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare"} {
		rules[op] = inferReduce
	}
	for _, op := range []string{"Softmax", "LogSoftmax", "Hardmax", "CumSum", "CumProd",
		"LpNormalization", "MeanVarianceNormalization", "LRN"} {
		rules[op] = func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil }
	}
	addInferRules("", rules)
}

// reduceShape removes (or, with keep, sets to 1) the axes of shape.
func reduceShape(shape []int, axes []int, keep bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case !containsInt(axes, i):
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func inferReduce(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	shape, known := c.shape(0)
	keep := c.attrs.Int("keepdims", 1) != 0
	var axes []int64
	switch {
	case c.attrs.Has("axes"):
		axes = c.attrs.Ints("axes", nil)
	case c.has(1):
		v, ok := c.ints(1)
		if !ok && c.inputLen(1) != 0 {
			return []*TensorInfo{c.reduceUnknownAxes(keep)}, nil
		}
		axes = v // an empty axes input needs no value
	}
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(axes) == 0 {
		if c.attrs.Int("noop_with_empty_axes", 0) != 0 {
			return c.same(0), nil
		}
		all := make([]int, len(shape))
		for i := range all {
			all[i] = i
		}
		return []*TensorInfo{{DType: dt, Shape: reduceShape(shape, all, keep)}}, nil
	}
	ax, err := c.normAxes(axes, len(shape))
	if err != nil {
		return nil, err
	}
	return []*TensorInfo{{DType: dt, Shape: reduceShape(shape, ax, keep)}}, nil
}

// reduceUnknownAxes: with keepdims the rank stays; without, it drops by the
// number of axes when that number is known and not zero.
func (c *inferCtx) reduceUnknownAxes(keep bool) *TensorInfo {
	dt := c.dtype(0)
	r := c.input(0).Rank()
	if r < 0 {
		return unknownRank(dt)
	}
	if keep {
		return unknownDims(dt, r)
	}
	if a, ok := c.shape(1); ok && len(a) == 1 && a[0] > 0 {
		return unknownDims(dt, r-a[0])
	}
	return unknownRank(dt)
}

func inferArgReduce(c *inferCtx) ([]*TensorInfo, error) {
	shape, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(Int64)}, nil
	}
	ax, err := c.normAxis(c.attrs.Int("axis", 0), max(len(shape), 1))
	if err != nil {
		return nil, err
	}
	keep := c.attrs.Int("keepdims", 1) != 0
	return []*TensorInfo{{DType: Int64, Shape: reduceShape(shape, []int{ax}, keep)}}, nil
}

func inferTopK(c *inferCtx) ([]*TensorInfo, error) {
	vals, idx := c.like(0), c.like(0)
	idx.DType = Int64
	if vals.UnknownRank {
		return []*TensorInfo{vals, idx}, nil
	}
	ax, err := c.normAxis(c.attrs.Int("axis", -1), len(vals.Shape))
	if err != nil {
		return nil, err
	}
	k := -1
	if c.attrs.Has("k") {
		k = int(c.attrs.Int("k", 0))
	} else if v, ok := c.ints(1); ok && len(v) == 1 {
		k = int(v[0])
	}
	if d := vals.Shape[ax]; k >= 0 && d >= 0 && k > d {
		return nil, c.errorf("k=%d exceeds axis %d of size %d in %s", k, ax, d, shapeString(vals.Shape))
	}
	vals.Shape[ax], idx.Shape[ax] = k, k
	return []*TensorInfo{vals, idx}, nil
}

func inferDet(c *inferCtx) ([]*TensorInfo, error) {
	shape, known := c.shape(0)
	if !known {
		return c.same(0), nil
	}
	if len(shape) < 2 {
		return nil, c.errorf("input %s needs rank >= 2", shapeString(shape))
	}
	n := len(shape)
	if _, err := c.mergeDim("square matrices", shape[n-2], shape[n-1]); err != nil {
		return nil, err
	}
	return []*TensorInfo{{DType: c.dtype(0), Shape: append([]int{}, shape[:n-2]...)}}, nil
}

// lossShape is the shape of a loss output: the target's shape for
// reduction "none", a scalar otherwise.
func (c *inferCtx) lossShape(target int) *TensorInfo {
	if c.attrs.Str("reduction", "mean") != "none" {
		return &TensorInfo{DType: c.dtype(0), Shape: []int{}}
	}
	out := c.like(target)
	out.DType = c.dtype(0)
	return out
}

func inferNLLLoss(c *inferCtx) ([]*TensorInfo, error) {
	return []*TensorInfo{c.lossShape(1)}, nil
}

func inferSCELoss(c *inferCtx) ([]*TensorInfo, error) {
	return []*TensorInfo{c.lossShape(1), c.like(0)}, nil
}
