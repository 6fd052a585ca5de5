package backendtest

import (
	"math/rand/v2"

	"github.com/keenml/keen/ir"
)

// reduceCases: reductions (axes as an input, opset 18+), ArgMax, CumSum and
// Softmax.
func reduceCases() []opCase {
	x := func(r *rand.Rand) *ir.Tensor { return normal(r, 3, 4, 5) }
	red := func(name, op string, keep int64, axes *ir.Tensor) opCase {
		c := opCase{name: name, op: op, tol: 1e-5, in: func(r *rand.Rand) []*ir.Tensor {
			if axes == nil {
				return []*ir.Tensor{x(r)}
			}
			return []*ir.Tensor{x(r), axes}
		}}
		if keep >= 0 {
			c.attrs = ir.Attrs{ir.IntAttr("keepdims", keep)}
		}
		return c
	}
	sm := func(name, op string, version int, axis int64, shape ...int) opCase {
		return opCase{name: name, op: op, version: version, attrs: ir.Attrs{ir.IntAttr("axis", axis)},
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, shape...)} }}
	}
	return []opCase{
		red("ReduceSum/axis1", "ReduceSum", -1, i64(1)),
		red("ReduceSum/axes02", "ReduceSum", 0, i64(0, 2)),
		red("ReduceSum/all", "ReduceSum", 0, nil),
		red("ReduceMean/last", "ReduceMean", -1, i64(-1)),
		red("ReduceMax/axis0", "ReduceMax", -1, i64(0)),
		red("ReduceMin/axes12", "ReduceMin", 0, i64(1, 2)),
		red("ReduceL2", "ReduceL2", -1, i64(2)),
		red("ReduceLogSumExp", "ReduceLogSumExp", -1, i64(1)),
		red("ReduceSumSquare", "ReduceSumSquare", 0, i64(0)),
		{name: "ReduceProd", op: "ReduceProd", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{uniform(r, 0.8, 1.2, 3, 4, 5), i64(1)}
		}},
		{name: "ReduceSum/empty", op: "ReduceSum", in: inputs(ir.Zeros(ir.Float32, 0, 3), i64(0))},
		{name: "ReduceSum/int64", op: "ReduceSum", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int64, -1000, 1000, 3, 4, 5), i64(-1)}
		}},
		{name: "ReduceMax/int32", op: "ReduceMax", attrs: ir.Attrs{ir.IntAttr("keepdims", 0)}, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int32, -1000, 1000, 3, 4, 5), i64(1)}
		}},
		{name: "ReduceSum/long", op: "ReduceSum", tol: 1e-4, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 3, 2000), i64(1)}
		}},
		{name: "ArgMax", op: "ArgMax", attrs: ir.Attrs{ir.IntAttr("axis", 1), ir.IntAttr("keepdims", 0)},
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x(r)} }},
		{name: "ArgMin", op: "ArgMin", attrs: ir.Attrs{ir.IntAttr("axis", -1)},
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x(r)} }},
		{name: "CumSum", op: "CumSum", in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x(r), ir.Scalar[int64](1)} }},
		{name: "CumSum/exclusive-reverse", op: "CumSum", attrs: ir.Attrs{ir.IntAttr("exclusive", 1), ir.IntAttr("reverse", 1)},
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{x(r), ir.Scalar[int32](-1)} }},
		sm("Softmax/last", "Softmax", 13, -1, 3, 4, 5),
		sm("Softmax/axis1", "Softmax", 13, 1, 2, 3, 4),
		sm("Softmax/opset11", "Softmax", 11, 1, 2, 3, 4),
		sm("LogSoftmax", "LogSoftmax", 13, -1, 3, 4, 5),
		{name: "Softmax/large", op: "Softmax", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{uniform(r, -90, 90, 4, 7)}
		}},
	}
}

// movementCases: data movement ops; results must match bit for bit.
func movementCases() []opCase {
	mv := func(name, op string, attrs ir.Attrs, f func(r *rand.Rand) []*ir.Tensor) opCase {
		return opCase{name: name, op: op, attrs: attrs, in: f, tol: exact}
	}
	x := func(shape ...int) func(r *rand.Rand) *ir.Tensor {
		return func(r *rand.Rand) *ir.Tensor { return normal(r, shape...) }
	}
	with := func(f func(r *rand.Rand) *ir.Tensor, rest ...*ir.Tensor) func(r *rand.Rand) []*ir.Tensor {
		return func(r *rand.Rand) []*ir.Tensor { return append([]*ir.Tensor{f(r)}, rest...) }
	}
	ia := func(name string, v ...int64) ir.Attrs { return ir.Attrs{ir.IntsAttr(name, v...)} }
	pad := func(mode string) ir.Attrs { return ir.Attrs{ir.StringAttr("mode", mode)} }
	return []opCase{
		mv("Reshape", "Reshape", nil, with(x(2, 3, 4), i64(4, -1))),
		mv("Reshape/zero", "Reshape", nil, with(x(2, 3, 4), i64(0, 12))),
		mv("Reshape/to-scalar", "Reshape", nil, with(x(1, 1), i64())),
		mv("Reshape/empty", "Reshape", nil, with(x(0, 4), i64(2, 0, -1))),
		mv("Transpose", "Transpose", ia("perm", 2, 0, 1), with(x(2, 3, 4))),
		mv("Transpose/default", "Transpose", nil, with(x(2, 3, 4))),
		mv("Transpose/large", "Transpose", nil, with(x(33, 65))),
		mv("Transpose/4d", "Transpose", ia("perm", 0, 2, 3, 1), with(x(2, 3, 4, 5))),
		mv("Expand", "Expand", nil, with(x(3, 1), i64(2, 3, 4))),
		mv("Expand/scalar", "Expand", nil, with(x(), i64(2, 2))),
		mv("Expand/both", "Expand", nil, with(x(2, 1, 4), i64(3, 1))),
		mv("Slice/steps", "Slice", nil, with(x(5, 6, 7), i64(1, -1), i64(5, -1000), i64(0, 2), i64(2, -1))),
		mv("Slice/plain", "Slice", nil, with(x(5, 6, 7), i64(0, 1), i64(2, 100))),
		mv("Slice/neg-axis", "Slice", nil, with(x(5, 6, 7), i64(-3), i64(-1), i64(-2))),
		mv("Slice/empty", "Slice", nil, with(x(5, 6), i64(3), i64(1), i64(0))),
		mv("Concat", "Concat", ir.Attrs{ir.IntAttr("axis", 1)}, func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 2, 3, 4), normal(r, 2, 1, 4), normal(r, 2, 0, 4)}
		}),
		mv("Concat/int64", "Concat", ir.Attrs{ir.IntAttr("axis", -1)}, func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int64, -9, 9, 3, 2), ints(r, ir.Int64, -9, 9, 3, 3)}
		}),
		mv("Concat/bool", "Concat", ir.Attrs{ir.IntAttr("axis", 0)}, func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{bools(r, 2, 3), bools(r, 1, 3)}
		}),
		mv("Pad/constant", "Pad", nil, with(x(3, 4), i64(1, 0, 2, 1), ir.Scalar[float32](1.5))),
		mv("Pad/reflect", "Pad", pad("reflect"), with(x(4, 5), i64(2, 1, 1, 2))),
		mv("Pad/edge", "Pad", pad("edge"), with(x(3, 4), i64(1, 2, 0, 1))),
		mv("Pad/wrap", "Pad", pad("wrap"), with(x(3, 4), i64(1, 1, 1, 2))),
		mv("Pad/crop", "Pad", nil, with(x(3, 4), i64(-1, 0, 0, 1))),
		mv("Pad/axes", "Pad", nil, with(x(2, 3, 4), i64(1, 2), nil, i64(-1))),
		mv("Squeeze", "Squeeze", nil, with(x(3, 1, 4), i64(1))),
		mv("Unsqueeze", "Unsqueeze", nil, with(x(3, 4), i64(0, 3))),
		mv("Flatten", "Flatten", ir.Attrs{ir.IntAttr("axis", 2)}, with(x(2, 3, 4))),
		mv("Tile", "Tile", nil, with(x(2, 3, 1), i64(2, 1, 3))),
		{name: "Split", op: "Split", nout: 2, attrs: ir.Attrs{ir.IntAttr("axis", 1)}, tol: exact,
			in: with(x(2, 3, 4), i64(1, 2))},
	}
}

// indexCases: Gather, GatherElements and ScatterElements.
func indexCases() []opCase {
	ax := func(a int64) ir.Attrs { return ir.Attrs{ir.IntAttr("axis", a)} }
	return []opCase{
		{name: "Gather/axis0", op: "Gather", tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 5, 4), ir.FromSlice([]int64{0, -1, 2, 4, 4, 1}, 2, 3)}
		}},
		{name: "Gather/axis1-int32", op: "Gather", attrs: ax(1), tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 2, 5, 3), ir.FromSlice([]int32{3, 0, -2}, 3)}
		}},
		{name: "Gather/scalar-index", op: "Gather", attrs: ax(-1), tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int64, -99, 99, 3, 4), ir.Scalar[int64](2)}
		}},
		{name: "GatherElements", op: "GatherElements", attrs: ax(1), tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 3, 4), ints(r, ir.Int64, -4, 3, 3, 5)}
		}},
		{name: "ScatterElements", op: "ScatterElements", tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 4, 3), distinctRows(r, 4, 2, 3), normal(r, 2, 3)}
		}},
		{name: "ScatterElements/axis1", op: "ScatterElements", attrs: ax(1), tol: exact, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 2, 5), ir.FromSlice([]int64{-1, 0, 2, 1, 3, -5}, 2, 3), normal(r, 2, 3)}
		}},
		{name: "ScatterElements/add", op: "ScatterElements", attrs: ir.Attrs{ir.StringAttr("reduction", "add")},
			in: func(r *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{normal(r, 4, 3), ints(r, ir.Int64, 0, 3, 5, 3), normal(r, 5, 3)}
			}},
	}
}

// distinctRows is an int64 [k, cols] index tensor for axis 0 of a [n, cols]
// tensor whose entries in each column are distinct (so a scatter without
// reduction writes each element at most once).
func distinctRows(r *rand.Rand, n, k, cols int) *ir.Tensor {
	idx := make([]int64, k*cols)
	for j := range cols {
		p := r.Perm(n)
		for i := range k {
			idx[i*cols+j] = int64(p[i])
		}
	}
	return ir.FromSlice(idx, k, cols)
}
