package nn

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// NewMaxPool1D pools the max of windows of k steps over [N, C, L] with the
// given stride (0: k).
func NewMaxPool1D(k, stride int) *Pool { return newPoolN("MaxPool", k, stride, 1) }

// NewAvgPool1D averages windows of k steps over [N, C, L] with the given
// stride (0: k).
func NewAvgPool1D(k, stride int) *Pool { return newPoolN("AveragePool", k, stride, 1) }

// GlobalMaxPool takes each channel's maximum over its spatial dims:
// [N, C, ...] -> [N, C, 1, ...].
type GlobalMaxPool struct{}

func (GlobalMaxPool) Forward(x *eager.Tensor) *eager.Tensor {
	return eager.Op("GlobalMaxPool", nil, 1, x)[0]
}

// More activation layers for Sequential models.
var (
	// GELU is x Φ(x) with the exact normal CDF (ONNX Gelu).
	GELU = Func(func(x *eager.Tensor) *eager.Tensor { return eager.Op("Gelu", nil, 1, x)[0] })
	// GELUTanh is GELU with the tanh approximation (PyTorch's approximate="tanh").
	GELUTanh = Func(func(x *eager.Tensor) *eager.Tensor {
		return eager.Op("Gelu", ir.Attrs{ir.StringAttr("approximate", "tanh")}, 1, x)[0]
	})
	// SiLU is x σ(x) (also called Swish), built from Sigmoid and Mul so it
	// exports to any opset.
	SiLU = Func(func(x *eager.Tensor) *eager.Tensor { return eager.Mul(x, eager.Sigmoid(x)) })
)

// NewSoftmax is a softmax layer along axis (negative counts from the end).
func NewSoftmax(axis int) Func {
	return func(x *eager.Tensor) *eager.Tensor { return eager.Softmax(x, axis) }
}

// NewLeakyReLU is max(x, alpha x) (PyTorch's default alpha is 0.01).
func NewLeakyReLU(alpha float32) Func {
	return func(x *eager.Tensor) *eager.Tensor { return eager.LeakyRelu(x, alpha) }
}

func axisAttr(axis int) ir.Attrs { return ir.Attrs{ir.IntAttr("axis", int64(axis))} }
