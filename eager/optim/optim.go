// Package optim updates parameters from their gradients: SGD (momentum,
// Nesterov, weight decay), Adam, AdamW, RMSprop and Adagrad, learning-rate
// schedules and gradient clipping.
//
// An optimizer updates each parameter in place (eager.Tensor.Assign) with
// one fused backend kernel per parameter where ONNX has one (the
// ai.onnx.preview.training Adam, Adagrad and Momentum ops), outside any
// tape. Several models with their own optimizers can step in one loop.
//
// On the CPU backend Adam and AdamW write the update into the parameter's
// storage and their moments' (the private com.keenml AdamInPlace kernel),
// after giving each a copy of its own whenever it holds a buffer the
// optimizer did not make: what a parameter was made from or assigned is
// never written, but values read from it between steps (Host, Floats or
// Detach, which share its storage on the CPU) change with the next step, as
// a PyTorch tensor's detach() does. Clone them to keep a snapshot.
package optim

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Optimizer updates a fixed list of parameters.
type Optimizer interface {
	// Step applies one update; grads[i] is the gradient of Params()[i]
	// (nil skips that parameter).
	Step(grads []*eager.Tensor) error
	Params() []*eager.Tensor
	LR() float64
	SetLR(lr float64)
	// State lists the optimizer's state tensors with stable names, for
	// checkpoints; LoadState restores them.
	State() map[string]*eager.Tensor
	LoadState(state map[string]*eager.Tensor) error
}

// base holds what every optimizer shares.
type base struct {
	params []*eager.Tensor
	lr     float64
	step   int64
}

func (b *base) Params() []*eager.Tensor { return b.params }
func (b *base) LR() float64             { return b.lr }
func (b *base) SetLR(lr float64)        { b.lr = lr }

func (b *base) check(grads []*eager.Tensor) error {
	if len(grads) != len(b.params) {
		return fmt.Errorf("optim: %d gradients for %d parameters", len(grads), len(b.params))
	}
	for i, g := range grads {
		if g == nil {
			continue
		}
		p := b.params[i]
		if g.DType() != p.DType() || !slices.Equal(g.Shape(), p.Shape()) {
			return fmt.Errorf("optim: gradient %d is %v%v, parameter is %v%v", i, g.DType(), g.Shape(), p.DType(), p.Shape())
		}
	}
	return nil
}

// slots makes zero state tensors shaped like the parameters.
func slots(params []*eager.Tensor) []*eager.Tensor {
	out := make([]*eager.Tensor, len(params))
	for i, p := range params {
		out[i] = eager.ZerosLike(p)
	}
	return out
}

// stateMap names per-parameter state "name.i" plus the step counter.
func stateMap(step int64, named map[string][]*eager.Tensor) map[string]*eager.Tensor {
	m := map[string]*eager.Tensor{"step": eager.Scalar(step)}
	for name, ts := range named {
		for i, t := range ts {
			m[fmt.Sprintf("%s.%d", name, i)] = t
		}
	}
	return m
}

// loadState assigns saved state into named slots and returns the step.
func loadState(state map[string]*eager.Tensor, named map[string][]*eager.Tensor) (int64, error) {
	s, ok := state["step"]
	if !ok {
		return 0, fmt.Errorf("optim: state has no step")
	}
	step := int64(s.Item())
	for name, ts := range named {
		for i, t := range ts {
			key := fmt.Sprintf("%s.%d", name, i)
			v, ok := state[key]
			if !ok {
				return 0, fmt.Errorf("optim: state has no %s", key)
			}
			if err := t.Assign(v); err != nil {
				return 0, fmt.Errorf("optim: %s: %w", key, err)
			}
		}
	}
	return step, nil
}

const trainingDomain = "ai.onnx.preview.training"

// fused runs one ai.onnx.preview.training op without recording.
func fused(op string, attrs ir.Attrs, nout int, in ...*eager.Tensor) ([]*eager.Tensor, error) {
	var out []*eager.Tensor
	var err error
	eager.NoGrad(func() { out, err = eager.CallDomain(trainingDomain, op, 1, attrs, nout, in...) })
	return out, err
}

// kernelSet runs one fused op with the attributes of the current step,
// prepared here rather than in eager's kernel cache: that cache keeps every
// attribute set it meets, and Adam's epsilon changes every step until its
// bias correction settles (some ten thousand steps with β2 = 0.999).
type kernelSet struct {
	domain string // "": ai.onnx.preview.training
	op     string
	nout   int
	attrs  ir.Attrs
	prep   map[kernelKey]*eager.Prepared
}

type kernelKey struct {
	dev backends.Backend
	dt  ir.DType
}

// use selects the op and scalar attributes of the next runs, dropping the
// kernels prepared for others.
func (k *kernelSet) use(op string, nout int, attrs ir.Attrs) {
	if op == k.op && nout == k.nout && sameScalarAttrs(attrs, k.attrs) {
		return
	}
	k.op, k.nout, k.attrs, k.prep = op, nout, attrs, nil
}

// run applies the op to in = (R, T, X, G, states...) without recording; the
// kernel is prepared once per backend and dtype of X.
func (k *kernelSet) run(in ...*eager.Tensor) ([]*eager.Tensor, error) {
	x := in[2]
	key := kernelKey{x.Backend(), x.DType()}
	p, ok := k.prep[key]
	if !ok {
		domain := k.domain
		if domain == "" {
			domain = trainingDomain
		}
		spec := &backends.OpSpec{Domain: domain, Op: k.op, Version: 1, Attrs: k.attrs, NumOutputs: k.nout}
		for _, t := range in {
			spec.InputTypes = append(spec.InputTypes, t.DType())
		}
		var err error
		if p, err = eager.Prepare(key.dev, spec); err != nil {
			return nil, fmt.Errorf("optim: %s: %w", k.op, err)
		}
		if k.prep == nil {
			k.prep = map[kernelKey]*eager.Prepared{}
		}
		k.prep[key] = p
	}
	var out []*eager.Tensor
	var err error
	eager.NoGrad(func() { out, err = p.Run(in) })
	if err != nil {
		return nil, fmt.Errorf("optim: %s: %w", k.op, err)
	}
	return out, nil
}

// sameScalarAttrs compares attribute lists of scalar (float, int, string)
// attributes.
func sameScalarAttrs(a, b ir.Attrs) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Type != y.Type || x.Float != y.Float || x.Int != y.Int || x.String != y.String {
			return false
		}
	}
	return true
}

// ClipGradNorm scales grads in place so that their global L2 norm is at
// most maxNorm, and returns the norm before clipping.
func ClipGradNorm(grads []*eager.Tensor, maxNorm float64) float64 {
	var total float64
	eager.NoGrad(func() {
		for _, g := range grads {
			if g != nil {
				s := eager.ReduceSum(eager.Mul(g, g), nil, false).Item()
				total += s
			}
		}
		total = math.Sqrt(total)
		if total > maxNorm && total > 0 {
			scale := maxNorm / (total + 1e-6)
			for _, g := range grads {
				if g != nil {
					must(g.Assign(eager.Mul(g, eager.ScalarLike(g, scale))))
				}
			}
		}
	})
	return total
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
