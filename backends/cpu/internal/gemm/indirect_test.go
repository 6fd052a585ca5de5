package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIndirect runs every indirect kernel this machine supports against
// the Go twin and a float64 sum, over depths that reach the unrolled loop
// and its tail, with offsets that go backwards, repeat and overlap.
func TestIndirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	for _, im := range impls {
		ik := im.indirect
		if ik == nil {
			continue
		}
		n++
		twin := IndirectGo(ik.MR, ik.NR)
		for _, k := range []int{1, 3, 4, 7, 64, 301} {
			w := make([]float32, 13*k) // a row-major m×k matrix, m = MR-1 (one zero row)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			m := min(ik.MR-1, 13)
			a := make([]float32, ik.MR*k)
			ik.PackA(a, w, k, m, 0, k)
			b := make([]float32, 500+ik.NR)
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			offs := make([]int32, k)
			for q := range offs {
				offs[q] = int32(r.IntN(500))
			}
			off := NewOffsets(offs)
			const ldc = 61
			got := make([]float32, (ik.MR-1)*ldc+ik.NR)
			want := make([]float32, len(got))
			for i := range got {
				got[i] = float32(math.NaN()) // set, not accumulated
			}
			// Two depth blocks, the second accumulated, where k allows.
			h := k / 2
			if h == 0 {
				ik.Run(k, a, b, off, got, ldc, false)
			} else {
				ik.Run(h, a, b, off.Block(0, h), got, ldc, false)
				ik.Run(k-h, a[h*ik.MR:], b, off.Block(h, k), got, ldc, true)
			}
			twin.Run(k, a, b, off, want, ldc, false)
			for i := range ik.MR {
				for j := range ik.NR {
					var ref float64
					if i < m {
						for q := range k {
							ref += float64(w[i*k+q]) * float64(b[int(offs[q])+j])
						}
					}
					g, tw := got[i*ldc+j], want[i*ldc+j]
					tol := 1e-5 * (1 + math.Sqrt(float64(k))) * 4
					if math.Abs(float64(g)-ref) > tol || math.Abs(float64(tw)-ref) > tol {
						t.Fatalf("%v k=%d c[%d][%d]: kernel %v, twin %v, float64 %v", ik, k, i, j, g, tw, ref)
					}
				}
			}
		}
	}
	t.Logf("%d indirect kernels checked", n)
}

// TestIndirectBounds checks that Run refuses offsets reading past B.
func TestIndirectBounds(t *testing.T) {
	ik := IndirectGo(4, 16)
	a := make([]float32, 4*2)
	b := make([]float32, 40)
	c := make([]float32, 4*16)
	defer func() {
		if recover() == nil {
			t.Fatal("Run read past B without a panic")
		}
	}()
	ik.Run(2, a, b, NewOffsets([]int32{0, 30}), c, 16, false)
}

// BenchmarkIndirect is each indirect kernel alone on cache-resident
// operands, B rows aligned to 64 bytes or not (a convolution's taps).
func BenchmarkIndirect(b *testing.B) {
	for _, im := range impls {
		ik := im.indirect
		if ik == nil {
			continue
		}
		for _, shift := range []int{0, 1} {
			b.Run(fmt.Sprintf("%v/shift=%d", ik, shift), func(b *testing.B) {
				const k = 256
				a := make([]float32, ik.MR*k)
				bm := make([]float32, 16*k+ik.NR+32)
				offs := make([]int32, k)
				for q := range offs {
					offs[q] = int32(16*((q*7)%k) + shift) // 64-byte rows, shuffled
				}
				off := NewOffsets(offs)
				c := make([]float32, ik.MR*ik.NR)
				for b.Loop() {
					ik.Run(k, a, bm, off, c, ik.NR, true)
				}
				b.ReportMetric(2*float64(ik.MR*ik.NR*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
