package onnx

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// fullModel uses every part of ir.Model the wire format carries.
func fullModel() *ir.Model {
	x := ir.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	x.Name = "w"
	body := &ir.Graph{
		Name:    "then",
		Nodes:   []*ir.Node{{OpType: "Identity", Inputs: []string{"w"}, Outputs: []string{"y"}}},
		Outputs: []ir.ValueInfo{{Name: "y", Type: ir.TensorType(ir.Float32, 2, 2)}},
	}
	sparse := &ir.SparseTensor{
		Values:  ir.FromSlice([]float32{5, 6}, 2),
		Indices: ir.FromSlice([]int64{0, 1, 1, 0}, 2, 2),
		Dims:    []int{2, 2},
	}
	seqType := &ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindTensor, DType: ir.Int64}}
	attrs := ir.Attrs{
		ir.FloatAttr("alpha", 0.25),
		ir.IntAttr("axis", -1),
		ir.StringAttr("mode", "constant"),
		ir.TensorAttr("value", ir.Scalar(int64(3))),
		ir.GraphAttr("then_branch", body),
		{Name: "sp", Type: ir.AttrSparseTensor, Sparse: sparse},
		{Name: "tp", Type: ir.AttrTypeProto, TypeProto: seqType},
		ir.FloatsAttr("scales", 1, 2.5),
		ir.IntsAttr("perm", 1, 0),
		{Name: "names", Type: ir.AttrStrings, Strings: []string{"a", ""}},
		{Name: "ts", Type: ir.AttrTensors, Tensors: []*ir.Tensor{ir.Scalar(true)}},
		{Name: "gs", Type: ir.AttrGraphs, Graphs: []*ir.Graph{body}},
		{Name: "tps", Type: ir.AttrTypeProtos, TypeProtos: []*ir.Type{ir.TensorType(ir.Int8)}},
		{Name: "doc", Type: ir.AttrInt, Int: 1, Doc: "an attribute"},
	}
	g := &ir.Graph{
		Name: "main",
		Doc:  "the graph",
		Nodes: []*ir.Node{
			{Name: "n0", OpType: "Custom", Domain: "com.example", Overload: "v2", Inputs: []string{"in", "", "w"},
				Outputs: []string{"out", ""}, Attrs: attrs, Doc: "a node", Metadata: []ir.StringPair{{Key: "k", Value: "v"}}},
			{OpType: "Relu", Inputs: []string{"out"}, Outputs: []string{"z"}},
		},
		Inputs: []ir.ValueInfo{
			{Name: "in", Type: &ir.Type{Kind: ir.KindTensor, DType: ir.Float32, HasShape: true,
				Shape: ir.Shape{{Value: -1, Param: "batch"}, {Value: 3}, {Value: -1}}, Denotation: "IMAGE"}, Doc: "input"},
			{Name: "w", Type: ir.TensorType(ir.Float32, 2, 2)},
			{Name: "unranked", Type: &ir.Type{Kind: ir.KindTensor, DType: ir.Float16}},
			{Name: "seq", Type: seqType},
			{Name: "opt", Type: &ir.Type{Kind: ir.KindOptional, Elem: ir.TensorType(ir.Int32)}},
			{Name: "map", Type: &ir.Type{Kind: ir.KindMap, DType: ir.String, Elem: ir.TensorType(ir.Float32)}},
			{Name: "sparse", Type: &ir.Type{Kind: ir.KindSparseTensor, DType: ir.Float64, HasShape: true, Shape: ir.ConcreteShape(4, 4)}},
			{Name: "untyped"},
		},
		Outputs:            []ir.ValueInfo{{Name: "z", Type: ir.TensorType(ir.Float32)}},
		ValueInfo:          []ir.ValueInfo{{Name: "out", Type: &ir.Type{Kind: ir.KindUnknown}}},
		Initializers:       []*ir.Tensor{x},
		SparseInitializers: []*ir.SparseTensorInit{{Name: "s", Sparse: sparse}},
	}
	fn := &ir.Function{
		Name: "Custom", Domain: "com.example", Overload: "v2",
		Inputs: []string{"a", "b", "c"}, Outputs: []string{"o", "p"},
		AttrNames:   []string{"alpha"},
		AttrDefault: ir.Attrs{ir.IntAttr("axis", 0)},
		Nodes: []*ir.Node{{OpType: "LeakyRelu", Inputs: []string{"a"}, Outputs: []string{"o"},
			Attrs: ir.Attrs{{Name: "alpha", Type: ir.AttrFloat, RefAttrName: "alpha"}}}},
		Opsets:    []ir.OpsetImport{{Domain: "", Version: 18}},
		ValueInfo: []ir.ValueInfo{{Name: "o", Type: ir.TensorType(ir.Float32)}},
		Doc:       "a function",
	}
	return &ir.Model{
		IRVersion: 10, Opsets: []ir.OpsetImport{{Domain: "", Version: 21}, {Domain: "com.example", Version: 1}},
		ProducerName: "keen", ProducerVersion: "0.1", Domain: "ai.keen", ModelVersion: 3, Doc: "doc",
		Graph: g, Functions: []*ir.Function{fn}, Metadata: []ir.StringPair{{Key: "author", Value: "me"}},
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := fullModel()
	data, err := EncodeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(got, m); d != "" {
		t.Fatalf("model changed in a round trip at %s", d)
	}
	// The wire form is deterministic.
	again, err := EncodeModel(got)
	if err != nil || string(again) != string(data) {
		t.Fatalf("second encoding differs (%v)", err)
	}
	a := got.Graph.Nodes[0].Attrs
	if a.Float("alpha", 0) != 0.25 || a.Ints("perm", nil)[0] != 1 || a.GraphAttr("then_branch").Nodes[0].OpType != "Identity" ||
		a.Find("tp").TypeProto.Elem.DType != ir.Int64 || a.Find("sp").Sparse.Values.Data.([]float32)[1] != 6 {
		t.Errorf("attributes decoded wrong: %+v", a)
	}
	if d := got.Graph.Inputs[0].Type.Shape; d[0].Param != "batch" || d[1].Value != 3 || d[2].Value != -1 || d[2].Param != "" {
		t.Errorf("shape decoded as %v", d)
	}
}

func marshalModel(t *testing.T, mp *pb.ModelProto) []byte {
	t.Helper()
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func nodeModel(attrs ...*pb.AttributeProto) *pb.ModelProto {
	return &pb.ModelProto{
		IrVersion:   proto64(3),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String("ai.onnx"), Version: proto64(7)}},
		Graph: &pb.GraphProto{Name: proto.String("g"), Node: []*pb.NodeProto{{
			OpType: proto.String("Op"), Name: proto.String("n"), Domain: proto.String("ai.onnx"), Attribute: attrs,
		}}},
	}
}

// Old files omit AttributeProto.type: it is inferred from the field set.
func TestUntypedAttributes(t *testing.T) {
	attrs := []*pb.AttributeProto{
		{Name: proto.String("f"), F: proto.Float32(1.5)},
		{Name: proto.String("i"), I: proto64(-2)},
		{Name: proto.String("s"), S: []byte("hi")},
		{Name: proto.String("t"), T: &pb.TensorProto{DataType: proto32(1), FloatData: []float32{2}}},
		{Name: proto.String("g"), G: &pb.GraphProto{Name: proto.String("sub")}},
		{Name: proto.String("tp"), Tp: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto32(7)}}}},
		{Name: proto.String("fs"), Floats: []float32{1, 2}},
		{Name: proto.String("is"), Ints: []int64{3}},
		{Name: proto.String("ss"), Strings: [][]byte{[]byte("x")}},
		{Name: proto.String("ts"), Tensors: []*pb.TensorProto{{DataType: proto32(7), Int64Data: []int64{1}}}},
		{Name: proto.String("gs"), Graphs: []*pb.GraphProto{{Name: proto.String("a")}, {Name: proto.String("b")}}},
		{Name: proto.String("ref"), RefAttrName: proto.String("outer")},
		// a declared type wins over the fields set
		{Name: proto.String("typed"), Type: pb.AttributeProto_INTS.Enum(), F: proto.Float32(9)},
	}
	m, err := DecodeModel(marshalModel(t, nodeModel(attrs...)))
	if err != nil {
		t.Fatal(err)
	}
	want := []ir.AttrType{ir.AttrFloat, ir.AttrInt, ir.AttrString, ir.AttrTensor, ir.AttrGraph, ir.AttrTypeProto,
		ir.AttrFloats, ir.AttrInts, ir.AttrStrings, ir.AttrTensors, ir.AttrGraphs, ir.AttrUndefined, ir.AttrInts}
	n := m.Graph.Nodes[0]
	for i, a := range n.Attrs {
		if a.Type != want[i] {
			t.Errorf("attribute %q: type %v, want %v", a.Name, a.Type, want[i])
		}
	}
	as := n.Attrs
	if as.Float("f", 0) != 1.5 || as.Int("i", 0) != -2 || as.Str("s", "") != "hi" || as.TensorAttr("t").Data.([]float32)[0] != 2 ||
		as.GraphAttr("g").Name != "sub" || as.Find("tp").TypeProto.DType != ir.Int64 || len(as.Floats("fs", nil)) != 2 ||
		as.Strs("ss", nil)[0] != "x" || as.Find("gs").Graphs[1].Name != "b" || as.Find("ref").RefAttrName != "outer" ||
		len(as.Ints("typed", nil)) != 0 {
		t.Errorf("attributes decoded wrong: %+v", as)
	}
	if n.Domain != "" || m.Opsets[0].Domain != "" || ir.OpsetVersion(m.Opsets, "") != 7 {
		t.Errorf("default domain not normalized: node %q, opsets %v", n.Domain, m.Opsets)
	}
}

func TestDecodeModelErrors(t *testing.T) {
	badTensor := &pb.TensorProto{Name: proto.String("k"), DataType: proto32(1), Dims: []int64{3}, FloatData: []float32{1}}
	subgraph := &pb.GraphProto{Name: proto.String("body"), Node: []*pb.NodeProto{{OpType: proto.String("Constant"),
		Attribute: []*pb.AttributeProto{{Name: proto.String("value"), Type: pb.AttributeProto_TENSOR.Enum(), T: badTensor}}}}}
	tests := []struct {
		name string
		mp   *pb.ModelProto
		want string
	}{
		{"no graph", &pb.ModelProto{}, "model has no graph"},
		{"empty attribute", nodeModel(&pb.AttributeProto{Name: proto.String("a")}), `node 0 (Op "n"): attribute "a": attribute has neither a type nor a value`},
		{"unknown attribute type", nodeModel(&pb.AttributeProto{Name: proto.String("a"), Type: pb.AttributeProto_AttributeType(42).Enum()}), "unknown attribute type 42"},
		{"duplicate attribute", nodeModel(&pb.AttributeProto{Name: proto.String("a"), I: proto64(1)}, &pb.AttributeProto{Name: proto.String("a"), I: proto64(2)}), `duplicate attribute "a"`},
		{"bad tensor in subgraph", nodeModel(&pb.AttributeProto{Name: proto.String("body"), G: subgraph}),
			`graph "g": node 0 (Op "n"): attribute "body": graph "body": node 0 (Constant ""): attribute "value": tensor "k": float32[3]: float_data has 1 values, want 3`},
		{"bad initializer", &pb.ModelProto{Graph: &pb.GraphProto{Initializer: []*pb.TensorProto{badTensor}}}, `initializer: tensor "k"`},
		{"bad elem type", &pb.ModelProto{Graph: &pb.GraphProto{Input: []*pb.ValueInfoProto{{Name: proto.String("x"),
			Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto32(77)}}}}}}},
			`input 0 ("x"): unknown element type 77`},
		{"conflicting opsets", &pb.ModelProto{Graph: &pb.GraphProto{}, OpsetImport: []*pb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto64(13)}, {Domain: proto.String("ai.onnx"), Version: proto64(14)}}},
			`domain "" imported at versions 13 and 14`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeModel(marshalModel(t, tc.mp))
			if err == nil || !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	for _, garbage := range [][]byte{{0x0a}, {0xff, 0xff, 0xff}, []byte("not a model at all")} {
		if _, err := DecodeModel(garbage); err == nil || !strings.Contains(err.Error(), "malformed protobuf") {
			t.Errorf("% x: %v", garbage, err)
		}
	}
}

func TestEncodeModelErrors(t *testing.T) {
	tests := []struct {
		name string
		m    *ir.Model
		want string
	}{
		{"nil", nil, "nil model"},
		{"no graph", &ir.Model{}, "no graph"},
		{"bad tensor", &ir.Model{Graph: &ir.Graph{Initializers: []*ir.Tensor{{Name: "w", DType: ir.Float32, Shape: []int{2}, Data: []float32{1}}}}},
			`tensor "w": shape [2] needs 2 elements, data has 1`},
		{"nil node", &ir.Model{Graph: &ir.Graph{Nodes: []*ir.Node{nil}}}, "node 0 is nil"},
	}
	for _, tc := range tests {
		if _, err := EncodeModel(tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := DecodeModel(nil); err == nil || errors.Is(err, ErrExternalData) {
		t.Errorf("empty input: %v", err)
	}
}
