package eager

import (
	"math"

	"github.com/keenml/keen/ir"
)

// Gradient rules of activations, inverse trigonometric and hyperbolic
// functions, Clip, Mod and Dropout. Each comment states the derivative;
// attribute defaults are those of the spec (and of the CPU kernels).

func init() {
	rules := map[string]GradRule{
		"LeakyRelu": gradLeakyRelu, "PRelu": gradPRelu,
		"Elu": gradElu, "Selu": gradSelu, "Celu": gradCelu,
		"HardSigmoid": gradHardSigmoid, "HardSwish": gradHardSwish,
		"Softplus": gradSoftplus, "Softsign": gradSoftsign, "Mish": gradMish,
		"Gelu": gradGelu, "Swish": gradSwish,
		"ThresholdedRelu": gradThresholdedRelu, "Shrink": gradShrink,
		"Clip": gradClip, "Mod": gradMod, "Dropout": gradDropout,
		// d asin = dx / √(1-x²); d acos = -dx / √(1-x²)
		"Asin": func(g *GradContext) []*Tensor {
			return []*Tensor{Div(g.D(0), Sqrt(ewOneMinusSq(g.In[0])))}
		},
		"Acos": func(g *GradContext) []*Tensor {
			return []*Tensor{Neg(Div(g.D(0), Sqrt(ewOneMinusSq(g.In[0]))))}
		},
		// d atan = dx / (1+x²)
		"Atan": func(g *GradContext) []*Tensor {
			x := g.In[0]
			return []*Tensor{Div(g.D(0), Add(ScalarLike(x, 1), Mul(x, x)))}
		},
		// d sinh = cosh dx; d cosh = sinh dx
		"Sinh": func(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), op1("Cosh", nil, g.In[0]))} },
		"Cosh": func(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), op1("Sinh", nil, g.In[0]))} },
		// d asinh = dx / √(x²+1)
		"Asinh": func(g *GradContext) []*Tensor {
			x := g.In[0]
			return []*Tensor{Div(g.D(0), Sqrt(Add(Mul(x, x), ScalarLike(x, 1))))}
		},
		// d acosh = dx / √((x-1)(x+1))
		"Acosh": func(g *GradContext) []*Tensor {
			x := g.In[0]
			one := ScalarLike(x, 1)
			return []*Tensor{Div(g.D(0), Sqrt(Mul(Sub(x, one), Add(x, one))))}
		},
		// d atanh = dx / (1-x²)
		"Atanh": func(g *GradContext) []*Tensor { return []*Tensor{Div(g.D(0), ewOneMinusSq(g.In[0]))} },
	}
	for op, r := range rules {
		RegisterGradient("", op, r)
	}
}

func ewOneMinusSq(x *Tensor) *Tensor { return Sub(ScalarLike(x, 1), Mul(x, x)) }

// ewAttrF is a float attribute as float64 (the value the kernels compute with).
func ewAttrF(g *GradContext, name string, def float32) float64 {
	return float64(g.Attrs().Float(name, def))
}

// d leakyrelu(x) = (x < 0 ? alpha : 1) dx
func gradLeakyRelu(g *GradContext) []*Tensor {
	x, d := g.In[0], g.D(0)
	alpha := ewAttrF(g, "alpha", 0.01)
	return []*Tensor{Where(Less(x, ScalarLike(x, 0)), Mul(d, ScalarLike(d, alpha)), d)}
}

// prelu(x, s) = x < 0 ? s x : x; dx = (x < 0 ? s : 1) dy, ds = [x < 0] x dy.
// A rank-1 slope of x's channel count (dim 1) that does not fit x's last
// dim is per-channel (legacy models), as the CPU kernel reads it: the rule
// then sees it reshaped to [C, 1, ..., 1] and sums ds back to [C].
func gradPRelu(g *GradContext) []*Tensor {
	x, s := g.In[0], g.In[1]
	xs, ss := x.Shape(), s.Shape()
	if len(ss) == 1 && len(xs) > 2 && ss[0] == xs[1] && ss[0] != xs[len(xs)-1] {
		return alignedRule(g, 1, len(xs)-1, gradPReluNumpy)
	}
	return gradPReluNumpy(g)
}

func gradPReluNumpy(g *GradContext) []*Tensor {
	x, s, d := g.In[0], g.In[1], g.D(0)
	neg := Less(x, ScalarLike(x, 0))
	return []*Tensor{Where(neg, Mul(d, s), d), mask(Mul(d, x), neg)}
}

// d elu(x) = (x < 0 ? y + alpha : 1) dx   (y + alpha = alpha eˣ)
func gradElu(g *GradContext) []*Tensor {
	x, y, d := g.In[0], g.Out[0], g.D(0)
	alpha := ewAttrF(g, "alpha", 1)
	return []*Tensor{Where(Less(x, ScalarLike(x, 0)), Mul(d, Add(y, ScalarLike(y, alpha))), d)}
}

// d selu(x) = (x <= 0 ? y + gamma alpha : gamma) dx   (y + γα = γα eˣ)
func gradSelu(g *GradContext) []*Tensor {
	x, y, d := g.In[0], g.Out[0], g.D(0)
	alpha := ewAttrF(g, "alpha", 1.67326319217681884765625)
	gamma := ewAttrF(g, "gamma", 1.05070102920532226562500)
	neg := LessOrEqual(x, ScalarLike(x, 0))
	return []*Tensor{Where(neg, Mul(d, Add(y, ScalarLike(y, gamma*alpha))), Mul(d, ScalarLike(d, gamma)))}
}

// d celu(x) = (x < 0 ? exp(x/alpha) : 1) dx
func gradCelu(g *GradContext) []*Tensor {
	x, d := g.In[0], g.D(0)
	alpha := ewAttrF(g, "alpha", 1)
	neg := Less(x, ScalarLike(x, 0))
	return []*Tensor{Where(neg, Mul(d, Exp(Div(x, ScalarLike(x, alpha)))), d)}
}

// d hardsigmoid(x) = [0 < alpha x + beta < 1] alpha dx (read off y)
func gradHardSigmoid(g *GradContext) []*Tensor {
	y, d := g.Out[0], g.D(0)
	alpha := ewAttrF(g, "alpha", 0.2)
	inside := And(Greater(y, ScalarLike(y, 0)), Less(y, ScalarLike(y, 1)))
	return []*Tensor{mask(Mul(d, ScalarLike(d, alpha)), inside)}
}

// hardswish(x) = x max(0, min(1, x/6 + 1/2));
// d = (x > 3 ? 1 : x > -3 ? x/3 + 1/2 : 0) dx
func gradHardSwish(g *GradContext) []*Tensor {
	x, d := g.In[0], g.D(0)
	mid := Mul(d, Add(Div(x, ScalarLike(x, 3)), ScalarLike(x, 0.5)))
	inner := mask(mid, Greater(x, ScalarLike(x, -3)))
	return []*Tensor{Where(Greater(x, ScalarLike(x, 3)), d, inner)}
}

// d softplus(x) = σ(x) dx
func gradSoftplus(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), Sigmoid(g.In[0]))} }

// d softsign(x) = dx / (1 + |x|)²
func gradSoftsign(g *GradContext) []*Tensor {
	x := g.In[0]
	den := Add(ScalarLike(x, 1), Abs(x))
	return []*Tensor{Div(g.D(0), Mul(den, den))}
}

// mish(x) = x tanh(softplus(x)); d = (t + x (1 - t²) σ(x)) dx, t = tanh(softplus(x))
func gradMish(g *GradContext) []*Tensor {
	x := g.In[0]
	t := Tanh(op1("Softplus", nil, x))
	dt := Mul(Mul(x, ewOneMinusSq(t)), Sigmoid(x))
	return []*Tensor{Mul(g.D(0), Add(t, dt))}
}

// gelu(x) = x Φ(x); d = (Φ(x) + x φ(x)) dx with Φ(x) = (1 + erf(x/√2))/2,
// φ(x) = exp(-x²/2)/√(2π).
// tanh form: gelu(x) = x (1 + tanh u)/2, u = k (x + c x³), k = √(2/π), c = 0.044715;
// d = ((1 + tanh u)/2 + x (1 - tanh² u) k (1 + 3c x²)/2) dx.
func gradGelu(g *GradContext) []*Tensor {
	x, d := g.In[0], g.D(0)
	sc := func(v float64) *Tensor { return ScalarLike(x, v) }
	xx := Mul(x, x)
	if g.Attrs().Str("approximate", "none") == "tanh" {
		const c = 0.044715
		k := math.Sqrt(2 / math.Pi)
		t := Tanh(Mul(sc(k), Add(x, Mul(sc(c), Mul(xx, x)))))
		cdf := Mul(sc(0.5), Add(sc(1), t))
		du := Mul(sc(k), Add(sc(1), Mul(sc(3*c), xx)))
		pdf := Mul(Mul(sc(0.5), ewOneMinusSq(t)), du)
		return []*Tensor{Mul(d, Add(cdf, Mul(x, pdf)))}
	}
	cdf := Mul(sc(0.5), Add(sc(1), Erf(Mul(x, sc(1/math.Sqrt2)))))
	pdf := Mul(sc(1/math.Sqrt(2*math.Pi)), Exp(Mul(xx, sc(-0.5))))
	return []*Tensor{Mul(d, Add(cdf, Mul(x, pdf)))}
}

// swish(x) = x σ(αx); d = (s + α y (1 - s)) dx, s = σ(αx)
func gradSwish(g *GradContext) []*Tensor {
	x, y := g.In[0], g.Out[0]
	alpha := ewAttrF(g, "alpha", 1)
	s := Sigmoid(Mul(x, ScalarLike(x, alpha)))
	ds := Mul(Mul(ScalarLike(y, alpha), y), Sub(ScalarLike(s, 1), s))
	return []*Tensor{Mul(g.D(0), Add(s, ds))}
}

// d thresholdedrelu(x) = [x > alpha] dx
func gradThresholdedRelu(g *GradContext) []*Tensor {
	x := g.In[0]
	alpha := ewAttrF(g, "alpha", 1)
	return []*Tensor{mask(g.D(0), Greater(x, ScalarLike(x, alpha)))}
}

// d shrink(x) = [|x| > lambd] dx (the bias shift is constant)
func gradShrink(g *GradContext) []*Tensor {
	x := g.In[0]
	if !x.DType().IsFloat() {
		return nil
	}
	lambd := ewAttrF(g, "lambd", 0.5)
	return []*Tensor{mask(g.D(0), Greater(Abs(x), ScalarLike(x, lambd)))}
}

// clip(x) = min(max(x, lo), hi): all of dy goes to x inside [lo, hi] (ties
// included). When the bounds are differentiable (inputs of Clip-11 and -12,
// which the spec leaves untagged; Clip-13 tags them non-differentiable),
// dlo = [x < lo <= hi] dy and dhi = [max(x, lo) > hi] dy. Clip-1 and -6 take
// the bounds as attributes.
func gradClip(g *GradContext) []*Tensor {
	x, d := g.In[0], g.D(0)
	var lo, hi *Tensor
	if g.Spec.Version < 11 {
		if a := g.Attrs().Find("min"); a != nil {
			lo = ScalarLike(x, float64(a.Float))
		}
		if a := g.Attrs().Find("max"); a != nil {
			hi = ScalarLike(x, float64(a.Float))
		}
	} else {
		lo, hi = ewOptIn(g, 1), ewOptIn(g, 2)
	}
	out := make([]*Tensor, len(g.In))
	dx, m := d, x
	var below, above *Tensor
	if lo != nil {
		below = Less(x, lo)
		dx = mask(dx, Not(below))
		m = Max(x, lo)
	}
	if hi != nil {
		above = Greater(m, hi)
		dx = mask(dx, Not(above))
		if ewDiffInput(g, 2) {
			out[2] = mask(d, above)
		}
	}
	if lo != nil && ewDiffInput(g, 1) {
		dlo := mask(d, below)
		if above != nil {
			dlo = mask(dlo, Not(above))
		}
		out[1] = dlo
	}
	out[0] = dx
	return out
}

// mod(a, b) = a - b k with k = trunc(a/b) (fmod=1) or floor(a/b) (fmod=0),
// piecewise constant: da = dy, db = -k dy with k = round((a - y)/b). Only
// float inputs carry gradients; Mod-13 tags b non-differentiable.
func gradMod(g *GradContext) []*Tensor {
	a, b, y, d := g.In[0], g.In[1], g.Out[0], g.D(0)
	if !a.DType().IsFloat() {
		return nil
	}
	out := []*Tensor{d, nil}
	if ewDiffInput(g, 1) {
		k := op1("Round", nil, Div(Sub(a, y), b))
		out[1] = Neg(Mul(d, k))
	}
	return out
}

// dropout in training mode: y = x m / (1 - ratio) for a keep mask m, so
// dx = m dy / (1 - ratio); in inference (opsets before 12 always, later
// without a true training_mode input, or ratio 0) y = x and dx = dy. The mask
// is output 1 when it was requested; otherwise it is read off y as y != 0,
// which is exact except where x was itself 0 (those positions get no
// gradient).
func gradDropout(g *GradContext) []*Tensor {
	d := g.D(0)
	out := make([]*Tensor, len(g.In))
	training, ratio := false, 0.5
	if g.Spec.Version >= 12 {
		if t := ewOptIn(g, 2); t != nil {
			training = t.Item() != 0
		}
		if r := ewOptIn(g, 1); r != nil {
			ratio = r.Item()
		}
	}
	if !training || ratio == 0 {
		out[0] = d
		return out
	}
	var keep *Tensor
	if len(g.Out) > 1 && g.Out[1] != nil && g.Out[1].DType() == ir.Bool {
		keep = g.Out[1]
	} else {
		y := g.Out[0]
		keep = Not(Equal(y, ScalarLike(y, 0)))
	}
	scale := 0.0
	if ratio < 1 {
		scale = 1 / (1 - ratio)
	}
	out[0] = mask(Mul(d, ScalarLike(d, scale)), keep)
	return out
}

// ewOptIn is input i, or nil when it is absent.
func ewOptIn(g *GradContext, i int) *Tensor {
	if i < len(g.In) {
		return g.In[i]
	}
	return nil
}

// ewDiffInput reports whether input i is present, floating point and not
// tagged non-differentiable by the op's schema at the recorded opset.
func ewDiffInput(g *GradContext, i int) bool {
	x := ewOptIn(g, i)
	if x == nil || !x.DType().IsFloat() {
		return false
	}
	s := ir.LookupSchema(g.Spec.Domain, g.Spec.Op, g.Spec.Version)
	if s == nil || len(s.Inputs) == 0 {
		return true
	}
	return s.Inputs[min(i, len(s.Inputs)-1)].Diff != ir.NonDifferentiable
}
