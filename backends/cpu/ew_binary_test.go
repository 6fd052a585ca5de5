package cpu

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/keenml/keen/ir"
)

func f32s(v ...float32) []float32 { return v }

func TestEwArith(t *testing.T) {
	cases := []struct {
		name    string
		op      string
		version int
		attrs   ir.Attrs
		a, b    *ir.Tensor
		shape   []int
		want    []float64
	}{
		{"add same", "Add", 14, nil, ir.FromSlice(f32s(1, 2, 3, 4), 2, 2), ir.FromSlice(f32s(10, 20, 30, 40), 2, 2), []int{2, 2}, []float64{11, 22, 33, 44}},
		{"add scalar right", "Add", 14, nil, ir.FromSlice(f32s(1, 2, 3), 3), ir.Scalar(float32(0.5)), []int{3}, []float64{1.5, 2.5, 3.5}},
		{"sub scalar left", "Sub", 14, nil, ir.Scalar(float32(10)), ir.FromSlice(f32s(1, 2, 3), 3), []int{3}, []float64{9, 8, 7}},
		{"mul row bcast", "Mul", 14, nil, ir.FromSlice(f32s(1, 2, 3, 4, 5, 6), 2, 3), ir.FromSlice(f32s(1, 10, 100), 3), []int{2, 3}, []float64{1, 20, 300, 4, 50, 600}},
		{"add outer", "Add", 14, nil, ir.FromSlice(f32s(1, 2), 2, 1), ir.FromSlice(f32s(10, 20, 30), 1, 3), []int{2, 3}, []float64{11, 21, 31, 12, 22, 32}},
		{"div float", "Div", 14, nil, ir.FromSlice([]float64{1, -3}, 2), ir.FromSlice([]float64{4, 0}, 2), []int{2}, []float64{0.25, math.Inf(-1)}},
		{"div int trunc", "Div", 14, nil, ir.FromSlice([]int32{7, -7, 7, 5}, 4), ir.FromSlice([]int32{2, 2, -2, 0}, 4), []int{4}, []float64{3, -3, -3, 0}},
		{"sub uint8 wraps", "Sub", 14, nil, ir.FromSlice([]uint8{1}, 1), ir.FromSlice([]uint8{2}, 1), []int{1}, []float64{255}},
		{"legacy axis", "Add", 6, ir.Attrs{ir.IntAttr("broadcast", 1), ir.IntAttr("axis", 0)},
			ir.FromSlice(f32s(1, 2, 3, 4, 5, 6), 2, 3), ir.FromSlice(f32s(10, 20), 2), []int{2, 3}, []float64{11, 12, 13, 24, 25, 26}},
		{"legacy suffix", "Mul", 1, ir.Attrs{ir.IntAttr("broadcast", 1)},
			ir.FromSlice(f32s(1, 2, 3, 4, 5, 6), 2, 3), ir.FromSlice(f32s(1, 2, 3), 3), []int{2, 3}, []float64{1, 4, 9, 4, 10, 18}},
		{"mod python", "Mod", 13, nil, ir.FromSlice([]int32{-4, 7, 5, -5}, 4), ir.FromSlice([]int32{3, -3, 0, 3}, 4), []int{4}, []float64{2, -2, 0, 1}},
		{"mod fmod", "Mod", 13, ir.Attrs{ir.IntAttr("fmod", 1)}, ir.FromSlice(f32s(-4.5, 7), 2), ir.FromSlice(f32s(3, -3), 2), []int{2}, []float64{-1.5, 1}},
		{"mod fmod int", "Mod", 13, ir.Attrs{ir.IntAttr("fmod", 1)}, ir.FromSlice([]int64{-4, 7}, 2), ir.FromSlice([]int64{3, -3}, 2), []int{2}, []float64{-1, 1}},
		{"pow float int", "Pow", 15, nil, ir.FromSlice(f32s(2, 3, 4), 3), ir.FromSlice([]int64{3, 2, -1}, 3), []int{3}, []float64{8, 9, 0.25}},
		{"pow square", "Pow", 15, nil, ir.FromSlice(f32s(-2, 3), 2), ir.Scalar(float32(2)), []int{2}, []float64{4, 9}},
		{"pow int int", "Pow", 15, nil, ir.FromSlice([]int32{2, -3, 5}, 3), ir.FromSlice([]int32{10, 3, 0}, 3), []int{3}, []float64{1024, -27, 1}},
		{"pow int float", "Pow", 15, nil, ir.FromSlice([]int64{4, 2}, 2), ir.FromSlice(f32s(0.5, 1.5), 2), []int{2}, []float64{2, 2}},
		{"bitshift left", "BitShift", 11, ir.Attrs{ir.StringAttr("direction", "LEFT")}, ir.FromSlice([]uint8{1, 3, 255}, 3), ir.FromSlice([]uint8{1, 2, 9}, 3), []int{3}, []float64{2, 12, 0}},
		{"bitshift right", "BitShift", 11, ir.Attrs{ir.StringAttr("direction", "RIGHT")}, ir.FromSlice([]uint32{16, 5}, 2), ir.FromSlice([]uint32{2, 1}, 2), []int{2}, []float64{4, 2}},
		{"bitwise and", "BitwiseAnd", 18, nil, ir.FromSlice([]int16{12, -1}, 2), ir.FromSlice([]int16{10, 7}, 2), []int{2}, []float64{8, 7}},
		{"bitwise xor", "BitwiseXor", 18, nil, ir.FromSlice([]uint64{12}, 1), ir.FromSlice([]uint64{10, 1}, 2), []int{2}, []float64{6, 13}},
		{"prelu channel", "PRelu", 16, nil, ir.FromSlice(f32s(-1, 2, -3, 4), 1, 2, 2), ir.FromSlice(f32s(0.5, 2), 2, 1), []int{1, 2, 2}, []float64{-0.5, 2, -6, 4}},
		{"prelu legacy", "PRelu", 6, nil, ir.FromSlice(f32s(-1, 2, -3, 4), 1, 2, 2, 1), ir.FromSlice(f32s(0.5, 2), 2), []int{1, 2, 2, 1}, []float64{-0.5, 2, -6, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOp(t, c.op, c.version, c.attrs, 1, c.a, c.b)
			if out[0].DType != c.a.DType {
				t.Fatalf("dtype %v, want %v", out[0].DType, c.a.DType)
			}
			assertClose(t, out[0], c.shape, c.want, 1e-6)
		})
	}
}

func TestEwCompare(t *testing.T) {
	a := ir.FromSlice(f32s(1, 2, 3, float32(math.NaN())), 4)
	b := ir.Scalar(float32(2))
	cases := []struct {
		op   string
		want []bool
	}{
		{"Equal", []bool{false, true, false, false}},
		{"Less", []bool{true, false, false, false}},
		{"LessOrEqual", []bool{true, true, false, false}},
		{"Greater", []bool{false, false, true, false}},
		{"GreaterOrEqual", []bool{false, true, true, false}},
	}
	for _, c := range cases {
		out := runOp(t, c.op, 19, nil, 1, a, b)[0]
		got := out.Data.([]bool)
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Fatalf("%s: got %v, want %v", c.op, got, c.want)
			}
		}
	}
	s := runOp(t, "Equal", 19, nil, 1, ir.FromSlice([]string{"a", "b"}, 2), ir.Scalar("b"))[0].Data.([]bool)
	if s[0] || !s[1] {
		t.Fatalf("Equal strings: %v", s)
	}
	h := runOp(t, "Greater", 13, nil, 1, ir.FromSlice([]uint16{ir.Float32ToFloat16(1.5)}, 1),
		ir.FromSlice([]uint16{ir.Float32ToFloat16(1)}, 1))[0].Data.([]bool)
	if !h[0] {
		t.Fatalf("Greater float16: %v", h)
	}
	l := runOp(t, "Xor", 7, nil, 1, ir.FromSlice([]bool{true, false, true}, 3), ir.FromSlice([]bool{true, true, false}, 3))[0].Data.([]bool)
	if l[0] || !l[1] || !l[2] {
		t.Fatalf("Xor: %v", l)
	}
}

func TestEwBinaryErrors(t *testing.T) {
	_, err := tryOp("Add", 14, nil, 1, ir.FromSlice(f32s(1, 2, 3), 3), ir.FromSlice(f32s(1, 2), 2))
	if !errors.Is(err, errShape) || !strings.Contains(err.Error(), "[3] and [2]") {
		t.Fatalf("want a shape error naming both shapes, got %v", err)
	}
	_, err = tryOp("Add", 14, nil, 1, ir.FromSlice(f32s(1), 1), ir.FromSlice([]int32{1}, 1))
	if !errors.Is(err, errDType) {
		t.Fatalf("want a dtype error, got %v", err)
	}
	_, err = tryOp("Greater", 13, nil, 1, ir.FromSlice(f32s(1, 2, 3), 3), ir.FromSlice(f32s(1, 2), 2))
	if !errors.Is(err, errShape) || !strings.Contains(err.Error(), "[3] and [2]") {
		t.Fatalf("want a shape error in input order, got %v", err)
	}
	_, err = tryOp("BitShift", 11, nil, 1, ir.FromSlice([]uint8{1}, 1), ir.FromSlice([]uint8{1}, 1))
	if !errors.Is(err, errAttr) {
		t.Fatalf("want an attribute error, got %v", err)
	}
}

// ewRefBroadcast is the slow reference twin of ewRun2: per-element index
// arithmetic over the broadcast.
func ewRefBroadcast(a, b []float64, as, bs, out []int, f func(x, y float64) float64) []float64 {
	n := ir.Size(out)
	sa, sb := broadcastStrides(as, out), broadcastStrides(bs, out)
	res := make([]float64, n)
	for i := 0; i < n; i++ {
		rem, ia, ib := i, 0, 0
		for k := len(out) - 1; k >= 0; k-- {
			c := rem % out[k]
			rem /= out[k]
			ia += c * sa[k]
			ib += c * sb[k]
		}
		res[i] = f(a[ia], b[ib])
	}
	return res
}

func TestEwBroadcastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	shapes := [][2][]int{
		{{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{2, 1, 4}, {1, 3, 1}},
		{{5, 1, 3, 1}, {4, 1, 2}}, {{1}, {3, 2}}, {{3, 1, 1}, {1, 1, 1}}, {{}, {2, 2}},
		{{64, 1, 33}, {1, 40, 33}}, {{2, 0, 3}, {3}}, {{7, 300}, {7, 1}}, {{4000, 3}, {3}},
		{{3, 5000}, {3, 1}}, {{1, 3, 1}, {2, 3, 700}}, {{5000}, {}}, {{5}, {301, 5}}, {{2, 1}, {999, 2, 1}},
	}
	for _, sh := range shapes {
		as, bs := sh[0], sh[1]
		out, err := broadcastShapes(as, bs)
		if err != nil {
			t.Fatal(err)
		}
		a, b := make([]float64, ir.Size(as)), make([]float64, ir.Size(bs))
		for i := range a {
			a[i] = rng.Float64()
		}
		for i := range b {
			b[i] = rng.Float64()
		}
		want := ewRefBroadcast(a, b, as, bs, out, func(x, y float64) float64 { return x - 2*y })
		for name, row := range map[string]func(o, a, b []float64){
			"sub": func(o, x, y []float64) {
				tmp := make([]float64, len(y))
				for i := range y {
					tmp[i] = 2 * y[i]
				}
				ewSubRow(o, x, tmp)
			},
			"rowOf": ewRowOf(func(x, y float64) float64 { return x - 2*y }),
		} {
			got := make([]float64, len(want))
			ewRun2(got, a, b, as, bs, out, 1000, row)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("%s %v+%v: element %d = %v, want %v", name, as, bs, i, got[i], want[i])
				}
			}
		}
	}
}
