package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmPackedStrided checks products with pre-packed B against the
// float64 reference: several column and depth blocks, row counts that
// pick either AVX-512 tile, ragged edges, one and several goroutines.
func TestSgemmPackedStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{16, 64, 64}, {56, 64, 64}, {4, 512, 300}, {33, 1100, 70}, {7, 20, 5}, {1, 40, 9}} {
		m, n, k := s[0], s[1], s[2]
		const batch = 5 // dealt out whole over 2 goroutines
		a := newMatrix(r, batch*m, k, 0, 0)
		bm := newMatrix(r, batch*k, n, 0, 0)
		bs := make([]*PackedB, batch)
		for i := range bs {
			bs[i] = PackB(m, n, k, bm.data[i*k*n:], n)
		}
		for _, nt := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%dx%dx%d/t%d", m, n, k, nt), func(t *testing.T) {
				c := make([]float32, batch*m*n)
				SgemmPackedStrided(nt, m, a.data, k, m*k, bs, c, n, m*n)
				for i := range batch {
					ai := matrix{rows: m, cols: k, ld: k, data: a.data[i*m*k:]}
					bi := matrix{rows: k, cols: n, ld: n, data: bm.data[i*k*n:]}
					want, scale := reference(false, false, m, n, k, 1, ai, bi, 0, matrix{})
					for e, w := range want {
						if got := float64(c[i*m*n+e]); math.Abs(got-w) > 1e-5*scale[e] {
							t.Fatalf("batch %d elem %d = %v, want %v", i, e, got, w)
						}
					}
				}
			})
		}
	}
}
