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

// convSgemmImpls are the float32 products checked against convNaiveGemm:
// the SIMD one every kernel calls and its pure-Go blocked twin.
var convSgemmImpls = []struct {
	name string
	fn   func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}{{"gemm", convSgemm}, {"ref", convSgemmRef}}

func TestConvSgemmMatchesNaive(t *testing.T) {
	for _, im := range convSgemmImpls {
		t.Run(im.name, func(t *testing.T) { convCheckSgemm(t, im.fn) })
	}
}

func convCheckSgemm(t *testing.T, sgemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
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
		{5, 6, 3, false, false, 0, 2},
		{1, 300, 70, false, false, 1, 0},
		{300, 1, 70, true, false, 1, 1},
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
		sgemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
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

// BenchmarkConvSgemm256 compares the SIMD product with its pure-Go twin.
func BenchmarkConvSgemm256(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 256
	x, y, z := convRandF32(r, n*n), convRandF32(r, n*n), make([]float32, n*n)
	for _, im := range convSgemmImpls {
		b.Run(im.name, func(b *testing.B) {
			for b.Loop() {
				im.fn(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestGemmRoutesMatchFloat64 checks the float32 products that go to the
// SIMD GEMM (recurrent mxMatMulNT and mxMatMul, einsum's redMatMul) against
// their float64 loops.
func TestGemmRoutesMatchFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ nb, m, n, k int }{{1, 1, 1, 1}, {2, 3, 5, 7}, {3, 17, 40, 33}, {1, 70, 2, 130}, {2, 4, 4, 0}} {
		a32 := convRandF32(r, sz.nb*sz.m*sz.k)
		b32 := convRandF32(r, sz.nb*sz.k*sz.n)
		c32 := convRandF32(r, sz.m*sz.n)
		a64, b64, c64 := convF64(a32), convF64(b32), convF64(c32)
		m, n, k := sz.m, sz.n, sz.k
		mxMatMulNT(c32, a32, b32[:n*k], m, n, k, true)
		mxMatMulNT(c64, a64, b64[:n*k], m, n, k, true)
		convCloseF32(t, "mxMatMulNT acc", c32, c64)
		mxMatMulNT(c32, a32, b32[:n*k], m, n, k, false)
		mxMatMulNT(c64, a64, b64[:n*k], m, n, k, false)
		convCloseF32(t, "mxMatMulNT", c32, c64)
		mxMatMul(c32, a32, b32[:n*k], m, n, k)
		mxMatMul(c64, a64, b64[:n*k], m, n, k)
		convCloseF32(t, "mxMatMul", c32, c64)
		convCloseF32(t, "redMatMul", redMatMul(a32, b32, sz.nb, m, k, n), redMatMul(a64, b64, sz.nb, m, k, n))
	}
}

func convF64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func convCloseF32(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		if g := float64(got[i]); math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, g, w)
		}
	}
}
