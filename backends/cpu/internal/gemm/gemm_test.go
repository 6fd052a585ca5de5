package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// matrix is a rows×cols operand stored with row stride ld; the padding
// between rows holds pad (NaN for inputs, so reading it shows up in C).
type matrix struct {
	rows, cols, ld int
	data           []float32
}

func newMatrix(r *rand.Rand, rows, cols, extra int, pad float32) matrix {
	ld := max(cols, 1) + extra
	m := matrix{rows: rows, cols: cols, ld: ld, data: make([]float32, rows*ld)}
	for i := range m.data {
		if i%ld < cols {
			m.data[i] = float32(r.NormFloat64())
		} else {
			m.data[i] = pad
		}
	}
	return m
}

// at is element (i, j) of op(m).
func (m matrix) at(trans bool, i, j int) float64 {
	if trans {
		i, j = j, i
	}
	return float64(m.data[i*m.ld+j])
}

// reference is the float64 triple loop: C = alpha·op(A)·op(B) + beta·C. It
// also returns, per element, |alpha|·Σ|a·b| + |beta·c|, the scale of the
// rounding error a float32 sum can make.
func reference(transA, transB bool, m, n, k int, alpha float32, a, b matrix, beta float32, c matrix) (want, scale []float64) {
	want, scale = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, abs float64
			for q := range k {
				v := a.at(transA, i, q) * b.at(transB, q, j)
				s += v
				abs += math.Abs(v)
			}
			s *= float64(alpha)
			abs *= math.Abs(float64(alpha))
			if beta != 0 {
				cv := float64(beta) * float64(c.data[i*c.ld+j])
				s += cv
				abs += math.Abs(cv)
			}
			want[i*n+j], scale[i*n+j] = s, abs
		}
	}
	return want, scale
}

type shape struct{ m, n, k int }

var shapes = []shape{
	{1, 1, 1}, {1, 1, 0}, {0, 5, 3}, {5, 0, 3}, {3, 4, 0}, {2, 3, 4}, {1, 17, 9},
	{6, 16, 1}, {14, 32, 8}, {7, 17, 5}, {13, 33, 300}, {15, 31, 257}, {29, 65, 3},
	{150, 40, 70}, {300, 7, 20}, {5, 4200, 3}, {64, 64, 64}, {37, 53, 193},
	{1, 4100, 7}, {1, 45, 70}, {33, 1, 45}, {1, 1, 300}, {2, 1, 3}, // vector cases
}

// runImpl calls im on one case and checks C against the reference,
// including that C's row padding is left alone.
func runImpl(t *testing.T, im *impl, nt int, s shape, transA, transB bool, alpha, beta float32, extra int, r *rand.Rand) {
	t.Helper()
	ar, ac := s.m, s.k
	if transA {
		ar, ac = ac, ar
	}
	br, bc := s.k, s.n
	if transB {
		br, bc = bc, br
	}
	nan := float32(math.NaN())
	a := newMatrix(r, ar, ac, extra, nan)
	b := newMatrix(r, br, bc, extra, nan)
	const sentinel = 12345
	c := newMatrix(r, s.m, s.n, extra, sentinel)
	if beta == 0 {
		for i := range c.data {
			if i%c.ld < s.n {
				c.data[i] = nan // beta == 0: C must not be read
			}
		}
	}
	want, scale := reference(transA, transB, s.m, s.n, s.k, alpha, a, b, beta, c)
	p := problem{transA: transA, transB: transB, m: s.m, n: s.n, k: s.k, alpha: alpha,
		a: a.data, lda: a.ld, b: b.data, ldb: b.ld, beta: beta, c: c.data, ldc: c.ld}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	im.sgemm(&p, nt)
	const eps = 1.0 / (1 << 23)
	for i := range s.m {
		for j := range c.ld {
			got := c.data[i*c.ld+j]
			if j >= s.n {
				if got != sentinel {
					t.Fatalf("C[%d][%d] (padding) = %v, was %v", i, j, got, float32(sentinel))
				}
				continue
			}
			w, tol := want[i*s.n+j], 2*float64(s.k+2)*eps*scale[i*s.n+j]+1e-30
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				t.Fatalf("C[%d][%d] = %v, want %v (|diff| %.3g > tol %.3g)", i, j, got, w, d, tol)
			}
		}
	}
}

func TestSgemmImpls(t *testing.T) {
	for _, unpacked := range []bool{true, false} { // A read in place (alpha 1, no transA) or packed
		saved := useUnpackedA
		useUnpackedA = unpacked
		t.Run(fmt.Sprint("unpackedA=", unpacked), checkImpls)
		useUnpackedA = saved
	}
}

func checkImpls(t *testing.T) {
	scalars := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {-0.5, 0.75}, {2, -1}, {0, 0.5}}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for _, s := range shapes {
				for tr := range 4 {
					transA, transB := tr&1 != 0, tr&2 != 0
					for si, sc := range scalars {
						extra := (si + tr) % 3 * 2 // lda > cols on some cases
						name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/alpha=%v/beta=%v/pad=%d",
							s.m, s.n, s.k, transA, transB, sc.alpha, sc.beta, extra)
						t.Run(name, func(t *testing.T) {
							runImpl(t, im, 1, s, transA, transB, sc.alpha, sc.beta, extra, r)
						})
					}
				}
			}
		})
	}
}

// TestSgemmThreads covers the parallel split by rows and by columns,
// including more threads than tiles.
func TestSgemmThreads(t *testing.T) {
	big := []shape{{70, 90, 50}, {300, 20, 64}, {20, 700, 40}, {7, 5000, 16}, {1000, 3, 100}, {131, 129, 160}, {1, 9000, 40}, {5000, 1, 60}}
	for _, im := range impls {
		r := rand.New(rand.NewPCG(3, 4))
		for _, nt := range []int{2, 3, 8} {
			for _, s := range big {
				for tr := range 4 {
					transA, transB := tr&1 != 0, tr&2 != 0
					name := fmt.Sprintf("%s/nt=%d/%dx%dx%d/tA=%v/tB=%v", im.name, nt, s.m, s.n, s.k, transA, transB)
					alpha := float32(1) // A unpacked where not transposed
					if nt == 3 {
						alpha = 1.5 // A packed
					}
					t.Run(name, func(t *testing.T) {
						runImpl(t, im, nt, s, transA, transB, alpha, 0.5, tr, r)
					})
				}
			}
		}
	}
}

func TestSgemmPublic(t *testing.T) {
	// C = A·B with A = [[1 2 3] [4 5 6]], B = [[1 0] [0 1] [1 1]].
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := []float32{10, 20, 30, 40}
	Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 1, c, 2)
	want := []float32{14, 25, 40, 51}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
	// Aᵀ·Bᵀ with beta = 0: A (3×2) = [[1 4] [2 5] [3 6]], B (2×3).
	at := []float32{1, 4, 2, 5, 3, 6}
	bt := []float32{1, 0, 1, 0, 1, 1}
	Sgemm(true, true, 2, 2, 3, 2, at, 2, bt, 3, 0, c, 2)
	want = []float32{8, 10, 20, 22}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("transposed: C = %v, want %v", c, want)
		}
	}
	for _, nt := range []int{0, 1, 2} {
		c = []float32{10, 20, 30, 40}
		SgemmThreads(nt, false, false, 2, 2, 3, 1, a, 3, b, 2, 1, c, 2)
		want = []float32{14, 25, 40, 51}
		for i := range want {
			if c[i] != want[i] {
				t.Fatalf("SgemmThreads(%d): C = %v, want %v", nt, c, want)
			}
		}
	}
}

func TestSgemmStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const batch, m, n, k = 5, 9, 19, 13
	a := newMatrix(r, batch*m, k, 0, 0)
	b := newMatrix(r, k, n, 0, 0) // shared by the batch (stride 0)
	c := make([]float32, batch*m*n)
	for _, nt := range []int{1, 2} {
		SetThreads(nt)
		SgemmStrided(false, false, m, n, k, 1, a.data, k, m*k, b.data, n, 0, 0, c, n, m*n, batch)
		for i := range batch {
			ai := matrix{rows: m, cols: k, ld: k, data: a.data[i*m*k:]}
			want, scale := reference(false, false, m, n, k, 1, ai, b, 0, matrix{})
			for e, w := range want {
				got := float64(c[i*m*n+e])
				if math.Abs(got-w) > 1e-5*scale[e] {
					t.Fatalf("threads %d batch %d elem %d = %v, want %v", nt, i, e, got, w)
				}
			}
		}
	}
	SetThreads(2)
}

// TestSgemmStridedThreads: the thread bound does not change the result;
// every product is checked against the float64 reference.
func TestSgemmStridedThreads(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const batch, m, n, k = 36, 30, 40, 70
	a := newMatrix(r, batch*m, k, 0, 0)
	b := newMatrix(r, batch*k, n, 0, 0)
	for _, nt := range []int{0, 1, 3} {
		c := make([]float32, batch*m*n)
		SgemmStridedThreads(nt, false, false, m, n, k, 1, a.data, k, m*k, b.data, n, k*n, 0, c, n, m*n, batch)
		for i := range batch {
			ai := matrix{rows: m, cols: k, ld: k, data: a.data[i*m*k:]}
			bi := matrix{rows: k, cols: n, ld: n, data: b.data[i*k*n:]}
			want, scale := reference(false, false, m, n, k, 1, ai, bi, 0, matrix{})
			for e, w := range want {
				if got := float64(c[i*m*n+e]); math.Abs(got-w) > 1e-5*scale[e] {
					t.Fatalf("nt %d batch %d elem %d = %v, want %v", nt, i, e, got, w)
				}
			}
		}
	}
}

func TestSgemmBadArgs(t *testing.T) {
	cases := []struct {
		name       string
		m, n, k    int
		la, lb, lc int
		lda        int
		want       string
	}{
		{"negative", -1, 2, 2, 4, 4, 4, 2, "negative size"},
		{"short A", 2, 2, 2, 3, 4, 4, 2, "A is 2x2 (ld 2) and needs 4 elements, has 3"},
		{"short C", 2, 2, 2, 4, 4, 1, 2, "C is 2x2"},
		{"small lda", 2, 2, 2, 4, 4, 4, 1, "leading dimension is 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("panic %v, want one containing %q", err, tc.want)
				}
			}()
			Sgemm(false, false, tc.m, tc.n, tc.k, 1, make([]float32, tc.la), tc.lda,
				make([]float32, tc.lb), 2, 0, make([]float32, tc.lc), 2)
		})
	}
}

// TestDotAxpy checks each implementation's vector kernels against float64
// sums over lengths that cover the unrolled blocks and the scalar tails.
func TestDotAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, im := range impls {
		for _, n := range []int{0, 1, 7, 31, 32, 33, 64, 100, 1000} {
			x, y := make([]float32, n), make([]float32, n)
			var want, scale float64
			for i := range x {
				x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
				want += float64(x[i]) * float64(y[i])
				scale += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if got := im.dot(x, y); math.Abs(float64(got)-want) > 1e-6*float64(n+1)*scale {
				t.Errorf("%s: dot n=%d = %v, want %v", im.name, n, got, want)
			}
			y2 := append([]float32(nil), y...)
			im.axpy(-1.5, x, y2)
			for i := range y2 {
				if w := float32(float64(y[i]) - 1.5*float64(x[i])); math.Abs(float64(y2[i]-w)) > 1e-6*(math.Abs(float64(w))+1) {
					t.Fatalf("%s: axpy n=%d y[%d] = %v, want %v", im.name, n, i, y2[i], w)
				}
			}
		}
	}
}

// TestSgemmConcurrent runs independent calls from several goroutines at
// once: the scratch pools and implementation tables are shared.
func TestSgemmConcurrent(t *testing.T) {
	shapesC := []shape{{70, 90, 50}, {1, 300, 20}, {129, 31, 77}, {64, 64, 64}}
	errs := make(chan error, len(shapesC))
	for g, s := range shapesC {
		go func() {
			r := rand.New(rand.NewPCG(uint64(g), 11))
			a, b := newMatrix(r, s.m, s.k, 0, 0), newMatrix(r, s.k, s.n, 0, 0)
			c := make([]float32, s.m*s.n)
			for range 20 {
				Sgemm(false, false, s.m, s.n, s.k, 1, a.data, a.ld, b.data, b.ld, 0, c, s.n)
			}
			want, scale := reference(false, false, s.m, s.n, s.k, 1, a, b, 0, matrix{})
			for e, w := range want {
				if math.Abs(float64(c[e])-w) > 1e-5*scale[e] {
					errs <- fmt.Errorf("%v: elem %d = %v, want %v", s, e, c[e], w)
					return
				}
			}
			errs <- nil
		}()
	}
	for range shapesC {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestSgemmPackB checks products whose B comes from a PackFunc (here one
// that packs a stored matrix), plus a row bias, against the reference, on
// 1 and 2 threads, and SgemmBias on the stored B,
// including the vector shapes that Sgemm sends to gemv.
func TestSgemmPackB(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range shapes {
		if s.k == 0 {
			continue
		}
		for _, run := range []struct {
			nt   int
			beta float32
		}{{1, 0.5}, {2, 0.5}, {2, 0}} {
			nt, beta := run.nt, run.beta
			a := newMatrix(r, s.m, s.k, 1, 0)
			b := newMatrix(r, s.k, s.n, 0, 0)
			c := newMatrix(r, s.m, s.n, 2, 0)
			want, scale := reference(false, false, s.m, s.n, s.k, 1.5, a, b, beta, c)
			pack := func(dst []float32, p0, kb, j0, nb, nr int) {
				for jr := 0; jr < nb; jr += nr {
					for q := range kb {
						for j := range nr {
							v := float32(0)
							if jr+j < nb {
								v = b.data[(p0+q)*b.ld+j0+jr+j]
							}
							dst[jr*kb+q*nr+j] = v
						}
					}
				}
			}
			saved := parallelMin
			parallelMin = 1 // split even small cases over the threads
			bias := make([]float32, s.m)
			for i := range bias {
				bias[i] = float32(i) - 2
				for j := range s.n {
					want[i*s.n+j] += float64(bias[i])
				}
			}
			c2 := matrix{rows: c.rows, cols: c.cols, ld: c.ld, data: append([]float32(nil), c.data...)}
			SgemmPackB(nt, s.m, s.n, s.k, 1.5, a.data, a.ld, pack, bias, beta, c.data, c.ld)
			SgemmBias(nt, s.m, s.n, s.k, 1.5, a.data, a.ld, b.data, b.ld, bias, beta, c2.data, c2.ld)
			parallelMin = saved
			for i := range s.m {
				for j := range s.n {
					got, got2 := float64(c.data[i*c.ld+j]), float64(c2.data[i*c.ld+j])
					if math.Abs(got-want[i*s.n+j]) > 1e-5*(scale[i*s.n+j]+1) {
						t.Fatalf("%v t%d beta %v: C[%d,%d] = %v, want %v", s, nt, beta, i, j, got, want[i*s.n+j])
					}
					if math.Abs(got2-want[i*s.n+j]) > 1e-5*(scale[i*s.n+j]+1) {
						t.Fatalf("SgemmBias %v t%d beta %v: C[%d,%d] = %v, want %v", s, nt, beta, i, j, got2, want[i*s.n+j])
					}
				}
			}
		}
	}
}

// TestPick checks which tile covers a product with less waste.
func TestPick(t *testing.T) {
	if narrowImpl == nil {
		t.Skip("no narrow tile on this CPU")
	}
	for _, c := range []struct {
		m, n   int
		narrow bool
	}{{64, 3136, true}, {16, 12544, true}, {128, 784, true}, {512, 49, false}, {14, 32, false}, {28, 96, false}, {0, 5, false}} {
		if got := pick(c.m, c.n) == narrowImpl; got != c.narrow {
			t.Errorf("pick(%d, %d) narrow = %v, want %v", c.m, c.n, got, c.narrow)
		}
	}
}

// TestRowBiasImpls runs every implementation with a row bias (the kernels
// that start from it, or the bias pass where an implementation has none),
// A read in place and packed, against the reference.
func TestRowBiasImpls(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, im := range impls {
		for _, s := range []shape{{1, 1, 1}, {7, 17, 5}, {14, 32, 8}, {29, 65, 300}, {64, 100, 27}, {150, 40, 70}} {
			for _, unpacked := range []bool{true, false} {
				saved := useUnpackedA
				useUnpackedA = unpacked
				a := newMatrix(r, s.m, s.k, 1, float32(math.NaN()))
				b := newMatrix(r, s.k, s.n, 2, float32(math.NaN()))
				c := newMatrix(r, s.m, s.n, 1, float32(math.NaN()))
				want, scale := reference(false, false, s.m, s.n, s.k, 1, a, b, 0, c)
				bias := make([]float32, s.m)
				for i := range bias {
					bias[i] = float32(r.NormFloat64())
					for j := range s.n {
						want[i*s.n+j] += float64(bias[i])
					}
				}
				p := problem{m: s.m, n: s.n, k: s.k, alpha: 1, a: a.data, lda: a.ld, b: b.data, ldb: b.ld,
					c: c.data, ldc: c.ld, rowBias: bias}
				im.sgemm(&p, 1)
				useUnpackedA = saved
				for i := range s.m {
					for j := range s.n {
						got := float64(c.data[i*c.ld+j])
						if math.Abs(got-want[i*s.n+j]) > 1e-5*(scale[i*s.n+j]+1) {
							t.Fatalf("%s %v unpacked %v: C[%d,%d] = %v, want %v", im.name, s, unpacked, i, j, got, want[i*s.n+j])
						}
					}
				}
			}
		}
	}
}
