package ir

// Inference rules of the attention family: Attention (3-D packed or 4-D
// inputs, with a KV cache), RotaryEmbedding, LinearAttention,
// CausalConvWithState and the preview FlexAttention.

func init() {
	addInferRules("", map[string]inferFunc{
		"Attention":           inferAttention,
		"RotaryEmbedding":     func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil },
		"LinearAttention":     inferLinearAttention,
		"CausalConvWithState": inferCausalConv,
	})
	addInferRules("ai.onnx.preview", map[string]inferFunc{"FlexAttention": inferFlexAttention})
}

// heads unpacks input i of Attention into (batch, heads, seq, head size);
// a 3-D input packs heads (attribute attr) into its last dim.
func (c *inferCtx) heads(i int, attr string) (b, h, s, d int, ok bool) {
	x, known := c.shape(i)
	switch {
	case !known:
		return -1, -1, -1, -1, false
	case len(x) == 4:
		return x[0], x[1], x[2], x[3], true
	case len(x) == 3:
		h = int(c.attrs.Int(attr, -1))
		d = -1
		if h > 0 && x[2] >= 0 {
			d = x[2] / h
		}
		return x[0], h, x[1], d, true
	}
	return -1, -1, -1, -1, false
}

func inferAttention(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	qb, qh, qs, _, qok := c.heads(0, "q_num_heads")
	_, kh, ks, kd, _ := c.heads(1, "kv_num_heads")
	_, _, _, vd, _ := c.heads(2, "kv_num_heads")
	if !qok {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	total := ks
	if c.has(4) {
		_, _, ps, _, _ := c.heads(4, "kv_num_heads")
		total = addDims(ps, ks)
	}
	var y *TensorInfo
	if q, _ := c.shape(0); len(q) == 3 {
		y = NewInfo(dt, qb, qs, mulDims(qh, vd))
	} else {
		y = NewInfo(dt, qb, qh, qs, vd)
	}
	return []*TensorInfo{
		y,
		NewInfo(c.dtype(1), qb, kh, total, kd),
		NewInfo(c.dtype(2), qb, kh, total, vd),
		NewInfo(dt, qb, qh, qs, total),
	}, nil
}

func inferLinearAttention(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	hq := int(c.attrs.Int("q_num_heads", -1))
	hkv := int(c.attrs.Int("kv_num_heads", -1))
	per := func(i, h int) int {
		if s, ok := c.shape(i); ok && len(s) == 3 && s[2] >= 0 && h > 0 {
			return s[2] / h
		}
		return -1
	}
	dk, dv := per(1, hkv), per(2, hkv)
	b, t := -1, -1
	if s, ok := c.shape(0); ok && len(s) == 3 {
		b, t = s[0], s[1]
	}
	st := dt
	if c.has(3) {
		st = c.dtype(3)
	}
	return []*TensorInfo{NewInfo(dt, b, t, mulDims(hq, dv)), NewInfo(st, b, hkv, dk, dv)}, nil
}

func inferCausalConv(c *inferCtx) ([]*TensorInfo, error) {
	state := NewInfo(c.dtype(0), -1, -1, -1)
	if s, ok := c.shape(0); ok && len(s) == 3 {
		state.Shape[0], state.Shape[1] = s[0], s[1]
	}
	if w, ok := c.shape(1); ok && len(w) == 3 && w[2] >= 1 {
		state.Shape[2] = w[2] - 1
	}
	return []*TensorInfo{c.like(0), state}, nil
}

func inferFlexAttention(c *inferCtx) ([]*TensorInfo, error) {
	q, ok1 := c.shape(0)
	v, ok2 := c.shape(2)
	out := NewInfo(c.dtype(0), -1, -1, -1, -1)
	if ok1 && len(q) == 4 {
		copy(out.Shape, q[:3])
	}
	if ok2 && len(v) == 4 {
		out.Shape[3] = v[3]
	}
	return []*TensorInfo{out}, nil
}
