package ir

import "math"

// Inference rules of ops that make tensors: Shape and Size, constants,
// ranges, identity matrices and the random generators.

func init() {
	addInferRules("", map[string]inferFunc{
		"Shape":             inferShapeOp,
		"Size":              func(c *inferCtx) ([]*TensorInfo, error) { return []*TensorInfo{NewInfo(Int64)}, nil },
		"Constant":          inferConstant,
		"ConstantOfShape":   inferConstantOfShape,
		"Range":             inferRange,
		"EyeLike":           inferEyeLike,
		"RandomNormal":      inferRandom,
		"RandomUniform":     inferRandom,
		"RandomNormalLike":  inferRandomLike,
		"RandomUniformLike": inferRandomLike,
		"Bernoulli":         inferRandomLike,
		"Multinomial":       inferMultinomial,
	})
}

// shapeRange is the [start, end) range of dims that Shape (opset 15
// attributes start and end, clamped) returns of a tensor of rank r.
func shapeRange(attrs Attrs, r int) (start, end int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(r)
		}
		return int(min(max(v, 0), int64(r)))
	}
	start = clamp(attrs.Int("start", 0))
	end = r
	if attrs.Has("end") {
		end = clamp(attrs.Int("end", 0))
	}
	return start, max(start, end)
}

func inferShapeOp(c *inferCtx) ([]*TensorInfo, error) {
	r := c.input(0).Rank()
	if r < 0 {
		return []*TensorInfo{unknownDims(Int64, 1)}, nil
	}
	start, end := shapeRange(c.attrs, r)
	return []*TensorInfo{NewInfo(Int64, end-start)}, nil
}

// ConstantValue returns the tensor a Constant node's attributes describe,
// or nil when they hold none of its value forms (or a sparse one).
func ConstantValue(attrs Attrs) *Tensor {
	for _, a := range attrs {
		switch a.Name {
		case "value":
			return a.Tensor
		case "value_float":
			return Scalar(a.Float)
		case "value_floats":
			return FromSlice(a.Floats, len(a.Floats))
		case "value_int":
			return Scalar(a.Int)
		case "value_ints":
			return FromSlice(a.Ints, len(a.Ints))
		case "value_string":
			return Scalar(a.String)
		case "value_strings":
			return FromSlice(a.Strings, len(a.Strings))
		}
	}
	return nil
}

func inferConstant(c *inferCtx) ([]*TensorInfo, error) {
	if t := ConstantValue(c.attrs); t != nil {
		return []*TensorInfo{InfoOf(t)}, nil
	}
	if a := c.attrs.Find("sparse_value"); a != nil && a.Sparse != nil && a.Sparse.Values != nil {
		return []*TensorInfo{NewInfo(a.Sparse.Values.DType, append([]int{}, a.Sparse.Dims...)...)}, nil
	}
	return nil, nil
}

// shapeFromInput reads a shape from input i's values; when they are not
// known, a shape of unknown dims with the input's length, or nil.
func (c *inferCtx) shapeFromInput(dt DType, i int) (*TensorInfo, error) {
	v, ok := c.ints(i)
	if !ok {
		if n := c.inputLen(i); n >= 0 {
			return unknownDims(dt, n), nil
		}
		return unknownRank(dt), nil
	}
	s := make([]int, len(v))
	for k, d := range v {
		if d < 0 {
			return nil, c.errorf("negative size in shape %v", v)
		}
		s[k] = int(d)
	}
	return &TensorInfo{DType: dt, Shape: s}, nil
}

func inferConstantOfShape(c *inferCtx) ([]*TensorInfo, error) {
	dt := Float32
	if t := c.attrs.TensorAttr("value"); t != nil {
		dt = t.DType
	}
	out, err := c.shapeFromInput(dt, 0)
	return []*TensorInfo{out}, err
}

// rangeLen is the number of elements of Range(start, limit, delta).
func rangeLen(start, limit, delta float64) int {
	if delta == 0 {
		return 0
	}
	return int(max(math.Ceil((limit-start)/delta), 0))
}

func inferRange(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, ok1 := c.floats(0)
	l, ok2 := c.floats(1)
	d, ok3 := c.floats(2)
	if !ok1 || !ok2 || !ok3 || len(s) != 1 || len(l) != 1 || len(d) != 1 {
		return []*TensorInfo{NewInfo(dt, -1)}, nil
	}
	if d[0] == 0 {
		return nil, c.errorf("delta is 0")
	}
	if dt.IsInt() {
		// Integer ranges count in integers: exact for large int64 values.
		si, _ := c.ints(0)
		li, _ := c.ints(1)
		di, _ := c.ints(2)
		n := (li[0] - si[0] + di[0] - 1) / di[0]
		if di[0] < 0 {
			n = (si[0] - li[0] - di[0] - 1) / -di[0]
		}
		return []*TensorInfo{NewInfo(dt, int(max(n, 0)))}, nil
	}
	return []*TensorInfo{NewInfo(dt, rangeLen(s[0], l[0], d[0]))}, nil
}

// dtypeAttr returns the dtype named by attribute name, or def.
func (c *inferCtx) dtypeAttr(name string, def DType) DType {
	if c.attrs.Has(name) {
		return DType(c.attrs.Int(name, 0))
	}
	return def
}

func inferEyeLike(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = c.dtypeAttr("dtype", out.DType)
	if !out.UnknownRank && len(out.Shape) != 2 {
		return nil, c.errorf("input %s is not 2-D", shapeString(out.Shape))
	}
	return []*TensorInfo{out}, nil
}

func inferRandom(c *inferCtx) ([]*TensorInfo, error) {
	s := c.attrs.Ints("shape", nil)
	out := &TensorInfo{DType: c.dtypeAttr("dtype", Float32), Shape: make([]int, len(s))}
	for i, d := range s {
		out.Shape[i] = int(d)
	}
	return []*TensorInfo{out}, nil
}

func inferRandomLike(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = c.dtypeAttr("dtype", out.DType)
	return []*TensorInfo{out}, nil
}

func inferMultinomial(c *inferCtx) ([]*TensorInfo, error) {
	s, known := c.shape(0)
	dt := c.dtypeAttr("dtype", Int32)
	n := int(c.attrs.Int("sample_size", 1))
	if !known || len(s) != 2 {
		return []*TensorInfo{NewInfo(dt, -1, n)}, nil
	}
	return []*TensorInfo{NewInfo(dt, s[0], n)}, nil
}
