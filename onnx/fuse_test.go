package onnx

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/backends"
	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// noFuse is the CPU backend without FusedConv in its capabilities, as a
// plugin or CUDA backend: models compiled for it keep their plain nodes.
type noFuse struct{ backends.Backend }

func (b noFuse) Capabilities() []backends.Capability {
	var out []backends.Capability
	for _, c := range b.Backend.Capabilities() {
		if c.Domain != FusedDomain {
			out = append(out, c)
		}
	}
	return out
}

func fuseRand(r *rand.Rand, name string, shape ...int) *ir.Tensor {
	d := make([]float32, ir.Size(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	t := ir.FromSlice(d, shape...)
	t.Name = name
	return t
}

// fuseModel is a float32 model with input x (1,3,8,8), initializers w1
// (4,3,3,3), b1 (4), w2 (4,4,1,1), the given nodes and outputs.
func fuseModel(opset int64, nodes []*ir.Node, outputs ...string) *ir.Model {
	r := rand.New(rand.NewPCG(1, 2))
	g := &ir.Graph{Name: "g", Nodes: nodes,
		Inputs:       []ir.ValueInfo{{Name: "x", Type: ir.TensorType(ir.Float32, 1, 3, 8, 8)}},
		Initializers: []*ir.Tensor{fuseRand(r, "w1", 4, 3, 3, 3), fuseRand(r, "b1", 4), fuseRand(r, "w2", 4, 4, 1, 1)}}
	for _, o := range outputs {
		g.Outputs = append(g.Outputs, ir.ValueInfo{Name: o})
	}
	return &ir.Model{IRVersion: 8, Opsets: []ir.OpsetImport{{Version: opset}}, Graph: g}
}

func conv(in []string, out string) *ir.Node {
	return &ir.Node{OpType: "Conv", Inputs: in, Outputs: []string{out}, Attrs: ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}}
}

func pw(in []string, out string) *ir.Node {
	return &ir.Node{OpType: "Conv", Inputs: in, Outputs: []string{out}}
}

func node(op string, in []string, out string, attrs ...ir.Attr) *ir.Node {
	return &ir.Node{OpType: op, Inputs: in, Outputs: []string{out}, Attrs: attrs}
}

func constantBool(name string) *ir.Node {
	return &ir.Node{OpType: "Constant", Outputs: []string{name}, Attrs: ir.Attrs{ir.TensorAttr("value", ir.Scalar(true))}}
}

func constant(name string, v float32) *ir.Node {
	return &ir.Node{OpType: "Constant", Outputs: []string{name}, Attrs: ir.Attrs{ir.TensorAttr("value", ir.Scalar(v))}}
}

// TestFuseConv checks which chains are fused (FusedConv nodes in the plan)
// and that every model gives the same outputs as its unfused twin.
func TestFuseConv(t *testing.T) {
	relu := func(in, out string) *ir.Node { return node("Relu", []string{in}, out) }
	cases := []struct {
		name    string
		opset   int64
		nodes   []*ir.Node
		outputs []string
		fused   int
	}{
		{"clip", 13, []*ir.Node{constant("lo", 0), constant("hi", 6), conv([]string{"x", "w1", "b1"}, "c"),
			node("Clip", []string{"c", "lo", "hi"}, "y")}, []string{"y"}, 1},
		{"clip-max-only", 13, []*ir.Node{constant("hi", 0.5), conv([]string{"x", "w1"}, "c"),
			node("Clip", []string{"c", "", "hi"}, "y")}, []string{"y"}, 1},
		{"clip-opset6", 6, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"),
			node("Clip", []string{"c"}, "y", ir.FloatAttr("min", -0.5), ir.FloatAttr("max", 1))}, []string{"y"}, 1},
		{"leaky", 16, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"),
			node("LeakyRelu", []string{"c"}, "y", ir.FloatAttr("alpha", 0.2))}, []string{"y"}, 1},
		{"resnet", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c1"), relu("c1", "h"),
			pw([]string{"h", "w2"}, "c2"), node("Add", []string{"h", "c2"}, "s"), relu("s", "y")}, []string{"y"}, 2},
		{"add-only", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c1"), relu("c1", "h"),
			pw([]string{"h", "w2"}, "c2"), node("Add", []string{"c2", "h"}, "y")}, []string{"y"}, 2},
		{"conv-is-output", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"), relu("c", "y")}, []string{"y", "c"}, 0},
		{"conv-read-twice", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"), relu("c", "r"),
			node("Mul", []string{"c", "r"}, "y")}, []string{"y"}, 0},
		{"add-read-twice", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c1"), relu("c1", "h"),
			pw([]string{"h", "w2"}, "c2"), node("Add", []string{"h", "c2"}, "s"), relu("s", "r"),
			node("Mul", []string{"s", "r"}, "y")}, []string{"y"}, 2}, // conv1+relu, conv2+add
		{"same-input-add", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"), node("Add", []string{"c", "c"}, "y")}, []string{"y"}, 0},
		{"read-by-subgraph", 17, []*ir.Node{constantBool("cond"), conv([]string{"x", "w1", "b1"}, "c"), relu("c", "r"), ifReading("c", "y")},
			[]string{"y", "r"}, 0},
		{"no-activation", 17, []*ir.Node{conv([]string{"x", "w1", "b1"}, "c"), node("Sigmoid", []string{"c"}, "y")}, []string{"y"}, 0},
	}
	cpu, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	x := fuseRand(rand.New(rand.NewPCG(3, 4)), "", 1, 3, 8, 8)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Compile(fuseModel(c.opset, c.nodes, c.outputs...), WithBackend(cpu))
			if err != nil {
				t.Fatal(err)
			}
			if n := countFused(m); n != c.fused {
				t.Fatalf("%d FusedConv nodes, want %d", n, c.fused)
			}
			plain, err := Compile(fuseModel(c.opset, c.nodes, c.outputs...), WithBackend(noFuse{cpu}))
			if err != nil {
				t.Fatal(err)
			}
			if n := countFused(plain); n != 0 {
				t.Fatalf("a backend without FusedConv got %d fused nodes", n)
			}
			sameRuns(t, m, plain, x, 1, 0)
		})
	}
}

// ifReading is an If on a constant true condition whose branches return
// the outer value name.
func ifReading(name, out string) *ir.Node {
	branch := func() *ir.Graph {
		return &ir.Graph{Name: "b", Nodes: []*ir.Node{node("Identity", []string{name}, "o")},
			Outputs: []ir.ValueInfo{{Name: "o"}}}
	}
	return &ir.Node{OpType: "If", Inputs: []string{"cond"}, Outputs: []string{out},
		Attrs: ir.Attrs{ir.GraphAttr("then_branch", branch()), ir.GraphAttr("else_branch", branch())}}
}

func countFused(m *Model) int {
	n := 0
	for _, np := range m.graph.nodes {
		if np.n.OpType == "FusedConv" {
			n++
		}
	}
	return n
}

// TestFuseConvUnderTape: a fused model differentiated through a tape gives
// the gradients of its unfused twin (the fused nodes run as their plain
// ops while a tape records), and leaves the IR unfused.
func TestFuseConvUnderTape(t *testing.T) {
	nodes := []*ir.Node{conv([]string{"x", "w1", "b1"}, "c1"), node("Relu", []string{"c1"}, "h"),
		pw([]string{"h", "w2"}, "c2"), node("Add", []string{"h", "c2"}, "s"), constant("lo", 0), constant("hi", 0.7),
		node("Clip", []string{"s", "lo", "hi"}, "y")}
	cpu, _ := backends.Open("cpu")
	x := fuseRand(rand.New(rand.NewPCG(5, 6)), "", 1, 3, 8, 8)
	build := func() *ir.Model { return fuseModel(17, nodes, "y") }
	got, want := tapeGrads(t, build, cpu, x, "w1", "b1", "w2"), tapeGrads(t, build, noFuse{cpu}, x, "w1", "b1", "w2")
	for i := range want {
		nonzero := false
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 1e-6 {
				t.Fatalf("gradient %d [%d] = %g, unfused %g", i, j, got[i][j], want[i][j])
			}
			nonzero = nonzero || want[i][j] != 0
		}
		if !nonzero {
			t.Fatalf("gradient %d is all zero", i)
		}
	}
}

// sameRuns runs the fused model m and its unfused twin plain runs times on
// x and asserts equal float32 outputs to a relative tolerance tol (0:
// exactly).
func sameRuns(t *testing.T, m, plain *Model, x *ir.Tensor, runs int, tol float64) {
	t.Helper()
	for run := range runs {
		got, err := m.RunHost(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.RunHost(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		sameOutputs(t, run, got, want, tol)
	}
}

// sameOutputs asserts that a fused model's float32 outputs (run number
// run) are its unfused twin's to a relative tolerance tol (0: exactly).
func sameOutputs(t *testing.T, run int, got, want []ir.Value, tol float64) {
	t.Helper()
	for i := range want {
		g, w := got[i].(*ir.Tensor).Data.([]float32), want[i].(*ir.Tensor).Data.([]float32)
		for j := range w {
			if math.Abs(float64(g[j]-w[j])) > tol*(1+math.Abs(float64(w[j]))) {
				t.Fatalf("run %d: output %d [%d] = %g, unfused %g", run, i, j, g[j], w[j])
			}
		}
	}
}

// tapeGrads compiles the model build makes for dev, checks that its IR
// holds no fused node, and returns d(sum of its output)/d(initializer) for
// the named initializers, taken through a tape at input x.
func tapeGrads(t *testing.T, build func() *ir.Model, dev backends.Backend, x *ir.Tensor, names ...string) [][]float64 {
	t.Helper()
	m, err := Compile(build(), WithBackend(dev))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.IR.Graph.Nodes {
		if n.Domain == FusedDomain {
			t.Fatal("the IR holds a fused node")
		}
	}
	xe, _ := eager.FromHost(dev, x)
	tape := eager.NewTape()
	y := m.Forward(xe)
	var params []*eager.Tensor
	for _, name := range names {
		params = append(params, m.Initializer(name))
	}
	var out [][]float64
	for _, g := range tape.Gradient(eager.Sum(y), params...) {
		out = append(out, g.Floats64())
	}
	return out
}
