package cpu

import (
	"unsafe"
	"weak"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// Winograd F(2x2, 3x3) for the mid-sized planes where F(4x4, 3x3) loses
// (conv_winograd.go): ResNet's 256 channels at 14², batch 1. Each 2x2
// block of output comes from a 4x4 block of input with 16 multiplications
// per channel pair instead of 36 (2.25 times fewer than direct), and a
// 14² plane is 7x7 tiles exactly. The transformed weights are 16/9 of the
// weights (F(4x4)'s are 4 times), cached like F(4x4)'s (winoLookup: equal
// weights only, transformed on their second call).
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// One image at a time: its planes are transposed channel-last into a
// zero-padded scratch, each tile's 4x4 block transformed into v (16
// matrices of tiles × C), 16 GEMMs z[e] = v[e] · u[e] (u: C × M, packed
// once), each tile transformed back into a channel-last output, which is
// transposed into y's planes; then the bias and the epilogue.

// convWino2On switches the path. It pays since the Winograd cache trusts
// weights without comparing them (prepared.go) and the 16 products are
// dealt out so that the caller computes a share instead of waiting on a
// worker: ResNet-18 with it, 1 thread 24.8 -> 23.8 ms, 2 threads 14.2 ->
// 13.4 ms (its 256-channel 14² layers).
var convWino2On = true

// Planes of wino2MinOut to wino2MaxOut outputs with at least wino2MinC
// input and output channels go through F(2x2): from 10², the tile count
// keeps the GEMMs' 14-row tiles fairly full; above 20², F(4x4) takes
// them at batch 1 (its chunks reach winoMinTiles).
var (
	wino2MinOut = 100
	wino2MaxOut = 400
	wino2MinC   = 64
)

// wino2OK reports whether p runs as F(2x2, 3x3): 2-D, 3x3, unit strides
// and dilations, one group, and the sizes above.
func (p *convProblem) wino2OK() bool {
	g := p.geo
	if !convWino2On || !convWinogradOn || len(g.in) != 2 || p.group != 1 || p.c < wino2MinC || p.m < wino2MinC ||
		p.outSize < wino2MinOut || p.outSize > wino2MaxOut {
		return false
	}
	for d := range 2 {
		if g.kernel[d] != 3 || g.strides[d] != 1 || g.dilations[d] != 1 {
			return false
		}
	}
	return true
}

// wino2Geo is one image's tiling: th×tw tiles of 2x2 outputs over an
// xt of hp×wp positions (the padded input, channel-last).
type wino2Geo struct {
	c, m, h, w, oh, ow, pt, pl int
	th, tw, hp, wp             int
}

// convWinograd2 computes y (N×M×oh×ow) = epi(conv(x, w) + b) through
// F(2x2, 3x3); false (nothing done) when the weight cache declines.
func convWinograd2(p *convProblem, x, w, b, y []float32) bool {
	g := p.geo
	q := &wino2Geo{c: p.c, m: p.m, h: g.in[0], w: g.in[1], oh: g.out[0], ow: g.out[1], pt: g.padBegin[0], pl: g.padBegin[1]}
	q.th, q.tw = (q.oh+1)/2, (q.ow+1)/2
	q.hp, q.wp = 2*q.th+2, 2*q.tw+2
	t := q.th * q.tw
	u := wino2Weights(p.wt, w, q.c, q.m, t)
	if u == nil {
		return false
	}
	xtLen, vLen, zLen := q.hp*q.wp*q.c, 16*t*q.c, 16*t*q.m
	buf := convScratch[float32](xtLen + vLen + zLen + p.outSize*q.m)
	defer convRelease(buf)
	xt, v := buf[:xtLen], buf[xtLen:xtLen+vLen]
	z, yt := buf[xtLen+vLen:][:zLen], buf[xtLen+vLen+zLen:][:p.outSize*q.m]
	nt := Threads()
	split := func(n, cost int, fn func(lo, hi int)) {
		if nt > 1 {
			parallelFor(n, cost, fn)
		} else {
			fn(0, n)
		}
	}
	for n := 0; n < p.n; n++ {
		clear(xt)
		split(q.h, q.w*q.c, func(lo, hi int) { wino2Pad(q, xt, x[n*q.c*p.inSize:][:q.c*p.inSize], lo, hi) })
		split(t, 40*q.c, func(lo, hi int) { wino2Input(q, v, xt, lo, hi) })
		gemm.SgemmPackedStrided(nt, t, v, q.c, t*q.c, u, z, q.m, t*q.m)
		split(t, 30*q.m, func(lo, hi int) { wino2Output(q, yt, z, lo, hi) })
		yoff := n * q.m * p.outSize
		yn := y[yoff:][:q.m*p.outSize]
		split(q.m, 3*p.outSize, func(lo, hi int) {
			gemm.Transpose(yn[lo*p.outSize:], p.outSize, yt[lo:], q.m, p.outSize, hi-lo)
			for o := lo; o < hi; o++ {
				plane := yn[o*p.outSize:][:p.outSize]
				if b != nil {
					vecmath.AddScalar(plane, plane, b[o])
				}
				p.epi.apply(plane, yoff+o*p.outSize)
			}
		})
	}
	return true
}

// wino2Pad sets input rows [lo, hi) of xt (hp×wp×C, zeroed: the padding)
// from one image's planes x (C×h×w), channel-last.
func wino2Pad(q *wino2Geo, xt, x []float32, lo, hi int) {
	inSize := q.h * q.w
	cols := min(q.w, q.wp-q.pl)
	for r := lo; r < hi && r+q.pt < q.hp; r++ {
		gemm.Transpose(xt[((r+q.pt)*q.wp+q.pl)*q.c:], q.c, x[r*q.w:], inSize, q.c, cols)
	}
}

// wino2Input sets v[e][t][c] = (Bᵀ d B)[e] for tiles [lo, hi), d the 4x4
// block of xt under tile t (Bᵀ rows 1 0 -1 0, 0 1 1 0, 0 -1 1 0, 0 1 0 -1),
// as adds and subtracts of whole channel runs (vecmath).
func wino2Input(q *wino2Geo, v, xt []float32, lo, hi int) {
	c, t := q.c, q.th*q.tw
	tmp := make([]float32, 16*c)
	var r [4][4][]float32
	for i := range 4 {
		for j := range 4 {
			r[i][j] = tmp[(i*4+j)*c:][:c]
		}
	}
	for tile := lo; tile < hi; tile++ {
		ty, tx := tile/q.tw, tile%q.tw
		d := func(i, j int) []float32 { return xt[((2*ty+i)*q.wp+2*tx+j)*c:][:c] }
		for j := range 4 {
			d0, d1, d2, d3 := d(0, j), d(1, j), d(2, j), d(3, j)
			vecmath.Sub(r[0][j], d0, d2)
			vecmath.Add(r[1][j], d1, d2)
			vecmath.Sub(r[2][j], d2, d1)
			vecmath.Sub(r[3][j], d1, d3)
		}
		o := func(e int) []float32 { return v[(e*t+tile)*c:][:c] }
		for i := range 4 {
			a := &r[i]
			vecmath.Sub(o(i*4), a[0], a[2])
			vecmath.Add(o(i*4+1), a[1], a[2])
			vecmath.Sub(o(i*4+2), a[2], a[1])
			vecmath.Sub(o(i*4+3), a[1], a[3])
		}
	}
}

// wino2Output writes the 2x2 block Aᵀ Z A (Aᵀ rows 1 1 1 0, 0 1 -1 -1) of
// tiles [lo, hi) into yt (oh·ow positions × M), Z[e] = z[e][t][:], as adds
// and subtracts of whole channel runs; outputs past the plane's edge go to
// a scratch.
func wino2Output(q *wino2Geo, yt, z []float32, lo, hi int) {
	m, t := q.m, q.th*q.tw
	tmp := make([]float32, 9*m)
	var a [2][4][]float32
	for i := range 2 {
		for j := range 4 {
			a[i][j] = tmp[(i*4+j)*m:][:m]
		}
	}
	spill := tmp[8*m:][:m]
	for tile := lo; tile < hi; tile++ {
		ty, tx := tile/q.tw, tile%q.tw
		zs := func(e int) []float32 { return z[(e*t+tile)*m:][:m] }
		for j := range 4 {
			z0, z1, z2, z3 := zs(j), zs(4+j), zs(8+j), zs(12+j)
			vecmath.Add(a[0][j], z0, z1)
			vecmath.Add(a[0][j], a[0][j], z2)
			vecmath.Sub(a[1][j], z1, z2)
			vecmath.Sub(a[1][j], a[1][j], z3)
		}
		for i := range 2 {
			for j := range 2 {
				out := spill
				if 2*ty+i < q.oh && 2*tx+j < q.ow {
					out = yt[((2*ty+i)*q.ow+2*tx+j)*m:][:m]
				}
				r := &a[i]
				if j == 0 {
					vecmath.Add(out, r[0], r[1])
					vecmath.Add(out, out, r[2])
				} else {
					vecmath.Sub(out, r[1], r[2])
					vecmath.Sub(out, out, r[3])
				}
			}
		}
	}
}

// wino2Weights returns U (16 matrices C × M, packed for products of t
// rows) for the weights w (M×C×3×3), through the Winograd cache
// (conv_winograd_cache.go); nil when the convolution should run direct.
func wino2Weights(wt *ir.Tensor, w []float32, c, m, t int) []*gemm.PackedB {
	w = w[:m*c*9]
	owner, epoch := weak.Make(wt), inplaceEpoch.Load()
	// cp, mp = -2 tell F(2x2) entries from F(4x4)'s.
	key := winoKey{ptr: uintptr(unsafe.Pointer(&w[0])), n: len(w), c: c, m: m, cp: -2, mp: -2, rows: t}
	need := len(w) + 16*(roundUpInt(m, 48)*c+16)
	u, ok, changes, marker := winoLookup(key, w, need, t >= winoAdmitTiles, owner, epoch)
	if marker != 0 {
		winoWatch(&w[0], winoRef{key: key, id: marker})
	}
	if u != nil || !ok {
		return u
	}
	mat := c * m
	ut := make([]float32, 16*mat)
	parallelFor(m, c*200, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for i := range c {
				tile := wino2WeightTile(w[(o*c+i)*9:][:9])
				for e, val := range tile {
					ut[e*mat+i*m+o] = float32(val)
				}
			}
		}
	})
	packed := make([]*gemm.PackedB, 16)
	parallelFor(16, mat, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			packed[e] = gemm.PackB(t, m, c, ut[e*mat:], m)
		}
	})
	ent := &winoEntry{key: key, src: append([]float32(nil), w...), u: packed, floats: need, changes: changes, owner: owner, epoch: epoch}
	if winoStore(ent) {
		winoWatch(&w[0], winoRef{key: key, id: ent.id})
	}
	return packed
}

// wino2WeightTile is G g Gᵀ (row-major 4x4) in float64, G rows 1 0 0,
// ½ ½ ½, ½ -½ ½, 0 0 1.
func wino2WeightTile(g []float32) [16]float64 {
	var r [4][3]float64 // G g
	for j := range 3 {
		g0, g1, g2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
		r[0][j], r[1][j], r[2][j], r[3][j] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
	}
	var u [16]float64
	for i := range 4 {
		a := r[i]
		u[i*4], u[i*4+1], u[i*4+2], u[i*4+3] = a[0], (a[0]+a[1]+a[2])/2, (a[0]-a[1]+a[2])/2, a[2]
	}
	return u
}
