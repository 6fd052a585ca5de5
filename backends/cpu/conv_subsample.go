package cpu

import "github.com/keenml/keen/backends/cpu/internal/dwconv"

// A 1x1 kernel with strides and no padding (ResNet's stride-2 shortcut
// projections) reads only every stride-th position: the input is
// subsampled into compact planes once and the pointwise GEMM runs on them,
// instead of the padded path deinterleaving every phase of every plane and
// computing garbage columns.

// subsampled reports whether p is a 2-D 1x1 convolution with strides above
// one and no padding.
func (p *convProblem) subsampled() bool {
	g := p.geo
	if len(g.in) != 2 {
		return false
	}
	strided := false
	for i := range g.in {
		if g.kernel[i] != 1 || g.padBegin[i] != 0 || g.padEnd[i] != 0 {
			return false
		}
		strided = strided || g.strides[i] != 1
	}
	return strided
}

// convSubsampledEpi is convPointwiseEpi on the subsampled input planes of
// group g's channels xg.
func convSubsampledEpi(p *convProblem, xg, wg, bg, yg []float32, yoff, nt int) {
	xs := convScratch[float32](p.cg * p.outSize)
	defer convRelease(xs)
	fill := func(lo, hi int) {
		for c := lo; c < hi; c++ {
			convSubsample(xs[c*p.outSize:][:p.outSize], xg[c*p.inSize:][:p.inSize], p.geo)
		}
	}
	if nt > 1 {
		parallelFor(p.cg, p.outSize, fill)
	} else {
		fill(0, p.cg)
	}
	q := *p
	q.inSize = p.outSize
	convPointwiseEpi(&q, xs, wg, bg, yg, yoff, nt)
}

// convSubsample sets dst (oh×ow) to plane (h×w) at rows oy·sh, columns
// ox·sw.
func convSubsample(dst, plane []float32, g *convGeom) {
	w, oh, ow := g.in[1], g.out[0], g.out[1]
	sh, sw := g.strides[0], g.strides[1]
	if sw == 2 && ow > 0 && oh > 0 {
		dwconv.EvenRows(dst, ow, plane, sh*w, oh, ow)
		return
	}
	for oy := range oh {
		out, src := dst[oy*ow:][:ow], plane[oy*sh*w:]
		switch {
		case sw == 1:
			copy(out, src[:ow])
		default:
			for ox := range out {
				out[ox] = src[ox*sw]
			}
		}
	}
}
