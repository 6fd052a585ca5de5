package cpu

// Convolutions whose output plane is small next to their batch — late
// layers of a batched network, and above all the weight gradient of a
// convolution, which the eager engine runs as a Conv with a kernel the size
// of the image and a 3×3 output — make per-image GEMMs only a few columns
// wide, where the micro-kernel's 32-column tile runs mostly empty and every
// image packs the whole weight matrix again. convForwardWide puts the
// im2col columns of many images side by side, so each GEMM is
// (M/group) × (images·out) × (channels·kernel), chunked over channels
// (accumulating) to bound the scratch.

// convWideMaxOut is the output plane size up to which a convolution runs
// wide (a variable so tests can turn the path off). A single image counts:
// the weight gradient of a one-channel input is a Conv of one image with a
// 28x28 kernel and a 3x3 output.
var convWideMaxOut = 64

// convWideCols and convWideBudget bound one wide GEMM: at most this many
// columns, and an im2col chunk of at most this many floats (a variable so
// tests can force the channel chunking).
const convWideCols = 1024

var convWideBudget = 1 << 21

// wide reports whether p runs through convForwardWide.
func (p *convProblem) wide() bool {
	return p.outSize <= convWideMaxOut && p.cg*p.kSize > 0 && !p.depthwise()
}

// convForwardWide computes y (N×M×out) = conv(x, w) + b (b may be nil).
func convForwardWide(p *convProblem, x, w, b, y []float32) {
	rows := p.cg * p.kSize
	nbMax := max(1, min(p.n, convWideCols/p.outSize))
	chMax := max(1, min(p.cg, convWideBudget/(p.kSize*nbMax*p.outSize)))
	ldMax := convWideLd(nbMax * p.outSize)
	cols := convScratch[float32](chMax * p.kSize * ldMax)
	defer convRelease(cols)
	tmp := convScratch[float32](p.mg * ldMax)
	defer convRelease(tmp)
	for g := 0; g < p.group; g++ {
		wg := w[g*p.mg*rows:]
		for n0 := 0; n0 < p.n; n0 += nbMax {
			nb := min(nbMax, p.n-n0)
			ld := convWideLd(nb * p.outSize)
			for c0 := 0; c0 < p.cg; c0 += chMax {
				kr := min(chMax, p.cg-c0) * p.kSize
				convWideIm2colLd(cols[:kr*ld], ld, x, p, g, n0, nb, c0)
				beta := float32(0)
				if c0 > 0 {
					beta = 1
				}
				convSgemm(false, false, p.mg, ld, kr, 1, wg[c0*p.kSize:], rows, cols, ld, beta, tmp, ld)
			}
			convWideScatter(y, tmp[:p.mg*ld], ld, b, p, g, n0, nb)
		}
	}
}

// convWideLd is the row stride of the wide path's im2col and product for
// ncols columns: whole 32-column tiles of the GEMM, so that no tile is a
// partial one (computed in the edge buffer and added into the product at
// every depth block: ResNet-18's 49 columns are one whole tile and 17
// columns of the next), the columns past ncols zero in the im2col. The
// padded columns cost no more tiles; the stride stays ncols below 32
// columns (one partial tile, and one column runs as a matrix-vector
// product) and where 48-column tiles would cover ncols with fewer
// columns (the GEMM then takes them; padding to 32 would hide that).
func convWideLd(ncols int) int {
	ld := (ncols + 31) &^ 31
	if !convWideWhole || ncols < 32 || ld > (ncols+47)/48*48 {
		return ncols
	}
	return ld
}

// convWideWhole turns the whole-tile stride on (a variable so benchmarks
// and tests can compare).
var convWideWhole = true

// convWideIm2col fills cols (kr rows of nb·out columns) with the im2col
// rows of channels c0, c0+1, ... of group g for images n0 .. n0+nb-1, image
// i in columns [i·out, (i+1)·out).
func convWideIm2col(cols, x []float32, p *convProblem, g, n0, nb, c0 int) {
	convWideIm2colLd(cols, nb*p.outSize, x, p, g, n0, nb, c0)
}

// convWideIm2colLd is convWideIm2col with rows ld floats apart (ld at
// least nb·out), the columns past nb·out cleared.
func convWideIm2colLd(cols []float32, ld int, x []float32, p *convProblem, g, n0, nb, c0 int) {
	if len(p.geo.in) == 2 {
		convWideIm2col2D(cols, ld, x, p, g, n0, nb, c0)
		return
	}
	geo := p.geo
	r := len(geo.in)
	ncols := nb * p.outSize
	kr := len(cols) / ld
	inSt := stridesOf(geo.in)
	kSt := stridesOf(geo.kernel)
	parallelFor(kr, ncols+16, func(lo, hi int) {
		kidx := make([]int, r)
		oidx := make([]int, r-1)
		for row := lo; row < hi; row++ {
			c, kk := c0+row/p.kSize, row%p.kSize
			for d := range kidx {
				kidx[d] = kk / kSt[d] % geo.kernel[d]
			}
			clear(cols[row*ld+ncols : (row+1)*ld])
			dst := cols[row*ld : row*ld+ncols]
			for i := 0; i < nb; i++ {
				plane := x[((n0+i)*p.c+g*p.cg+c)*p.inSize:][:p.inSize]
				convIm2colRow(dst[i*p.outSize:(i+1)*p.outSize], plane, geo, kidx, oidx, inSt, 0, geo.out[0])
			}
		}
	})
}

// convWideScatter copies the wide product tmp (M/group rows of nb·out, ld
// apart) of group g into y for images n0 .. n0+nb-1, adding the bias.
func convWideScatter(y, tmp []float32, ld int, b []float32, p *convProblem, g, n0, nb int) {
	for o := 0; o < p.mg; o++ {
		m := g*p.mg + o
		var bv float32
		if b != nil {
			bv = b[m]
		}
		for i := 0; i < nb; i++ {
			src := tmp[o*ld+i*p.outSize:][:p.outSize]
			dst := y[((n0+i)*p.m+m)*p.outSize:][:p.outSize]
			for t, v := range src {
				dst[t] = v + bv
			}
		}
	}
}

// convWideIm2col2D is convWideIm2col for 2-D windows, element by element:
// with a few outputs per row (the weight gradient's 3×3), the row-run
// copies of convIm2colRow would cost more in setup than they move.
func convWideIm2col2D(cols []float32, ld int, x []float32, p *convProblem, g, n0, nb, c0 int) {
	geo := p.geo
	h, w, oh, ow := geo.in[0], geo.in[1], geo.out[0], geo.out[1]
	kw := geo.kernel[1]
	sh, sw, dh, dw := geo.strides[0], geo.strides[1], geo.dilations[0], geo.dilations[1]
	pt, pl := geo.padBegin[0], geo.padBegin[1]
	ncols := nb * p.outSize
	kr := len(cols) / ld
	parallelFor(kr, ncols+16, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			c, kk := c0+row/p.kSize, row%p.kSize
			offH, offW := kk/kw*dh-pt, kk%kw*dw-pl
			clear(cols[row*ld+ncols : (row+1)*ld])
			dst := cols[row*ld : row*ld+ncols]
			for i := 0; i < nb; i++ {
				plane := x[((n0+i)*p.c+g*p.cg+c)*p.inSize:][:p.inSize]
				if sh == 1 && sw == 1 && w == ow {
					convShiftPlane(dst[i*p.outSize:][:p.outSize], plane, h, w, oh, offH, offW)
					continue
				}
				for oy := 0; oy < oh; oy++ {
					seg := dst[i*p.outSize+oy*ow:][:ow]
					iy := oy*sh + offH
					if iy < 0 || iy >= h {
						clear(seg)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					if sw == 1 {
						// Unit stride: one run of the source row, zeros either side.
						lo, hi := min(max(0, -offW), ow), max(0, min(ow, w-offW))
						if hi <= lo {
							clear(seg)
							continue
						}
						clear(seg[:lo])
						copy(seg[lo:hi], src[lo+offW:])
						clear(seg[hi:])
						continue
					}
					for ox := range seg {
						var v float32
						if ix := ox*sw + offW; ix >= 0 && ix < w {
							v = src[ix]
						}
						seg[ox] = v
					}
				}
			}
		}
	})
}

// convShiftPlane fills dst (oh rows of w) with plane (h rows of w) shifted
// by (offH, offW), zero where the shift leaves the plane: the im2col row of
// one kernel tap when strides are 1 and the output is as wide as the input.
// The rows inside the plane are one run of the source (rows of equal width
// follow each other in both), after which the columns that the run took
// from a neighbouring row are cleared.
func convShiftPlane(dst, plane []float32, h, w, oh, offH, offW int) {
	y0, y1 := min(max(0, -offH), oh), max(0, min(oh, h-offH))
	if y1 <= y0 || offW <= -w || offW >= w {
		clear(dst)
		return
	}
	clear(dst[:y0*w])
	clear(dst[y1*w:])
	a, b, src := y0*w, y1*w, (y0+offH)*w+offW
	if src < 0 {
		a, src = a-src, 0
	}
	if over := src + (b - a) - len(plane); over > 0 {
		b -= over
	}
	copy(dst[a:b], plane[src:])
	// Columns ox with ox+offW outside [0, w) (including any the clamps
	// above skipped) are zero.
	c0, c1 := 0, w
	if offW < 0 {
		c1 = -offW
	} else {
		c0 = w - offW
	}
	for r := y0; r < y1; r++ {
		clear(dst[r*w+c0 : r*w+c1])
	}
}
