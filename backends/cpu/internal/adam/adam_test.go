package adam

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlices(r *rand.Rand, n int) [4][]float32 {
	var s [4][]float32
	for k := range s {
		s[k] = make([]float32, n)
		for i := range s[k] {
			s[k][i] = float32(r.NormFloat64())
			if k == 3 { // h is a running mean of squares
				s[k][i] = float32(math.Abs(float64(s[k][i])))
			}
		}
	}
	return s
}

// TestStepMatchesGeneric runs Step (assembly where the CPU has it) against
// its Go twin around the vector width, and checks in-place updates.
func TestStepMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	p := Params{LR: 1e-3, Alpha: 0.9, Beta: 0.999, Eps: 1e-8, Norm: 0.01, Post: 0.001}
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 1000} {
		in := randSlices(r, n)
		var got, want [3][]float32
		for k := range got {
			got[k], want[k] = make([]float32, n), make([]float32, n)
		}
		Step(in[0], in[1], in[2], in[3], got[0], got[1], got[2], p)
		stepGeneric(in[0], in[1], in[2], in[3], want[0], want[1], want[2], p)
		for k := range got {
			for i := range want[k] {
				if d := math.Abs(float64(got[k][i] - want[k][i])); d > 1e-6*(1+math.Abs(float64(want[k][i]))) {
					t.Fatalf("n %d output %d [%d] = %v, want %v", n, k, i, got[k][i], want[k][i])
				}
			}
		}
		// In place: outputs over the inputs give the same values.
		Step(in[0], in[1], in[2], in[3], in[0], in[2], in[3], p)
		for i := range want[0] {
			if in[0][i] != got[0][i] || in[2][i] != got[1][i] || in[3][i] != got[2][i] {
				t.Fatalf("n %d in place [%d]: %v %v %v, want %v %v %v", n, i, in[0][i], in[2][i], in[3][i], got[0][i], got[1][i], got[2][i])
			}
		}
	}
}

func TestStepValues(t *testing.T) {
	// One step from zero states at t=1 with the bias correction folded into
	// LR by the caller: v' = 0.1 g, h' = 0.001 g², x' = x - lr·v'/√h'.
	x, g := []float32{1, 2}, []float32{0.5, -1}
	z := []float32{0, 0}
	nx, nv, nh := make([]float32, 2), make([]float32, 2), make([]float32, 2)
	Step(x, g, z, z, nx, nv, nh, Params{LR: 0.1, Alpha: 0.9, Beta: 0.999})
	for i, gv := range g {
		v, h := 0.1*float64(gv), 0.001*float64(gv)*float64(gv)
		want := float64(x[i]) - 0.1*v/math.Sqrt(h)
		if math.Abs(float64(nx[i])-want) > 1e-5 || math.Abs(float64(nv[i])-v) > 1e-7 || math.Abs(float64(nh[i])-h) > 1e-7 {
			t.Fatalf("[%d]: x' %v v' %v h' %v, want %v %v %v", i, nx[i], nv[i], nh[i], want, v, h)
		}
	}
}

// BenchmarkStep compares the assembly with the Go twin on an MLP's worth
// of parameters.
func BenchmarkStep(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	const n = 235146
	in := randSlices(r, n)
	out := [3][]float32{make([]float32, n), make([]float32, n), make([]float32, n)}
	p := Params{LR: 1e-4, Alpha: 0.9, Beta: 0.999, Eps: 1e-8}
	for _, asm := range []bool{true, false} {
		b.Run(fmt.Sprintf("asm=%v", asm && useAsm), func(b *testing.B) {
			for b.Loop() {
				if asm {
					Step(in[0], in[1], in[2], in[3], out[0], out[1], out[2], p)
				} else {
					stepGeneric(in[0], in[1], in[2], in[3], out[0], out[1], out[2], p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/param")
		})
	}
}
