package ir

import (
	"fmt"
	"slices"
)

// InferOptions say what the graph walker knows besides the graph.
type InferOptions struct {
	// Opsets are the model's opset imports (versions of each domain).
	Opsets []OpsetImport
	// Functions are the model-local functions nodes may call.
	Functions []*Function
	// Inputs override the declared types of graph inputs, by name.
	Inputs map[string]*TensorInfo
	// Values are host values of inputs, by name (*Tensor, *Sequence or
	// *Optional); their types override the declared ones too.
	Values map[string]Value
}

// GraphInfo is what the walker found: the type of every tensor value of the
// graph it reached (unknown parts marked as in TensorInfo) and the host
// values it knows (initializers, constants and folded shape arithmetic).
// Values local to subgraphs and function bodies are not listed.
type GraphInfo struct {
	Types  map[string]*TensorInfo
	Values map[string]*Tensor
	seqs   map[string]*seqInfo
}

// Output returns the inferred type of a graph output (or any value); an
// unknown info when the walker knows nothing of it.
func (gi *GraphInfo) Output(name string) *TensorInfo {
	if t := gi.Types[name]; t != nil {
		return t
	}
	return UnknownInfo()
}

// Type returns the inferred type of any value as an ir.Type: a tensor, or a
// sequence or optional whose Elem is what is known of its content (the
// items of a sequence merged); nil when the walker knows nothing of it.
func (gi *GraphInfo) Type(name string) *Type {
	if t := gi.Types[name]; t != nil {
		return t.Type()
	}
	q := gi.seqs[name]
	if q == nil {
		return nil
	}
	return q.typ()
}

// SequenceItems returns the inferred types of a sequence's items, one per
// item; known is false when the sequence's length is not known.
func (gi *GraphInfo) SequenceItems(name string) (items []*TensorInfo, known bool) {
	q := gi.seqs[name]
	if q == nil || q.optional || !q.known {
		return nil, false
	}
	return q.items, true
}

// InferModel infers the types of every value of m's main graph from the
// declared input types, overridden by inputs and by the values known for
// inputs (both may be nil).
func InferModel(m *Model, inputs map[string]*TensorInfo, values map[string]Value) (*GraphInfo, error) {
	if m.Graph == nil {
		return nil, fmt.Errorf("ir: model has no graph")
	}
	return InferGraph(m.Graph, InferOptions{Opsets: m.Opsets, Functions: m.Functions, Inputs: inputs, Values: values})
}

// InferGraph walks g's nodes in order and infers the type of every value.
// Initializers and Constant outputs are known values; Shape, Gather,
// Concat, Unsqueeze, Cast and small integer arithmetic on known values are
// computed, so shapes that exported models compute stay static. Control
// flow (If, Loop, Scan), sequences, optionals and model-local functions are
// followed. The first inconsistency found is returned as an error that names
// the node; the GraphInfo holds what was inferred up to it.
func InferGraph(g *Graph, opt InferOptions) (gi *GraphInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			// A rule that misses a malformed case must not take the caller down.
			err = fmt.Errorf("ir: inference failed on a malformed graph: %v", r)
		}
	}()
	w := &walker{opt: opt, funcs: map[string]*Function{}}
	for _, f := range opt.Functions {
		w.funcs[funcKey(f.Domain, f.Name, f.Overload)] = f
	}
	s := newScope(nil)
	for _, in := range g.Inputs {
		s.declare(in.Name, in.Type)
	}
	setInitializers(g, s)
	for name, t := range opt.Inputs { // fed inputs override initializers
		s.types[name] = t
		delete(s.values, name)
	}
	for name, v := range opt.Values {
		s.setValue(name, v)
	}
	gi = s.info()
	return gi, w.nodes(g, s)
}

func funcKey(domain, name, overload string) string {
	return NormDomain(domain) + "\x00" + name + "\x00" + overload
}

// walker holds what is shared by the graph and its subgraphs.
type walker struct {
	opt      InferOptions
	funcs    map[string]*Function
	depth    int
	loopWork int // body nodes walked by Loops iterated on the host
}

// scope is one graph's values, with its enclosing graph's as parent.
type scope struct {
	parent *scope
	types  map[string]*TensorInfo
	values map[string]*Tensor
	seqs   map[string]*seqInfo
}

func newScope(parent *scope) *scope {
	return &scope{parent: parent, types: map[string]*TensorInfo{}, values: map[string]*Tensor{}, seqs: map[string]*seqInfo{}}
}

func (s *scope) info() *GraphInfo {
	return &GraphInfo{Types: s.types, Values: s.values, seqs: s.seqs}
}

// lookup finds name's type, value and sequence info in s or its parents.
func (s *scope) lookup(name string) (*TensorInfo, *Tensor, *seqInfo) {
	for ; s != nil; s = s.parent {
		if t, ok := s.types[name]; ok {
			return t, s.values[name], nil
		}
		if q, ok := s.seqs[name]; ok {
			return nil, nil, q
		}
	}
	return nil, nil, nil
}

// declare records a declared type (tensor, sequence or optional).
func (s *scope) declare(name string, t *Type) {
	if t == nil {
		return
	}
	switch t.Kind {
	case KindSequence:
		s.seqs[name] = &seqInfo{elem: InfoFromType(t.Elem)}
	case KindOptional:
		q := &seqInfo{optional: true, elem: InfoFromType(t.Elem)}
		if t.Elem != nil && t.Elem.Kind == KindSequence {
			q.inner = &seqInfo{elem: InfoFromType(t.Elem.Elem)}
		}
		s.seqs[name] = q
	default:
		s.types[name] = InfoFromType(t)
	}
}

// setValue records a host value and the type it implies.
func (s *scope) setValue(name string, v Value) {
	switch v := v.(type) {
	case *Tensor:
		s.types[name] = InfoOf(v)
		s.values[name] = v
		delete(s.seqs, name)
	case *Sequence:
		s.seqs[name] = seqOfValue(v)
		delete(s.types, name)
	case *Optional:
		s.seqs[name] = optionalOfValue(v)
		delete(s.types, name)
	}
}

// setInitializers records g's initializers as known values.
func setInitializers(g *Graph, s *scope) {
	for _, t := range g.Initializers {
		s.types[t.Name] = InfoOf(t)
		s.values[t.Name] = t
	}
	for _, sp := range g.SparseInitializers {
		if sp.Sparse != nil && sp.Sparse.Values != nil {
			s.types[sp.Name] = NewInfo(sp.Sparse.Values.DType, slices.Clone(sp.Sparse.Dims)...)
		}
	}
}

// graph walks a subgraph whose inputs are already bound in s.
func (w *walker) graph(g *Graph, s *scope) error {
	setInitializers(g, s)
	return w.nodes(g, s)
}

// nodes infers g's nodes in order.
func (w *walker) nodes(g *Graph, s *scope) error {
	for i, n := range g.Nodes {
		if err := w.node(n, s); err != nil {
			name := n.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			return fmt.Errorf("%w (node %s, %s)", err, name, n.OpType)
		}
	}
	return nil
}

func (w *walker) version(domain string) int {
	v := int(OpsetVersion(w.opt.Opsets, domain))
	if v == 0 && NormDomain(domain) == "" {
		v = 1 << 30 // no import: the newest rules
	}
	return v
}

// node infers one node's outputs into s.
func (w *walker) node(n *Node, s *scope) error {
	in := make([]*TensorInfo, len(n.Inputs))
	vals := make([]*Tensor, len(n.Inputs))
	seqs := make([]*seqInfo, len(n.Inputs))
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		t, v, q := s.lookup(name)
		if t == nil {
			t = UnknownInfo()
		}
		in[i], vals[i], seqs[i] = t, v, q
	}
	if done, err := w.special(n, s, in, vals, seqs); done || err != nil {
		return err
	}
	outs, _, err := InferOutputs(n.Domain, n.OpType, w.version(n.Domain), n.Attrs, in, vals, len(n.Outputs))
	if err != nil {
		return err
	}
	folded := make([]*Tensor, len(outs))
	if NormDomain(n.Domain) == "" {
		folded = foldOutputs(n.OpType, n.Attrs, in, vals, outs)
	}
	for i, name := range n.Outputs {
		if name == "" {
			continue
		}
		if folded[i] != nil {
			s.setValue(name, folded[i])
			continue
		}
		s.types[name] = outs[i]
		delete(s.values, name)
	}
	return nil
}

// setOutputs stores infos (and optional sequence infos) as n's outputs.
func setOutputs(n *Node, s *scope, outs []*TensorInfo, seqs []*seqInfo) {
	for i, name := range n.Outputs {
		if name == "" {
			continue
		}
		if i < len(seqs) && seqs[i] != nil {
			s.seqs[name] = seqs[i]
			delete(s.types, name)
			continue
		}
		t := UnknownInfo()
		if i < len(outs) && outs[i] != nil {
			t = outs[i]
		}
		s.types[name] = t
		delete(s.values, name)
	}
}

// special handles the nodes InferOutputs cannot: control flow, sequences,
// optionals, function calls and Gradient. done reports whether it did.
func (w *walker) special(n *Node, s *scope, in []*TensorInfo, vals []*Tensor, seqs []*seqInfo) (bool, error) {
	if f := w.funcs[funcKey(n.Domain, n.OpType, n.Overload)]; f != nil {
		return true, w.call(f, n, s)
	}
	if NormDomain(n.Domain) == "ai.onnx.preview.training" && n.OpType == "Gradient" {
		var outs []*TensorInfo
		for _, x := range n.Attrs.Strs("xs", nil) {
			t, _, _ := s.lookup(x)
			outs = append(outs, t)
		}
		setOutputs(n, s, outs, nil)
		return true, nil
	}
	if NormDomain(n.Domain) != "" {
		return false, nil
	}
	if n.OpType == "Identity" && len(seqs) > 0 && seqs[0] != nil {
		setOutputs(n, s, nil, seqs[:1])
		return true, nil
	}
	switch n.OpType {
	case "If":
		return true, w.ifNode(n, s, vals)
	case "Loop":
		return true, w.loop(n, s, in, vals, seqs)
	case "Scan":
		return true, w.scan(n, s, in)
	case "SequenceMap":
		return true, w.sequenceMap(n, s, in, seqs)
	}
	if rule := seqRules[n.OpType]; rule != nil {
		outs, oseqs, err := rule(&seqCtx{inferCtx: inferCtx{op: n.OpType, version: w.version(""), attrs: n.Attrs, in: in, vals: vals, nout: len(n.Outputs)}, seqs: seqs})
		if err != nil {
			return true, err
		}
		setOutputs(n, s, outs, oseqs)
		if v := seqValue(n.OpType, in, seqs); v != nil && len(n.Outputs) > 0 && n.Outputs[0] != "" {
			s.setValue(n.Outputs[0], v)
		}
		return true, nil
	}
	return false, nil
}

// call infers a model-local function's body with the caller's attributes.
func (w *walker) call(f *Function, n *Node, s *scope) error {
	if w.depth > 16 {
		return fmt.Errorf("ir: function %s: calls nested too deep", f.Name)
	}
	w.depth++
	defer func() { w.depth-- }()
	inner := newScope(nil)
	for i, name := range f.Inputs {
		if i >= len(n.Inputs) || n.Inputs[i] == "" {
			continue
		}
		t, v, q := s.lookup(n.Inputs[i])
		switch {
		case q != nil:
			inner.seqs[name] = q
		case t != nil:
			inner.types[name] = t
			if v != nil {
				inner.values[name] = v
			}
		}
	}
	saved := w.opt.Opsets
	if len(f.Opsets) > 0 {
		w.opt.Opsets = f.Opsets
	}
	defer func() { w.opt.Opsets = saved }()
	for _, bn := range f.Nodes {
		bn = bindAttrs(bn, n.Attrs, f.AttrDefault)
		if err := w.node(bn, inner); err != nil {
			return fmt.Errorf("%w (in function %s)", err, f.Name)
		}
	}
	for i, name := range f.Outputs {
		if i >= len(n.Outputs) || n.Outputs[i] == "" {
			continue
		}
		copyValue(s, n.Outputs[i], inner, name)
	}
	return nil
}

// copyValue copies what scope from knows of name into to as dst.
func copyValue(to *scope, dst string, from *scope, name string) {
	t, v, q := from.lookup(name)
	delete(to.types, dst)
	delete(to.values, dst)
	delete(to.seqs, dst)
	switch {
	case q != nil:
		to.seqs[dst] = q
	case v != nil:
		to.setValue(dst, v)
	case t != nil:
		to.types[dst] = t
	default:
		to.types[dst] = UnknownInfo()
	}
}

// bindAttrs returns n with the attributes that refer to the caller's
// (RefAttrName) replaced by the caller's values or the function's defaults.
func bindAttrs(n *Node, caller, defaults Attrs) *Node {
	var bound Attrs
	changed := false
	for _, a := range n.Attrs {
		if a.RefAttrName == "" {
			bound = append(bound, a)
			continue
		}
		changed = true
		src := caller.Find(a.RefAttrName)
		if src == nil {
			src = defaults.Find(a.RefAttrName)
		}
		if src != nil {
			b := *src
			b.Name = a.Name
			bound = append(bound, b)
		}
	}
	if !changed {
		return n
	}
	c := *n
	c.Attrs = bound
	return &c
}

// seqValue is the value of SequenceLength or OptionalHasElement when known.
func seqValue(op string, in []*TensorInfo, seqs []*seqInfo) *Tensor {
	var q *seqInfo
	if len(seqs) > 0 {
		q = seqs[0]
	}
	switch op {
	case "SequenceLength":
		if q != nil && q.known {
			return Scalar(int64(len(q.items)))
		}
	case "OptionalHasElement":
		switch {
		case len(in) == 0 || in[0] == nil:
			return Scalar(false)
		case q == nil && in[0].DType != Undefined, q != nil && !q.optional:
			return Scalar(true)
		case q.has != 0:
			return Scalar(q.has > 0)
		}
	}
	return nil
}
