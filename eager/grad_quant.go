package eager

import "fmt"

// Gradient rules of the quantization ops. Ops whose outputs are integers
// (quantized values, integer accumulators) carry no gradient; the one
// float-valued function of a float input is DequantizeLinear's y in x_scale.

func init() {
	RegisterGradient("", "DequantizeLinear", gradDequantizeLinear)
	RegisterNonDifferentiable("", "QuantizeLinear", "DynamicQuantizeLinear", "ConvInteger",
		"MatMulInteger", "QLinearConv", "QLinearMatMul")
}

// DequantizeLinear: y = (x - zp)·scale, so dscale = Σ dy·(x - zp) over the
// elements that share each scale (all of them, one slice along axis, or one
// block of block_size along axis). x holds quantized codes (integers or
// 8-bit floats) and zp an offset in those codes: neither gets a gradient.
func gradDequantizeLinear(g *GradContext) []*Tensor {
	x, scale, dy := g.In[0], g.In[1], g.D(0)
	in := []*Tensor{x, OnesLike(scale)}
	if len(g.In) > 2 && g.In[2] != nil {
		in = append(in, g.In[2])
	}
	// (x - zp) in y's type: the op itself with a scale of ones.
	outs, err := CallDomain(g.Spec.Domain, g.Spec.Op, g.Spec.Version, g.Attrs(), 1, in...)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("DequantizeLinear gradient: %w", err)})
	}
	p := Mul(dy, outs[0])
	block := int(g.Attrs().Int("block_size", 0))
	res := make([]*Tensor, len(g.In))
	if scale.Len() == 1 && block <= 0 {
		res[1] = Cast(Reshape(Sum(p), scale.Shape()...), scale.DType())
		return res
	}
	a := int(g.Attrs().Int("axis", 1))
	if a < 0 {
		a += x.Rank()
	}
	if a < 0 || a >= x.Rank() {
		panic(&OpError{Err: fmt.Errorf("DequantizeLinear gradient: axis %d for x %v", a, x.Shape())})
	}
	if block <= 0 {
		var axes []int64
		for i := 0; i < x.Rank(); i++ {
			if i != a {
				axes = append(axes, int64(i))
			}
		}
		if len(axes) > 0 {
			p = ReduceSum(p, axes, false)
		}
		res[1] = Cast(p, scale.DType())
		return res
	}
	// Blocked: pad axis a to a whole number of blocks, then sum each block.
	nb := (x.Dim(a) + block - 1) / block
	if extra := nb*block - x.Dim(a); extra > 0 {
		pads := make([]int64, 2*x.Rank())
		pads[x.Rank()+a] = int64(extra)
		p = op1("Pad", nil, p, Int64s(p, pads...))
	}
	shape := append([]int(nil), x.Shape()[:a]...)
	shape = append(shape, nb, block)
	shape = append(shape, x.Shape()[a+1:]...)
	p = ReduceSum(Reshape(p, shape...), []int64{int64(a + 1)}, false)
	res[1] = Cast(p, scale.DType())
	return res
}
