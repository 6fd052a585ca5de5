package ir

import (
	"errors"
	"strings"
	"testing"
)

// inferCase is one op application and the output types it must give
// ("float32[2,?]" per output, space separated) or an error substring.
type inferCase struct {
	name    string
	op      string
	version int
	attrs   Attrs
	in      []*TensorInfo
	vals    []*Tensor
	nout    int
	want    string
	err     string
}

func f32(s ...int) *TensorInfo { return NewInfo(Float32, s...) }
func i64(s ...int) *TensorInfo { return NewInfo(Int64, s...) }
func ints(v ...int64) *Tensor  { return FromSlice(v, len(v)) }

func runInferCases(t *testing.T, cases []inferCase) {
	t.Helper()
	for _, tc := range cases {
		nout := tc.nout
		if nout == 0 {
			nout = 1
		}
		outs, ok, err := InferOutputs("", tc.op, tc.version, tc.attrs, tc.in, tc.vals, nout)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrShape) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		parts := make([]string, len(outs))
		for i, o := range outs {
			parts[i] = o.String()
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
		if static := !strings.ContainsAny(tc.want, "?."); ok != static {
			t.Errorf("%s: ok=%v for %s", tc.name, ok, tc.want)
		}
	}
}

func TestInferElementwise(t *testing.T) {
	runInferCases(t, []inferCase{
		{name: "broadcast", op: "Add", version: 14, in: []*TensorInfo{f32(2, 1, 4), f32(3, 1)}, want: "float32[2,3,4]"},
		{name: "broadcast unknown", op: "Mul", version: 14, in: []*TensorInfo{f32(-1, 1), f32(5)}, want: "float32[?,5]"},
		{name: "unknown vs 3", op: "Sub", version: 14, in: []*TensorInfo{f32(-1), f32(3)}, want: "float32[3]"},
		{name: "mismatch", op: "Add", version: 14, in: []*TensorInfo{f32(2, 3), f32(4)}, err: "[4] does not broadcast with [2,3]"},
		{name: "legacy axis broadcast", op: "Add", version: 6, attrs: Attrs{IntAttr("broadcast", 1), IntAttr("axis", 1)},
			in: []*TensorInfo{f32(2, 3, 4), f32(3)}, want: "float32[2,3,4]"},
		{name: "compare", op: "Less", version: 13, in: []*TensorInfo{i64(3), i64()}, want: "bool[3]"},
		{name: "where", op: "Where", version: 16, in: []*TensorInfo{NewInfo(Bool, 2, 1), f32(1, 3), f32()}, want: "float32[2,3]"},
		{name: "variadic max", op: "Max", version: 13, in: []*TensorInfo{f32(3), f32(2, 1), f32(1, 1)}, want: "float32[2,3]"},
		{name: "cast", op: "Cast", version: 21, attrs: Attrs{IntAttr("to", int64(Float16))}, in: []*TensorInfo{f32(2)}, want: "float16[2]"},
		{name: "castlike", op: "CastLike", version: 21, in: []*TensorInfo{i64(2, 2), NewInfo(Float64)}, want: "float64[2,2]"},
		{name: "bad cast", op: "Cast", version: 21, attrs: Attrs{IntAttr("to", 99)}, in: []*TensorInfo{f32(2)}, err: "to=99"},
		{name: "isnan", op: "IsNaN", version: 20, in: []*TensorInfo{f32(4, -1)}, want: "bool[4,?]"},
		{name: "dropout mask", op: "Dropout", version: 13, in: []*TensorInfo{f32(2, 5)}, nout: 2, want: "float32[2,5] bool[2,5]"},
		{name: "relu unknown rank", op: "Relu", version: 14, in: []*TensorInfo{UnknownInfo()}, want: "?[...]"},
		{name: "swiglu", op: "SwiGLU", version: 28, in: []*TensorInfo{f32(2, -1), f32(2, 8)}, want: "float32[2,8]"},
		{name: "dtype clash", op: "Add", version: 14, in: []*TensorInfo{f32(2), i64(2)}, err: "input 0 is float32 and input 1 int64, both of type T"},
		{name: "variadic dtype clash", op: "Concat", version: 13, attrs: Attrs{IntAttr("axis", 0)},
			in: []*TensorInfo{f32(2), f32(1), NewInfo(Float16, 2)}, err: "input 0 is float32 and input 2 float16"},
		{name: "pow mixed types", op: "Pow", version: 15, in: []*TensorInfo{f32(2), i64()}, want: "float32[2]"},
		{name: "unknown op", op: "NoSuchOp", version: 21, in: []*TensorInfo{f32(1)}, want: "?[...]"},
	})
}

func TestInferReduce(t *testing.T) {
	x := f32(2, 3, 4)
	runInferCases(t, []inferCase{
		{name: "axes attr keepdims", op: "ReduceMean", version: 13, attrs: Attrs{IntsAttr("axes", 1)}, in: []*TensorInfo{x}, want: "float32[2,1,4]"},
		{name: "axes input", op: "ReduceSum", version: 13, attrs: Attrs{IntAttr("keepdims", 0)},
			in: []*TensorInfo{x, i64(2)}, vals: []*Tensor{nil, ints(0, -1)}, want: "float32[3]"},
		{name: "all axes", op: "ReduceMax", version: 18, attrs: Attrs{IntAttr("keepdims", 0)}, in: []*TensorInfo{x}, want: "float32[]"},
		{name: "noop empty axes", op: "ReduceSum", version: 13, attrs: Attrs{IntAttr("noop_with_empty_axes", 1)},
			in: []*TensorInfo{x, i64(0)}, want: "float32[2,3,4]"},
		{name: "axes unknown keep", op: "ReduceL2", version: 18, in: []*TensorInfo{x, i64(1)}, want: "float32[?,?,?]"},
		{name: "axes unknown drop", op: "ReduceL2", version: 18, attrs: Attrs{IntAttr("keepdims", 0)}, in: []*TensorInfo{x, i64(2)}, want: "float32[?]"},
		{name: "bad axis", op: "ReduceMin", version: 13, attrs: Attrs{IntsAttr("axes", 3)}, in: []*TensorInfo{x}, err: "axis 3 out of range for rank 3"},
		{name: "argmax", op: "ArgMax", version: 13, attrs: Attrs{IntAttr("axis", -1), IntAttr("keepdims", 0)}, in: []*TensorInfo{x}, want: "int64[2,3]"},
		{name: "topk input k", op: "TopK", version: 11, attrs: Attrs{IntAttr("axis", 1)}, in: []*TensorInfo{x, i64(1)}, vals: []*Tensor{nil, ints(2)},
			nout: 2, want: "float32[2,2,4] int64[2,2,4]"},
		{name: "topk attr k", op: "TopK", version: 1, attrs: Attrs{IntAttr("k", 3)}, in: []*TensorInfo{x}, nout: 2, want: "float32[2,3,3] int64[2,3,3]"},
		{name: "topk k too big", op: "TopK", version: 11, in: []*TensorInfo{x, i64(1)}, vals: []*Tensor{nil, ints(5)}, nout: 2, err: "k=5 exceeds"},
		{name: "topk unknown k", op: "TopK", version: 11, in: []*TensorInfo{x, i64(1)}, nout: 2, want: "float32[2,3,?] int64[2,3,?]"},
		{name: "softmax", op: "Softmax", version: 13, in: []*TensorInfo{x}, want: "float32[2,3,4]"},
		{name: "det", op: "Det", version: 11, in: []*TensorInfo{f32(5, 3, 3)}, want: "float32[5]"},
		{name: "det not square", op: "Det", version: 11, in: []*TensorInfo{f32(3, 2)}, err: "square"},
		{name: "nll none", op: "NegativeLogLikelihoodLoss", version: 13, attrs: Attrs{StringAttr("reduction", "none")},
			in: []*TensorInfo{f32(3, 5, 2), i64(3, 2)}, want: "float32[3,2]"},
		{name: "sce mean", op: "SoftmaxCrossEntropyLoss", version: 13, in: []*TensorInfo{f32(3, 5), i64(3)}, nout: 2, want: "float32[] float32[3,5]"},
	})
}

func TestInferMatMul(t *testing.T) {
	runInferCases(t, []inferCase{
		{name: "batched", op: "MatMul", version: 13, in: []*TensorInfo{f32(2, 1, 3, 4), f32(5, 4, 6)}, want: "float32[2,5,3,6]"},
		{name: "vector left", op: "MatMul", version: 13, in: []*TensorInfo{f32(4), f32(2, 4, 6)}, want: "float32[2,6]"},
		{name: "vector right", op: "MatMul", version: 13, in: []*TensorInfo{f32(3, 4), f32(4)}, want: "float32[3]"},
		{name: "dot", op: "MatMul", version: 13, in: []*TensorInfo{f32(4), f32(4)}, want: "float32[]"},
		{name: "inner mismatch", op: "MatMul", version: 13, in: []*TensorInfo{f32(3, 4), f32(5, 6)}, err: "A [3,4] and B [5,6] do not multiply"},
		{name: "integer", op: "MatMulInteger", version: 10, in: []*TensorInfo{NewInfo(Uint8, 3, 4), NewInfo(Int8, 4, 2)}, want: "int32[3,2]"},
		{name: "qlinear", op: "QLinearMatMul", version: 21,
			in:   []*TensorInfo{NewInfo(Uint8, 3, 4), f32(), NewInfo(Uint8), NewInfo(Int8, 4, 2), f32(), NewInfo(Int8), f32(), NewInfo(Int8)},
			want: "int8[3,2]"},
		{name: "gemm trans", op: "Gemm", version: 13, attrs: Attrs{IntAttr("transA", 1), IntAttr("transB", 1)},
			in: []*TensorInfo{f32(4, 3), f32(5, 4), f32(5)}, want: "float32[3,5]"},
		{name: "gemm mismatch", op: "Gemm", version: 13, in: []*TensorInfo{f32(3, 4), f32(5, 6)}, err: "do not multiply"},
		{name: "einsum explicit", op: "Einsum", version: 12, attrs: Attrs{StringAttr("equation", "bij,bjk->bik")},
			in: []*TensorInfo{f32(2, 3, 4), f32(2, 4, 5)}, want: "float32[2,3,5]"},
		{name: "einsum implicit", op: "Einsum", version: 12, attrs: Attrs{StringAttr("equation", "ij,jk")},
			in: []*TensorInfo{f32(3, 4), f32(4, 5)}, want: "float32[3,5]"},
		{name: "einsum ellipsis", op: "Einsum", version: 12, attrs: Attrs{StringAttr("equation", "...ii->...i")},
			in: []*TensorInfo{f32(2, 7, 3, 3)}, want: "float32[2,7,3]"},
		{name: "einsum transpose", op: "Einsum", version: 12, attrs: Attrs{StringAttr("equation", "ba")},
			in: []*TensorInfo{f32(3, 4)}, want: "float32[4,3]"},
		{name: "einsum label clash", op: "Einsum", version: 12, attrs: Attrs{StringAttr("equation", "ij,ij->i")},
			in: []*TensorInfo{f32(3, 4), f32(3, 5)}, err: "label 'j' is 5 in input 1 [3,5] and 4 before"},
		{name: "quantize default", op: "QuantizeLinear", version: 21, in: []*TensorInfo{f32(2, 3), f32()}, want: "uint8[2,3]"},
		{name: "quantize zp", op: "QuantizeLinear", version: 21, in: []*TensorInfo{f32(2, 3), f32(), NewInfo(Int8)}, want: "int8[2,3]"},
		{name: "dequantize", op: "DequantizeLinear", version: 21, in: []*TensorInfo{NewInfo(Int8, 2, 3), NewInfo(Float16)}, want: "float16[2,3]"},
		{name: "dynamic quantize", op: "DynamicQuantizeLinear", version: 11, in: []*TensorInfo{f32(2, 3)}, nout: 3, want: "uint8[2,3] float32[] uint8[]"},
	})
}

func TestInferMovement(t *testing.T) {
	x := f32(2, 3, 4)
	runInferCases(t, []inferCase{
		{name: "reshape 0 and -1", op: "Reshape", version: 14, in: []*TensorInfo{x, i64(3)}, vals: []*Tensor{nil, ints(0, -1, 2)}, want: "float32[2,6,2]"},
		{name: "reshape allowzero", op: "Reshape", version: 14, attrs: Attrs{IntAttr("allowzero", 1)},
			in: []*TensorInfo{f32(0, 3), i64(2)}, vals: []*Tensor{nil, ints(3, 0)}, want: "float32[3,0]"},
		{name: "reshape bad", op: "Reshape", version: 14, in: []*TensorInfo{x, i64(2)}, vals: []*Tensor{nil, ints(5, -1)}, err: "cannot reshape [2,3,4] to [5 -1]"},
		{name: "reshape count", op: "Reshape", version: 14, in: []*TensorInfo{x, i64(2)}, vals: []*Tensor{nil, ints(5, 5)}, err: "24 elements"},
		{name: "reshape unknown shape", op: "Reshape", version: 14, in: []*TensorInfo{x, i64(2)}, want: "float32[?,?]"},
		{name: "reshape v1 attr", op: "Reshape", version: 1, attrs: Attrs{IntsAttr("shape", 4, -1)}, in: []*TensorInfo{x}, want: "float32[4,6]"},
		{name: "reshape unknown input dim", op: "Reshape", version: 14, in: []*TensorInfo{f32(-1, 4), i64(2)}, vals: []*Tensor{nil, ints(-1, 2)}, want: "float32[?,2]"},
		{name: "reshape copies unknown batch", op: "Reshape", version: 14, in: []*TensorInfo{f32(5, -1, 2, 12), i64(3)},
			vals: []*Tensor{nil, ints(0, 0, -1)}, want: "float32[5,?,24]"},
		{name: "flatten", op: "Flatten", version: 13, attrs: Attrs{IntAttr("axis", -1)}, in: []*TensorInfo{x}, want: "float32[6,4]"},
		{name: "flatten 0", op: "Flatten", version: 13, attrs: Attrs{IntAttr("axis", 0)}, in: []*TensorInfo{x}, want: "float32[1,24]"},
		{name: "transpose default", op: "Transpose", version: 13, in: []*TensorInfo{x}, want: "float32[4,3,2]"},
		{name: "transpose perm", op: "Transpose", version: 13, attrs: Attrs{IntsAttr("perm", 0, 2, 1)}, in: []*TensorInfo{x}, want: "float32[2,4,3]"},
		{name: "squeeze all", op: "Squeeze", version: 13, in: []*TensorInfo{f32(1, 3, 1)}, want: "float32[3]"},
		{name: "squeeze axes", op: "Squeeze", version: 13, in: []*TensorInfo{f32(1, 3, 1), i64(1)}, vals: []*Tensor{nil, ints(-1)}, want: "float32[1,3]"},
		{name: "squeeze not 1", op: "Squeeze", version: 11, attrs: Attrs{IntsAttr("axes", 1)}, in: []*TensorInfo{f32(1, 3, 1)}, err: "cannot squeeze axis 1"},
		{name: "unsqueeze", op: "Unsqueeze", version: 13, in: []*TensorInfo{f32(3, 4), i64(2)}, vals: []*Tensor{nil, ints(0, -1)}, want: "float32[1,3,4,1]"},
		{name: "unsqueeze v11", op: "Unsqueeze", version: 11, attrs: Attrs{IntsAttr("axes", 1)}, in: []*TensorInfo{f32(3)}, want: "float32[3,1]"},
		{name: "concat", op: "Concat", version: 13, attrs: Attrs{IntAttr("axis", -1)}, in: []*TensorInfo{f32(2, 3), f32(2, 5), f32(-1, 1)}, want: "float32[2,9]"},
		{name: "concat mismatch", op: "Concat", version: 13, attrs: Attrs{IntAttr("axis", 0)}, in: []*TensorInfo{f32(2, 3), f32(2, 5)}, err: "differ off axis 0"},
		{name: "split equal", op: "Split", version: 13, attrs: Attrs{IntAttr("axis", 1)}, in: []*TensorInfo{f32(2, 6)}, nout: 3, want: "float32[2,2] float32[2,2] float32[2,2]"},
		{name: "split sizes", op: "Split", version: 13, in: []*TensorInfo{f32(5), i64(2)}, vals: []*Tensor{nil, ints(2, 3)}, nout: 2, want: "float32[2] float32[3]"},
		{name: "split uneven v18", op: "Split", version: 18, attrs: Attrs{IntAttr("num_outputs", 3)}, in: []*TensorInfo{f32(7)}, nout: 3, want: "float32[3] float32[3] float32[1]"},
		{name: "split bad sum", op: "Split", version: 2, attrs: Attrs{IntsAttr("split", 2, 2)}, in: []*TensorInfo{f32(5)}, nout: 2, err: "does not add up"},
		{name: "slice", op: "Slice", version: 13, in: []*TensorInfo{f32(10, 8), i64(2), i64(2), i64(2), i64(2)},
			vals: []*Tensor{nil, ints(1, -1), ints(1000, 0), ints(0, 1), ints(3, -2)}, want: "float32[3,4]"},
		{name: "slice v1", op: "Slice", version: 1, attrs: Attrs{IntsAttr("starts", 2), IntsAttr("ends", -1), IntsAttr("axes", 1)},
			in: []*TensorInfo{f32(4, 10)}, want: "float32[4,7]"},
		{name: "slice unknown starts", op: "Slice", version: 13, in: []*TensorInfo{f32(4, 10), i64(1), i64(1), i64(1)},
			vals: []*Tensor{nil, nil, nil, ints(1)}, want: "float32[4,?]"},
		{name: "expand", op: "Expand", version: 13, in: []*TensorInfo{f32(3, 1), i64(3)}, vals: []*Tensor{nil, ints(2, 1, 6)}, want: "float32[2,3,6]"},
		{name: "expand bad", op: "Expand", version: 13, in: []*TensorInfo{f32(3, 2), i64(1)}, vals: []*Tensor{nil, ints(4)}, err: "does not broadcast"},
		{name: "tile", op: "Tile", version: 13, in: []*TensorInfo{f32(2, 3), i64(2)}, vals: []*Tensor{nil, ints(3, 2)}, want: "float32[6,6]"},
		{name: "pad", op: "Pad", version: 18, in: []*TensorInfo{f32(2, 3), i64(4)}, vals: []*Tensor{nil, ints(1, 0, 2, -1)}, want: "float32[5,2]"},
		{name: "pad axes", op: "Pad", version: 18, in: []*TensorInfo{f32(2, 3), i64(2), nil, i64(1)}, vals: []*Tensor{nil, ints(1, 1), nil, ints(-1)}, want: "float32[2,5]"},
		{name: "pad v2", op: "Pad", version: 2, attrs: Attrs{IntsAttr("pads", 0, 1, 0, 1)}, in: []*TensorInfo{f32(2, 3)}, want: "float32[2,5]"},
		{name: "depth to space", op: "DepthToSpace", version: 13, attrs: Attrs{IntAttr("blocksize", 2)}, in: []*TensorInfo{f32(1, 8, 2, 3)}, want: "float32[1,2,4,6]"},
		{name: "space to depth", op: "SpaceToDepth", version: 13, attrs: Attrs{IntAttr("blocksize", 2)}, in: []*TensorInfo{f32(1, 2, 4, 6)}, want: "float32[1,8,2,3]"},
		{name: "space to depth indivisible", op: "SpaceToDepth", version: 13, attrs: Attrs{IntAttr("blocksize", 2)}, in: []*TensorInfo{f32(1, 2, 3, 6)}, err: "not divisible"},
		{name: "gather", op: "Gather", version: 13, attrs: Attrs{IntAttr("axis", 1)}, in: []*TensorInfo{x, i64(5, 2)}, want: "float32[2,5,2,4]"},
		{name: "gather scalar index", op: "Gather", version: 13, in: []*TensorInfo{x, i64()}, want: "float32[3,4]"},
		{name: "gather elements", op: "GatherElements", version: 13, in: []*TensorInfo{x, i64(2, 1, 4)}, want: "float32[2,1,4]"},
		{name: "gather nd batch", op: "GatherND", version: 13, attrs: Attrs{IntAttr("batch_dims", 1)}, in: []*TensorInfo{x, i64(2, 5, 1)}, want: "float32[2,5,4]"},
		{name: "onehot", op: "OneHot", version: 11, attrs: Attrs{IntAttr("axis", 0)}, in: []*TensorInfo{i64(2, 3), i64(), f32(2)},
			vals: []*Tensor{nil, Scalar(int64(10))}, want: "float32[10,2,3]"},
		{name: "nonzero known", op: "NonZero", version: 13, in: []*TensorInfo{NewInfo(Bool, 2, 2)},
			vals: []*Tensor{FromSlice([]bool{true, false, true, true}, 2, 2)}, want: "int64[2,3]"},
		{name: "nonzero unknown", op: "NonZero", version: 13, in: []*TensorInfo{f32(2, 2)}, want: "int64[2,?]"},
		{name: "compress axis", op: "Compress", version: 11, attrs: Attrs{IntAttr("axis", 1)}, in: []*TensorInfo{f32(3, 4), NewInfo(Bool, 3)},
			vals: []*Tensor{nil, FromSlice([]bool{false, true, true}, 3)}, want: "float32[3,2]"},
		{name: "unique", op: "Unique", version: 11, in: []*TensorInfo{f32(6)}, vals: []*Tensor{FromSlice([]float32{2, 1, 1, 3, 4, 3}, 6)},
			nout: 4, want: "float32[4] int64[4] int64[6] int64[4]"},
		{name: "shape slice", op: "Shape", version: 15, attrs: Attrs{IntAttr("start", 1), IntAttr("end", -1)}, in: []*TensorInfo{f32(2, 3, 4, 5)}, want: "int64[2]"},
		{name: "size", op: "Size", version: 13, in: []*TensorInfo{x}, want: "int64[]"},
		{name: "constant of shape", op: "ConstantOfShape", version: 20, attrs: Attrs{TensorAttr("value", FromSlice([]int32{0}, 1))},
			in: []*TensorInfo{i64(2)}, vals: []*Tensor{ints(2, 5)}, want: "int32[2,5]"},
		{name: "range int", op: "Range", version: 11, in: []*TensorInfo{i64(), i64(), i64()},
			vals: []*Tensor{Scalar(int64(10)), Scalar(int64(1)), Scalar(int64(-3))}, want: "int64[3]"},
		{name: "range float", op: "Range", version: 11, in: []*TensorInfo{f32(), f32(), f32()},
			vals: []*Tensor{Scalar(float32(0)), Scalar(float32(1)), Scalar(float32(0.3))}, want: "float32[4]"},
		{name: "constant", op: "Constant", version: 13, attrs: Attrs{IntsAttr("value_ints", 1, 2, 3)}, want: "int64[3]"},
		{name: "eyelike", op: "EyeLike", version: 9, attrs: Attrs{IntAttr("dtype", int64(Int32))}, in: []*TensorInfo{f32(3, 4)}, want: "int32[3,4]"},
		{name: "random normal", op: "RandomNormal", version: 1, attrs: Attrs{IntsAttr("shape", 2, 3)}, want: "float32[2,3]"},
		{name: "center crop pad", op: "CenterCropPad", version: 18, attrs: Attrs{IntsAttr("axes", -2, -1)},
			in: []*TensorInfo{f32(3, 20, 10), i64(2)}, vals: []*Tensor{nil, ints(8, 12)}, want: "float32[3,8,12]"},
	})
}
