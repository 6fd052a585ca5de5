package ir

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func node(op string, in, out []string, attrs ...Attr) *Node {
	return &Node{Name: op + "_" + out[0], OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func symType(dt DType, dims ...any) *Type {
	s := make(Shape, len(dims))
	for i, d := range dims {
		switch d := d.(type) {
		case int:
			s[i] = Dim{Value: int64(d)}
		case string:
			s[i] = Dim{Value: -1, Param: d}
		}
	}
	return &Type{Kind: KindTensor, DType: dt, HasShape: true, Shape: s}
}

// exportedReshape is the pattern exporters write for x.view(x.size(0), -1).
func exportedReshape() *Graph {
	return &Graph{
		Inputs:       []ValueInfo{{Name: "x", Type: symType(Float32, "batch", 3, 4)}},
		Initializers: []*Tensor{{Name: "minus1", DType: Int64, Shape: []int{1}, Data: []int64{-1}}},
		Nodes: []*Node{
			node("Shape", []string{"x"}, []string{"s"}),
			node("Constant", nil, []string{"zero"}, Attr{Name: "value_int", Type: AttrInt, Int: 0}),
			node("Gather", []string{"s", "zero"}, []string{"b"}, IntAttr("axis", 0)),
			node("Unsqueeze", []string{"b"}, []string{"b1"}, IntsAttr("axes", 0)),
			node("Concat", []string{"b1", "minus1"}, []string{"shape"}, IntAttr("axis", 0)),
			node("Reshape", []string{"x", "shape"}, []string{"y"}),
			node("Cast", []string{"shape"}, []string{"fshape"}, IntAttr("to", int64(Float32))),
			node("Mul", []string{"fshape", "fshape"}, []string{"sq"}),
		},
		Outputs: []ValueInfo{{Name: "y"}},
	}
}

func TestInferGraphFoldsShapeArithmetic(t *testing.T) {
	g := exportedReshape()
	gi, err := InferGraph(g, InferOptions{Opsets: []OpsetImport{{Version: 11}}, Inputs: map[string]*TensorInfo{"x": f32(2, 3, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("y").String(); got != "float32[2,12]" {
		t.Errorf("y = %s, want float32[2,12]", got)
	}
	if v := gi.Values["shape"]; v == nil || !slices.Equal(v.Data.([]int64), []int64{2, -1}) {
		t.Errorf("shape value = %v, want [2 -1]", v)
	}
	if v := gi.Values["sq"]; v == nil || !slices.Equal(v.Data.([]float32), []float32{4, 1}) {
		t.Errorf("sq value = %v, want [4 1]", v)
	}
	// With the batch symbolic the shape is not known, but the rest is.
	gi, err = InferGraph(g, InferOptions{Opsets: []OpsetImport{{Version: 11}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("y").String(); got != "float32[?,?]" {
		t.Errorf("symbolic y = %s, want float32[?,?]", got)
	}
	if got := gi.Output("b1").String(); got != "int64[1]" {
		t.Errorf("symbolic b1 = %s, want int64[1]", got)
	}
}

func TestInferGraphErrorNamesNode(t *testing.T) {
	g := &Graph{
		Inputs: []ValueInfo{{Name: "a", Type: TensorType(Float32, 2, 3)}, {Name: "b", Type: TensorType(Float32, 4, 5)}},
		Nodes:  []*Node{{Name: "proj", OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}},
	}
	_, err := InferGraph(g, InferOptions{})
	if err == nil || !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "node proj, MatMul") ||
		!strings.Contains(err.Error(), "A [2,3] and B [4,5]") {
		t.Errorf("error %v, want one naming node proj and both shapes", err)
	}
}

func branch(out string, shape ...int) *Graph {
	return &Graph{
		Nodes: []*Node{node("ConstantOfShape", []string{"shp_" + out}, []string{out})},
		Initializers: []*Tensor{{Name: "shp_" + out, DType: Int64, Shape: []int{len(shape)},
			Data: func() []int64 {
				v := make([]int64, len(shape))
				for i, d := range shape {
					v[i] = int64(d)
				}
				return v
			}()}},
		Outputs: []ValueInfo{{Name: out}},
	}
}

func TestInferGraphIf(t *testing.T) {
	g := &Graph{
		Inputs: []ValueInfo{{Name: "c", Type: TensorType(Bool)}},
		Nodes: []*Node{node("If", []string{"c"}, []string{"y"},
			GraphAttr("then_branch", branch("t", 2, 3)), GraphAttr("else_branch", branch("e", 2, 4)))},
	}
	cases := []struct {
		values map[string]Value
		want   string
	}{
		{map[string]Value{"c": Scalar(true)}, "float32[2,3]"},
		{map[string]Value{"c": Scalar(false)}, "float32[2,4]"},
		{nil, "float32[2,?]"},
	}
	for _, tc := range cases {
		gi, err := InferGraph(g, InferOptions{Values: tc.values})
		if err != nil {
			t.Fatal(err)
		}
		if got := gi.Output("y").String(); got != tc.want {
			t.Errorf("cond %v: y = %s, want %s", tc.values, got, tc.want)
		}
	}
}

// loopGraph: v grows by one element per iteration; the iteration number is
// the scan output.
func loopGraph() *Graph {
	body := &Graph{
		Inputs:       []ValueInfo{{Name: "i", Type: TensorType(Int64)}, {Name: "cin", Type: TensorType(Bool)}, {Name: "v"}},
		Initializers: []*Tensor{{Name: "one", DType: Float32, Shape: []int{1}, Data: []float32{1}}},
		Nodes: []*Node{
			node("Identity", []string{"cin"}, []string{"cout"}),
			node("Concat", []string{"v", "one"}, []string{"vout"}, IntAttr("axis", 0)),
			node("Identity", []string{"i"}, []string{"iout"}),
		},
		Outputs: []ValueInfo{{Name: "cout"}, {Name: "vout"}, {Name: "iout"}},
	}
	return &Graph{
		Inputs: []ValueInfo{{Name: "m", Type: TensorType(Int64)}, {Name: "v0", Type: TensorType(Float32, 0)}},
		Nodes:  []*Node{node("Loop", []string{"m", "", "v0"}, []string{"v", "iters"}, GraphAttr("body", body))},
	}
}

func TestInferGraphLoop(t *testing.T) {
	g := loopGraph()
	gi, err := InferGraph(g, InferOptions{Values: map[string]Value{"m": Scalar(int64(3))}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("v").String() + " " + gi.Output("iters").String(); got != "float32[3] int64[3]" {
		t.Errorf("known trip count: %s, want float32[3] int64[3]", got)
	}
	for _, values := range []map[string]Value{nil, {"m": Scalar(int64(1) << 40)}} {
		// Unknown, or too many iterations to run on the host.
		gi, err = InferGraph(g, InferOptions{Values: values})
		if err != nil {
			t.Fatal(err)
		}
		if got := gi.Output("v").String() + " " + gi.Output("iters").String(); got != "float32[?] int64[?]" {
			t.Errorf("trip count %v: %s, want float32[?] int64[?]", values, got)
		}
	}
}

func TestInferGraphScan(t *testing.T) {
	body := &Graph{
		Inputs: []ValueInfo{{Name: "acc"}, {Name: "row"}},
		Nodes: []*Node{
			node("Add", []string{"acc", "row"}, []string{"acc2"}),
			node("Identity", []string{"acc2"}, []string{"out"}),
		},
		Outputs: []ValueInfo{{Name: "acc2"}, {Name: "out"}},
	}
	g := &Graph{
		Inputs: []ValueInfo{{Name: "init", Type: TensorType(Float32, 2)}, {Name: "xs", Type: TensorType(Float32, 2, 5)}},
		Nodes: []*Node{node("Scan", []string{"init", "xs"}, []string{"final", "ys"}, GraphAttr("body", body),
			IntAttr("num_scan_inputs", 1), IntsAttr("scan_input_axes", 1), IntsAttr("scan_output_axes", -1))},
	}
	gi, err := InferGraph(g, InferOptions{Opsets: []OpsetImport{{Version: 16}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("final").String() + " " + gi.Output("ys").String(); got != "float32[2] float32[2,5]" {
		t.Errorf("scan: %s, want float32[2] float32[2,5]", got)
	}
}

func TestInferGraphSequences(t *testing.T) {
	g := &Graph{
		Inputs:       []ValueInfo{{Name: "a", Type: TensorType(Float32, 2, 4)}, {Name: "b", Type: TensorType(Float32, 3, 4)}},
		Initializers: []*Tensor{{Name: "pos", DType: Int64, Shape: []int{}, Data: []int64{-1}}},
		Nodes: []*Node{
			node("SequenceConstruct", []string{"a", "b"}, []string{"s"}),
			node("SequenceAt", []string{"s", "pos"}, []string{"last"}),
			node("SequenceLength", []string{"s"}, []string{"n"}),
			node("ConcatFromSequence", []string{"s"}, []string{"cat"}, IntAttr("axis", 0)),
			node("SplitToSequence", []string{"cat"}, []string{"parts"}, IntAttr("axis", 1), IntAttr("keepdims", 0)),
			node("SequenceAt", []string{"parts", "pos"}, []string{"col"}),
			node("Optional", []string{"col"}, []string{"opt"}),
			node("OptionalGetElement", []string{"opt"}, []string{"got"}),
			node("OptionalHasElement", []string{"opt"}, []string{"has"}),
		},
	}
	gi, err := InferGraph(g, InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"last": "float32[3,4]", "n": "int64[]", "cat": "float32[5,4]",
		"col": "float32[5]", "got": "float32[5]", "has": "bool[]"} {
		if got := gi.Output(name).String(); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if v := gi.Values["n"]; v == nil || v.Data.([]int64)[0] != 2 {
		t.Errorf("sequence length value %v, want 2", v)
	}
	if v := gi.Values["has"]; v == nil || !v.Data.([]bool)[0] {
		t.Errorf("has-element value %v, want true", v)
	}
}

func TestInferGraphFunction(t *testing.T) {
	f := &Function{
		Name: "ScaledPad", Domain: "custom", Inputs: []string{"x"}, Outputs: []string{"y"},
		Opsets:      []OpsetImport{{Version: 11}},
		AttrDefault: Attrs{IntsAttr("pads", 1, 1)},
		Nodes: []*Node{
			{OpType: "Pad", Inputs: []string{"x"}, Outputs: []string{"p"}, Attrs: Attrs{{Name: "pads", Type: AttrInts, RefAttrName: "pads"}}},
			{OpType: "Relu", Inputs: []string{"p"}, Outputs: []string{"y"}},
		},
	}
	g := &Graph{
		Inputs: []ValueInfo{{Name: "x", Type: TensorType(Float32, 5)}},
		Nodes: []*Node{
			{OpType: "ScaledPad", Domain: "custom", Inputs: []string{"x"}, Outputs: []string{"y1"}, Attrs: Attrs{IntsAttr("pads", 2, 3)}},
			{OpType: "ScaledPad", Domain: "custom", Inputs: []string{"x"}, Outputs: []string{"y2"}},
		},
	}
	gi, err := InferGraph(g, InferOptions{Opsets: []OpsetImport{{Version: 2}}, Functions: []*Function{f}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("y1").String() + " " + gi.Output("y2").String(); got != "float32[10] float32[7]" {
		t.Errorf("function outputs %s, want float32[10] float32[7]", got)
	}
}

func TestInferGraphUnknownOp(t *testing.T) {
	g := &Graph{
		Inputs: []ValueInfo{{Name: "x", Type: TensorType(Float32, 2)}},
		Nodes: []*Node{
			{OpType: "Mystery", Domain: "vendor", Inputs: []string{"x"}, Outputs: []string{"m"}},
			{OpType: "Relu", Inputs: []string{"m"}, Outputs: []string{"y"}},
			{OpType: "Shape", Inputs: []string{"m"}, Outputs: []string{"s"}},
		},
	}
	gi, err := InferGraph(g, InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := gi.Output("y").String() + " " + gi.Output("s").String(); got != "?[...] int64[?]" {
		t.Errorf("after an unknown op: %s, want ?[...] int64[?]", got)
	}
}
