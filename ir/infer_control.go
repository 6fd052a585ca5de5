package ir

import "fmt"

// Inference through control flow: If (the branch a known condition takes,
// else both merged), Loop (iterated on the host while its trip count and
// condition are known, else to a fixed point), Scan and SequenceMap.

// maxLoopWork caps the body nodes that Loops (nested ones included) may walk
// when iterated on the host, over one walk of a graph.
const maxLoopWork = 1 << 16

// slot is what is known of one value: a tensor's type and maybe value, or
// a sequence or optional.
type slot struct {
	t *TensorInfo
	v *Tensor
	q *seqInfo
}

func (sl slot) bind(sc *scope, name string) {
	delete(sc.types, name)
	delete(sc.values, name)
	delete(sc.seqs, name)
	switch {
	case sl.q != nil:
		sc.seqs[name] = sl.q
	case sl.v != nil:
		sc.setValue(name, sl.v)
	case sl.t != nil:
		sc.types[name] = sl.t
	}
}

func lookupSlot(sc *scope, name string) slot {
	t, v, q := sc.lookup(name)
	return slot{t, v, q}
}

// mergeSlot is what is known of a value that is either a or b.
func mergeSlot(a, b slot) slot {
	switch {
	case a.q != nil && b.q != nil:
		return slot{q: mergeSeq(a.q, b.q)}
	case a.t != nil && b.t != nil:
		m := slot{t: mergeInfo(a.t, b.t)}
		if a.v != nil && a.v == b.v {
			m.v = a.v
		}
		return m
	}
	return slot{t: UnknownInfo()}
}

func mergeSeq(a, b *seqInfo) *seqInfo {
	out := &seqInfo{optional: a.optional, elem: mergeInfo(a.elem, b.elem)}
	if a.has == b.has {
		out.has = a.has
	}
	if a.inner != nil && b.inner != nil {
		out.inner = mergeSeq(a.inner, b.inner)
	}
	if a.known && b.known && len(a.items) == len(b.items) {
		out.known = true
		out.items = make([]*TensorInfo, len(a.items))
		for i := range a.items {
			out.items[i] = mergeInfo(a.items[i], b.items[i])
		}
	}
	return out
}

func (sl slot) same(o slot) bool {
	switch {
	case sl.t != nil && o.t != nil:
		return sl.t.Equal(o.t)
	case sl.q != nil && o.q != nil:
		return sl.q.elem.Equal(o.q.elem) && sl.q.known == o.q.known && len(sl.q.items) == len(o.q.items)
	}
	return sl.t == nil && o.t == nil && sl.q == nil && o.q == nil
}

// body walks subgraph g in a child scope of parent with its inputs bound to
// args, and returns its outputs.
func (w *walker) body(g *Graph, parent *scope, args []slot) ([]slot, error) {
	if w.depth > 32 {
		return nil, fmt.Errorf("ir: subgraphs nested too deep")
	}
	w.depth++
	defer func() { w.depth-- }()
	sc := newScope(parent)
	for i, in := range g.Inputs {
		sc.declare(in.Name, in.Type)
		if i < len(args) {
			args[i].bind(sc, in.Name)
		}
	}
	if err := w.graph(g, sc); err != nil {
		return nil, err
	}
	outs := make([]slot, len(g.Outputs))
	for i, o := range g.Outputs {
		outs[i] = lookupSlot(sc, o.Name)
		if outs[i].t == nil && outs[i].q == nil {
			outs[i].t = UnknownInfo()
		}
	}
	return outs, nil
}

// setSlots stores slots as n's outputs.
func setSlots(n *Node, s *scope, outs []slot) {
	for i, name := range n.Outputs {
		if name == "" {
			continue
		}
		sl := slot{t: UnknownInfo()}
		if i < len(outs) {
			sl = outs[i]
		}
		sl.bind(s, name)
	}
}

func (w *walker) ifNode(n *Node, s *scope, vals []*Tensor) error {
	thenG, elseG := n.Attrs.GraphAttr("then_branch"), n.Attrs.GraphAttr("else_branch")
	if thenG == nil || elseG == nil {
		setSlots(n, s, nil)
		return nil
	}
	if c := vals[0]; c != nil && c.Len() == 1 {
		g := elseG
		if c.Float64At(0) != 0 {
			g = thenG
		}
		outs, err := w.body(g, s, nil)
		setSlots(n, s, outs)
		return err
	}
	a, errA := w.body(thenG, s, nil)
	b, errB := w.body(elseG, s, nil)
	switch {
	case errA != nil && errB != nil:
		return errA
	case errA != nil:
		a = b
	case errB != nil:
		b = a
	}
	outs := make([]slot, min(len(a), len(b)))
	for i := range outs {
		outs[i] = mergeSlot(a[i], b[i])
	}
	setSlots(n, s, outs)
	return nil
}

// loop: inputs (M, cond, v...), body (iter, cond, v...) -> (cond, v..., scans...).
func (w *walker) loop(n *Node, s *scope, in []*TensorInfo, vals []*Tensor, seqs []*seqInfo) error {
	g := n.Attrs.GraphAttr("body")
	if g == nil || len(n.Inputs) < 2 {
		setSlots(n, s, nil)
		return nil
	}
	nv := len(n.Inputs) - 2
	state := make([]slot, nv)
	for i := range state {
		state[i] = slot{in[2+i], vals[2+i], seqs[2+i]}
	}
	trip := int64(-1)
	if v := vals[0]; v != nil && v.Len() == 1 && v.DType.IsInt() {
		trip = int64(v.Float64At(0))
	}
	cond, condKnown := true, true
	if n.Inputs[1] != "" {
		c := vals[1]
		condKnown = c != nil && c.Len() == 1
		cond = condKnown && c.Float64At(0) != 0
	}
	if condKnown && (trip >= 0 || n.Inputs[0] == "") {
		outs, ok, err := w.loopConcrete(g, s, state, trip, cond)
		if err != nil || ok {
			setSlots(n, s, outs)
			return err
		}
	}
	outs, err := w.loopFixpoint(g, s, state)
	setSlots(n, s, outs)
	return err
}

// loopConcrete runs the loop's shape computation on the host; ok is false
// when the condition becomes unknown or the work cap is hit.
func (w *walker) loopConcrete(g *Graph, s *scope, state []slot, trip int64, cond bool) ([]slot, bool, error) {
	var scans []slot
	nscan := len(g.Outputs) - 1 - len(state)
	it := int64(0)
	for ; cond && (trip < 0 || it < trip); it++ {
		if w.loopWork += len(g.Nodes) + 1; w.loopWork > maxLoopWork {
			return nil, false, nil
		}
		args := append([]slot{{v: Scalar(it)}, {v: Scalar(true)}}, state...)
		args[0].t, args[1].t = NewInfo(Int64), NewInfo(Bool)
		outs, err := w.body(g, s, args)
		if err != nil {
			return nil, false, err
		}
		if len(outs) < 1+len(state) {
			return nil, false, nil
		}
		c := outs[0].v
		if c == nil || c.Len() != 1 {
			return nil, false, nil
		}
		cond = c.Float64At(0) != 0
		copy(state, outs[1:1+len(state)])
		for k := 0; k < nscan; k++ {
			if it == 0 {
				scans = append(scans, outs[1+len(state)+k])
			} else {
				scans[k] = mergeSlot(scans[k], outs[1+len(state)+k])
			}
		}
	}
	if it == 0 && nscan > 0 {
		return nil, false, nil // no iteration told the scan outputs' types
	}
	res := append([]slot{}, state...)
	for _, sc := range scans {
		res = append(res, stackSlot(sc, int(it)))
	}
	return res, true, nil
}

// stackSlot is the type of n values of type sl stacked on a new axis 0.
func stackSlot(sl slot, n int) slot {
	if sl.t == nil || sl.t.UnknownRank {
		dt := Undefined
		if sl.t != nil {
			dt = sl.t.DType
		}
		return slot{t: unknownRank(dt)}
	}
	return slot{t: &TensorInfo{DType: sl.t.DType, Shape: append([]int{n}, sl.t.Shape...)}}
}

// loopFixpoint walks the body with merged state types until they settle.
func (w *walker) loopFixpoint(g *Graph, s *scope, state []slot) ([]slot, error) {
	var outs []slot
	for round := 0; round < 4; round++ {
		args := append([]slot{{t: NewInfo(Int64)}, {t: NewInfo(Bool)}}, state...)
		var err error
		if outs, err = w.body(g, s, args); err != nil {
			return nil, err
		}
		if len(outs) < 1+len(state) {
			return nil, nil
		}
		settled := true
		for i := range state {
			m := mergeSlot(state[i], outs[1+i])
			m.v = nil
			if !m.same(state[i]) || state[i].v != nil {
				settled = false
			}
			state[i] = m
		}
		if settled {
			break
		}
	}
	res := append([]slot{}, state...)
	for _, sc := range outs[1+len(state):] {
		res = append(res, stackSlot(sc, -1))
	}
	return res, nil
}
