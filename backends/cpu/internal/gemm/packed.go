package gemm

import "fmt"

// PackedB is a k×n B matrix packed once into the micro-panels of one
// kernel, for products that reuse it many times with different A (a
// convolution's transformed weights): they skip packing B, which for
// few rows of A costs as much as the multiply. Its blocks are laid out
// as the blocked loops visit them: for each nc-wide column block jc,
// for each kc-deep slice pc, the packB panels of that block, at offset
// jc·k + roundUp(nb, nr)·pc.
type PackedB struct {
	im     *impl
	k, n   int
	kc, nc int
	data   []float32
}

// PackB packs the row-major k×n matrix b (row stride ldb) for products
// with about m rows of A (m picks the kernel, as Sgemm would).
func PackB(m, n, k int, b []float32, ldb int) *PackedB {
	p := problem{m: 1, n: n, k: k, b: b, ldb: ldb, a: make([]float32, max(k, 1)), lda: max(k, 1), c: make([]float32, max(n, 1)), ldc: max(n, 1)}
	if err := p.check(); err != nil {
		panic(fmt.Errorf("gemm: PackB: %w", err))
	}
	im := pick(max(m, 1), n)
	kc, nc := im.blocks(max(k, 1), n)
	pb := &PackedB{im: im, k: k, n: n, kc: kc, nc: nc, data: make([]float32, roundUp(n, im.nr)*k+packSlack)}
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			im.packB(pb.block(jc, pc, nb), &p, pc, min(kc, k-pc), jc, nb)
		}
	}
	return pb
}

// block is the packed block of columns [jc, jc+nb) and depth from pc.
func (pb *PackedB) block(jc, pc, nb int) []float32 {
	return pb.data[jc*pb.k+roundUp(nb, pb.im.nr)*pc:]
}

// SgemmPackedStrided sets C_i = A_i·B_i for i < len(bs): A_i (m×k, row
// stride lda) starts at a[i*strideA], B_i is bs[i] (all the same k×n and
// kernel), C_i (row stride ldc) at c[i*strideC]; on up to nt goroutines:
// two or more products a goroutine are dealt out whole, fewer split as
// SgemmStridedThreads does.
func SgemmPackedStrided(nt, m int, a []float32, lda, strideA int, bs []*PackedB, c []float32, ldc, strideC int) {
	if len(bs) == 0 {
		return
	}
	b0 := bs[0]
	ps := make([]problem, len(bs))
	for i, pb := range bs {
		if pb.k != b0.k || pb.n != b0.n || pb.im != b0.im {
			panic(fmt.Errorf("gemm: SgemmPackedStrided: B %d differs from B 0", i))
		}
		ps[i] = problem{m: m, n: pb.n, k: pb.k, alpha: 1, a: tail(a, i*strideA), lda: lda,
			bPacked: pb, ldb: max(pb.n, 1), c: tail(c, i*strideC), ldc: ldc}
		if err := ps[i].check(); err != nil {
			panic(fmt.Errorf("gemm: SgemmPackedStrided: batch %d: %w", i, err))
		}
	}
	nt = max(nt, 1)
	if nt > 1 && len(ps) >= 2*nt {
		// Deal the products out whole: with B packed and A read in place
		// nothing is packed twice, and one parallel section replaces one
		// per product.
		deal(nt, func(t int) {
			for i := t; i < len(ps); i += nt {
				b0.im.sgemm(&ps[i], 1)
			}
		})
		return
	}
	b0.im.batch(ps, nt)
}
