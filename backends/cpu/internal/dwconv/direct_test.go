package dwconv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDirect3 checks Direct3 against its Go twin and a float64 sum over
// widths below, at and past one vector and over several, heights past
// one kernel call, a clamp and NaN input.
func TestDirect3(t *testing.T) {
	has := useAVX512
	defer func() { useAVX512 = has }()
	for _, avx512 := range []bool{false, true} {
		if avx512 && !has {
			continue
		}
		useAVX512 = avx512
		testDirect3(t)
	}
}

func testDirect3(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, s := range [][2]int{{7, 7}, {1, 1}, {3, 8}, {14, 14}, {5, 9}, {40, 17}, {2, 56}, {9, 112}} {
		h, w := s[0], s[1]
		src := make([]float32, h*w)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		k := make([]float32, 9)
		for i := range k {
			k[i] = float32(r.NormFloat64())
		}
		for _, clamp := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 1.5}} {
			got := make([]float32, h*w+1)
			got[h*w] = 42
			want := make([]float32, h*w)
			Direct3(got, src, k, 0.25, clamp[0], clamp[1], h, w)
			direct3Generic(want, src, k, 0.25, clamp[0], clamp[1], h, w, 0, h)
			for i := range want {
				o, x := i/w, i%w
				ref := 0.25
				for tp := range 9 {
					rr, cc := o+tp/3-1, x+tp%3-1
					if rr >= 0 && rr < h && cc >= 0 && cc < w {
						ref += float64(k[tp]) * float64(src[rr*w+cc])
					}
				}
				ref = math.Min(math.Max(ref, float64(clamp[0])), float64(clamp[1]))
				if math.Abs(float64(got[i])-ref) > 1e-5 || math.Abs(float64(want[i])-ref) > 1e-5 {
					t.Fatalf("%dx%d clamp %v: [%d] = %v, twin %v, float64 %v", h, w, clamp, i, got[i], want[i], ref)
				}
			}
			if got[h*w] != 42 {
				t.Fatalf("%dx%d: wrote past the plane", h, w)
			}
		}
	}
	nan := make([]float32, 9)
	nan[4] = float32(math.NaN())
	out := make([]float32, 9)
	Direct3(out, nan, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 0, 6, 3, 3)
	for i, v := range out {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("NaN input: [%d] = %v, want NaN", i, v)
		}
	}
}

// TestDirect3Planes checks several planes in one call against Direct3
// plane by plane, with and without biases.
func TestDirect3Planes(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, s := range [][2]int{{7, 7}, {14, 14}, {5, 20}, {3, 33}} {
		h, w := s[0], s[1]
		const n = 5
		src := make([]float32, n*h*w)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		k := make([]float32, 9*n)
		for i := range k {
			k[i] = float32(r.NormFloat64())
		}
		for _, bias := range [][]float32{{1, -2, 0.5, 0, 3}, nil} {
			got := make([]float32, n*h*w+1)
			got[n*h*w] = 42
			// Rows in two ranges, as two threads would split them.
			Direct3Planes(got, src, k, bias, -1, 2, n, h, w, 0, h/2)
			Direct3Planes(got, src, k, bias, -1, 2, n, h, w, h/2, h)
			for c := range n {
				var b float32
				if bias != nil {
					b = bias[c]
				}
				want := make([]float32, h*w)
				direct3Generic(want, src[c*h*w:], k[9*c:], b, -1, 2, h, w, 0, h)
				for i, v := range want {
					if math.Abs(float64(got[c*h*w+i]-v)) > 1e-5 {
						t.Fatalf("%dx%d bias %v: plane %d [%d] = %v, want %v", h, w, bias != nil, c, i, got[c*h*w+i], v)
					}
				}
			}
			if got[n*h*w] != 42 {
				t.Fatalf("%dx%d: wrote past the planes", h, w)
			}
		}
	}
}

// TestDirect3s2Planes checks the stride-2 kernel against its Go twin
// over widths of one vector, several, and a partial last one.
func TestDirect3s2Planes(t *testing.T) {
	if !HasDirect3s2() {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(19, 20))
	for _, s := range [][2]int{{14, 14}, {2, 2}, {28, 28}, {112, 112}, {6, 34}, {4, 64}, {8, 66}} {
		h, w := s[0], s[1]
		const n = 3
		src := make([]float32, n*h*w)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		k := make([]float32, 9*n)
		for i := range k {
			k[i] = float32(r.NormFloat64())
		}
		bias := []float32{0.5, -1, 2}
		out := (h / 2) * (w / 2)
		got := make([]float32, n*out+1)
		got[n*out] = 42
		Direct3s2Planes(got, src, k, bias, -1.5, 2, n, h, w)
		for c := range n {
			want := make([]float32, out)
			direct3Strided(want, src[c*h*w:], k[9*c:], bias[c], -1.5, 2, h, w, 2, 0, h/2)
			for i, v := range want {
				if math.Abs(float64(got[c*out+i]-v)) > 1e-5 {
					t.Fatalf("%dx%d: plane %d [%d] = %v, want %v", h, w, c, i, got[c*out+i], v)
				}
			}
		}
		if got[n*out] != 42 {
			t.Fatalf("%dx%d: wrote past the planes", h, w)
		}
	}
}
