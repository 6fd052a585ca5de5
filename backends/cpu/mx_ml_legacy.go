package cpu

// ai.onnx.ml TreeEnsembleRegressor and TreeEnsembleClassifier (opsets 1
// and 3): the older tree format with (tree id, node id) pairs, string node
// modes and separate leaf target lists, as sklearn, XGBoost and LightGBM
// converters emit it.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	regDomain(mxMLDomain, "TreeEnsembleRegressor", 1, prepTreeEnsembleLegacy(false))
	regDomain(mxMLDomain, "TreeEnsembleClassifier", 1, prepTreeEnsembleLegacy(true))
}

type mxLegacyTarget struct {
	id int
	w  float64
}

type mxLegacyTrees struct {
	roots   []int
	modes   []string
	feats   []int
	vals    []float64
	child   [][2]int // node indices
	missing []bool
	leafOut map[int][]mxLegacyTarget
}

// mxFloatsOrTensor reads a floats attribute or its *_as_tensor twin.
func mxFloatsOrTensor(a ir.Attrs, name string) []float64 {
	if v := mxAttrFloats(a, name+"_as_tensor"); v != nil {
		return v
	}
	var out []float64
	for _, f := range a.Floats(name, nil) {
		out = append(out, float64(f))
	}
	return out
}

func mxParseLegacyTrees(a ir.Attrs, prefix string) (*mxLegacyTrees, error) {
	treeIDs, nodeIDs := a.Ints("nodes_treeids", nil), a.Ints("nodes_nodeids", nil)
	t := &mxLegacyTrees{modes: a.Strs("nodes_modes", nil), vals: mxFloatsOrTensor(a, "nodes_values"), leafOut: map[int][]mxLegacyTarget{}}
	feats, tn, fn := a.Ints("nodes_featureids", nil), a.Ints("nodes_truenodeids", nil), a.Ints("nodes_falsenodeids", nil)
	miss := a.Ints("nodes_missing_value_tracks_true", nil)
	n := len(treeIDs)
	if len(nodeIDs) != n || len(t.modes) != n || len(feats) != n || len(tn) != n || len(fn) != n ||
		(len(t.vals) != n && len(t.vals) != 0) || (miss != nil && len(miss) != n) {
		return nil, fmt.Errorf("%w: node attribute lengths differ (%d nodes)", errAttr, n)
	}
	if len(t.vals) == 0 {
		t.vals = make([]float64, n)
	}
	index := map[[2]int64]int{}
	for i := 0; i < n; i++ {
		key := [2]int64{treeIDs[i], nodeIDs[i]}
		if _, dup := index[key]; dup {
			return nil, fmt.Errorf("%w: node (%d, %d) repeated", errAttr, key[0], key[1])
		}
		index[key] = i
		if i == 0 || treeIDs[i] != treeIDs[i-1] {
			t.roots = append(t.roots, i)
		}
	}
	t.child = make([][2]int, n)
	t.missing = make([]bool, n)
	for i := 0; i < n; i++ {
		t.feats = append(t.feats, int(feats[i]))
		t.missing[i] = miss != nil && miss[i] != 0
		if t.modes[i] == "LEAF" {
			continue
		}
		tc, ok1 := index[[2]int64{treeIDs[i], tn[i]}]
		fc, ok2 := index[[2]int64{treeIDs[i], fn[i]}]
		if !ok1 || !ok2 || feats[i] < 0 {
			return nil, fmt.Errorf("%w: node %d has missing children or feature %d", errAttr, i, feats[i])
		}
		t.child[i] = [2]int{tc, fc}
	}
	tt, tnode, tid := a.Ints(prefix+"_treeids", nil), a.Ints(prefix+"_nodeids", nil), a.Ints(prefix+"_ids", nil)
	tw := mxFloatsOrTensor(a, prefix+"_weights")
	if len(tnode) != len(tt) || len(tid) != len(tt) || len(tw) != len(tt) {
		return nil, fmt.Errorf("%w: %s lists differ in length", errAttr, prefix)
	}
	for i := range tt {
		leaf, ok := index[[2]int64{tt[i], tnode[i]}]
		if !ok || tid[i] < 0 {
			return nil, fmt.Errorf("%w: %s %d names node (%d, %d) or id %d", errAttr, prefix, i, tt[i], tnode[i], tid[i])
		}
		t.leafOut[leaf] = append(t.leafOut[leaf], mxLegacyTarget{int(tid[i]), tw[i]})
	}
	return t, nil
}

// leaf walks one tree from root for sample x.
func (t *mxLegacyTrees) leaf(root int, x []float64) (int, error) {
	cur := root
	for steps := 0; t.modes[cur] != "LEAF"; steps++ {
		f := t.feats[cur]
		if steps > len(t.modes) || f >= len(x) {
			return 0, fmt.Errorf("%w: tree loops or reads feature %d of %d", errInput, f, len(x))
		}
		v, th := x[f], t.vals[cur]
		var r bool
		switch t.modes[cur] {
		case "BRANCH_LEQ":
			r = v <= th
		case "BRANCH_LT":
			r = v < th
		case "BRANCH_GTE":
			r = v >= th
		case "BRANCH_GT":
			r = v > th
		case "BRANCH_EQ":
			r = v == th
		case "BRANCH_NEQ":
			r = v != th
		default:
			return 0, fmt.Errorf("%w: node mode %q", errAttr, t.modes[cur])
		}
		if math.IsNaN(v) {
			r = t.missing[cur]
		}
		if r {
			cur = t.child[cur][0]
		} else {
			cur = t.child[cur][1]
		}
	}
	return cur, nil
}

var mxPostNames = map[string]int{"NONE": 0, "SOFTMAX": 1, "LOGISTIC": 2, "SOFTMAX_ZERO": 3, "PROBIT": 4}

func prepTreeEnsembleLegacy(classifier bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		prefix := "target"
		if classifier {
			prefix = "class"
		}
		t, err := mxParseLegacyTrees(s.Attrs, prefix)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Op, err)
		}
		post, ok := mxPostNames[s.Attrs.Str("post_transform", "NONE")]
		agg := s.Attrs.Str("aggregate_function", "SUM")
		if !ok || (agg != "SUM" && agg != "AVERAGE" && agg != "MIN" && agg != "MAX") {
			return nil, fmt.Errorf("%s: %w: post_transform %q, aggregate_function %q", s.Op, errAttr, s.Attrs.Str("post_transform", ""), agg)
		}
		base := mxFloatsOrTensor(s.Attrs, "base_values")
		if classifier {
			return mxTreeClassifier(s, t, post, base)
		}
		n := int(s.Attrs.Int("n_targets", 1))
		for _, outs := range t.leafOut {
			for _, o := range outs {
				if o.id >= n {
					return nil, fmt.Errorf("%s: %w: target id %d for n_targets %d", s.Op, errAttr, o.id, n)
				}
			}
		}
		if base != nil && len(base) != n {
			return nil, fmt.Errorf("%s: %w: %d base_values for %d targets", s.Op, errAttr, len(base), n)
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			rows, nf, xs, err := mxTreeInput(s.Op, in)
			if err != nil {
				return nil, err
			}
			out := make([]float64, rows*n)
			for r := 0; r < rows; r++ {
				if err := t.score(xs[r*nf:(r+1)*nf], out[r*n:(r+1)*n], agg, base); err != nil {
					return nil, fmt.Errorf("%s: %w", s.Op, err)
				}
				mxPostTransform(post, out[r*n:(r+1)*n])
			}
			return one(ir.FromSlice(mxF32s(out), rows, n))
		}, nil
	}
}

// score aggregates the leaves of all trees into out, then adds base.
func (t *mxLegacyTrees) score(x, out []float64, agg string, base []float64) error {
	init := map[string]float64{"MIN": math.MaxFloat64, "MAX": -math.MaxFloat64}[agg]
	for i := range out {
		out[i] = init
	}
	for _, root := range t.roots {
		leaf, err := t.leaf(root, x)
		if err != nil {
			return err
		}
		for _, o := range t.leafOut[leaf] {
			switch agg {
			case "MIN":
				out[o.id] = math.Min(out[o.id], o.w)
			case "MAX":
				out[o.id] = math.Max(out[o.id], o.w)
			default:
				out[o.id] += o.w
			}
		}
	}
	for i := range out {
		if agg == "AVERAGE" {
			out[i] /= float64(len(t.roots))
		}
		if base != nil {
			out[i] += base[i]
		}
	}
	return nil
}

// mxTreeInput reads X as rows of features in float64.
func mxTreeInput(op string, in []*ir.Tensor) (rows, nf int, xs []float64, err error) {
	if err := needInputs(in, 1); err != nil {
		return 0, 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	x := in[0]
	if x.Rank() < 1 || x.Rank() > 2 || x.DType == ir.String || x.DType == ir.Bool {
		return 0, 0, nil, fmt.Errorf("%s: %w: input 0 is %v%v, want numeric [N, F]", op, errInput, x.DType, x.Shape)
	}
	nf = x.Shape[x.Rank()-1]
	return x.Len() / max(nf, 1), nf, mxFloat64s(x), nil
}

func mxF32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}

// mxTreeClassifier scores classes like the regressor (sums plus
// base_values), handles the one-score binary case as ONNX Runtime does, and
// returns the arg-max label and the transformed scores.
func mxTreeClassifier(s *backends.OpSpec, t *mxLegacyTrees, post int, base []float64) (kernelFunc, error) {
	ints, strs := s.Attrs.Ints("classlabels_int64s", nil), s.Attrs.Strs("classlabels_strings", nil)
	nc := max(len(ints), len(strs))
	ids := map[int]bool{}
	for _, outs := range t.leafOut {
		for _, o := range outs {
			ids[o.id] = true
			if o.id >= nc {
				return nil, fmt.Errorf("%s: %w: class id %d for %d classes", s.Op, errAttr, o.id, nc)
			}
		}
	}
	if nc == 0 || (base != nil && len(base) != nc) || (len(strs) == 1) {
		return nil, fmt.Errorf("%s: %w: %d class labels, %d base_values", s.Op, errAttr, nc, len(base))
	}
	binary := len(ids) == 1
	width := nc
	if binary && nc == 1 {
		width = 2
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		rows, nf, xs, err := mxTreeInput(s.Op, in)
		if err != nil {
			return nil, err
		}
		scores := make([]float64, rows*width)
		labels := make([]int, rows)
		for r := 0; r < rows; r++ {
			row := scores[r*width : (r+1)*width]
			if err := t.score(xs[r*nf:(r+1)*nf], row[:nc], "SUM", base); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Op, err)
			}
			if binary {
				row[1] = row[0]
				if post == 0 || post == 4 {
					row[0] = 1 - row[1]
				} else {
					row[0] = -row[1]
				}
			}
			mxPostTransform(post, row)
			for k, v := range row {
				if v > row[labels[r]] {
					labels[r] = k
				}
			}
		}
		z := ir.FromSlice(mxF32s(scores), rows, width)
		if strs != nil {
			y := make([]string, rows)
			for r, l := range labels {
				y[r] = strs[l]
			}
			return []*ir.Tensor{ir.FromSlice(y, rows), z}, nil
		}
		y := make([]int64, rows)
		for r, l := range labels {
			if len(ints) == 1 { // a single label 1: arg-max 1 means it, else 0
				y[r] = map[bool]int64{true: 1}[l == 1 && ints[0] == 1]
			} else {
				y[r] = ints[l]
			}
		}
		return []*ir.Tensor{ir.FromSlice(y, rows), z}, nil
	}, nil
}
