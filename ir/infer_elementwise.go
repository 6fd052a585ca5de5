package ir

// Inference rules of the elementwise family: unary math and activations,
// broadcasting binary and variadic ops, comparisons, Where, Clip and casts.

func init() {
	rules := map[string]inferFunc{
		"Cast":     inferCast,
		"BitCast":  inferCast,
		"CastLike": inferCastLike,
		"PRelu":    func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil },
		"Where":    inferWhere,
		"Clip":     func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil },
		"IsNaN":    inferToBool,
		"IsInf":    inferToBool,
		"SwiGLU":   inferSwiGLU,
		"Dropout":  inferDropout,
		"Shrink":   func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil },
	}
	for _, op := range unaryOps {
		rules[op] = func(c *inferCtx) ([]*TensorInfo, error) { return c.same(0), nil }
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift",
		"BitwiseAnd", "BitwiseOr", "BitwiseXor", "And", "Or", "Xor"} {
		rules[op] = inferBinary
	}
	for _, op := range []string{"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"} {
		rules[op] = inferCompare
	}
	for _, op := range []string{"Max", "Min", "Sum", "Mean"} {
		rules[op] = inferVariadic
	}
	addInferRules("", rules)
}

// unaryOps keep their input's dtype and shape.
var unaryOps = []string{
	"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh",
	"Erf", "Exp", "Floor", "Log", "Neg", "Reciprocal", "Relu", "Round", "Sigmoid",
	"Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh", "Elu",
	"Celu", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "ThresholdedRelu",
	"Mish", "Gelu", "Swish", "Identity", "BitwiseNot", "Not",
}

// Broadcast returns the multidirectional (numpy) broadcast of two shapes.
// Unknown dims (< 0) broadcast against 1 to unknown and against a size k > 1
// to k. It returns an error wrapping ErrShape when two known sizes differ
// and neither is 1.
func Broadcast(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		x, y := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			y = b[j]
		}
		d, ok := broadcastDim(x, y)
		if !ok {
			return nil, ErrShape
		}
		out[i] = d
	}
	return out, nil
}

func broadcastDim(x, y int) (int, bool) {
	switch {
	case x == y:
		return x, true
	case x == 1:
		return y, true
	case y == 1:
		return x, true
	case x < 0 && y < 0:
		return -1, true
	case x < 0:
		return y, true
	case y < 0:
		return x, true
	}
	return 0, false
}

// broadcastInputs broadcasts the shapes of the present inputs idx.
func (c *inferCtx) broadcastInputs(idx ...int) ([]int, bool, error) {
	var out []int
	first := true
	for _, i := range idx {
		if !c.has(i) {
			continue
		}
		s, known := c.shape(i)
		if !known {
			return nil, false, nil
		}
		if first {
			out, first = s, false
			continue
		}
		b, err := Broadcast(out, s)
		if err != nil {
			return nil, false, c.errorf("input %d shape %s does not broadcast with %s", i, shapeString(s), shapeString(out))
		}
		out = b
	}
	return out, true, nil
}

// binaryShape is the output shape of a two-input op, honouring the legacy
// (opset < 7) broadcast/axis attributes, under which B is broadcast to A.
func (c *inferCtx) binaryShape() (*TensorInfo, error) {
	if c.version > 0 && c.version < 7 {
		return &TensorInfo{Shape: c.like(0).Shape, UnknownRank: c.input(0).UnknownRank}, nil
	}
	s, known, err := c.broadcastInputs(0, 1)
	if err != nil || !known {
		return &TensorInfo{UnknownRank: true}, err
	}
	return &TensorInfo{Shape: s}, nil
}

func inferBinary(c *inferCtx) ([]*TensorInfo, error) {
	out, err := c.binaryShape()
	if err != nil {
		return nil, err
	}
	out.DType = c.dtype(0)
	return []*TensorInfo{out}, nil
}

func inferCompare(c *inferCtx) ([]*TensorInfo, error) {
	out, err := c.binaryShape()
	if err != nil {
		return nil, err
	}
	out.DType = Bool
	return []*TensorInfo{out}, nil
}

func inferVariadic(c *inferCtx) ([]*TensorInfo, error) {
	idx := make([]int, len(c.in))
	for i := range idx {
		idx[i] = i
	}
	s, known, err := c.broadcastInputs(idx...)
	if err != nil {
		return nil, err
	}
	if c.version > 0 && c.version < 8 {
		// Before opset 8 the inputs had to share one shape.
		s, known = c.shape(0)
	}
	if !known {
		return []*TensorInfo{unknownRank(c.dtype(0))}, nil
	}
	return []*TensorInfo{{DType: c.dtype(0), Shape: s}}, nil
}

func inferWhere(c *inferCtx) ([]*TensorInfo, error) {
	s, known, err := c.broadcastInputs(0, 1, 2)
	if err != nil {
		return nil, err
	}
	if !known {
		return []*TensorInfo{unknownRank(c.dtype(1))}, nil
	}
	return []*TensorInfo{{DType: c.dtype(1), Shape: s}}, nil
}

func inferToBool(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = Bool
	return []*TensorInfo{out}, nil
}

func inferCast(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = DType(c.attrs.Int("to", 0))
	if !out.DType.Valid() {
		return nil, c.errorf("attribute to=%d is not a known dtype", c.attrs.Int("to", 0))
	}
	return []*TensorInfo{out}, nil
}

func inferCastLike(c *inferCtx) ([]*TensorInfo, error) {
	out := c.like(0)
	out.DType = c.dtype(1)
	return []*TensorInfo{out}, nil
}

func inferSwiGLU(c *inferCtx) ([]*TensorInfo, error) {
	a, b := c.input(0), c.input(1)
	if a.UnknownRank || b.UnknownRank {
		return c.same(0), nil
	}
	if len(a.Shape) != len(b.Shape) {
		return nil, c.errorf("A %s and B %s differ", shapeString(a.Shape), shapeString(b.Shape))
	}
	out := c.like(0)
	for i := range out.Shape {
		d, err := c.mergeDim("A and B", a.Shape[i], b.Shape[i])
		if err != nil {
			return nil, err
		}
		out.Shape[i] = d
	}
	return []*TensorInfo{out}, nil
}

// inferDropout: output like the data, mask a bool tensor of the same shape.
func inferDropout(c *inferCtx) ([]*TensorInfo, error) {
	mask := c.like(0)
	mask.DType = Bool
	if c.version > 0 && c.version < 10 {
		mask.DType = c.dtype(0)
	}
	return []*TensorInfo{c.like(0), mask}, nil
}
