package eager

import (
	"github.com/keenml/keen/ir"
)

// Gradient rules of reductions and softmax.

func init() {
	// ReduceSum: dX = broadcast(dY)
	RegisterGradient("", "ReduceSum", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return dy })
	})
	// ReduceMean: dX = broadcast(dY) / count
	RegisterGradient("", "ReduceMean", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor {
			n := float64(x.Len()) / float64(max(y.Len(), 1))
			return Div(dy, ScalarLike(dy, n))
		})
	})
	// ReduceMax/Min: dX = dY at the extreme positions, split among ties
	extreme := func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor {
			m := Cast(Equal(x, y), x.DType())
			cnt := reduceLike(g, m)
			return Mul(Div(dy, cnt), m)
		})
	}
	RegisterGradient("", "ReduceMax", extreme)
	RegisterGradient("", "ReduceMin", extreme)
	// ReduceProd: dX = dY * Y / X
	RegisterGradient("", "ReduceProd", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Div(Mul(dy, y), x) })
	})
	// ReduceSumSquare: dX = 2 X dY
	RegisterGradient("", "ReduceSumSquare", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Mul(Mul(dy, x), ScalarLike(x, 2)) })
	})
	// ReduceL1: dX = sign(X) dY
	RegisterGradient("", "ReduceL1", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Mul(dy, Sign(x)) })
	})
	// ReduceL2: dX = X / Y dY
	RegisterGradient("", "ReduceL2", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Div(Mul(dy, x), y) })
	})
	// ReduceLogSum: dX = dY / exp(Y)
	RegisterGradient("", "ReduceLogSum", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Div(dy, Exp(y)) })
	})
	// ReduceLogSumExp: dX = exp(X - Y) dY
	RegisterGradient("", "ReduceLogSumExp", func(g *GradContext) []*Tensor {
		return reduceGrad(g, func(x, y, dy *Tensor) *Tensor { return Mul(dy, Exp(Sub(x, y))) })
	})
	// Softmax: dX = Y (dY - Σ dY Y)
	RegisterGradient("", "Softmax", func(g *GradContext) []*Tensor {
		return softmaxGrad(g, func(y, dy *Tensor, axis int) *Tensor {
			s := ReduceSum(Mul(dy, y), []int64{int64(axis)}, true)
			return Mul(y, Sub(dy, s))
		})
	})
	// LogSoftmax: dX = dY - exp(Y) Σ dY
	RegisterGradient("", "LogSoftmax", func(g *GradContext) []*Tensor {
		return softmaxGrad(g, func(y, dy *Tensor, axis int) *Tensor {
			s := ReduceSum(dy, []int64{int64(axis)}, true)
			return Sub(dy, Mul(Exp(y), s))
		})
	})
	RegisterNonDifferentiable("", "ArgMax", "ArgMin", "Hardmax")
}

// reduceAxes returns the reduced axes of a recorded reduction (all axes when
// none are given, nil when the op is a no-op) and keepdims.
func reduceAxes(g *GradContext) (axes []int, keep bool, noop bool) {
	at := g.Attrs()
	keep = at.Int("keepdims", 1) != 0
	x := g.In[0]
	var raw []int64
	if len(g.In) > 1 && g.In[1] != nil {
		h := g.In[1].MustHost()
		raw, _ = h.Int64s()
	} else {
		raw = at.Ints("axes", nil)
	}
	if len(raw) == 0 {
		if at.Int("noop_with_empty_axes", 0) != 0 {
			return nil, keep, true
		}
		for i := 0; i < x.Rank(); i++ {
			axes = append(axes, i)
		}
		return axes, keep, false
	}
	for _, a := range raw {
		if a < 0 {
			a += int64(x.Rank())
		}
		axes = append(axes, int(a))
	}
	return axes, keep, false
}

// reduceGrad expands Y and dY back to X's rank and applies rule.
func reduceGrad(g *GradContext, rule func(x, y, dy *Tensor) *Tensor) []*Tensor {
	x, y, dy := g.In[0], g.Out[0], g.D(0)
	axes, keep, noop := reduceAxes(g)
	if noop {
		return []*Tensor{dy}
	}
	if !keep {
		kshape := append([]int(nil), x.Shape()...)
		for _, a := range axes {
			kshape[a] = 1
		}
		y, dy = Reshape(y, kshape...), Reshape(dy, kshape...)
	}
	d := rule(x, y, dy)
	return []*Tensor{Expand(d, x.Shape()...)}
}

// reduceLike sums m over the same axes as the recorded reduction, keeping dims.
func reduceLike(g *GradContext, m *Tensor) *Tensor {
	axes, _, _ := reduceAxes(g)
	a := make([]int64, len(axes))
	for i, v := range axes {
		a[i] = int64(v)
	}
	return ReduceSum(m, a, true)
}

// softmaxGrad handles the axis conventions: opset >= 13 normalizes one axis;
// older opsets flatten to 2-D at axis (default 1) and normalize rows.
func softmaxGrad(g *GradContext, rule func(y, dy *Tensor, axis int) *Tensor) []*Tensor {
	y, dy := g.Out[0], g.D(0)
	if g.Spec.Version >= 13 || g.Spec.Version == 0 {
		axis := int(g.Attrs().Int("axis", -1))
		if axis < 0 {
			axis += y.Rank()
		}
		return []*Tensor{rule(y, dy, axis)}
	}
	axis := int(g.Attrs().Int("axis", 1))
	if axis < 0 {
		axis += y.Rank()
	}
	shape := y.Shape()
	rows := ir.Size(shape[:axis])
	y2, dy2 := Reshape(y, rows, -1), Reshape(dy, rows, -1)
	return []*Tensor{Reshape(rule(y2, dy2, 1), shape...)}
}
