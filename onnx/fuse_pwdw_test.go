package onnx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// pwdwModel is MobileNet's expand and depthwise pair on an input of
// (n, 8, hw, hw): Conv 1x1 8→c, act1, depthwise 3x3 (pads 1, the given
// strides), act2; extra nodes are appended.
func pwdwModel(n, c, hw int, strides int64, act1, act2 func(in, out string) []*ir.Node, extra ...*ir.Node) *ir.Model {
	r := rand.New(rand.NewPCG(7, 8))
	nodes := []*ir.Node{{OpType: "Conv", Inputs: []string{"x", "pw_w", "pw_b"}, Outputs: []string{"e"}}}
	nodes = append(nodes, act1("e", "h")...)
	nodes = append(nodes, &ir.Node{OpType: "Conv", Inputs: []string{"h", "dw_w", "dw_b"}, Outputs: []string{"d"},
		Attrs: ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", strides, strides), ir.IntAttr("group", int64(c))}})
	nodes = append(nodes, act2("d", "y")...)
	nodes = append(nodes, extra...)
	g := &ir.Graph{Name: "g", Nodes: nodes,
		Inputs: []ir.ValueInfo{{Name: "x", Type: ir.TensorType(ir.Float32, n, 8, hw, hw)}},
		Initializers: []*ir.Tensor{fuseRand(r, "pw_w", c, 8, 1, 1), fuseRand(r, "pw_b", c),
			fuseRand(r, "dw_w", c, 1, 3, 3), fuseRand(r, "dw_b", c)},
		Outputs: []ir.ValueInfo{{Name: "y"}}}
	return &ir.Model{IRVersion: 8, Opsets: []ir.OpsetImport{{Version: 17}}, Graph: g}
}

func relu6(in, out string) []*ir.Node {
	return []*ir.Node{constant(out+"_lo", 0), constant(out+"_hi", 6), node("Clip", []string{in, out + "_lo", out + "_hi"}, out)}
}

func reluAct(in, out string) []*ir.Node { return []*ir.Node{node("Relu", []string{in}, out)} }

func countOp(m *Model, op string) int {
	n := 0
	for _, np := range m.graph.nodes {
		if np.n.OpType == op {
			n++
		}
	}
	return n
}

// TestFusePwDw checks which pairs are fused and that the fused model
// computes what its unfused twin does: planes large enough for the
// blocked kernel (channels not a multiple of its block), strides 1 and 2,
// a batch, a small plane (the two kernels one after the other), and
// pairs that must stay apart.
func TestFusePwDw(t *testing.T) {
	cpu, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	readTwice := node("Add", []string{"h", "h"}, "extra")
	cases := []struct {
		name     string
		m        func() *ir.Model
		n, hw    int
		pairs    int
		extraOut bool
	}{
		{"relu6 56² s1", func() *ir.Model { return pwdwModel(1, 20, 56, 1, relu6, relu6) }, 1, 56, 1, false},
		{"relu/relu6 56² s2 batch 2", func() *ir.Model { return pwdwModel(2, 44, 56, 2, reluAct, relu6) }, 2, 56, 1, false},
		{"small plane", func() *ir.Model { return pwdwModel(1, 16, 9, 1, relu6, relu6) }, 1, 9, 1, false},
		{"expansion read twice", func() *ir.Model {
			m := pwdwModel(1, 16, 16, 1, relu6, relu6, readTwice)
			m.Graph.Outputs = append(m.Graph.Outputs, ir.ValueInfo{Name: "extra"})
			return m
		}, 1, 16, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Compile(c.m(), WithBackend(cpu))
			if err != nil {
				t.Fatal(err)
			}
			if got := countOp(m, "FusedPwDw"); got != c.pairs {
				t.Fatalf("%d FusedPwDw nodes, want %d", got, c.pairs)
			}
			plain, err := Compile(c.m(), WithBackend(noFuse{cpu}))
			if err != nil {
				t.Fatal(err)
			}
			x := fuseRand(rand.New(rand.NewPCG(9, 10)), "", c.n, 8, c.hw, c.hw)
			sameRuns(t, m, plain, x, 3, 1e-5) // later runs take the prepared weights
		})
	}
}

// TestFusePwDwUnderTape: gradients through a fused pair are those of the
// unfused model (the pair runs as its plain nodes under a tape).
func TestFusePwDwUnderTape(t *testing.T) {
	cpu, _ := backends.Open("cpu")
	x := fuseRand(rand.New(rand.NewPCG(11, 12)), "", 1, 8, 56, 56)
	build := func() *ir.Model { return pwdwModel(1, 24, 56, 2, relu6, relu6) }
	names := []string{"pw_w", "dw_w", "dw_b"}
	got, want := tapeGrads(t, build, cpu, x, names...), tapeGrads(t, build, noFuse{cpu}, x, names...)
	for i := range want {
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 1e-4*(1+math.Abs(want[i][j])) {
				t.Fatalf("gradient %d [%d] = %g, unfused %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// blockModel is pwdwModel followed by the block's projection, Conv 1x1
// c→8, and, with residual, the Add of the block's input x.
func blockModel(n, c, hw int, strides int64, residual bool) *ir.Model {
	m := pwdwModel(n, c, hw, strides, relu6, relu6)
	r := rand.New(rand.NewPCG(13, 14))
	g := m.Graph
	g.Initializers = append(g.Initializers, fuseRand(r, "pj_w", 8, c, 1, 1), fuseRand(r, "pj_b", 8))
	g.Nodes = append(g.Nodes, &ir.Node{OpType: "Conv", Inputs: []string{"y", "pj_w", "pj_b"}, Outputs: []string{"p"}})
	if residual {
		g.Nodes = append(g.Nodes, node("Add", []string{"p", "x"}, "out"))
	} else {
		g.Nodes = append(g.Nodes, node("Relu", []string{"p"}, "out"))
	}
	g.Outputs = []ir.ValueInfo{{Name: "out"}}
	return m
}

// TestFuseBlock: expand, depthwise and projection as one FusedBlock node
// computing what the unfused model does, in bands (28² and 56², with and
// without the residual, a batch) and through its fallback (stride 2, a
// small plane), also under a tape.
func TestFuseBlock(t *testing.T) {
	cpu, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		n, c, hw int
		strides  int64
		residual bool
	}{
		{"56² residual", 1, 48, 56, 1, true},
		{"28² relu batch 2", 2, 20, 28, 1, false},
		{"stride 2", 1, 24, 28, 2, false},
		{"small plane", 1, 16, 9, 1, true},
		{"14² residual (bands)", 1, 32, 14, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			build := func() *ir.Model { return blockModel(c.n, c.c, c.hw, c.strides, c.residual) }
			m, err := Compile(build(), WithBackend(cpu))
			if err != nil {
				t.Fatal(err)
			}
			if got := countOp(m, "FusedBlock"); got != 1 {
				t.Fatalf("%d FusedBlock nodes, want 1", got)
			}
			plain, err := Compile(build(), WithBackend(noFuse{cpu}))
			if err != nil {
				t.Fatal(err)
			}
			x := fuseRand(rand.New(rand.NewPCG(15, 16)), "", c.n, 8, c.hw, c.hw)
			sameRuns(t, m, plain, x, 2, 1e-4)
			if c.name == "56² residual" {
				names := []string{"pw_w", "dw_w", "pj_w"}
				gg, wg := tapeGrads(t, build, cpu, x, names...), tapeGrads(t, build, noFuse{cpu}, x, names...)
				for i := range wg {
					for j := range wg[i] {
						if math.Abs(gg[i][j]-wg[i][j]) > 1e-3*(1+math.Abs(wg[i][j])) {
							t.Fatalf("gradient %d [%d] = %g, unfused %g", i, j, gg[i][j], wg[i][j])
						}
					}
				}
			}
		})
	}
}
