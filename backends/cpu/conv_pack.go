package cpu

import "github.com/keenml/keen/backends/cpu/internal/gemm"

// Implicit GEMM: a 1-D or 2-D float32 convolution hands the GEMM a
// gemm.PackFunc that writes the im2col matrix's panels straight from the
// input planes, so the matrix is never stored and read back (one write and
// one read of channels·kernel·outputs floats saved per image). The explicit
// im2col path (convIm2col) stays for 3-D and for the other element types,
// and the tests run both (convImplicit off and on).

// convImplicit switches float32 1-D/2-D convolutions to implicit GEMM.
var convImplicit = true

// convPacker packs the im2col matrix of one image and group: row
// c·kh·kw + i·kw + j, column oy·ow + ox holds
// x[c][oy·sh + i·dh - pt][ox·sw + j·dw - pl], zero in the padding.
type convPacker struct {
	x                      []float32 // the group's cg input planes
	h, w, oh, ow, kh, kw   int
	sh, sw, dh, dw, pt, pl int
}

func newConvPacker(p *convProblem, x []float32) *convPacker {
	g := p.geo
	c := &convPacker{x: x, h: 1, oh: 1, kh: 1, sh: 1, dh: 1}
	if len(g.in) == 2 {
		c.h, c.oh, c.kh, c.sh, c.dh, c.pt = g.in[0], g.out[0], g.kernel[0], g.strides[0], g.dilations[0], g.padBegin[0]
	}
	l := len(g.in) - 1
	c.w, c.ow, c.kw, c.sw, c.dw, c.pl = g.in[l], g.out[l], g.kernel[l], g.strides[l], g.dilations[l], g.padBegin[l]
	return c
}

// convPackRow is one im2col row: where its input plane starts and the
// kernel tap's offsets.
type convPackRow struct{ plane, offH, offW int }

// pack is the gemm.PackFunc: depth rows [p0, p0+kb), columns [j0, j0+nb),
// panel by panel so the writes run sequentially.
func (c *convPacker) pack(dst []float32, p0, kb, j0, nb, nr int) {
	taps := c.kh * c.kw
	rows := make([]convPackRow, kb)
	for q := range rows {
		r := p0 + q
		k := r % taps
		rows[q] = convPackRow{plane: r / taps * c.h * c.w, offH: k/c.kw*c.dh - c.pt, offW: k%c.kw*c.dw - c.pl}
	}
	for jr := 0; jr < nb; jr += nr {
		cnt := min(nr, nb-jr)
		t0 := j0 + jr
		oy0, ox0 := t0/c.ow, t0%c.ow
		panel := dst[jr*kb : (jr+nr)*kb]
		for q, rw := range rows {
			out := panel[q*nr : (q+1)*nr]
			c.fill(out[:cnt], rw, oy0, ox0)
			clear(out[cnt:])
		}
	}
}

// fill writes len(out) consecutive im2col columns of row rw, starting at
// output position (oy, ox), wrapping to the next output row as needed.
func (c *convPacker) fill(out []float32, rw convPackRow, oy, ox int) {
	for o := 0; o < len(out); {
		seg := out[o:min(len(out), o+c.ow-ox)]
		iy := oy*c.sh + rw.offH
		if iy < 0 || iy >= c.h {
			clear(seg)
		} else if c.sw == 1 { // the common case, without convValidRange's divisions
			end := ox + len(seg)
			lo := min(max(ox, -rw.offW), end)
			hi := max(min(end, c.w-rw.offW), lo)
			clear(seg[:lo-ox])
			clear(seg[hi-ox:])
			if hi > lo { // a segment wholly in the left padding has lo = hi = end
				src := c.x[rw.plane+iy*c.w:][:c.w]
				copy(seg[lo-ox:hi-ox], src[lo+rw.offW:hi+rw.offW])
			}
		} else {
			lo, hi := convValidRange(rw.offW, c.sw, c.w, ox, ox+len(seg))
			clear(seg[:lo-ox])
			clear(seg[hi-ox:])
			src := c.x[rw.plane+iy*c.w:][:c.w]
			s := lo*c.sw + rw.offW
			d := seg[lo-ox : hi-ox]
			for i := range d {
				d[i] = src[s]
				s += c.sw
			}
		}
		o += len(seg)
		ox = 0
		oy++
	}
}

// convImplicitGemm computes one image's group through the packer, on nt
// goroutines: y (mg × out, row stride out) = w (mg × rows) · im2col(x) + b
// (b nil or mg values).
func convImplicitGemm(p *convProblem, x, w, b, y []float32, nt int) {
	if d := p.padGeom(); d != nil {
		convPadGemm(p, d, x, w, b, y, nt)
		return
	}
	rows := p.cg * p.kSize
	c := newConvPacker(p, x[:p.cg*p.inSize])
	gemm.SgemmPackB(nt, p.mg, p.outSize, rows, 1, w, rows, c.pack, b, 0, y, p.outSize)
}
