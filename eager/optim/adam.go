package optim

import (
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Adam is Adam (Kingma & Ba) with bias correction; with decoupled weight
// decay it is AdamW (Loshchilov & Hutter). Both follow torch.optim.Adam and
// torch.optim.AdamW exactly:
//
//	g += λθ (Adam) or θ -= γλθ (AdamW)
//	m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//	θ -= γ m̂ / (√v̂ + ε),  m̂ = m / (1-β1^t),  v̂ = v / (1-β2^t)
type Adam struct {
	base
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Decoupled         bool
	m, v              []*eager.Tensor
	kern              kernelSet
	// inPlace runs AdamInPlace where the backend has it; owned[i] holds the
	// buffers of parameter i and its moments that this optimizer made.
	inPlace kernelSet
	owned   [][3]backends.Buffer
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

// onnxEpsilon is the epsilon that makes ONNX's Adam step PyTorch's at step t.
//
// ONNX (ai.onnx.preview.training.Adam) adds ε to √v and folds both bias
// corrections into the learning rate; PyTorch adds ε to √v̂. With
// c1 = 1-β1^t and c2 = 1-β2^t:
//
//	PyTorch: γ (m/c1) / (√v/√c2 + ε)       = γ √c2/c1 · m / (√v + ε√c2)
//	ONNX:    γ √c2/c1 · m / (√v + ε_onnx)
//
// so ε_onnx = ε √c2 makes them the same update. (The difference is not
// small: at t = 1, √c2 ≈ 0.03 with β2 = 0.999.)
func onnxEpsilon(eps, beta2 float64, t int64) float64 {
	return eps * math.Sqrt(1-math.Pow(beta2, float64(t)))
}

// Step applies one Adam update per parameter with the fused Adam kernel.
func (a *Adam) Step(grads []*eager.Tensor) error {
	if err := a.check(grads); err != nil {
		return err
	}
	a.step++
	// The kernel's bias correction uses β2 rounded to float32 (an ONNX
	// attribute), so ε_onnx must too.
	b2 := float32(a.Beta2)
	attrs := ir.Attrs{ir.FloatAttr("alpha", float32(a.Beta1)), ir.FloatAttr("beta", b2),
		ir.FloatAttr("epsilon", float32(onnxEpsilon(a.Eps, float64(b2), a.step)))}
	if !a.Decoupled && a.WeightDecay != 0 {
		attrs = append(attrs, ir.FloatAttr("norm_coefficient", float32(a.WeightDecay)))
	}
	a.kern.use("Adam", 3, attrs)
	a.inPlace.domain = eager.KeenDomain
	a.inPlace.use("AdamInPlace", 0, attrs)
	for i, p := range a.params {
		g := grads[i]
		if g == nil {
			continue
		}
		if done, err := a.stepInPlace(i, g); done || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		x := p
		if a.Decoupled && a.WeightDecay != 0 {
			// AdamW decays before the update: θ(1-γλ) - γ m̂/(√v̂+ε).
			// ONNX's norm_coefficient_post would scale the update as well,
			// (1-γλ)(θ - γ m̂/(√v̂+ε)), so the decay is applied here.
			eager.NoGrad(func() { x = eager.Mul(p, eager.ScalarLike(p, 1-a.lr*a.WeightDecay)) })
		}
		out, err := a.kern.run(eager.ScalarLike(p, a.lr), eager.Scalar(a.step), x, g, a.m[i], a.v[i])
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

// stepInPlace updates parameter i with the in-place kernel when its
// backend lists it for the parameter's dtype (reporting false otherwise;
// plugin clients do not list it, as they keep copies of uploaded values).
// Whenever the parameter or a moment holds a
// buffer this optimizer did not make (the first step, after Assign or
// MoveTo), it is first given a copy of its own, so storage shared with
// anything else (a loaded model's data, a checkpoint's tensors, values
// read before) is never written; otherwise the update writes into the
// buffers and allocates nothing.
func (a *Adam) stepInPlace(i int, g *eager.Tensor) (bool, error) {
	p, m, v := a.params[i], a.m[i], a.v[i]
	dev, dt := p.Backend(), p.DType()
	if !eager.HasPrivateOp(dev, "AdamInPlace", dt) || g.Backend() != dev || g.DType() != dt ||
		m.Backend() != dev || v.Backend() != dev || m.DType() != dt || v.DType() != dt {
		return false, nil
	}
	if len(a.owned) != len(a.params) {
		a.owned = make([][3]backends.Buffer, len(a.params))
	}
	if a.owned[i] != [3]backends.Buffer{p.Buffer(), m.Buffer(), v.Buffer()} {
		for _, t := range []*eager.Tensor{p, m, v} {
			if err := own(t); err != nil {
				return true, err
			}
		}
		a.owned[i] = [3]backends.Buffer{p.Buffer(), m.Buffer(), v.Buffer()}
	}
	x := p
	if a.Decoupled && a.WeightDecay != 0 {
		eager.NoGrad(func() { x = eager.Mul(p, eager.ScalarLike(p, 1-a.lr*a.WeightDecay)) })
	}
	if _, err := a.inPlace.run(eager.ScalarLike(p, a.lr), eager.Scalar(a.step), x, g, m, v); err != nil {
		return true, err
	}
	if x != p {
		// x is the decay's fresh result, so the parameter's new storage is
		// this optimizer's own too.
		if err := p.Assign(x); err != nil {
			return true, err
		}
		a.owned[i][0] = p.Buffer()
	}
	return true, nil
}

// own gives t a copy of its value as its storage.
func own(t *eager.Tensor) error {
	h, err := t.Host()
	if err != nil {
		return err
	}
	c, err := eager.FromHost(t.Backend(), h.Clone())
	if err != nil {
		return err
	}
	return t.Assign(c)
}

func (a *Adam) State() map[string]*eager.Tensor {
	return stateMap(a.step, map[string][]*eager.Tensor{"m": a.m, "v": a.v})
}

func (a *Adam) LoadState(s map[string]*eager.Tensor) error {
	step, err := loadState(s, map[string][]*eager.Tensor{"m": a.m, "v": a.v})
	a.step, a.owned = step, nil
	if err != nil {
		return err
	}
	// The moments share the state's storage, which its source may still
	// update in place: copy them now.
	for _, t := range append(append([]*eager.Tensor(nil), a.m...), a.v...) {
		if err := own(t); err != nil {
			return err
		}
	}
	return nil
}
