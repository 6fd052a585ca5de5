package ir

// Inference rules of normalizations and of the recurrent ops (RNN, GRU,
// LSTM).

func init() {
	sameAsX := func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil }
	addInferRules("", map[string]inferFunc{
		"BatchNormalization":    inferBatchNorm,
		"InstanceNormalization": sameAsX,
		"GroupNormalization":    sameAsX,
		"RMSNormalization":      sameAsX,
		"LayerNormalization":    inferLayerNorm,
		"RNN":                   inferRNN,
		"GRU":                   inferRNN,
		"LSTM":                  inferRNN,
	})
}

// inferBatchNorm: Y like X; the running (or, before opset 14, saved)
// statistics are per channel, typed like the mean input.
func inferBatchNorm(c *inferCtx) ([]*TensorInfo, error) {
	ch := -1
	if s, ok := c.shape(0); ok && len(s) >= 2 {
		ch = s[1]
	} else if s, ok := c.shape(1); ok && len(s) == 1 {
		ch = s[0]
	}
	dt := c.dtype(3)
	if dt == Undefined {
		dt = c.dtype(0)
	}
	outs := []*TensorInfo{c.like(0)}
	for range 4 {
		outs = append(outs, NewInfo(dt, ch))
	}
	return outs, nil
}

func inferLayerNorm(c *inferCtx) ([]*TensorInfo, error) {
	st := DType(c.attrs.Int("stash_type", int64(Float32)))
	s, known := c.shape(0)
	if !known {
		return []*TensorInfo{c.like(0), unknownRank(st), unknownRank(st)}, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", -1), len(s))
	if err != nil {
		return nil, err
	}
	stat := append([]int{}, s...)
	for i := axis; i < len(stat); i++ {
		stat[i] = 1
	}
	return []*TensorInfo{c.like(0), NewInfo(st, stat...), NewInfo(st, append([]int{}, stat...)...)}, nil
}

// inferRNN: X (seq, batch, input) or, with layout 1, (batch, seq, input);
// Y (seq, dirs, batch, hidden) or (batch, seq, dirs, hidden); Y_h and Y_c
// (dirs, batch, hidden) or (batch, dirs, hidden).
func inferRNN(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	dirs := 1
	if c.attrs.Str("direction", "forward") == "bidirectional" {
		dirs = 2
	}
	hidden := int(c.attrs.Int("hidden_size", -1))
	if hidden < 0 {
		if r, ok := c.shape(2); ok && len(r) == 3 {
			hidden = r[2]
		}
	}
	seq, batch := -1, -1
	layout := c.attrs.Int("layout", 0)
	if s, ok := c.shape(0); ok {
		if len(s) != 3 {
			return nil, c.errorf("X %s is not 3-D", shapeString(s))
		}
		seq, batch = s[0], s[1]
		if layout != 0 {
			seq, batch = s[1], s[0]
		}
	}
	y := NewInfo(dt, seq, dirs, batch, hidden)
	h := NewInfo(dt, dirs, batch, hidden)
	if layout != 0 {
		y = NewInfo(dt, batch, seq, dirs, hidden)
		h = NewInfo(dt, batch, dirs, hidden)
	}
	return []*TensorInfo{y, h, NewInfo(dt, append([]int{}, h.Shape...)...)}, nil
}
