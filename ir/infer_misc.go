package ir

import "strings"

// Inference rules of the string ops, the training optimizers of
// ai.onnx.preview.training and the ai.onnx.ml ops.

func init() {
	addInferRules("", map[string]inferFunc{
		"StringConcat":     inferStringConcat,
		"RegexFullMatch":   inferToBool,
		"StringNormalizer": inferStringNormalizer,
		"StringSplit":      inferStringSplit,
		"TfIdfVectorizer":  inferTfIdf,
	})
	addInferRules("ai.onnx.preview.training", map[string]inferFunc{
		"Adagrad":  inferOptimizer,
		"Adam":     inferOptimizer,
		"Momentum": inferOptimizer,
	})
	addInferRules("ai.onnx.ml", map[string]inferFunc{
		"Binarizer":             func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil },
		"LabelEncoder":          inferLabelEncoder,
		"ArrayFeatureExtractor": inferArrayFeatureExtractor,
		"TreeEnsemble":          inferTreeEnsemble,
	})
}

func inferStringConcat(c *inferCtx) ([]*TensorInfo, error) {
	out, err := c.binaryShape()
	if err != nil {
		return nil, err
	}
	out.DType = String
	return []*TensorInfo{out}, nil
}

// inferStringNormalizer: stop words shrink the last dim by a number known
// only from the values (an all-stop-word input keeps one empty string).
func inferStringNormalizer(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = String
	stop := c.attrs.Strs("stopwords", nil)
	if len(stop) == 0 || out.UnknownRank || len(out.Shape) == 0 {
		return []*TensorInfo{out}, nil
	}
	last := len(out.Shape) - 1
	out.Shape[last] = -1
	v := c.value(0)
	if v == nil || v.DType != String {
		return []*TensorInfo{out}, nil
	}
	sensitive := c.attrs.Int("is_case_sensitive", 0) != 0
	keep := 0
	for _, s := range v.Data.([]string) {
		drop := false
		for _, w := range stop {
			if s == w || !sensitive && strings.EqualFold(s, w) {
				drop = true
				break
			}
		}
		if !drop {
			keep++
		}
	}
	if len(out.Shape) == 2 && out.Shape[0] > 1 {
		return []*TensorInfo{out}, nil // counts may differ by row
	}
	out.Shape[last] = max(keep, 1)
	return []*TensorInfo{out}, nil
}

func inferStringSplit(c *inferCtx) ([]*TensorInfo, error) {
	x := c.input(0)
	z := c.like(0)
	z.DType = Int64
	if x.UnknownRank {
		return []*TensorInfo{unknownRank(String), z}, nil
	}
	n := -1
	if v := c.value(0); v != nil && v.DType == String {
		n = 0
		for _, s := range v.Data.([]string) {
			n = max(n, c.splitCount(s))
		}
	}
	y := &TensorInfo{DType: String, Shape: append(append([]int{}, x.Shape...), n)}
	return []*TensorInfo{y, z}, nil
}

// splitCount is the number of substrings StringSplit makes of s.
func (c *inferCtx) splitCount(s string) int {
	delim := c.attrs.Str("delimiter", "")
	limit := int(c.attrs.Int("maxsplit", -1))
	if delim == "" {
		n := len(strings.Fields(s))
		if limit >= 0 && n > limit+1 {
			n = limit + 1
		}
		return n
	}
	n := strings.Count(s, delim) + 1
	if limit >= 0 && n > limit+1 {
		n = limit + 1
	}
	return n
}

func inferTfIdf(c *inferCtx) ([]*TensorInfo, error) {
	size := 0
	for _, i := range c.attrs.Ints("ngram_indexes", nil) {
		size = max(size, int(i)+1)
	}
	s, known := c.shape(0)
	switch {
	case !known:
		return []*TensorInfo{unknownRank(Float32)}, nil
	case len(s) == 2:
		return []*TensorInfo{NewInfo(Float32, s[0], size)}, nil
	}
	return []*TensorInfo{NewInfo(Float32, size)}, nil
}

// inferOptimizer: the optimizers' outputs are new values of their
// tensor inputs after R and T, in order (X..., then the state tensors).
func inferOptimizer(c *inferCtx) ([]*TensorInfo, error) {
	outs := make([]*TensorInfo, c.nout)
	n := c.nout
	switch c.op {
	case "Adagrad":
		n = (len(c.in) - 2) / 3 // X, G, H: outputs X_new, H_new
	case "Adam":
		n = (len(c.in) - 2) / 4 // X, G, V, H: outputs X_new, V_new, H_new
	case "Momentum":
		n = (len(c.in) - 2) / 3 // X, G, V: outputs X_new, V_new
	}
	for i := range outs {
		j := i
		if i >= n {
			j = i + n // skip the gradients
		}
		outs[i] = c.like(2 + j)
	}
	return outs, nil
}

func inferLabelEncoder(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	switch {
	case c.attrs.TensorAttr("values_tensor") != nil:
		out.DType = c.attrs.TensorAttr("values_tensor").DType
	case c.attrs.Has("values_strings"):
		out.DType = String
	case c.attrs.Has("values_int64s"):
		out.DType = Int64
	case c.attrs.Has("values_floats"):
		out.DType = Float32
	}
	return []*TensorInfo{out}, nil
}

func inferArrayFeatureExtractor(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	n := -1
	if ys, ok := c.shape(1); ok {
		n = prodDims(ys)
	}
	switch {
	case !known:
		return []*TensorInfo{unknownRank(dt)}, nil
	case len(s) <= 1:
		return []*TensorInfo{NewInfo(dt, 1, n)}, nil
	}
	out := append([]int{}, s...)
	out[len(out)-1] = n
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferTreeEnsemble(c *inferCtx) ([]*TensorInfo, error) {
	n := -1
	if s, ok := c.shape(0); ok && len(s) >= 1 {
		n = s[0]
	}
	return []*TensorInfo{NewInfo(c.dtype(0), n, int(c.attrs.Int("n_targets", -1)))}, nil
}
