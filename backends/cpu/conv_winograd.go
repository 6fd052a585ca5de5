package cpu

import (
	"math"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/winograd"
)

// Winograd F(4x4, 3x3) convolution for float32 3x3 kernels with unit
// strides and dilations, one group and enough channels (convWinogradOK).
// Each 4x4 block of output (a tile) comes from a 6x6 block of input, and
// the per-channel work becomes 36 matrix products of tiles × C by C × M
// instead of one of (16·tiles) × 9C by 9C × M: 2.25 times fewer
// multiplications than the direct product on whole tiles (4 times on the
// 3x3 kernel's 144 per tile and channel pair).
//
// Tiles go in chunks (winoChunks: whole tile rows of an image, or whole
// small images), each run in four stages:
//
//  1. the chunk's input rows are transposed channel-last into a zero-padded
//     scratch (xt: rows × (4·tw+2) × cp, cp = C rounded up to 16);
//  2. each tile's 6x6 block is transformed (winograd.Input, SIMD over the
//     channels) into v: 36 matrices of tiles × cp;
//  3. 36 GEMMs z[e] = v[e] · u[e], u the transformed weights (cp × mp,
//     packed for the GEMM kernel once and cached across calls,
//     winoWeights);
//  4. per tile row, each tile is transformed back straight into y's planes
//     (winograd.OutputPlanes: bias added and the clamp applied in the same
//     pass; tiles sticking out of the plane through a scratch).
//
// Step 4 is where a fused activation goes: the clamp of winoEpilogue
// covers Relu and Clip inside the transform, and its fn sees each
// finished range of y (one channel, up to 4 output rows) while it is
// still in cache, for anything else (a residual Add, say).

// winoEpilogue is applied by the output stage: y = clamp(conv + bias, lo,
// hi) (lo = -Inf, hi = +Inf: none), then fn(y, lo, hi) over each
// finished range [lo, hi) of y, one channel's part of a tile row (nil: none).
type winoEpilogue struct {
	lo, hi float32
	fn     func(y []float32, lo, hi int)
}

// winoNoEpilogue leaves y = conv + bias.
var winoNoEpilogue = winoEpilogue{lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}

// winoEpilogueOf is FusedConv's epilogue e (nil: none) for the output
// stage: Relu and Clip without a residual become the clamp inside the
// transform; the rest (a residual, LeakyRelu, a NaN bound) runs e over
// each finished range.
func winoEpilogueOf(e *convEpi) winoEpilogue {
	ep := winoNoEpilogue
	switch {
	case e == nil:
	case e.res == nil && e.act == epiRelu:
		ep.lo = 0
	case e.res == nil && e.act == epiClip && !e.nan:
		ep.lo, ep.hi = e.lo, e.hi
	default:
		ep.fn = func(y []float32, lo, hi int) { e.apply(y[lo:hi], lo) }
	}
	return ep
}

// convWinogradOn switches the Winograd path (tests turn it off for the
// direct twin).
var convWinogradOn = true

// Smallest channel counts that go through Winograd: below, the transforms
// cost more than they save, and ONNX's small conformance cases keep the
// direct path.
const (
	winoMinC = 16
	winoMinM = 16
)

// convWinogradOK reports whether p runs as Winograd F(4x4,3x3): 2-D,
// 3x3, unit strides and dilations, one group, at least winoMinC input and
// winoMinM output channels, and at least winoMinTiles tiles.
func (p *convProblem) convWinogradOK() bool {
	g := p.geo
	if !convWinogradOn || len(g.in) != 2 || p.group != 1 || p.c < winoMinC || p.m < winoMinM {
		return false
	}
	for d := range 2 {
		if g.kernel[d] != 3 || g.strides[d] != 1 || g.dilations[d] != 1 {
			return false
		}
	}
	per := ceilDivInt(g.out[0], winograd.Out) * ceilDivInt(g.out[1], winograd.Out)
	if per < winoChunkTiles { // chunks of whole images
		per *= min(p.n, max(1, winoChunkTiles/per))
	}
	return per >= winoMinTiles
}

// winoMinTiles is the fewest tiles (of 4x4 outputs) per chunk that go
// through Winograd. Each chunk reads all the transformed weights, 4 times
// as many floats as direct weights (36 per 3x3 kernel), while the
// multiplications saved grow with its tiles, so with few tiles the
// products are bound by reading them. Inside ResNet-18 (batch 1, one
// thread, the weights coming from memory) 256 channels at 14² (16 tiles)
// ran slower than direct and 128 at 28² (49 tiles) faster; 512 at 7² (4
// tiles) is 0.65 times as fast even alone (BenchmarkConvWinograd). Larger
// batches put several images in a chunk.
var winoMinTiles = 32

// winoGeo is one image's tiling.
type winoGeo struct {
	c, m, cp, mp int // channels, and rounded up to 16
	h, w, oh, ow int // input and output planes
	pt, pl       int // padding above and left
	th, tw       int // tile rows and columns
	wp           int // xt row width in positions: 4·tw + 2
}

func newWinoGeo(p *convProblem) *winoGeo {
	g := p.geo
	wg := &winoGeo{c: p.c, m: p.m, cp: roundUp16(p.c), mp: roundUp16(p.m),
		h: g.in[0], w: g.in[1], oh: g.out[0], ow: g.out[1], pt: g.padBegin[0], pl: g.padBegin[1]}
	wg.th, wg.tw = ceilDivInt(wg.oh, winograd.Out), ceilDivInt(wg.ow, winograd.Out)
	wg.wp = winograd.Out*wg.tw + 2
	return wg
}

func roundUp16(n int) int { return (n + 15) &^ 15 }

func ceilDivInt(a, b int) int { return (a + b - 1) / b }

// winoChunkTiles is about how many tiles one chunk holds (whole tile rows,
// at least one): v and z stay within the L2 cache for 64 channels.
var winoChunkTiles = 64

// winoChunk is a block of tiles run together: images [n0, n1), tile rows
// [ty0, ty1) of each (all of them when n1 - n0 > 1).
type winoChunk struct{ n0, n1, ty0, ty1 int }

func (c winoChunk) tiles(wg *winoGeo) int { return (c.n1 - c.n0) * (c.ty1 - c.ty0) * wg.tw }

// winoChunks cuts n images into chunks of about winoChunkTiles tiles:
// whole tile rows of one image, or whole images.
func winoChunks(wg *winoGeo, n int) []winoChunk {
	var out []winoChunk
	if per := wg.th * wg.tw; per < winoChunkTiles {
		k := max(1, winoChunkTiles/per)
		for n0 := 0; n0 < n; n0 += k {
			out = append(out, winoChunk{n0, min(n, n0+k), 0, wg.th})
		}
		return out
	}
	rows := max(1, winoChunkTiles/wg.tw)
	for i := range n {
		for ty := 0; ty < wg.th; ty += rows {
			out = append(out, winoChunk{i, i + 1, ty, min(wg.th, ty+rows)})
		}
	}
	return out
}

// winoRowChunks cuts one image into chunks of rows tile rows. One image
// that fits a single chunk (128 channels at 28²: 7 tile rows) runs faster
// on two threads as four chunks of two rows dealt out than as one chunk
// whose four stages are each split: ResNet-18's three such layers took
// 2.8 ms per inference at 2 threads, 2.3 as chunks of two rows, 3.3 as
// chunks of one row (too few tiles for the products).
func winoRowChunks(wg *winoGeo, rows int) []winoChunk {
	var out []winoChunk
	for ty := 0; ty < wg.th; ty += rows {
		out = append(out, winoChunk{0, 1, ty, min(wg.th, ty+rows)})
	}
	return out
}

// convWinograd computes y (N×M×oh×ow) = conv(x, w) + b through Winograd,
// then ep; false (nothing done) when the weight cache declines them
// (winoWeights: the caller runs the direct path). Chunks go over the threads when there are at least two per
// thread (one parallel section rather than four per chunk), otherwise
// each chunk's stages are split over the threads.
func convWinograd(p *convProblem, x, w, b, y []float32, ep winoEpilogue) bool {
	wg := newWinoGeo(p)
	chunks := winoChunks(wg, p.n)
	u := winoWeights(p.wt, w, wg, chunks[0].tiles(wg), p.n*wg.th*wg.tw)
	if u == nil {
		return false
	}
	bias := make([]float32, wg.mp)
	copy(bias, b)
	nt := Threads()
	if nt > 1 && len(chunks) < 2*nt && p.n == 1 && wg.th >= 2*nt {
		chunks = winoRowChunks(wg, ceilDivInt(wg.th, 2*nt))
	}
	if nt > 1 && len(chunks) >= 2*nt {
		parallelFor(len(chunks), 1<<20, func(lo, hi int) {
			for _, c := range chunks[lo:hi] {
				winoRun(wg, x, u, bias, y, c, 1, ep)
			}
		})
		return true
	}
	for _, c := range chunks {
		winoRun(wg, x, u, bias, y, c, nt, ep)
	}
	return true
}

// winoRun runs one chunk (x: N×C×h×w, y: N×M×oh×ow) on up to nt
// goroutines.
func winoRun(wg *winoGeo, x []float32, u []*gemm.PackedB, bias, y []float32, c winoChunk, nt int, ep winoEpilogue) {
	imgs, trows := c.n1-c.n0, c.ty1-c.ty0
	tc := c.tiles(wg)
	xtRows := winograd.Out*trows + 2
	xtImg := xtRows * wg.wp * wg.cp
	xtLen := imgs * xtImg
	vLen := winograd.N * tc * wg.cp
	zLen := winograd.N * tc * wg.mp
	buf := convScratch[float32](xtLen + vLen + zLen)
	defer convRelease(buf)
	xt, v, z := buf[:xtLen], buf[xtLen:][:vLen], buf[xtLen+vLen:][:zLen]
	run := func(n, cost int, fn func(lo, hi int)) {
		if nt > 1 {
			parallelFor(n, cost, fn)
			return
		}
		fn(0, n)
	}
	// 1. Input rows, channel-last, zero-padded: the padding first, then
	// the transposes by groups of 8 channels over all the chunk's rows.
	ih0 := winograd.Out*c.ty0 - wg.pt
	for img := range imgs {
		winoPad(wg, xt[img*xtImg:][:xtImg], ih0, xtRows)
	}
	groups := ceilDivInt(wg.c, 8)
	run(imgs*groups, xtRows*wg.w*8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			img, g := i/groups, i%groups
			xn := x[(c.n0+img)*wg.c*wg.h*wg.w:][:wg.c*wg.h*wg.w]
			winoFillGroup(wg, xt[img*xtImg:][:xtImg], xn, ih0, xtRows, g)
		}
	})
	// 2. Input transform, tile by tile.
	perImg := trows * wg.tw
	run(tc, winograd.N*wg.cp*8, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, ty, tx := t/perImg, t%perImg/wg.tw, t%wg.tw
			src := xt[img*xtImg+(winograd.Out*ty*wg.wp+winograd.Out*tx)*wg.cp:]
			winograd.Input(v[t*wg.cp:], tc*wg.cp, src, wg.wp*wg.cp, wg.cp, wg.cp)
		}
	})
	// 3. The 36 products.
	gemm.SgemmPackedStrided(nt, tc, v, wg.cp, tc*wg.cp, u, z, wg.mp, tc*wg.mp)
	// 4. Output transform, by tile rows and blocks of output channels.
	blocks := ceilDivInt(wg.m, winoBlock)
	run(imgs*trows*blocks, wg.tw*winograd.N*winoBlock*8, func(lo, hi int) {
		edge := convScratch[float32](winograd.Out * winograd.Out * winoBlock)
		defer convRelease(edge)
		for i := lo; i < hi; i++ {
			row, m0 := i/blocks, i%blocks*winoBlock
			img, r := row/trows, row%trows
			winoOutRow(wg, z[row*wg.tw*wg.mp:], tc*wg.mp, bias, y, edge, c.n0+img, c.ty0+r, m0, ep)
		}
	})
}

// winoPad zeroes what of xt (xtRows rows × wp positions × cp channels,
// row r holding input row ih0 + r) is padding: rows outside the input,
// the columns left and right of it, and channels c to cp.
func winoPad(wg *winoGeo, xt []float32, ih0, xtRows int) {
	rowLen := wg.wp * wg.cp
	end := min(wg.pl+wg.w, wg.wp)
	for r := range xtRows {
		row := xt[r*rowLen:][:rowLen]
		if ih := ih0 + r; ih < 0 || ih >= wg.h {
			clear(row)
			continue
		}
		clear(row[:wg.pl*wg.cp])
		clear(row[end*wg.cp:])
		if wg.cp > wg.c {
			for q := wg.pl; q < end; q++ {
				clear(row[q*wg.cp+wg.c : (q+1)*wg.cp])
			}
		}
	}
}

// winoFillGroup transposes channels [8g, 8g+8) of the image x into xt
// (see winoPad) for every row inside the input. Going channel group by
// channel group reads each channel's rows as one run (a few KiB the
// prefetcher follows) where a row at a time reads 8-float pieces of every
// channel: 2-3 times slower when x comes from memory.
func winoFillGroup(wg *winoGeo, xt, x []float32, ih0, xtRows, g int) {
	rowLen := wg.wp * wg.cp
	cols := min(wg.pl+wg.w, wg.wp) - wg.pl // input columns that land in xt
	c0 := 8 * g
	nc := min(8, wg.c-c0)
	plane := wg.h * wg.w
	for r := max(0, -ih0); r < min(xtRows, wg.h-ih0); r++ {
		ih := ih0 + r
		gemm.Transpose(xt[r*rowLen+wg.pl*wg.cp+c0:], wg.cp, x[c0*plane+ih*wg.w:], plane, nc, cols)
	}
}

// winoOutRow transforms output channels [m0, m0+16) of one tile row
// (tile row ty of image n; z starts at its first tile, zs between
// transformed positions) straight into y's planes, then runs ep.fn over
// the rows written. One block of 16 channels at a time keeps the output
// lines it fills across the row (16 × 4 rows) in L1 between the tiles'
// 16-byte pieces (all channels at once thrash it: +60% time on 64×56²).
// Tiles that stick out of the plane go through edge (16·16 floats) and
// are cropped.
func winoOutRow(wg *winoGeo, z []float32, zs int, bias, y, edge []float32, n, ty, m0 int, ep winoEpilogue) {
	plane := wg.oh * wg.ow
	base := n * wg.m * plane
	oy0 := winograd.Out * ty
	rows := min(winograd.Out, wg.oh-oy0)
	nb := min(winoBlock, wg.m-m0)
	ym := y[base+m0*plane:]
	for tx := range wg.tw {
		zt := z[tx*wg.mp+m0:]
		ox := winograd.Out * tx
		cols := min(winograd.Out, wg.ow-ox)
		if rows == winograd.Out && cols == winograd.Out {
			winograd.OutputPlanes(ym[oy0*wg.ow+ox:], wg.ow, plane, zt, zs, bias[m0:], ep.lo, ep.hi, nb)
			continue
		}
		winograd.OutputPlanes(edge, winograd.Out, 16, zt, zs, bias[m0:], ep.lo, ep.hi, nb)
		for m := range nb {
			for i := range rows {
				copy(ym[m*plane+(oy0+i)*wg.ow+ox:][:cols], edge[m*16+i*winograd.Out:][:cols])
			}
		}
	}
	if ep.fn != nil {
		for m := m0; m < m0+nb; m++ {
			ep.fn(y, base+m*plane+oy0*wg.ow, base+m*plane+(oy0+rows)*wg.ow)
		}
	}
}

// winoBlock is the channels the output stage writes at a time.
const winoBlock = 16
