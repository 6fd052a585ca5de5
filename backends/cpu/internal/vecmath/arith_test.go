package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lengths covers every tail of both loop widths and a long run.
var lengths = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000}

// randSlice returns n values of scale ~10 with the odd zero, infinity and
// NaN mixed in when specials is set.
func randSlice(r *rand.Rand, n int, specials bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 10)
		if specials && r.IntN(16) == 0 {
			x[i] = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
				float32(math.Inf(-1)), float32(math.NaN())}[r.IntN(5)]
		}
	}
	return x
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// TestElementwise checks the exactly rounded elementwise kernels bit for
// bit against the twin, and that nothing past dst's end is written.
func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	kernels := []struct {
		name string
		run  func(im *impl, dst, a, b []float32)
	}{
		{"Add", func(im *impl, d, a, b []float32) { im.add(d, a, b) }},
		{"Sub", func(im *impl, d, a, b []float32) { im.sub(d, a, b) }},
		{"Mul", func(im *impl, d, a, b []float32) { im.mul(d, a, b) }},
		{"Div", func(im *impl, d, a, b []float32) { im.div(d, a, b) }},
		{"AddScalar", func(im *impl, d, a, b []float32) { im.addScalar(d, a, 1.5) }},
		{"MulScalar", func(im *impl, d, a, b []float32) { im.mulScalar(d, a, -0.75) }},
		{"Relu", func(im *impl, d, a, b []float32) { im.relu(d, a) }},
		{"Clamp", func(im *impl, d, a, b []float32) { im.clamp(d, a, 0, 6) }},
		{"ClampLo", func(im *impl, d, a, b []float32) { im.clamp(d, a, -1, float32(math.Inf(1))) }},
		{"ClampCrossed", func(im *impl, d, a, b []float32) { im.clamp(d, a, 3, -2) }},
		{"AddClamp", func(im *impl, d, a, b []float32) { im.addClamp(d, a, b, 0, 6) }},
		{"LeakyRelu", func(im *impl, d, a, b []float32) { im.leakyRelu(d, a, 0.1) }},
		{"LeakyRelu0", func(im *impl, d, a, b []float32) { im.leakyRelu(d, a, 0) }},
		{"LeakyRelu3", func(im *impl, d, a, b []float32) { im.leakyRelu(d, a, 3) }},
	}
	for _, n := range lengths {
		a, b := randSlice(r, n, true), randSlice(r, n, true)
		for _, k := range kernels {
			want := make([]float32, n)
			k.run(genericImpl, want, a, b)
			for _, im := range impls {
				got := make([]float32, n+1)
				got[n] = 42
				k.run(im, got[:n], a, b)
				for i := range n {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s %s n=%d: [%d] = %g, the twin gives %g (inputs %g, %g)", im.name, k.name, n, i, got[i], want[i], a[i], b[i])
					}
				}
				if got[n] != 42 {
					t.Fatalf("%s %s n=%d wrote past the end", im.name, k.name, n)
				}
			}
		}
	}
	for _, im := range impls {
		got := []float32{1}
		im.relu(got, []float32{float32(math.Copysign(0, -1))})
		if math.Signbit(float64(got[0])) {
			t.Errorf("%s: Relu(-0) = -0, want +0", im.name)
		}
	}
}

// TestAxpy checks y += alpha·x to the rounding of the product and the sum
// (the fused kernels round once, the twin twice).
func TestAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range lengths {
		x, y := randSlice(r, n, false), randSlice(r, n, false)
		for _, im := range impls {
			got := append(make([]float32, 0, n+1), y...)
			got = append(got, 42)
			im.axpy(0.3, x, got[:n])
			for i := range n {
				ax := float64(float32(0.3)) * float64(x[i])
				want := float64(y[i]) + ax
				if math.Abs(float64(got[i])-want) > 0x1p-23*(math.Abs(ax)+math.Abs(want)) {
					t.Fatalf("%s n=%d: y[%d] = %g, want %g", im.name, n, i, got[i], want)
				}
			}
			if got[n] != 42 {
				t.Fatalf("%s n=%d wrote past the end", im.name, n)
			}
		}
	}
}

// TestMax3 checks Max3 against Go's max bit for bit (NaN for any NaN),
// over NaNs, infinities and zeros of both signs in every position.
func TestMax3(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1, -1}
	var a, b, c []float32
	for _, x := range special {
		for _, y := range special {
			for _, z := range special {
				a, b, c = append(a, x), append(b, y), append(c, z)
			}
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 100 {
		a, b, c = append(a, float32(r.NormFloat64())), append(b, float32(r.NormFloat64())), append(c, float32(r.NormFloat64()))
	}
	for _, im := range impls {
		for _, n := range append(lengths, len(a)) {
			n = min(n, len(a))
			got := make([]float32, n+1)
			got[n] = 42
			im.max3(got[:n], a, b, c)
			for i := range n {
				want := max(a[i], b[i], c[i])
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want))) {
					t.Fatalf("%s n=%d: max(%v, %v, %v) = %v, want %v", im.name, n, a[i], b[i], c[i], got[i], want)
				}
			}
			if got[n] != 42 {
				t.Fatalf("%s n=%d wrote past the end", im.name, n)
			}
		}
	}
}

// TestReductions checks Dot and Sum against float64 within the float32
// accumulation bound n·2^-24·Σ|terms|, Sum64 to 1e-12 of Σ|x|, and Max
// exactly, NaN included.
func TestReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range append(lengths, 100000) {
		x, y := randSlice(r, n, false), randSlice(r, n, false)
		var dot, dotAbs, sum, sumAbs float64
		for i := range x {
			dot += float64(x[i]) * float64(y[i])
			dotAbs += math.Abs(float64(x[i]) * float64(y[i]))
			sum += float64(x[i])
			sumAbs += math.Abs(float64(x[i]))
		}
		for _, im := range impls {
			bound := float64(n)*0x1p-24*dotAbs + 1e-30
			if got := im.dot(x, y); math.Abs(float64(got)-dot) > bound {
				t.Errorf("%s n=%d: Dot = %g, want %g ± %.3g", im.name, n, got, dot, bound)
			}
			bound = float64(n)*0x1p-24*sumAbs + 1e-30
			if got := im.sum(x); math.Abs(float64(got)-sum) > bound {
				t.Errorf("%s n=%d: Sum = %g, want %g ± %.3g", im.name, n, got, sum, bound)
			}
			if got := im.sum64(x); math.Abs(got-sum) > 1e-12*sumAbs+1e-300 {
				t.Errorf("%s n=%d: Sum64 = %g, want %g", im.name, n, got, sum)
			}
			if n > 0 {
				if got, want := im.max(x), maxGeneric(x); got != want {
					t.Errorf("%s n=%d: Max = %g, want %g", im.name, n, got, want)
				}
			}
		}
	}
}

func TestMaxSpecials(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 5, 8, 13, 32, 40, 77} {
		for _, at := range []int{0, n / 2, n - 1} {
			x := make([]float32, n)
			for i := range x {
				x[i] = -inf
			}
			for _, im := range impls {
				if got := im.max(x); got != -inf {
					t.Errorf("%s n=%d: Max of -Inf = %g", im.name, n, got)
				}
			}
			x[at] = float32(math.NaN())
			for _, im := range impls {
				if got := im.max(x); got == got {
					t.Errorf("%s n=%d: Max with NaN at %d = %g, want NaN", im.name, n, at, got)
				}
			}
		}
	}
	if got := Max(nil); got != -inf {
		t.Errorf("Max(nil) = %g, want -Inf", got)
	}
}

func TestExpShiftSum(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range lengths {
		x := randSlice(r, n, false)
		for _, im := range impls {
			got := make([]float32, n+1)
			got[n] = 42
			s := im.expShiftSum(got[:n], x, 3)
			want, sum := make([]float32, n), 0.0
			d := make([]float32, n)
			for i := range x {
				d[i] = x[i] - 3
			}
			im.exp(want, d)
			for i := range n {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s n=%d: [%d] = %g, Exp gives %g", im.name, n, i, got[i], want[i])
				}
				sum += float64(want[i])
			}
			if math.Abs(float64(s)-sum) > float64(n)*0x1p-24*sum+1e-30 {
				t.Errorf("%s n=%d: sum %g, want %g", im.name, n, s, sum)
			}
			if got[n] != 42 {
				t.Fatalf("%s n=%d wrote past the end", im.name, n)
			}
		}
	}
}

func TestSoftmaxRow(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	rows := [][]float32{nil, {1}, {-inf, -inf}, {0, inf, 1}, {1, nan, 2}, {1000, 0, -1000}}
	for _, n := range lengths[1:] {
		rows = append(rows, randSlice(r, n, false))
	}
	for _, im := range impls {
		prev := cur
		cur = im
		for _, x := range rows {
			want, m := softmax64(x)
			got := append([]float32(nil), x...)
			SoftmaxRow(got)
			for i := range got {
				// x[i]-max is rounded to float32 before the exponential,
				// and the sum accumulates in float32.
				tol := (4 + math.Abs(float64(x[i])-m) + float64(len(x))) * 0x1p-24 * want[i]
				if math.IsNaN(want[i]) != (got[i] != got[i]) || math.Abs(float64(got[i])-want[i]) > tol {
					t.Errorf("%s: softmax of %d values: [%d] = %g, want %g", im.name, len(x), i, got[i], want[i])
					break
				}
			}
		}
		cur = prev
	}
}

// softmax64 is the float64 reference, with SoftmaxRow's rule for an
// infinite maximum; it also returns the shift.
func softmax64(x []float32) ([]float64, float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	if math.IsInf(m, 0) {
		m = 0
	}
	out, s := make([]float64, len(x)), 0.0
	for i, v := range x {
		out[i] = math.Exp(float64(v) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out, m
}

// TestClampValues pins Clamp's results on the edge cases: NaN kept, bounds
// crossed give hi, signed zeros kept, infinities clamped.
func TestClampValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negz := float32(math.Copysign(0, -1))
	x := []float32{-7, -0.5, negz, 0, 2.5, 6, 9, nan, inf, -inf, 3, -3, 1, 5, 8, 6.5, -1}
	want := []float32{0, 0, negz, 0, 2.5, 6, 6, nan, 6, 0, 3, 0, 1, 5, 6, 6, 0}
	for _, im := range impls {
		got := make([]float32, len(x))
		im.clamp(got, x, 0, 6)
		for i := range x {
			if !sameBits(got[i], want[i]) {
				t.Errorf("%s: Clamp(%g, 0, 6) = %g, want %g", im.name, x[i], got[i], want[i])
			}
		}
		im.clamp(got[:3], []float32{-1, 0.5, 9}, 2, 1)
		if got[0] != 1 || got[1] != 1 || got[2] != 1 {
			t.Errorf("%s: Clamp(x, 2, 1) = %v, want all 1", im.name, got[:3])
		}
		im.addClamp(got[:3], []float32{1, nan, 5}, []float32{-3, 1, 2}, 0, 6)
		if got[0] != 0 || got[1] == got[1] || got[2] != 6 {
			t.Errorf("%s: AddClamp = %v, want [0 NaN 6]", im.name, got[:3])
		}
	}
}
