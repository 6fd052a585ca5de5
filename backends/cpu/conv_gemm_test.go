package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// convNaiveGemm is the reference twin of convSgemm, in float64.
func convNaiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			old := float64(c[i*ldc+j])
			if beta == 0 {
				old = 0
			}
			out[i*n+j] = float64(alpha)*s + float64(beta)*old
		}
	}
	return out
}

func convRandF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func TestConvSgemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		m, n, k     int
		ta, tb      bool
		alpha, beta float32
	}{
		{1, 1, 1, false, false, 1, 0},
		{3, 5, 7, false, false, 1, 0},
		{4, 4, 4, true, false, 2, 1},
		{17, 33, 9, false, true, 0.5, -1},
		{130, 70, 300, true, true, 1, 0.25},
		{64, 2100, 27, false, false, 1, 0},
		{300, 40, 513, false, true, -1, 1},
		{5, 0, 3, false, false, 1, 0},
		{5, 6, 0, false, false, 1, 2},
	}
	for _, tc := range cases {
		lda, ldb, ldc := tc.k+1, tc.n+2, tc.n+3
		if tc.ta {
			lda = tc.m + 1
		}
		if tc.tb {
			ldb = tc.k + 2
		}
		arows, brows := tc.m, tc.k
		if tc.ta {
			arows = tc.k
		}
		if tc.tb {
			brows = tc.n
		}
		a := convRandF32(r, arows*lda)
		b := convRandF32(r, brows*ldb)
		c := convRandF32(r, max(tc.m*ldc, 1))
		want := convNaiveGemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		convSgemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				g, w := float64(c[i*ldc+j]), want[i*tc.n+j]
				if math.Abs(g-w) > 1e-3*(1+math.Abs(w)) {
					t.Fatalf("%+v: C[%d,%d] = %v, want %v", tc, i, j, g, w)
				}
			}
		}
	}
}

func TestConvSgemmBetaZeroIgnoresNaN(t *testing.T) {
	c := []float32{float32(math.NaN()), float32(math.NaN())}
	convSgemm(false, false, 1, 2, 1, 1, []float32{2}, 1, []float32{3, 4}, 2, 0, c, 2)
	if c[0] != 6 || c[1] != 8 {
		t.Fatalf("got %v, want [6 8]", c)
	}
}

func BenchmarkConvSgemm256(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 256
	x, y, z := convRandF32(r, n*n), convRandF32(r, n*n), make([]float32, n*n)
	b.SetBytes(int64(2 * n * n * n)) // "bytes" are flops: MB/s reads as MFLOP/s
	for b.Loop() {
		convSgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	}
}
