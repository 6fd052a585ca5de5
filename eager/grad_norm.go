package eager

import "github.com/keenml/keen/backends"

// Gradient rules of the normalization ops. Statistics are recomputed with
// eager ops from the inputs (never read from optional statistic outputs), so
// every rule can be differentiated again. Outputs that hold statistics
// (BatchNormalization's running and saved mean/var, LayerNormalization's
// Mean and InvStdDev) carry no gradient.
//
// Shared notation: over the normalized axes (n elements), μ = mean(x),
// σ⁻¹ = 1/√(mean((x-μ)²) + ε), x̂ = (x-μ)σ⁻¹, and d̂ = ∂L/∂x̂. Then
//
//	∂L/∂x = σ⁻¹ (d̂ - mean(d̂) - x̂ mean(d̂ x̂))
//
// (standardizeBack); without centering (RMS) the mean(d̂) term drops.

func init() {
	RegisterGradient("", "BatchNormalization", gradBatchNorm)
	RegisterGradient("", "LayerNormalization", gradLayerNorm)
	RegisterGradient("", "RMSNormalization", gradRMSNorm)
	RegisterGradient("", "InstanceNormalization", gradInstanceNorm)
	RegisterGradient("", "GroupNormalization", gradGroupNorm)
	RegisterGradient("", "LpNormalization", gradLpNorm)
	RegisterGradient("", "MeanVarianceNormalization", gradMVN)
	RegisterGradient("", "LRN", gradLRN)
}

// spanAxes is lo, lo+1, ..., hi-1 followed by extra.
func spanAxes(lo, hi int, extra ...int64) []int64 {
	axes := append([]int64(nil), extra...)
	for a := lo; a < hi; a++ {
		axes = append(axes, int64(a))
	}
	return axes
}

// normAxisOf resolves a possibly negative axis attribute for rank r.
func normAxisOf(axis int64, r int) int {
	if axis < 0 {
		axis += int64(r)
	}
	return int(axis)
}

// standardize returns x̂ and σ⁻¹ over axes (σ⁻¹ keeps dims); center=false
// gives the RMS form x̂ = x/√(mean(x²)+ε).
func standardize(x *Tensor, axes []int64, eps float64, center bool) (xhat, inv *Tensor) {
	xc := x
	if center {
		xc = Sub(x, ReduceMean(x, axes, true))
	}
	v := ReduceMean(Mul(xc, xc), axes, true)
	inv = Reciprocal(Sqrt(Add(v, ScalarLike(v, eps))))
	return Mul(xc, inv), inv
}

// standardizeBack maps d̂ = ∂L/∂x̂ to ∂L/∂x (see the file comment).
func standardizeBack(dxhat, xhat, inv *Tensor, axes []int64, center bool) *Tensor {
	d := Sub(dxhat, Mul(xhat, ReduceMean(Mul(dxhat, xhat), axes, true)))
	if center {
		d = Sub(d, ReduceMean(dxhat, axes, true))
	}
	return Mul(d, inv)
}

// channelShape is [C, 1, ..., 1]: a per-channel parameter broadcast against
// an (N, C, D1, ...) input.
func channelShape(x *Tensor) []int {
	s := make([]int, x.Rank()-1)
	for i := range s {
		s[i] = 1
	}
	s[0] = x.Dim(1)
	return s
}

// sumTo sums d over axes and reshapes it to like's shape (for parameters
// whose broadcast is not numpy's right-aligned one).
func sumTo(d *Tensor, axes []int64, like *Tensor) *Tensor {
	return Reshape(ReduceSum(d, axes, true), like.Shape()...)
}

// bnTraining reports whether a BatchNormalization node normalizes with
// batch statistics, as the kernels decide it per opset.
func bnTraining(s *backends.OpSpec) bool {
	switch {
	case s.Version >= 14:
		return s.Attrs.Int("training_mode", 0) != 0
	case s.Version >= 7:
		return s.NumOutputs > 1
	default:
		return s.Attrs.Int("is_test", 0) == 0 && s.NumOutputs > 1
	}
}

// BatchNormalization, X (N, C, D...), parameters (C) (before opset 9 with
// spatial=0: (C, D...), one per activation).
//
// Inference, Y = s (X-m) σ⁻¹ + B with σ⁻¹ = 1/√(v+ε):
// dX = dY s σ⁻¹, ds = Σ dY (X-m) σ⁻¹, dB = Σ dY, dm = -Σ dY s σ⁻¹,
// dv = Σ dY s (X-m) (-½) σ⁻³.
//
// Training (training_mode=1; before 14, extra outputs requested): m and v are
// the batch statistics, so dX = σ⁻¹ (d̂ - mean(d̂) - x̂ mean(d̂ x̂)) with
// d̂ = dY s; the mean and var inputs only feed the running statistics, which
// carry no gradient, so they get none.
func gradBatchNorm(g *GradContext) []*Tensor {
	x, scale, bias, mean, vr := g.In[0], g.In[1], g.In[2], g.In[3], g.In[4]
	at := g.Attrs()
	eps := float64(at.Float("epsilon", 1e-5))
	pshape, axes := channelShape(x), spanAxes(2, x.Rank(), 0)
	if g.Spec.Version < 9 && at.Int("spatial", 1) == 0 {
		pshape, axes = append([]int(nil), x.Shape()[1:]...), []int64{0}
	}
	p := func(t *Tensor) *Tensor { return Reshape(t, pshape...) }
	dy := g.D(0)
	if bnTraining(g.Spec) {
		xhat, inv := standardize(x, axes, eps, true)
		dx := standardizeBack(Mul(dy, p(scale)), xhat, inv, axes, true)
		return []*Tensor{dx, sumTo(Mul(dy, xhat), axes, scale), sumTo(dy, axes, bias), nil, nil}
	}
	inv := Reciprocal(Sqrt(Add(p(vr), ScalarLike(vr, eps))))
	xc := Sub(x, p(mean))
	dya := Mul(dy, Mul(p(scale), inv))
	dvar := Mul(Mul(dya, xc), Mul(Mul(inv, inv), ScalarLike(inv, -0.5)))
	return []*Tensor{
		dya,
		sumTo(Mul(dy, Mul(xc, inv)), axes, scale),
		sumTo(dy, axes, bias),
		Neg(sumTo(dya, axes, mean)),
		sumTo(dvar, axes, vr),
	}
}

// LayerNormalization over axes [axis, rank): Y = x̂ Scale + B (Scale and B
// broadcast numpy-style): dX = standardizeBack(dY Scale), dScale = dY x̂,
// dB = dY (the engine sums them down to the parameter shapes).
func gradLayerNorm(g *GradContext) []*Tensor {
	x, scale := g.In[0], g.In[1]
	at := g.Attrs()
	axes := spanAxes(normAxisOf(at.Int("axis", -1), x.Rank()), x.Rank())
	xhat, inv := standardize(x, axes, float64(at.Float("epsilon", 1e-5)), true)
	dy := g.D(0)
	out := []*Tensor{standardizeBack(Mul(dy, scale), xhat, inv, axes, true), Mul(dy, xhat)}
	if len(g.In) > 2 && g.In[2] != nil {
		out = append(out, dy)
	}
	return out
}

// RMSNormalization over axes [axis, rank): Y = x̂ scale with
// x̂ = X/√(mean(X²)+ε): dX = σ⁻¹ (d̂ - x̂ mean(d̂ x̂)) with d̂ = dY scale,
// dscale = dY x̂. Y has scale's dtype, which may differ from X's.
func gradRMSNorm(g *GradContext) []*Tensor {
	x, scale := g.In[0], g.In[1]
	at := g.Attrs()
	axes := spanAxes(normAxisOf(at.Int("axis", -1), x.Rank()), x.Rank())
	xhat, inv := standardize(x, axes, float64(at.Float("epsilon", 1e-5)), false)
	dy := g.D(0)
	dxhat := Cast(Mul(dy, scale), x.DType())
	dscale := Mul(dy, Cast(xhat, scale.DType()))
	return []*Tensor{standardizeBack(dxhat, xhat, inv, axes, false), dscale}
}

// InstanceNormalization, X (N, C, D...), scale and B (C), normalized over
// D...: dX = standardizeBack(dY s), ds = Σ_{N,D} dY x̂, dB = Σ_{N,D} dY.
func gradInstanceNorm(g *GradContext) []*Tensor {
	x, scale, bias := g.In[0], g.In[1], g.In[2]
	eps := float64(g.Attrs().Float("epsilon", 1e-5))
	axes := spanAxes(2, x.Rank())
	xhat, inv := standardize(x, axes, eps, true)
	dy := g.D(0)
	dx := standardizeBack(Mul(dy, Reshape(scale, channelShape(x)...)), xhat, inv, axes, true)
	pAxes := spanAxes(2, x.Rank(), 0)
	return []*Tensor{dx, sumTo(Mul(dy, xhat), pAxes, scale), sumTo(dy, pAxes, bias)}
}

// GroupNormalization, X (N, C, D...) viewed as (N, G, C/G·D) and normalized
// over the last axis: dX = standardizeBack(dY s). Opset 21 has per-channel
// scale and bias (C): ds = Σ_{N,D} dY x̂, dbias = Σ_{N,D} dY; opset 18 has
// per-group ones (G): the sums also run over each group's channels.
func gradGroupNorm(g *GradContext) []*Tensor {
	x, scale, bias := g.In[0], g.In[1], g.In[2]
	at := g.Attrs()
	groups := int(at.Int("num_groups", 1))
	n := x.Dim(0)
	per := x.Len() / max(n*groups, 1)
	axes := []int64{2}
	xhat, inv := standardize(Reshape(x, n, groups, per), axes, float64(at.Float("epsilon", 1e-5)), true)
	dy := g.D(0)
	if g.Spec.Version >= 21 {
		dxhat := Reshape(Mul(dy, Reshape(scale, channelShape(x)...)), n, groups, per)
		dx := Reshape(standardizeBack(dxhat, xhat, inv, axes, true), x.Shape()...)
		pAxes := spanAxes(2, x.Rank(), 0)
		dscale := sumTo(Mul(dy, Reshape(xhat, x.Shape()...)), pAxes, scale)
		return []*Tensor{dx, dscale, sumTo(dy, pAxes, bias)}
	}
	dyr := Reshape(dy, n, groups, per)
	dxhat := Mul(dyr, Reshape(scale, groups, 1))
	dx := Reshape(standardizeBack(dxhat, xhat, inv, axes, true), x.Shape()...)
	pAxes := []int64{0, 2}
	return []*Tensor{dx, sumTo(Mul(dyr, xhat), pAxes, scale), sumTo(dyr, pAxes, bias)}
}

// LpNormalization along axis, Y = X/‖X‖ₚ (p = 1 or 2):
// dX = (dY - n' Σ dY Y)/‖X‖ₚ with n' = ∂‖X‖ₚ/∂X = Y (p=2) or sign(X) (p=1).
// A zero vector is left unchanged by the op and has no derivative; it gets
// dX = dY (the gradient of the identity it is mapped by).
func gradLpNorm(g *GradContext) []*Tensor {
	x, y, dy := g.In[0], g.Out[0], g.D(0)
	at := g.Attrs()
	axes := []int64{int64(normAxisOf(at.Int("axis", -1), x.Rank()))}
	var norm, dn *Tensor
	if at.Int("p", 2) == 1 {
		norm, dn = ReduceSum(Abs(x), axes, true), Sign(x)
	} else {
		norm, dn = Sqrt(ReduceSum(Mul(x, x), axes, true)), y
	}
	safe := Where(Equal(norm, ScalarLike(norm, 0)), OnesLike(norm), norm)
	return []*Tensor{Div(Sub(dy, Mul(dn, ReduceSum(Mul(dy, y), axes, true))), safe)}
}

// MeanVarianceNormalization over axes (default 0, 2, 3),
// Y = (X-μ)/d with d = s + 1e-9, s = √mean((X-μ)²):
// dX = (dY - mean(dY) - Y mean(dY Y) d/s)/d. A constant slice (s = 0) gets
// (dY - mean(dY))/d: Y is 0 there.
func gradMVN(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	raw := g.Attrs().Ints("axes", []int64{0, 2, 3})
	axes := make([]int64, len(raw))
	for i, a := range raw {
		axes[i] = int64(normAxisOf(a, x.Rank()))
	}
	xc := Sub(x, ReduceMean(x, axes, true))
	s := Sqrt(ReduceMean(Mul(xc, xc), axes, true))
	d := Add(s, ScalarLike(s, 1e-9))
	y := Div(xc, d)
	safeS := Where(Greater(s, ScalarLike(s, 0)), s, OnesLike(s))
	t := Mul(Mul(y, ReduceMean(Mul(dy, y), axes, true)), Div(d, safeS))
	return []*Tensor{Div(Sub(Sub(dy, ReduceMean(dy, axes, true)), t), d)}
}

// LRN over channels, Y_c = X_c D_c^-β with D_c = bias + α/size Σ_{k∈W(c)} X_k²
// and W(c) = [c - ⌊(size-1)/2⌋, c + ⌈(size-1)/2⌉]:
// dX_j = dY_j D_j^-β - 2αβ/size X_j Σ_{c: j∈W(c)} dY_c X_c D_c^(-β-1).
func gradLRN(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	at := g.Attrs()
	alpha, beta := float64(at.Float("alpha", 1e-4)), float64(at.Float("beta", 0.75))
	bias, size := float64(at.Float("bias", 1)), int(at.Int("size", 1))
	before, after := (size-1)/2, size/2
	sq := channelWindowSum(Mul(x, x), before, after)
	d := Add(ScalarLike(x, bias), Mul(ScalarLike(x, alpha/float64(size)), sq))
	direct := Mul(dy, Pow(d, ScalarLike(d, -beta)))
	t := Mul(Mul(dy, x), Pow(d, ScalarLike(d, -beta-1)))
	cross := Mul(Mul(x, channelWindowSum(t, after, before)), ScalarLike(x, 2*alpha*beta/float64(size)))
	return []*Tensor{Sub(direct, cross)}
}

// channelWindowSum returns S with S_c = Σ_{k=c-before}^{c+after} t_k along
// axis 1 (zero outside the channels).
func channelWindowSum(t *Tensor, before, after int) *Tensor {
	c := t.Dim(1)
	pad := func(n int) *Tensor {
		s := append([]int(nil), t.Shape()...)
		s[1] = n
		return Full(t, t.DType(), 0, s...)
	}
	var parts []*Tensor
	if before > 0 {
		parts = append(parts, pad(before))
	}
	parts = append(parts, t)
	if after > 0 {
		parts = append(parts, pad(after))
	}
	p := t
	if len(parts) > 1 {
		p = Concat(1, parts...)
	}
	var sum *Tensor
	for o := 0; o <= before+after; o++ {
		s := Slice(p, []int{o}, []int{o + c}, []int{1})
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	return sum
}
