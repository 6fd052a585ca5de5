package gemm

import (
	"sync"
)

// kernelFunc sets the mr×nr tile c (row stride ldc) to a·b, or adds a·b to
// it when accumulate is set; a is a packed mr×k panel, b a packed k×nr
// panel, k ≥ 1.
type kernelFunc func(k int, a, b, c []float32, ldc int, accumulate bool)

// impl is one micro-kernel with its tile and the cache blocking tuned for it.
type impl struct {
	name       string
	mr, nr     int // register tile
	mc, kc, nc int // cache blocks; mc is a multiple of mr, nc of nr
	kernel     kernelFunc
}

// parallelMin is the m·n·k below which a call stays on one goroutine: under
// it the goroutine hand-off and the duplicated packing cost more than the
// second core gives (measured with BenchmarkSgemmSmall).
const parallelMin = 1 << 18

// sgemm runs p on up to nt goroutines, each computing a slab of C.
func (im *impl) sgemm(p *problem, nt int) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		p.scaleC()
		return
	}
	nt = min(nt, max(p.m*p.n*p.k/parallelMin, 1))
	if nt <= 1 {
		im.run(p)
		return
	}
	parts := im.split(p, nt)
	var wg sync.WaitGroup
	for i := 1; i < len(parts); i++ {
		wg.Go(func() { im.run(&parts[i]) })
	}
	im.run(&parts[0])
	wg.Wait()
}

// split cuts C into at most nt slabs of whole tiles along its longer side
// (or the side that has enough tiles), so no two goroutines write the same
// element and each packs only the operand panels it needs.
func (im *impl) split(p *problem, nt int) []problem {
	tm, tn := ceilDiv(p.m, im.mr), ceilDiv(p.n, im.nr)
	byRows := p.m > p.n
	if byRows && tm < nt && tn > tm {
		byRows = false
	} else if !byRows && tn < nt && tm > tn {
		byRows = true
	}
	tiles, unit, size := tn, im.nr, p.n
	if byRows {
		tiles, unit, size = tm, im.mr, p.m
	}
	nt = min(nt, tiles)
	parts := make([]problem, 0, nt)
	for i := range nt {
		lo := min(tiles*i/nt*unit, size)
		hi := min(tiles*(i+1)/nt*unit, size)
		if byRows {
			parts = append(parts, p.sub(lo, hi, 0, p.n))
		} else {
			parts = append(parts, p.sub(0, p.m, lo, hi))
		}
	}
	return parts
}

// batch runs independent problems: each on all threads when it is large,
// else the batch is dealt out over the threads.
func (im *impl) batch(ps []problem, nt int) {
	if len(ps) == 0 {
		return
	}
	p := &ps[0]
	if nt <= 1 || len(ps) == 1 || p.m*p.n*p.k >= parallelMin*nt {
		for i := range ps {
			im.sgemm(&ps[i], nt)
		}
		return
	}
	nt = min(nt, len(ps))
	var wg sync.WaitGroup
	for t := range nt {
		wg.Go(func() {
			for i := t; i < len(ps); i += nt {
				im.sgemm(&ps[i], 1)
			}
		})
	}
	wg.Wait()
}

// run computes p on the calling goroutine with the blocked loops:
// jc over nc columns, pc over kc depth (B slice packed), ic over mc rows
// (A block packed), then the macro-kernel over tiles.
func (im *impl) run(p *problem) {
	if p.m == 0 || p.n == 0 {
		return
	}
	accFirst := p.beta != 0
	if p.beta != 0 && p.beta != 1 {
		p.scaleC()
	}
	kb0 := min(im.kc, p.k)
	bufA := getBuffer(min(im.mc, roundUp(p.m, im.mr)) * kb0)
	bufB := getBuffer(min(im.nc, roundUp(p.n, im.nr)) * kb0)
	edge := getBuffer(im.mr * im.nr)
	for jc := 0; jc < p.n; jc += im.nc {
		nb := min(im.nc, p.n-jc)
		for pc := 0; pc < p.k; pc += im.kc {
			kb := min(im.kc, p.k-pc)
			im.packB(bufB.f, p, pc, kb, jc, nb)
			acc := accFirst || pc > 0
			for ic := 0; ic < p.m; ic += im.mc {
				mb := min(im.mc, p.m-ic)
				im.packA(bufA.f, p, ic, mb, pc, kb)
				c := p.c[ic*p.ldc+jc:]
				im.macro(bufA.f, bufB.f, mb, nb, kb, c, p.ldc, acc, edge.f)
			}
		}
	}
	putBuffer(bufA)
	putBuffer(bufB)
	putBuffer(edge)
}

// macro multiplies the packed mb×kb block of A by the packed kb×nb slice of
// B into c; partial tiles go through the edge buffer.
func (im *impl) macro(ap, bp []float32, mb, nb, kb int, c []float32, ldc int, acc bool, edge []float32) {
	mr, nr := im.mr, im.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		b := bp[jr*kb:]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			a := ap[ir*kb:]
			if rows == mr && cols == nr {
				im.kernel(kb, a, b, c[ir*ldc+jr:], ldc, acc)
				continue
			}
			im.kernel(kb, a, b, edge, nr, false)
			for i := range rows {
				dst := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				src := edge[i*nr : i*nr+cols]
				if acc {
					for j, v := range src {
						dst[j] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
