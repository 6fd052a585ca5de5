package cpu

// ai.onnx.ml TreeEnsemble (opset 5): trees given as parallel node arrays
// whose true/false children are either nodes or leaves.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { regDomain(mxMLDomain, "TreeEnsemble", 5, prepTreeEnsemble) }

type mxTreeNode struct {
	mode          int
	split         float64
	members       map[float64]bool
	feature       int
	child         [2]int // true, false
	leaf          [2]bool
	missingIsTrue bool
}

type mxTrees struct {
	nodes     []mxTreeNode
	roots     []int
	leafW     []float64
	leafT     []int
	targets   int
	agg, post int
}

func prepTreeEnsemble(s *backends.OpSpec) (kernelFunc, error) {
	t, err := mxParseTrees(s.Attrs)
	if err != nil {
		return nil, fmt.Errorf("TreeEnsemble: %w", err)
	}
	dt := inputType(s.InputTypes, 0)
	if dt != ir.Float32 && dt != ir.Float64 && dt != ir.Float16 {
		return nil, fmt.Errorf("TreeEnsemble: %w: input 0 is %v", errDType, dt)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("TreeEnsemble: %w", err)
		}
		x := in[0]
		if x.Rank() != 2 && x.Rank() != 1 {
			return nil, fmt.Errorf("TreeEnsemble: %w: input 0 has shape %v, want [N, F]", errShape, x.Shape)
		}
		nf := x.Shape[x.Rank()-1]
		rows := x.Len() / max(nf, 1)
		xs := mxFloat64s(x)
		out := make([]float64, rows*t.targets)
		for r := 0; r < rows; r++ {
			if err := t.predict(xs[r*nf:(r+1)*nf], out[r*t.targets:(r+1)*t.targets]); err != nil {
				return nil, fmt.Errorf("TreeEnsemble: %w", err)
			}
		}
		return one(mxTensorFrom64(dt, []int{rows, t.targets}, out))
	}, nil
}

// mxAttrFloats reads a tensor attribute as float64s (nil when absent).
func mxAttrFloats(a ir.Attrs, name string) []float64 {
	if t := a.TensorAttr(name); t != nil {
		return mxFloat64s(t)
	}
	return nil
}

func mxParseTrees(a ir.Attrs) (*mxTrees, error) {
	splits := mxAttrFloats(a, "nodes_splits")
	modes := mxAttrFloats(a, "nodes_modes")
	feats := a.Ints("nodes_featureids", nil)
	tn, fn := a.Ints("nodes_truenodeids", nil), a.Ints("nodes_falsenodeids", nil)
	tl, fl := a.Ints("nodes_trueleafs", nil), a.Ints("nodes_falseleafs", nil)
	miss := a.Ints("nodes_missing_value_tracks_true", nil)
	n := len(splits)
	if len(modes) != n || len(feats) != n || len(tn) != n || len(fn) != n || len(tl) != n || len(fl) != n || (miss != nil && len(miss) != n) {
		return nil, fmt.Errorf("%w: node attribute lengths differ (%d splits)", errAttr, n)
	}
	t := &mxTrees{targets: int(a.Int("n_targets", 0)), agg: int(a.Int("aggregate_function", 1)), post: int(a.Int("post_transform", 0))}
	t.leafW = mxAttrFloats(a, "leaf_weights")
	for _, v := range a.Ints("leaf_targetids", nil) {
		if v < 0 || v >= int64(t.targets) {
			return nil, fmt.Errorf("%w: leaf target %d outside [0, %d)", errAttr, v, t.targets)
		}
		t.leafT = append(t.leafT, int(v))
	}
	if len(t.leafT) != len(t.leafW) || t.targets <= 0 || t.agg < 0 || t.agg > 3 || t.post < 0 || t.post > 4 {
		return nil, fmt.Errorf("%w: %d leaf weights, %d leaf targets, n_targets %d, aggregate %d, post %d",
			errAttr, len(t.leafW), len(t.leafT), t.targets, t.agg, t.post)
	}
	members := mxAttrFloats(a, "membership_values")
	t.nodes = make([]mxTreeNode, n)
	for i := range t.nodes {
		nd := &t.nodes[i]
		nd.mode, nd.split, nd.feature = int(modes[i]), splits[i], int(feats[i])
		nd.child = [2]int{int(tn[i]), int(fn[i])}
		nd.leaf = [2]bool{tl[i] != 0, fl[i] != 0}
		nd.missingIsTrue = miss != nil && miss[i] != 0
		if nd.mode < 0 || nd.mode > 6 || nd.feature < 0 {
			return nil, fmt.Errorf("%w: node %d has mode %d, feature %d", errAttr, i, nd.mode, nd.feature)
		}
		for k := 0; k < 2; k++ {
			if lim := map[bool]int{true: len(t.leafW), false: n}[nd.leaf[k]]; nd.child[k] < 0 || nd.child[k] >= lim {
				return nil, fmt.Errorf("%w: node %d child %d outside [0, %d)", errAttr, i, nd.child[k], lim)
			}
		}
		if nd.mode == 6 { // set membership: members up to the next NaN
			nd.members = map[float64]bool{}
			for len(members) > 0 && !math.IsNaN(members[0]) {
				nd.members[members[0]] = true
				members = members[1:]
			}
			if len(members) == 0 {
				return nil, fmt.Errorf("%w: membership_values run out at node %d", errAttr, i)
			}
			members = members[1:]
		}
	}
	for _, r := range a.Ints("tree_roots", nil) {
		if r < 0 || r >= int64(n) {
			return nil, fmt.Errorf("%w: tree root %d outside [0, %d)", errAttr, r, n)
		}
		t.roots = append(t.roots, int(r))
	}
	return t, nil
}

// goesTrue evaluates a node's comparison on feature value v.
func (nd *mxTreeNode) goesTrue(v float64) bool {
	if math.IsNaN(v) && nd.missingIsTrue {
		return true
	}
	switch nd.mode {
	case 0:
		return v <= nd.split
	case 1:
		return v < nd.split
	case 2:
		return v >= nd.split
	case 3:
		return v > nd.split
	case 4:
		return v == nd.split
	case 5:
		return v != nd.split
	}
	return nd.members[v]
}

// predict aggregates every tree's leaf for one sample into out (n_targets).
func (t *mxTrees) predict(x []float64, out []float64) error {
	init := 0.0
	switch t.agg {
	case 2:
		init = math.MaxFloat64
	case 3:
		init = -math.MaxFloat64
	}
	for i := range out {
		out[i] = init
	}
	for _, root := range t.roots {
		cur := root
		r := &t.nodes[root]
		leaf := -1
		if r.leaf[0] && r.leaf[1] && r.child[0] == r.child[1] {
			leaf = r.child[0]
		}
		for steps := 0; leaf < 0; steps++ {
			nd := &t.nodes[cur]
			if steps > len(t.nodes) || nd.feature >= len(x) {
				return fmt.Errorf("%w: tree at root %d loops or reads feature %d of %d", errInput, root, nd.feature, len(x))
			}
			k := 1
			if nd.goesTrue(x[nd.feature]) {
				k = 0
			}
			if nd.leaf[k] {
				leaf = nd.child[k]
			} else {
				cur = nd.child[k]
			}
		}
		w, tg := t.leafW[leaf], t.leafT[leaf]
		switch t.agg {
		case 0:
			out[tg] += w / float64(len(t.roots))
		case 1:
			out[tg] += w
		case 2:
			out[tg] = math.Min(out[tg], w)
		case 3:
			out[tg] = math.Max(out[tg], w)
		}
	}
	mxPostTransform(t.post, out)
	return nil
}

// mxPostTransform applies NONE(0), SOFTMAX(1), LOGISTIC(2), SOFTMAX_ZERO(3)
// or PROBIT(4) to a score row, as ONNX Runtime does (SOFTMAX_ZERO keeps
// zero scores at zero; PROBIT uses its closed-form erfinv approximation).
func mxPostTransform(post int, v []float64) {
	switch post {
	case 1, 3:
		mx := math.Inf(-1)
		for _, s := range v {
			mx = math.Max(mx, s)
		}
		sum := 0.0
		for i, s := range v {
			if post == 3 && math.Abs(s) <= 1e-7 {
				v[i] = s * math.Exp(-mx)
			} else {
				v[i] = math.Exp(s - mx)
			}
			sum += v[i]
		}
		for i := range v {
			if sum == 0 {
				v[i] = 0.5
			} else {
				v[i] /= sum
			}
		}
	case 2:
		for i, s := range v {
			v[i] = mxSigmoid(s)
		}
	case 4:
		for i, s := range v {
			v[i] = 1.41421356 * mxErfInv(2*s-1)
		}
	}
}

// mxErfInv is Winitzki's approximation of the inverse error function
// (a = 0.147), the one ONNX Runtime's probit uses.
func mxErfInv(x float64) float64 {
	sgn := 1.0
	if x < 0 {
		sgn = -1
	}
	x = (1 - x) * (1 + x)
	if x == 0 {
		return 0
	}
	l := math.Log(x)
	v := 2/(math.Pi*0.147) + 0.5*l
	return sgn * math.Sqrt(-v+math.Sqrt(v*v-l/0.147))
}
