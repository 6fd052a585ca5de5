package ir

// Inference rules of matrix products (MatMul, Gemm and their integer and
// quantized forms) and of quantization.

func init() {
	addInferRules("", map[string]inferFunc{
		"MatMul":                func(c *inferCtx) ([]*TensorInfo, error) { return c.matmul(0, 1, c.dtype(0)) },
		"MatMulInteger":         func(c *inferCtx) ([]*TensorInfo, error) { return c.matmul(0, 1, Int32) },
		"QLinearMatMul":         func(c *inferCtx) ([]*TensorInfo, error) { return c.matmul(0, 3, c.dtype(7)) },
		"Gemm":                  inferGemm,
		"QuantizeLinear":        inferQuantize,
		"DequantizeLinear":      inferDequantize,
		"DynamicQuantizeLinear": inferDynamicQuantize,
	})
}

// MatMulShape is the shape of numpy's matmul of a and b: 1-D operands are
// promoted to matrices and the promoted dim dropped again, batch dims
// broadcast. It returns an error wrapping ErrShape when the inner dims
// differ or the batch dims do not broadcast.
func MatMulShape(a, b []int) ([]int, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, ErrShape
	}
	a1, b1 := len(a) == 1, len(b) == 1
	if a1 {
		a = []int{1, a[0]}
	}
	if b1 {
		b = []int{b[0], 1}
	}
	ka, kb := a[len(a)-1], b[len(b)-2]
	if ka >= 0 && kb >= 0 && ka != kb {
		return nil, ErrShape
	}
	batch, err := Broadcast(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, err
	}
	out := batch
	if !a1 {
		out = append(out, a[len(a)-2])
	}
	if !b1 {
		out = append(out, b[len(b)-1])
	}
	return out, nil
}

func (c *inferCtx) matmul(x, y int, dt DType) ([]*TensorInfo, error) {
	a, ka := c.shape(x)
	b, kb := c.shape(y)
	if !ka || !kb {
		return []*TensorInfo{unknownRank(dt)}, nil
	}
	out, err := MatMulShape(a, b)
	if err != nil {
		return nil, c.errorf("A %s and B %s do not multiply", shapeString(a), shapeString(b))
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

func inferGemm(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	a, ka := c.shape(0)
	b, kb := c.shape(1)
	out := NewInfo(dt, -1, -1)
	if ka && len(a) != 2 || kb && len(b) != 2 {
		return nil, c.errorf("A %s and B %s are not matrices", shapeString(a), shapeString(b))
	}
	inner := -1
	if ka {
		m, k := a[0], a[1]
		if c.attrs.Int("transA", 0) != 0 {
			m, k = k, m
		}
		out.Shape[0], inner = m, k
	}
	if kb {
		k, n := b[0], b[1]
		if c.attrs.Int("transB", 0) != 0 {
			k, n = n, k
		}
		out.Shape[1] = n
		if inner >= 0 && k >= 0 && inner != k {
			return nil, c.errorf("A %s and B %s do not multiply (transA=%d, transB=%d)",
				shapeString(a), shapeString(b), c.attrs.Int("transA", 0), c.attrs.Int("transB", 0))
		}
	}
	return []*TensorInfo{out}, nil
}

func inferQuantize(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	switch {
	case c.attrs.Int("output_dtype", 0) != 0:
		out.DType = DType(c.attrs.Int("output_dtype", 0))
	case c.has(2):
		out.DType = c.dtype(2)
	default:
		out.DType = Uint8
	}
	return []*TensorInfo{out}, nil
}

func inferDequantize(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	switch {
	case c.attrs.Int("output_dtype", 0) != 0:
		out.DType = DType(c.attrs.Int("output_dtype", 0))
	case c.version > 0 && c.version < 19:
		out.DType = Float32
	default:
		out.DType = c.dtype(1)
	}
	return []*TensorInfo{out}, nil
}

func inferDynamicQuantize(c *inferCtx) ([]*TensorInfo, error) {
	y := c.like(0)
	y.DType = Uint8
	return []*TensorInfo{y, NewInfo(Float32), NewInfo(Uint8)}, nil
}
