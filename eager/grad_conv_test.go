package eager_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradConvPool(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []gradCase{
		{name: "Conv2D bias", op: "Conv", in: []*ir.Tensor{any(2, 3, 5, 5), any(4, 3, 3, 3), any(4)}, diff: []int{0, 1, 2}},
		{name: "Conv2D stride pad", op: "Conv", attrs: ir.Attrs{ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)}, in: []*ir.Tensor{any(1, 2, 6, 5), any(3, 2, 3, 3)}, diff: []int{0, 1}},
		{name: "Conv2D dilation asym pads", op: "Conv", attrs: ir.Attrs{ints("dilations", 2, 1), ints("pads", 1, 0, 2, 1)}, in: []*ir.Tensor{any(1, 2, 6, 5), any(2, 2, 2, 3)}, diff: []int{0, 1}},
		{name: "Conv2D groups", op: "Conv", attrs: ir.Attrs{ir.IntAttr("group", 2)}, in: []*ir.Tensor{any(1, 4, 4, 4), any(6, 2, 2, 2)}, diff: []int{0, 1}},
		{name: "Conv2D depthwise stride", op: "Conv", attrs: ir.Attrs{ir.IntAttr("group", 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)}, in: []*ir.Tensor{any(2, 3, 5, 5), any(3, 1, 3, 3)}, diff: []int{0, 1}},
		{name: "Conv2D SAME_UPPER", op: "Conv", attrs: ir.Attrs{ir.StringAttr("auto_pad", "SAME_UPPER"), ints("strides", 2, 2)}, in: []*ir.Tensor{any(1, 1, 5, 6), any(2, 1, 3, 3)}, diff: []int{0, 1}},
		{name: "Conv1D", op: "Conv", attrs: ir.Attrs{ints("pads", 1, 1)}, in: []*ir.Tensor{any(2, 2, 7), any(3, 2, 3), any(3)}, diff: []int{0, 1, 2}},
		{name: "Conv3D", op: "Conv", in: []*ir.Tensor{any(1, 1, 3, 4, 3), any(2, 1, 2, 2, 2)}, diff: []int{0, 1}},
		{name: "MaxPool", op: "MaxPool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}, in: []*ir.Tensor{any(2, 2, 4, 5)}, diff: []int{0}},
		{name: "MaxPool overlap pad", op: "MaxPool", attrs: ir.Attrs{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)}, in: []*ir.Tensor{any(1, 2, 4, 4)}, diff: []int{0}},
		{name: "MaxPool ceil dilation", op: "MaxPool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("dilations", 2, 1), ir.IntAttr("ceil_mode", 1)}, in: []*ir.Tensor{any(1, 1, 6, 5)}, diff: []int{0}},
		{name: "AveragePool", op: "AveragePool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}, in: []*ir.Tensor{any(2, 2, 4, 4)}, diff: []int{0}},
		{name: "AveragePool pad exclude", op: "AveragePool", attrs: ir.Attrs{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)}, in: []*ir.Tensor{any(1, 2, 4, 5)}, diff: []int{0}},
		{name: "AveragePool pad include", op: "AveragePool", attrs: ir.Attrs{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1), ir.IntAttr("count_include_pad", 1)}, in: []*ir.Tensor{any(1, 1, 4, 4)}, diff: []int{0}},
		{name: "AveragePool ceil", op: "AveragePool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2), ir.IntAttr("ceil_mode", 1)}, in: []*ir.Tensor{any(1, 1, 5, 5)}, diff: []int{0}},
		{name: "GlobalAveragePool", op: "GlobalAveragePool", in: []*ir.Tensor{any(2, 3, 2, 3)}, diff: []int{0}},
		{name: "GlobalMaxPool", op: "GlobalMaxPool", in: []*ir.Tensor{any(2, 3, 2, 3)}, diff: []int{0}},
	}
	// Both paths: the fused kernels (the default on the CPU backend) and
	// the composite ONNX formulations other backends run.
	for _, fused := range []bool{true, false} {
		old := eager.SetFusedGradients(fused)
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s fused=%v", c.name, fused), func(t *testing.T) {
				checkGradient(t, c)
				if c.op == "Conv" || c.op == "MaxPool" {
					checkGradientFloat32(t, c)
				}
			})
		}
		eager.SetFusedGradients(old)
	}
}
