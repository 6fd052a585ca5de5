package nn

import (
	"math"

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

// Forward runs the ConvTranspose op when eager has a gradient rule for it;
// otherwise it computes the same values as a Conv of the zero-upsampled
// input with the flipped, transposed weight, so that it trains (and exports
// as Pad, Slice, Transpose and Conv nodes).
func (c *ConvTranspose) Forward(x *eager.Tensor) *eager.Tensor {
	if rule, _ := eager.GradientStatus("", "ConvTranspose"); rule {
		attrs := ir.Attrs{ir.IntsAttr("strides", c.Strides...), ir.IntsAttr("pads", c.Pads...),
			ir.IntsAttr("output_padding", c.OutputPadding...), ir.IntsAttr("dilations", c.dilations()...),
			ir.IntAttr("group", max(c.Groups, 1))}
		in := []*eager.Tensor{x, c.Weight}
		if c.Bias != nil {
			in = append(in, c.Bias)
		}
		return eager.Op("ConvTranspose", attrs, 1, in...)[0]
	}
	return c.viaConv(x)
}

func (c *ConvTranspose) dilations() []int64 {
	if c.Dilations == nil {
		return repeat(1, c.Weight.Rank()-2)
	}
	return c.Dilations
}

// viaConv is ConvTranspose as a Conv: with stride s, pads pb/pe, dilation
// d, output padding op and kernel k, insert s-1 zeros between input steps,
// pad by d(k-1)-pb before and d(k-1)-pe+op after (cropping where that is
// negative), and convolve with stride 1 and the kernel flipped and its
// in/out axes swapped per group.
func (c *ConvTranspose) viaConv(x *eager.Tensor) *eager.Tensor {
	n := c.Weight.Rank() - 2
	k := c.Weight.Shape()[2:]
	dil := c.dilations()
	z := upsampleZeros(x, c.Strides)
	var pads, cropB, cropE []int64
	pads = make([]int64, 2*n)
	cropB, cropE = make([]int64, n), make([]int64, n)
	for i := 0; i < n; i++ {
		span := dil[i] * int64(k[i]-1)
		pb := span - at(c.Pads, i)
		pe := span - at(c.Pads, n+i) + at(c.OutputPadding, i)
		pads[i], pads[n+i] = max(pb, 0), max(pe, 0)
		cropB[i], cropE[i] = max(-pb, 0), max(-pe, 0)
	}
	attrs := ir.Attrs{ir.IntsAttr("pads", pads...), ir.IntsAttr("dilations", dil...), ir.IntAttr("group", max(c.Groups, 1))}
	in := []*eager.Tensor{z, c.convWeight()}
	if c.Bias != nil {
		in = append(in, c.Bias)
	}
	y := eager.Op("Conv", attrs, 1, in...)[0]
	var starts, ends, axes []int
	for i := 0; i < n; i++ {
		if cropB[i] > 0 || cropE[i] > 0 {
			starts = append(starts, int(cropB[i]))
			ends = append(ends, y.Dim(2+i)-int(cropE[i]))
			axes = append(axes, 2+i)
		}
	}
	if axes != nil {
		y = eager.Slice(y, starts, ends, axes)
	}
	return y
}

func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// convWeight turns [in, out/g, k...] into the Conv weight [out, in/g, k...]
// with every spatial axis reversed.
func (c *ConvTranspose) convWeight() *eager.Tensor {
	w := c.Weight
	s := w.Shape()
	n := len(s) - 2
	g := int(max(c.Groups, 1))
	perm := []int{1, 0}
	for i := 2; i < len(s); i++ {
		perm = append(perm, i)
	}
	if g == 1 {
		w = eager.Transpose(w, perm...)
	} else {
		grouped := append([]int{g, s[0] / g, s[1]}, s[2:]...)
		w = eager.Reshape(w, grouped...)
		gperm := []int{0, 2, 1}
		for i := 3; i < len(grouped); i++ {
			gperm = append(gperm, i)
		}
		w = eager.Transpose(w, gperm...)
		w = eager.Reshape(w, append([]int{s[1] * g, s[0] / g}, s[2:]...)...)
	}
	starts, ends, axes, steps := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i := range axes {
		starts[i], ends[i], axes[i], steps[i] = -1, math.MinInt64, int64(2+i), -1
	}
	return eager.Op("Slice", nil, 1, w, eager.Int64s(w, starts...), eager.Int64s(w, ends...),
		eager.Int64s(w, axes...), eager.Int64s(w, steps...))[0]
}

// upsampleZeros inserts s-1 zeros between neighbours along each spatial
// axis of [N, C, L...]: L becomes (L-1)s+1.
func upsampleZeros(x *eager.Tensor, strides []int64) *eager.Tensor {
	n := x.Rank() - 2
	up := false
	for i := 0; i < n; i++ {
		up = up || at(strides, i) > 1
	}
	if !up {
		return x
	}
	// [N, C, L1, 1, L2, 1, ...] padded after each 1 to s_i, then merged.
	shape := []int{0, 0}
	pads := make([]int64, 2*(2+2*n))
	merged := []int{0, 0}
	starts, ends, axes := []int{}, []int{}, []int{}
	for i := 0; i < n; i++ {
		l, s := x.Dim(2+i), int(max(at(strides, i), 1))
		shape = append(shape, l, 1)
		pads[(2+2*n)+2+2*i+1] = int64(s - 1)
		merged = append(merged, l*s)
		starts, ends, axes = append(starts, 0), append(ends, (l-1)*s+1), append(axes, 2+i)
	}
	z := eager.Reshape(x, shape...)
	z = eager.Op("Pad", nil, 1, z, eager.Int64s(z, pads...))[0]
	z = eager.Reshape(z, merged...)
	return eager.Slice(z, starts, ends, axes)
}
