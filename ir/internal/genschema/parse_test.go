package main

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseDefault(t *testing.T) {
	cases := []struct {
		typ, s string
		want   any
	}{
		{"AttrInt", "-1", int64(-1)},
		{"AttrFloat", "1e-05", float32(1e-5)},
		{"AttrFloat", "0.01", float32(0.01)},
		{"AttrFloat", "(3.402823e+38)", float32(math.MaxFloat32)},
		{"AttrFloat", "(-3.402823e+38)", float32(-math.MaxFloat32)},
		{"AttrString", "NOTSET", "NOTSET"},
		{"AttrString", "(x)", "(x)"},
		{"AttrInts", "['0', '2', '3']", []int64{0, 2, 3}},
		{"AttrInts", "[]", []int64{}},
		{"AttrFloats", "[0.5, 2]", []float32{0.5, 2}},
		{"AttrStrings", "['Tanh', 'Tanh']", []string{"Tanh", "Tanh"}},
	}
	for _, c := range cases {
		got, err := parseDefault(c.typ, c.s)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseDefault(%s, %q) = %#v, %v; want %#v", c.typ, c.s, got, err, c.want)
		}
	}
	for _, c := range [][2]string{{"AttrInt", "1.5"}, {"AttrInts", "0, 2"}, {"AttrGraph", "x"}, {"AttrFloat", "abc"}} {
		if _, err := parseDefault(c[0], c[1]); err == nil {
			t.Errorf("parseDefault(%s, %q) gave no error", c[0], c[1])
		}
	}
}

func TestSplitTypes(t *testing.T) {
	got := splitTypes("tensor(float), seq(tensor(int64)), map(int64, tensor(float)), optional(seq(tensor(bool)))")
	want := []string{"tensor(float)", "seq(tensor(int64))", "map(int64, tensor(float))", "optional(seq(tensor(bool)))"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitTypes = %q, want %q", got, want)
	}
}

const sample = `# ai.onnx (default)
## Version 1 of the default ONNX operator set
### <a name="Foo-3"></a>**Foo-3**</a>

  Text with <dt>-looking words is ignored outside sections.

#### Version

This version of the operator has been available since version 3 of the default ONNX operator set.

#### Attributes

<dl>
<dt><tt>mode</tt> : string (default is linear)</dt>
<dd>How.</dd>
<dt><tt>to</tt> : int (required)</dt>
<dd>Target.</dd>
</dl>

#### Inputs (1 - &#8734;)

<dl>
<dt><tt>X</tt> (differentiable) : T</dt>
<dd>x</dd>
<dt><tt>rest</tt> (variadic, heterogeneous) : V</dt>
<dd>more</dd>
</dl>

#### Outputs (0 - 1)

<dl>
<dt><tt>Y</tt> (optional, non-differentiable) : tensor(int64)</dt>
<dd>y</dd>
</dl>

#### Type Constraints

<dl>
<dt><tt>T</tt> : tensor(float), tensor(double)</dt>
<dd>
Two
lines.</dd>
</dl>

# ai.onnx.preview.training
### <a name="ai.onnx.preview.training.Bar-1"></a>**ai.onnx.preview.training.Bar-1** (deprecated)</a>

#### Version

This version of the operator has been deprecated since version 1 of the 'ai.onnx.preview.training' operator set.
`

func TestParseSample(t *testing.T) {
	ss, err := parseChangelog(strings.NewReader(sample), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("%d schemas, want 2", len(ss))
	}
	foo, bar := ss[0], ss[1]
	wantIn := []param{
		{name: "X", typ: "T", option: "ParamSingle", diff: "Differentiable", homogeneous: true, minArity: 1},
		{name: "rest", typ: "V", option: "ParamVariadic", diff: "DiffUnknown", homogeneous: false, minArity: 0},
	}
	if !reflect.DeepEqual(foo.inputs, wantIn) {
		t.Errorf("inputs %+v, want %+v", foo.inputs, wantIn)
	}
	if foo.minIn != 1 || foo.maxIn != unbounded || foo.minOut != 0 || foo.maxOut != 1 {
		t.Errorf("arity %d-%d %d-%d", foo.minIn, foo.maxIn, foo.minOut, foo.maxOut)
	}
	wantAttrs := []attr{
		{name: "mode", typ: "AttrString", hasDef: true, def: "linear"},
		{name: "to", typ: "AttrInt", required: true},
	}
	if !reflect.DeepEqual(foo.attrs, wantAttrs) {
		t.Errorf("attrs %+v, want %+v", foo.attrs, wantAttrs)
	}
	wantC := []constraint{{param: "T", allowed: []string{"tensor(float)", "tensor(double)"}, doc: "Two\nlines."}}
	if !reflect.DeepEqual(foo.constraints, wantC) {
		t.Errorf("constraints %+v, want %+v", foo.constraints, wantC)
	}
	if bar.domain != "ai.onnx.preview.training" || bar.op != "Bar" || bar.since != 1 || !bar.deprecated {
		t.Errorf("second schema %+v", bar)
	}
}

func TestParseErrors(t *testing.T) {
	head := "# ai.onnx (default)\n### <a name=\"Foo-3\"></a>**Foo-3**</a>\n"
	cases := map[string]string{
		"unknown tag":        head + "#### Inputs\n<dt><tt>X</tt> (sometimes) : T</dt>\n",
		"unknown attr type":  head + "#### Attributes\n<dt><tt>a</tt> : list of dreams</dt>\n",
		"bad default":        head + "#### Attributes\n<dt><tt>a</tt> : int (default is x)</dt>\n",
		"arity vs heading":   head + "#### Inputs (1 - 2)\n<dt><tt>X</tt> : T</dt>\n",
		"variadic not last":  head + "#### Inputs (1 - &#8734;)\n<dt><tt>X</tt> (variadic) : T</dt>\n<dt><tt>Y</tt> : T</dt>\n",
		"version mismatch":   head + "#### Version\n\nThis version of the operator has been available since version 4 of the default ONNX operator set.\n",
		"bad heading":        "### <a name=\"Foo\"></a>**Foo**</a>\n",
		"unprefixed dotname": head[:20] + "### <a name=\"x.Foo-1\"></a>**x.Foo-1**</a>\n",
	}
	for name, text := range cases {
		if _, err := parseChangelog(strings.NewReader(text), ""); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEmitCompiles(t *testing.T) {
	ss, err := parseChangelog(strings.NewReader(sample), "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := emit(ss, []string{"docs/sample.md"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"// Code generated by genschema; DO NOT EDIT.\n",
		`Default: &Attr{Name: "mode", Type: AttrString, String: "linear"}`,
		"MinInputs: 1, MaxInputs: Unbounded, MinOutputs: 0, MaxOutputs: 1,",
		`{Param: "T", Allowed: types0, Doc: "Two\nlines."}`,
		`types0 = []string{"tensor(float)", "tensor(double)"}`,
		`{Domain: "ai.onnx.preview.training", Op: "Bar", Since: 1, Deprecated: true,`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q", want)
		}
	}
	if !strings.HasPrefix(string(src), "// Code generated by genschema; DO NOT EDIT.\n") {
		t.Errorf("generated source does not start with the generated-code line")
	}
}
