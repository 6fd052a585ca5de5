package nn

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Conv is an N-d convolution (Conv1D, Conv2D, ...) with weight
// [out, in/groups, k...] and optional bias [out], in NCHW layout.
type Conv struct {
	Weight    *eager.Tensor
	Bias      *eager.Tensor
	Strides   []int64 `nn:"-"`
	Pads      []int64 `nn:"-"` // begin..., end...
	Dilations []int64 `nn:"-"`
	Groups    int64   `nn:"-"`
}

// ConvOptions are a convolution's geometry; zero values mean stride 1,
// no padding, dilation 1, one group.
type ConvOptions struct {
	Stride, Padding, Dilation, Groups int
}

// NewConv2D makes a 2-D convolution with a k×k kernel.
func NewConv2D(in, out, k int, co ConvOptions, opts ...Option) *Conv {
	return newConv(in, out, []int{k, k}, co, opts)
}

// NewConv1D makes a 1-D convolution.
func NewConv1D(in, out, k int, co ConvOptions, opts ...Option) *Conv {
	return newConv(in, out, []int{k}, co, opts)
}

func newConv(in, out int, k []int, co ConvOptions, opts []Option) *Conv {
	c := newConfig(opts)
	g := max(co.Groups, 1)
	fanIn := in / g
	shape := []int{out, in / g}
	for _, kk := range k {
		fanIn *= kk
		shape = append(shape, kk)
	}
	r := c.rng()
	b := kaimingBound(fanIn)
	conv := &Conv{Weight: uniform(c, r, b, shape...), Groups: int64(g)}
	if !c.noBias {
		conv.Bias = uniform(c, r, b, out)
	}
	n := len(k)
	conv.Strides = repeat(max(co.Stride, 1), n)
	conv.Pads = repeat(co.Padding, 2*n)
	conv.Dilations = repeat(max(co.Dilation, 1), n)
	return conv
}

func repeat(v, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(v)
	}
	return out
}

func (c *Conv) attrs() ir.Attrs {
	return ir.Attrs{ir.IntsAttr("strides", c.Strides...), ir.IntsAttr("pads", c.Pads...),
		ir.IntsAttr("dilations", c.Dilations...), ir.IntAttr("group", max(c.Groups, 1))}
}

func (c *Conv) Forward(x *eager.Tensor) *eager.Tensor {
	if c.Bias == nil {
		return eager.Op("Conv", c.attrs(), 1, x, c.Weight)[0]
	}
	return eager.Op("Conv", c.attrs(), 1, x, c.Weight, c.Bias)[0]
}

// Pool is max or average pooling over k×k windows.
type Pool struct {
	Op      string // "MaxPool" or "AveragePool"
	Kernel  []int64
	Strides []int64
	Pads    []int64
}

// NewMaxPool2D pools the max of k×k windows with the given stride (0: k).
func NewMaxPool2D(k, stride int) *Pool { return newPool("MaxPool", k, stride) }

// NewAvgPool2D averages k×k windows with the given stride (0: k).
func NewAvgPool2D(k, stride int) *Pool { return newPool("AveragePool", k, stride) }

func newPool(op string, k, stride int) *Pool { return newPoolN(op, k, stride, 2) }

func newPoolN(op string, k, stride, n int) *Pool {
	if stride == 0 {
		stride = k
	}
	return &Pool{Op: op, Kernel: repeat(k, n), Strides: repeat(stride, n), Pads: repeat(0, 2*n)}
}

func (p *Pool) Forward(x *eager.Tensor) *eager.Tensor {
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", p.Kernel...), ir.IntsAttr("strides", p.Strides...), ir.IntsAttr("pads", p.Pads...)}
	return eager.Op(p.Op, attrs, 1, x)[0]
}

// GlobalAvgPool averages each channel over its spatial dims: [N,C,...] -> [N,C,1,...].
type GlobalAvgPool struct{}

func (GlobalAvgPool) Forward(x *eager.Tensor) *eager.Tensor {
	return eager.Op("GlobalAveragePool", nil, 1, x)[0]
}
