package cpu

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/dwconv"
	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/ir"
)

// FusedBlock (domain com.keenml, Keen's own) is MobileNet's inverted
// residual block as one node: a FusedPwDw pair (expand, depthwise) whose
// output only a pointwise FusedConv reads (the projection, with or
// without its residual). The onnx package plans it (onnx/fuse_pwdw.go).
//
//	inputs:  0–8 as FusedPwDw's, 9 W3 (M×C×1×1), 10 B3, 11 Z (residual),
//	         12 min3, 13 max3
//	attrs:   FusedPwDw's, and the projection's activation, alpha, min and
//	         max prefixed "pj_"
//
// For 3x3 stride-1 depthwise convs on planes from 14², the block runs band
// of output rows by band: the band's expansion (with a row of halo above
// and below) and its depthwise output stay in L2, and the threads take
// whole bands, the caller the top ones, so that every core reads the rows
// the previous block's projection wrote on it. Otherwise the pair and the
// projection run one after the other.

func init() { regDomain(keenDomain, "FusedBlock", 1, prepFusedBlock) }

// blockMinPlane is the smallest plane run in bands (MobileNetV2 at 2
// threads, 14² blocks banded too: 4.62 -> 4.37 ms; 7² blocks lose to the
// halo rows); blockBand bounds a band's expansion (floats, halo included).
var (
	blockMinPlane = 14 * 14
	blockBand     = 1 << 16
)

type fusedBlock struct {
	pw, dw, pj   *fusedConv
	pairK, projK kernelFunc
}

func prepFusedBlock(s *backends.OpSpec) (kernelFunc, error) {
	pjA, pairA := splitAttrs(s.Attrs, "pj_")
	dt := inputType(s.InputTypes, 0)
	f := &fusedBlock{}
	var err error
	pairSpec := &backends.OpSpec{Domain: keenDomain, Op: "FusedPwDw", Version: 1, Attrs: pairA, InputTypes: pickTypes(s.InputTypes, 0, 1, 2, 3, 4, 5, 6, 7, 8), NumOutputs: 1}
	if f.pairK, err = prepFusedPwDw(pairSpec); err != nil {
		return nil, fmt.Errorf("FusedBlock: %w", err)
	}
	pjSpec := &backends.OpSpec{Domain: keenDomain, Op: "FusedConv", Version: 1, Attrs: pjA,
		InputTypes: append([]ir.DType{dt}, pickTypes(s.InputTypes, 9, 10, 11, 12, 13)...), NumOutputs: 1}
	if f.projK, err = prepFusedConv(pjSpec); err != nil {
		return nil, fmt.Errorf("FusedBlock: projection: %w", err)
	}
	pwA, dwA := splitAttrs(pairA, "pw_")
	for _, c := range []struct {
		f     **fusedConv
		attrs ir.Attrs
	}{{&f.pw, pwA}, {&f.dw, dwA}, {&f.pj, pjA}} {
		if *c.f, err = newFusedConv(&backends.OpSpec{Attrs: c.attrs}); err != nil {
			return nil, fmt.Errorf("FusedBlock: %w", err)
		}
	}
	return f.run, nil
}

// run computes the block in bands where that applies, else as the pair
// and then the projection.
func (f *fusedBlock) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(in) < 10 || in[0] == nil || in[1] == nil || in[5] == nil || in[9] == nil {
		return nil, fmt.Errorf("%w: FusedBlock: inputs 0 (X), 1 (W1), 5 (W2) and 9 (W3) are required, %d given", errInput, len(in))
	}
	if y, ok, err := f.runBands(in); ok || err != nil {
		return y, err
	}
	mid, err := f.pairK(in[:9])
	if err != nil {
		return nil, err
	}
	defer releaseTemp(mid[0])
	return f.projK([]*ir.Tensor{mid[0], in[9], optInput(in, 10), optInput(in, 11), optInput(in, 12), optInput(in, 13)})
}

// runBands is the banded float32 path; ok false when it does not apply.
func (f *fusedBlock) runBands(in []*ir.Tensor) (y []*ir.Tensor, ok bool, err error) {
	x, w1, w2, w3 := in[0], in[1], in[5], in[9]
	b1, b2, b3, z := optInput(in, 2), optInput(in, 6), optInput(in, 10), optInput(in, 11)
	if x.DType != ir.Float32 || len(x.Shape) != 4 || x.Shape[2]*x.Shape[3] < blockMinPlane ||
		!gemm.Pointwise(0, 0, 0, nil, 0, nil, 0, nil, nil, 0, 0, nil, 0) {
		return nil, false, nil
	}
	p1, err := convPlan(f.pw.conv.win, f.pw.conv.group, x.Shape, w1.Shape, b1)
	if err != nil || !p1.pointwise() || p1.group != 1 {
		return nil, false, nil // (errors: the plain kernels report them)
	}
	c := p1.m
	p2, err := convPlan(f.dw.conv.win, f.dw.conv.group, p1.outShape(), w2.Shape, b2)
	if err != nil || p2.group != c || p2.m != c || !p2.depthwise() || !p2.dwDirect3() {
		return nil, false, nil
	}
	p3, err := convPlan(f.pj.conv.win, f.pj.conv.group, p2.outShape(), w3.Shape, b3)
	if err != nil || !p3.pointwise() || p3.group != 1 || z != nil && !slices.Equal(z.Shape, p3.outShape()) {
		return nil, false, nil
	}
	e1, _ := f.pw.epilogue([]*ir.Tensor{nil, nil, nil, nil, optInput(in, 3), optInput(in, 4)})
	e2, _ := f.dw.epilogue([]*ir.Tensor{nil, nil, nil, nil, optInput(in, 7), optInput(in, 8)})
	e3, _ := f.pj.epilogue([]*ir.Tensor{nil, nil, nil, z, optInput(in, 12), optInput(in, 13)})
	lo1, hi1, _, ok1 := e1.pwBounds()
	lo2, hi2, ok2 := e2.clampBounds()
	lo3, hi3, _, ok3 := e3.pwBounds()
	if !ok1 || !ok2 || !ok3 {
		return nil, false, nil
	}
	out, err := convOut(p3, ir.Float32)
	if err != nil {
		return nil, true, fmt.Errorf("FusedBlock: %w", err)
	}
	bias := func(t *ir.Tensor, n int) []float32 {
		if t == nil {
			return make([]float32, n)
		}
		return t.Data.([]float32)
	}
	xs, ys := x.Data.([]float32), out.Data.([]float32)
	w1s, w2s, w3s := w1.Data.([]float32), w2.Data.([]float32), w3.Data.([]float32)
	b1s, b3s := bias(b1, c), bias(b3, p3.m)
	var b2s, zs []float32
	if b2 != nil {
		b2s = b2.Data.([]float32)
	}
	if z != nil {
		zs = z.Data.([]float32)
	}
	h, w, k, m := p1.geo.out[0], p1.geo.out[1], p1.cg, p3.m
	plane := h * w
	// Bands: as many as the expansion bound wants, a multiple of the
	// threads so that each takes as many.
	nt := Threads()
	bands := max(1, (h*w*c+blockBand-1)/blockBand)
	bands = min(h, (bands+nt-1)/nt*nt)
	bh := (h + bands - 1) / bands
	bands = (h + bh - 1) / bh
	hb := bh + 2
	parallelFor(p1.n*bands, bh*w*(k+9+m)*c, func(lo, hi int) {
		scratch := convScratch[float32](2 * c * hb * w)
		defer convRelease(scratch)
		for i := lo; i < hi; i++ {
			n, band := i/bands, i%bands
			r0, r1 := band*bh, min(h, (band+1)*bh)
			rows := r1 - r0 + 2 // this band's planes: a halo row above and below
			e, d := scratch[:c*rows*w], scratch[c*rows*w:][:c*rows*w]
			x0, x1 := max(r0-1, 0), min(r1+1, h)
			xn := xs[n*k*plane:]
			gemm.Pointwise(c, (x1-x0)*w, k, w1s, k, xn[x0*w:], plane, b1s, nil, lo1, hi1, e[(x0-r0+1)*w:], rows*w)
			for ch := range c { // the image's border: zero rows
				if r0 == 0 {
					clear(e[ch*rows*w:][:w])
				}
				if r1 == h {
					clear(e[(ch*rows+rows-1)*w:][:w])
				}
			}
			dwconv.Direct3Planes(d, e, w2s, b2s, lo2, hi2, c, rows, w, 1, rows-1)
			var res []float32
			if zs != nil {
				res = zs[n*m*plane+r0*w:]
			}
			yn := ys[n*m*plane:]
			gemm.Pointwise(m, (r1-r0)*w, c, w3s, c, d[w:], rows*w, b3s, res, lo3, hi3, yn[r0*w:], plane)
		}
	})
	return []*ir.Tensor{out}, true, nil
}
