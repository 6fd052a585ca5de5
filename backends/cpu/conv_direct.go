package cpu

import "github.com/keenml/keen/backends/cpu/internal/dconv"

// convDirectOn enables the direct 3x3 convolution (tests turn it off to
// compare with the GEMM paths).
var convDirectOn = true

// convDirectMaxC bounds the input and output channels of the direct path:
// beyond it a GEMM's packing is cheap next to its products.
const convDirectMaxC = 64

// direct3x3 reports whether the float32 problem p runs as a direct 3x3
// convolution (internal/dconv): 2-D, one group, unit strides and
// dilations, few channels, output rows of at most 32 pixels and whole
// blocks of output channels.
func (p *convProblem) direct3x3() bool {
	g := p.geo
	if !convDirectOn || !dconv.Available() || len(g.in) != 2 || p.group != 1 ||
		p.c > convDirectMaxC || p.m > convDirectMaxC || p.c == 0 {
		return false
	}
	for i := range 2 {
		if g.kernel[i] != 3 || g.strides[i] != 1 || g.dilations[i] != 1 {
			return false
		}
	}
	mb := dconv.Block(g.out[1])
	return mb > 0 && p.m%mb == 0
}

// convDirect3x3 computes y (N×M×out) = conv(x, w) + b (b may be nil) for a
// problem direct3x3 accepts: per image, the input planes are copied into
// zero-padded planes, then each block of output channels is one
// dconv.Rows3x3 call over all output rows.
func convDirect3x3(p *convProblem, x, w, b, y []float32) {
	g := p.geo
	oh, ow := g.out[0], g.out[1]
	ih, iw := g.in[0], g.in[1]
	mb := dconv.Block(ow)
	prs := ow + 2                  // padded row: every tap's window of ow pixels
	pcs := (oh + 2) * prs          // padded plane
	slack := 16 * ((ow + 15) / 16) // the kernels read whole vectors past a row's end
	wp, bp := convDirectWeights(p, w, b, mb)
	defer convRelease(wp)
	defer convRelease(bp)
	work := p.m * p.outSize * p.c * 9
	parallelFor(p.n, work, func(lo, hi int) {
		planes := convScratch[float32](p.c*pcs + slack)
		defer convRelease(planes)
		clear(planes)
		for n := lo; n < hi; n++ {
			for c := range p.c {
				src := x[(n*p.c+c)*p.inSize:][:p.inSize]
				dst := planes[c*pcs:]
				for r := range ih {
					pr := r + g.padBegin[0]
					if pr < 0 || pr >= oh+2 {
						continue
					}
					convDirectRow(dst[pr*prs:][:prs], src[r*iw:][:iw], g.padBegin[1])
				}
			}
			for m0 := 0; m0 < p.m; m0 += mb {
				yoff := (n*p.m + m0) * p.outSize
				dconv.Rows3x3(y[yoff:], planes, wp[m0*p.c*9:], bp[m0:], p.c, pcs, prs, p.outSize, oh, ow, ow)
			}
			for o := 0; p.epi != nil && o < p.m; o++ {
				off := (n*p.m + o) * p.outSize
				p.epi.apply(y[off:][:p.outSize], off)
			}
		}
	})
}

// convDirectRow copies an input row into a padded row at column offset
// left (negative: the row starts cropped), dropping what falls outside;
// the padded row's other columns stay zero.
func convDirectRow(dst, src []float32, left int) {
	if left < 0 {
		src = src[min(len(src), -left):]
		left = 0
	}
	if left >= len(dst) {
		return
	}
	copy(dst[left:], src)
}

// convDirectWeights packs W (M×C×3×3) block by block as dconv wants it,
// (block, c, tap, channel in block), and the bias (zeros when b is nil).
func convDirectWeights(p *convProblem, w, b []float32, mb int) (wp, bp []float32) {
	wp = convScratch[float32](p.m * p.c * 9)
	for m0 := 0; m0 < p.m; m0 += mb {
		blk := wp[m0*p.c*9:]
		for c := range p.c {
			for t := range 9 {
				for m := range mb {
					blk[(c*9+t)*mb+m] = w[((m0+m)*p.c+c)*9+t]
				}
			}
		}
	}
	bp = convScratch[float32](p.m)
	if b == nil {
		clear(bp)
	} else {
		copy(bp, b)
	}
	return wp, bp
}
