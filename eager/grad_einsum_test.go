package eager_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradEinsum(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	eq := func(e string) ir.Attrs { return ir.Attrs{ir.StringAttr("equation", e)} }
	cases := []struct {
		eq string
		in []*ir.Tensor
	}{
		{"ij,jk->ik", []*ir.Tensor{any(2, 3), any(3, 4)}},
		{"ij,jk", []*ir.Tensor{any(2, 3), any(3, 2)}},
		{"bij, bjk -> bik", []*ir.Tensor{any(2, 2, 3), any(2, 3, 2)}},
		{"i,j->ij", []*ir.Tensor{any(3), any(2)}},
		{"ij,ij,ij->i", []*ir.Tensor{any(2, 3), any(2, 3), any(2, 3)}},
		{"ij->", []*ir.Tensor{any(2, 3)}},
		{"ij->j", []*ir.Tensor{any(2, 3)}},
		{"ij->ji", []*ir.Tensor{any(2, 3)}},
		{"ii->i", []*ir.Tensor{any(3, 3)}},
		{"ii", []*ir.Tensor{any(3, 3)}},
		{"iii->i", []*ir.Tensor{any(2, 2, 2)}},
		{"iij,jk->ik", []*ir.Tensor{any(2, 2, 3), any(3, 2)}},
		{"ij,jj->ij", []*ir.Tensor{any(2, 3), any(3, 3)}},
		{"Ab,bC->AC", []*ir.Tensor{any(2, 3), any(3, 2)}},
		{"...ij,...jk->...ik", []*ir.Tensor{any(2, 1, 2, 3), any(3, 3, 2)}},
		{"...ij,...jk", []*ir.Tensor{any(2, 3), any(2, 3, 2)}},
		{"i...j,j->i...", []*ir.Tensor{any(2, 3, 2, 4), any(4)}},
		{"...ii->...i", []*ir.Tensor{any(2, 3, 3)}},
		{"...ij->ij", []*ir.Tensor{any(2, 2, 3)}},
		{"a...,...->a...", []*ir.Tensor{any(2, 1, 3), any(4, 3)}},
		{"a...,...->a", []*ir.Tensor{any(2, 1, 3), any(4, 1)}},
		{"...,...->...", []*ir.Tensor{any(3), any()}},
	}
	for _, c := range cases {
		diff := make([]int, len(c.in))
		for i := range diff {
			diff[i] = i
		}
		t.Run(c.eq, func(t *testing.T) {
			checkGradient(t, gradCase{name: c.eq, op: "Einsum", attrs: eq(c.eq), in: c.in, diff: diff})
		})
	}
}

// An equation that uses every label and repeats one leaves no fresh label
// for the diagonal: the gradient fails with an error naming the equation.
func TestGradEinsumNoFreeLabel(t *testing.T) {
	all := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	eq := "a" + all + "->"
	shape := make([]int, len(all)+1)
	for i := range shape {
		shape[i] = 1
	}
	x := eager.New([]float64{2}, shape...)
	err := eager.Recover(func() {
		tape := eager.NewTape()
		y := eager.Op("Einsum", ir.Attrs{ir.StringAttr("equation", eq)}, 1, x)[0]
		tape.Gradient(y, x)
	})
	if err == nil || !strings.Contains(err.Error(), eq) || !strings.Contains(err.Error(), "Einsum gradient") {
		t.Fatalf("err = %v, want an Einsum gradient error naming %q", err, eq)
	}
}

func TestGradDet(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	cases := []gradCase{
		{name: "Det 1x1", op: "Det", in: []*ir.Tensor{any(1, 1)}, diff: []int{0}},
		{name: "Det 2x2", op: "Det", in: []*ir.Tensor{any(2, 2)}, diff: []int{0}},
		{name: "Det 3x3", op: "Det", in: []*ir.Tensor{any(3, 3)}, diff: []int{0}},
		{name: "Det batch 2x3x3", op: "Det", in: []*ir.Tensor{any(2, 3, 3)}, diff: []int{0}},
		{name: "Det batch 2x1x4x4", op: "Det", in: []*ir.Tensor{any(2, 1, 4, 4)}, diff: []int{0}},
		{name: "Det-11 batch 1x1", op: "Det", version: 11, in: []*ir.Tensor{any(3, 1, 1)}, diff: []int{0}},
		// singular: row 2 = row 0 + row 1; the cofactors are still exact
		{name: "Det singular 3x3", op: "Det", in: []*ir.Tensor{f64([]float64{1, 2, 3, -1, 0.5, 2, 0, 2.5, 5}, 3, 3)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}
