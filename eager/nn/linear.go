package nn

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Linear is y = x Wᵀ + b with W of shape [out, in] (PyTorch's layout).
type Linear struct {
	Weight *eager.Tensor
	Bias   *eager.Tensor
}

// NewLinear makes a Linear layer with PyTorch's default initialization.
func NewLinear(in, out int, opts ...Option) *Linear {
	c := newConfig(opts)
	r := c.rng()
	b := kaimingBound(in)
	l := &Linear{Weight: uniform(c, r, b, out, in)}
	if !c.noBias {
		l.Bias = uniform(c, r, b, out)
	}
	return l
}

// Forward maps [..., in] to [..., out]; 2-D inputs use one Gemm.
func (l *Linear) Forward(x *eager.Tensor) *eager.Tensor {
	if x.Rank() == 2 {
		return eager.Gemm(x, l.Weight, l.Bias, 1, 1, false, true)
	}
	y := eager.MatMul(x, eager.Transpose(l.Weight))
	if l.Bias != nil {
		y = eager.Add(y, l.Bias)
	}
	return y
}

// Embedding maps integer ids to rows of a table of shape [num, dim].
type Embedding struct{ Weight *eager.Tensor }

// NewEmbedding makes a table with N(0,1) entries, as PyTorch does.
func NewEmbedding(num, dim int, opts ...Option) *Embedding {
	c := newConfig(opts)
	return &Embedding{Weight: normal(c, c.rng(), 1, num, dim)}
}

// Forward gathers rows: ids [...] (int32/int64) -> [..., dim].
func (e *Embedding) Forward(ids *eager.Tensor) *eager.Tensor { return eager.Gather(e.Weight, ids, 0) }

// Flatten reshapes [N, ...] to [N, prod(...)].
type Flatten struct{}

func (Flatten) Forward(x *eager.Tensor) *eager.Tensor { return eager.Flatten(x, 1) }

// Dropout zeroes elements with probability P while training and scales the
// rest by 1/(1-P); it is the identity in evaluation mode.
type Dropout struct {
	P        float32
	training bool
	seed     int64
}

// NewDropout makes a Dropout layer (training mode on).
func NewDropout(p float32, opts ...Option) *Dropout {
	c := newConfig(opts)
	return &Dropout{P: p, training: true, seed: c.seed}
}

func (d *Dropout) SetTraining(on bool) { d.training = on }

func (d *Dropout) Forward(x *eager.Tensor) *eager.Tensor {
	if !d.training || d.P == 0 {
		return x
	}
	d.seed++
	ratio := eager.ScalarLike(x, float64(d.P))
	on := eager.Full(x, ir.Bool, 1)
	return eager.Op("Dropout", ir.Attrs{ir.IntAttr("seed", d.seed)}, 2, x, ratio, on)[0]
}

// Activation layers for Sequential models.
var (
	ReLU    = Func(eager.Relu)
	Sigmoid = Func(eager.Sigmoid)
	Tanh    = Func(eager.Tanh)
)
