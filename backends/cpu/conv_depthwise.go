package cpu

import "github.com/keenml/keen/backends/cpu/internal/dwconv"

// The float32 depthwise convolution (one input channel per group, 1-D or
// 2-D) runs each output plane as a few dwconv.Taps calls. The input plane
// is first copied into sh·sw zero-padded phase planes, phase (rp, cp)
// holding padded rows rp, rp+sh, ... and columns cp, cp+sw, ..., all with
// row width pw. Kernel tap (i, j) then reads phase ((i·dh)%sh, (j·dw)%sw)
// at the fixed offset ((i·dh)/sh)·pw + (j·dw)/sw from output position
// t = o·pw + x, so an output plane laid out with row stride pw is a sum of
// contiguous shifted rows, whatever the stride and dilation. The pw-ow
// columns past each output row are garbage and dropped when the plane is
// copied out. convDepthwise (conv_conv.go) is the reference twin.

// convDWPlan is the phase layout of one depthwise problem, and of the
// padded planes of implicit GEMM (conv_padpack.go).
type convDWPlan struct {
	h, wd, oh, ow     int // input and output plane
	kh, kw            int
	sh, sw, dh, dw    int
	ph, pw            int // rows and row width of each phase plane
	padTop, padLeft   int
	planeLen, outLen  int
	tapPlane, tapOffs []int  // per tap (i*kw+j): phase plane and offset
	unused            uint64 // bit k: no tap reads phase plane k (k < 64)
}

func newConvDWPlan(p *convProblem) *convDWPlan {
	g := p.geo
	d := &convDWPlan{h: 1, oh: 1, kh: 1, sh: 1, dh: 1}
	if len(g.in) == 2 {
		d.h, d.oh, d.kh, d.sh, d.dh, d.padTop = g.in[0], g.out[0], g.kernel[0], g.strides[0], g.dilations[0], g.padBegin[0]
	}
	l := len(g.in) - 1
	d.wd, d.ow, d.kw, d.sw, d.dw, d.padLeft = g.in[l], g.out[l], g.kernel[l], g.strides[l], g.dilations[l], g.padBegin[l]
	d.pw = d.ow + (d.kw-1)*d.dw/d.sw
	d.ph = d.oh + (d.kh-1)*d.dh/d.sh
	// Garbage columns of the last output row read up to pw-1 past the
	// deepest tap's row: one spare row covers them.
	d.planeLen = (d.ph + 1) * d.pw
	d.outLen = d.oh * d.pw
	for i := 0; i < d.kh; i++ {
		for j := 0; j < d.kw; j++ {
			ri, cj := i*d.dh, j*d.dw
			d.tapPlane = append(d.tapPlane, (ri%d.sh)*d.sw+cj%d.sw)
			d.tapOffs = append(d.tapOffs, (ri/d.sh)*d.pw+cj/d.sw)
		}
	}
	d.unused = ^uint64(0)
	for _, k := range d.tapPlane {
		if k < 64 {
			d.unused &^= 1 << k
		}
	}
	return d
}

// fill copies the input plane x (h×wd) into the phase planes of buf. Only
// the positions that hold input are written: the padding (and the spare
// row) is the same zero for every plane, so the caller clears buf once.
func (d *convDWPlan) fill(buf, x []float32) {
	for rp := 0; rp < d.sh; rp++ {
		for cp := 0; cp < d.sw; cp++ {
			if k := rp*d.sw + cp; k < 64 && d.unused&(1<<k) != 0 {
				continue // no tap reads it (a 1x1 kernel with strides reads one)
			}
			plane := buf[(rp*d.sw+cp)*d.planeLen:][:d.planeLen]
			lo, hi := convValidRange(cp-d.padLeft, d.sw, d.wd, 0, d.pw)
			if lo >= hi {
				continue
			}
			if d.sw <= 2 { // every row in one call (stride 2: MobileNet's strided layers)
				r0, r1 := convValidRange(rp-d.padTop, d.sh, d.h, 0, d.ph)
				if r0 >= r1 {
					continue
				}
				y0, s := r0*d.sh+rp-d.padTop, lo*d.sw+cp-d.padLeft
				dst, src := plane[r0*d.pw+lo:], x[y0*d.wd+s:]
				if d.sw == 1 {
					dwconv.Rows(dst, d.pw, src, d.sh*d.wd, r1-r0, hi-lo)
				} else {
					dwconv.EvenRows(dst, d.pw, src, d.sh*d.wd, r1-r0, hi-lo)
				}
				continue
			}
			for r := 0; r < d.ph; r++ {
				y := r*d.sh + rp - d.padTop
				if y < 0 || y >= d.h {
					continue
				}
				row := plane[r*d.pw : (r+1)*d.pw]
				src := x[y*d.wd:][:d.wd]
				s := lo*d.sw + cp - d.padLeft
				dst := row[lo:hi]
				for c := range dst {
					dst[c] = src[s]
					s += d.sw
				}
			}
		}
	}
}

// plane computes one output plane y (oh×ow) from the filled phase planes
// in buf, with weights w (kh·kw) and bias b; out is oh·pw scratch. epi
// (may be nil) finishes it, y starting at element off of the output: as
// the rows are copied out of the scratch when there is one.
func (d *convDWPlan) plane(y, buf, out, w []float32, b float32, epi *convEpi, off int) {
	dst := out[:d.outLen]
	if d.pw == d.ow {
		dst = y[:d.outLen]
	}
	var src [dwconv.MaxTaps][]float32
	taps := len(d.tapPlane)
	for k0 := 0; k0 < taps; k0 += dwconv.MaxTaps {
		k1 := min(taps, k0+dwconv.MaxTaps)
		for k := k0; k < k1; k++ {
			src[k-k0] = buf[d.tapPlane[k]*d.planeLen+d.tapOffs[k]:]
		}
		dwconv.Taps(dst, src[:k1-k0], w[k0:k1], b, k0 > 0)
	}
	if d.pw == d.ow {
		epi.apply(y[:d.outLen], off)
		return
	}
	if epi != nil && epi.res != nil {
		for o := 0; o < d.oh; o++ {
			epi.applyTo(y[o*d.ow:(o+1)*d.ow], out[o*d.pw:o*d.pw+d.ow], off+o*d.ow)
		}
		return
	}
	// One epilogue call over the scratch plane (garbage columns and all):
	// per-row calls cost more than the work on 7- and 14-wide rows.
	epi.apply(out[:d.outLen], 0)
	for o, src := 0, 0; o < d.oh; o, src = o+1, src+d.pw {
		copy(y[o*d.ow:(o+1)*d.ow], out[src:src+d.ow])
	}
}

// plane9 is plane for nine taps and an epilogue that is a clamp (lo, hi):
// one dwconv.Plane call writes y straight from the phase planes.
func (d *convDWPlan) plane9(y, buf, w []float32, b, lo, hi float32) {
	var src [9][]float32
	for k := range src {
		src[k] = buf[d.tapPlane[k]*d.planeLen+d.tapOffs[k]:]
	}
	dwconv.Plane(y, d.ow, src[:], d.pw, w, b, lo, hi, d.oh, d.ow)
}

// convDepthwiseF32 computes y (N×M×out) = depthwise conv(x, w) + bias
// (bias may be nil), output channel m reading input channel m/mg.
func convDepthwiseF32(p *convProblem, x, w, bias, y []float32) {
	d := newConvDWPlan(p)
	if len(d.tapPlane) == 0 {
		return
	}
	planes := d.sh * d.sw
	inPlane, outPlane := d.h*d.wd, d.oh*d.ow
	// Nine taps and a clamp (or no epilogue) take dwconv.Plane, which
	// reads up to 7 values past a row's last output column: the slack
	// after the phase planes keeps the last plane's reads in the buffer.
	clo, chi, clamp := p.epi.clampBounds()
	clamp = clamp && len(d.tapPlane) == 9
	if clamp && p.mg == 1 && dwconv.HasDirect3s2() && p.dwStride2Even() {
		dwPlaneRuns(p, x, w, bias, y, func(y, x, w, b []float32, cnt int) {
			dwconv.Direct3s2Planes(y, x, w, b, clo, chi, cnt, d.h, d.wd)
		})
		return
	}
	if clamp && p.dwDirect3() {
		if p.mg == 1 { // channel m reads input channel m: whole runs of planes a call
			dwPlaneRuns(p, x, w, bias, y, func(y, x, w, b []float32, cnt int) {
				dwconv.Direct3Planes(y, x, w, b, clo, chi, cnt, d.oh, d.ow, 0, d.oh)
			})
			return
		}
		parallelFor(p.n*p.m, outPlane*18, func(lo, hi int) {
			for nm := lo; nm < hi; nm++ {
				n, m := nm/p.m, nm%p.m
				c := n*p.c + m/p.mg
				var b float32
				if bias != nil {
					b = bias[m]
				}
				dwconv.Direct3(y[nm*outPlane:][:outPlane], x[c*inPlane:][:inPlane], w[m*9:][:9], b, clo, chi, d.oh, d.ow)
			}
		})
		return
	}
	const slack = 8
	parallelFor(p.n*p.m, outPlane*len(d.tapPlane)*2, func(lo, hi int) {
		buf := convScratch[float32](planes*d.planeLen + slack + d.outLen)
		defer convRelease(buf)
		phases, out := buf[:planes*d.planeLen+slack], buf[planes*d.planeLen+slack:]
		clear(phases) // the padding; fill writes only the input's positions
		filled := -1
		for nm := lo; nm < hi; nm++ {
			n, m := nm/p.m, nm%p.m
			if c := n*p.c + m/p.mg; c != filled {
				d.fill(phases, x[c*inPlane:][:inPlane])
				filled = c
			}
			var b float32
			if bias != nil {
				b = bias[m]
			}
			kk := len(d.tapPlane)
			if clamp {
				d.plane9(y[nm*outPlane:][:outPlane], phases, w[m*kk:][:kk], b, clo, chi)
				continue
			}
			d.plane(y[nm*outPlane:][:outPlane], phases, out, w[m*kk:][:kk], b, p.epi, nm*outPlane)
		}
	})
}

// dwDirect3 reports whether p, a depthwise 2-D conv, runs through
// dwconv.Direct3 (no padded copy of each plane): a 3x3 kernel, unit
// strides and dilations, padding 1 on every side, rows up to
// dwconv.MaxDirectWidth.
func (p *convProblem) dwDirect3() bool {
	g := p.geo
	if !convDWDirect || len(g.in) != 2 || g.in[1] > dwconv.MaxDirectWidth {
		return false
	}
	for d := range 2 {
		if g.kernel[d] != 3 || g.strides[d] != 1 || g.dilations[d] != 1 || g.padBegin[d] != 1 || g.padEnd[d] != 1 {
			return false
		}
	}
	return true
}

// convDWDirect switches the path (tests compare with it off).
var convDWDirect = true

// dwStride2Even reports whether p, a depthwise 2-D conv, is 3x3 with
// strides 2 and padding 1 above and left over a plane of even height and
// width (the padding below and right then goes unread, whatever it is):
// dwconv.Direct3s2Planes' shape.
func (p *convProblem) dwStride2Even() bool {
	g := p.geo
	if !convDWDirect || len(g.in) != 2 || g.in[1] > dwconv.MaxDirectWidth {
		return false
	}
	for d := range 2 {
		if g.kernel[d] != 3 || g.strides[d] != 2 || g.dilations[d] != 1 || g.padBegin[d] != 1 || g.in[d]%2 != 0 ||
			g.out[d] != g.in[d]/2 {
			return false
		}
	}
	return true
}

// dwPlaneRuns deals p's planes (one input channel per output channel) out
// over the threads and calls run on each run of consecutive planes of one
// image: y, x, w and b start at the run's first plane (b nil without a
// bias), cnt planes long.
func dwPlaneRuns(p *convProblem, x, w, bias, y []float32, run func(y, x, w, b []float32, cnt int)) {
	inPlane := p.inSize
	parallelFor(p.n*p.m, p.outSize*18, func(lo, hi int) {
		for nm := lo; nm < hi; {
			n, m := nm/p.m, nm%p.m
			cnt := min(hi-nm, p.m-m) // planes of this image in the range
			var b []float32
			if bias != nil {
				b = bias[m:]
			}
			run(y[nm*p.outSize:][:cnt*p.outSize], x[(n*p.c+m)*inPlane:][:cnt*inPlane], w[m*9:], b, cnt)
			nm += cnt
		}
	})
}
