package pgrad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMax2x2Pos checks the kernel against its Go twin bit for bit, over
// rows of 1 to 40 windows drawn from a few values with ties, zeros of both
// signs, negatives, infinities and NaNs, and that it writes no column past
// 2n.
func TestMax2x2Pos(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, 2, -1, -3, 0.5,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN())}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 40; n++ {
		for trial := range 20 {
			r0, r1 := make([]float32, 2*n), make([]float32, 2*n)
			for i := range r0 {
				r0[i], r1[i] = vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
				if trial%2 == 0 { // mostly ordinary values
					r0[i], r1[i] = float32(rng.IntN(5)-1), float32(rng.IntN(5)-1)
				}
			}
			dy := make([]float32, n)
			for i := range dy {
				dy[i] = float32(rng.IntN(9)) - 4.5
			}
			got0, got1 := make([]float32, 2*n+1), make([]float32, 2*n+1)
			got0[2*n], got1[2*n] = 7, 7
			want0, want1 := make([]float32, 2*n), make([]float32, 2*n)
			Max2x2Pos(got0, got1, r0, r1, dy)
			max2x2PosGo(want0, want1, r0, r1, dy)
			if got0[2*n] != 7 || got1[2*n] != 7 {
				t.Fatalf("n=%d: wrote past the row", n)
			}
			for i := range want0 {
				if math.Float32bits(got0[i]) != math.Float32bits(want0[i]) || math.Float32bits(got1[i]) != math.Float32bits(want1[i]) {
					t.Fatalf("n=%d col %d: got %v %v, twin %v %v (r0 %v r1 %v dy %v)", n, i, got0[i], got1[i], want0[i], want1[i], r0, r1, dy)
				}
			}
		}
	}
}

// TestMax2x2 checks the forward kernel against Go's max over rows of 1
// to 40 windows: bit for bit, except that any NaN matches any NaN.
func TestMax2x2(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, 2, -1, -3, 0.5,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN())}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 40; n++ {
		for trial := range 20 {
			r0, r1 := make([]float32, 2*n), make([]float32, 2*n)
			for i := range r0 {
				r0[i], r1[i] = vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
				if trial%2 == 0 {
					r0[i], r1[i] = vals[rng.IntN(7)], vals[rng.IntN(7)] // no NaN or infinity
				}
			}
			got, want := make([]float32, n+1), make([]float32, n)
			got[n] = 7
			Max2x2(got[:n], r0, r1)
			max2x2Go(want, r0, r1)
			if got[n] != 7 {
				t.Fatalf("n=%d: wrote past the row", n)
			}
			for i := range want {
				g, w := got[i], want[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
					t.Fatalf("n=%d [%d]: got %v (%#x), Go's max %v (%#x); r0 %v r1 %v", n, i, g, math.Float32bits(g), w, math.Float32bits(w), r0, r1)
				}
			}
		}
	}
}
