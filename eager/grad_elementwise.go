package eager

import (
	"math"
	"slices"
)

// Gradient rules of elementwise ops. Each comment states the derivative.

func init() {
	rules := map[string]GradRule{
		// d(a+b) = da + db
		"Add": legacyBroadcast(func(g *GradContext) []*Tensor { return []*Tensor{g.D(0), g.D(0)} }),
		// d(a-b) = da - db
		"Sub": legacyBroadcast(func(g *GradContext) []*Tensor { return []*Tensor{g.D(0), Neg(g.D(0))} }),
		// d(a*b) = b da + a db
		"Mul": legacyBroadcast(func(g *GradContext) []*Tensor {
			return []*Tensor{Mul(g.D(0), g.In[1]), Mul(g.D(0), g.In[0])}
		}),
		// d(a/b) = da/b - a/b² db
		"Div": legacyBroadcast(func(g *GradContext) []*Tensor {
			da := Div(g.D(0), g.In[1])
			return []*Tensor{da, Neg(Mul(da, g.Out[0]))}
		}),
		// d(-x) = -dx
		"Neg": func(g *GradContext) []*Tensor { return []*Tensor{Neg(g.D(0))} },
		// d|x| = sign(x) dx
		"Abs": func(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), Sign(g.In[0]))} },
		// d exp(x) = exp(x) dx
		"Exp": func(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), g.Out[0])} },
		// d log(x) = dx / x
		"Log": func(g *GradContext) []*Tensor { return []*Tensor{Div(g.D(0), g.In[0])} },
		// d sqrt(x) = dx / (2 sqrt(x))
		"Sqrt": func(g *GradContext) []*Tensor {
			return []*Tensor{Div(g.D(0), Mul(ScalarLike(g.Out[0], 2), g.Out[0]))}
		},
		// d (1/x) = -dx / x²
		"Reciprocal": func(g *GradContext) []*Tensor {
			return []*Tensor{Neg(Mul(g.D(0), Mul(g.Out[0], g.Out[0])))}
		},
		// d a^b = b a^(b-1) da + a^b log(a) db
		"Pow": legacyBroadcast(gradPow),
		// d σ(x) = σ(1-σ) dx
		"Sigmoid": func(g *GradContext) []*Tensor {
			y := g.Out[0]
			return []*Tensor{Mul(g.D(0), Mul(y, Sub(ScalarLike(y, 1), y)))}
		},
		// d tanh(x) = (1 - tanh²) dx
		"Tanh": func(g *GradContext) []*Tensor {
			y := g.Out[0]
			return []*Tensor{Mul(g.D(0), Sub(ScalarLike(y, 1), Mul(y, y)))}
		},
		// d relu(x) = [x > 0] dx
		"Relu": func(g *GradContext) []*Tensor {
			if g.isMasked(g.DOut[0], g.Out[0]) {
				return []*Tensor{g.DOut[0]} // zero already where x <= 0
			}
			if d := g.D(0); useFused("ReluGrad", d) && d.DType() == g.In[0].DType() {
				return []*Tensor{fused1("ReluGrad", nil, d, g.In[0])}
			}
			return []*Tensor{mask(g.D(0), Greater(g.In[0], ScalarLike(g.In[0], 0)))}
		},
		// d sin = cos dx; d cos = -sin dx
		"Sin": func(g *GradContext) []*Tensor { return []*Tensor{Mul(g.D(0), Cos(g.In[0]))} },
		"Cos": func(g *GradContext) []*Tensor { return []*Tensor{Neg(Mul(g.D(0), Sin(g.In[0])))} },
		// d tan = (1 + tan²) dx
		"Tan": func(g *GradContext) []*Tensor {
			y := g.Out[0]
			return []*Tensor{Mul(g.D(0), Add(ScalarLike(y, 1), Mul(y, y)))}
		},
		// d erf(x) = 2/√π exp(-x²) dx
		"Erf": func(g *GradContext) []*Tensor {
			x := g.In[0]
			return []*Tensor{Mul(g.D(0), Mul(ScalarLike(x, 2/math.Sqrt(math.Pi)), Exp(Neg(Mul(x, x)))))}
		},
		// identity-like ops pass the gradient through
		"Identity": func(g *GradContext) []*Tensor { return []*Tensor{g.D(0)} },
		// d cast(x) = cast back(dx) for float inputs
		"Cast": func(g *GradContext) []*Tensor {
			if !g.In[0].DType().IsFloat() || !g.Out[0].DType().IsFloat() {
				return nil
			}
			return []*Tensor{Cast(g.D(0), g.In[0].DType())}
		},
		// d where(c, x, y) = [c] dx, [!c] dy
		"Where": func(g *GradContext) []*Tensor {
			d := g.D(0)
			z := ZerosLike(d)
			return []*Tensor{nil, Where(g.In[0], d, z), Where(g.In[0], z, d)}
		},
		// d sum(x_i) = dx_i
		"Sum": func(g *GradContext) []*Tensor {
			out := make([]*Tensor, len(g.In))
			for i := range out {
				out[i] = g.D(0)
			}
			return out
		},
		// d mean(x_i) = dx_i / n
		"Mean": func(g *GradContext) []*Tensor {
			d := Div(g.D(0), ScalarLike(g.D(0), float64(len(g.In))))
			out := make([]*Tensor, len(g.In))
			for i := range out {
				out[i] = d
			}
			return out
		},
		// d max(x_i): the gradient goes to the inputs equal to the max (split on ties)
		"Max": gradSelect, "Min": gradSelect,
	}
	for op, r := range rules {
		RegisterGradient("", op, r)
	}
	RegisterGradient("", "CastLike", func(g *GradContext) []*Tensor {
		if !g.In[0].DType().IsFloat() || !g.Out[0].DType().IsFloat() {
			return nil
		}
		return []*Tensor{Cast(g.D(0), g.In[0].DType()), nil}
	})
	// Piecewise-constant or boolean results: no gradient flows.
	RegisterNonDifferentiable("", "Sign", "Floor", "Ceil", "Round", "Equal", "Greater", "Less",
		"GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
		"BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "BitCast")
}

// mask keeps d where m is true, zero elsewhere.
func mask(d, m *Tensor) *Tensor { return Where(m, d, ZerosLike(d)) }

func gradPow(g *GradContext) []*Tensor {
	a, b, y := g.In[0], g.In[1], g.Out[0]
	d := g.D(0)
	bb := b
	if b.DType() != a.DType() {
		bb = Cast(b, a.DType())
	}
	da := Mul(d, Mul(bb, Pow(a, Sub(bb, ScalarLike(bb, 1)))))
	if !b.DType().IsFloat() {
		return []*Tensor{da, nil}
	}
	// log(a) is undefined for a <= 0; those positions get no gradient into b.
	pos := Greater(a, ScalarLike(a, 0))
	safeA := Where(pos, a, OnesLike(a))
	db := mask(Mul(d, Mul(y, Log(safeA))), pos)
	return []*Tensor{da, Cast(db, b.DType())}
}

// gradSelect routes the gradient of a variadic Max/Min to the inputs that
// equal the output, splitting it evenly among ties.
func gradSelect(g *GradContext) []*Tensor {
	y, d := g.Out[0], g.D(0)
	count := ZerosLike(y)
	eqs := make([]*Tensor, len(g.In))
	for i, x := range g.In {
		eqs[i] = Cast(Equal(x, y), y.DType())
		count = Add(count, eqs[i])
	}
	share := Div(d, count)
	out := make([]*Tensor, len(g.In))
	for i := range g.In {
		out[i] = Mul(share, eqs[i])
	}
	return out
}

// legacyBroadcast wraps the rule of a binary op for the broadcast and axis
// attributes of opsets 1 and 6: with broadcast=1 and an axis, input 1's dims
// line up with input 0's from axis on, not from the end as in numpy (which
// the engine's unbroadcast assumes).
func legacyBroadcast(rule GradRule) GradRule {
	return func(g *GradContext) []*Tensor {
		as := g.Attrs()
		if as.Int("broadcast", 0) == 0 || !as.Has("axis") || len(g.In) < 2 {
			return rule(g)
		}
		r := g.In[0].Rank()
		axis := int(as.Int("axis", 0))
		if axis < 0 {
			axis += r
		}
		if axis < 0 || g.In[1].Rank() > r-axis {
			return rule(g) // the kernel rejects this placement
		}
		return alignedRule(g, 1, r-axis, rule)
	}
}

// alignedRule runs rule with input i reshaped to its dims followed by ones
// up to rank dims, so that numpy broadcasting places them where the op did;
// the gradient of input i is summed to that shape and reshaped back.
func alignedRule(g *GradContext, i, rank int, rule GradRule) []*Tensor {
	b := g.In[i]
	shape := make([]int, rank)
	for k := range shape {
		shape[k] = 1
	}
	copy(shape, b.Shape())
	if slices.Equal(shape, b.Shape()) {
		return rule(g)
	}
	g2 := *g
	g2.In = append([]*Tensor(nil), g.In...)
	g2.In[i] = Reshape(b, shape...)
	d := rule(&g2)
	if i < len(d) && d[i] != nil {
		d[i] = Reshape(unbroadcast(d[i], shape), b.Shape()...)
	}
	return d
}
