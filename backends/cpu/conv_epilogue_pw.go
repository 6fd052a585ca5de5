package cpu

import (
	"math"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/workers"
)

// pwBounds returns what gemm.Pointwise applies of the epilogue: the clamp
// bounds (±Inf where absent) and the residual, laid out as y (nil when
// none). ok is false for an epilogue it cannot apply (LeakyRelu, a NaN
// Clip bound).
func (e *convEpi) pwBounds() (lo, hi float32, res []float32, ok bool) {
	inf := float32(math.Inf(1))
	if e == nil {
		return -inf, inf, nil, true
	}
	switch {
	case e.act == epiNone:
		return -inf, inf, e.res, true
	case e.act == epiRelu:
		return 0, inf, e.res, true
	case e.act == epiClip && !e.nan:
		return e.lo, e.hi, e.res, true
	}
	return 0, 0, nil, false
}

// convPointwiseTiles runs group g's pointwise product with its epilogue
// through gemm.Pointwise (no packing, masked edge tiles, the epilogue in
// the kernel's registers) and reports whether it could. The work is
// split over the workers in near-equal blocks of whole 32-column panels
// and 14-row tiles (see pwSplit). yg starts at element yoff of the output.
func convPointwiseTiles(p *convProblem, xg, wg, bg, yg []float32, yoff, nt int) bool {
	lo, hi, res, ok := p.epi.pwBounds()
	if !ok {
		return false
	}
	if res != nil {
		res = res[yoff:]
	}
	if bg == nil {
		bg = make([]float32, p.mg)
	}
	m, n, k := p.mg, p.outSize, p.cg
	run := func(i0, i1, j0, j1 int) bool {
		var r []float32
		if res != nil {
			r = res[i0*n+j0:]
		}
		return gemm.Pointwise(i1-i0, j1-j0, k, wg[i0*k:], k, xg[j0:], p.inSize, bg[i0:], r, lo, hi, yg[i0*n+j0:], n)
	}
	if nt <= 1 || m*n*k < 1<<18 {
		return run(0, m, 0, n)
	}
	if !run(0, 0, 0, 0) { // no kernel on this CPU
		return false
	}
	s := pwSplit(m, n, nt)
	workers.Run(s.colBlocks*s.rowBlocks, nt-1, func(i int) {
		cb, rb := i/s.rowBlocks, i%s.rowBlocks
		j0, i0 := cb*s.cols, rb*s.rows
		run(i0, min(m, i0+s.rows), j0, min(n, j0+s.cols))
	})
	return true
}

// pwBlocks is a split of an m×n pointwise output into colBlocks×rowBlocks
// blocks of cols×rows (the last ones in each direction may be short).
type pwBlocks struct{ cols, rows, colBlocks, rowBlocks int }

// pwSplit cuts an m×n output into about 8 blocks per worker, each a whole
// number of 14-row tiles and 32-column panels: row blocks first (up to 8
// a worker, so each worker writes whole runs of output channels), then
// the panels in as many column blocks as are still wanted. Eight blocks a
// worker keep the last block's wait short (MobileNet's 14² layers have 7
// panels: split by panels alone, one worker ran 4 and the other 3). Row
// blocks first measured ~4% faster on MobileNetV2 at 2 threads than
// panel blocks first.
func pwSplit(m, n, nt int) pwBlocks {
	panels, tiles := (n+31)/32, (m+13)/14
	want := 8 * nt
	rb := min(tiles, want)
	per := (tiles + rb - 1) / rb
	cb := min(panels, (want+rb-1)/rb)
	pp := (panels + cb - 1) / cb
	return pwBlocks{cols: 32 * pp, rows: 14 * per, colBlocks: (panels + pp - 1) / pp, rowBlocks: (tiles + per - 1) / per}
}
