package ir

// Inference through Scan (opset 8 with its batch axis, and opset 9 on) and
// SequenceMap.

// dropAxis returns t without dimension axis (unknown when out of range).
func dropAxis(t *TensorInfo, axis int) *TensorInfo {
	if t == nil || t.UnknownRank || axis < 0 || axis >= len(t.Shape) {
		dt := Undefined
		if t != nil {
			dt = t.DType
		}
		return unknownRank(dt)
	}
	s := append(append([]int{}, t.Shape[:axis]...), t.Shape[axis+1:]...)
	return &TensorInfo{DType: t.DType, Shape: s}
}

// insertAxis returns t with a dimension of size d inserted at axis (which
// may count from the back of the result).
func insertAxis(t *TensorInfo, axis, d int) *TensorInfo {
	if t == nil || t.UnknownRank {
		return t
	}
	r := len(t.Shape) + 1
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return unknownRank(t.DType)
	}
	s := append(append(append([]int{}, t.Shape[:axis]...), d), t.Shape[axis:]...)
	return &TensorInfo{DType: t.DType, Shape: s}
}

func (w *walker) scan(n *Node, s *scope, in []*TensorInfo) error {
	g := n.Attrs.GraphAttr("body")
	m := int(n.Attrs.Int("num_scan_inputs", 0))
	v8 := w.version("") < 9
	off := 0
	if v8 {
		off = 1 // sequence_lens
	}
	nstate := len(in) - off - m
	if g == nil || nstate < 0 || m <= 0 {
		setSlots(n, s, nil)
		return nil
	}
	args, seqLen, batch := scanArgs(n.Attrs, in[off:], nstate, v8)
	outs, err := w.scanBody(g, s, args, nstate)
	if err != nil {
		return err
	}
	oaxes := n.Attrs.Ints("scan_output_axes", nil)
	res := make([]slot, 0, len(outs))
	for i, o := range outs {
		t := o.t
		if i >= nstate {
			axis := 0
			if k := i - nstate; k < len(oaxes) {
				axis = int(oaxes[k])
			}
			t = insertAxis(t, axis, seqLen)
		}
		if v8 {
			t = insertAxis(t, 0, batch)
		}
		res = append(res, slot{t: t})
	}
	setSlots(n, s, res)
	return nil
}

// scanArgs are the body's inputs: the states, then one slice of each scan
// input (without its scan axis; Scan-8 also drops the batch axis 0 of all).
func scanArgs(attrs Attrs, in []*TensorInfo, nstate int, v8 bool) (args []slot, seqLen, batch int) {
	axes := attrs.Ints("scan_input_axes", nil)
	seqLen, batch = -1, -1
	for i, t := range in {
		if t == nil {
			t = UnknownInfo()
		}
		if v8 && !t.UnknownRank && len(t.Shape) > 0 {
			batch = t.Shape[0]
		}
		if i < nstate {
			if v8 {
				t = dropAxis(t, 0)
			}
			args = append(args, slot{t: t})
			continue
		}
		axis := 0
		if j := i - nstate; j < len(axes) {
			axis = int(axes[j])
		}
		if v8 {
			axis = 1
		}
		if !t.UnknownRank && axis < 0 {
			axis += len(t.Shape)
		}
		if !t.UnknownRank && axis >= 0 && axis < len(t.Shape) && seqLen < 0 {
			seqLen = t.Shape[axis]
		}
		sl := dropAxis(t, axis)
		if v8 {
			sl = dropAxis(sl, 0)
		}
		args = append(args, slot{t: sl})
	}
	return args, seqLen, batch
}

// scanBody walks a Scan body until the state types settle.
func (w *walker) scanBody(g *Graph, s *scope, args []slot, nstate int) ([]slot, error) {
	var outs []slot
	for round := 0; round < 3; round++ {
		var err error
		if outs, err = w.body(g, s, args); err != nil {
			return nil, err
		}
		settled := true
		for i := 0; i < nstate && i < len(outs); i++ {
			m := mergeSlot(args[i], outs[i])
			if !m.same(args[i]) {
				settled = false
			}
			args[i] = m
		}
		if settled {
			break
		}
	}
	for i := 0; i < nstate && i < len(outs); i++ {
		outs[i] = args[i]
	}
	return outs, nil
}

// sequenceMap walks the body once per item when the input sequences' lengths
// are known, else once with their element types.
func (w *walker) sequenceMap(n *Node, s *scope, in []*TensorInfo, seqs []*seqInfo) error {
	g := n.Attrs.GraphAttr("body")
	q0 := seqs[0]
	if g == nil || q0 == nil {
		setSlots(n, s, nil)
		return nil
	}
	count := -1
	if q0.known {
		count = len(q0.items)
	}
	for _, q := range seqs[1:] {
		if q != nil && (!q.known || len(q.items) != count) {
			count = -1
		}
	}
	arg := func(k int) []slot {
		args := make([]slot, len(in))
		for i := range in {
			switch q := seqs[i]; {
			case q == nil:
				args[i] = slot{t: in[i]}
			case k >= 0:
				args[i] = slot{t: q.items[k]}
			default:
				args[i] = slot{t: q.elem}
			}
		}
		return args
	}
	res := make([]slot, len(n.Outputs))
	if count < 0 {
		outs, err := w.body(g, s, arg(-1))
		if err != nil {
			return err
		}
		for i := range res {
			if i < len(outs) {
				res[i] = slot{q: &seqInfo{elem: outs[i].t}}
			}
		}
		setSlots(n, s, res)
		return nil
	}
	items := make([][]*TensorInfo, len(n.Outputs))
	for k := range count {
		outs, err := w.body(g, s, arg(k))
		if err != nil {
			return err
		}
		for i := range items {
			if i < len(outs) {
				items[i] = append(items[i], outs[i].t)
			}
		}
	}
	for i := range res {
		res[i] = slot{q: seqOf(items[i])}
	}
	setSlots(n, s, res)
	return nil
}
