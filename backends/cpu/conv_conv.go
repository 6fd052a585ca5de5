package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends/cpu/internal/gemm"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("Conv", 1, prepConv)
}

// convGemmFn computes C = op(A)×op(B), overwriting C (row-major, leading
// dimensions lda, ldb, ldc).
type convGemmFn[T any] func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int)

func convSgemmFn(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	convSgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

func convGemmFnT[T convNum](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	convGemmT(transA, transB, m, n, k, a, lda, b, ldb, false, c, ldc)
}

// convProblem is one convolution: X (N, C, in...), W (M, C/group, k...),
// Y (N, M, out...).
type convProblem struct {
	n, c, m, group, cg, mg int
	geo                    *convGeom
	inSize, outSize, kSize int
	pad                    *convDWPlan // padGeom's cache
	padDone                bool
	// epi, when set (FusedConv), finishes each block of the float32 output
	// while it is in cache: every float32 path below calls it once per
	// output element (conv_epilogue.go).
	epi *convEpi
	// wt, when set, is the weights tensor (input 1) itself, which lets
	// float32 paths reuse prepared forms of it (prepared.go).
	wt *ir.Tensor
}

// convPlan checks X, W and the optional bias shapes of Conv-like ops.
func convPlan(win convWin, group int, xs, ws []int, bias *ir.Tensor) (*convProblem, error) {
	op := win.op
	n, c, in, err := convSplitNC(op, 0, xs)
	if err != nil {
		return nil, err
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("%w: %s: weight (input 1) shape %v does not match input shape %v", errShape, op, ws, xs)
	}
	if group < 1 || c%group != 0 || ws[0]%group != 0 {
		return nil, fmt.Errorf("%w: %s: group %d must divide input channels %d and output channels %d", errAttr, op, group, c, ws[0])
	}
	p := &convProblem{n: n, c: c, m: ws[0], group: group, cg: c / group, mg: ws[0] / group}
	if ws[1] != p.cg {
		return nil, fmt.Errorf("%w: %s: weight (input 1) shape %v wants %d channels per group, input %v has %d",
			errShape, op, ws, ws[1], xs, p.cg)
	}
	if p.geo, err = win.resolve(in, ws[2:]); err != nil {
		return nil, err
	}
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != p.m) {
		return nil, fmt.Errorf("%w: %s: bias (input 2) shape %v, want [%d]", errShape, op, bias.Shape, p.m)
	}
	if _, err := ir.NumElements(append([]int{n, p.m}, p.geo.out...)); err != nil {
		return nil, fmt.Errorf("%s: output: %w", op, err)
	}
	p.inSize, p.outSize, p.kSize = ir.Size(in), ir.Size(p.geo.out), ir.Size(p.geo.kernel)
	return p, nil
}

func (p *convProblem) outShape() []int { return append([]int{p.n, p.m}, p.geo.out...) }

// pointwise: 1×…×1 kernel, unit strides, no padding: X is already the im2col matrix.
func (p *convProblem) pointwise() bool {
	g := p.geo
	for i := range g.in {
		if g.kernel[i] != 1 || g.strides[i] != 1 || g.padBegin[i] != 0 || g.padEnd[i] != 0 {
			return false
		}
	}
	return true
}

// implicit: a 1-D or 2-D kernel that is not pointwise, which float32
// convolutions run as implicit GEMM (conv_pack.go) when packing is cheap:
// over padded planes (conv_padpack.go), or when the GEMM runs on one goroutine
// (single), or when the output plane has at least convImplicitMin
// positions. Otherwise a GEMM over several threads is split by rows and
// every thread would pack all of B with per-row bounds: one explicit
// im2col then costs less (BenchmarkConvImplicit).
func (p *convProblem) implicit(single bool) bool {
	return convImplicit && len(p.geo.in) <= 2 && !p.pointwise() &&
		(single || p.outSize >= convImplicitMin || p.padGeom() != nil)
}

// convImplicitMin is the smallest output plane run as implicit GEMM.
var convImplicitMin = 256

// depthwise: one input channel per group, 1-D or 2-D: a direct kernel wins.
func (p *convProblem) depthwise() bool {
	return p.cg == 1 && p.group > 1 && len(p.geo.in) <= 2
}

// convForward computes y (zeroed, N×M×out) = conv(x, w) + b (b may be nil).
// Depthwise problems run a direct kernel; the rest im2col and GEMM per image
// and group, images spread over the workers when there are enough of them
// or each product is too small to split well.
func convForward[T convNum](p *convProblem, x, w, b, y []T, gemm convGemmFn[T]) {
	if p.outSize == 0 || p.n == 0 || p.m == 0 {
		return
	}
	if xf, ok := any(x).([]float32); ok && p.direct3x3() { // before Winograd: faster on these few channels
		convDirect3x3(p, xf, any(w).([]float32), any(b).([]float32), any(y).([]float32))
		return
	}
	if xf, ok := any(x).([]float32); ok && p.convWinogradOK() &&
		convWinograd(p, xf, any(w).([]float32), any(b).([]float32), any(y).([]float32), winoEpilogueOf(p.epi)) {
		return
	}
	if xf, ok := any(x).([]float32); ok && p.wino2OK() &&
		convWinograd2(p, xf, any(w).([]float32), any(b).([]float32), any(y).([]float32)) {
		return
	}
	if p.depthwise() {
		if xf, ok := any(x).([]float32); ok {
			convDepthwiseF32(p, xf, any(w).([]float32), any(b).([]float32), any(y).([]float32))
			return
		}
		convDepthwise(p, x, w, y)
		convAddBias(y, b, p.n, p.m, p.outSize)
		return
	}
	if xf, ok := any(x).([]float32); ok {
		if d, iw := p.indirectWeightsOf(any(w).([]float32)); iw != nil {
			convForwardIndirect(p, d, iw, xf, any(b).([]float32), any(y).([]float32))
			return
		}
	}
	// (A single image's pointwise conv gains nothing from the wide path's
	// copies: the GEMM multiplies its planes as they lie.)
	if xf, ok := any(x).([]float32); ok && p.wide() && !(p.n == 1 && p.pointwise()) {
		yf := any(y).([]float32)
		convForwardWide(p, xf, any(w).([]float32), any(b).([]float32), yf)
		p.epi.apply(yf, 0)
		return
	}
	rows := p.cg * p.kSize
	if rows == 0 { // no input channels: the output is the bias
		convAddBias(y, b, p.n, p.m, p.outSize)
		if yf, ok := any(y).([]float32); ok {
			p.epi.apply(yf, 0)
		}
		return
	}
	out0 := p.geo.out[0]
	inner := p.outSize / out0
	chunk := min(out0, max(1, (1<<22)/max(1, rows*inner)))
	_, f32 := any(x).([]float32)
	work := p.m * p.outSize * rows
	nt := Threads()
	batch := p.n > 1 && nt > 1 && (p.n >= 2*nt || work < convBatchMin)
	colsLen := 0
	if !p.pointwise() && !(f32 && p.implicit(batch || nt == 1)) {
		colsLen = rows * chunk * inner
	}
	if batch {
		if f32 {
			p.padGeom() // cached on p before the per-image workers read it
		}
		serial := convSerialGemm(gemm)
		parallelFor(p.n, work, func(lo, hi int) {
			cols := convScratch[T](colsLen)
			defer convRelease(cols)
			for n := lo; n < hi; n++ {
				convImage(p, n, x, w, b, y, cols, chunk, serial, true)
			}
		})
		return
	}
	cols := convScratch[T](colsLen)
	defer convRelease(cols)
	for n := 0; n < p.n; n++ {
		convImage(p, n, x, w, b, y, cols, chunk, gemm, false)
	}
}

// convBatchMin is the multiply-adds per image below which a batch is
// spread over the workers image by image rather than splitting each GEMM.
const convBatchMin = 1 << 22

// convSerialGemm returns gemm on one goroutine, for per-image workers.
func convSerialGemm[T convNum](fn convGemmFn[T]) convGemmFn[T] {
	if f, ok := any(fn).(convGemmFn[float32]); ok {
		var serial convGemmFn[float32] = func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
			if m > 0 && n > 0 && k > 0 {
				gemm.SgemmThreads(1, transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
				return
			}
			f(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
		}
		return any(serial).(convGemmFn[T])
	}
	return fn
}

// convImage computes image n of convForward: per group, im2col in chunks of
// output rows (none for a pointwise kernel) and a GEMM, then the bias.
func convImage[T convNum](p *convProblem, n int, x, w, b, y, cols []T, chunk int, mm convGemmFn[T], serial bool) {
	rows := p.cg * p.kSize
	out0 := p.geo.out[0]
	inner := p.outSize / out0
	direct := p.pointwise()
	_, f32 := any(x).([]float32)
	for g := 0; g < p.group; g++ {
		xg := x[(n*p.c+g*p.cg)*p.inSize:]
		wg := w[g*p.mg*rows:]
		yoff := (n*p.m + g*p.mg) * p.outSize
		yg := y[yoff:]
		if f32 && (direct || p.implicit(serial || Threads() == 1)) {
			convFusedGemm(p, any(xg).([]float32), any(wg).([]float32), any(b).([]float32), any(yg).([]float32), g, yoff, serial)
			continue
		}
		if direct {
			mm(false, false, p.mg, p.outSize, p.cg, wg, p.cg, xg, p.inSize, yg, p.outSize)
			continue
		}
		for o0 := 0; o0 < out0; o0 += chunk {
			o1 := min(out0, o0+chunk)
			nc := (o1 - o0) * inner
			convIm2col(cols[:rows*nc], xg, p, o0, o1, serial)
			if f32 {
				convBiasGemm(p, any(cols).([]float32), nc, any(wg).([]float32), any(b).([]float32),
					any(yg[o0*inner:]).([]float32), g, serial)
				p.epi.applyRows(any(yg).([]float32), yoff, p.mg, p.outSize, o0*inner, o1*inner)
				continue
			}
			mm(false, false, p.mg, nc, rows, wg, rows, cols, nc, yg[o0*inner:], p.outSize)
		}
	}
	if !f32 {
		convAddBias(y[n*p.m*p.outSize:], b, 1, p.m, p.outSize)
	}
}

// convThreads is the GEMM's goroutine count: one for per-image workers.
func convThreads(serial bool) int {
	if serial {
		return 1
	}
	return Threads()
}

// convGroupBias is group g's slice of the bias (nil stays nil).
func convGroupBias(p *convProblem, b []float32, g int) []float32 {
	if b == nil {
		return nil
	}
	return b[g*p.mg:][:p.mg]
}

// convFusedGemm computes group g of one image in float32 with the bias
// added inside the GEMM: a pointwise kernel multiplies the input planes as
// they lie, other 1-D/2-D kernels with large outputs go through implicit
// GEMM. yg starts at element yoff of the output (for the epilogue).
func convFusedGemm(p *convProblem, xg, wg, b, yg []float32, g, yoff int, serial bool) {
	nt, bg := convThreads(serial), convGroupBias(p, b, g)
	if p.pointwise() {
		if convPointwiseTiles(p, xg, wg, bg, yg, yoff, nt) {
			return
		}
		if p.epi != nil {
			convPointwiseEpi(p, xg, wg, bg, yg, yoff, nt)
			return
		}
		gemm.SgemmBias(nt, p.mg, p.outSize, p.cg, 1, wg, p.cg, xg, p.inSize, bg, 0, yg, p.outSize)
		return
	}
	if p.subsampled() {
		convSubsampledEpi(p, xg, wg, bg, yg, yoff, nt)
		return
	}
	if p.padGeom() != nil {
		convPadGemmEpi(p, p.padGeom(), xg, wg, bg, yg, p.epi, yoff, nt)
		return
	}
	convImplicitGemm(p, xg, wg, bg, yg, nt)
	p.epi.applyRows(yg, yoff, p.mg, p.outSize, 0, p.outSize)
}

// convBiasGemm multiplies group g's weights by an explicit im2col chunk of
// nc columns into yg (row stride out), adding the bias.
func convBiasGemm(p *convProblem, cols []float32, nc int, wg, b, yg []float32, g int, serial bool) {
	rows := p.cg * p.kSize
	gemm.SgemmBias(convThreads(serial), p.mg, nc, rows, 1, wg, rows, cols, nc, convGroupBias(p, b, g), 0, yg, p.outSize)
}

// convIm2col fills cols (cg*kSize rows; one column per output position whose
// first spatial coordinate is in [o0,o1)) from the input planes of one group.
// serial keeps it on the calling goroutine.
func convIm2col[T any](cols, xg []T, p *convProblem, o0, o1 int, serial bool) {
	g := p.geo
	r := len(g.in)
	rows := p.cg * p.kSize
	nc := len(cols) / rows
	inSt := stridesOf(g.in)
	kSt := stridesOf(g.kernel)
	work := func(lo, hi int) {
		kidx := make([]int, r)
		oidx := make([]int, r-1)
		for row := lo; row < hi; row++ {
			c, kk := row/p.kSize, row%p.kSize
			for d := range kidx {
				kidx[d] = kk / kSt[d] % g.kernel[d]
			}
			plane := xg[c*p.inSize : (c+1)*p.inSize]
			convIm2colRow(cols[row*nc:(row+1)*nc], plane, g, kidx, oidx, inSt, o0, o1)
		}
	}
	if serial {
		work(0, rows)
		return
	}
	parallelFor(rows, nc, work)
}

// convIm2colRow writes one im2col row: the input value under kernel tap kidx
// for each output position (zero where the tap falls in the padding).
func convIm2colRow[T any](dst, plane []T, g *convGeom, kidx, oidx, inSt []int, o0, o1 int) {
	last := len(g.in) - 1
	la, lb := 0, g.out[last]
	if last == 0 {
		la, lb = o0, o1
	} else {
		clear(oidx)
		oidx[0] = o0
	}
	s := g.strides[last]
	off := kidx[last]*g.dilations[last] - g.padBegin[last]
	vlo, vhi := convValidRange(off, s, g.in[last], la, lb)
	n := lb - la
	for pos := 0; ; pos += n {
		base, ok := 0, true
		for d := 0; d < last; d++ {
			i := oidx[d]*g.strides[d] - g.padBegin[d] + kidx[d]*g.dilations[d]
			if i < 0 || i >= g.in[d] {
				ok = false
				break
			}
			base += i * inSt[d]
		}
		row := dst[pos : pos+n]
		if !ok || vlo >= vhi {
			clear(row)
		} else {
			clear(row[:vlo-la])
			clear(row[vhi-la:])
			src := base + vlo*s + off
			if s == 1 {
				copy(row[vlo-la:vhi-la], plane[src:src+vhi-vlo])
			} else {
				for j := vlo - la; j < vhi-la; j++ {
					row[j] = plane[src]
					src += s
				}
			}
		}
		if !convNextOuter(oidx, g.out, o1) {
			return
		}
	}
}

// convNextOuter advances the odometer idx over the leading output dims
// (dim 0 bounded by o1); false when it wraps.
func convNextOuter(idx, out []int, o1 int) bool {
	for d := len(idx) - 1; d >= 0; d-- {
		idx[d]++
		lim := out[d]
		if d == 0 {
			lim = o1
		}
		if idx[d] < lim {
			return true
		}
		idx[d] = 0
	}
	return false
}

// convDepthwise is the direct kernel for one input channel per group
// (1-D or 2-D): output channel m reads input channel m/mg.
func convDepthwise[T convNum](p *convProblem, x, w, y []T) {
	g := p.geo
	h, oh, kh, sh, dh, ph := 1, 1, 1, 1, 1, 0
	if len(g.in) == 2 {
		h, oh, kh, sh, dh, ph = g.in[0], g.out[0], g.kernel[0], g.strides[0], g.dilations[0], g.padBegin[0]
	}
	l := len(g.in) - 1
	wd, ow, kw, sw, dw, pw := g.in[l], g.out[l], g.kernel[l], g.strides[l], g.dilations[l], g.padBegin[l]
	parallelFor(p.n*p.m, oh*ow*kh*kw, func(lo, hi int) {
		for nm := lo; nm < hi; nm++ {
			n, m := nm/p.m, nm%p.m
			xp := x[(n*p.c+m/p.mg)*h*wd:]
			wp := w[m*kh*kw : (m+1)*kh*kw]
			yp := y[nm*oh*ow : (nm+1)*oh*ow]
			for o := 0; o < oh; o++ {
				yr := yp[o*ow : (o+1)*ow]
				for i := 0; i < kh; i++ {
					ih := o*sh - ph + i*dh
					if ih < 0 || ih >= h {
						continue
					}
					xr := xp[ih*wd : (ih+1)*wd]
					for j := 0; j < kw; j++ {
						wv := wp[i*kw+j]
						off := j*dw - pw
						a, b := convValidRange(off, sw, wd, 0, ow)
						if sw == 1 {
							src := xr[a+off : b+off]
							dst := yr[a:b]
							for t, v := range src {
								dst[t] += wv * v
							}
							continue
						}
						for q := a; q < b; q++ {
							yr[q] += wv * xr[q*sw+off]
						}
					}
				}
			}
		}
	})
}

// convAddBias adds b[m] to every output position of channel m (nothing
// when b is nil).
func convAddBias[T convNum](y, b []T, n, m, size int) {
	if b == nil {
		return
	}
	for i := 0; i < n*m; i++ {
		bv := b[i%m]
		row := y[i*size : (i+1)*size]
		for j := range row {
			row[j] += bv
		}
	}
}

// convConv is a prepared Conv.
type convConv struct {
	win   convWin
	group int
}

func prepConv(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("Conv", s.Attrs)
	if err != nil {
		return nil, err
	}
	c := convConv{win: win, group: int(s.Attrs.Int("group", 1))}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: Conv: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	switch dt {
	case ir.Float32:
		return convConvKernel(c, convSgemmFn), nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convConvKernel(c, convSgemmFn), dt, 0, 1, 2), nil
	case ir.Float64:
		return convConvKernel(c, convGemmFnT[float64]), nil
	}
	return nil, fmt.Errorf("%w: Conv: %v", errDType, dt)
}

// convConvKernel: X (N,C,D...) * W (M,C/group,k...) + B (M) -> Y (N,M,out...).
func convConvKernel[T convNum](c convConv, gemm convGemmFn[T]) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("Conv: %w", err)
		}
		var bias *ir.Tensor
		if len(in) > 2 {
			bias = in[2]
		}
		p, err := convPlan(c.win, c.group, in[0].Shape, in[1].Shape, bias)
		if err != nil {
			return nil, err
		}
		p.wt = in[1]
		out, err := convOut(p, in[0].DType)
		if err != nil {
			return nil, fmt.Errorf("Conv: %w", err)
		}
		var b []T
		if bias != nil {
			b = bias.Data.([]T)
		}
		convForward(p, in[0].Data.([]T), in[1].Data.([]T), b, out.Data.([]T), gemm)
		return one(out)
	}
}
