package ir

import "math"

// Inference rules of the image family: Resize and Upsample, grid sampling,
// Col2Im, region-of-interest pooling, non-max suppression and ImageDecoder.

func init() {
	addInferRules("", map[string]inferFunc{
		"Resize":            inferResize,
		"Upsample":          inferResize,
		"GridSample":        inferGridSample,
		"AffineGrid":        inferAffineGrid,
		"Col2Im":            inferCol2Im,
		"RoiAlign":          inferRoiAlign,
		"MaxRoiPool":        inferMaxRoiPool,
		"NonMaxSuppression": func(c *inferCtx) ([]*TensorInfo, error) { return []*TensorInfo{NewInfo(Int64, -1, 3)}, nil },
		"ImageDecoder":      inferImageDecoder,
	})
}

// resizeInputs returns the input indices of scales and sizes (-1: none).
func (c *inferCtx) resizeInputs() (scales, sizes int) {
	if c.op == "Upsample" || c.version > 0 && c.version < 11 {
		return 1, -1
	}
	return 2, 3
}

// nonEmpty reports whether input i is present and not a 0-element tensor.
func (c *inferCtx) nonEmpty(i int) bool {
	if i < 0 || !c.has(i) {
		return false
	}
	s, known := c.shape(i)
	return !known || prodDims(s) != 0
}

func inferResize(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	axes := make([]int, len(s))
	for i := range axes {
		axes[i] = i
	}
	if a := c.attrs.Ints("axes", nil); a != nil {
		var err error
		if axes, err = c.normAxes(a, len(s)); err != nil {
			return nil, err
		}
	}
	out := append([]int{}, s...)
	for _, a := range axes {
		out[a] = -1
	}
	res := []*TensorInfo{{DType: dt, Shape: out}}
	si, zi := c.resizeInputs()
	var scales []float64
	switch {
	case c.attrs.Has("scales"):
		for _, f := range c.attrs.Floats("scales", nil) {
			scales = append(scales, float64(f))
		}
	case c.nonEmpty(zi):
		sizes, ok := c.ints(zi)
		if !ok {
			return res, nil
		}
		if len(sizes) != len(axes) {
			return nil, c.errorf("sizes %v do not match %d axes of %s", sizes, len(axes), shapeString(s))
		}
		return res, c.resizeToSizes(out, s, axes, sizes)
	case c.nonEmpty(si):
		var ok bool
		if scales, ok = c.floats(si); !ok {
			return res, nil
		}
	default:
		return res, nil
	}
	if len(scales) != len(axes) {
		return nil, c.errorf("scales %v do not match %d axes of %s", scales, len(axes), shapeString(s))
	}
	roi, _ := c.floats(1)
	crop := c.attrs.Str("coordinate_transformation_mode", "") == "tf_crop_and_resize"
	for i, a := range axes {
		if s[a] < 0 {
			continue
		}
		span := 1.0
		if crop && len(roi) == 2*len(axes) {
			span = roi[i+len(axes)] - roi[i]
		}
		out[a] = int(math.Floor(float64(s[a]) * span * float64(float32(scales[i]))))
	}
	return res, nil
}

// resizeToSizes applies sizes under keep_aspect_ratio_policy.
func (c *inferCtx) resizeToSizes(out, s, axes []int, sizes []int64) error {
	policy := c.attrs.Str("keep_aspect_ratio_policy", "stretch")
	if policy == "stretch" {
		for i, a := range axes {
			out[a] = int(sizes[i])
		}
		return nil
	}
	scale := math.Inf(1)
	if policy == "not_smaller" {
		scale = math.Inf(-1)
	}
	for i, a := range axes {
		if s[a] <= 0 {
			return nil
		}
		r := float64(float32(float64(sizes[i]) / float64(s[a])))
		if policy == "not_smaller" {
			scale = max(scale, r)
		} else {
			scale = min(scale, r)
		}
	}
	for _, a := range axes {
		out[a] = int(math.Floor(scale*float64(s[a]) + 0.5))
	}
	return nil
}

func inferGridSample(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	xs, ok1 := c.shape(0)
	gs, ok2 := c.shape(1)
	if !ok1 || !ok2 {
		if ok2 {
			return []*TensorInfo{unknownDims(dt, len(gs))}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(xs) < 3 || len(gs) != len(xs) {
		return nil, c.errorf("input %s and grid %s do not match", shapeString(xs), shapeString(gs))
	}
	out := append([]int{xs[0], xs[1]}, gs[1:len(gs)-1]...)
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferAffineGrid(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	size, ok := c.ints(1)
	if !ok {
		if n := c.inputLen(1); n >= 3 {
			return []*TensorInfo{unknownDims(dt, n)}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(size) < 3 {
		return nil, c.errorf("size %v is not (N, C, spatial...)", size)
	}
	out := []int{int(size[0])}
	for _, d := range size[2:] {
		out = append(out, int(d))
	}
	out = append(out, len(size)-2)
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferCol2Im(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	xs, known := c.shape(0)
	img, ok := c.ints(1)
	block, okb := c.ints(2)
	n := c.inputLen(1)
	if ok {
		n = len(img)
	}
	if n < 0 {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	out := unknownDims(dt, n+2)
	if known && len(xs) == 3 {
		out.Shape[0] = xs[0]
		if okb && xs[1] >= 0 {
			if p := prodInt64(block); p > 0 {
				out.Shape[1] = xs[1] / p
			}
		}
	}
	if ok {
		for i, d := range img {
			out.Shape[i+2] = int(d)
		}
	}
	return []*TensorInfo{out}, nil
}

func prodInt64(v []int64) int {
	p := 1
	for _, x := range v {
		p *= int(x)
	}
	return p
}

func inferRoiAlign(c *inferCtx) ([]*TensorInfo, error) {
	return c.roiPool(int(c.attrs.Int("output_height", 1)), int(c.attrs.Int("output_width", 1)))
}

func inferMaxRoiPool(c *inferCtx) ([]*TensorInfo, error) {
	p := c.attrs.Ints("pooled_shape", nil)
	if len(p) != 2 {
		return nil, c.errorf("pooled_shape %v is not (height, width)", p)
	}
	return c.roiPool(int(p[0]), int(p[1]))
}

// roiPool: (num_rois, C, h, w) from X (N, C, H, W) and rois (num_rois, k).
func (c *inferCtx) roiPool(h, w int) ([]*TensorInfo, error) {
	out := NewInfo(c.dtype(0), -1, -1, h, w)
	if xs, ok := c.shape(0); ok && len(xs) == 4 {
		out.Shape[1] = xs[1]
	}
	if rs, ok := c.shape(1); ok && len(rs) == 2 {
		out.Shape[0] = rs[0]
	}
	return []*TensorInfo{out}, nil
}

// inferImageDecoder: the image size is in the encoded data.
func inferImageDecoder(c *inferCtx) ([]*TensorInfo, error) {
	ch := 3
	if c.attrs.Str("pixel_format", "RGB") == "Grayscale" {
		ch = 1
	}
	return []*TensorInfo{NewInfo(Uint8, -1, -1, ch)}, nil
}
