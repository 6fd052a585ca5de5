package dwconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randRow(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// TestTapsMatchesGeneric runs Taps (assembly where the CPU has it) against
// its plain Go twin over lengths around the vector widths and every tap
// count, setting and accumulating.
func TestTapsMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 100, 3136} {
		for taps := 0; taps <= MaxTaps; taps++ {
			for _, acc := range []bool{false, true} {
				src := make([][]float32, taps)
				for k := range src {
					src[k] = randRow(r, n+k) // rows may be longer than dst
				}
				w := randRow(r, taps)
				init := randRow(r, n)
				got := append([]float32(nil), init...)
				want := append([]float32(nil), init...)
				Taps(got, src, w, 0.5, acc)
				tapsGeneric(want, src, w, 0.5, acc, 0)
				for i := range want {
					if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("n %d taps %d acc %v: dst[%d] = %v, want %v", n, taps, acc, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestTapsValues(t *testing.T) {
	dst := make([]float32, 9)
	a := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b := []float32{9, 8, 7, 6, 5, 4, 3, 2, 1}
	Taps(dst, [][]float32{a, b}, []float32{2, -1}, 10, false)
	want := []float32{3, 6, 9, 12, 15, 18, 21, 24, 27} // 10 + 2a - b = 3a
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
}

func TestTapsShortRowPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a source row shorter than dst")
		}
	}()
	Taps(make([]float32, 8), [][]float32{make([]float32, 7)}, []float32{1}, 0, false)
}

// BenchmarkTaps compares the assembly with the Go twin on a 56x58 plane
// (a 3x3 depthwise layer of MobileNetV2).
func BenchmarkTaps(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 56 * 58
	src := make([][]float32, 9)
	for k := range src {
		src[k] = randRow(r, n+200)
	}
	w := randRow(r, 9)
	dst := make([]float32, n)
	for _, asm := range []bool{true, false} {
		b.Run(fmt.Sprintf("asm=%v", asm && useAsm), func(b *testing.B) {
			for b.Loop() {
				if asm {
					Taps(dst, src, w, 0, false)
				} else {
					tapsGeneric(dst, src, w, 0, false, 0)
				}
			}
			b.ReportMetric(2*9*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
