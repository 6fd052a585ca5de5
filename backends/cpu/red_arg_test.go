package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestArgMaxMin(t *testing.T) {
	x := ir.FromSlice([]float32{2, 1, 3, 10, 3, 1}, 2, 3)
	cases := []struct {
		op    string
		attrs ir.Attrs
		shape []int
		want  []float64
	}{
		{"ArgMax", nil, []int{1, 3}, []float64{1, 1, 0}},
		{"ArgMax", ir.Attrs{ir.IntAttr("axis", 1)}, []int{2, 1}, []float64{2, 0}},
		{"ArgMax", ir.Attrs{ir.IntAttr("axis", -1), ir.IntAttr("keepdims", 0)}, []int{2}, []float64{2, 0}},
		{"ArgMin", ir.Attrs{ir.IntAttr("axis", 1), ir.IntAttr("keepdims", 0)}, []int{2}, []float64{1, 2}},
		{"ArgMin", ir.Attrs{ir.IntAttr("axis", 0)}, []int{1, 3}, []float64{0, 0, 1}},
	}
	for _, c := range cases {
		out := runOp(t, c.op, 13, c.attrs, 1, x)[0]
		if out.DType != ir.Int64 {
			t.Fatalf("dtype %v", out.DType)
		}
		assertClose(t, out, c.shape, c.want, 0)
	}
	ties := ir.FromSlice([]int32{4, 7, 7, 4}, 4)
	first := runOp(t, "ArgMax", 12, nil, 1, ties)[0]
	lastMax := runOp(t, "ArgMax", 12, ir.Attrs{ir.IntAttr("select_last_index", 1)}, 1, ties)[0]
	lastMin := runOp(t, "ArgMin", 12, ir.Attrs{ir.IntAttr("select_last_index", 1)}, 1, ties)[0]
	assertClose(t, first, []int{1}, []float64{1}, 0)
	assertClose(t, lastMax, []int{1}, []float64{2}, 0)
	assertClose(t, lastMin, []int{1}, []float64{3}, 0)
}

func TestSoftmaxFamily(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2, 3, 1, 1, 1}, 2, 3)
	e := []float64{math.Exp(1), math.Exp(2), math.Exp(3)}
	s := e[0] + e[1] + e[2]
	out := runOp(t, "Softmax", 13, nil, 1, x)[0]
	assertClose(t, out, []int{2, 3}, []float64{e[0] / s, e[1] / s, e[2] / s, 1. / 3, 1. / 3, 1. / 3}, 1e-6)
	out = runOp(t, "LogSoftmax", 13, nil, 1, x)[0]
	ls := math.Log(s)
	assertClose(t, out, []int{2, 3}, []float64{1 - ls, 2 - ls, 3 - ls, -math.Log(3), -math.Log(3), -math.Log(3)}, 1e-6)
	out = runOp(t, "Hardmax", 13, ir.Attrs{ir.IntAttr("axis", 0)}, 1, x)[0]
	assertClose(t, out, []int{2, 3}, []float64{1, 1, 1, 0, 0, 0}, 0)
	// opset 11, axis 0: the whole tensor is one row
	out = runOp(t, "Hardmax", 11, ir.Attrs{ir.IntAttr("axis", 0)}, 1, x)[0]
	assertClose(t, out, []int{2, 3}, []float64{0, 0, 1, 0, 0, 0}, 0)
	// large values do not overflow
	big := ir.FromSlice([]float64{10000, 10001}, 1, 2)
	out = runOp(t, "Softmax", 1, nil, 1, big)[0]
	assertClose(t, out, []int{1, 2}, []float64{1 / (1 + math.E), math.E / (1 + math.E)}, 1e-12)
	// axis 1 of a rank-3 tensor (strided columns)
	y := ir.FromSlice([]float32{0, 0, 0, 0, 0, 0}, 1, 2, 3)
	out = runOp(t, "Softmax", 13, ir.Attrs{ir.IntAttr("axis", 1)}, 1, y)[0]
	assertClose(t, out, []int{1, 2, 3}, []float64{.5, .5, .5, .5, .5, .5}, 1e-7)
}

func TestCumSumProd(t *testing.T) {
	x := ir.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	ax := func(a int64) *ir.Tensor { return ir.Scalar(a) }
	cases := []struct {
		op    string
		attrs ir.Attrs
		axis  int64
		want  []float64
	}{
		{"CumSum", nil, 1, []float64{1, 3, 6, 4, 9, 15}},
		{"CumSum", nil, 0, []float64{1, 2, 3, 5, 7, 9}},
		{"CumSum", ir.Attrs{ir.IntAttr("exclusive", 1)}, -1, []float64{0, 1, 3, 0, 4, 9}},
		{"CumSum", ir.Attrs{ir.IntAttr("reverse", 1)}, 1, []float64{6, 5, 3, 15, 11, 6}},
		{"CumSum", ir.Attrs{ir.IntAttr("reverse", 1), ir.IntAttr("exclusive", 1)}, 1, []float64{5, 3, 0, 11, 6, 0}},
		{"CumProd", nil, 1, []float64{1, 2, 6, 4, 20, 120}},
		{"CumProd", ir.Attrs{ir.IntAttr("exclusive", 1)}, 0, []float64{1, 1, 1, 1, 2, 3}},
	}
	for _, c := range cases {
		out := runOp(t, c.op, 26, c.attrs, 1, x, ax(c.axis))[0]
		assertClose(t, out, []int{2, 3}, c.want, 1e-12)
	}
	xi := ir.FromSlice([]int32{1, 2, 3}, 3)
	out := runOp(t, "CumSum", 14, nil, 1, xi, ir.FromSlice([]int32{0}, 1))[0]
	if out.DType != ir.Int32 {
		t.Fatalf("dtype %v", out.DType)
	}
	assertClose(t, out, []int{3}, []float64{1, 3, 6}, 0)
	if _, err := tryOp("CumSum", 14, nil, 1, xi, ax(1)); err == nil {
		t.Fatal("axis out of range accepted")
	}
}

func TestTopK(t *testing.T) {
	x := ir.FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8}, 3, 4)
	k := ir.FromSlice([]int64{3}, 1)
	out := runOp(t, "TopK", 11, nil, 2, x, k)
	assertClose(t, out[0], []int{3, 3}, []float64{3, 2, 1, 7, 6, 5, 11, 10, 9}, 0)
	assertClose(t, out[1], []int{3, 3}, []float64{3, 2, 1, 3, 2, 1, 0, 1, 2}, 0)
	out = runOp(t, "TopK", 11, ir.Attrs{ir.IntAttr("largest", 0), ir.IntAttr("axis", 0)}, 2, x, ir.FromSlice([]int64{2}, 1))
	assertClose(t, out[0], []int{2, 4}, []float64{0, 1, 2, 3, 4, 5, 6, 7}, 0)
	assertClose(t, out[1], []int{2, 4}, []float64{0, 0, 0, 0, 1, 1, 1, 1}, 0)
	// ties keep index order for both directions
	ties := ir.FromSlice([]int64{0, 1, 0, 1, 2}, 5)
	out = runOp(t, "TopK", 11, nil, 2, ties, ir.FromSlice([]int64{3}, 1))
	assertClose(t, out[1], []int{3}, []float64{4, 1, 3}, 0)
	out = runOp(t, "TopK", 11, ir.Attrs{ir.IntAttr("largest", 0)}, 2, ties, ir.FromSlice([]int64{3}, 1))
	assertClose(t, out[1], []int{3}, []float64{0, 2, 1}, 0)
	// opset 1: k is an attribute
	out = runOp(t, "TopK", 1, ir.Attrs{ir.IntAttr("k", 1)}, 2, x)
	assertClose(t, out[0], []int{3, 1}, []float64{3, 7, 11}, 0)
	if _, err := tryOp("TopK", 11, nil, 2, x, ir.FromSlice([]int64{5}, 1)); err == nil {
		t.Fatal("k > n accepted")
	}
}

// TestTopKHeapMatchesSort checks the heap selection used for small k against
// the full sort, with many ties and NaNs.
func TestTopKHeapMatchesSort(t *testing.T) {
	col := make([]float32, 300)
	for i := range col {
		col[i] = float32((i * 7919) % 13)
		if i%97 == 5 {
			col[i] = float32(math.NaN())
		}
	}
	for _, largest := range []bool{true, false} {
		for _, k := range []int{1, 5, 20} {
			heap := redTopKSelect(col, k, largest, make([]int, len(col)))
			full := redTopKSelect(col, len(col), largest, make([]int, len(col)))[:k]
			for j := range heap {
				if heap[j] != full[j] {
					t.Fatalf("largest=%v k=%d: heap %v, sort %v", largest, k, heap, full)
				}
			}
		}
	}
}
