package cpu

import "github.com/keenml/keen/backends/cpu/internal/gemm"

// Stride-1 implicit GEMM over padded planes. With unit strides, im2col row
// (c, i, j) at output (oy, ox) reads padded plane c at
// (oy + i·dh)·wp + ox + j·dw, where wp is the padded width. Computing the
// output with row stride wp instead of ow (wp - ow garbage columns per row)
// makes every im2col row one contiguous run of the padded plane at a fixed
// offset, so packing a panel is a plain copy rather than convPacker's
// per-row bounds. The product lands in a scratch matrix and its valid
// columns are copied out. convPacker (conv_pack.go) is the twin the tests
// compare with (convPadded off).

// convPadded switches stride-1 float32 implicit GEMM to padded planes.
var convPadded = true

// convPadWaste bounds the garbage columns: the padded path is taken when
// (wp - ow)·convPadWaste ≤ wp (one in eight or fewer; tests set 0).
var convPadWaste = 8

// convPadGeom is the padded layout of one stride-1 problem.
type convPadGeom struct {
	h, w, hp, wp, oh, ow, pt, pl int
	planeLen                     int
	taps                         []int // offset of tap (i, j) in a padded plane
}

// padGeom returns the padded layout, or nil when p is not a 2-D (or 1-D)
// stride-1 problem that the layout suits; computed once per problem.
func (p *convProblem) padGeom() *convPadGeom {
	if !p.padDone {
		p.pad, p.padDone = p.newPadGeom(), true
	}
	return p.pad
}

func (p *convProblem) newPadGeom() *convPadGeom {
	g := p.geo
	if !convPadded || len(g.in) > 2 {
		return nil
	}
	d := &convPadGeom{h: 1, oh: 1, hp: 1}
	kh, dh := 1, 1
	if len(g.in) == 2 {
		if g.strides[0] != 1 {
			return nil
		}
		d.h, d.oh, d.pt, kh, dh = g.in[0], g.out[0], g.padBegin[0], g.kernel[0], g.dilations[0]
		d.hp = d.h + g.padBegin[0] + g.padEnd[0]
	}
	l := len(g.in) - 1
	if g.strides[l] != 1 {
		return nil
	}
	kw, dw := g.kernel[l], g.dilations[l]
	d.w, d.ow, d.pl = g.in[l], g.out[l], g.padBegin[l]
	d.wp = d.w + g.padBegin[l] + g.padEnd[l]
	if d.oh != d.hp-(kh-1)*dh || d.ow != d.wp-(kw-1)*dw || (d.wp-d.ow)*convPadWaste > d.wp {
		return nil
	}
	// The last garbage column reads (kw-1)·dw past the last padded row.
	d.planeLen = d.hp*d.wp + (kw-1)*dw
	for i := 0; i < kh; i++ {
		for j := 0; j < kw; j++ {
			d.taps = append(d.taps, i*dh*d.wp+j*dw)
		}
	}
	return d
}

// convPadPacker is the gemm.PackFunc over the padded planes.
type convPadPacker struct {
	planes []float32
	d      *convPadGeom
	kSize  int
}

func (c *convPadPacker) pack(dst []float32, p0, kb, j0, nb, nr int) {
	offs := make([]int, kb)
	for q := range offs {
		r := p0 + q
		offs[q] = r/c.kSize*c.d.planeLen + c.d.taps[r%c.kSize] + j0
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
func convPadGemm(p *convProblem, d *convPadGeom, x, w, b, y []float32, nt int) {
	rows := p.cg * p.kSize
	n := d.oh * d.wp
	buf := convScratch[float32](p.cg*d.planeLen + p.mg*n)
	defer convRelease(buf)
	planes, c := buf[:p.cg*d.planeLen], buf[p.cg*d.planeLen:]
	pad := func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			pl := planes[ch*d.planeLen : (ch+1)*d.planeLen]
			clear(pl)
			src := x[ch*p.inSize:]
			for r := 0; r < d.h; r++ {
				copy(pl[(r+d.pt)*d.wp+d.pl:][:d.w], src[r*d.w:(r+1)*d.w])
			}
		}
	}
	out := func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for r := 0; r < d.oh; r++ {
				copy(y[o*p.outSize+r*d.ow:][:d.ow], c[o*n+r*d.wp:][:d.ow])
			}
		}
	}
	if nt > 1 {
		parallelFor(p.cg, d.planeLen, pad)
	} else {
		pad(0, p.cg)
	}
	pk := &convPadPacker{planes: planes, d: d, kSize: p.kSize}
	gemm.SgemmPackB(nt, p.mg, n, rows, 1, w, rows, pk.pack, b, 0, c, n)
	if nt > 1 {
		parallelFor(p.mg, p.outSize, out)
	} else {
		out(0, p.mg)
	}
}
