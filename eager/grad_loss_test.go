package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradLosses(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -2, 2, shape...) }
	pos := func(shape ...int) *ir.Tensor { return randT(r, 0.5, 2, shape...) }
	red := func(s string) ir.Attr { return ir.StringAttr("reduction", s) }
	ign := func(i int64) ir.Attr { return ir.IntAttr("ignore_index", i) }
	tgt := i64(2, 0, 3, 1, 0)
	tgt2D := ir.FromSlice([]int64{0, 2, 2, 1, 0, 1}, 2, 3)
	tgt32 := ir.FromSlice([]int32{1, 1, 0}, 3)
	var cases []gradCase
	for _, op := range []string{"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"} {
		cases = append(cases,
			gradCase{name: op + " mean", op: op, in: []*ir.Tensor{any(5, 4), tgt}, diff: []int{0}},
			gradCase{name: op + " sum weights", op: op, attrs: ir.Attrs{red("sum")}, in: []*ir.Tensor{any(5, 4), tgt, pos(4)}, diff: []int{0}},
			gradCase{name: op + " none weights", op: op, attrs: ir.Attrs{red("none")}, in: []*ir.Tensor{any(5, 4), tgt, pos(4)}, diff: []int{0}},
			gradCase{name: op + " mean weights ignore", op: op, attrs: ir.Attrs{ign(0)}, in: []*ir.Tensor{any(5, 4), tgt, pos(4)}, diff: []int{0}},
			gradCase{name: op + " mean weights ignore -100 present", op: op, attrs: ir.Attrs{ign(-100)}, in: []*ir.Tensor{any(5, 4), i64(2, -100, 3, -100, 0), pos(4)}, diff: []int{0}},
			gradCase{name: op + " mean ignore -1 unused", op: op, attrs: ir.Attrs{ign(-1)}, in: []*ir.Tensor{any(5, 4), tgt}, diff: []int{0}},
			gradCase{name: op + " none ignore spatial", op: op, attrs: ir.Attrs{red("none"), ign(2)}, in: []*ir.Tensor{any(2, 3, 3), tgt2D}, diff: []int{0}},
			gradCase{name: op + " mean weights spatial", op: op, in: []*ir.Tensor{any(2, 3, 3), tgt2D, pos(3)}, diff: []int{0}},
			gradCase{name: op + " sum int32 targets", op: op, attrs: ir.Attrs{red("sum"), ign(0)}, in: []*ir.Tensor{any(3, 2), tgt32}, diff: []int{0}},
			gradCase{name: op + "-12 mean weights", op: op, version: 12, in: []*ir.Tensor{any(5, 4), tgt, pos(4)}, diff: []int{0}},
		)
	}
	sce := "SoftmaxCrossEntropyLoss"
	cases = append(cases,
		gradCase{name: "SCE log_prob output mean", op: sce, in: []*ir.Tensor{any(5, 4), tgt}, diff: []int{0}, nout: 2},
		gradCase{name: "SCE log_prob output only", op: sce, attrs: ir.Attrs{red("none")}, in: []*ir.Tensor{any(5, 4), tgt}, diff: []int{0}, nout: 2, outs: []int{1}},
		gradCase{name: "SCE log_prob spatial weights ignore", op: sce, attrs: ir.Attrs{red("sum"), ign(1)}, in: []*ir.Tensor{any(2, 3, 3), tgt2D, pos(3)}, diff: []int{0}, nout: 2},
		gradCase{name: "NLL-22 on log-probabilities", op: "NegativeLogLikelihoodLoss", version: 22, attrs: ir.Attrs{red("mean")}, in: []*ir.Tensor{randT(r, -3, -0.1, 4, 3), i64(0, 2, 2, 1)}, diff: []int{0}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}
