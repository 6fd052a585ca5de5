package cpu

import "github.com/keenml/keen/backends/cpu/internal/gemm"

// Implicit GEMM over padded planes. With unit strides, im2col row (c, i, j)
// at output (oy, ox) reads padded plane c at (oy + i·dh)·wp + ox + j·dw,
// where wp is the padded width. Computing the output with row stride wp
// instead of ow (wp - ow garbage columns per row) makes every im2col row
// one contiguous run of the padded plane at a fixed offset, so packing a
// panel is a plain copy rather than convPacker's per-row bounds. Strides
// deinterleave each plane into sh·sw phase planes first (as the depthwise
// kernel does), after which the same holds. The product lands in a scratch
// matrix and its valid columns are copied out. convPacker (conv_pack.go) is
// the twin the tests compare with (convPadded off).

// convPadded switches float32 implicit GEMM to padded planes.
var convPadded = true

// convPadWaste bounds the garbage columns: the padded path is taken when
// (pw - ow)·convPadWaste ≤ pw, pw the (phase) plane width: one column in
// eight or fewer (tests set 0).
var convPadWaste = 8

// padGeom returns the padded layout (the phase planes of the depthwise
// kernel, conv_depthwise.go: strides and dilations become fixed offsets into
// sh·sw deinterleaved planes), or nil when p is not 1-D or 2-D or its
// garbage columns would be too many; computed once per problem.
func (p *convProblem) padGeom() *convDWPlan {
	if !p.padDone {
		p.pad, p.padDone = nil, true
		if convPadded && len(p.geo.in) <= 2 {
			if d := newConvDWPlan(p); (d.pw-d.ow)*convPadWaste <= d.pw {
				p.pad = d
			}
		}
	}
	return p.pad
}

// convPadPacker is the gemm.PackFunc over the padded planes: channel c's
// sh·sw phase planes start at c·chanLen; column j of the product is plane
// position base + j.
type convPadPacker struct {
	planes  []float32
	d       *convDWPlan
	kSize   int
	chanLen int
	base    int
}

func (c *convPadPacker) pack(dst []float32, p0, kb, j0, nb, nr int) {
	offs := make([]int, kb)
	for q := range offs {
		r := p0 + q
		k := r % c.kSize
		offs[q] = r/c.kSize*c.chanLen + c.d.tapPlane[k]*c.d.planeLen + c.d.tapOffs[k] + c.base + j0
	}
	for jr := 0; jr < nb; jr += nr {
		cnt := min(nr, nb-jr)
		panel := dst[jr*kb : (jr+nr)*kb]
		for q, off := range offs {
			out := panel[q*nr : (q+1)*nr]
			src := c.planes[off+jr:]
			switch {
			case cnt == 32 && nr == 32:
				*(*[32]float32)(out) = *(*[32]float32)(src)
			case cnt == 48 && nr == 48:
				*(*[48]float32)(out) = *(*[48]float32)(src)
			case cnt == 16 && nr == 16:
				*(*[16]float32)(out) = *(*[16]float32)(src)
			default:
				copy(out[:cnt], src[:cnt])
				clear(out[cnt:])
			}
		}
	}
}

// convPadGemm computes one image's group y (mg × out) = w · im2col(x) + b
// through padded planes, on nt goroutines.
func convPadGemm(p *convProblem, d *convDWPlan, x, w, b, y []float32, nt int) {
	convPadGemmEpi(p, d, x, w, b, y, nil, 0, nt)
}

// convPadBand is the product's size (floats of its mg rows) from which it
// runs in bands of output rows, each copied out (and finished by the
// epilogue) while it is still in cache rather than after the whole product
// went through memory: the 7x7/2 stem's 64 × 112·115 product is 3.3 MB
// (4 bands of 35 rows).
var convPadBand = 1 << 18

// convPadGemmEpi is convPadGemm finishing each output row with epi as it is
// copied out (y starts at element yoff of the output); epi may be nil.
func convPadGemmEpi(p *convProblem, d *convDWPlan, x, w, b, y []float32, epi *convEpi, yoff, nt int) {
	chanLen := d.sh * d.sw * d.planeLen
	planes := convScratch[float32](p.cg * chanLen)
	defer convRelease(planes)
	d.fillPlanes(planes, x, p.cg, p.inSize, chanLen, nt)
	// Bands of bh output rows (all of them when the product is small).
	bh := d.oh
	if p.mg*d.oh*d.pw > convPadBand {
		bh = max(1, min(d.oh, convPadBand/(p.mg*d.pw)))
	}
	bands := (d.oh + bh - 1) / bh
	run := func(lo, hi, threads int) {
		c := convScratch[float32](p.mg * bh * d.pw)
		defer convRelease(c)
		for band := lo; band < hi; band++ {
			convPadBandGemm(p, d, planes, chanLen, w, b, y, c, epi, yoff, band*bh, min(d.oh, (band+1)*bh), threads)
		}
	}
	if nt > 1 && bands >= 2*nt {
		parallelFor(bands, p.mg*bh*d.pw*p.cg*p.kSize, func(lo, hi int) { run(lo, hi, 1) })
		return
	}
	run(0, bands, nt)
}

// fillPlanes fills the phase planes of channels [0, channels) (chanLen
// floats each, from planes[0]) from x (inSize floats a channel), zeroing
// the padding, on nt goroutines.
func (d *convDWPlan) fillPlanes(planes, x []float32, channels, inSize, chanLen, nt int) {
	pad := func(lo, hi int) {
		clear(planes[lo*chanLen : hi*chanLen]) // the padding; fill writes only the input's positions
		for ch := lo; ch < hi; ch++ {
			d.fill(planes[ch*chanLen:(ch+1)*chanLen], x[ch*inSize:(ch+1)*inSize])
		}
	}
	if nt > 1 {
		parallelFor(channels, chanLen, pad)
	} else {
		pad(0, channels)
	}
}

// convPadBandGemm computes output rows [r0, r1) of every channel into c
// (mg × (r1-r0)·pw) and copies their valid columns to y through epi.
func convPadBandGemm(p *convProblem, d *convDWPlan, planes []float32, chanLen int, w, b, y, c []float32, epi *convEpi, yoff, r0, r1, nt int) {
	rows := p.cg * p.kSize
	n := (r1 - r0) * d.pw
	pk := &convPadPacker{planes: planes, d: d, kSize: p.kSize, chanLen: chanLen, base: r0 * d.pw}
	gemm.SgemmPackB(nt, p.mg, n, rows, 1, w, rows, pk.pack, b, 0, c, n)
	out := func(lo, hi int) {
		for o := lo; o < hi; o++ {
			at := o*p.outSize + r0*d.ow
			for r := r0; r < r1; r++ {
				copy(y[o*p.outSize+r*d.ow:][:d.ow], c[o*n+(r-r0)*d.pw:][:d.ow])
			}
			epi.apply(y[at:][:(r1-r0)*d.ow], yoff+at)
		}
	}
	if nt > 1 {
		parallelFor(p.mg, (r1-r0)*d.ow, out)
	} else {
		out(0, p.mg)
	}
}
