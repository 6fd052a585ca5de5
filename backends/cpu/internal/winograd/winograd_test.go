package winograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// widths lists the assembly widths this CPU runs (0: Go only).
func widths() []int {
	out := []int{0}
	if l := lanes(); l >= 8 {
		out = append(out, 8)
		if l == 16 {
			out = append(out, 16)
		}
	}
	return out
}

func withLanes(t *testing.T, w int, f func()) {
	t.Helper()
	if w == 0 {
		old := vecLanesSet(0)
		defer vecLanesSet(old)
	} else {
		old := vecLanesSet(w)
		defer vecLanesSet(old)
	}
	f()
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestTile checks the whole F(4x4,3x3) tile: Output(Weights ⊙ Input)
// equals the direct 3x3 correlation of the 6x6 input (float64), for
// several lane counts (vector bodies and Go tails) and each width.
func TestTile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range widths() {
		for _, n := range []int{1, 7, 8, 16, 19, 40} {
			t.Run(fmt.Sprintf("w%d/n%d", w, n), func(t *testing.T) {
				withLanes(t, w, func() {
					// x: 6x6 positions, n channels last, row stride 6n+3 (padding).
					rs, cs := 6*n+3, n
					x := randSlice(r, 6*rs)
					kern := randSlice(r, n*9) // n kernels: M=n, C=1
					bias := randSlice(r, n)
					u := make([]float32, N*n)
					Weights(u, kern, 1, n, 1, n, 0, 1)
					vs := n + 5
					v := make([]float32, N*vs)
					Input(v, vs, x, rs, cs, n)
					z := make([]float32, N*vs)
					for e := range N {
						for l := range n {
							z[e*vs+l] = v[e*vs+l] * u[e*n+l]
						}
					}
					yrs, ycs := 4*n+1, n
					y := make([]float32, 4*yrs)
					Output(y, yrs, ycs, z, vs, bias, float32(math.Inf(-1)), float32(math.Inf(1)), n)
					worst := 0.0
					for l := range n {
						for i := range 4 {
							for j := range 4 {
								want := float64(bias[l])
								for p := range 3 {
									for q := range 3 {
										want += float64(x[(i+p)*rs+(j+q)*cs+l]) * float64(kern[l*9+p*3+q])
									}
								}
								got := float64(y[i*yrs+j*ycs+l])
								worst = max(worst, math.Abs(got-want))
							}
						}
					}
					if worst > 2e-5*10 {
						t.Fatalf("max abs error %g", worst)
					}
				})
			})
		}
	}
}

// TestAsmTwin checks the assembly against the Go twin bit for bit on the
// input transform and within rounding on the output (FMA).
func TestAsmTwin(t *testing.T) {
	if lanes() == 0 {
		t.Skip("no assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, w := range widths()[1:] {
		n := 3 * w
		rs, cs := 6*n, n
		x := randSlice(r, 6*rs)
		vs := n
		got, want := make([]float32, N*vs), make([]float32, N*vs)
		withLanes(t, w, func() { Input(got, vs, x, rs, cs, n) })
		inputGeneric(want, vs, x, rs, cs, n)
		if d := maxDiff(got, want); d > 1e-5 {
			t.Errorf("w%d: Input differs by %g (relative)", w, d)
		}
		z := randSlice(r, N*vs)
		bias := randSlice(r, n)
		for _, lh := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 6}, {-1, 0.5}} {
			z[5] = float32(math.NaN())
			yg, yw := make([]float32, 16*n), make([]float32, 16*n)
			withLanes(t, w, func() { Output(yg, 4*n, n, z, vs, bias, lh[0], lh[1], n) })
			outputGeneric(yw, 4*n, n, z, vs, bias, lh[0], lh[1], n, 1)
			for i := range yg {
				a, b := yg[i], yw[i]
				if math.IsNaN(float64(a)) != math.IsNaN(float64(b)) || math.Abs(float64(a-b)) > 1e-4*(1+math.Abs(float64(b))) {
					t.Fatalf("w%d clamp %v: y[%d] = %g, Go twin %g", w, lh, i, a, b)
				}
				if b < lh[0] || b > lh[1] {
					t.Fatalf("y[%d] = %g outside %v", i, b, lh)
				}
			}
		}
	}
}

// maxDiff is the largest |a-b| / (1+|b|) (FMA rounds differently).
func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i]))/(1+math.Abs(float64(b[i]))))
	}
	return d
}

// TestOutputPlanes checks OutputPlanes (every width, Go tails) against
// Output: the same values, one plane per lane, and nothing written
// between the blocks.
func TestOutputPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, w := range widths() {
		for _, n := range []int{1, 8, 16, 21, 48} {
			withLanes(t, w, func() {
				zs := n + 3
				z := randSlice(r, N*zs)
				bias := randSlice(r, n)
				lo, hi := float32(-0.5), float32(2)
				want := make([]float32, 16*n)
				outputGeneric(want, 4*n, n, z, zs, bias, lo, hi, n, 1)
				rs, cs := 7, 31 // plane row stride and plane size
				y := make([]float32, n*cs)
				for i := range y {
					y[i] = 99
				}
				OutputPlanes(y, rs, cs, z, zs, bias, lo, hi, n)
				for l := range n {
					for q := range cs {
						i, j := q/rs, q%rs
						exp := float32(99)
						if i < 4 && j < 4 {
							exp = want[i*4*n+j*n+l]
						}
						got := y[l*cs+q]
						if math.Abs(float64(got-exp)) > 1e-4*(1+math.Abs(float64(exp))) {
							t.Fatalf("w%d n%d: lane %d (%d,%d) = %g, want %g", w, n, l, i, j, got, exp)
						}
					}
				}
			})
		}
	}
}

// BenchmarkWeights is the kernel transform of a 512×512×3×3 weight (done
// once per weights, then cached by the caller).
func BenchmarkWeights(b *testing.B) {
	const c, m = 512, 512
	w := randSlice(rand.New(rand.NewPCG(1, 2)), m*c*9)
	u := make([]float32, N*c*m)
	for b.Loop() {
		Weights(u, w, c, m, c, m, 0, c)
	}
}
