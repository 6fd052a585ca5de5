package backendtest

import (
	"math/rand/v2"

	"github.com/keenml/keen/ir"
)

// mmTol is the tolerance of float32 dot-product results (the summation
// order is the backend's own).
const mmTol = 1e-4

// matmulCases: MatMul with batch broadcasting and vector operands, and Gemm.
func matmulCases() []opCase {
	mm := func(a, b []int) opCase {
		return opCase{name: "MatMul/" + shapeName(a) + "@" + shapeName(b), op: "MatMul", tol: mmTol,
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, b...)} }}
	}
	return []opCase{
		mm([]int{3, 4}, []int{4, 5}),
		mm([]int{2, 3, 4}, []int{4, 5}),
		mm([]int{2, 1, 3, 4}, []int{3, 4, 5}),
		mm([]int{4}, []int{4, 5}),
		mm([]int{3, 4}, []int{4}),
		mm([]int{4}, []int{4}),
		mm([]int{33, 65}, []int{65, 47}),
		mm([]int{3, 0}, []int{0, 2}),
		mm([]int{1, 130}, []int{130, 70}),
		{name: "MatMul/float64", op: "MatMul", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toF64(normal(r, 5, 6)), toF64(normal(r, 6, 7))}
		}},
		{name: "Gemm", op: "Gemm", tol: mmTol,
			attrs: ir.Attrs{ir.IntAttr("transB", 1), ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2)},
			in: func(r *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{normal(r, 3, 5), normal(r, 4, 5), normal(r, 4)}
			}},
		{name: "Gemm/transA", op: "Gemm", tol: mmTol, attrs: ir.Attrs{ir.IntAttr("transA", 1)},
			in: func(r *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{normal(r, 5, 3), normal(r, 5, 4), normal(r, 3, 1)}
			}},
	}
}

// convCases: Conv in 1-D and 2-D with padding, strides, dilations and groups.
func convCases() []opCase {
	conv := func(name string, x, w []int, bias bool, attrs ...ir.Attr) opCase {
		return opCase{name: "Conv/" + name, op: "Conv", attrs: attrs, tol: mmTol, in: func(r *rand.Rand) []*ir.Tensor {
			in := []*ir.Tensor{normal(r, x...), normal(r, w...)}
			if bias {
				in = append(in, normal(r, w[0]))
			}
			return in
		}}
	}
	ia := ir.IntsAttr
	return []opCase{
		conv("3x3-pad1-bias", []int{1, 3, 8, 8}, []int{4, 3, 3, 3}, true, ia("pads", 1, 1, 1, 1)),
		conv("plain", []int{2, 3, 7, 6}, []int{5, 3, 2, 3}, false),
		conv("strides-dilations", []int{1, 2, 11, 10}, []int{3, 2, 3, 3}, true,
			ia("strides", 2, 2), ia("dilations", 2, 1), ia("pads", 1, 0, 2, 1)),
		conv("groups", []int{2, 4, 9, 9}, []int{6, 2, 3, 3}, true, ir.IntAttr("group", 2), ia("strides", 2, 2)),
		conv("depthwise", []int{1, 4, 6, 6}, []int{4, 1, 3, 3}, false, ir.IntAttr("group", 4),
			ia("pads", 1, 1, 1, 1)),
		conv("same-upper", []int{1, 3, 7, 7}, []int{2, 3, 3, 3}, false, ir.StringAttr("auto_pad", "SAME_UPPER"),
			ia("strides", 2, 2)),
		conv("1x1", []int{2, 16, 5, 5}, []int{8, 16, 1, 1}, true),
		conv("1d", []int{2, 3, 10}, []int{5, 3, 3}, true, ia("pads", 2, 0)),
		conv("wide", []int{1, 8, 16, 16}, []int{16, 8, 3, 3}, true, ia("pads", 1, 1, 1, 1)),
	}
}

// normCases: pooling and normalization layers.
func normCases() []opCase {
	ia := ir.IntsAttr
	x := func(shape ...int) func(r *rand.Rand) []*ir.Tensor {
		return func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, shape...)} }
	}
	return []opCase{
		{name: "MaxPool", op: "MaxPool", attrs: ir.Attrs{ia("kernel_shape", 2, 2), ia("strides", 2, 2)},
			in: x(1, 2, 6, 6), tol: exact},
		{name: "MaxPool/pads", op: "MaxPool", attrs: ir.Attrs{ia("kernel_shape", 3, 3), ia("pads", 1, 1, 1, 1)},
			in: x(2, 3, 5, 5), tol: exact},
		{name: "AveragePool", op: "AveragePool", in: x(1, 2, 6, 7),
			attrs: ir.Attrs{ia("kernel_shape", 3, 3), ia("pads", 1, 1, 1, 1), ir.IntAttr("count_include_pad", 0)}},
		{name: "GlobalAveragePool", op: "GlobalAveragePool", in: x(2, 3, 4, 5)},
		{name: "BatchNormalization", op: "BatchNormalization", version: 15, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 2, 3, 4, 4), normal(r, 3), normal(r, 3), normal(r, 3), uniform(r, 0.5, 2, 3)}
		}},
		{name: "LayerNormalization", op: "LayerNormalization", attrs: ir.Attrs{ir.IntAttr("axis", -1)},
			in: func(r *rand.Rand) []*ir.Tensor {
				return []*ir.Tensor{normal(r, 2, 3, 8), normal(r, 8), normal(r, 8)}
			}},
	}
}
