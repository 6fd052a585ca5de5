package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradElementwise(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	cases := []gradCase{
		{name: "Add broadcast", op: "Add", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}},
		{name: "Sub broadcast", op: "Sub", in: []*ir.Tensor{any(2, 1), any(1, 3)}, diff: []int{0, 1}},
		{name: "Mul", op: "Mul", in: []*ir.Tensor{any(2, 3), any(2, 3)}, diff: []int{0, 1}},
		{name: "Div", op: "Div", in: []*ir.Tensor{any(2, 3), pos(3)}, diff: []int{0, 1}},
		{name: "Pow", op: "Pow", in: []*ir.Tensor{pos(4), any(4)}, diff: []int{0, 1}},
		{name: "Neg", op: "Neg", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Abs", op: "Abs", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Exp", op: "Exp", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Log", op: "Log", in: []*ir.Tensor{pos(5)}, diff: []int{0}},
		{name: "Sqrt", op: "Sqrt", in: []*ir.Tensor{pos(5)}, diff: []int{0}},
		{name: "Reciprocal", op: "Reciprocal", in: []*ir.Tensor{pos(5)}, diff: []int{0}},
		{name: "Sigmoid", op: "Sigmoid", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Tanh", op: "Tanh", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Relu", op: "Relu", in: []*ir.Tensor{any(6)}, diff: []int{0}},
		{name: "Sin", op: "Sin", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Cos", op: "Cos", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Tan", op: "Tan", in: []*ir.Tensor{randT(r, -1, 1, 5)}, diff: []int{0}},
		{name: "Erf", op: "Erf", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Identity", op: "Identity", in: []*ir.Tensor{any(5)}, diff: []int{0}},
		{name: "Sum variadic", op: "Sum", in: []*ir.Tensor{any(2, 3), any(3), any(2, 1)}, diff: []int{0, 1, 2}},
		{name: "Mean variadic", op: "Mean", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}},
		{name: "Max variadic", op: "Max", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}},
		{name: "Min variadic", op: "Min", in: []*ir.Tensor{any(2, 3), any(2, 3)}, diff: []int{0, 1}},
		{name: "Where", op: "Where", in: []*ir.Tensor{ir.FromSlice([]bool{true, false, true}, 3), any(2, 3), any(3)}, diff: []int{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}
