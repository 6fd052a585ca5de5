package cpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestMovGatherScatter(t *testing.T) {
	x := movIota(3, 2)
	runMovCases(t, []movCase{
		{"gather0", "Gather", 13, nil, []*ir.Tensor{x, ir.FromSlice([]int64{2, -3}, 1, 2)}, []int{1, 2, 2}, []float64{4, 5, 0, 1}},
		{"gather1", "Gather", 13, ir.Attrs{ir.IntAttr("axis", 1)}, []*ir.Tensor{x, ir.Scalar(int32(1))}, []int{3}, []float64{1, 3, 5}},
		{"gather-elements", "GatherElements", 13, ir.Attrs{ir.IntAttr("axis", 1)},
			[]*ir.Tensor{x, ir.FromSlice([]int64{1, 0, -1, 0}, 2, 2)}, []int{2, 2}, []float64{1, 0, 3, 2}},
		{"gathernd", "GatherND", 13, nil, []*ir.Tensor{x, ir.FromSlice([]int64{2, 1, 0, 0}, 2, 2)}, []int{2}, []float64{5, 0}},
		{"gathernd-slices", "GatherND", 13, nil, []*ir.Tensor{x, ir.FromSlice([]int64{1, 0}, 2, 1)}, []int{2, 2}, []float64{2, 3, 0, 1}},
		{"gathernd-batch", "GatherND", 13, ir.Attrs{ir.IntAttr("batch_dims", 1)},
			[]*ir.Tensor{movIota(2, 2, 2), ir.FromSlice([]int64{1, 0}, 2, 1)}, []int{2, 2}, []float64{2, 3, 4, 5}},
		{"scatter-elements", "ScatterElements", 13, ir.Attrs{ir.IntAttr("axis", 1)},
			[]*ir.Tensor{x, ir.FromSlice([]int64{1, -2}, 2, 1), ir.FromSlice([]float32{9, 8}, 2, 1)}, []int{3, 2},
			[]float64{0, 9, 8, 3, 4, 5}},
		{"scatter-add", "ScatterElements", 16, ir.Attrs{ir.StringAttr("reduction", "add")},
			[]*ir.Tensor{x, ir.FromSlice([]int64{1, 1}, 2, 1), ir.FromSlice([]float32{10, 20}, 2, 1)}, []int{3, 2},
			[]float64{0, 1, 32, 3, 4, 5}},
		{"scatter-9", "Scatter", 9, nil,
			[]*ir.Tensor{x, ir.FromSlice([]int64{2}, 1, 1), ir.FromSlice([]float32{7}, 1, 1)}, []int{3, 2},
			[]float64{0, 1, 2, 3, 7, 5}},
		{"scatternd", "ScatterND", 13, nil,
			[]*ir.Tensor{x, ir.FromSlice([]int64{2, 0}, 2, 1), ir.FromSlice([]float32{7, 8, 9, 10}, 2, 2)}, []int{3, 2},
			[]float64{9, 10, 2, 3, 7, 8}},
		{"scatternd-max", "ScatterND", 18, ir.Attrs{ir.StringAttr("reduction", "max")},
			[]*ir.Tensor{x, ir.FromSlice([]int64{1, 1, 1, 1}, 2, 2), ir.FromSlice([]float32{1, 6}, 2)}, []int{3, 2},
			[]float64{0, 1, 2, 6, 4, 5}},
		{"tensorscatter-circular", "TensorScatter", 24, ir.Attrs{ir.StringAttr("mode", "circular")},
			[]*ir.Tensor{movIota(2, 3, 1), ir.FromSlice([]float32{10, 11, 20, 21}, 2, 2, 1), movI64(2, 0)}, []int{2, 3, 1},
			[]float64{11, 1, 10, 20, 21, 5}},
	})
	_, err := tryOp("Gather", 13, nil, 1, x, movI64(3))
	if !errors.Is(err, errInput) || !strings.Contains(err.Error(), "Gather") || !strings.Contains(err.Error(), "value 3") {
		t.Fatalf("out-of-range gather: %v", err)
	}
	_, err = tryOp("ScatterElements", 13, nil, 1, x, ir.FromSlice([]int64{-4}, 1, 1), ir.FromSlice([]float32{1}, 1, 1))
	if err == nil || !strings.Contains(err.Error(), "value -4") {
		t.Fatalf("out-of-range scatter: %v", err)
	}
	_, err = tryOp("GatherND", 13, nil, 1, x, ir.FromSlice([]int64{0, 2}, 1, 2))
	if err == nil || !strings.Contains(err.Error(), "GatherND") {
		t.Fatalf("out-of-range gathernd: %v", err)
	}
}

func TestMovGatherAllTypes(t *testing.T) {
	ind := movI64(1, 0)
	for _, x := range []*ir.Tensor{
		ir.FromSlice([]bool{true, false}, 2),
		ir.FromSlice([]string{"x", "y"}, 2),
		ir.FromSlice([]int8{-1, 2}, 2),
		ir.FromSlice([]complex128{1i, 2}, 2),
		ir.FromSlice([]complex64{1i, 2}, 2),
		{DType: ir.Float16, Shape: []int{2}, Data: []uint16{0x3c00, 0x4000}},
	} {
		out := runOp(t, "Gather", 13, nil, 1, x, ind)[0]
		if out.DType != x.DType || ir.FormatValues(out, 2) != ir.FormatValues(&ir.Tensor{DType: x.DType, Shape: []int{2},
			Data: movSwap2(x.Data)}, 2) {
			t.Fatalf("%v: got %v from %v", x.DType, out, x)
		}
	}
}

// movSwap2 reverses a two-element slice copy.
func movSwap2(d any) any {
	c := ir.CloneSlice(d)
	switch s := movRaw(c).(type) {
	case []uint8:
		s[0], s[1] = s[1], s[0]
	case []uint16:
		s[0], s[1] = s[1], s[0]
	case []uint64:
		s[0], s[1] = s[1], s[0]
	case []complex128:
		s[0], s[1] = s[1], s[0]
	case []string:
		s[0], s[1] = s[1], s[0]
	}
	return c
}

func TestMovSelectOps(t *testing.T) {
	runMovCases(t, []movCase{
		{"onehot", "OneHot", 11, nil, []*ir.Tensor{movI64(1, -1, 5), ir.Scalar(int64(3)), ir.FromSlice([]float32{0, 2}, 2)},
			[]int{3, 3}, []float64{0, 2, 0, 0, 0, 2, 0, 0, 0}},
		{"onehot-axis0", "OneHot", 11, ir.Attrs{ir.IntAttr("axis", 0)},
			[]*ir.Tensor{movI64(0, 1), ir.Scalar(float32(2)), ir.FromSlice([]int32{5, 6}, 2)}, []int{2, 2}, []float64{6, 5, 5, 6}},
		{"nonzero", "NonZero", 13, nil, []*ir.Tensor{ir.FromSlice([]float32{0, 1, -2, 0}, 2, 2)}, []int{2, 2}, []float64{0, 1, 1, 0}},
		{"triu", "Trilu", 14, nil, []*ir.Tensor{movIota(3, 3), ir.Scalar(int64(1))}, []int{3, 3},
			[]float64{0, 1, 2, 0, 0, 5, 0, 0, 0}},
		{"tril", "Trilu", 14, ir.Attrs{ir.IntAttr("upper", 0)}, []*ir.Tensor{movIota(2, 3)}, []int{2, 3},
			[]float64{0, 0, 0, 3, 4, 0}},
		{"tril-neg", "Trilu", 14, ir.Attrs{ir.IntAttr("upper", 0)}, []*ir.Tensor{movIota(2, 3), ir.Scalar(int64(-5))}, []int{2, 3},
			[]float64{0, 0, 0, 0, 0, 0}},
		{"compress", "Compress", 11, ir.Attrs{ir.IntAttr("axis", 1)},
			[]*ir.Tensor{movIota(2, 3), ir.FromSlice([]bool{false, true}, 2)}, []int{2, 1}, []float64{1, 4}},
		{"compress-flat", "Compress", 11, nil,
			[]*ir.Tensor{movIota(2, 3), ir.FromSlice([]bool{true, false, false, true}, 4)}, []int{2}, []float64{0, 3}},
		{"reversesequence", "ReverseSequence", 10, ir.Attrs{ir.IntAttr("time_axis", 1), ir.IntAttr("batch_axis", 0)},
			[]*ir.Tensor{movIota(2, 3), movI64(2, 3)}, []int{2, 3}, []float64{1, 0, 2, 5, 4, 3}},
		{"eyelike", "EyeLike", 22, ir.Attrs{ir.IntAttr("k", 1), ir.IntAttr("dtype", int64(ir.Int32))},
			[]*ir.Tensor{movIota(2, 3)}, []int{2, 3}, []float64{0, 1, 0, 0, 0, 1}},
		{"constantofshape", "ConstantOfShape", 21, ir.Attrs{ir.TensorAttr("value", ir.FromSlice([]int64{4}, 1))},
			[]*ir.Tensor{movI64(2, 1)}, []int{2, 1}, []float64{4, 4}},
		{"range", "Range", 11, nil, []*ir.Tensor{ir.Scalar(int32(10)), ir.Scalar(int32(4)), ir.Scalar(int32(-3))},
			[]int{2}, []float64{10, 7}},
		{"range-float", "Range", 11, nil, []*ir.Tensor{ir.Scalar(float32(1)), ir.Scalar(float32(2)), ir.Scalar(float32(0.25))},
			[]int{4}, []float64{1, 1.25, 1.5, 1.75}},
		{"constant-ints", "Constant", 13, ir.Attrs{{Name: "value_ints", Type: ir.AttrInts, Ints: []int64{3, 4}}}, nil,
			[]int{2}, []float64{3, 4}},
		{"constant-float", "Constant", 13, ir.Attrs{ir.FloatAttr("value_float", 1.5)}, nil, []int{}, []float64{1.5}},
	})
}

func TestMovUnique(t *testing.T) {
	x := ir.FromSlice([]float32{2, 1, 1, 3, 4, 3}, 6)
	outs := runOp(t, "Unique", 11, nil, 4, x)
	assertClose(t, outs[0], []int{4}, []float64{1, 2, 3, 4}, 0)
	assertClose(t, outs[1], []int{4}, []float64{1, 0, 3, 4}, 0)
	assertClose(t, outs[2], []int{6}, []float64{1, 0, 0, 2, 3, 2}, 0)
	assertClose(t, outs[3], []int{4}, []float64{2, 1, 2, 1}, 0)
	outs = runOp(t, "Unique", 11, ir.Attrs{ir.IntAttr("sorted", 0)}, 4, x)
	assertClose(t, outs[0], []int{4}, []float64{2, 1, 3, 4}, 0)
	assertClose(t, outs[1], []int{4}, []float64{0, 1, 3, 4}, 0)
	assertClose(t, outs[2], []int{6}, []float64{0, 1, 1, 2, 3, 2}, 0)
	assertClose(t, outs[3], []int{4}, []float64{1, 2, 2, 1}, 0)
	// Rows of [[1,0],[0,1],[1,0]] along axis 0.
	m := ir.FromSlice([]int64{1, 0, 0, 1, 1, 0}, 3, 2)
	outs = runOp(t, "Unique", 11, ir.Attrs{ir.IntAttr("axis", 0)}, 4, m)
	assertClose(t, outs[0], []int{2, 2}, []float64{0, 1, 1, 0}, 0)
	assertClose(t, outs[1], []int{2}, []float64{1, 0}, 0)
	assertClose(t, outs[2], []int{3}, []float64{1, 0, 1}, 0)
	assertClose(t, outs[3], []int{2}, []float64{1, 2}, 0)
}

func TestMovLegacyForms(t *testing.T) {
	outs := runOp(t, "Split", 1, ir.Attrs{ir.IntAttr("axis", 0)}, 2, movIota(5), movF32(2, 3))
	assertClose(t, outs[0], []int{2}, []float64{0, 1}, 0)
	assertClose(t, outs[1], []int{3}, []float64{2, 3, 4}, 0)
	out := runOp(t, "NonZero", 13, nil, 1, ir.Scalar(float32(3)))[0]
	assertClose(t, out, []int{1, 1}, []float64{0}, 0)
	out = runOp(t, "Concat", 1, nil, 1, movIota(1, 2), movIota(1, 1))[0]
	assertClose(t, out, []int{1, 3}, []float64{0, 1, 0}, 0)
}
