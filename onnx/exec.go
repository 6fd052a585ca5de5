package onnx

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// graphPlan is a graph ready to run: initializers uploaded, each node's opset
// resolved, subgraphs planned.
type graphPlan struct {
	g      *ir.Graph
	nodes  []*nodePlan
	inits  map[string]*eager.Tensor
	opsets []ir.OpsetImport
	// gradient is set when the graph holds a training-domain Gradient node:
	// the graph then runs under a tape.
	gradient bool
	// releases lists per node the intermediates to release after it runs
	// (liveness.go).
	releases [][]string
}

// nodePlan caches what one node needs at run time.
type nodePlan struct {
	n       *ir.Node
	version int
	special specialFunc           // control flow, sequences, functions, custom ops
	subs    map[string]*graphPlan // subgraph attributes
	fn      *ir.Function
	kernels sync.Map // input dtypes -> *eager.Prepared
}

// scope maps value names to values; subgraphs see their parents' names.
type scope struct {
	vals   map[string]Value
	parent *scope
	tape   *eager.Tape // set while a graph with Gradient nodes runs
}

func (s *scope) lookup(name string) (Value, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vals[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (m *Model) plan(g *ir.Graph, opsets []ir.OpsetImport, outer map[string]bool) (*graphPlan, error) {
	gp := &graphPlan{g: g, opsets: opsets, inits: map[string]*eager.Tensor{}}
	for _, t := range g.Initializers {
		if et, ok := m.shared[t.Name]; ok && g == m.IR.Graph {
			gp.inits[t.Name] = et
			continue
		}
		et, err := eager.FromHost(m.dev, t)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer %q: %w", t.Name, err)
		}
		gp.inits[t.Name] = et
	}
	for _, s := range g.SparseInitializers {
		dense, err := densify(s.Sparse)
		if err != nil {
			return nil, fmt.Errorf("onnx: sparse initializer %q: %w", s.Name, err)
		}
		et, err := eager.FromHost(m.dev, dense)
		if err != nil {
			return nil, err
		}
		gp.inits[s.Name] = et
	}
	for i, n := range g.Nodes {
		np, err := m.planNode(n, opsets)
		if err != nil {
			return nil, fmt.Errorf("onnx: node %d %q (%s): %w", i, n.Name, n.OpType, err)
		}
		gp.nodes = append(gp.nodes, np)
		gp.gradient = gp.gradient || n.OpType == "Gradient" && n.Domain == trainingDomain
	}
	gp.releases = releasePlan(gp)
	return gp, nil
}

func (m *Model) planNode(n *ir.Node, opsets []ir.OpsetImport) (*nodePlan, error) {
	np := &nodePlan{n: n, version: int(ir.OpsetVersion(opsets, n.Domain))}
	for _, a := range n.Attrs {
		if a.Type == ir.AttrGraph && a.Graph != nil {
			sub, err := m.plan(a.Graph, opsets, nil)
			if err != nil {
				return nil, fmt.Errorf("subgraph %q: %w", a.Name, err)
			}
			if np.subs == nil {
				np.subs = map[string]*graphPlan{}
			}
			np.subs[a.Name] = sub
		}
	}
	if f, ok := m.funcs[funcKey(n.Domain, n.OpType, n.Overload)]; ok {
		np.fn = f
		np.special = runFunction
		return np, nil
	}
	if c := lookupCustom(n.Domain, n.OpType); c != nil {
		np.special = runCustom(c)
		return np, nil
	}
	if np.version == 0 {
		d := n.Domain
		if d == "" {
			d = "ai.onnx"
		}
		return nil, fmt.Errorf("domain %q is not imported by the model and no function or custom op defines %s", d, n.OpType)
	}
	if n.Domain == trainingDomain && n.OpType == "Gradient" {
		np.special = runGradient
		return np, nil
	}
	if ir.NormDomain(n.Domain) == "" {
		if sp, ok := specials[n.OpType]; ok {
			np.special = sp
			return np, nil
		}
	}
	if !m.hasKernel(n, np.version) {
		return nil, fmt.Errorf("op %s (domain %q, opset %d) is not implemented by backend %s: %w",
			n.OpType, n.Domain, np.version, m.dev.Name(), backends.ErrNotImplemented)
	}
	return np, nil
}

// hasKernel reports whether the backend (or the CPU fallback) lists the op.
func (m *Model) hasKernel(n *ir.Node, version int) bool {
	for _, dev := range []string{"", "cpu"} {
		b := m.dev
		if dev != "" {
			var err error
			if b, err = backends.Open(dev); err != nil {
				continue
			}
		}
		for _, c := range b.Capabilities() {
			if ir.NormDomain(c.Domain) == ir.NormDomain(n.Domain) && c.Op == n.OpType && c.Since <= version {
				return true
			}
		}
	}
	return false
}

// runGraph runs a graph plan in a new scope under parent with inputs bound
// to the graph inputs (for the main graph: to its non-initializer inputs).
func (m *Model) runGraph(ctx context.Context, gp *graphPlan, parent *scope, inputs []Value, top bool) ([]Value, error) {
	s := &scope{vals: make(map[string]Value, len(gp.g.Nodes)+len(gp.inits)+len(inputs)), parent: parent}
	for name, t := range gp.inits {
		s.vals[name] = t
	}
	ins := gp.g.Inputs
	if top {
		ins = gp.g.RealInputs()
	}
	for i, vi := range ins {
		if i < len(inputs) {
			s.vals[vi.Name] = inputs[i]
		}
	}
	if gp.gradient {
		s.tape = eager.NewPersistentTape()
		defer s.tape.Release()
	}
	for i, np := range gp.nodes {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("onnx: run stopped: %w", err)
		}
		if err := m.runNode(ctx, np, s); err != nil {
			return nil, err
		}
		if rel := gp.releases[i]; len(rel) > 0 {
			if s.tape == nil && !eager.Recording() {
				s.release(rel)
			} else {
				s.markIntermediate(rel)
			}
		}
	}
	outs := make([]Value, len(gp.g.Outputs))
	for i, o := range gp.g.Outputs {
		v, ok := s.lookup(o.Name)
		if !ok {
			return nil, fmt.Errorf("onnx: graph %q output %q was never computed", gp.g.Name, o.Name)
		}
		outs[i] = v
	}
	return outs, nil
}

// release gives back the buffers of dead intermediates of this scope.
func (s *scope) release(names []string) {
	for _, name := range names {
		if t, ok := s.vals[name].(*eager.Tensor); ok {
			t.Release()
		}
		delete(s.vals, name)
	}
}

// markIntermediate hands dead intermediates to the recording tapes, which
// release them when they drop the records holding them.
func (s *scope) markIntermediate(names []string) {
	for _, name := range names {
		if t, ok := s.vals[name].(*eager.Tensor); ok {
			t.MarkIntermediate()
		}
		delete(s.vals, name)
	}
}

func (m *Model) runNode(ctx context.Context, np *nodePlan, s *scope) error {
	if m.observe != nil {
		start := time.Now()
		defer func() { m.observe(np.n, time.Since(start)) }()
	}
	n := np.n
	in := make([]Value, len(n.Inputs))
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		v, ok := s.lookup(name)
		if !ok {
			return fmt.Errorf("onnx: node %q (%s): input %d %q is not defined", n.Name, n.OpType, i, name)
		}
		in[i] = v
	}
	var outs []Value
	var err error
	if np.special != nil {
		outs, err = np.special(ctx, m, np, s, in)
	} else {
		outs, err = m.runKernel(np, in)
	}
	if err != nil {
		return fmt.Errorf("onnx: node %q (%s): %w", n.Name, n.OpType, err)
	}
	for i, name := range n.Outputs {
		if name == "" || i >= len(outs) {
			continue
		}
		s.vals[name] = outs[i]
	}
	return nil
}

// runKernel dispatches a tensor op through a kernel prepared once per
// combination of input dtypes.
func (m *Model) runKernel(np *nodePlan, in []Value) ([]Value, error) {
	ts := make([]*eager.Tensor, len(in))
	var key [16]byte
	k := key[:0]
	for i, v := range in {
		switch x := v.(type) {
		case nil:
			k = append(k, 0)
		case *eager.Tensor:
			ts[i] = x
			k = append(k, byte(x.DType()))
		case *Optional:
			if x.V == nil {
				k = append(k, 0)
				continue
			}
			t, ok := x.V.(*eager.Tensor)
			if !ok {
				return nil, fmt.Errorf("input %d is %s; this op takes tensors", i, describe(v))
			}
			ts[i] = t
			k = append(k, byte(t.DType()))
		default:
			return nil, fmt.Errorf("input %d is %s; this op takes tensors", i, describe(v))
		}
	}
	var p *eager.Prepared
	if c, ok := np.kernels.Load(string(k)); ok {
		p = c.(*eager.Prepared)
	} else {
		spec := &backends.OpSpec{Domain: np.n.Domain, Op: np.n.OpType, Version: np.version,
			Attrs: np.n.Attrs, NumOutputs: len(np.n.Outputs), Node: np.n.Name}
		for _, t := range ts {
			if t == nil {
				spec.InputTypes = append(spec.InputTypes, ir.Undefined)
			} else {
				spec.InputTypes = append(spec.InputTypes, t.DType())
			}
		}
		var err error
		if p, err = eager.Prepare(m.dev, spec); err != nil {
			return nil, err
		}
		np.kernels.Store(string(k), p)
	}
	res, err := p.Run(ts)
	if err != nil {
		return nil, err
	}
	outs := make([]Value, len(res))
	for i, t := range res {
		if t != nil {
			outs[i] = t
		}
	}
	return outs, nil
}
