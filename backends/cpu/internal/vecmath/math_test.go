package vecmath

import (
	"flag"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// mathCase is one transcendental kernel, its float64 reference, and the
// largest error allowed against it (in float32 ulps of the exact result).
// The bounds are the maxima over every float32 (TestMathExhaustive on
// AVX-512: Exp 1.014, Log 0.862, Tanh 1.332, Sigmoid 2.402, Silu 3.193,
// Erf 1.329, Gelu 4.359) rounded up; the twins use the same fused
// multiply-adds as the assembly and agree with it to the bit, barring a
// rare double rounding in fma32.
type mathCase struct {
	name   string
	kernel func(im *impl) func(dst, x []float32)
	ref    func(float64) float64
	maxULP float64
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

var mathCases = []mathCase{
	{"Exp", func(im *impl) func(dst, x []float32) { return im.exp }, math.Exp, 1.5},
	{"Log", func(im *impl) func(dst, x []float32) { return im.log }, math.Log, 1},
	{"Tanh", func(im *impl) func(dst, x []float32) { return im.tanh }, math.Tanh, 1.5},
	{"Sigmoid", func(im *impl) func(dst, x []float32) { return im.sigmoid }, sigmoid64, 2.5},
	{"Silu", func(im *impl) func(dst, x []float32) { return im.silu }, func(x float64) float64 {
		if math.IsInf(x, -1) {
			return math.Copysign(0, -1)
		}
		return x * sigmoid64(x)
	}, 3.5},
	{"Erf", func(im *impl) func(dst, x []float32) { return im.erf }, math.Erf, 1.5},
	{"Gelu", func(im *impl) func(dst, x []float32) { return im.gelu }, func(x float64) float64 {
		if math.IsInf(x, -1) {
			return math.Copysign(0, -1)
		}
		return 0.5 * x * math.Erfc(-x/math.Sqrt2)
	}, 4.5},
}

// ulpErr is |got - want| in units of the float32 ulp at want (subnormal
// ulps below the normal range); NaN must match NaN, and an infinite got
// counts as 2^128 when want is finite.
func ulpErr(got float32, want float64) float64 {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		if math.IsNaN(want) && math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(want, 0):
		if g == want {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(g, 0):
		if math.IsInf(float64(float32(want)), 0) && math.Signbit(g) == math.Signbit(want) {
			return 0
		}
		g = math.Copysign(0x1p128, g)
	}
	_, e := math.Frexp(want)
	ulp := max(math.Ldexp(1, e-24), 0x1p-149)
	return math.Abs(g-want) / ulp
}

// ulpDist is the number of float32 values between a and b (0 when both
// are NaN).
func ulpDist(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u >= 1<<31 {
			return -(u - 1<<31)
		}
		return u
	}
	d := ord(a) - ord(b)
	return max(d, -d)
}

// sweep returns inputs covering the float32 range: a stride through every
// bit pattern, dense random values where the functions bend, and the
// special values and branch boundaries.
func sweep() []float32 {
	var xs []float32
	for u := uint64(0); u < 1<<32; u += 4093 {
		xs = append(xs, math.Float32frombits(uint32(u)))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 18 {
		xs = append(xs, float32(r.Float64()*40-20))
	}
	for _, v := range []float32{0, 1, 2, 0.5, expZero, expHi, 88.72283, 88.7228394, -87.33655, -103.27893,
		-103.97208, tanhSmall, tanhBig, erfSmall, erfBig, geluBig, geluPosBig, geluSmallNeg, geluSmallPos, erfSmall / sqrtHalf, 9.01, 3.92,
		math.MaxFloat32, math.SmallestNonzeroFloat32, logMinNormal, float32(math.Inf(1))} {
		for _, w := range []float32{v, math.Nextafter32(v, 0), math.Nextafter32(v, 1e30)} {
			xs = append(xs, w, -w)
		}
	}
	return append(xs, float32(math.NaN()))
}

func TestMathAccuracy(t *testing.T) {
	xs := sweep()
	want := make([]float64, len(xs))
	got := make([]float32, len(xs))
	twin := make([]float32, len(xs))
	for _, c := range mathCases {
		for i, x := range xs {
			want[i] = c.ref(float64(x))
		}
		c.kernel(genericImpl)(twin, xs)
		for _, im := range impls {
			t.Run(c.name+"/"+im.name, func(t *testing.T) {
				c.kernel(im)(got, xs)
				worst, at, far := 0.0, 0, int64(0)
				for i := range xs {
					if e := ulpErr(got[i], want[i]); e > worst {
						worst, at = e, i
					}
					far = max(far, ulpDist(got[i], twin[i]))
				}
				t.Logf("max error %.2f ulp at x=%g (got %g, want %g); max distance to the twin %d ulp",
					worst, xs[at], got[at], want[at], far)
				if worst > c.maxULP {
					t.Errorf("%s(%g) = %g, want %g: %.2f ulp > %.1f", c.name, xs[at], got[at], want[at], worst, c.maxULP)
				}
				if far > 1 {
					t.Errorf("differs from the Go twin by %d ulp", far)
				}
			})
		}
	}
}

// TestMathSpecials pins the values at the edges of the range exactly.
func TestMathSpecials(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		name string
		x    []float32
		want []float32
	}{
		{"Exp", []float32{inf, -inf, 0, 89, -104, nan}, []float32{inf, 0, 1, inf, 0, nan}},
		{"Log", []float32{inf, 0, negZero, -1, 1, nan, -inf}, []float32{inf, -inf, -inf, nan, 0, nan, nan}},
		{"Tanh", []float32{inf, -inf, 0, negZero, 20, nan}, []float32{1, -1, 0, negZero, 1, nan}},
		{"Sigmoid", []float32{inf, -inf, 0, 200, -200, nan}, []float32{1, 0, 0.5, 1, 0, nan}},
		{"Silu", []float32{inf, -inf, 0, -200, nan}, []float32{inf, negZero, 0, negZero, nan}},
		{"Erf", []float32{inf, -inf, 0, negZero, 10, nan}, []float32{1, -1, 0, negZero, 1, nan}},
		{"Gelu", []float32{inf, -inf, 0, 20, -20, nan}, []float32{inf, negZero, 0, 20, negZero, nan}},
	}
	for _, im := range impls {
		for i, c := range cases {
			got := make([]float32, len(c.x))
			mathCases[i].kernel(im)(got, c.x)
			for j := range got {
				g, w := got[j], c.want[j]
				if (g != w || math.Signbit(float64(g)) != math.Signbit(float64(w))) && !(g != g && w != w) {
					t.Errorf("%s: %s(%g) = %g, want %g", im.name, c.name, c.x[j], g, w)
				}
			}
		}
	}
}

// TestMathLengths checks the tails: every length gives the values of the
// full-length call and leaves dst past the end alone.
func TestMathLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 80)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	full := make([]float32, len(x))
	for _, im := range impls {
		for _, c := range mathCases {
			f := c.kernel(im)
			f(full, x)
			for n := range 40 {
				dst := make([]float32, n+1)
				dst[n] = 42
				f(dst[:n], x[:n])
				for i := range n {
					if math.Float32bits(dst[i]) != math.Float32bits(full[i]) {
						t.Fatalf("%s %s n=%d: [%d] = %g, the full call gives %g", im.name, c.name, n, i, dst[i], full[i])
					}
				}
				if dst[n] != 42 {
					t.Fatalf("%s %s n=%d wrote past the end", im.name, c.name, n)
				}
			}
		}
	}
}

var exhaustive = flag.String("exhaustive", "", "check these transcendentals (comma separated, or all) on every float32: minutes each")

// TestMathExhaustive runs the implementation in use over all 2^32 inputs
// (with -exhaustive) and reports the largest error of each function.
func TestMathExhaustive(t *testing.T) {
	if *exhaustive == "" {
		t.Skip("run with -exhaustive=Exp,Gelu or -exhaustive=all")
	}
	const chunk = 1 << 16
	for _, c := range mathCases {
		if *exhaustive != "all" && !slices.Contains(strings.Split(*exhaustive, ","), c.name) {
			continue
		}
		f := c.kernel(cur)
		workers := runtime.GOMAXPROCS(0)
		worst := make([]float64, workers)
		worstX := make([]float32, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				xs, got := make([]float32, chunk), make([]float32, chunk)
				for base := uint64(w) * chunk; base < 1<<32; base += uint64(workers) * chunk {
					for i := range xs {
						xs[i] = math.Float32frombits(uint32(base) + uint32(i))
					}
					f(got, xs)
					for i, x := range xs {
						if e := ulpErr(got[i], c.ref(float64(x))); e > worst[w] {
							worst[w], worstX[w] = e, x
						}
					}
				}
			})
		}
		wg.Wait()
		at := 0
		for w := range worst {
			if worst[w] > worst[at] {
				at = w
			}
		}
		t.Logf("%s (%s): max error %.3f ulp at x=%g", c.name, cur.name, worst[at], worstX[at])
		if worst[at] > c.maxULP {
			t.Errorf("%s: %.3f ulp > %.1f", c.name, worst[at], c.maxULP)
		}
	}
}
