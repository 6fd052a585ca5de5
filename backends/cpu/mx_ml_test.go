package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

// mxStumpAttrs is one tree: node 0 tests x0 <= 2; leaves 1 (true) and 2.
func mxStumpAttrs(prefix string, ids []int64, weights ...float32) ir.Attrs {
	n := int64(len(ids))
	treeIDs := make([]int64, n)
	nodeIDs := make([]int64, n)
	for i := range ids {
		nodeIDs[i] = 1 + int64(i)%2
	}
	return ir.Attrs{
		ir.IntsAttr("nodes_treeids", 0, 0, 0), ir.IntsAttr("nodes_nodeids", 0, 1, 2),
		ir.IntsAttr("nodes_featureids", 0, 0, 0), ir.FloatsAttr("nodes_values", 2, 0, 0),
		mxStringsAttr("nodes_modes", "BRANCH_LEQ", "LEAF", "LEAF"),
		ir.IntsAttr("nodes_truenodeids", 1, 0, 0), ir.IntsAttr("nodes_falsenodeids", 2, 0, 0),
		ir.IntsAttr(prefix+"_treeids", treeIDs...), ir.IntsAttr(prefix+"_nodeids", nodeIDs...),
		ir.IntsAttr(prefix+"_ids", ids...), ir.FloatsAttr(prefix+"_weights", weights...),
	}
}

func TestMxTreeEnsembleRegressor(t *testing.T) {
	attrs := append(mxStumpAttrs("target", []int64{0, 0}, 1.5, -1), ir.FloatsAttr("base_values", 0.5))
	x := ir.FromSlice(mxF32(1, float32(math.NaN()), 3), 3, 1)
	out := runOp2(t, "ai.onnx.ml", "TreeEnsembleRegressor", 3, attrs, 1, x)
	// NaN goes false unless nodes_missing_value_tracks_true says otherwise.
	assertClose(t, out[0], []int{3, 1}, []float64{2, -0.5, -0.5}, 1e-6)
}

func TestMxTreeEnsembleClassifier(t *testing.T) {
	// Binary: one score per leaf for class 0, LOGISTIC post transform.
	attrs := append(mxStumpAttrs("class", []int64{0, 0}, 2, -1),
		ir.IntsAttr("classlabels_int64s", 7, 9), ir.StringAttr("post_transform", "LOGISTIC"))
	x := ir.FromSlice(mxF32(1, 3), 2, 1)
	out := runOp2(t, "ai.onnx.ml", "TreeEnsembleClassifier", 3, attrs, 2, x)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	assertClose(t, out[0], []int{2}, []float64{9, 7}, 0)
	assertClose(t, out[1], []int{2, 2}, []float64{sig(-2), sig(2), sig(1), sig(-1)}, 1e-6)
	// Three classes with string labels: leaf 1 votes class 2, leaf 2 class 1.
	attrs = append(mxStumpAttrs("class", []int64{2, 1}, 0.8, 0.6), mxStringsAttr("classlabels_strings", "a", "b", "c"))
	out = runOp2(t, "ai.onnx.ml", "TreeEnsembleClassifier", 3, attrs, 2, x)
	mxStrs(t, out[0], []int{2}, "c", "b")
	assertClose(t, out[1], []int{2, 3}, []float64{0, 0, 0.8, 0, 0.6, 0}, 1e-6)
}

func TestMxPostTransform(t *testing.T) {
	v := []float64{0, math.Log(3)}
	mxPostTransform(3, v) // the zero score stays (near) zero
	if math.Abs(v[0]) > 1e-12 || math.Abs(v[1]-1) > 1e-12 {
		t.Errorf("SOFTMAX_ZERO: %v", v)
	}
	v = []float64{0, math.Log(3)}
	mxPostTransform(1, v)
	if math.Abs(v[0]-0.25) > 1e-12 || math.Abs(v[1]-0.75) > 1e-12 {
		t.Errorf("SOFTMAX: %v", v)
	}
	v = []float64{0.5, 0.975}
	mxPostTransform(4, v)
	if math.Abs(v[0]) > 1e-9 || math.Abs(v[1]-1.96) > 5e-3 {
		t.Errorf("PROBIT: %v", v)
	}
}

func TestMxMLLinear(t *testing.T) {
	const dom = "ai.onnx.ml"
	x := ir.FromSlice(mxF32(1, 2, -3, 4), 2, 2)
	sc := runOp2(t, dom, "Scaler", 1, ir.Attrs{ir.FloatsAttr("offset", 1, 0), ir.FloatsAttr("scale", 2)}, 1, x)
	assertClose(t, sc[0], []int{2, 2}, []float64{0, 4, -8, 8}, 1e-6)
	for _, c := range []struct {
		norm string
		want []float64
	}{
		{"MAX", []float64{0.5, 1, -0.75, 1}},
		{"L1", []float64{1.0 / 3, 2.0 / 3, -3.0 / 7, 4.0 / 7}},
		{"L2", []float64{1 / math.Sqrt(5), 2 / math.Sqrt(5), -0.6, 0.8}},
	} {
		out := runOp2(t, dom, "Normalizer", 1, ir.Attrs{ir.StringAttr("norm", c.norm)}, 1, x)
		assertClose(t, out[0], []int{2, 2}, c.want, 1e-6)
	}
	reg := ir.Attrs{ir.FloatsAttr("coefficients", 1, 1, 0, -1), ir.FloatsAttr("intercepts", 10, 0), ir.IntAttr("targets", 2)}
	out := runOp2(t, dom, "LinearRegressor", 1, reg, 1, x)
	assertClose(t, out[0], []int{2, 2}, []float64{13, -2, 11, -4}, 1e-6)
	// Binary classifier with one coefficient row: scores (-s, s).
	cls := ir.Attrs{ir.FloatsAttr("coefficients", 1, -1), ir.FloatsAttr("intercepts", 0.5), ir.IntsAttr("classlabels_ints", 3, 5)}
	out = runOp2(t, dom, "LinearClassifier", 1, cls, 2, x)
	assertClose(t, out[0], []int{2}, []float64{3, 3}, 0)
	assertClose(t, out[1], []int{2, 2}, []float64{0.5, -0.5, 6.5, -6.5}, 1e-6)
	cls = ir.Attrs{ir.FloatsAttr("coefficients", 1, 0, 0, 1), ir.FloatsAttr("intercepts", 0, 0),
		mxStringsAttr("classlabels_strings", "x", "y"), ir.StringAttr("post_transform", "SOFTMAX")}
	out = runOp2(t, dom, "LinearClassifier", 1, cls, 2, x)
	mxStrs(t, out[0], []int{2}, "y", "y")
	e := 1 / (1 + math.E)
	assertClose(t, out[1], []int{2, 2}, []float64{e, 1 - e, 1 / (1 + math.Exp(7)), 1 - 1/(1+math.Exp(7))}, 1e-6)
}
