package dwconv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPlaneMatchesGeneric runs Plane (assembly where the CPU has it)
// against its Go twin over widths around the vector width, with and
// without a clamp, and checks that nothing past a row's cols is written.
func TestPlaneMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	inf := float32(math.Inf(1))
	for _, cols := range []int{1, 3, 7, 8, 9, 14, 16, 17, 28, 56} {
		for _, rows := range []int{1, 2, 7} {
			for _, b := range [][2]float32{{-inf, inf}, {0, 6}, {0, inf}, {-0.5, 0.25}} {
				ss, ds := cols+2, cols+3
				need := (rows-1)*ss + (cols+7)&^7
				src := make([][]float32, 9)
				for k := range src {
					src[k] = randRow(r, need+k)
				}
				src[4][0] = float32(math.NaN())
				w := randRow(r, 9)
				got := make([]float32, rows*ds)
				want := make([]float32, rows*ds)
				for i := range got {
					got[i], want[i] = -7, -7
				}
				Plane(got, ds, src, ss, w, 0.25, b[0], b[1], rows, cols)
				planeGeneric(want, ds, src, ss, w, 0.25, b[0], b[1], rows, cols)
				for i := range want {
					g, e := float64(got[i]), float64(want[i])
					if math.IsNaN(e) != math.IsNaN(g) || math.Abs(g-e) > 1e-5*(1+math.Abs(e)) {
						t.Fatalf("rows %d cols %d bounds %v: dst[%d] = %v, want %v", rows, cols, b, i, g, e)
					}
				}
			}
		}
	}
}

func TestPlaneValues(t *testing.T) {
	// 2x3 output, row strides 4 (source) and 3 (destination); tap k reads
	// src[k] = k+1 everywhere but tap 0, which reads 0 1 2 3 | 4 5 6 7.
	src := make([][]float32, 9)
	for k := range src {
		src[k] = make([]float32, 12)
		for i := range src[k] {
			src[k][i] = float32(k + 1)
			if k == 0 {
				src[k][i] = float32(i)
			}
		}
	}
	w := []float32{1, 0, 0, 0, 0, 0, 0, 0, 2} // x + 2·9 + bias 1
	dst := make([]float32, 6)
	Plane(dst, 3, src, 4, w, 1, 0, 22, 2, 3)
	want := []float32{19, 20, 21, 22, 22, 22} // 23 24 25 clamped to 22
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
}

func TestPlaneShortSourcePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a source shorter than whole vectors")
		}
	}()
	src := make([][]float32, 9)
	for k := range src {
		src[k] = make([]float32, 7) // 7 columns need 8 readable values
	}
	Plane(make([]float32, 7), 7, src, 7, make([]float32, 9), 0, 0, 1, 1, 7)
}

func TestRows(t *testing.T) {
	for _, cols := range []int{1, 7, 8, 9, 14, 17} {
		const rows = 3
		ss, ds := cols+1, cols+2
		src := make([]float32, (rows-1)*ss+cols) // no slack past the last row
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, rows*ds)
		for i := range dst {
			dst[i] = -1
		}
		Rows(dst, ds, src, ss, rows, cols)
		for o := range rows {
			for x := range ds {
				want := float32(-1)
				if x < cols {
					want = float32(o*ss + x)
				}
				if dst[o*ds+x] != want {
					t.Fatalf("cols %d: dst[%d][%d] = %v, want %v", cols, o, x, dst[o*ds+x], want)
				}
			}
		}
	}
}

func TestEvenRows(t *testing.T) {
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 57} {
		const rows = 3
		ss, ds := 2*n+1, n+3
		src := make([]float32, (rows-1)*ss+2*n-1) // no slack past the last value read
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, rows*ds)
		for i := range dst {
			dst[i] = -1
		}
		EvenRows(dst, ds, src, ss, rows, n)
		for o := range rows {
			for i := range ds {
				want := float32(-1)
				if i < n {
					want = float32(o*ss + 2*i)
				}
				if dst[o*ds+i] != want {
					t.Fatalf("n %d: dst[%d][%d] = %v, want %v", n, o, i, dst[o*ds+i], want)
				}
			}
		}
	}
}
