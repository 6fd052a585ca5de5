package eager

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// Gradient rules of convolution and pooling, written with Conv,
// ConvTranspose and pooling ops themselves.

func init() {
	RegisterGradient("", "Conv", gradConv)
	RegisterGradient("", "MaxPool", gradMaxPool)
	RegisterGradient("", "AveragePool", gradAveragePool)
	// GlobalAveragePool: dX = dY / (spatial size), broadcast
	RegisterGradient("", "GlobalAveragePool", func(g *GradContext) []*Tensor {
		x := g.In[0]
		n := float64(ir.Size(x.Shape()[2:]))
		return []*Tensor{Expand(Div(g.D(0), ScalarLike(g.D(0), n)), x.Shape()...)}
	})
	// GlobalMaxPool: dX = dY at the maxima (split among ties)
	RegisterGradient("", "GlobalMaxPool", func(g *GradContext) []*Tensor {
		x, y := g.In[0], g.Out[0]
		m := Cast(Equal(x, y), x.DType())
		axes := make([]int64, x.Rank()-2)
		for i := range axes {
			axes[i] = int64(i + 2)
		}
		return []*Tensor{Mul(Div(g.D(0), ReduceSum(m, axes, true)), m)}
	})
}

// geom is a convolution or pooling window geometry with explicit pads.
type geom struct {
	k, s, d, pb, pe []int
}

// explicitGeom reads kernel dims k, strides, dilations and explicit pads.
func explicitGeom(a ir.Attrs, k []int) geom {
	n := len(k)
	g := geom{k: k, s: make([]int, n), d: make([]int, n), pb: make([]int, n), pe: make([]int, n)}
	strides, dil, pads := a.Ints("strides", nil), a.Ints("dilations", nil), a.Ints("pads", nil)
	for i := 0; i < n; i++ {
		g.s[i], g.d[i] = 1, 1
		if i < len(strides) {
			g.s[i] = int(strides[i])
		}
		if i < len(dil) {
			g.d[i] = int(dil[i])
		}
		if len(pads) == 2*n {
			g.pb[i], g.pe[i] = int(pads[i]), int(pads[n+i])
		}
	}
	return g
}

// resolveGeom reads kernel, strides, dilations and pads (resolving auto_pad)
// for spatial input dims in and kernel dims k.
func resolveGeom(a ir.Attrs, in, k []int) (geom, error) {
	n := len(in)
	g := explicitGeom(a, k)
	switch mode := a.Str("auto_pad", "NOTSET"); mode {
	case "NOTSET", "VALID":
		if mode == "VALID" {
			for i := range g.pb {
				g.pb[i], g.pe[i] = 0, 0
			}
		}
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < n; i++ {
			out := (in[i] + g.s[i] - 1) / g.s[i]
			total := max(0, (out-1)*g.s[i]+(k[i]-1)*g.d[i]+1-in[i])
			small := total / 2
			if mode == "SAME_UPPER" {
				g.pb[i], g.pe[i] = small, total-small
			} else {
				g.pb[i], g.pe[i] = total-small, small
			}
		}
	default:
		return g, fmt.Errorf("auto_pad %q", mode)
	}
	return g, nil
}

// transposeAttrs are the ConvTranspose attributes that map a gradient of
// spatial size out back onto an input of spatial size in: the window
// geometry, with end pads and output_padding chosen to give exactly in.
func (g geom) transposeAttrs(in, out []int, group int) ir.Attrs {
	n := len(in)
	pads := make([]int64, 2*n)
	outPad := make([]int64, n)
	for i := 0; i < n; i++ {
		full := g.s[i]*(out[i]-1) + (g.k[i]-1)*g.d[i] + 1
		pads[i] = int64(g.pb[i])
		if pe := full - g.pb[i] - in[i]; pe >= 0 {
			pads[n+i] = int64(pe)
		} else {
			outPad[i] = int64(-pe)
		}
	}
	return ir.Attrs{ir.IntsAttr("strides", ints64(g.s)...), ir.IntsAttr("dilations", ints64(g.d)...),
		ir.IntsAttr("pads", pads...), ir.IntsAttr("output_padding", outPad...), ir.IntAttr("group", int64(group))}
}

// Y = conv(X, W) + B:
// dX = convtranspose(dY, W); dW[o,c] = Σ_n X[n,c] ⋆ dY[n,o] (per group); dB = Σ dY.
func gradConv(g *GradContext) []*Tensor {
	x, w, dy := g.In[0], g.In[1], g.D(0)
	group := int(g.Attrs().Int("group", 1))
	spatial := x.Shape()[2:]
	geo, err := resolveGeom(g.Attrs(), spatial, w.Shape()[2:])
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("Conv gradient: %w", err)})
	}
	out := make([]*Tensor, len(g.In))
	if g.Needs(0) {
		out[0] = inputGrad(dy, w, geo, group, spatial)
	}
	bias := len(g.In) > 2 && g.In[2] != nil && g.Needs(2)
	if g.Needs(1) && useFused("ConvGradFilter", x) && dy.DType() == x.DType() {
		attrs := g.Attrs().With(ir.IntsAttr("kernel_shape", ints64(geo.k)...))
		res, err := CallDomain(KeenDomain, "ConvGradFilter", 1, attrs, 1+boolInt(bias), x, dy)
		if err != nil {
			panic(&OpError{Err: err})
		}
		copy(out[1:], res)
		return out
	}
	if g.Needs(1) {
		out[1] = groupedWeightGrad(x, dy, geo, group)
	}
	if bias {
		axes := []int64{0}
		for i := 2; i < dy.Rank(); i++ {
			axes = append(axes, int64(i))
		}
		out[2] = ReduceSum(dy, axes, false)
	}
	return out
}

// MaxPool: the gradient goes to the element each window picked; the pool is
// run again for its Indices output (flat positions in X).
func gradMaxPool(g *GradContext) []*Tensor {
	x := g.In[0]
	if d := g.D(0); useFused("MaxPoolGrad", x) && d.DType() == x.DType() && x.Rank() >= 3 && x.Rank() <= 5 {
		if !g.producedBy(0, "Relu") {
			return []*Tensor{fused1("MaxPoolGrad", g.Attrs(), d, x)}
		}
		// Over a Relu's output, windows whose maximum is 0 pass nothing:
		// the Relu's rule then passes the result on as it is.
		dx := fused1("MaxPoolGrad", g.Attrs().With(ir.IntAttr("positive_only", 1)), d, x)
		g.markMasked(dx, x)
		return []*Tensor{dx}
	}
	idx := g.Out
	var indices *Tensor
	if len(idx) > 1 && idx[1] != nil && g.Attrs().Int("storage_order", 0) == 0 {
		indices = idx[1]
	} else {
		attrs := g.Attrs().With(ir.IntAttr("storage_order", 0))
		NoGrad(func() { indices = Op("MaxPool", attrs, 2, x)[1] })
	}
	src := Add(indices, Int64s(x, 1).reshapedScalar())
	return []*Tensor{scatterAddFlat(x, src, g.D(0))}
}

// AveragePool: each output's gradient, divided by its window's divisor D, is
// spread over the window by a depthwise ConvTranspose with a kernel of ones.
// D = V / AveragePool(ones), V the count of in-bounds elements (LpPool p=1 of ones).
func gradAveragePool(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	a := g.Attrs()
	k := make([]int, 0, x.Rank()-2)
	for _, v := range a.Ints("kernel_shape", nil) {
		k = append(k, int(v))
	}
	spatial := x.Shape()[2:]
	geo, err := resolveGeom(a, spatial, k)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("AveragePool gradient: %w", err)})
	}
	ones := OnesLike(x)
	var d *Tensor
	NoGrad(func() {
		p1 := Op("AveragePool", a, 1, ones)[0]
		lp := a.With(ir.IntAttr("p", 1))
		var kept ir.Attrs
		for _, at := range lp {
			if at.Name != "count_include_pad" {
				kept = append(kept, at)
			}
		}
		v := Op("LpPool", kept, 1, ones)[0]
		d = Div(v, p1)
	})
	c := x.Dim(1)
	kshape := append([]int{c, 1}, k...)
	kernel := Full(x, x.DType(), 1, kshape...)
	return []*Tensor{op1("ConvTranspose", geo.transposeAttrs(spatial, dy.Shape()[2:], c), Div(dy, d), kernel)}
}

// inputGrad is dX of Y = conv(X, W) with window geo: for unit strides a
// Conv of dY with the kernel flipped and its channel axes swapped (per
// group), padded by (k-1)·d minus the forward pads, which runs through the
// backend's forward convolution; otherwise a ConvTranspose.
func inputGrad(dy, w *Tensor, geo geom, group int, spatial []int) *Tensor {
	r := len(spatial)
	pads := make([]int64, 2*r)
	flip := true
	for i := 0; i < r && flip; i++ {
		span := (geo.k[i] - 1) * geo.d[i]
		pads[i], pads[r+i] = int64(span-geo.pb[i]), int64(span-geo.pe[i])
		flip = geo.s[i] == 1 && pads[i] >= 0 && pads[r+i] >= 0
	}
	if !flip {
		return op1("ConvTranspose", geo.transposeAttrs(spatial, dy.Shape()[2:], group), dy, w)
	}
	ws := w.Shape()
	m, cg := ws[0], ws[1]
	axes, starts, ends, steps := make([]int64, r), make([]int64, r), make([]int64, r), make([]int64, r)
	for i := range axes {
		axes[i], starts[i], ends[i], steps[i] = int64(i+2), -1, math.MinInt64, -1
	}
	wf := op1("Slice", nil, w, Int64s(w, starts...), Int64s(w, ends...), Int64s(w, axes...), Int64s(w, steps...))
	perm := []int{0, 2, 1}
	for i := 0; i < r; i++ {
		perm = append(perm, i+3)
	}
	wf = Reshape(wf, append([]int{group, m / group, cg}, geo.k...)...)
	wf = Reshape(Transpose(wf, perm...), append([]int{cg * group, m / group}, geo.k...)...)
	attrs := ir.Attrs{ir.IntsAttr("dilations", ints64(geo.d)...), ir.IntsAttr("pads", pads...), ir.IntAttr("group", int64(group))}
	return op1("Conv", attrs, dy, wf)
}
