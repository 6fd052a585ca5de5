package cpu

import (
	"math"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
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
// split over the workers by 32-column panels, or by 14-row tiles when
// there are too few panels. yg starts at element yoff of the output.
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
	panels, tiles := (n+31)/32, (m+13)/14
	if nt <= 1 || m*n*k < 1<<18 {
		return run(0, m, 0, n)
	}
	if !run(0, 0, 0, 0) { // no kernel on this CPU
		return false
	}
	if panels >= 2*nt {
		parallelFor(panels, 32*m*k, func(lo, hi int) { run(0, m, lo*32, min(n, hi*32)) })
		return true
	}
	parallelFor(tiles, 14*n*k, func(lo, hi int) { run(lo*14, min(m, hi*14), 0, n) })
	return true
}
