package optim

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// SGD is stochastic gradient descent with optional momentum (PyTorch's
// convention: v = μ v + g; p -= lr v), Nesterov momentum and L2 weight decay.
type SGD struct {
	base
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	vel         []*eager.Tensor
}

// NewSGD makes SGD; momentum 0 is plain gradient descent.
func NewSGD(params []*eager.Tensor, lr, momentum float64) *SGD {
	return &SGD{base: base{params: params, lr: lr}, Momentum: momentum, vel: slots(params)}
}

func (s *SGD) Step(grads []*eager.Tensor) error {
	if err := s.check(grads); err != nil {
		return err
	}
	mode := "standard"
	if s.Nesterov {
		mode = "nesterov"
	}
	attrs := ir.Attrs{ir.FloatAttr("alpha", float32(s.Momentum)), ir.FloatAttr("beta", 1),
		ir.FloatAttr("norm_coefficient", float32(s.WeightDecay)), ir.StringAttr("mode", mode)}
	for i, p := range s.params {
		g := grads[i]
		if g == nil {
			continue
		}
		out, err := fused("Momentum", attrs, 2, eager.ScalarLike(p, s.lr), eager.Scalar(s.step), p, g, s.vel[i])
		if err != nil {
			return err
		}
		if err := p.Assign(out[0]); err != nil {
			return err
		}
		s.vel[i] = out[1]
	}
	s.step++
	return nil
}

func (s *SGD) State() map[string]*eager.Tensor {
	return stateMap(s.step, map[string][]*eager.Tensor{"velocity": s.vel})
}

func (s *SGD) LoadState(st map[string]*eager.Tensor) error {
	step, err := loadState(st, map[string][]*eager.Tensor{"velocity": s.vel})
	s.step = step
	return err
}

// Adagrad accumulates squared gradients: h += g²; p -= lr g / (√h + eps).
type Adagrad struct {
	base
	Eps, Decay float64
	h          []*eager.Tensor
}

// NewAdagrad makes Adagrad with eps 1e-10 (PyTorch's default).
func NewAdagrad(params []*eager.Tensor, lr float64) *Adagrad {
	return &Adagrad{base: base{params: params, lr: lr}, Eps: 1e-10, h: slots(params)}
}

func (a *Adagrad) Step(grads []*eager.Tensor) error {
	if err := a.check(grads); err != nil {
		return err
	}
	attrs := ir.Attrs{ir.FloatAttr("epsilon", float32(a.Eps)), ir.FloatAttr("decay_factor", float32(a.Decay))}
	for i, p := range a.params {
		if grads[i] == nil {
			continue
		}
		out, err := fused("Adagrad", attrs, 2, eager.ScalarLike(p, a.lr), eager.Scalar(a.step), p, grads[i], a.h[i])
		if err != nil {
			return err
		}
		if err := p.Assign(out[0]); err != nil {
			return err
		}
		a.h[i] = out[1]
	}
	a.step++
	return nil
}

func (a *Adagrad) State() map[string]*eager.Tensor {
	return stateMap(a.step, map[string][]*eager.Tensor{"sum": a.h})
}

func (a *Adagrad) LoadState(st map[string]*eager.Tensor) error {
	step, err := loadState(st, map[string][]*eager.Tensor{"sum": a.h})
	a.step = step
	return err
}

// RMSprop keeps a running mean of squared gradients:
// s = α s + (1-α) g²; p -= lr g / (√s + eps) (PyTorch's convention).
type RMSprop struct {
	base
	Alpha, Eps float64
	sq         []*eager.Tensor
}

// NewRMSprop makes RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8).
func NewRMSprop(params []*eager.Tensor, lr float64) *RMSprop {
	return &RMSprop{base: base{params: params, lr: lr}, Alpha: 0.99, Eps: 1e-8, sq: slots(params)}
}

func (r *RMSprop) Step(grads []*eager.Tensor) error {
	if err := r.check(grads); err != nil {
		return err
	}
	var err error
	eager.NoGrad(func() {
		for i, p := range r.params {
			g := grads[i]
			if g == nil {
				continue
			}
			s := eager.Add(eager.Mul(r.sq[i], eager.ScalarLike(g, r.Alpha)), eager.Mul(eager.Mul(g, g), eager.ScalarLike(g, 1-r.Alpha)))
			r.sq[i] = s
			upd := eager.Div(eager.Mul(g, eager.ScalarLike(g, r.lr)), eager.Add(eager.Sqrt(s), eager.ScalarLike(g, r.Eps)))
			if err = p.Assign(eager.Sub(p, upd)); err != nil {
				return
			}
		}
	})
	r.step++
	return err
}

func (r *RMSprop) State() map[string]*eager.Tensor {
	return stateMap(r.step, map[string][]*eager.Tensor{"square_avg": r.sq})
}

func (r *RMSprop) LoadState(st map[string]*eager.Tensor) error {
	step, err := loadState(st, map[string][]*eager.Tensor{"square_avg": r.sq})
	r.step = step
	return err
}
