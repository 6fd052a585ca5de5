package eager_test

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// checkRecomputed checks an op whose rule recomputes its forward with eager
// ops: the recomputation must equal the kernel's outputs, and the rule's
// gradient must agree with central differences of the kernel.
func checkRecomputed(t *testing.T, c gradCase) {
	t.Helper()
	xs := upload(t, c.in)
	nout := max(c.nout, 1)
	want := c.run(t)(xs)
	got, err := eager.Recompute(c.domain, c.op, c.version, c.attrs, nout, xs...)
	if err != nil {
		t.Fatalf("%s: recompute: %v", c.name, err)
	}
	for k, w := range want {
		g := got[k]
		if !slices.Equal(g.Shape(), w.Shape()) {
			t.Fatalf("%s: output %d: recomputed shape %v, kernel %v", c.name, k, g.Shape(), w.Shape())
		}
		gv, wv := g.Floats64(), w.Floats64()
		for i := range wv {
			if math.Abs(gv[i]-wv[i]) > 1e-9*(1+math.Abs(wv[i])) && !(math.IsInf(wv[i], -1) && math.IsInf(gv[i], -1)) {
				t.Fatalf("%s: output %d [%d]: recomputed %v, kernel %v", c.name, k, i, gv[i], wv[i])
			}
		}
	}
	checkGradient(t, c)
}

func i32(v ...int32) *ir.Tensor { return ir.FromSlice(v, len(v)) }

func strsAttr(name string, v ...string) ir.Attr {
	return ir.Attr{Name: name, Type: ir.AttrStrings, Strings: v}
}

func TestGradRecurrent(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	hid := func(h int) ir.Attr { return ir.IntAttr("hidden_size", int64(h)) }
	dir := func(d string) ir.Attr { return ir.StringAttr("direction", d) }
	layout1 := ir.IntAttr("layout", 1)
	// S=3 steps, B=2 rows, I=2 inputs, H=2 hidden; in layout 1 X is (B, S, I)
	// and the states (B, D, H).
	cases := []gradCase{
		{name: "RNN forward", op: "RNN", attrs: ir.Attrs{hid(2)}, nout: 2,
			in: []*ir.Tensor{any(3, 2, 2), any(1, 2, 2), any(1, 2, 2), any(1, 4), nil, any(1, 2, 2)}, diff: []int{0, 1, 2, 3, 5}},
		{name: "RNN reverse clip", op: "RNN", attrs: ir.Attrs{hid(2), dir("reverse"), ir.FloatAttr("clip", 0.6)}, nout: 2,
			in: []*ir.Tensor{any(3, 2, 2), any(1, 2, 2), any(1, 2, 2), any(1, 4)}, diff: []int{0, 1, 2, 3}},
		{name: "RNN bidirectional layout 1 sequence_lens", op: "RNN", attrs: ir.Attrs{hid(2), dir("bidirectional"), layout1}, nout: 2,
			in: []*ir.Tensor{any(2, 3, 2), any(2, 2, 2), any(2, 2, 2), any(2, 4), i32(2, 3), any(2, 2, 2)}, diff: []int{0, 1, 2, 3, 5}},
		{name: "RNN activations alpha beta", op: "RNN", nout: 2,
			attrs: ir.Attrs{hid(2), dir("bidirectional"), strsAttr("activations", "ScaledTanh", "Elu"),
				ir.FloatsAttr("activation_alpha", 1.5, 0.7), ir.FloatsAttr("activation_beta", 0.8)},
			in: []*ir.Tensor{any(3, 2, 2), any(2, 2, 2), any(2, 2, 2), any(2, 4), i32(3, 0)}, diff: []int{0, 1, 2, 3}},
		{name: "RNN Relu ThresholdedRelu", op: "RNN", nout: 2,
			attrs: ir.Attrs{hid(3), dir("bidirectional"), strsAttr("activations", "Relu", "ThresholdedRelu"),
				ir.FloatsAttr("activation_alpha", 0.1)},
			in: []*ir.Tensor{any(3, 2, 2), any(2, 3, 2), any(2, 3, 3), any(2, 6)}, diff: []int{0, 1, 2, 3}},
		{name: "GRU forward", op: "GRU", attrs: ir.Attrs{hid(2)}, nout: 2,
			in: []*ir.Tensor{any(3, 2, 2), any(1, 6, 2), any(1, 6, 2), any(1, 12), nil, any(1, 2, 2)}, diff: []int{0, 1, 2, 3, 5}},
		{name: "GRU linear_before_reset reverse", op: "GRU", attrs: ir.Attrs{hid(2), dir("reverse"), ir.IntAttr("linear_before_reset", 1)}, nout: 2,
			in: []*ir.Tensor{any(3, 2, 2), any(1, 6, 2), any(1, 6, 2), any(1, 12), nil, any(1, 2, 2)}, diff: []int{0, 1, 2, 3, 5}},
		{name: "GRU bidirectional layout 1 sequence_lens clip", op: "GRU", nout: 2,
			attrs: ir.Attrs{hid(2), dir("bidirectional"), layout1, ir.FloatAttr("clip", 0.8), ir.IntAttr("linear_before_reset", 1)},
			in:    []*ir.Tensor{any(2, 3, 2), any(2, 6, 2), any(2, 6, 2), any(2, 12), i32(1, 3), any(2, 2, 2)}, diff: []int{0, 1, 2, 3, 5}},
		{name: "GRU activations Y only", op: "GRU", nout: 1,
			attrs: ir.Attrs{hid(3), strsAttr("activations", "HardSigmoid", "Softsign"),
				ir.FloatsAttr("activation_alpha", 0.3), ir.FloatsAttr("activation_beta", 0.4)},
			in: []*ir.Tensor{any(2, 2, 2), any(1, 9, 2), any(1, 9, 3)}, diff: []int{0, 1, 2}},
		{name: "LSTM forward peepholes all outputs", op: "LSTM", attrs: ir.Attrs{hid(2)}, nout: 3,
			in:   []*ir.Tensor{any(3, 2, 2), any(1, 8, 2), any(1, 8, 2), any(1, 16), nil, any(1, 2, 2), any(1, 2, 2), any(1, 6)},
			diff: []int{0, 1, 2, 3, 5, 6, 7}},
		{name: "LSTM bidirectional sequence_lens", op: "LSTM", attrs: ir.Attrs{hid(2), dir("bidirectional")}, nout: 3,
			in:   []*ir.Tensor{any(3, 2, 2), any(2, 8, 2), any(2, 8, 2), any(2, 16), i32(3, 2), any(2, 2, 2), any(2, 2, 2), any(2, 6)},
			diff: []int{0, 1, 2, 3, 5, 6, 7}},
		{name: "LSTM reverse layout 1 input_forget clip", op: "LSTM", nout: 3,
			attrs: ir.Attrs{hid(2), dir("reverse"), layout1, ir.IntAttr("input_forget", 1), ir.FloatAttr("clip", 0.7)},
			in:    []*ir.Tensor{any(2, 3, 2), any(1, 8, 2), any(1, 8, 2), any(1, 16), i32(2, 0), any(2, 1, 2), any(2, 1, 2), any(1, 6)},
			diff:  []int{0, 1, 2, 3, 5, 6, 7}},
		{name: "LSTM activations Y Y_h", op: "LSTM", nout: 2,
			attrs: ir.Attrs{hid(2), strsAttr("activations", "Affine", "Softplus", "LeakyRelu"),
				ir.FloatsAttr("activation_alpha", 0.5, 0.2), ir.FloatsAttr("activation_beta", 0.1)},
			in: []*ir.Tensor{any(3, 1, 2), any(1, 8, 2), any(1, 8, 2)}, diff: []int{0, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkRecomputed(t, c) })
	}
}

// One tensor fed to two slots (initial_h = initial_c) gets the sum of both
// slots' gradients, not each twice.
func TestGradRecurrentSharedInput(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	in := []*ir.Tensor{any(3, 2, 2), any(1, 8, 2), any(1, 8, 2), any(1, 2, 2)}
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 2)}
	checkFn(t, "LSTM initial_h = initial_c", in, []int{0, 1, 2, 3}, func(xs []*eager.Tensor) []*eager.Tensor {
		return eager.Op("LSTM", attrs, 3, xs[0], xs[1], xs[2], nil, nil, xs[3], xs[3])
	})
}

// The rule is differentiable again (second order by nested tapes), and a
// gradient taken inside NoGrad is the same as outside.
func TestGradRecurrentSecondOrderAndNoGrad(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	x, w, rr := randT(r, -1, 1, 3, 2, 2), randT(r, -1, 1, 1, 2, 2), randT(r, -1, 1, 1, 2, 2)
	wy := eager.New(randT(r, -1, 1, 3, 1, 2, 2).Data.([]float64), 3, 1, 2, 2)
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 2)}
	xt, rt := upload(t, []*ir.Tensor{x})[0], upload(t, []*ir.Tensor{rr})[0]
	loss := func(wt *eager.Tensor) *eager.Tensor {
		return eager.Sum(eager.Mul(eager.Op("RNN", attrs, 1, xt, wt, rt)[0], wy))
	}
	checkSecondOrder(t, "RNN", []*ir.Tensor{w}, []int{0}, 0, func(xs []*eager.Tensor) *eager.Tensor { return loss(xs[0]) }, nonzero())
	lstm := func(xt *eager.Tensor) *eager.Tensor {
		wl := upload(t, []*ir.Tensor{randT(rand.New(rand.NewSource(1)), -1, 1, 1, 8, 2)})[0]
		y := eager.Op("LSTM", attrs, 1, xt, wl, wl)[0]
		return eager.Sum(eager.Mul(y, y))
	}
	checkSecondOrder(t, "LSTM", []*ir.Tensor{randT(r, -1, 1, 3, 1, 2)}, []int{0}, 0, func(xs []*eager.Tensor) *eager.Tensor { return lstm(xs[0]) }, nonzero())
	wt := upload(t, []*ir.Tensor{w})[0]
	tape := eager.NewTape()
	l := loss(wt)
	var inside []float64
	eager.NoGrad(func() { inside = tape.Gradient(l, wt)[0].Floats64() })
	tape = eager.NewTape()
	outside := tape.Gradient(loss(wt), wt)[0].Floats64()
	for i := range outside {
		if outside[i] == 0 || math.Abs(inside[i]-outside[i]) > 1e-12 {
			t.Fatalf("gradient inside NoGrad %v, outside %v", inside, outside)
		}
	}
}

// findShared looks for shared/<sub> in the working folder and its parents;
// "" when absent.
func findShared(sub string) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", sub)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// On the ONNX backend node tests of this family's ops, the recomputations
// that rules differentiate reproduce the expected outputs, and every rule
// passes a sampled numerical check on the cases' inputs.
func TestRecomputeBackendCases(t *testing.T) {
	root := findShared("onnx-backend-tests")
	if root == "" {
		t.Skip("shared/onnx-backend-tests not found")
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "node", "test_*"))
	n := 0
	for _, dir := range dirs {
		m, err := onnx.ReadModel(filepath.Join(dir, "model.onnx"))
		if err != nil || len(m.Graph.Nodes) != 1 {
			continue
		}
		node := m.Graph.Nodes[0]
		rec := eager.HasRecompute(node.Domain, node.OpType)
		if !rec && node.OpType != "DFT" && node.OpType != "SwiGLU" {
			continue
		}
		n++
		name := filepath.Base(dir)
		vals := map[string]*ir.Tensor{}
		for k, vi := range m.Graph.RealInputs() {
			h, err := onnx.ReadTensor(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			vals[vi.Name] = h
		}
		hosts := make([]*ir.Tensor, len(node.Inputs))
		var diff []int
		for i, nm := range node.Inputs {
			if hosts[i] = vals[nm]; hosts[i] != nil && hosts[i].DType.IsFloat() {
				diff = append(diff, i)
			}
		}
		in := upload(t, hosts)
		version := int(ir.OpsetVersion(m.Opsets, node.Domain))
		got, err := eager.Recompute(node.Domain, node.OpType, version, node.Attrs, len(node.Outputs), in...)
		if rec && err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for k, vi := range m.Graph.Outputs {
			if !rec {
				break
			}
			want, err := onnx.ReadTensor(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", k)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if msg := closeTo(got[slices.Index(node.Outputs, vi.Name)], want); msg != "" {
				t.Errorf("%s: output %d: %s", name, k, msg)
			}
		}
		// the rule, on the case's inputs in float64, at a few elements each
		// (not with modifier subgraphs, whose constants stay float32)
		if node.Attrs.GraphAttr("score_mod") != nil || node.Attrs.GraphAttr("prob_mod") != nil {
			continue
		}
		for i, h := range hosts {
			if h != nil {
				hosts[i] = toF64(h)
			}
		}
		c := gradCase{name: name, domain: node.Domain, op: node.OpType, version: version, attrs: node.Attrs,
			in: hosts, diff: diff, nout: len(node.Outputs)}
		checkGradient(t, c, sampled(4))
	}
	t.Logf("%d backend node tests checked", n)
}

// closeTo compares a recomputed output with an expected one ("" when close:
// 1e-4 relative, 1e-2 for 16-bit floats; -∞ matches -∞).
func closeTo(got *eager.Tensor, want *ir.Tensor) string {
	if !slices.Equal(got.Shape(), want.Shape) {
		return fmt.Sprintf("shape %v, want %v", got.Shape(), want.Shape)
	}
	tol := 1e-4
	if want.DType == ir.Float16 || want.DType == ir.BFloat16 {
		tol = 1e-2
	}
	gv := got.Floats64()
	for i := range gv {
		w := want.Float64At(i)
		if math.Abs(gv[i]-w) > tol*(1+math.Abs(w)) && !(math.IsInf(w, -1) && math.IsInf(gv[i], -1)) {
			return fmt.Sprintf("[%d] recomputed %v, want %v", i, gv[i], w)
		}
	}
	return ""
}

// toF64 converts a float host tensor to float64 (others unchanged).
func toF64(h *ir.Tensor) *ir.Tensor {
	if !h.DType.IsFloat() || h.DType == ir.Float64 {
		return h
	}
	out := ir.Zeros(ir.Float64, h.Shape...)
	d := out.Data.([]float64)
	for i := range d {
		d[i] = h.Float64At(i)
	}
	return out
}
