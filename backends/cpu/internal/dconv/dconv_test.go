package dconv

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRows3x3 checks the kernels against their Go twin (which they must
// match to rounding) and the twin against a float64 definition; the
// stores must stay inside each row's width.
func TestRows3x3(t *testing.T) {
	for _, tc := range []struct{ cin, rows, width int }{
		{1, 28, 28}, {16, 14, 14}, {32, 14, 14}, {3, 5, 16}, {2, 3, 17}, {4, 2, 32}, {1, 1, 1}, {5, 4, 9},
	} {
		mb := Block(tc.width)
		span := 16 * ((tc.width + 15) / 16)
		xrs := tc.width + 2 + 1 // a wider padded row than needed
		xcs := (tc.rows+2)*xrs + 3
		ysr, ycs := tc.width+1, (tc.width+1)*tc.rows+2
		rng := rand.New(rand.NewPCG(uint64(tc.cin), uint64(tc.width)))
		x := make([]float32, (tc.cin-1)*xcs+(tc.rows+1)*xrs+2+span)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		w := make([]float32, tc.cin*9*mb)
		for i := range w {
			w[i] = rng.Float32()*2 - 1
		}
		bias := make([]float32, mb)
		for i := range bias {
			bias[i] = float32(i) / 4
		}
		ny := (mb-1)*ycs + (tc.rows-1)*ysr + tc.width + 1
		got, twin := make([]float32, ny), make([]float32, ny)
		for i := range got {
			got[i], twin[i] = -7, -7
		}
		Rows3x3(got, x, w, bias, tc.cin, xcs, xrs, ycs, tc.rows, ysr, tc.width)
		rows3x3Go(twin, x, w, bias, mb, tc.cin, xcs, xrs, ycs, tc.rows, ysr, tc.width)
		for i := range got {
			if d := math.Abs(float64(got[i] - twin[i])); d > 1e-5 {
				t.Fatalf("%+v: y[%d] = %v, twin %v", tc, i, got[i], twin[i])
			}
		}
		for m := range mb {
			for r := range tc.rows {
				for p := range tc.width + 1 {
					want := -7.0
					if p < tc.width {
						want = float64(bias[m])
						for c := range tc.cin {
							for i := range 3 {
								for j := range 3 {
									want += float64(w[(c*9+i*3+j)*mb+m]) * float64(x[c*xcs+(r+i)*xrs+p+j])
								}
							}
						}
					}
					if g := twin[m*ycs+r*ysr+p]; math.Abs(float64(g)-want) > 1e-4 {
						t.Fatalf("%+v: y[m=%d r=%d p=%d] = %v, want %v", tc, m, r, p, g, want)
					}
				}
			}
		}
	}
}

// TestGrad3x3 checks the gradient kernels against their Go twin and the
// twin's lane sums against a float64 definition; lanes from the width on
// keep their values.
func TestGrad3x3(t *testing.T) {
	for _, tc := range []struct{ cin, rows, width int }{
		{1, 28, 28}, {16, 14, 14}, {3, 5, 16}, {2, 3, 17}, {4, 2, 32}, {1, 1, 1}, {5, 4, 9},
	} {
		mb := Block(tc.width)
		span := 16 * ((tc.width + 15) / 16)
		xrs := tc.width + 3
		xcs := (tc.rows+2)*xrs + 3
		dysr, dycs := tc.width+1, (tc.width+1)*tc.rows+2
		rng := rand.New(rand.NewPCG(uint64(tc.cin), uint64(tc.width)))
		fill := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = rng.Float32()*2 - 1
			}
			return v
		}
		x := fill((tc.cin-1)*xcs + (tc.rows+1)*xrs + 2 + span)
		dy := fill((mb-1)*dycs + (tc.rows-1)*dysr + tc.width)
		got := fill(tc.cin * 9 * mb * span)
		init, twin := slices.Clone(got), slices.Clone(got)
		Grad3x3(got, x, dy, tc.cin, xcs, xrs, dycs, tc.rows, dysr, tc.width)
		grad3x3Go(twin, x, dy, mb, tc.cin, xcs, xrs, dycs, tc.rows, dysr, tc.width)
		for i := range got {
			if d := math.Abs(float64(got[i] - twin[i])); d > 1e-4 {
				t.Fatalf("%+v: part[%d] = %v, twin %v", tc, i, got[i], twin[i])
			}
		}
		for c := range tc.cin {
			for tap := range 9 {
				for m := range mb {
					k := ((c*9+tap)*mb + m) * span
					for l := tc.width; l < span; l++ {
						if got[k+l] != init[k+l] {
							t.Fatalf("%+v: lane %d beyond the width changed", tc, l)
						}
					}
					want, sum := 0.0, 0.0
					for l := range tc.width {
						sum += float64(twin[k+l] - init[k+l])
						for r := range tc.rows {
							want += float64(dy[m*dycs+r*dysr+l]) * float64(x[c*xcs+(r+tap/3)*xrs+l+tap%3])
						}
					}
					if math.Abs(sum-want) > 1e-3 {
						t.Fatalf("%+v: dW[m=%d c=%d tap=%d] = %v, want %v", tc, m, c, tap, sum, want)
					}
				}
			}
		}
	}
}

// TestCopyRows copies rows of 1 to 32 floats and checks that nothing
// around them is written.
func TestCopyRows(t *testing.T) {
	for width := 1; width <= 32; width++ {
		const rows, ds, ss = 3, 40, 33
		src := make([]float32, (rows-1)*ss+width)
		for i := range src {
			src[i] = float32(i + 1)
		}
		dst := make([]float32, rows*ds)
		CopyRows(dst, src, rows, width, ds, ss)
		for i, v := range dst {
			r, c := i/ds, i%ds
			want := float32(0)
			if c < width {
				want = src[r*ss+c]
			}
			if v != want {
				t.Fatalf("width %d: dst[%d] = %v, want %v", width, i, v, want)
			}
		}
	}
}
