package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradConvTranspose(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	str := func(name, v string) ir.Attr { return ir.StringAttr(name, v) }
	ct := func(name string, attrs ir.Attrs, in ...*ir.Tensor) gradCase {
		diff := []int{0, 1}
		if len(in) > 2 {
			diff = append(diff, 2)
		}
		return gradCase{name: name, op: "ConvTranspose", attrs: attrs, in: in, diff: diff}
	}
	cases := []gradCase{
		ct("2D bias", nil, any(2, 3, 3, 3), any(3, 2, 2, 3), any(2)),
		ct("strides pads", ir.Attrs{ints("strides", 2, 2), ints("pads", 1, 0, 1, 2)}, any(1, 2, 3, 3), any(2, 3, 3, 3)),
		ct("output_padding", ir.Attrs{ints("strides", 3, 2), ints("output_padding", 2, 1), ints("pads", 1, 1, 0, 0)}, any(1, 2, 2, 3), any(2, 1, 3, 2)),
		ct("dilations", ir.Attrs{ints("dilations", 2, 1), ints("strides", 1, 2), ints("pads", 2, 1, 1, 0)}, any(1, 1, 3, 3), any(1, 2, 2, 3)),
		ct("groups", ir.Attrs{ir.IntAttr("group", 2), ints("strides", 2, 1)}, any(2, 4, 2, 3), any(4, 3, 2, 2), any(6)),
		ct("depthwise output_padding", ir.Attrs{ir.IntAttr("group", 3), ints("strides", 2, 2), ints("output_padding", 1, 0), ints("dilations", 1, 2)}, any(1, 3, 2, 2), any(3, 1, 2, 2)),
		ct("output_shape larger", ir.Attrs{ints("strides", 2, 2), ints("output_shape", 8, 9)}, any(1, 2, 3, 3), any(2, 1, 3, 3)),
		ct("output_shape smaller", ir.Attrs{ints("strides", 2, 1), ints("output_shape", 1, 1, 5, 4)}, any(1, 2, 3, 3), any(2, 1, 3, 3)),
		ct("output_shape SAME_UPPER", ir.Attrs{ints("strides", 2, 2), ints("output_shape", 10, 7), str("auto_pad", "SAME_UPPER")}, any(1, 1, 3, 2), any(1, 2, 2, 2)),
		ct("SAME_UPPER", ir.Attrs{str("auto_pad", "SAME_UPPER"), ints("strides", 2, 2)}, any(1, 2, 3, 2), any(2, 2, 3, 3)),
		ct("SAME_LOWER", ir.Attrs{str("auto_pad", "SAME_LOWER"), ints("strides", 2, 3)}, any(1, 2, 2, 3), any(2, 1, 3, 2)),
		ct("VALID ignores pads", ir.Attrs{str("auto_pad", "VALID"), ints("strides", 2, 2)}, any(1, 1, 2, 2), any(1, 2, 3, 3)),
		ct("1D", ir.Attrs{ints("strides", 2), ints("pads", 1, 1)}, any(2, 2, 4), any(2, 3, 3), any(3)),
		ct("3D", ir.Attrs{ints("strides", 2, 1, 1)}, any(1, 2, 2, 2, 2), any(2, 1, 2, 2, 2)),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// ConvTranspose-1: the same geometry rules at the oldest opset.
	t.Run("opset 1", func(t *testing.T) {
		c := ct("v1", ir.Attrs{ints("strides", 2, 2), ints("pads", 1, 1, 0, 0)}, any(1, 2, 2, 3), any(2, 2, 3, 2))
		c.version = 1
		checkGradient(t, c)
	})
}

func TestGradLpPoolMaxUnpool(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	p := func(v int64) ir.Attr { return ir.IntAttr("p", v) }
	var cases []gradCase
	for _, pv := range []int64{1, 2, 3} {
		cases = append(cases,
			gradCase{name: "LpPool p" + string(rune('0'+pv)), op: "LpPool", attrs: ir.Attrs{p(pv), ints("kernel_shape", 2, 2), ints("strides", 2, 1)}, in: []*ir.Tensor{any(2, 2, 4, 3)}, diff: []int{0}},
			gradCase{name: "LpPool overlap pads p" + string(rune('0'+pv)), op: "LpPool", attrs: ir.Attrs{p(pv), ints("kernel_shape", 3, 2), ints("pads", 1, 0, 1, 1)}, in: []*ir.Tensor{any(1, 2, 4, 4)}, diff: []int{0}},
			gradCase{name: "GlobalLpPool p" + string(rune('0'+pv)), op: "GlobalLpPool", attrs: ir.Attrs{p(pv)}, in: []*ir.Tensor{any(2, 3, 2, 3)}, diff: []int{0}},
		)
	}
	cases = append(cases,
		gradCase{name: "LpPool default p", op: "LpPool", attrs: ir.Attrs{ints("kernel_shape", 2)}, in: []*ir.Tensor{any(2, 2, 5)}, diff: []int{0}},
		gradCase{name: "LpPool ceil dilations", op: "LpPool", attrs: ir.Attrs{p(2), ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("dilations", 1, 2), ir.IntAttr("ceil_mode", 1)}, in: []*ir.Tensor{any(1, 1, 5, 6)}, diff: []int{0}},
		gradCase{name: "LpPool SAME_LOWER", op: "LpPool", attrs: ir.Attrs{p(3), ints("kernel_shape", 3, 3), ints("strides", 2, 2), ir.StringAttr("auto_pad", "SAME_LOWER")}, in: []*ir.Tensor{any(1, 2, 4, 5)}, diff: []int{0}},
		gradCase{name: "LpPool 3D", op: "LpPool", attrs: ir.Attrs{p(2), ints("kernel_shape", 2, 2, 2)}, in: []*ir.Tensor{any(1, 1, 3, 2, 3)}, diff: []int{0}},
		gradCase{name: "GlobalLpPool 1D", op: "GlobalLpPool", in: []*ir.Tensor{any(2, 2, 5)}, diff: []int{0}},
		gradCase{name: "MaxUnpool", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)},
			in: []*ir.Tensor{any(1, 2, 2, 2), ir.FromSlice([]int64{0, 3, 9, 14, 16, 22, 25, 31}, 1, 2, 2, 2)}, diff: []int{0}},
		gradCase{name: "MaxUnpool output_shape", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)},
			in: []*ir.Tensor{any(1, 1, 2, 2), ir.FromSlice([]int64{5, 2, 8, 15}, 1, 1, 2, 2), i64(1, 1, 5, 5)}, diff: []int{0}},
		gradCase{name: "MaxUnpool pads 1D", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 3), ints("strides", 2), ints("pads", 1, 1)},
			in: []*ir.Tensor{any(2, 1, 3), ir.FromSlice([]int64{0, 2, 4, 5, 6, 9}, 2, 1, 3)}, diff: []int{0}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// LpPool-1 and GlobalLpPool-1 take p as a float.
	for _, c := range []gradCase{
		{name: "LpPool-1 p=3", op: "LpPool", version: 1, attrs: ir.Attrs{ir.FloatAttr("p", 3), ints("kernel_shape", 2, 2)}, in: []*ir.Tensor{any(1, 2, 3, 3)}, diff: []int{0}},
		{name: "GlobalLpPool-1 p=1.5", op: "GlobalLpPool", version: 1, attrs: ir.Attrs{ir.FloatAttr("p", 1.5)}, in: []*ir.Tensor{randT(r, 0.2, 1, 1, 2, 2, 2)}, diff: []int{0}},
	} {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// The conv-family rules run in float32 too (their constants take the
// input's dtype): float32 gradients agree with the float64 ones.
func TestGradConvFamilyFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []gradCase{
		{name: "ConvTranspose", op: "ConvTranspose", attrs: ir.Attrs{ints("strides", 2, 2), ints("output_padding", 1, 0), ir.IntAttr("group", 2)}, in: []*ir.Tensor{any(1, 2, 3, 3), any(2, 2, 2, 2), any(4)}, diff: []int{0, 1, 2}},
		{name: "LpPool p3", op: "LpPool", attrs: ir.Attrs{ir.IntAttr("p", 3), ints("kernel_shape", 2, 2), ints("pads", 1, 1, 0, 0)}, in: []*ir.Tensor{any(1, 2, 3, 4)}, diff: []int{0}},
		{name: "GlobalLpPool", op: "GlobalLpPool", in: []*ir.Tensor{any(2, 2, 3)}, diff: []int{0}},
		{name: "MaxUnpool", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 2)}, in: []*ir.Tensor{any(1, 1, 3), ir.FromSlice([]int64{0, 2, 3}, 1, 1, 3)}, diff: []int{0}},
		{name: "RoiAlign", op: "RoiAlign", attrs: ir.Attrs{ir.IntAttr("output_height", 2), ir.IntAttr("output_width", 2)}, in: []*ir.Tensor{any(1, 2, 4, 4), f64([]float64{0.3, 0.2, 3.1, 2.9}, 1, 4), i64(0)}, diff: []int{0}},
		{name: "MaxRoiPool", op: "MaxRoiPool", attrs: ir.Attrs{ints("pooled_shape", 2, 2)}, in: []*ir.Tensor{any(1, 2, 4, 4), f64([]float64{0, 0, 1, 3, 3}, 1, 5)}, diff: []int{0}},
		{name: "DeformConv", op: "DeformConv", in: []*ir.Tensor{any(1, 2, 3, 3), any(2, 2, 2, 2), randT(r, -1.7, 1.7, 1, 8, 2, 2), any(2), any(1, 4, 2, 2)}, diff: []int{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradientFloat32(t, c) })
	}
}

// The conv-family rules can be differentiated again.
func TestGradConvFamilySecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []struct {
		c gradCase
		j int
	}{
		{gradCase{name: "LpPool p2", op: "LpPool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 1, 2)}, in: []*ir.Tensor{any(1, 2, 3, 4)}}, 0},
		{gradCase{name: "LpPool p3", op: "LpPool", attrs: ir.Attrs{ir.IntAttr("p", 3), ints("kernel_shape", 2)}, in: []*ir.Tensor{any(1, 2, 4)}}, 0},
		{gradCase{name: "GlobalLpPool p3", op: "GlobalLpPool", attrs: ir.Attrs{ir.IntAttr("p", 3)}, in: []*ir.Tensor{any(2, 2, 3)}}, 0},
		{gradCase{name: "ConvTranspose", op: "ConvTranspose", attrs: ir.Attrs{ints("strides", 2)}, in: []*ir.Tensor{any(1, 2, 3), any(2, 1, 3)}}, 1},
		{gradCase{name: "DeformConv offset", op: "DeformConv", in: []*ir.Tensor{any(1, 2, 3, 3), any(1, 2, 2, 2), randT(r, -1.7, 1.7, 1, 8, 2, 2)}}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.c.name, func(t *testing.T) { checkGradientSecondOrder(t, tc.c, tc.j) })
	}
}
