package onnx

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// livenessModel: y = (If cond then d else -d) - sigmoid(relu(x)) with
// d = |2 * -relu(x)|; c = 2 * -relu(x) is an output too, and two dead
// values (an unused Relu, a tensor only a sequence holds) are made on the way.
func livenessModel() *ir.Model {
	f32 := func() *ir.Type { return ir.TensorType(ir.Float32, 16, 32) }
	then := &ir.Graph{Name: "then",
		Nodes:   []*ir.Node{lnode("Identity", []string{"d"}, []string{"dt"})},
		Outputs: []ir.ValueInfo{lvi("dt", f32())}}
	els := &ir.Graph{Name: "else",
		Nodes:   []*ir.Node{lnode("Neg", []string{"d"}, []string{"de"})},
		Outputs: []ir.ValueInfo{lvi("de", f32())}}
	g := &ir.Graph{Name: "liveness",
		Inputs: []ir.ValueInfo{lvi("x", f32()), lvi("cond", ir.TensorType(ir.Bool))},
		Nodes: []*ir.Node{
			lnode("Relu", []string{"x"}, []string{"a"}),     // 0
			lnode("Neg", []string{"a"}, []string{"b"}),      // 1
			lnode("Add", []string{"b", "b"}, []string{"c"}), // 2
			lnode("Abs", []string{"c"}, []string{"d"}),      // 3
			lnode("If", []string{"cond"}, []string{"e"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els)), // 4
			lnode("Sigmoid", []string{"a"}, []string{"f"}),                                                                    // 5
			lnode("Sub", []string{"e", "f"}, []string{"y"}),                                                                   // 6
			lnode("Relu", []string{"x"}, []string{"unused"}),                                                                  // 7
			lnode("Neg", []string{"x"}, []string{"g"}),                                                                        // 8
			lnode("SequenceConstruct", []string{"g"}, []string{"seq"}),                                                        // 9
		},
		Outputs: []ir.ValueInfo{lvi("y", f32()), lvi("c", f32())},
	}
	return &ir.Model{IRVersion: 9, Opsets: []ir.OpsetImport{{Domain: "", Version: 18}}, Graph: g}
}

func lnode(op string, in, out []string, attrs ...ir.Attr) *ir.Node {
	return &ir.Node{OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func lvi(name string, t *ir.Type) ir.ValueInfo { return ir.ValueInfo{Name: name, Type: t} }

func TestReleasePlan(t *testing.T) {
	m, err := Compile(livenessModel())
	if err != nil {
		t.Fatal(err)
	}
	got := m.graph.releases
	want := map[int][]string{1: nil, 2: {"b"}, 5: {"a"}, 6: {"f"}, 7: {"unused"}}
	for i, names := range got {
		slices.Sort(names)
		if w := want[i]; !slices.Equal(names, w) {
			t.Errorf("after node %d (%s) release %v, want %v", i, m.IR.Graph.Nodes[i].OpType, names, w)
		}
	}
}

func TestReleasedIntermediatesKeepResults(t *testing.T) {
	m, err := Compile(livenessModel())
	if err != nil {
		t.Fatal(err)
	}
	// 512 values: large enough for the CPU backend to pool the outputs.
	xs := make([]float32, 16*32)
	for i := range xs {
		xs[i] = float32(i%7) - 3.25
	}
	for run, cond := range []bool{true, false, true} {
		x := eager.New(xs, 16, 32)
		outs, err := m.Run(context.Background(), x, eager.Scalar(cond))
		if err != nil {
			t.Fatal(err)
		}
		y, c := outs[0].Floats(), outs[1].Floats()
		for i, v := range xs {
			r := float64(max(v, 0))
			d := math.Abs(-2 * r)
			if !cond {
				d = -d
			}
			wantY := d - 1/(1+math.Exp(-r))
			if math.Abs(float64(y[i])-wantY) > 1e-6 || float64(c[i]) != -2*r {
				t.Fatalf("run %d: y[%d] = %v, c[%d] = %v; want %v, %v", run, i, y[i], i, c[i], wantY, -2*r)
			}
		}
		if x.Released() {
			t.Fatalf("run %d: the model released its input", run)
		}
	}
}

// TestNodeObserver checks that WithNodeObserver hears of every node run,
// the If branch's node included, once per run.
func TestNodeObserver(t *testing.T) {
	seen := map[string]int{}
	m, err := Compile(livenessModel(), WithNodeObserver(func(n *ir.Node, d time.Duration) {
		if d < 0 {
			t.Errorf("%s: negative time %v", n.OpType, d)
		}
		seen[n.OpType]++
	}))
	if err != nil {
		t.Fatal(err)
	}
	x := eager.New(make([]float32, 16*32), 16, 32)
	for range 2 {
		if _, err := m.Run(context.Background(), x, eager.Scalar(true)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"Relu": 4, "Neg": 4, "Add": 2, "Abs": 2, "If": 2, "Identity": 2, "Sigmoid": 2, "Sub": 2, "SequenceConstruct": 2}
	for op, n := range want {
		if seen[op] != n {
			t.Errorf("%s observed %d times, want %d (all: %v)", op, seen[op], n, seen)
		}
	}
}
