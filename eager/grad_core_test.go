package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradLinalgReduceMovement(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	cases := []gradCase{
		{name: "MatMul 2D", op: "MatMul", in: []*ir.Tensor{any(2, 3), any(3, 4)}, diff: []int{0, 1}},
		{name: "MatMul batch broadcast", op: "MatMul", in: []*ir.Tensor{any(2, 2, 3), any(3, 2)}, diff: []int{0, 1}},
		{name: "MatMul vec-mat", op: "MatMul", in: []*ir.Tensor{any(3), any(2, 3, 4)}, diff: []int{0, 1}},
		{name: "MatMul mat-vec", op: "MatMul", in: []*ir.Tensor{any(2, 3), any(3)}, diff: []int{0, 1}},
		{name: "Gemm", op: "Gemm", attrs: ir.Attrs{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2)}, in: []*ir.Tensor{any(2, 3), any(3, 4), any(4)}, diff: []int{0, 1, 2}},
		{name: "Gemm transposed", op: "Gemm", attrs: ir.Attrs{ir.IntAttr("transA", 1), ir.IntAttr("transB", 1)}, in: []*ir.Tensor{any(3, 2), any(4, 3), any(2, 1)}, diff: []int{0, 1, 2}},
		{name: "ReduceSum axes keepdims=0", op: "ReduceSum", attrs: ir.Attrs{ir.IntAttr("keepdims", 0)}, in: []*ir.Tensor{any(2, 3, 4), i64(1)}, diff: []int{0}},
		{name: "ReduceMean all", op: "ReduceMean", in: []*ir.Tensor{any(2, 3)}, diff: []int{0}},
		{name: "ReduceMax", op: "ReduceMax", attrs: ir.Attrs{ir.IntAttr("keepdims", 0)}, in: []*ir.Tensor{any(3, 4), i64(-1)}, diff: []int{0}},
		{name: "ReduceL2", op: "ReduceL2", in: []*ir.Tensor{any(3, 4), i64(0)}, diff: []int{0}},
		{name: "ReduceLogSumExp", op: "ReduceLogSumExp", in: []*ir.Tensor{any(3, 4), i64(1)}, diff: []int{0}},
		{name: "ReduceSumSquare", op: "ReduceSumSquare", in: []*ir.Tensor{any(3, 4), i64(1)}, diff: []int{0}},
		{name: "ReduceProd", op: "ReduceProd", in: []*ir.Tensor{randT(r, 0.5, 2, 3, 4), i64(1)}, diff: []int{0}},
		{name: "Softmax", op: "Softmax", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 5)}, diff: []int{0}},
		{name: "LogSoftmax", op: "LogSoftmax", in: []*ir.Tensor{any(2, 3, 4)}, diff: []int{0}},
		{name: "Reshape", op: "Reshape", in: []*ir.Tensor{any(2, 6), i64(3, -1)}, diff: []int{0}},
		{name: "Transpose", op: "Transpose", attrs: ir.Attrs{ir.IntsAttr("perm", 1, 2, 0)}, in: []*ir.Tensor{any(2, 3, 4)}, diff: []int{0}},
		{name: "Expand", op: "Expand", in: []*ir.Tensor{any(3, 1), i64(2, 3, 4)}, diff: []int{0}},
		{name: "Concat", op: "Concat", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3), any(2, 1)}, diff: []int{0, 1}},
		{name: "Split", op: "Split", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 5), i64(2, 3)}, diff: []int{0}, nout: 2},
		{name: "Slice steps", op: "Slice", in: []*ir.Tensor{any(4, 5), i64(0, 4), i64(4, 0), i64(0, 1), i64(2, -2)}, diff: []int{0}},
		{name: "Gather repeated", op: "Gather", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3), ir.FromSlice([]int64{0, 2, 0}, 3)}, diff: []int{0}},
		{name: "GatherElements", op: "GatherElements", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3), ir.FromSlice([]int64{0, 0, 2, 1}, 2, 2)}, diff: []int{0}},
		{name: "Pad reflect", op: "Pad", attrs: ir.Attrs{ir.StringAttr("mode", "reflect")}, in: []*ir.Tensor{any(2, 3), i64(0, 1, 1, 2)}, diff: []int{0}},
		{name: "Pad constant", op: "Pad", in: []*ir.Tensor{any(2, 3), i64(1, 0, 0, 1), ir.Scalar(1.5)}, diff: []int{0}},
		{name: "Tile", op: "Tile", in: []*ir.Tensor{any(2, 3), i64(2, 1)}, diff: []int{0}},
		{name: "Squeeze", op: "Squeeze", in: []*ir.Tensor{any(2, 1, 3), i64(1)}, diff: []int{0}},
		{name: "Flatten", op: "Flatten", attrs: ir.Attrs{ir.IntAttr("axis", 2)}, in: []*ir.Tensor{any(2, 3, 2, 2)}, diff: []int{0}},
		{name: "ScatterElements", op: "ScatterElements", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 3), ir.FromSlice([]int64{2, 0}, 2, 1), any(2, 1)}, diff: []int{0, 2}},
		{name: "ScatterND", op: "ScatterND", in: []*ir.Tensor{any(3, 2), ir.FromSlice([]int64{2, 0}, 2, 1), any(2, 2)}, diff: []int{0, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradTensorScatter(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	// cache [B=2, S=4, D=3], update [2, 1, 3], write_indices [2]
	c := gradCase{name: "TensorScatter", op: "TensorScatter",
		in:   []*ir.Tensor{randT(r, -1, 1, 2, 4, 3), randT(r, -1, 1, 2, 1, 3), ir.FromSlice([]int64{1, 3}, 2)},
		diff: []int{0, 1}}
	checkGradient(t, c)
}
