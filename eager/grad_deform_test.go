package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradDeformConv(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	offs := func(shape ...int) *ir.Tensor { return randT(r, -1.7, 1.7, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []gradCase{
		{name: "2D bias", op: "DeformConv", in: []*ir.Tensor{any(1, 2, 4, 4), any(2, 2, 2, 2), offs(1, 8, 3, 3), any(2)}, diff: []int{0, 1, 2, 3}},
		{name: "2D mask no bias", op: "DeformConv", in: []*ir.Tensor{any(2, 2, 3, 4), any(3, 2, 2, 2), offs(2, 8, 2, 3), nil, any(2, 4, 2, 3)}, diff: []int{0, 1, 2, 4}},
		{name: "groups offset_group stride pad dilation", op: "DeformConv",
			attrs: ir.Attrs{ir.IntAttr("group", 2), ir.IntAttr("offset_group", 2), ints("strides", 2, 1), ints("pads", 1, 0, 1, 1), ints("dilations", 1, 2)},
			in:    []*ir.Tensor{any(1, 4, 5, 4), any(4, 2, 2, 2), offs(1, 16, 3, 3), any(4), any(1, 8, 3, 3)}, diff: []int{0, 1, 2, 3, 4}},
		{name: "offset_group 2 group 1", op: "DeformConv", attrs: ir.Attrs{ir.IntAttr("offset_group", 2), ints("kernel_shape", 2, 1)},
			in: []*ir.Tensor{any(1, 2, 3, 3), any(1, 2, 2, 1), offs(1, 8, 2, 3)}, diff: []int{0, 1, 2}},
		{name: "1D", op: "DeformConv", attrs: ir.Attrs{ints("pads", 1, 0)},
			in: []*ir.Tensor{any(2, 2, 5), any(3, 2, 3), offs(2, 3, 4), any(3), any(2, 3, 4)}, diff: []int{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}
