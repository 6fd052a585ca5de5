package gemm

import ()

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
	// kernelU, when set, is kernel reading A unpacked: mr rows of k floats
	// at a with row stride lda.
	kernelU func(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool)
	// kernelB and kernelUB, when set, are kernel and kernelU starting from
	// bias[i] on row i and overwriting c (the first depth block of a
	// product with a row bias).
	kernelB  func(k int, a, b, bias, c []float32, ldc int)
	kernelUB func(k int, a []float32, lda int, b, bias, c []float32, ldc int)
	// packRuns, when set, is packB's row copy: for q < kb and r < runs it
	// copies src[q*ldb+r*nr:][:nr] to dst[r*kb*nr+q*nr:].
	packRuns func(dst, src []float32, kb, runs, ldb int)
	// transpose8, when set, is the transposing half of packing: for i < 8
	// and q < 8·blocks it sets dst[q*w+i] = scale·src[i*ld+q]. Its stores
	// are 8 wide, so for w < 8 they spill into the next row (see
	// transposePanel).
	transpose8 func(dst, src []float32, ld, blocks, w int, scale float32)
	// indirect, when set, is the tile's kernel with B read through row
	// offsets (indirect.go).
	indirect *Indirect
	dot      func(x, y []float32) float32        // Σ x[i]·y[i]
	axpy     func(alpha float32, x, y []float32) // y += alpha·x
}

// parallelMin is the m·n·k below which a call stays on one goroutine: 64³,
// about 5 µs on one core, where handing half to a goroutine (a few µs)
// and packing the shared operand twice stop paying. BenchmarkSgemmSmall
// measures the crossover with the threshold off.
var parallelMin = 1 << 18

// sgemm runs p on up to nt goroutines, each computing a slab of C.
func (im *impl) sgemm(p *problem, nt int) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		p.scaleC()
		if p.rowBias != nil {
			p.addBias(p.c, 0, p.m, p.n, false)
		}
		return
	}
	nt = min(nt, max(p.m*p.n*p.k/parallelMin, 1))
	if nt <= 1 {
		im.run(p)
		return
	}
	parts := im.split(p, nt)
	var wg group
	for i := 1; i < len(parts); i++ {
		wg.Go(func() { im.run(&parts[i]) })
	}
	im.run(&parts[0])
	wg.Wait()
}

// split cuts C into at most nt slabs of whole tiles, so no two goroutines
// write the same element. Each slab packs only its share of one operand but
// all of the other, so the side to cut is the one that duplicates less
// packing: A (transposing, about packCostA times dearer per element than
// B's row copies) is shared when cutting columns, B when cutting rows.
func (im *impl) split(p *problem, nt int) []problem {
	tm, tn := ceilDiv(p.m, im.mr), ceilDiv(p.n, im.nr)
	ka, kb := float64(p.m)*packCostA, float64(p.n)
	byRows := ka/float64(nt)+kb <= ka+kb/float64(nt)
	switch {
	case byRows && tm < nt*2 && tn > tm:
		byRows = false
	case !byRows && tn < nt*2 && tm > tn:
		byRows = true
	}
	if p.bPacked != nil { // its blocks are laid out for all the columns
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

// packCostA is the packing cost per element of A relative to B, roughly,
// from BenchmarkPack (transposing vs copying rows).
const packCostA = 2

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
	deal(nt, func(t int) {
		for i := t; i < len(ps); i += nt {
			im.sgemm(&ps[i], 1)
		}
	})
}

// run computes p on the calling goroutine with the blocked loops:
// jc over nc columns, pc over kc depth (B slice packed), ic over mc rows
// (A block packed), then the macro-kernel over tiles.
func (im *impl) run(p *problem) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if (p.m == 1 || p.n == 1) && p.bPack == nil && p.bPacked == nil {
		p.scaleC()
		im.gemv(p)
		if p.rowBias != nil {
			p.addBias(p.c, 0, p.m, p.n, false)
		}
		return
	}
	accFirst := p.beta != 0
	if p.beta != 0 && p.beta != 1 {
		p.scaleC()
	}
	// Even blocks: k = 576 runs as 3×192 rather than 256+256+64, so no
	// block is a thin one that pays the tile loads and stores for little work.
	kc, nc := im.blocks(p.k, p.n)
	mc := roundUp(ceilDiv(p.m, ceilDiv(p.m, im.mc)), im.mr)
	// Unpacked A skips the transposing copy of a row-major A (alpha folds
	// into packing, so only alpha = 1). It pays where few column panels
	// share each packed block (BenchmarkUnpackedA: 512x49x4608 +25%, equal
	// from n = 784 up), so wide products keep packing.
	unpacked := useUnpackedA && im.kernelU != nil && !p.transA && p.alpha == 1 && p.n < unpackedMaxN
	bufA := getBuffer(mc*kc + packSlack)
	bufB := getBuffer(nc*kc + packSlack)
	edge := getBuffer(im.mr * im.nr)
	for jc := 0; jc < p.n; jc += nc {
		nb := min(nc, p.n-jc)
		for pc := 0; pc < p.k; pc += kc {
			kb := min(kc, p.k-pc)
			bp := bufB.f
			if p.bPacked != nil {
				bp = p.bPacked.block(jc, pc, nb)
			} else {
				im.packB(bp, p, pc, kb, jc, nb)
			}
			for ic := 0; ic < p.m; ic += mc {
				mb := min(mc, p.m-ic)
				c := p.c[ic*p.ldc+jc:]
				acc := accFirst || pc > 0
				var bias []float32 // set: the kernels start from it
				if pc == 0 && p.rowBias != nil {
					if !accFirst && im.kernelB != nil && im.kernelUB != nil {
						bias = p.rowBias[ic : ic+mb]
					} else {
						p.addBias(c, ic, mb, nb, !accFirst)
						acc = true
					}
				}
				var a unpackedRows // whole tiles read A in place; the rest packed
				if unpacked {
					a = unpackedRows{a: p.a[ic*p.lda+pc:], lda: p.lda, full: mb / im.mr * im.mr}
				}
				if a.full < mb {
					im.packA(bufA.f, p, ic+a.full, mb-a.full, pc, kb)
				}
				im.macro(a, bufA.f, bp, mb, nb, kb, c, p.ldc, acc, edge.f, bias)
			}
		}
	}
	putBuffer(bufA)
	putBuffer(bufB)
	putBuffer(edge)
}

// blocks returns the depth and column blocking of a product with depth k
// and n columns (PackB lays out its blocks the same way).
func (im *impl) blocks(k, n int) (kc, nc int) {
	return ceilDiv(k, ceilDiv(k, im.kc)), roundUp(ceilDiv(n, ceilDiv(n, im.nc)), im.nr)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
