package eager

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

// Gradient rules of the resampling ops: Resize, Upsample, GridSample,
// AffineGrid and Col2Im.
//
// Resize and Upsample are linear in X. Nearest mode only copies elements, so
// it takes the index-map rule of the movement ops. Linear and cubic modes
// (antialiased or not) are separable: Y = X ×₀ M₀ ×₁ M₁ ... with one [out,
// in] interpolation matrix M_a per axis, so dX = dY ×₀ M₀ᵀ ×₁ M₁ᵀ .... Each
// M_a is built by running the op itself on an identity matrix: a rank-2
// tensor I[n, n] resized along axis 1 only, with axis a's own geometry
// (input length, scale or size, roi, coordinate mode, cubic coefficient,
// exclude_outside, antialias), gives Mᵀ[n, out]. The matrices thus follow
// whatever backend runs the op, and the rule stays made of eager ops (the
// only host reads are the small roi/scales/sizes inputs). The constant
// extrapolation value of tf_crop_and_resize is not part of the linear map:
// the identity runs use 0.

func init() {
	RegisterGradient("", "Resize", gradResize)
	RegisterGradient("", "Upsample", gradResize)
	RegisterGradient("", "GridSample", gradGridSample)
	RegisterGradient("", "AffineGrid", gradAffineGrid)
	RegisterGradient("", "Col2Im", gradCol2Im)
}

// Resize/Upsample: dX = Lᵀ dY for the linear map L of the op (roi, scales
// and sizes are not differentiable).
func gradResize(g *GradContext) []*Tensor {
	out := make([]*Tensor, len(g.In))
	if g.Attrs().Str("mode", "nearest") == "nearest" {
		spec := *g.Spec
		if spec.Op == "Resize" && spec.Version >= 11 {
			// Extrapolated positions must read as "no source" in the index map.
			spec.Attrs = spec.Attrs.With(ir.FloatAttr("extrapolation_value", 0))
		}
		ctx := *g
		ctx.Spec = &spec
		out[0] = gradByIndexMap(&ctx)[0]
		return out
	}
	geo := newResizeGeom(g)
	d := g.D(0)
	for a := range geo.in {
		if geo.identity(a) {
			continue
		}
		var mt *Tensor
		NoGrad(func() { mt = geo.basis(a) })
		d = matMulAxis(d, a, Transpose(mt))
	}
	out[0] = d
	return out
}

// matMulAxis contracts axis a of d (length m) with m[m, n]: the result has
// length n on axis a.
func matMulAxis(d *Tensor, a int, m *Tensor) *Tensor {
	r := d.Rank()
	if a == r-1 {
		return MatMul(d, m)
	}
	perm := make([]int, 0, r)
	for i := 0; i < r; i++ {
		if i != a {
			perm = append(perm, i)
		}
	}
	perm = append(perm, a)
	inv := make([]int, r)
	for i, p := range perm {
		inv[p] = i
	}
	return Transpose(MatMul(Transpose(d, perm...), m), inv...)
}

// resizeGeom is the per-axis geometry of one recorded Resize/Upsample, as
// given to the op (full rank: axes not listed in the axes attribute keep
// scale 1, their size and roi [0, 1]).
type resizeGeom struct {
	g       *GradContext
	in, out []int
	legacy  bool      // Upsample and Resize-10: scales only
	scales  []float32 // nil when sizes were given
	sizes   []int64   // nil when scales were given
	roi     []float64 // [starts..., ends...], nil unless tf_crop_and_resize
	policy  string    // keep_aspect_ratio_policy with sizes
	inPol   []bool    // axes the policy spans
	minAxis int       // the axis whose size ratio sets the policy's scale
}

func newResizeGeom(g *GradContext) *resizeGeom {
	x := g.In[0]
	r := x.Rank()
	geo := &resizeGeom{g: g, in: x.Shape(), out: g.Out[0].Shape(), policy: "stretch", minAxis: -1}
	v := g.Spec.Version
	if g.Spec.Op == "Upsample" || v < 11 {
		geo.legacy = true
		var s []float32
		if g.Spec.Op == "Upsample" && v < 9 {
			s = g.Attrs().Floats("scales", nil)
		} else {
			s = hostFloat32s(g.In[1])
		}
		geo.scales = s
		return geo
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if as := g.Attrs().Ints("axes", nil); as != nil {
		axes = axes[:len(as)]
		for i, a := range as {
			axes[i] = int(a)
			if a < 0 {
				axes[i] += r
			}
		}
	}
	present := func(i int) *Tensor {
		if i < len(g.In) && g.In[i] != nil && g.In[i].Len() > 0 {
			return g.In[i]
		}
		return nil
	}
	if roi := present(1); roi != nil && g.Attrs().Str("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize" {
		rv := roi.Floats64()
		geo.roi = make([]float64, 2*r)
		for a := 0; a < r; a++ {
			geo.roi[r+a] = 1
		}
		for i, a := range axes {
			geo.roi[a], geo.roi[r+a] = rv[i], rv[len(axes)+i]
		}
	}
	if sc := present(2); sc != nil {
		geo.scales = make([]float32, r)
		for a := range geo.scales {
			geo.scales[a] = 1
		}
		for i, s := range hostFloat32s(sc) {
			geo.scales[axes[i]] = s
		}
		return geo
	}
	sz, err := g.In[3].MustHost().Int64s()
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("Resize gradient: sizes: %w", err)})
	}
	geo.sizes = make([]int64, r)
	for a := range geo.sizes {
		geo.sizes[a] = int64(geo.in[a])
	}
	for i, s := range sz {
		geo.sizes[axes[i]] = s
	}
	if p := g.Attrs().Str("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
		geo.policy, geo.inPol = p, make([]bool, r)
		best := 0.0
		for _, a := range axes {
			geo.inPol[a] = true
			ratio := float64(geo.sizes[a]) / float64(geo.in[a])
			if geo.minAxis < 0 || (p == "not_larger" && ratio < best) || (p == "not_smaller" && ratio > best) {
				geo.minAxis, best = a, ratio
			}
		}
	}
	return geo
}

func hostFloat32s(t *Tensor) []float32 {
	v := t.Floats64()
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}

// identity reports whether axis a is certainly left as it is by the op.
func (geo *resizeGeom) identity(a int) bool {
	if geo.in[a] != geo.out[a] || geo.roi != nil || (geo.inPol != nil && geo.inPol[a]) {
		return false
	}
	return geo.scales == nil || geo.scales[a] == 1
}

// basis runs the op on an identity matrix resized along axis 1 with the
// geometry of axis a, and returns Mᵀ[in, out] of axis a.
func (geo *resizeGeom) basis(a int) *Tensor {
	g, x := geo.g, geo.g.In[0]
	n := geo.in[a]
	eye := ir.Zeros(ir.Float64, n, n)
	for i := 0; i < n; i++ {
		eye.Data.([]float64)[i*n+i] = 1
	}
	attrs := ir.Attrs{}
	for _, at := range g.Attrs() {
		if at.Name != "axes" && at.Name != "keep_aspect_ratio_policy" && at.Name != "scales" {
			attrs = append(attrs, at)
		}
	}
	k := -1 // the axis whose size ratio sets the policy's scale, when not a
	if geo.policy != "stretch" && geo.minAxis != a {
		k = geo.minAxis
		eye = ir.Zeros(ir.Float64, n, n, geo.in[k])
		for i := 0; i < n; i++ {
			for j := 0; j < geo.in[k]; j++ {
				eye.Data.([]float64)[(i*n+i)*geo.in[k]+j] = 1
			}
		}
	}
	ins := []*Tensor{Cast(mustFromHost(x, eye), x.DType())}
	switch {
	case geo.legacy && g.Spec.Op == "Upsample" && g.Spec.Version < 9:
		attrs = attrs.With(ir.FloatsAttr("scales", 1, geo.scales[a]))
	case geo.legacy:
		ins = append(ins, mustFromHost(x, ir.FromSlice([]float32{1, geo.scales[a]}, 2)))
	default:
		attrs = attrs.With(ir.FloatAttr("extrapolation_value", 0))
		ins = append(ins, geo.basisInputs(a, k, &attrs)...)
	}
	outs, err := CallDomain(g.Spec.Domain, g.Spec.Op, g.Spec.Version, attrs, 1, ins...)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("%s gradient: interpolation matrix of axis %d: %w", g.Spec.Op, a, err)})
	}
	y := outs[0]
	if k >= 0 {
		// The extra axis carries ones, which every row of its own matrix
		// sums to 1: its first entry leaves axis a's matrix.
		y = Reshape(Slice(y, []int{0}, []int{1}, []int{2}), n, geo.out[a])
	}
	return y
}

// basisInputs are roi, scales and sizes (opset 11+) for the identity run of
// axis a (k: the extra policy axis or -1); attrs gets the policy back.
func (geo *resizeGeom) basisInputs(a, k int, attrs *ir.Attrs) []*Tensor {
	g, x := geo.g, geo.g.In[0]
	empty := mustFromHost(x, ir.FromSlice([]float32{}, 0))
	var roi, scales, sizes *Tensor
	if geo.roi != nil {
		r := len(geo.in)
		v := []float64{0, geo.roi[a], 1, geo.roi[r+a]} // axes 0 and 1
		switch {
		case k >= 0: // axes attribute [1, 2]
			v = []float64{geo.roi[a], 0, geo.roi[r+a], 1}
		case geo.scales == nil && geo.policy != "stretch": // axes [1]
			v = []float64{geo.roi[a], geo.roi[r+a]}
		}
		roi = Cast(mustFromHost(x, ir.FromSlice(v, len(v))), g.In[1].DType())
	}
	switch {
	case geo.scales != nil:
		scales = mustFromHost(x, ir.FromSlice([]float32{1, geo.scales[a]}, 2))
	case geo.policy == "stretch":
		sizes = Int64s(x, int64(geo.in[a]), int64(geo.out[a]))
	default:
		*attrs = attrs.With(ir.StringAttr("keep_aspect_ratio_policy", geo.policy))
		if k < 0 {
			*attrs = attrs.With(ir.IntsAttr("axes", 1))
			sizes = Int64s(x, geo.sizes[a])
		} else {
			*attrs = attrs.With(ir.IntsAttr("axes", 1, 2))
			sizes = Int64s(x, geo.sizes[a], geo.sizes[k])
		}
	}
	if g.Spec.Version < 13 {
		// Opsets 11 and 12 want roi and scales present, empty when unused.
		if roi == nil {
			roi = empty
		}
		if scales == nil {
			scales = empty
		}
	}
	ins := []*Tensor{roi, scales}
	if sizes != nil {
		ins = append(ins, sizes)
	}
	return ins
}

func mustFromHost(like *Tensor, h *ir.Tensor) *Tensor {
	t, err := FromHost(like.dev, h)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return t
}

// GridSample: Y = Σ_taps w(grid)·X[idx(grid)], so dX adds w·dY back at the
// taps and dgrid = Σ dY·X[idx]·∂w/∂grid. The rule rebuilds the op from eager
// ops (gridSampleOps: the op's own taps) under a tape of its own and returns
// that tape's gradient. Nearest taps do not move with the grid: its
// gradient is zero there. (ONNX tags grid non-differentiable; spatial
// transformers need its gradient, so it is given.)
func gradGridSample(g *GradContext) []*Tensor {
	x, grid := g.In[0], g.In[1]
	tape := NewTape()
	defer tape.Stop()
	y := gridSampleOps(x, grid, g.Attrs())
	return tape.GradientWith(y, g.D(0), x, grid)
}

// gridTap is one tap of one axis: a float index in range and its weight
// (zero where zeros padding reads outside).
type gridTap struct{ idx, w *Tensor }

// gridSampleOps is GridSample (X [N, C, D...], grid [N, O..., r]) written
// with eager ops.
func gridSampleOps(x, grid *Tensor, attrs ir.Attrs) *Tensor {
	mode := attrs.Str("mode", "linear")
	switch mode {
	case "bilinear":
		mode = "linear"
	case "bicubic":
		mode = "cubic"
	}
	padding, align := attrs.Str("padding_mode", "zeros"), attrs.Int("align_corners", 0) != 0
	n, c, dims := x.Dim(0), x.Dim(1), x.Shape()[2:]
	r := len(dims)
	outSp := grid.Shape()[1 : r+1]
	p, vol := ir.Size(outSp), ir.Size(dims)
	gf := Reshape(grid, n, p, r)
	taps := make([][]gridTap, r)
	for i := range taps {
		// grid's last axis lists coordinates in reverse axis order (x first).
		coord := Reshape(Slice(gf, []int{r - 1 - i}, []int{r - i}, []int{2}), n, p)
		taps[i] = gridAxisTaps(coord, dims[i], mode, padding, align)
	}
	xf := Reshape(x, n, c, vol)
	var y *Tensor
	pick := make([]int, r)
	for {
		var idx, w *Tensor
		stride := vol
		for i, t := range taps {
			stride /= dims[i]
			at := Mul(t[pick[i]].idx, ScalarLike(t[pick[i]].idx, float64(stride)))
			if idx == nil {
				idx, w = at, t[pick[i]].w
			} else {
				idx, w = Add(idx, at), Mul(w, t[pick[i]].w)
			}
		}
		flat := Expand(Unsqueeze(Cast(idx, ir.Int64), 1), n, c, p)
		term := Mul(op1("GatherElements", ir.Attrs{ir.IntAttr("axis", 2)}, xf, flat), Unsqueeze(Cast(w, x.DType()), 1))
		if y == nil {
			y = term
		} else {
			y = Add(y, term)
		}
		i := r - 1
		for ; i >= 0; i-- {
			if pick[i]++; pick[i] < len(taps[i]) {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			return Reshape(y, append([]int{n, c}, outSp...)...)
		}
	}
}

// gridAxisTaps maps normalized coordinates onto an axis of length d and
// returns its taps, as the op does: unnormalize, round (nearest), pad the
// coordinate when it falls outside, then pad each tap index.
func gridAxisTaps(coord *Tensor, d int, mode, padding string, align bool) []gridTap {
	k := func(v float64) *Tensor { return ScalarLike(coord, v) }
	lo, hi := -0.5, float64(d)-0.5
	var x *Tensor
	if align {
		lo, hi = 0, float64(d-1)
		x = Mul(Div(Add(coord, k(1)), k(2)), k(float64(d-1)))
	} else {
		x = Div(Sub(Mul(Add(coord, k(1)), k(float64(d))), k(1)), k(2))
	}
	if mode == "nearest" {
		x = op1("Round", nil, x)
	}
	outside := op1("Or", nil, Less(x, k(lo)), Greater(x, k(hi)))
	switch padding {
	case "border":
		x = Where(outside, Min(Max(x, k(0)), k(float64(d-1))), x)
	case "reflection":
		x = Where(outside, reflectOps(x, lo, hi), x)
	}
	x0 := Floor(x)
	t := Sub(x, x0)
	var offs []float64
	var ws []*Tensor
	switch mode {
	case "nearest":
		offs, ws = []float64{0}, []*Tensor{OnesLike(x)}
	case "linear":
		offs, ws = []float64{0, 1}, []*Tensor{Sub(k(1), t), t}
	default: // cubic, a = -0.75: taps x0-1 .. x0+2 at distances t+1, t, 1-t, 2-t
		const a = -0.75
		near := func(s *Tensor) *Tensor { // |s| <= 1: ((a+2)s - (a+3))s² + 1
			return Add(Mul(Sub(Mul(k(a+2), s), k(a+3)), Mul(s, s)), k(1))
		}
		far := func(s *Tensor) *Tensor { // 1 < |s| < 2: ((as - 5a)s + 8a)s - 4a
			return Sub(Mul(Add(Mul(Sub(Mul(k(a), s), k(5*a)), s), k(8*a)), s), k(4*a))
		}
		one := k(1)
		offs = []float64{-1, 0, 1, 2}
		ws = []*Tensor{far(Add(t, one)), near(t), near(Sub(one, t)), far(Sub(k(2), t))}
	}
	taps := make([]gridTap, len(offs))
	for j, o := range offs {
		idx := Add(x0, k(o))
		w := ws[j]
		switch padding {
		case "zeros":
			in := And(GreaterOrEqual(idx, k(0)), LessOrEqual(idx, k(float64(d-1))))
			w = Mul(w, Cast(in, w.DType()))
		case "reflection":
			idx = Floor(reflectOps(idx, lo, hi))
		}
		taps[j] = gridTap{idx: Min(Max(idx, k(0)), k(float64(d-1))), w: w}
	}
	return taps
}

// reflectOps folds x into [lo, hi] by reflecting at the borders.
func reflectOps(x *Tensor, lo, hi float64) *Tensor {
	k := func(v float64) *Tensor { return ScalarLike(x, v) }
	rng := hi - lo
	if rng <= 0 {
		return Full(x, x.DType(), lo, x.Shape()...)
	}
	below := Less(x, k(lo))
	dx := Where(below, Sub(k(lo), x), Sub(x, k(hi)))
	nf := Floor(Div(dx, k(rng)))
	rem := Sub(dx, Mul(nf, k(rng)))
	odd := Greater(Sub(nf, Mul(k(2), Floor(Div(nf, k(2))))), k(0.5))
	// Below lo: an even fold count restarts from lo; above hi: from hi.
	res := Where(op1("Xor", nil, below, odd), Add(k(lo), rem), Sub(k(hi), rem))
	return Where(op1("Or", nil, below, Greater(x, k(hi))), res, x)
}

// AffineGrid: grid[b, q, :] = θ[b]·base[q] with base[q] = (x, y[, z], 1), so
// dθ[b] = Σ_q dgrid[b, q, :] ⊗ base[q]. base comes from the op itself: a
// θ whose first row is the unit vector e_k yields base column k.
func gradAffineGrid(g *GradContext) []*Tensor {
	theta := g.In[0]
	r := theta.Dim(1)
	size, err := g.In[1].MustHost().Int64s()
	if err != nil || len(size) != r+2 {
		panic(&OpError{Err: fmt.Errorf("AffineGrid gradient: size %v for theta %v", size, theta.Shape())})
	}
	var base *Tensor // [r+1, P]
	NoGrad(func() {
		unit := ir.Zeros(ir.Float64, r+1, r, r+1)
		for k := 0; k <= r; k++ {
			unit.Data.([]float64)[k*r*(r+1)+k] = 1
		}
		sz := append([]int64{int64(r + 1)}, size[1:]...)
		th := Cast(mustFromHost(theta, unit), theta.DType())
		outs, err := CallDomain(g.Spec.Domain, "AffineGrid", g.Spec.Version, g.Attrs(), 1, th, Int64s(theta, sz...))
		if err != nil {
			panic(&OpError{Err: fmt.Errorf("AffineGrid gradient: %w", err)})
		}
		base = Reshape(Slice(outs[0], []int{0}, []int{1}, []int{r + 1}), r+1, -1)
	})
	n := theta.Dim(0)
	dg := Reshape(g.D(0), n, -1, r) // [N, P, r]
	return []*Tensor{MatMul(Transpose(dg, 0, 2, 1), Transpose(base)), nil}
}

// Col2Im adds each element of column (c, k, l) into one image position (or
// drops it in the padding): dX = dY gathered at those positions (im2col of
// dY). The position table depends only on shapes and attributes.
func gradCol2Im(g *GradContext) []*Tensor {
	x := g.In[0]
	img, err1 := g.In[1].MustHost().Int64s()
	blk, err2 := g.In[2].MustHost().Int64s()
	if err1 != nil || err2 != nil || len(img) != len(blk) {
		panic(&OpError{Err: fmt.Errorf("Col2Im gradient: image_shape %v block_shape %v", img, blk)})
	}
	pos := col2ImPositions(img, blk, g.Attrs())
	n, c, l := x.Dim(0), g.Out[0].Dim(1), x.Dim(2)
	vol := int(ir.Size(g.Out[0].Shape()[2:]))
	dy := Reshape(g.D(0), n, c, vol)
	dy = Concat(2, Full(dy, dy.DType(), 0, n, c, 1), dy) // position 0 reads zero
	cols := Gather(dy, Int64s(x, pos...), 2)             // [N, C, K*L]
	return []*Tensor{Reshape(cols, n, x.Dim(1), l), nil, nil}
}

// col2ImPositions lists, for block offset k and block l (k major), 1 + the
// flat image position the column element adds into, or 0 in the padding.
func col2ImPositions(img, blk []int64, attrs ir.Attrs) []int64 {
	r := len(img)
	dil, pads, strides := attrs.Ints("dilations", nil), attrs.Ints("pads", nil), attrs.Ints("strides", nil)
	at := func(v []int64, i int, def int64) int64 {
		if v == nil {
			return def
		}
		return v[i]
	}
	nb := make([]int64, r)
	nk, nl := int64(1), int64(1)
	for i := 0; i < r; i++ {
		span := at(dil, i, 1)*(blk[i]-1) + 1
		nb[i] = max(0, (img[i]+at(pads, i, 0)+at(pads, r+i, 0)-span)/at(strides, i, 1)+1)
		nk, nl = nk*blk[i], nl*nb[i]
	}
	pos := make([]int64, 0, nk*nl)
	for k := int64(0); k < nk; k++ {
		for l := int64(0); l < nl; l++ {
			o, kr, lr := int64(0), k, l
			step := int64(1)
			for i := r - 1; i >= 0 && o >= 0; i-- {
				kk, bb := kr%blk[i], lr%nb[i]
				kr, lr = kr/blk[i], lr/nb[i]
				q := bb*at(strides, i, 1) - at(pads, i, 0) + kk*at(dil, i, 1)
				if q < 0 || q >= img[i] {
					o = -1
					break
				}
				o += q * step
				step *= img[i]
			}
			pos = append(pos, o+1)
		}
	}
	return pos
}
