package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// The float32 paths that run on internal/vecmath, checked through the
// backend against float64 math.

// vecmathInput returns n normal values of the given scale, and with
// specials some edge values after them.
func vecmathInput(n int, scale float64, specials bool) []float32 {
	r := rand.New(rand.NewPCG(21, 22))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	if !specials {
		return x
	}
	return append(x, 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -88, 90)
}

// closeRel reports whether got is within rel of want (NaN matching NaN,
// and the infinity want rounds to matching exactly).
func closeRel(got float32, want, rel float64) bool {
	g := float64(got)
	if w := float64(float32(want)); math.IsNaN(w) || math.IsInf(w, 0) {
		return g == w || (math.IsNaN(w) && math.IsNaN(g))
	}
	return math.Abs(g-want) <= rel*math.Abs(want)+1e-38
}

func TestVecmathUnaryF32(t *testing.T) {
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	cases := []struct {
		op      string
		version int
		attrs   ir.Attrs
		ref     func(float64) float64
	}{
		{"Exp", 13, nil, math.Exp},
		{"Log", 13, nil, math.Log},
		{"Tanh", 13, nil, math.Tanh},
		{"Erf", 13, nil, math.Erf},
		{"Sigmoid", 13, nil, sigmoid},
		{"Swish", 24, nil, func(x float64) float64 { return x * sigmoid(x) }},
		{"Gelu", 20, nil, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }},
		{"Relu", 14, nil, func(x float64) float64 { return math.Max(x, 0) }},
	}
	x := vecmathInput(1003, 5, true)
	for _, c := range cases {
		got := runOp(t, c.op, c.version, c.attrs, 1, ir.FromSlice(x, len(x)))[0].Data.([]float32)
		for i, v := range x {
			want := c.ref(float64(v))
			if math.IsInf(float64(v), -1) && (c.op == "Swish" || c.op == "Gelu") {
				want = 0 // the limit (float64 math gives -Inf·0 = NaN)
			}
			if !closeRel(got[i], want, 1e-6) {
				t.Errorf("%s(%g) = %g, want %g", c.op, v, got[i], want)
			}
		}
	}
}

func TestVecmathArithF32(t *testing.T) {
	a, b := vecmathInput(1003, 5, true), vecmathInput(1003, 3, true)
	b[7] = 0
	ops := map[string]func(x, y float32) float32{
		"Add": func(x, y float32) float32 { return x + y }, "Sub": func(x, y float32) float32 { return x - y },
		"Mul": func(x, y float32) float32 { return x * y }, "Div": func(x, y float32) float32 { return x / y },
	}
	s := float32(-1.75)
	for op, f := range ops {
		for _, shape := range [][2][]int{{{len(a)}, {len(a)}}, {{len(a)}, {}}, {{}, {len(a)}}} {
			x, y := a, b
			if len(shape[0]) == 0 {
				x = []float32{s}
			}
			if len(shape[1]) == 0 {
				y = []float32{s}
			}
			got := runOp(t, op, 14, nil, 1, ir.FromSlice(x, shape[0]...), ir.FromSlice(y, shape[1]...))[0].Data.([]float32)
			for i := range got {
				want := f(x[min(i, len(x)-1)], y[min(i, len(y)-1)])
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
					t.Fatalf("%s %v: [%d] = %g, want %g", op, shape, i, got[i], want)
				}
			}
		}
	}
}

// softmax64 is Softmax (or LogSoftmax) of x over the middle axis of
// (outer, n, inner), in float64.
func softmax64(x []float32, outer, n, inner int, logSm bool) []float64 {
	y := make([]float64, len(x))
	for o := range outer {
		for c := range inner {
			at := func(j int) int { return (o*n+j)*inner + c }
			m, s := math.Inf(-1), 0.0
			for j := range n {
				m = math.Max(m, float64(x[at(j)]))
			}
			for j := range n {
				s += math.Exp(float64(x[at(j)]) - m)
			}
			for j := range n {
				if logSm {
					y[at(j)] = float64(x[at(j)]) - m - math.Log(s)
				} else {
					y[at(j)] = math.Exp(float64(x[at(j)])-m) / s
				}
			}
		}
	}
	return y
}

func TestVecmathSoftmaxF32(t *testing.T) {
	x := vecmathInput(3*37*5, 8, false)
	x[40] = 1000 // a dominant element: LogSoftmax must stay exact near 0
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, axis := range []int64{1, 2} {
			outer, n, inner := 3, 37, 5
			if axis == 2 {
				outer, n, inner = 3*37, 5, 1
			}
			in := ir.FromSlice(x, 3, 37, 5)
			got := runOp(t, op, 13, ir.Attrs{ir.IntAttr("axis", axis)}, 1, in)[0].Data.([]float32)
			want := softmax64(x, outer, n, inner, op == "LogSoftmax")
			for i := range got {
				if math.Abs(float64(got[i])-want[i]) > 1e-5*math.Abs(want[i])+1e-7 {
					t.Fatalf("%s axis %d: [%d] = %g, want %g", op, axis, i, got[i], want[i])
				}
			}
		}
	}
}

// TestVecmathReduceSumF32 covers the contiguous-run sums, split over the
// workers when there are few long runs; they accumulate in float64.
func TestVecmathReduceSumF32(t *testing.T) {
	old := Threads()
	setPoolThreads(8)
	defer setPoolThreads(old)
	for _, shape := range [][]int{{3, 100003}, {700, 19}} {
		rows, n := shape[0], shape[1]
		x := vecmathInput(rows*n, 1, false)
		in := ir.FromSlice(x, rows, n)
		for _, op := range []string{"ReduceSum", "ReduceMean"} {
			got := runOp(t, op, 18, nil, 1, in, ir.FromSlice([]int64{1}, 1))[0].Data.([]float32)
			for r := range rows {
				s := 0.0
				for _, v := range x[r*n : (r+1)*n] {
					s += float64(v)
				}
				if op == "ReduceMean" {
					s /= float64(n)
				}
				if !closeRel(got[r], float64(float32(s)), 1e-7) {
					t.Errorf("%s %v row %d = %g, want %g", op, shape, r, got[r], s)
				}
			}
		}
	}
}
