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

// recCase checks an op whose rule recomputes its forward with eager ops:
// the recomputation must equal the kernel's outputs, and the rule's
// gradient central differences of the kernel (at an opset version and
// domain of the case's choosing; 0 and "" are the newest default).
type recCase struct {
	gradCase
	domain  string
	version int
}

func hostTensors(t *testing.T, in []*ir.Tensor) []*eager.Tensor {
	t.Helper()
	xs := make([]*eager.Tensor, len(in))
	for i, h := range in {
		if h != nil {
			x, err := eager.FromHost(nil, h)
			if err != nil {
				t.Fatal(err)
			}
			xs[i] = x
		}
	}
	return xs
}

func checkRecomputed(t *testing.T, c recCase) {
	t.Helper()
	xs := hostTensors(t, c.in)
	nout := max(c.nout, 1)
	run := func(xs []*eager.Tensor) []*eager.Tensor {
		outs, err := eager.CallDomain(c.domain, c.op, c.version, c.attrs, nout, xs...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		return outs
	}
	want := run(xs)
	got, err := eager.Recompute(c.domain, c.op, c.version, c.attrs, nout, xs...)
	if err != nil {
		t.Fatalf("%s: recompute: %v", c.name, err)
	}
	for k, w := range want {
		g := got[k]
		if !sameInts(g.Shape(), w.Shape()) {
			t.Fatalf("%s: output %d: recomputed shape %v, kernel %v", c.name, k, g.Shape(), w.Shape())
		}
		gv, wv := g.Floats64(), w.Floats64()
		for i := range wv {
			if math.Abs(gv[i]-wv[i]) > 1e-9*(1+math.Abs(wv[i])) && !(math.IsInf(wv[i], -1) && math.IsInf(gv[i], -1)) {
				t.Fatalf("%s: output %d [%d]: recomputed %v, kernel %v", c.name, k, i, gv[i], wv[i])
			}
		}
	}
	checkGradientOf(t, c.name, c.in, c.diff, run)
}

// checkGradientOf compares the tape's gradient of L = Σ_k Σ out_k * w_k
// (fixed random w_k over the float outputs of run) with central differences.
func checkGradientOf(t *testing.T, name string, in []*ir.Tensor, diff []int, run func([]*eager.Tensor) []*eager.Tensor) {
	t.Helper()
	checkGradientSampled(t, name, in, diff, run, 0)
}

// checkGradientSampled is checkGradientOf on at most most evenly spread
// elements of each input (all when most is 0).
func checkGradientSampled(t *testing.T, name string, in []*ir.Tensor, diff []int, run func([]*eager.Tensor) []*eager.Tensor, most int) {
	t.Helper()
	ws := map[int]*eager.Tensor{}
	loss := func(xs []*eager.Tensor) *eager.Tensor {
		var l *eager.Tensor
		for k, o := range run(xs) {
			if o == nil || !o.DType().IsFloat() {
				continue
			}
			if ws[k] == nil {
				r := rand.New(rand.NewSource(int64(99 + k)))
				ws[k] = eager.Cast(eager.New(randT(r, -1, 1, o.Shape()...).Data.([]float64), o.Shape()...), o.DType())
			}
			term := eager.Sum(eager.Mul(eager.Where(eager.Op("IsInf", nil, 1, o)[0], eager.ZerosLike(o), o), ws[k]))
			if l == nil {
				l = term
			} else {
				l = eager.Add(l, term)
			}
		}
		return l
	}
	xs := hostTensors(t, in)
	tape := eager.NewTape()
	l := loss(xs)
	srcs := make([]*eager.Tensor, len(diff))
	for i, j := range diff {
		srcs[i] = xs[j]
	}
	grads := tape.Gradient(l, srcs...)
	const h = 1e-6
	for gi, j := range diff {
		base := in[j].Data.([]float64)
		an := grads[gi].Floats64()
		if len(an) != len(base) {
			t.Fatalf("%s: gradient of input %d has %d values, input %d", name, j, len(an), len(base))
		}
		step := 1
		if most > 0 && len(base) > most {
			step = (len(base) + most - 1) / most
		}
		for e := 0; e < len(base); e += step {
			eval := func(delta float64) float64 {
				p := in[j].Clone()
				p.Data.([]float64)[e] += delta
				pxs := append([]*eager.Tensor(nil), xs...)
				pxs[j], _ = eager.FromHost(nil, p)
				var v float64
				eager.NoGrad(func() { v = loss(pxs).Item() })
				return v
			}
			num := (eval(h) - eval(-h)) / (2 * h)
			if math.Abs(num-an[e]) > 1e-5+1e-4*math.Abs(num) {
				t.Errorf("%s: d/d input %d [%d]: analytic %.8g, numeric %.8g", name, j, e, an[e], num)
				return
			}
		}
	}
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
		t.Run(c.name, func(t *testing.T) { checkRecomputed(t, recCase{gradCase: c}) })
	}
}

// One tensor fed to two slots (initial_h = initial_c) gets the sum of both
// slots' gradients, not each twice.
func TestGradRecurrentSharedInput(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	in := []*ir.Tensor{any(3, 2, 2), any(1, 8, 2), any(1, 8, 2), any(1, 2, 2)}
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 2)}
	checkGradientOf(t, "LSTM initial_h = initial_c", in, []int{0, 1, 2, 3}, func(xs []*eager.Tensor) []*eager.Tensor {
		return eager.Op("LSTM", attrs, 3, xs[0], xs[1], xs[2], nil, nil, xs[3], xs[3])
	})
}

// checkSecondOrder checks the Hessian-vector product of a scalar f at x,
// taken by nested tapes, against central differences of <∇f, v>.
func checkSecondOrder(t *testing.T, name string, x *ir.Tensor, f func(*eager.Tensor) *eager.Tensor) {
	t.Helper()
	r := rand.New(rand.NewSource(13))
	v := eager.New(randT(r, -1, 1, x.Shape...).Data.([]float64), x.Shape...)
	dir := func(xt *eager.Tensor) *eager.Tensor { // <∇f(x), v>
		tape := eager.NewTape()
		g := tape.Gradient(f(xt), xt)[0]
		return eager.Sum(eager.Mul(g, v))
	}
	xt := hostTensors(t, []*ir.Tensor{x})[0]
	outer := eager.NewTape()
	hv := outer.Gradient(dir(xt), xt)[0].Floats64()
	const h = 1e-6
	nonzero := false
	for e := range x.Data.([]float64) {
		at := func(delta float64) float64 {
			p := x.Clone()
			p.Data.([]float64)[e] += delta
			return dir(hostTensors(t, []*ir.Tensor{p})[0]).Item()
		}
		num := (at(h) - at(-h)) / (2 * h)
		nonzero = nonzero || num != 0
		if math.Abs(num-hv[e]) > 1e-5+1e-4*math.Abs(num) {
			t.Errorf("%s: Hv [%d]: analytic %.8g, numeric %.8g", name, e, hv[e], num)
			return
		}
	}
	if !nonzero {
		t.Errorf("%s: the Hessian-vector product is zero", name)
	}
}

// The rule is differentiable again (second order by nested tapes), and a
// gradient taken inside NoGrad is the same as outside.
func TestGradRecurrentSecondOrderAndNoGrad(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	x, w, rr := randT(r, -1, 1, 3, 2, 2), randT(r, -1, 1, 1, 2, 2), randT(r, -1, 1, 1, 2, 2)
	wy := eager.New(randT(r, -1, 1, 3, 1, 2, 2).Data.([]float64), 3, 1, 2, 2)
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 2)}
	xt, rt := hostTensors(t, []*ir.Tensor{x})[0], hostTensors(t, []*ir.Tensor{rr})[0]
	loss := func(wt *eager.Tensor) *eager.Tensor {
		return eager.Sum(eager.Mul(eager.Op("RNN", attrs, 1, xt, wt, rt)[0], wy))
	}
	checkSecondOrder(t, "RNN", w, loss)
	lstm := func(xt *eager.Tensor) *eager.Tensor {
		wl := hostTensors(t, []*ir.Tensor{randT(rand.New(rand.NewSource(1)), -1, 1, 1, 8, 2)})[0]
		y := eager.Op("LSTM", attrs, 1, xt, wl, wl)[0]
		return eager.Sum(eager.Mul(y, y))
	}
	checkSecondOrder(t, "LSTM", randT(r, -1, 1, 3, 1, 2), lstm)
	wt := hostTensors(t, []*ir.Tensor{w})[0]
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
		in := hostTensors(t, hosts)
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
		checkGradientSampled(t, name, hosts, diff, func(xs []*eager.Tensor) []*eager.Tensor {
			out, err := eager.CallDomain(node.Domain, node.OpType, version, node.Attrs, len(node.Outputs), xs...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return out
		}, 4)
	}
	t.Logf("%d backend node tests checked", n)
}

// closeTo compares a recomputed output with an expected one ("" when close:
// 1e-4 relative, 1e-2 for 16-bit floats; -∞ matches -∞).
func closeTo(got *eager.Tensor, want *ir.Tensor) string {
	if !sameInts(got.Shape(), want.Shape) {
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
