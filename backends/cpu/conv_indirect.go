package cpu

import (
	"github.com/keenml/keen/backends/cpu/internal/gemm"
)

// Indirect convolution: implicit GEMM over the padded (phase) planes of
// conv_padpack.go with nothing packed per call. The output is computed with
// row stride pw (the phase plane width; pw - ow garbage columns per row),
// so im2col row r = (channel c, tap t) at output position j reads plane
// position offs[r] + j: gemm.Indirect's kernels read B through those
// offsets from the planes themselves. The weights, packed once into the
// kernel's A panels, come from the prepared-weights cache (prepared.go),
// so a call copies only the input into its planes (pw·ph floats per
// channel and phase) where the packed GEMM copies kh·kw panels' worth of it
// and reads the weights unpacked. ResNet-18's strided, 7x7 stem, 14² and 7²
// convolutions take it (BenchmarkConvResNet18).

// convIndirectOn switches the path (tests compare with it off).
var convIndirectOn = true

// convIndirectPick chooses the kernel for m×n products (tests pin each).
var convIndirectPick = gemm.IndirectFor

// convIndirectWaste bounds the garbage columns: (pw - ow)·waste ≤ pw, one
// column in four (7² planes with a 3x3 kernel have 2 in 9).
var convIndirectWaste = 4

// convIndirectDepth is the depth block, in kernel steps (rounded to whole
// input channels).
var convIndirectDepth = 256

// indirectWeights are a convolution's weights (m rows of k = cg·kh·kw)
// packed as the kernel's A panels, depth block by depth block (kb steps,
// the last one shorter) and within a block tile by tile (MR rows, the last
// tile zero padded), so the panels one block's calls read lie in one run.
type indirectWeights struct {
	ik    *gemm.Indirect
	m, k  int
	kb    int
	tiles int
	a     []float32
}

// panel is the packed A of row tile t in the depth block from k0.
func (iw *indirectWeights) panel(t, k0 int) []float32 {
	depth := min(iw.kb, iw.k-k0)
	return iw.a[k0*iw.tiles*iw.ik.MR+t*depth*iw.ik.MR:][:depth*iw.ik.MR]
}

// packIndirect packs w (m×k, row-major) for ik in depth blocks of kb.
func packIndirect(ik *gemm.Indirect, w []float32, m, k, kb int) *indirectWeights {
	tiles := (m + ik.MR - 1) / ik.MR
	iw := &indirectWeights{ik: ik, m: m, k: k, kb: max(1, kb), tiles: tiles,
		a: make([]float32, tiles*ik.MR*k)}
	parallelFor(tiles, ik.MR*k, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			for k0 := 0; k0 < k; k0 += iw.kb {
				depth := min(iw.kb, k-k0)
				ik.PackA(iw.panel(t, k0), w[k0:], k, m, t*ik.MR, depth)
			}
		}
	})
	return iw
}

// indirectPlan returns p's phase-plane layout for the indirect path, or nil
// when p does not take it: float32 1-D/2-D convolutions of one group whose
// garbage columns stay within convIndirectWaste, on a CPU with an indirect
// kernel.
func (p *convProblem) indirectPlan() *convDWPlan {
	if !convIndirectOn || p.group != 1 || len(p.geo.in) > 2 || len(p.geo.in) == 0 || p.pointwise() ||
		convIndirectPick(p.mg, 1) == nil {
		return nil
	}
	d := p.padGeom()
	if d == nil {
		d = newConvDWPlan(p)
	}
	if (d.pw-d.ow)*convIndirectWaste > d.pw {
		return nil
	}
	return d
}

// convIndirect computes one image: y (m × out, starting at element yoff of
// the whole output) = epi(w · im2col(x) + b), the weights packed in iw, on
// nt goroutines.
func convIndirect(p *convProblem, d *convDWPlan, iw *indirectWeights, x, b, y []float32, epi *convEpi, yoff, nt int) {
	ik := iw.ik
	chanLen := d.sh * d.sw * d.planeLen
	// The last column tile of a band reads up to NR floats past the
	// deepest tap's row: zeroed slack after the last channel.
	planes := convScratch[float32](p.cg*chanLen + ik.NR)
	defer convRelease(planes)
	d.fillPlanes(planes, x, p.cg, p.inSize, chanLen, nt)
	clear(planes[p.cg*chanLen:])

	offs := make([]int32, iw.k)
	for r := range offs {
		t := r % p.kSize
		offs[r] = int32(r/p.kSize*chanLen + d.tapPlane[t]*d.planeLen + d.tapOffs[t])
	}
	// Depth blocks of whole channels, about convIndirectDepth steps: a
	// block's A panels (MR·kb floats a tile) stay in L2 while every column
	// tile passes over them, and one column tile's B rows stay in L1
	// while every row tile reads them.
	kb := iw.kb
	var blocks []*gemm.Offsets
	for k0 := 0; k0 < iw.k; k0 += kb {
		blocks = append(blocks, gemm.NewOffsets(offs[k0:min(iw.k, k0+kb)]))
	}

	// Bands of bh output rows keep the scratch product in cache while its
	// rows are copied out (as convPadGemmEpi does).
	bh := d.oh
	if p.mg*d.oh*d.pw > convPadBand {
		bh = max(1, min(d.oh, convPadBand/(p.mg*d.pw)))
	}
	ldc := roundUpInt(bh*d.pw, ik.NR)
	tiles := (p.mg + ik.MR - 1) / ik.MR
	c := convScratch[float32](tiles * ik.MR * ldc)
	defer convRelease(c)
	for r0 := 0; r0 < d.oh; r0 += bh {
		r1 := min(d.oh, r0+bh)
		n := (r1 - r0) * d.pw
		base := planes[r0*d.pw:]
		// Row tiles [lo, hi): depth blocks, then column tiles, then rows.
		tile := func(lo, hi int) {
			for bi, off := range blocks {
				k0 := bi * kb
				depth := min(kb, iw.k-k0)
				for j := 0; j < n; j += ik.NR {
					for t := lo; t < hi; t++ {
						ik.Run(depth, iw.panel(t, k0), base[j:], off, c[t*ik.MR*ldc+j:], ldc, bi > 0)
					}
				}
			}
			for o := lo * ik.MR; o < min(p.mg, hi*ik.MR); o++ {
				convIndirectRow(p, d, y, c[o*ldc:], b, epi, yoff, o, r0, r1)
			}
		}
		if nt > 1 && tiles > 1 {
			// One contiguous run of row tiles a thread, as even as whole
			// tiles allow (parallelFor's four chunks a worker left one
			// thread 12 of ResNet's 19 tiles at 14²).
			w := min(nt, tiles)
			parallelFor(w, ik.MR*iw.k*n*tiles/w, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					tile(i*tiles/w, (i+1)*tiles/w)
				}
			})
		} else {
			tile(0, tiles)
		}
	}
}

// convIndirectRow copies output channel o's rows [r0, r1) from the product
// row src (row stride pw) to y, adding the bias and finishing them with epi.
func convIndirectRow(p *convProblem, d *convDWPlan, y, src, b []float32, epi *convEpi, yoff, o, r0, r1 int) {
	at := o*p.outSize + r0*d.ow
	var bias float32
	if b != nil {
		bias = b[o]
	}
	for r := r0; r < r1; r++ {
		dst, s := y[o*p.outSize+r*d.ow:][:d.ow], src[(r-r0)*d.pw:][:d.ow]
		if bias != 0 {
			for i, v := range s {
				dst[i] = v + bias
			}
		} else {
			copy(dst, s)
		}
	}
	epi.apply(y[at:][:(r1-r0)*d.ow], yoff+at)
}

// indirectWeightsOf returns p's weights w packed for the indirect path
// from the prepared-weights cache, or nil when p does not take the path
// (not eligible, or weights not prepared: see prepared.go).
func (p *convProblem) indirectWeightsOf(w []float32) (*convDWPlan, *indirectWeights) {
	if p.wt == nil {
		return nil, nil
	}
	d := p.indirectPlan()
	if d == nil {
		return nil, nil
	}
	ik := convIndirectPick(p.mg, min(d.oh*d.pw, max(d.pw, convPadBand/p.mg)))
	k := p.cg * p.kSize
	v := prepared(p.wt, w[:p.mg*k], "indirect", [4]int{ik.MR, ik.NR, p.mg, p.kSize}, func() (any, int) {
		iw := packIndirect(ik, w, p.mg, k, max(1, convIndirectDepth/p.kSize)*p.kSize) // whole channels
		return iw, len(iw.a)
	})
	iw, _ := v.(*indirectWeights)
	if iw == nil {
		return nil, nil
	}
	return d, iw
}

// convForwardIndirect computes every image of p through convIndirect:
// images dealt out over the threads when there are enough of them, else
// one after the other on all threads.
func convForwardIndirect(p *convProblem, d *convDWPlan, iw *indirectWeights, x, b, y []float32) {
	image := func(n, nt int) {
		yoff := n * p.m * p.outSize
		convIndirect(p, d, iw, x[n*p.c*p.inSize:][:p.c*p.inSize], b, y[yoff:][:p.m*p.outSize], p.epi, yoff, nt)
	}
	nt := Threads()
	if p.n >= 2*nt && nt > 1 {
		parallelFor(p.n, p.m*p.outSize*iw.k, func(lo, hi int) {
			for n := lo; n < hi; n++ {
				image(n, 1)
			}
		})
		return
	}
	for n := range p.n {
		image(n, nt)
	}
}
