package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPointwiseMatchesGeneric runs Pointwise against its Go twin over
// row counts around the 14-row tile, widths around the 32-column tile,
// depths around the unrolling and the depth block, with and without a
// residual and a clamp, and checks that nothing past column n is written.
func TestPointwiseMatchesGeneric(t *testing.T) {
	if !pwAvail {
		if Pointwise(1, 1, 1, []float32{1}, 1, []float32{1}, 1, []float32{0}, nil, 0, 1, []float32{0}, 1) {
			t.Fatal("Pointwise ran without kernels")
		}
		t.Skip("no pointwise kernels on this CPU")
	}
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	inf := float32(math.Inf(1))
	for _, m := range []int{1, 5, 14, 15, 28, 29, 57} {
		for _, n := range []int{1, 7, 16, 31, 32, 33, 49, 50, 51, 70} {
			for _, k := range []int{0, 1, 3, 4, 9, 24, 193, 400} {
				for ri, withRes := range []bool{false, true} {
					bounds := [2]float32{-inf, inf}
					if ri == 1 {
						bounds = [2]float32{-0.5, 1}
					}
					lda, ldb, ldc := k+3, n+5, n+2
					a, b, bias := rnd(max(0, (m-1)*lda+k)), rnd(max(0, (k-1)*ldb+n)), rnd(m)
					var res []float32
					if withRes {
						res = rnd((m-1)*ldc + n)
					}
					got, want := make([]float32, m*ldc), make([]float32, m*ldc)
					for i := range got {
						got[i], want[i] = 9, 9
					}
					if m > 1 && k > 0 {
						b[0] = float32(math.NaN())
					}
					name := fmt.Sprintf("m%d n%d k%d res %v", m, n, k, withRes)
					if !Pointwise(m, n, k, a, lda, b, ldb, bias, res, bounds[0], bounds[1], got, ldc) {
						t.Fatal("Pointwise reported no kernel")
					}
					pointwiseGeneric(m, n, k, a, lda, b, ldb, bias, res, bounds[0], bounds[1], want, ldc)
					for i := range want {
						g, e := float64(got[i]), float64(want[i])
						if math.IsNaN(g) != math.IsNaN(e) || math.Abs(g-e) > 1e-4*(1+math.Abs(e)) {
							t.Fatalf("%s: c[%d] = %v, want %v", name, i, g, e)
						}
					}
				}
			}
		}
	}
}

// TestPointwise16MatchesWide checks that the 16-column tiles give the
// 32-column tiles' results bit for bit (the same FMAs in the same order)
// for a panel of ≤ 16 columns: the 32-column kernel over the same rows,
// its upper vector masked off, is the reference.
func TestPointwise16MatchesWide(t *testing.T) {
	if !pwAvail {
		t.Skip("no pointwise kernels on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	for _, m := range []int{1, 3, 14, 27, 28, 57} {
		for _, n := range []int{1, 4, 16} {
			for _, k := range []int{0, 1, 5, 64, 192} {
				for flags := range 4 {
					lda, ldb, ldc := k+1, n+3, n+2
					a, b, bias := rnd(m*lda+1), rnd(k*ldb+1), rnd(m)
					res, init := rnd(m*ldc), rnd(m*ldc)
					got, want := append([]float32(nil), init...), append([]float32(nil), init...)
					mask := uint32(1)<<n - 1
					for i := range m { // one row at a time through the wide kernel
						pwKernels[0](k, &a[i*lda], lda, &b[0], ldb, &bias[i], &want[i*ldc], ldc, &res[i*ldc], -0.5, 1.5, mask, flags, 1)
					}
					rows, tiles := min(m, 28), max(1, m/28)
					pwKernels16[rows-1](k, &a[0], lda, &b[0], ldb, &bias[0], &got[0], ldc, &res[0], -0.5, 1.5, mask, flags, tiles)
					if i0 := rows * tiles; i0 < m {
						pwKernels16[m-i0-1](k, &a[i0*lda], lda, &b[0], ldb, &bias[i0], &got[i0*ldc], ldc, &res[i0*ldc], -0.5, 1.5, mask, flags, 1)
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("m%d n%d k%d flags %d: c[%d] = %v, want %v", m, n, k, flags, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestPointwiseValues(t *testing.T) {
	if !pwAvail {
		t.Skip("no pointwise kernels on this CPU")
	}
	// 2x3 = [1 2; 3 4] · [1 0 -1; 2 1 0] + bias [1, -1], clamped to [0, 9].
	a := []float32{1, 2, 3, 4}
	b := []float32{1, 0, -1, 2, 1, 0}
	c := make([]float32, 6)
	Pointwise(2, 3, 2, a, 2, b, 3, []float32{1, -1}, nil, 0, 9, c, 3)
	want := []float32{6, 3, 0, 9, 3, 0} // 6 3 0 / 10 3 -4 clamped
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("c = %v, want %v", c, want)
		}
	}
}

func TestPointwiseShortPanics(t *testing.T) {
	if !pwAvail {
		t.Skip("no pointwise kernels on this CPU")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short B")
		}
	}()
	Pointwise(2, 3, 2, make([]float32, 4), 2, make([]float32, 5), 3, make([]float32, 2), nil, 0, 1, make([]float32, 6), 3)
}

// BenchmarkPointwiseVsBias compares Pointwise with SgemmBias on pointwise
// layers of MobileNetV2 (m x n x k), GFLOP/s per busy core.
func BenchmarkPointwiseVsBias(b *testing.B) {
	for _, s := range []shape{{960, 49, 160}, {160, 49, 960}, {96, 196, 384}, {576, 196, 96}, {384, 196, 64}, {32, 784, 192}, {192, 784, 32}} {
		r := rand.New(rand.NewPCG(7, 8))
		a := newMatrix(r, s.m, s.k, 0, 0).data
		bm := newMatrix(r, s.k, s.n, 0, 0).data
		bias := newMatrix(r, 1, s.m, 0, 0).data
		c := make([]float32, s.m*s.n)
		inf := float32(math.Inf(1))
		for _, v := range []string{"pw", "bias"} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, v), func(b *testing.B) {
				c0 := cpuSeconds()
				for b.Loop() {
					if v == "pw" {
						Pointwise(s.m, s.n, s.k, a, s.k, bm, s.n, bias, nil, -inf, inf, c, s.n)
					} else {
						SgemmBias(1, s.m, s.n, s.k, 1, a, s.k, bm, s.n, bias, 0, c, s.n)
					}
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/(cpuSeconds()-c0)/1e9, "GF/core")
			})
		}
	}
}

// TestPwDots checks the dot products of Pointwise's last columns against
// dotGeneric over row counts around the 8-row kernels and depths around
// the 16-lane vector.
func TestPwDots(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 7, 8, 9, 19} {
		for _, k := range []int{1, 15, 16, 17, 32, 160, 961} {
			lda := k + 3
			a, x := make([]float32, (m-1)*lda+k), make([]float32, k)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			got := make([]float32, m)
			pwDots(a, lda, x, got)
			for i, g := range got {
				e := float64(dotGeneric(a[i*lda:][:k], x))
				if math.Abs(float64(g)-e) > 1e-4*(1+math.Abs(e))*math.Sqrt(float64(k)) {
					t.Fatalf("m%d k%d: out[%d] = %v, want %v", m, k, i, g, e)
				}
			}
		}
	}
}
