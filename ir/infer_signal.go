package ir

// Inference rules of the signal family: DFT, STFT, the windows and
// MelWeightMatrix.

func init() {
	addInferRules("", map[string]inferFunc{
		"DFT":             inferDFT,
		"STFT":            inferSTFT,
		"HannWindow":      inferWindow,
		"HammingWindow":   inferWindow,
		"BlackmanWindow":  inferWindow,
		"MelWeightMatrix": inferMelWeightMatrix,
	})
}

// scalarInt is the integer value of a one-element input i, or -1.
func (c *inferCtx) scalarInt(i int) int {
	if v, ok := c.ints(i); ok && len(v) == 1 {
		return int(v[0])
	}
	return -1
}

func inferDFT(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	if out.UnknownRank {
		return []*TensorInfo{out}, nil
	}
	r := len(out.Shape)
	if r < 2 {
		return nil, c.errorf("input %s needs rank >= 2", shapeString(out.Shape))
	}
	v17 := c.version > 0 && c.version < 20
	axis := c.attrs.Int("axis", 1) // opset 17
	if !v17 {
		axis = -2
		if c.has(2) {
			v, ok := c.ints(2)
			if !ok || len(v) != 1 {
				return []*TensorInfo{unknownDims(out.DType, r)}, nil
			}
			axis = v[0]
		}
	}
	// The axis may be in [-r, -2] or [0, r-2]: the last dim holds re, im.
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis > int64(r-2) {
		return nil, c.errorf("axis %d out of range for input %s", axis, shapeString(out.Shape))
	}
	ax := int(axis)
	onesided := c.attrs.Int("onesided", 0) != 0
	inverse := c.attrs.Int("inverse", 0) != 0
	n := out.Shape[ax]
	if c.has(1) {
		n = c.scalarInt(1)
	} else if onesided && inverse && n >= 0 {
		n = 2 * (n - 1)
	}
	out.Shape[r-1] = 2
	switch {
	case onesided && inverse:
		out.Shape[r-1] = 1
		out.Shape[ax] = n
	case onesided && n >= 0:
		out.Shape[ax] = n/2 + 1
	default:
		out.Shape[ax] = n
	}
	return []*TensorInfo{out}, nil
}

func inferSTFT(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownDims(dt, 4)}, nil
	}
	if len(s) != 3 {
		return nil, c.errorf("signal %s is not [batch, length, 1 or 2]", shapeString(s))
	}
	step := c.scalarInt(1)
	n := -1
	switch {
	case c.has(3):
		n = c.scalarInt(3)
	case c.has(2):
		n = c.inputLen(2)
	}
	frames := -1
	if step > 0 && n > 0 && s[1] >= 0 {
		frames = (s[1]-n)/step + 1
	}
	bins := n
	if c.attrs.Int("onesided", 1) != 0 && n >= 0 {
		bins = n/2 + 1
	}
	return []*TensorInfo{NewInfo(dt, s[0], frames, bins, 2)}, nil
}

func inferWindow(c *inferCtx) ([]*TensorInfo, error) {
	return []*TensorInfo{NewInfo(c.dtypeAttr("output_datatype", Float32), c.scalarInt(0))}, nil
}

func inferMelWeightMatrix(c *inferCtx) ([]*TensorInfo, error) {
	bins := c.scalarInt(0)
	n := c.scalarInt(1)
	if n >= 0 {
		n = n/2 + 1
	}
	return []*TensorInfo{NewInfo(c.dtypeAttr("output_datatype", Float32), n, bins)}, nil
}
