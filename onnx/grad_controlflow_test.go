package onnx_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// Control flow and sequence ops run as eager ops inside the executor, so a
// tape records the ops of If branches, Loop and Scan bodies and sequence
// manipulations; these tests check the resulting gradients of small models
// against float64 central differences, with respect to fed inputs and to
// initializers (the model's parameters).

// modelCase is a model, its inputs (in the order of the real graph inputs),
// and which inputs and initializers to differentiate.
type modelCase struct {
	name   string
	model  *ir.Model
	inputs []*ir.Tensor
	diff   []int
	params []string
}

func checkModelGradient(t *testing.T, c modelCase) {
	t.Helper()
	m, err := onnx.Compile(c.model)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	feed := func(hs []*ir.Tensor) []onnx.Value {
		vals := make([]onnx.Value, len(hs))
		for i, h := range hs {
			x, err := eager.FromHost(m.Backend(), h)
			if err != nil {
				t.Fatal(err)
			}
			vals[i] = x
		}
		return vals
	}
	var ws []*eager.Tensor
	loss := func(vals []onnx.Value) *eager.Tensor {
		outs, err := m.RunValues(context.Background(), vals)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var l *eager.Tensor
		for k, o := range outs {
			y, ok := o.(*eager.Tensor)
			if !ok || !y.DType().IsFloat() {
				continue
			}
			if len(ws) <= k {
				ws = append(ws, make([]*eager.Tensor, k+1-len(ws))...)
			}
			if ws[k] == nil {
				r := rand.New(rand.NewSource(int64(11 + k)))
				w := ir.Zeros(ir.Float64, y.Shape()...)
				for i := range w.Data.([]float64) {
					w.Data.([]float64)[i] = 2*r.Float64() - 1
				}
				ws[k], _ = eager.FromHost(m.Backend(), w)
			}
			term := eager.Sum(eager.Mul(y, ws[k]))
			if l == nil {
				l = term
			} else {
				l = eager.Add(l, term)
			}
		}
		return l
	}
	vals := feed(c.inputs)
	var srcs []*eager.Tensor
	for _, i := range c.diff {
		srcs = append(srcs, vals[i].(*eager.Tensor))
	}
	for _, p := range c.params {
		srcs = append(srcs, m.Initializer(p))
	}
	tape := eager.NewTape()
	grads := tape.Gradient(loss(vals), srcs...)
	// Numerical derivative of element e of a host tensor h, set through set.
	numeric := func(h *ir.Tensor, e int, set func(*ir.Tensor) float64) float64 {
		const step = 1e-6
		at := func(d float64) float64 {
			p := h.Clone()
			p.Data.([]float64)[e] += d
			return set(p)
		}
		return (at(step) - at(-step)) / (2 * step)
	}
	compare := func(what string, an []float64, h *ir.Tensor, set func(*ir.Tensor) float64) {
		if len(an) != h.Len() {
			t.Fatalf("%s: gradient of %s has %d values, want %d", c.name, what, len(an), h.Len())
		}
		for e := range an {
			num := numeric(h, e, set)
			if math.Abs(num-an[e]) > 1e-5+1e-4*math.Abs(num) {
				t.Errorf("%s: d/d %s [%d]: analytic %.8g, numeric %.8g", c.name, what, e, an[e], num)
				return
			}
		}
	}
	for gi, i := range c.diff {
		compare(m.Inputs()[i].Name, grads[gi].Floats64(), c.inputs[i], func(p *ir.Tensor) float64 {
			in := append([]*ir.Tensor(nil), c.inputs...)
			in[i] = p
			return loss(feed(in)).Item()
		})
	}
	for pi, name := range c.params {
		init := m.Initializer(name)
		orig := init.MustHost().Clone()
		compare(name, grads[len(c.diff)+pi].Floats64(), orig, func(p *ir.Tensor) float64 {
			v, _ := eager.FromHost(m.Backend(), p)
			if err := init.Assign(v); err != nil {
				t.Fatal(err)
			}
			l := loss(feed(c.inputs)).Item()
			back, _ := eager.FromHost(m.Backend(), orig)
			if err := init.Assign(back); err != nil {
				t.Fatal(err)
			}
			return l
		})
	}
}

// Graph-building shorthands.

func node(op string, in, out []string, attrs ...ir.Attr) *ir.Node {
	return &ir.Node{OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func f64T(dims ...int) *ir.Type { return ir.TensorType(ir.Float64, dims...) }

func vi(name string, t *ir.Type) ir.ValueInfo { return ir.ValueInfo{Name: name, Type: t} }

func named(t *ir.Tensor, name string) *ir.Tensor {
	t.Name = name
	return t
}

func model(g *ir.Graph) *ir.Model {
	return &ir.Model{IRVersion: 9, Opsets: []ir.OpsetImport{{Domain: "", Version: 18}}, Graph: g}
}

func randF64(r *rand.Rand, shape ...int) *ir.Tensor {
	t := ir.Zeros(ir.Float64, shape...)
	for i := range t.Data.([]float64) {
		t.Data.([]float64)[i] = 2*r.Float64() - 1
	}
	return t
}

func seqF64() *ir.Type {
	return &ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindTensor, DType: ir.Float64}}
}

func TestGradIf(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	// then: y = sin(x * w); else: y = tanh(x - w) * x. Both read x and w from
	// the outer scope.
	then := &ir.Graph{Name: "then",
		Nodes:   []*ir.Node{node("Mul", []string{"x", "w"}, []string{"t0"}), node("Sin", []string{"t0"}, []string{"yt"})},
		Outputs: []ir.ValueInfo{vi("yt", f64T(2, 3))}}
	els := &ir.Graph{Name: "else",
		Nodes: []*ir.Node{node("Sub", []string{"x", "w"}, []string{"e0"}), node("Tanh", []string{"e0"}, []string{"e1"}),
			node("Mul", []string{"e1", "x"}, []string{"ye"})},
		Outputs: []ir.ValueInfo{vi("ye", f64T(2, 3))}}
	g := &ir.Graph{Name: "if",
		Nodes: []*ir.Node{node("If", []string{"c"}, []string{"y"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els)),
			node("Mul", []string{"y", "y"}, []string{"z"})},
		Inputs:       []ir.ValueInfo{vi("c", ir.TensorType(ir.Bool)), vi("x", f64T(2, 3))},
		Outputs:      []ir.ValueInfo{vi("z", f64T(2, 3))},
		Initializers: []*ir.Tensor{named(randF64(r, 3), "w")},
	}
	x := randF64(r, 2, 3)
	for _, c := range []bool{true, false} {
		checkModelGradient(t, modelCase{name: map[bool]string{true: "If then", false: "If else"}[c], model: model(g),
			inputs: []*ir.Tensor{ir.Scalar(c), x}, diff: []int{1}, params: []string{"w"}})
	}
}

// loopBody is s' = tanh(s*w + float(iter)); scan output s' * v; cond
// passes through, or is iter < 2 when stopEarly.
func loopBody(stopEarly bool) *ir.Graph {
	b := &ir.Graph{Name: "body",
		Nodes: []*ir.Node{
			node("Cast", []string{"iter"}, []string{"itf"}, ir.IntAttr("to", int64(ir.Float64))),
			node("Mul", []string{"s", "w"}, []string{"a"}),
			node("Add", []string{"a", "itf"}, []string{"b"}),
			node("Tanh", []string{"b"}, []string{"s_out"}),
			node("Mul", []string{"s_out", "v"}, []string{"scan_out"}),
		},
		Inputs:  []ir.ValueInfo{vi("iter", ir.TensorType(ir.Int64)), vi("cond_in", ir.TensorType(ir.Bool)), vi("s", f64T(2))},
		Outputs: []ir.ValueInfo{vi("cond_out", ir.TensorType(ir.Bool)), vi("s_out", f64T(2)), vi("scan_out", f64T(2))},
	}
	if stopEarly {
		b.Initializers = []*ir.Tensor{named(ir.Scalar(int64(2)), "two")}
		b.Nodes = append(b.Nodes, node("Less", []string{"iter", "two"}, []string{"cond_out"}))
	} else {
		b.Nodes = append(b.Nodes, node("Identity", []string{"cond_in"}, []string{"cond_out"}))
	}
	return b
}

func TestGradLoop(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	inits := func() []*ir.Tensor {
		return []*ir.Tensor{named(randF64(r, 2), "w"), named(randF64(r, 2), "v"), named(ir.Scalar(true), "yes")}
	}
	trip := &ir.Graph{Name: "loop",
		Nodes: []*ir.Node{node("Loop", []string{"M", "", "x"}, []string{"s_final", "scans"}, ir.GraphAttr("body", loopBody(false))),
			node("Mul", []string{"s_final", "s_final"}, []string{"s2"})},
		Inputs:       []ir.ValueInfo{vi("M", ir.TensorType(ir.Int64)), vi("x", f64T(2))},
		Outputs:      []ir.ValueInfo{vi("s2", f64T(2)), vi("scans", f64T(3, 2))},
		Initializers: inits(),
	}
	x := randF64(r, 2)
	checkModelGradient(t, modelCase{name: "Loop trip count", model: model(trip),
		inputs: []*ir.Tensor{ir.Scalar(int64(3)), x}, diff: []int{1}, params: []string{"w", "v"}})
	checkModelGradient(t, modelCase{name: "Loop zero trips", model: model(trip),
		inputs: []*ir.Tensor{ir.Scalar(int64(0)), x}, diff: []int{1}, params: []string{"w"}})
	cond := &ir.Graph{Name: "loop-cond",
		Nodes:        []*ir.Node{node("Loop", []string{"", "yes", "x"}, []string{"s_final", "scans"}, ir.GraphAttr("body", loopBody(true)))},
		Inputs:       []ir.ValueInfo{vi("x", f64T(2))},
		Outputs:      []ir.ValueInfo{vi("s_final", f64T(2)), vi("scans", f64T(3, 2))},
		Initializers: inits(),
	}
	checkModelGradient(t, modelCase{name: "Loop until cond", model: model(cond),
		inputs: []*ir.Tensor{x}, diff: []int{0}, params: []string{"w", "v"}})
}

func TestGradLoopSequence(t *testing.T) {
	// A loop-carried sequence collects x * w * (iter+1) each step; the
	// result is concatenated afterwards (the pattern exporters use for
	// dynamically sized outputs).
	r := rand.New(rand.NewSource(3))
	body := &ir.Graph{Name: "body",
		Nodes: []*ir.Node{
			node("Cast", []string{"iter"}, []string{"itf"}, ir.IntAttr("to", int64(ir.Float64))),
			node("Add", []string{"itf", "one"}, []string{"k"}),
			node("Mul", []string{"x", "w"}, []string{"xw"}),
			node("Mul", []string{"xw", "k"}, []string{"item"}),
			node("SequenceInsert", []string{"seq_in", "item"}, []string{"seq_out"}),
			node("Identity", []string{"cond_in"}, []string{"cond_out"}),
		},
		Inputs:       []ir.ValueInfo{vi("iter", ir.TensorType(ir.Int64)), vi("cond_in", ir.TensorType(ir.Bool)), vi("seq_in", seqF64())},
		Outputs:      []ir.ValueInfo{vi("cond_out", ir.TensorType(ir.Bool)), vi("seq_out", seqF64())},
		Initializers: []*ir.Tensor{named(ir.Scalar(1.0), "one")},
	}
	g := &ir.Graph{Name: "loop-seq",
		Nodes: []*ir.Node{
			node("SequenceEmpty", nil, []string{"empty"}, ir.IntAttr("dtype", int64(ir.Float64))),
			node("Loop", []string{"M", "", "empty"}, []string{"seq"}, ir.GraphAttr("body", body)),
			node("ConcatFromSequence", []string{"seq"}, []string{"y"}, ir.IntAttr("axis", 0)),
			node("Tanh", []string{"y"}, []string{"z"}),
		},
		Inputs:       []ir.ValueInfo{vi("M", ir.TensorType(ir.Int64)), vi("x", f64T(2))},
		Outputs:      []ir.ValueInfo{vi("z", f64T(6))},
		Initializers: []*ir.Tensor{named(randF64(r, 2), "w")},
	}
	checkModelGradient(t, modelCase{name: "Loop carrying a sequence", model: model(g),
		inputs: []*ir.Tensor{ir.Scalar(int64(3)), randF64(r, 2)}, diff: []int{1}, params: []string{"w"}})
}

func TestGradScan(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	// h' = tanh(h*w + x_t); y_t = h' * x_t
	body := &ir.Graph{Name: "body",
		Nodes: []*ir.Node{
			node("Mul", []string{"h", "w"}, []string{"a"}),
			node("Add", []string{"a", "x_t"}, []string{"b"}),
			node("Tanh", []string{"b"}, []string{"h_out"}),
			node("Mul", []string{"h_out", "x_t"}, []string{"y_t"}),
		},
		Inputs:  []ir.ValueInfo{vi("h", f64T(2)), vi("x_t", f64T(2))},
		Outputs: []ir.ValueInfo{vi("h_out", f64T(2)), vi("y_t", f64T(2))},
	}
	scan := func(name string, attrs ...ir.Attr) *ir.Graph {
		attrs = append(attrs, ir.GraphAttr("body", body), ir.IntAttr("num_scan_inputs", 1))
		return &ir.Graph{Name: name,
			Nodes:        []*ir.Node{node("Scan", []string{"h0", "xs"}, []string{"h_final", "ys"}, attrs...)},
			Inputs:       []ir.ValueInfo{vi("h0", f64T(2)), vi("xs", &ir.Type{Kind: ir.KindTensor, DType: ir.Float64})},
			Outputs:      []ir.ValueInfo{vi("h_final", f64T(2)), vi("ys", &ir.Type{Kind: ir.KindTensor, DType: ir.Float64})},
			Initializers: []*ir.Tensor{named(randF64(r, 2), "w")},
		}
	}
	h0 := randF64(r, 2)
	checkModelGradient(t, modelCase{name: "Scan forward", model: model(scan("scan")),
		inputs: []*ir.Tensor{h0, randF64(r, 4, 2)}, diff: []int{0, 1}, params: []string{"w"}})
	checkModelGradient(t, modelCase{name: "Scan reversed, axes 1", model: model(scan("scan-rev",
		ir.IntsAttr("scan_input_directions", 1), ir.IntsAttr("scan_input_axes", 1),
		ir.IntsAttr("scan_output_axes", 1), ir.IntsAttr("scan_output_directions", 1))),
		inputs: []*ir.Tensor{h0, randF64(r, 2, 3)}, diff: []int{0, 1}, params: []string{"w"}})
}

func TestGradSequenceOps(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	// seq = split(x, [1, 3]); b = seq[1] * w; y = concat(seq + [b], axis 0)
	split := &ir.Graph{Name: "split",
		Nodes: []*ir.Node{
			node("SplitToSequence", []string{"x", "sizes"}, []string{"seq"}, ir.IntAttr("axis", 0)),
			node("SequenceAt", []string{"seq", "one"}, []string{"a"}),
			node("Mul", []string{"a", "w"}, []string{"b"}),
			node("SequenceInsert", []string{"seq", "b"}, []string{"seq2"}),
			node("ConcatFromSequence", []string{"seq2"}, []string{"y"}, ir.IntAttr("axis", 0)),
			node("Sin", []string{"y"}, []string{"z"}),
		},
		Inputs:  []ir.ValueInfo{vi("x", f64T(4, 3))},
		Outputs: []ir.ValueInfo{vi("z", f64T(7, 3))},
		Initializers: []*ir.Tensor{named(randF64(r, 3), "w"), named(ir.FromSlice([]int64{1, 3}, 2), "sizes"),
			named(ir.Scalar(int64(1)), "one")},
	}
	checkModelGradient(t, modelCase{name: "SplitToSequence/SequenceAt/ConcatFromSequence", model: model(split),
		inputs: []*ir.Tensor{randF64(r, 4, 3)}, diff: []int{0}, params: []string{"w"}})
	// Items without the split axis, one erased, stacked on a new axis; and
	// SequenceMap multiplying every item by w.
	mapBody := &ir.Graph{Name: "map",
		Nodes:   []*ir.Node{node("Mul", []string{"item", "w"}, []string{"out"})},
		Inputs:  []ir.ValueInfo{vi("item", f64T(3))},
		Outputs: []ir.ValueInfo{vi("out", f64T(3))},
	}
	stack := &ir.Graph{Name: "stack",
		Nodes: []*ir.Node{
			node("SplitToSequence", []string{"x"}, []string{"seq"}, ir.IntAttr("axis", 0), ir.IntAttr("keepdims", 0)),
			node("SequenceErase", []string{"seq", "zero"}, []string{"seq2"}),
			node("SequenceMap", []string{"seq2"}, []string{"seq3"}, ir.GraphAttr("body", mapBody)),
			node("ConcatFromSequence", []string{"seq3"}, []string{"y"}, ir.IntAttr("axis", 1), ir.IntAttr("new_axis", 1)),
			node("SequenceConstruct", []string{"y", "x"}, []string{"pair"}),
			node("SequenceAt", []string{"pair", "zero"}, []string{"y0"}),
			node("Mul", []string{"y0", "y0"}, []string{"z"}),
		},
		Inputs:       []ir.ValueInfo{vi("x", f64T(4, 3))},
		Outputs:      []ir.ValueInfo{vi("z", f64T(3, 3))},
		Initializers: []*ir.Tensor{named(randF64(r, 3), "w"), named(ir.Scalar(int64(0)), "zero")},
	}
	checkModelGradient(t, modelCase{name: "SequenceErase/SequenceMap/new_axis", model: model(stack),
		inputs: []*ir.Tensor{randF64(r, 4, 3)}, diff: []int{0}, params: []string{"w"}})
}

func TestGradNestedAndScan8(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	// A Loop whose body branches on the iteration: an If two scopes below
	// the initializer w it reads.
	then := &ir.Graph{Name: "then", Nodes: []*ir.Node{node("Mul", []string{"s", "w"}, []string{"t"})},
		Outputs: []ir.ValueInfo{vi("t", f64T(2))}}
	els := &ir.Graph{Name: "else", Nodes: []*ir.Node{node("Sin", []string{"s"}, []string{"e0"}), node("Add", []string{"e0", "w"}, []string{"e"})},
		Outputs: []ir.ValueInfo{vi("e", f64T(2))}}
	body := &ir.Graph{Name: "body",
		Nodes: []*ir.Node{
			node("Less", []string{"iter", "one"}, []string{"first"}),
			node("If", []string{"first"}, []string{"s_out"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els)),
			node("Identity", []string{"cond_in"}, []string{"cond_out"}),
		},
		Inputs:  []ir.ValueInfo{vi("iter", ir.TensorType(ir.Int64)), vi("cond_in", ir.TensorType(ir.Bool)), vi("s", f64T(2))},
		Outputs: []ir.ValueInfo{vi("cond_out", ir.TensorType(ir.Bool)), vi("s_out", f64T(2))},
	}
	g := &ir.Graph{Name: "nested",
		Nodes:        []*ir.Node{node("Loop", []string{"M", "", "x"}, []string{"y"}, ir.GraphAttr("body", body))},
		Inputs:       []ir.ValueInfo{vi("M", ir.TensorType(ir.Int64)), vi("x", f64T(2))},
		Outputs:      []ir.ValueInfo{vi("y", f64T(2))},
		Initializers: []*ir.Tensor{named(randF64(r, 2), "w"), named(ir.Scalar(int64(1)), "one")},
	}
	checkModelGradient(t, modelCase{name: "If inside Loop", model: model(g),
		inputs: []*ir.Tensor{ir.Scalar(int64(3)), randF64(r, 2)}, diff: []int{1}, params: []string{"w"}})

	// Scan-8: a leading batch axis, no sequence_lens.
	sbody := &ir.Graph{Name: "body",
		Nodes: []*ir.Node{
			node("Mul", []string{"h", "w"}, []string{"a"}),
			node("Add", []string{"a", "x_t"}, []string{"b"}),
			node("Tanh", []string{"b"}, []string{"h_out"}),
			node("Mul", []string{"h_out", "x_t"}, []string{"y_t"}),
		},
		Inputs:  []ir.ValueInfo{vi("h", f64T(2)), vi("x_t", f64T(2))},
		Outputs: []ir.ValueInfo{vi("h_out", f64T(2)), vi("y_t", f64T(2))},
	}
	s8 := &ir.Graph{Name: "scan8",
		Nodes: []*ir.Node{node("Scan", []string{"", "h0", "xs"}, []string{"h_final", "ys"},
			ir.GraphAttr("body", sbody), ir.IntAttr("num_scan_inputs", 1), ir.IntsAttr("directions", 1))},
		Inputs:       []ir.ValueInfo{vi("h0", f64T(2, 2)), vi("xs", f64T(2, 3, 2))},
		Outputs:      []ir.ValueInfo{vi("h_final", f64T(2, 2)), vi("ys", f64T(2, 3, 2))},
		Initializers: []*ir.Tensor{named(randF64(r, 2), "w")},
	}
	m8 := model(s8)
	m8.Opsets = []ir.OpsetImport{{Domain: "", Version: 8}}
	checkModelGradient(t, modelCase{name: "Scan-8 reversed", model: m8,
		inputs: []*ir.Tensor{randF64(r, 2, 2), randF64(r, 2, 3, 2)}, diff: []int{0, 1}, params: []string{"w"}})
}
