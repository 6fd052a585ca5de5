package optim

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Adam is Adam (Kingma & Ba) with bias correction; with decoupled weight
// decay it is AdamW (Loshchilov & Hutter).
type Adam struct {
	base
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Decoupled         bool
	m, v              []*eager.Tensor
}

// NewAdam makes Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8).
func NewAdam(params []*eager.Tensor, lr float64) *Adam {
	return &Adam{base: base{params: params, lr: lr}, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		m: slots(params), v: slots(params)}
}

// NewAdamW makes AdamW: Adam with decoupled weight decay (PyTorch default 0.01).
func NewAdamW(params []*eager.Tensor, lr, weightDecay float64) *Adam {
	a := NewAdam(params, lr)
	a.WeightDecay, a.Decoupled = weightDecay, true
	return a
}

// Step applies one Adam update per parameter with the fused Adam kernel.
func (a *Adam) Step(grads []*eager.Tensor) error {
	if err := a.check(grads); err != nil {
		return err
	}
	a.step++
	attrs := ir.Attrs{ir.FloatAttr("alpha", float32(a.Beta1)), ir.FloatAttr("beta", float32(a.Beta2)),
		ir.FloatAttr("epsilon", float32(a.Eps))}
	if a.Decoupled {
		attrs = append(attrs, ir.FloatAttr("norm_coefficient_post", float32(a.lr*a.WeightDecay)))
	} else if a.WeightDecay != 0 {
		attrs = append(attrs, ir.FloatAttr("norm_coefficient", float32(a.WeightDecay)))
	}
	for i, p := range a.params {
		g := grads[i]
		if g == nil {
			continue
		}
		r := eager.ScalarLike(p, a.lr)
		t := eager.Scalar(a.step)
		out, err := fused("Adam", attrs, 3, r, t, p, g, a.m[i], a.v[i])
		if err != nil {
			return err
		}
		if err := p.Assign(out[0]); err != nil {
			return err
		}
		a.m[i], a.v[i] = out[1], out[2]
	}
	return nil
}

func (a *Adam) State() map[string]*eager.Tensor {
	return stateMap(a.step, map[string][]*eager.Tensor{"m": a.m, "v": a.v})
}

func (a *Adam) LoadState(s map[string]*eager.Tensor) error {
	step, err := loadState(s, map[string][]*eager.Tensor{"m": a.m, "v": a.v})
	a.step = step
	return err
}
