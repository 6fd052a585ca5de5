package cpu

import (
	"unsafe"

	"github.com/keenml/keen/backends/cpu/internal/dconv"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
)

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
			convDirectPad(p, x, n, planes, pcs, prs)
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

// convDirectPad copies image n's input planes into planes (channel stride
// pcs, row stride prs) at the padding's offsets; the padding itself is
// never written, so it stays zero from the caller's clear.
func convDirectPad(p *convProblem, x []float32, n int, planes []float32, pcs, prs int) {
	g := p.geo
	ih, iw := g.in[0], g.in[1]
	r0, r1 := max(0, -g.padBegin[0]), min(ih, g.out[0]+2-g.padBegin[0])
	c0, left := 0, g.padBegin[1]
	if left < 0 {
		c0, left = -left, 0
	}
	width := min(iw-c0, prs-left)
	if r0 >= r1 || width <= 0 {
		return
	}
	for c := range p.c {
		src := x[(n*p.c+c)*p.inSize+r0*iw+c0:]
		dst := planes[c*pcs+(r0+g.padBegin[0])*prs+left:]
		if width <= 32 {
			dconv.CopyRows(dst, src, r1-r0, width, prs, iw)
			continue
		}
		for r := range r1 - r0 {
			copy(dst[r*prs:][:width], src[r*iw:][:width])
		}
	}
}

// convAlign64 returns s from its first element at a 64-byte boundary
// (s must have 16 elements to spare).
func convAlign64(s []float32) []float32 {
	a := int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))&63) / 4
	return s[(16-a)%16:]
}

// convGradDirect3x3 computes dW (M×C×3×3) = Σ_n Σ_out dY·X for a problem
// direct3x3 accepts, adding the bias gradient's plane sums to dbs when
// it is not nil: each block of output channels keeps vectors of lane sums
// per input channel and tap (dconv.Grad3x3) over all images, summed into
// dW at the end. Each image's dY rows are first copied to 64-byte aligned
// rows of whole vectors, zero past the width: read in place, nearly every
// vector load of dY would straddle two cache lines.
func convGradDirect3x3(p *convProblem, x, dy, dw []float32, dbs []float64) {
	g := p.geo
	oh, ow := g.out[0], g.out[1]
	mb := dconv.Block(ow)
	span := 16 * ((ow + 15) / 16)
	prs, pcs := ow+2, (oh+2)*(ow+2)
	blocks := p.m / mb
	parallelFor(blocks, p.n*p.outSize*mb*p.c*9, func(lo, hi int) {
		planes := convScratch[float32](p.c*pcs + span)
		defer convRelease(planes)
		clear(planes)
		blk := p.c * 9 * mb * span // one block's lane sums
		part := convScratch[float32]((hi - lo) * blk)
		defer convRelease(part)
		clear(part)
		dyBuf := convScratch[float32](mb*oh*span + 16)
		defer convRelease(dyBuf)
		dyb := convAlign64(dyBuf)[:mb*oh*span]
		clear(dyb)
		for n := range p.n {
			convDirectPad(p, x, n, planes, pcs, prs)
			for bk := lo; bk < hi; bk++ {
				m0 := bk * mb
				for m := range mb {
					src := dy[(n*p.m+m0+m)*p.outSize:][:p.outSize]
					dconv.CopyRows(dyb[m*oh*span:], src, oh, ow, span, ow)
					if dbs != nil {
						dbs[m0+m] += vecmath.Sum64(src)
					}
				}
				dconv.Grad3x3(part[(bk-lo)*blk:], planes, dyb, p.c, pcs, prs, oh*span, oh, span, ow)
			}
		}
		for bk := lo; bk < hi; bk++ {
			convGradLanes(part[(bk-lo)*blk:], dw, p.c, bk*mb, mb, span, ow)
		}
	})
}

// convGradLanes sets dW[m0+m, c, tap] (C×9 per output channel) to the sum
// of the first ow lanes of each of a block's lane-sum vectors.
func convGradLanes(part, dw []float32, c, m0, mb, span, ow int) {
	for ci := range c {
		for t := range 9 {
			for m := range mb {
				var s float32
				for _, v := range part[((ci*9+t)*mb+m)*span:][:ow] {
					s += v
				}
				dw[((m0+m)*c+ci)*9+t] = s
			}
		}
	}
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
