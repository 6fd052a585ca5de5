package nn

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// BatchNorm normalizes each channel of [N, C, ...] with batch statistics
// while training (updating running averages) and running statistics in
// evaluation mode.
type BatchNorm struct {
	Weight      *eager.Tensor
	Bias        *eager.Tensor
	RunningMean *eager.Tensor `nn:"running_mean,buffer"`
	RunningVar  *eager.Tensor `nn:"running_var,buffer"`
	Eps         float32       `nn:"-"`
	Momentum    float32       `nn:"-"` // PyTorch's convention: new = (1-m) old + m batch
	training    bool
}

// NewBatchNorm makes a BatchNorm over c channels (PyTorch defaults: eps
// 1e-5, momentum 0.1), in training mode.
func NewBatchNorm(c int, opts ...Option) *BatchNorm {
	cfg := newConfig(opts)
	return &BatchNorm{Weight: constant(cfg, 1, c), Bias: constant(cfg, 0, c),
		RunningMean: constant(cfg, 0, c), RunningVar: constant(cfg, 1, c),
		Eps: 1e-5, Momentum: 0.1, training: true}
}

func (b *BatchNorm) SetTraining(on bool) { b.training = on }

func (b *BatchNorm) Forward(x *eager.Tensor) *eager.Tensor {
	attrs := ir.Attrs{ir.FloatAttr("epsilon", b.Eps), ir.FloatAttr("momentum", 1-b.Momentum)}
	if !b.training {
		return eager.Op("BatchNormalization", attrs, 1, x, b.Weight, b.Bias, b.RunningMean, b.RunningVar)[0]
	}
	attrs = append(attrs, ir.IntAttr("training_mode", 1))
	outs := eager.Op("BatchNormalization", attrs, 3, x, b.Weight, b.Bias, b.RunningMean, b.RunningVar)
	eager.NoGrad(func() {
		// ONNX keeps the biased batch variance in running_var; PyTorch the
		// unbiased one. Follow PyTorch so imported statistics stay comparable.
		n := float64(x.Len() / x.Dim(1))
		if n > 1 {
			m := float64(1 - b.Momentum)
			batchVar := eager.Div(eager.Sub(outs[2].Detach(), eager.Mul(b.RunningVar, eager.ScalarLike(b.RunningVar, m))), eager.ScalarLike(b.RunningVar, 1-m))
			unbiased := eager.Mul(batchVar, eager.ScalarLike(batchVar, n/(n-1)))
			outs[2] = eager.Add(eager.Mul(b.RunningVar, eager.ScalarLike(b.RunningVar, m)), eager.Mul(unbiased, eager.ScalarLike(unbiased, 1-m)))
		}
		must(b.RunningMean.Assign(outs[1].Detach()))
		must(b.RunningVar.Assign(outs[2].Detach()))
	})
	return outs[0]
}

// LayerNorm normalizes over the trailing dims given by its weight's shape.
type LayerNorm struct {
	Weight *eager.Tensor
	Bias   *eager.Tensor
	Eps    float32 `nn:"-"`
}

// NewLayerNorm normalizes over a trailing dimension of size dim.
func NewLayerNorm(dim int, opts ...Option) *LayerNorm {
	c := newConfig(opts)
	return &LayerNorm{Weight: constant(c, 1, dim), Bias: constant(c, 0, dim), Eps: 1e-5}
}

func (l *LayerNorm) Forward(x *eager.Tensor) *eager.Tensor {
	axis := int64(x.Rank() - l.Weight.Rank())
	attrs := ir.Attrs{ir.IntAttr("axis", axis), ir.FloatAttr("epsilon", l.Eps)}
	return eager.Op("LayerNormalization", attrs, 1, x, l.Weight, l.Bias)[0]
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
