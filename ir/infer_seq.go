package ir

// Inference of sequences and optionals, which the graph walker tracks
// beside tensors: a sequence's element types (one per item when its length
// is known), an optional's content and whether it holds a value.

// seqInfo is what is known of a sequence or optional value.
type seqInfo struct {
	optional bool
	has      int         // optional: 1 holds a value, -1 empty, 0 unknown
	elem     *TensorInfo // a sequence's elements merged; an optional tensor's type
	items    []*TensorInfo
	known    bool     // sequence: items lists every element
	inner    *seqInfo // optional of a sequence
}

// typ converts q to a Type.
func (q *seqInfo) typ() *Type {
	elem := UnknownInfo()
	if q.elem != nil {
		elem = q.elem
	}
	if !q.optional {
		return &Type{Kind: KindSequence, Elem: elem.Type()}
	}
	if q.inner != nil {
		return &Type{Kind: KindOptional, Elem: q.inner.typ()}
	}
	return &Type{Kind: KindOptional, Elem: elem.Type()}
}

func seqOf(items []*TensorInfo) *seqInfo {
	q := &seqInfo{items: items, known: true}
	for _, t := range items {
		q.elem = mergeInfo(q.elem, t)
	}
	if q.elem == nil {
		q.elem = UnknownInfo()
	}
	return q
}

func seqOfValue(v *Sequence) *seqInfo {
	items := make([]*TensorInfo, 0, len(v.Items))
	for _, it := range v.Items {
		t, ok := it.(*Tensor)
		if !ok {
			return &seqInfo{elem: UnknownInfo()}
		}
		items = append(items, InfoOf(t))
	}
	q := seqOf(items)
	if len(items) == 0 && v.Elem != nil {
		q.elem = InfoFromType(v.Elem)
	}
	return q
}

func optionalOfValue(v *Optional) *seqInfo {
	q := &seqInfo{optional: true, has: 1}
	switch x := v.Value.(type) {
	case nil:
		q.has = -1
		q.elem = InfoFromType(v.Elem)
		if v.Elem != nil && v.Elem.Kind == KindSequence {
			q.inner = &seqInfo{elem: InfoFromType(v.Elem.Elem)}
		}
	case *Tensor:
		q.elem = InfoOf(x)
	case *Sequence:
		q.inner = seqOfValue(x)
	default:
		q.elem = UnknownInfo()
	}
	return q
}

// mergeInfo is the most that is known of a value that is either a or b
// (nil a: b).
func mergeInfo(a, b *TensorInfo) *TensorInfo {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := &TensorInfo{DType: a.DType}
	if a.DType != b.DType {
		out.DType = Undefined
	}
	if a.UnknownRank || b.UnknownRank || len(a.Shape) != len(b.Shape) {
		out.UnknownRank = true
		return out
	}
	out.Shape = make([]int, len(a.Shape))
	for i := range out.Shape {
		out.Shape[i] = a.Shape[i]
		if a.Shape[i] != b.Shape[i] {
			out.Shape[i] = -1
		}
	}
	return out
}

// seqCtx is a rule's view of a node whose inputs may be sequences.
type seqCtx struct {
	inferCtx
	seqs []*seqInfo
}

func (c *seqCtx) seq(i int) *seqInfo {
	if i < len(c.seqs) && c.seqs[i] != nil {
		return c.seqs[i]
	}
	return nil
}

type seqRule func(c *seqCtx) ([]*TensorInfo, []*seqInfo, error)

var seqRules = map[string]seqRule{
	"SequenceEmpty": func(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
		q := seqOf(nil)
		q.elem = unknownRank(c.dtypeAttr("dtype", Float32))
		return nil, []*seqInfo{q}, nil
	},
	"SequenceConstruct": func(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
		items := make([]*TensorInfo, len(c.in))
		for i := range items {
			items[i] = c.like(i)
		}
		return nil, []*seqInfo{seqOf(items)}, nil
	},
	"SequenceLength": func(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
		return []*TensorInfo{NewInfo(Int64)}, nil, nil
	},
	"SequenceAt":         seqAt,
	"SequenceInsert":     seqInsert,
	"SequenceErase":      seqErase,
	"SplitToSequence":    splitToSequence,
	"ConcatFromSequence": concatFromSequence,
	"Optional":           optionalOp,
	"OptionalHasElement": func(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
		return []*TensorInfo{NewInfo(Bool)}, nil, nil
	},
	"OptionalGetElement": optionalGet,
}

// position returns the position input i gives in a sequence of n items,
// normalized (def when the input is absent), or -1 when it is not known.
// An insert may also name the end (n).
func (c *seqCtx) position(i, n, def int, insert bool) (int, error) {
	p := def
	if c.has(i) {
		v, ok := c.ints(i)
		if !ok || len(v) != 1 {
			return -1, nil
		}
		p = int(v[0])
		if p < 0 {
			p += n
		}
	}
	limit := n
	if insert {
		limit = n + 1
	}
	if p < 0 || p >= limit {
		return 0, c.errorf("position %d out of range for a sequence of %d", p, n)
	}
	return p, nil
}

func seqAt(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	q := c.seq(0)
	if q == nil {
		return nil, nil, nil
	}
	if q.known {
		p, err := c.position(1, len(q.items), 0, false)
		if err != nil {
			return nil, nil, err
		}
		if p >= 0 {
			return []*TensorInfo{q.items[p]}, nil, nil
		}
	}
	return []*TensorInfo{q.elem}, nil, nil
}

func seqInsert(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	q := c.seq(0)
	t := c.like(1)
	if q == nil || !q.known {
		elem := t
		if q != nil {
			elem = mergeInfo(q.elem, t)
		}
		return nil, []*seqInfo{{elem: elem}}, nil
	}
	p, err := c.position(2, len(q.items), len(q.items), true)
	if err != nil {
		return nil, nil, err
	}
	if p < 0 {
		return nil, []*seqInfo{{elem: mergeInfo(q.elem, t)}}, nil
	}
	items := append(append(append([]*TensorInfo{}, q.items[:p]...), t), q.items[p:]...)
	return nil, []*seqInfo{seqOf(items)}, nil
}

func seqErase(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	q := c.seq(0)
	if q == nil || !q.known {
		if q == nil {
			return nil, nil, nil
		}
		return nil, []*seqInfo{{elem: q.elem}}, nil
	}
	p, err := c.position(1, len(q.items), len(q.items)-1, false)
	if err != nil {
		return nil, nil, err
	}
	if p < 0 {
		return nil, []*seqInfo{{elem: q.elem}}, nil
	}
	items := append(append([]*TensorInfo{}, q.items[:p]...), q.items[p+1:]...)
	out := seqOf(items)
	if len(items) == 0 {
		out.elem = q.elem
	}
	return nil, []*seqInfo{out}, nil
}

func splitToSequence(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	dt := c.dtype(0)
	s, known := c.shape(0)
	if !known {
		return nil, []*seqInfo{{elem: unknownRank(dt)}}, nil
	}
	axis, err := c.normAxis(c.attrs.Int("axis", 0), len(s))
	if err != nil {
		return nil, nil, err
	}
	var parts []int
	split, sk := c.ints(1)
	switch {
	case !c.has(1):
		if s[axis] >= 0 && s[axis] <= maxItems {
			parts = make([]int, s[axis])
			for i := range parts {
				parts[i] = 1
			}
		}
	case !sk:
	case c.input(1).Rank() == 0 && len(split) == 1:
		if n := int(split[0]); n > 0 && s[axis] >= 0 && s[axis]/n <= maxItems {
			for left := s[axis]; left > 0; left -= n {
				parts = append(parts, min(n, left))
			}
		}
	default:
		for _, v := range split {
			parts = append(parts, int(v))
		}
	}
	squeeze := !c.has(1) && c.attrs.Int("keepdims", 1) == 0
	item := func(d int) *TensorInfo {
		o := append([]int{}, s...)
		o[axis] = d
		if squeeze {
			o = append(o[:axis], o[axis+1:]...)
		}
		return &TensorInfo{DType: dt, Shape: o}
	}
	if parts == nil {
		return nil, []*seqInfo{{elem: item(-1)}}, nil
	}
	items := make([]*TensorInfo, len(parts))
	for i, d := range parts {
		items[i] = item(d)
	}
	return nil, []*seqInfo{seqOf(items)}, nil
}

func concatFromSequence(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	q := c.seq(0)
	if q == nil {
		return nil, nil, nil
	}
	newAxis := c.attrs.Int("new_axis", 0) != 0
	items := q.items
	if !q.known {
		items = []*TensorInfo{q.elem}
	}
	in := make([]*TensorInfo, len(items))
	for i, t := range items {
		in[i] = t
		if newAxis && !t.UnknownRank {
			ax, err := c.normAxis(c.attrs.Int("axis", 0), len(t.Shape)+1)
			if err != nil {
				return nil, nil, err
			}
			s := append(append(append([]int{}, t.Shape[:ax]...), 1), t.Shape[ax:]...)
			in[i] = &TensorInfo{DType: t.DType, Shape: s}
		}
	}
	if len(in) == 0 {
		return []*TensorInfo{unknownRank(q.elem.DType)}, nil, nil
	}
	cc := &inferCtx{op: c.op, attrs: Attrs{IntAttr("axis", c.attrs.Int("axis", 0))}, in: in, nout: 1}
	outs, err := inferConcat(cc)
	if err != nil || q.known || outs[0].UnknownRank {
		return outs, nil, err
	}
	ax, _ := c.normAxis(c.attrs.Int("axis", 0), len(outs[0].Shape))
	outs[0].Shape[ax] = -1 // a sequence of unknown length
	return outs, nil, nil
}

func optionalOp(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	if !c.has(0) {
		tp := c.attrs.Find("type").TypeProtoOrNil()
		q := &seqInfo{optional: true, has: -1, elem: InfoFromType(tp)}
		if tp != nil && tp.Kind == KindSequence {
			q.inner = &seqInfo{elem: InfoFromType(tp.Elem)}
		}
		return nil, []*seqInfo{q}, nil
	}
	if q := c.seq(0); q != nil {
		return nil, []*seqInfo{{optional: true, has: 1, inner: q}}, nil
	}
	return nil, []*seqInfo{{optional: true, has: 1, elem: c.like(0)}}, nil
}

func optionalGet(c *seqCtx) ([]*TensorInfo, []*seqInfo, error) {
	q := c.seq(0)
	switch {
	case q == nil:
		return c.same(0), nil, nil
	case !q.optional:
		return nil, []*seqInfo{q}, nil
	case q.inner != nil:
		return nil, []*seqInfo{q.inner}, nil
	}
	return []*TensorInfo{q.elem}, nil, nil
}
