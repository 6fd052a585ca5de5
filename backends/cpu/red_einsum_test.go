package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

func TestEinsum(t *testing.T) {
	a := f32([]int{2, 2}, 1, 2, 3, 4)
	b := f32([]int{2, 2}, 5, 6, 7, 8)
	v := f32([]int{3}, 1, 2, 3)
	w := f32([]int{3}, 4, 5, 6)
	batchA := f32([]int{2, 1, 2}, 1, 2, 3, 4)
	colB := f32([]int{2, 1}, 1, 1)
	cases := []struct {
		eq    string
		in    []*ir.Tensor
		shape []int
		want  []float64
	}{
		{"ij,jk->ik", []*ir.Tensor{a, b}, []int{2, 2}, []float64{19, 22, 43, 50}},
		{"ij,jk", []*ir.Tensor{a, b}, []int{2, 2}, []float64{19, 22, 43, 50}},
		{"ij,kj->ik", []*ir.Tensor{a, b}, []int{2, 2}, []float64{17, 23, 39, 53}},
		{"ij->ji", []*ir.Tensor{a}, []int{2, 2}, []float64{1, 3, 2, 4}},
		{"ji", []*ir.Tensor{a}, []int{2, 2}, []float64{1, 3, 2, 4}}, // implicit output is sorted: ij
		{"ii->i", []*ir.Tensor{a}, []int{2}, []float64{1, 4}},
		{"ii", []*ir.Tensor{a}, []int{}, []float64{5}},
		{"ij->", []*ir.Tensor{a}, []int{}, []float64{10}},
		{"ij->j", []*ir.Tensor{a}, []int{2}, []float64{4, 6}},
		{"i,i", []*ir.Tensor{v, w}, []int{}, []float64{32}},
		{"i,j->ij", []*ir.Tensor{v, f32([]int{2}, 1, 10)}, []int{3, 2}, []float64{1, 10, 2, 20, 3, 30}},
		{"...ij,...jk->...ik", []*ir.Tensor{batchA, colB}, []int{2, 1, 1}, []float64{3, 7}},
		{"bij,bjk->bik", []*ir.Tensor{batchA, f32([]int{2, 2, 1}, 1, 2, 3, 4)}, []int{2, 1, 1}, []float64{5, 25}},
		{"ij,ij,ij->i", []*ir.Tensor{a, a, b}, []int{2}, []float64{5 + 24, 63 + 128}},
		{"...ii->...i", []*ir.Tensor{f32([]int{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8)}, []int{2, 2}, []float64{1, 4, 5, 8}},
		{"i j , j k -> i k", []*ir.Tensor{a, b}, []int{2, 2}, []float64{19, 22, 43, 50}},
	}
	for _, c := range cases {
		out := runOp(t, "Einsum", 12, ir.Attrs{ir.StringAttr("equation", c.eq)}, 1, c.in...)
		t.Run(c.eq, func(t *testing.T) { assertClose(t, out[0], c.shape, c.want, 1e-6) })
	}
	ai := ir.FromSlice([]int32{1, 2, 3, 4}, 2, 2)
	out := runOp(t, "Einsum", 12, ir.Attrs{ir.StringAttr("equation", "ij,jk->ik")}, 1, ai, ai)
	if out[0].DType != ir.Int32 {
		t.Fatalf("dtype %v", out[0].DType)
	}
	assertClose(t, out[0], []int{2, 2}, []float64{7, 10, 15, 22}, 0)
}

func TestEinsumErrors(t *testing.T) {
	a := f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	bad := []struct {
		eq string
		in []*ir.Tensor
	}{
		{"ij,jk->ik", []*ir.Tensor{a, a}},   // j is 3 in a, 2 in the second
		{"ijk->i", []*ir.Tensor{a}},         // rank mismatch
		{"ij->ik", []*ir.Tensor{a}},         // k in no input
		{"ij,jk->ik", []*ir.Tensor{a}},      // operand count
		{"i1->i", []*ir.Tensor{a}},          // bad character
		{"ij->ii", []*ir.Tensor{a}},         // repeated output label
		{"......ij->ij", []*ir.Tensor{a}},   // two ellipses
		{"ii->i", []*ir.Tensor{a}},          // diagonal of a non-square pair
		{"ij,ij->ij", []*ir.Tensor{a, nil}}, // missing input
	}
	for _, c := range bad {
		if _, err := tryOp("Einsum", 12, ir.Attrs{ir.StringAttr("equation", c.eq)}, 1, c.in...); err == nil {
			t.Errorf("%q accepted", c.eq)
		}
	}
}
