package ir

// Inference rules of convolutions and pooling: Conv and its quantized and
// deformable forms, ConvTranspose, the pools (auto_pad, ceil_mode, dilations)
// and the ops that share their geometry.

func init() {
	addInferRules("", map[string]inferFunc{
		"Conv":              func(c *inferCtx) ([]*TensorInfo, error) { return c.conv(0, 1, c.dtype(0)) },
		"ConvInteger":       func(c *inferCtx) ([]*TensorInfo, error) { return c.conv(0, 1, Int32) },
		"QLinearConv":       func(c *inferCtx) ([]*TensorInfo, error) { return c.conv(0, 3, c.dtype(7)) },
		"DeformConv":        func(c *inferCtx) ([]*TensorInfo, error) { return c.conv(0, 1, c.dtype(0)) },
		"ConvTranspose":     inferConvTranspose,
		"AveragePool":       inferPool,
		"MaxPool":           inferPool,
		"LpPool":            inferPool,
		"GlobalAveragePool": inferGlobalPool,
		"GlobalMaxPool":     inferGlobalPool,
		"GlobalLpPool":      inferGlobalPool,
		"MaxUnpool":         inferMaxUnpool,
	})
}

// window is the geometry of a sliding window over the spatial dims.
type window struct {
	kernel, strides, dilations, pads []int
	autoPad                          string
	ceil                             bool
}

// windowAttrs reads kernel_shape (or the trailing dims of weight input w
// when w >= 0), strides, dilations, pads, auto_pad and ceil_mode for n
// spatial dims.
func (c *inferCtx) windowAttrs(n, w int) (*window, bool, error) {
	wd := &window{autoPad: c.attrs.Str("auto_pad", "NOTSET"), ceil: c.attrs.Int("ceil_mode", 0) != 0}
	ints := func(name string, size, def int) ([]int, error) {
		v := c.attrs.Ints(name, nil)
		if v == nil {
			out := make([]int, size)
			for i := range out {
				out[i] = def
			}
			return out, nil
		}
		if len(v) != size {
			return nil, c.errorf("%s %v: want %d values for %d spatial dims", name, v, size, n)
		}
		out := make([]int, size)
		for i, x := range v {
			out[i] = int(x)
		}
		return out, nil
	}
	var err error
	if c.attrs.Has("kernel_shape") || w < 0 {
		if wd.kernel, err = ints("kernel_shape", n, -1); err != nil {
			return nil, false, err
		}
	} else {
		ws, known := c.shape(w)
		if !known || len(ws) != n+2 {
			return nil, false, nil
		}
		wd.kernel = ws[2:]
	}
	if wd.strides, err = ints("strides", n, 1); err != nil {
		return nil, false, err
	}
	if wd.dilations, err = ints("dilations", n, 1); err != nil {
		return nil, false, err
	}
	if wd.pads, err = ints("pads", 2*n, 0); err != nil {
		return nil, false, err
	}
	return wd, true, nil
}

// outDim is the number of window positions along spatial dim i of size in.
func (wd *window) outDim(i, in int) int {
	k, s, d := wd.kernel[i], wd.strides[i], wd.dilations[i]
	if in < 0 || k < 0 || s <= 0 {
		return -1
	}
	ek := (k-1)*d + 1
	switch wd.autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		return (in + s - 1) / s
	case "VALID":
		return max((in-ek)/s+1, 0)
	}
	n := len(wd.kernel)
	span := in + wd.pads[i] + wd.pads[i+n] - ek
	if span < 0 {
		return 0
	}
	if !wd.ceil {
		return span/s + 1
	}
	out := (span+s-1)/s + 1
	if (out-1)*s >= in+wd.pads[i] {
		out-- // the last window would start in the right padding
	}
	return out
}

// conv is Conv's rule: x (N, C, D1...), w (M, C/group, k1...) -> (N, M, O1...).
func (c *inferCtx) conv(x, w int, dt DType) ([]*TensorInfo, error) {
	xs, known := c.shape(x)
	if !known {
		if r := c.input(w).Rank(); r >= 0 {
			return []*TensorInfo{unknownDims(dt, r)}, nil
		}
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(xs) < 3 {
		return nil, c.errorf("input %s needs rank >= 3", shapeString(xs))
	}
	n := len(xs) - 2
	out := unknownDims(dt, n+2)
	out.Shape[0] = xs[0]
	ws, wKnown := c.shape(w)
	if wKnown {
		if len(ws) != n+2 {
			return nil, c.errorf("weight %s does not match input %s", shapeString(ws), shapeString(xs))
		}
		out.Shape[1] = ws[0]
		g := int(c.attrs.Int("group", 1))
		if ci := mulDims(ws[1], g); ci >= 0 && xs[1] >= 0 && ci != xs[1] {
			return nil, c.errorf("input %s has %d channels, weight %s with group %d wants %d", shapeString(xs), xs[1], shapeString(ws), g, ci)
		}
	}
	wd, ok, err := c.windowAttrs(n, w)
	if err != nil || !ok {
		return []*TensorInfo{out}, err
	}
	for i := range n {
		out.Shape[i+2] = wd.outDim(i, xs[i+2])
	}
	return []*TensorInfo{out}, nil
}

func inferPool(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	xs, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt), unknownRank(Int64)}, nil
	}
	if len(xs) < 3 {
		return nil, c.errorf("input %s needs rank >= 3", shapeString(xs))
	}
	n := len(xs) - 2
	wd, _, err := c.windowAttrs(n, -1)
	if err != nil {
		return nil, err
	}
	out := append([]int{}, xs...)
	for i := range n {
		out[i+2] = wd.outDim(i, xs[i+2])
	}
	return []*TensorInfo{{DType: dt, Shape: out}, {DType: Int64, Shape: append([]int{}, out...)}}, nil
}

func inferGlobalPool(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	for i := 2; i < len(out.Shape); i++ {
		out.Shape[i] = 1
	}
	return []*TensorInfo{out}, nil
}

func inferConvTranspose(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	xs, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(xs) < 3 {
		return nil, c.errorf("input %s needs rank >= 3", shapeString(xs))
	}
	n := len(xs) - 2
	out := unknownDims(dt, n+2)
	out.Shape[0] = xs[0]
	if ws, ok := c.shape(1); ok && len(ws) == n+2 {
		out.Shape[1] = mulDims(ws[1], int(c.attrs.Int("group", 1)))
	}
	wd, ok, err := c.windowAttrs(n, 1)
	if err != nil || !ok {
		return []*TensorInfo{out}, err
	}
	if os := c.attrs.Ints("output_shape", nil); os != nil {
		if len(os) < n {
			return nil, c.errorf("output_shape %v has fewer than %d dims", os, n)
		}
		for i := range n {
			out.Shape[i+2] = int(os[len(os)-n+i])
		}
		return []*TensorInfo{out}, nil
	}
	opad := c.attrs.Ints("output_padding", nil)
	for i := range n {
		in := xs[i+2]
		if in < 0 {
			continue
		}
		s := wd.strides[i]
		op := 0
		if i < len(opad) {
			op = int(opad[i])
		}
		switch wd.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out.Shape[i+2] = in * s
		default:
			ek := (wd.kernel[i]-1)*wd.dilations[i] + 1
			p := wd.pads[i] + wd.pads[i+n]
			if wd.autoPad == "VALID" {
				p = 0
			}
			out.Shape[i+2] = s*(in-1) + op + ek - p
		}
	}
	return []*TensorInfo{out}, nil
}

func inferMaxUnpool(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	if c.has(2) {
		out, err := c.shapeFromInput(dt, 2)
		return []*TensorInfo{out}, err
	}
	xs, known := c.shape(0)
	if !known {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	if len(xs) < 3 {
		return nil, c.errorf("input %s needs rank >= 3", shapeString(xs))
	}
	n := len(xs) - 2
	wd, _, err := c.windowAttrs(n, -1)
	if err != nil {
		return nil, err
	}
	out := append([]int{}, xs...)
	for i := range n {
		if xs[i+2] >= 0 && wd.kernel[i] >= 0 {
			out[i+2] = (xs[i+2]-1)*wd.strides[i] + wd.kernel[i] - wd.pads[i] - wd.pads[i+n]
		}
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}
