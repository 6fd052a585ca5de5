package nn

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// ConvTranspose is a transposed convolution (ConvTranspose1D,
// ConvTranspose2D, ...) with weight [in, out/groups, k...] and optional
// bias [out], in NCHW layout.
type ConvTranspose struct {
	Weight        *eager.Tensor
	Bias          *eager.Tensor
	Strides       []int64 `nn:"-"`
	Pads          []int64 `nn:"-"` // begin..., end...
	OutputPadding []int64 `nn:"-"`
	Dilations     []int64 `nn:"-"` // nil: 1
	Groups        int64   `nn:"-"`
}

// NewConvTranspose2D makes a 2-D transposed convolution.
func NewConvTranspose2D(in, out, k int, co ConvOptions, outputPadding int, opts ...Option) *ConvTranspose {
	return newConvTranspose(in, out, []int{k, k}, co, outputPadding, opts)
}

// NewConvTranspose1D makes a 1-D transposed convolution over [N, C, L].
func NewConvTranspose1D(in, out, k int, co ConvOptions, outputPadding int, opts ...Option) *ConvTranspose {
	return newConvTranspose(in, out, []int{k}, co, outputPadding, opts)
}

func newConvTranspose(in, out int, k []int, co ConvOptions, outputPadding int, opts []Option) *ConvTranspose {
	c := newConfig(opts)
	g := max(co.Groups, 1)
	r := c.rng()
	shape := []int{in, out / g}
	fanIn := out / g
	for _, kk := range k {
		shape = append(shape, kk)
		fanIn *= kk
	}
	b := kaimingBound(fanIn)
	n := len(k)
	t := &ConvTranspose{Weight: uniform(c, r, b, shape...), Groups: int64(g),
		Strides: repeat(max(co.Stride, 1), n), Pads: repeat(co.Padding, 2*n),
		OutputPadding: repeat(outputPadding, n), Dilations: repeat(max(co.Dilation, 1), n)}
	if !c.noBias {
		t.Bias = uniform(c, r, b, out)
	}
	return t
}

func (c *ConvTranspose) Forward(x *eager.Tensor) *eager.Tensor {
	attrs := ir.Attrs{ir.IntsAttr("strides", c.Strides...), ir.IntsAttr("pads", c.Pads...),
		ir.IntsAttr("output_padding", c.OutputPadding...), ir.IntsAttr("dilations", c.dilations()...),
		ir.IntAttr("group", max(c.Groups, 1))}
	if c.Bias == nil {
		return eager.Op("ConvTranspose", attrs, 1, x, c.Weight)[0]
	}
	return eager.Op("ConvTranspose", attrs, 1, x, c.Weight, c.Bias)[0]
}

func (c *ConvTranspose) dilations() []int64 {
	if c.Dilations == nil {
		return repeat(1, c.Weight.Rank()-2)
	}
	return c.Dilations
}
