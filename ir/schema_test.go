package ir

import (
	"slices"
	"strings"
	"testing"
)

func mustSchema(t *testing.T, op string, since int) *Schema {
	t.Helper()
	s := LookupSchema("", op, since)
	if s == nil || s.Since != since {
		t.Fatalf("LookupSchema(%q, %d) = %v, want version %d", op, since, s, since)
	}
	return s
}

func TestSchemaCounts(t *testing.T) {
	ops := map[string]bool{}
	maxSince := 0
	for _, s := range AllSchemas() {
		if s.Domain == "" {
			ops[s.Op] = true
			maxSince = max(maxSince, s.Since)
		}
	}
	// 203 operators in ai.onnx at opset 28 (spec snapshot of onnx 1.23).
	if len(ops) != 203 {
		t.Errorf("%d default-domain operators, want 203", len(ops))
	}
	if maxSince != 28 {
		t.Errorf("newest since-version %d, want 28", maxSince)
	}
	var at28 []string
	for _, s := range AllSchemas() {
		if s.Domain == "" && s.Since == 28 {
			at28 = append(at28, s.Op)
		}
	}
	if want := []string{"Celu", "SwiGLU"}; !slices.Equal(at28, want) {
		t.Errorf("operators of opset 28: %v, want %v", at28, want)
	}
	if n := len(SchemaVersions("ai.onnx.preview.training", "Adam")); n != 1 {
		t.Errorf("ai.onnx.preview.training Adam: %d versions, want 1", n)
	}
	if s := LookupSchema("ai.onnx.preview", "FlexAttention", 1); s == nil || len(s.Inputs) != 3 {
		t.Errorf("ai.onnx.preview FlexAttention-1 = %v, want 3 inputs", s)
	}
}

func TestSchemaVersionsAndLookup(t *testing.T) {
	var got []int
	for _, s := range SchemaVersions("", "Add") {
		got = append(got, s.Since)
	}
	if want := []int{1, 6, 7, 13, 14}; !slices.Equal(got, want) {
		t.Errorf("Add versions %v, want %v", got, want)
	}
	cases := []struct {
		domain, op string
		version    int
		want       int // 0: nil
	}{
		{"", "Add", 12, 7},
		{"ai.onnx", "Add", 12, 7},
		{"", "Add", 14, 14},
		{"", "Add", 100, 14},
		{"", "Add", 0, 0},
		{"", "NoSuchOp", 20, 0},
		{"com.example", "Add", 20, 0},
		{"", "Squeeze", 12, 11},
		{"", "Upsample", 12, 10},
	}
	for _, c := range cases {
		s := LookupSchema(c.domain, c.op, c.version)
		switch {
		case c.want == 0 && s != nil:
			t.Errorf("LookupSchema(%q, %q, %d) = %s, want nil", c.domain, c.op, c.version, s.Name())
		case c.want != 0 && (s == nil || s.Since != c.want):
			t.Errorf("LookupSchema(%q, %q, %d) = %v, want since %d", c.domain, c.op, c.version, s, c.want)
		}
	}
}

func TestSchemaAttributes(t *testing.T) {
	cases := []struct {
		op       string
		since    int
		attr     string
		typ      AttrType
		required bool
		present  bool
	}{
		{"Add", 1, "broadcast", AttrInt, false, true},
		{"Add", 1, "axis", AttrInt, false, true},
		{"Add", 6, "broadcast", AttrInt, false, true},
		{"Add", 6, "axis", AttrInt, false, true},
		{"Add", 7, "broadcast", 0, false, false},
		{"Gemm", 6, "broadcast", AttrInt, false, true},
		{"Gemm", 7, "broadcast", 0, false, false},
		{"BatchNormalization", 6, "is_test", AttrInt, false, true},
		{"BatchNormalization", 7, "is_test", 0, false, false},
		{"Pad", 2, "pads", AttrInts, true, true},
		{"Pad", 11, "pads", 0, false, false},
		{"Slice", 1, "starts", AttrInts, true, true},
		{"Slice", 10, "starts", 0, false, false},
		{"Squeeze", 11, "axes", AttrInts, false, true},
		{"Squeeze", 13, "axes", 0, false, false},
		{"Cast", 1, "to", AttrString, true, true},
		{"Cast", 6, "to", AttrInt, true, true},
		{"If", 11, "then_branch", AttrGraph, true, true},
		{"Constant", 12, "sparse_value", AttrSparseTensor, false, true},
	}
	for _, c := range cases {
		s := mustSchema(t, c.op, c.since)
		a := s.Attr(c.attr)
		switch {
		case !c.present && a != nil:
			t.Errorf("%s has attribute %q, want none", s.Name(), c.attr)
		case c.present && a == nil:
			t.Errorf("%s lacks attribute %q", s.Name(), c.attr)
		case c.present && (a.Type != c.typ || a.Required != c.required):
			t.Errorf("%s %q: type %v required %v, want %v %v", s.Name(), c.attr, a.Type, a.Required, c.typ, c.required)
		}
	}
	if in := mustSchema(t, "Squeeze", 13).Inputs; len(in) != 2 || in[1].Name != "axes" || in[1].Option != ParamOptional {
		t.Errorf("Squeeze-13 inputs %+v, want data and optional axes", in)
	}
}

func TestSchemaDefaults(t *testing.T) {
	cases := []struct {
		op    string
		since int
		want  Attr
	}{
		{"Conv", 11, StringAttr("auto_pad", "NOTSET")},
		{"Conv", 1, StringAttr("auto_pad", "NOTSET")},
		{"LeakyRelu", 16, FloatAttr("alpha", 0.01)},
		{"LeakyRelu", 6, FloatAttr("alpha", 0.01)},
		{"Gemm", 13, FloatAttr("alpha", 1)},
		{"Gemm", 13, IntAttr("transA", 0)},
		{"Softmax", 13, IntAttr("axis", -1)},
		{"Softmax", 1, IntAttr("axis", 1)},
		{"BatchNormalization", 15, FloatAttr("epsilon", 1e-5)},
		{"Selu", 6, FloatAttr("alpha", 1.67326)},
		{"Clip", 6, FloatAttr("max", 3.4028235e38)},
		{"Clip", 6, FloatAttr("min", -3.4028235e38)},
		{"MeanVarianceNormalization", 13, IntsAttr("axes", 0, 2, 3)},
		{"RNN", 14, Attr{Name: "activations", Type: AttrStrings, Strings: []string{"Tanh", "Tanh"}}},
		{"Cast", 25, StringAttr("round_mode", "up")},
		{"Cast", 25, IntAttr("saturate", 1)},
	}
	for _, c := range cases {
		s := mustSchema(t, c.op, c.since)
		d := s.DefaultAttrs().Find(c.want.Name)
		if d == nil {
			t.Errorf("%s: no default for %q", s.Name(), c.want.Name)
			continue
		}
		if d.Type != c.want.Type || d.Int != c.want.Int || d.Float != c.want.Float || d.String != c.want.String ||
			!slices.Equal(d.Ints, c.want.Ints) || !slices.Equal(d.Strings, c.want.Strings) {
			t.Errorf("%s default %q = %+v, want %+v", s.Name(), c.want.Name, *d, c.want)
		}
	}
	// DefaultAttrs hands out copies.
	s := mustSchema(t, "MeanVarianceNormalization", 13)
	s.DefaultAttrs()[0].Ints[0] = 9
	if got := s.DefaultAttrs().Ints("axes", nil); got[0] != 0 {
		t.Errorf("DefaultAttrs shares its slices: axes now %v", got)
	}
	if n := len(mustSchema(t, "Relu", 14).DefaultAttrs()); n != 0 {
		t.Errorf("Relu-14 has %d defaults, want 0", n)
	}
}

func TestSchemaParams(t *testing.T) {
	lstm := mustSchema(t, "LSTM", 22)
	var names, optional []string
	for _, p := range lstm.Inputs {
		names = append(names, p.Name)
		if p.Option == ParamOptional {
			optional = append(optional, p.Name)
		}
	}
	if want := []string{"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"}; !slices.Equal(names, want) {
		t.Errorf("LSTM-22 inputs %v, want %v", names, want)
	}
	if want := []string{"B", "sequence_lens", "initial_h", "initial_c", "P"}; !slices.Equal(optional, want) {
		t.Errorf("LSTM-22 optional inputs %v, want %v", optional, want)
	}
	if lstm.MinInputs != 3 || lstm.MaxInputs != 8 || lstm.MinOutputs != 0 || lstm.MaxOutputs != 3 {
		t.Errorf("LSTM-22 arity in %d-%d out %d-%d, want 3-8, 0-3", lstm.MinInputs, lstm.MaxInputs, lstm.MinOutputs, lstm.MaxOutputs)
	}

	cases := []struct {
		op      string
		since   int
		input   int
		option  ParamOption
		diff    DiffTag
		homog   bool
		arity   int
		typeStr string
	}{
		{"Concat", 4, 0, ParamVariadic, DiffUnknown, true, 1, "T"},
		{"Concat", 13, 0, ParamVariadic, Differentiable, true, 1, "T"},
		{"Loop", 16, 2, ParamVariadic, DiffUnknown, false, 0, "V"},
		{"Reshape", 14, 1, ParamSingle, NonDifferentiable, true, 1, "tensor(int64)"},
		{"Gather", 13, 1, ParamSingle, NonDifferentiable, true, 1, "Tind"},
	}
	for _, c := range cases {
		s := mustSchema(t, c.op, c.since)
		p := s.Inputs[c.input]
		if p.Option != c.option || p.Diff != c.diff || p.Homogeneous != c.homog || p.MinArity != c.arity || p.TypeStr != c.typeStr {
			t.Errorf("%s input %d = %+v, want %v %v homogeneous=%v arity %d type %s",
				s.Name(), c.input, p, c.option, c.diff, c.homog, c.arity, c.typeStr)
		}
	}
	if s := mustSchema(t, "Concat", 13); s.MinInputs != 1 || s.MaxInputs != Unbounded {
		t.Errorf("Concat-13 inputs %d-%d, want 1-Unbounded", s.MinInputs, s.MaxInputs)
	}
	if s := mustSchema(t, "Loop", 16); s.MinInputs != 2 {
		t.Errorf("Loop-16 MinInputs %d, want 2", s.MinInputs)
	}
	tc := mustSchema(t, "Add", 14).Constraint("T")
	if tc == nil || !slices.Contains(tc.Allowed, "tensor(bfloat16)") || !strings.Contains(tc.Doc, "numeric") {
		t.Errorf("Add-14 constraint T = %+v", tc)
	}
	if tc := mustSchema(t, "SequenceAt", 11).Constraint("S"); tc == nil || !slices.Contains(tc.Allowed, "seq(tensor(float))") {
		t.Errorf("SequenceAt-11 constraint S = %+v", tc)
	}
}

func TestSchemaDeprecated(t *testing.T) {
	up := mustSchema(t, "Upsample", 10)
	prev := mustSchema(t, "Upsample", 9)
	if !up.Deprecated || prev.Deprecated {
		t.Fatalf("Upsample-10 deprecated=%v, Upsample-9 deprecated=%v", up.Deprecated, prev.Deprecated)
	}
	if len(up.Inputs) != 2 || up.Inputs[1].Name != "scales" || up.Attr("mode") == nil {
		t.Errorf("Upsample-10 does not repeat Upsample-9's signature: %+v", up)
	}
	if gn := mustSchema(t, "GroupNormalization", 18); !gn.Deprecated || len(gn.Inputs) != 3 {
		t.Errorf("GroupNormalization-18 = %+v, want deprecated with 3 inputs", gn)
	}
}

func TestCheckAttrs(t *testing.T) {
	conv := mustSchema(t, "Conv", 11)
	cast := mustSchema(t, "Cast", 21)
	cases := []struct {
		s    *Schema
		a    Attrs
		want string // "" for no error
	}{
		{conv, nil, ""},
		{conv, Attrs{IntsAttr("strides", 1, 1), StringAttr("auto_pad", "VALID")}, ""},
		{conv, Attrs{IntAttr("stride", 1)}, `ir: Conv-11: unknown attribute "stride"`},
		{conv, Attrs{IntAttr("strides", 1)}, `ir: Conv-11: attribute "strides" is int, want ints`},
		{conv, Attrs{IntAttr("group", 1), IntAttr("group", 2)}, `ir: Conv-11: attribute "group" given twice`},
		{cast, nil, `ir: Cast-21: missing required attribute "to" (int)`},
		{cast, Attrs{IntAttr("to", 1)}, ""},
		{cast, Attrs{IntAttr("to", 1), IntAttr("saturate", 0)}, ""},
	}
	for i, c := range cases {
		err := c.s.CheckAttrs(c.a)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("case %d: CheckAttrs = %q, want %q", i, got, c.want)
		}
	}
}
