package eager

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/ir"
)

// Gradient rules of ConvTranspose, Lp pooling and MaxUnpool, written with
// Conv, ConvTranspose, Gather and elementwise ops.

func init() {
	RegisterGradient("", "ConvTranspose", gradConvTranspose)
	RegisterGradient("", "LpPool", gradLpPool)
	RegisterGradient("", "GlobalLpPool", gradGlobalLpPool)
	RegisterGradient("", "MaxUnpool", gradMaxUnpool)
}

// convTransposeGeom resolves the window of a ConvTranspose with spatial
// input in and kernel k as the spec does: pb holds the begin pads (negative
// when output_shape asks for more than the full output), and the output
// size is returned. pe is left for the caller.
func convTransposeGeom(a ir.Attrs, in, k []int) (geom, []int, error) {
	n := len(in)
	g := geom{k: k, s: make([]int, n), d: make([]int, n), pb: make([]int, n), pe: make([]int, n)}
	strides, dil := a.Ints("strides", nil), a.Ints("dilations", nil)
	pads, outPad := a.Ints("pads", nil), a.Ints("output_padding", nil)
	outShape := a.Ints("output_shape", nil)
	if len(outShape) == n+2 {
		outShape = outShape[2:]
	}
	mode := a.Str("auto_pad", "NOTSET")
	switch {
	case outShape != nil && len(outShape) != n:
		return g, nil, fmt.Errorf("output_shape %v for %d spatial axes", a.Ints("output_shape", nil), n)
	case mode != "NOTSET" && mode != "VALID" && mode != "SAME_UPPER" && mode != "SAME_LOWER" && mode != "":
		return g, nil, fmt.Errorf("auto_pad %q", mode)
	}
	out := make([]int, n)
	for i := 0; i < n; i++ {
		g.s[i], g.d[i] = 1, 1
		if i < len(strides) {
			g.s[i] = int(strides[i])
		}
		if i < len(dil) {
			g.d[i] = int(dil[i])
		}
		op := 0
		if i < len(outPad) {
			op = int(outPad[i])
		}
		full := g.s[i]*(in[i]-1) + op + (k[i]-1)*g.d[i] + 1
		want := -1
		switch {
		case outShape != nil:
			want = int(outShape[i])
		case mode == "SAME_UPPER" || mode == "SAME_LOWER":
			want = in[i] * g.s[i]
		}
		switch {
		case want >= 0:
			total := full - want
			half := floorDiv2(total)
			g.pb[i] = total - half
			if mode == "SAME_UPPER" {
				g.pb[i] = half
			}
			out[i] = want
		case mode != "VALID" && len(pads) == 2*n:
			g.pb[i] = int(pads[i])
			out[i] = full - int(pads[i]) - int(pads[n+i])
		default:
			out[i] = full
		}
	}
	return g, out, nil
}

// floorDiv2 is x // 2 rounding toward -inf.
func floorDiv2(x int) int {
	if x < 0 {
		return -((-x + 1) / 2)
	}
	return x / 2
}

// Y = convtranspose(X, W) + B, Y[o] += X[i] W[k] at o = i*s - pb + k*d:
// dX = conv(dY, W) with the same strides, dilations, begin pads and groups
// (end pads chosen to give X's size; dY is cropped where the pads would be
// negative); dW[c,m] = Σ_n dY[n,m] ⋆ X[n,c] (per group); dB = Σ dY.
func gradConvTranspose(g *GradContext) []*Tensor {
	x, w, dy := g.In[0], g.In[1], g.D(0)
	group := int(g.Attrs().Int("group", 1))
	in := x.Shape()[2:]
	geo, _, err := convTransposeGeom(g.Attrs(), in, w.Shape()[2:])
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("ConvTranspose gradient: %w", err)})
	}
	out := dy.Shape()[2:]
	n := len(in)
	starts, ends, axes := make([]int, n), make([]int, n), make([]int, n)
	crop := false
	for i := 0; i < n; i++ {
		span := (in[i]-1)*geo.s[i] + (geo.k[i]-1)*geo.d[i] + 1
		pe := span - geo.pb[i] - out[i]
		starts[i], ends[i], axes[i] = 0, out[i], i+2
		if geo.pb[i] < 0 {
			starts[i], geo.pb[i], crop = -geo.pb[i], 0, true
		}
		if pe < 0 {
			ends[i], pe, crop = out[i]+pe, 0, true
		}
		geo.pe[i] = pe
	}
	if crop {
		dy = Slice(dy, starts, ends, axes)
	}
	pads := make([]int64, 2*n)
	for i := 0; i < n; i++ {
		pads[i], pads[n+i] = int64(geo.pb[i]), int64(geo.pe[i])
	}
	attrs := ir.Attrs{ir.IntsAttr("strides", ints64(geo.s)...), ir.IntsAttr("dilations", ints64(geo.d)...),
		ir.IntsAttr("pads", pads...), ir.IntAttr("group", int64(group))}
	res := make([]*Tensor, len(g.In))
	res[0] = op1("Conv", attrs, dy, w)
	res[1] = groupedWeightGrad(dy, x, geo, group)
	if len(g.In) > 2 && g.In[2] != nil {
		res[2] = ReduceSum(g.D(0), spatialAxes(g.D(0), true), false)
	}
	return res
}

// groupedWeightGrad is dW of Y = conv(X, W) with window geo and group
// groups, as one Conv for all groups and the whole batch: with X viewed as
// (C/group, group·N, ...) and dY as (O, N, ...), a grouped Conv whose stride
// is the forward dilation and whose dilation is the forward stride gives
// dW[o,c] = Σ_n X[n,c] ⋆ dY[n,o], transposed from (C/group, O, k...).
func groupedWeightGrad(x, dy *Tensor, geo geom, group int) *Tensor {
	n, c := x.Dim(0), x.Dim(1)
	sp := x.Shape()[2:]
	r := len(sp)
	perm := []int{2, 1, 0}
	swap := []int{1, 0}
	axes := make([]int, r)
	for i := 0; i < r; i++ {
		perm = append(perm, i+3)
		swap = append(swap, i+2)
		axes[i] = i + 2
	}
	xg := Reshape(x, append([]int{n, group, c / group}, sp...)...)
	xg = Reshape(Transpose(xg, perm...), append([]int{c / group, group * n}, sp...)...)
	pads := make([]int64, 2*r)
	for i := 0; i < r; i++ {
		pads[i], pads[r+i] = int64(geo.pb[i]), int64(geo.pe[i])
	}
	attrs := ir.Attrs{ir.IntsAttr("strides", ints64(geo.d)...), ir.IntsAttr("dilations", ints64(geo.s)...),
		ir.IntsAttr("pads", pads...), ir.IntAttr("group", int64(group))}
	dw := op1("Conv", attrs, xg, Transpose(dy, swap...))
	if !slices.Equal(dw.Shape()[2:], geo.k) {
		dw = Slice(dw, make([]int, r), geo.k, axes)
	}
	return Transpose(dw, swap...)
}

// spatialAxes lists the axes of x from 2 on, with the batch axis 0 first
// when batch is set.
func spatialAxes(x *Tensor, batch bool) []int64 {
	var axes []int64
	if batch {
		axes = append(axes, 0)
	}
	for i := 2; i < x.Rank(); i++ {
		axes = append(axes, int64(i))
	}
	return axes
}

// lpExponent reads p (a float in LpPool-1 and GlobalLpPool-1, an int since).
func lpExponent(a ir.Attrs) float64 {
	if at := a.Find("p"); at != nil {
		if at.Type == ir.AttrFloat {
			return float64(at.Float)
		}
		return float64(at.Int)
	}
	return 2
}

// lpFactors returns d|x|^p/dx / p = sign(x)|x|^(p-1), and dy / y^(p-1)
// (y == 0 counts as 1 there: every x of such a window is 0, so its factor is
// 0 for p > 1, and y^0 = 1 for p = 1).
func lpFactors(x, y, dy *Tensor, p float64) (fx, scaled *Tensor) {
	switch p {
	case 1:
		return Sign(x), dy
	case 2:
		fx = x
	default:
		fx = Mul(Sign(x), Pow(Abs(x), ScalarLike(x, p-1)))
	}
	zero := Equal(y, ScalarLike(y, 0))
	safe := Where(zero, OnesLike(y), y)
	if p == 2 {
		return fx, Div(dy, safe)
	}
	return fx, Div(dy, Pow(safe, ScalarLike(y, p-1)))
}

// LpPool: y = (Σ_window |x|^p)^(1/p), so
// dx = sign(x)|x|^(p-1) Σ_{windows ∋ x} dy / y^(p-1); the window sum is a
// depthwise ConvTranspose with a kernel of ones.
func gradLpPool(g *GradContext) []*Tensor {
	x, y, dy := g.In[0], g.Out[0], g.D(0)
	a := g.Attrs()
	k := make([]int, 0, x.Rank()-2)
	for _, v := range a.Ints("kernel_shape", nil) {
		k = append(k, int(v))
	}
	spatial := x.Shape()[2:]
	geo, err := resolveGeom(a, spatial, k)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("LpPool gradient: %w", err)})
	}
	fx, scaled := lpFactors(x, y, dy, lpExponent(a))
	c := x.Dim(1)
	kernel := Full(x, x.DType(), 1, append([]int{c, 1}, k...)...)
	spread := op1("ConvTranspose", geo.transposeAttrs(spatial, dy.Shape()[2:], c), scaled, kernel)
	return []*Tensor{Mul(fx, spread)}
}

// GlobalLpPool: y = (Σ_spatial |x|^p)^(1/p), dx = sign(x)|x|^(p-1) dy / y^(p-1).
func gradGlobalLpPool(g *GradContext) []*Tensor {
	x := g.In[0]
	fx, scaled := lpFactors(x, g.Out[0], g.D(0), lpExponent(g.Attrs()))
	return []*Tensor{Mul(fx, scaled)}
}

// MaxUnpool: Y.flat[I[j]] = X[j] in the block the attributes infer
// ((in-1)*stride - pads + kernel per axis), which output_shape may extend
// with zeros at the end; so dX[j] = dY.flat[I[j]] over that block (as
// PyTorch's max_unpool does, indices written twice pass dY to both).
func gradMaxUnpool(g *GradContext) []*Tensor {
	x, idx, dy := g.In[0], g.In[1], g.D(0)
	a := g.Attrs()
	k, st, pads := a.Ints("kernel_shape", nil), a.Ints("strides", nil), a.Ints("pads", nil)
	sp := x.Shape()[2:]
	n := len(sp)
	starts, ends, axes := make([]int, n), make([]int, n), make([]int, n)
	if len(k) != n {
		panic(&OpError{Err: fmt.Errorf("MaxUnpool gradient: kernel_shape %v for input %v", k, x.Shape())})
	}
	crop := false
	for i := 0; i < n; i++ {
		s := 1
		if i < len(st) {
			s = int(st[i])
		}
		d := (sp[i]-1)*s + int(k[i])
		if len(pads) == 2*n {
			d -= int(pads[i] + pads[n+i])
		}
		ends[i], axes[i] = d, i+2
		crop = crop || d != dy.Dim(i+2)
	}
	if crop {
		dy = Slice(dy, starts, ends, axes)
	}
	return []*Tensor{Gather(Reshape(dy, -1), idx, 0), nil, nil}
}
