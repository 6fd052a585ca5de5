package onnx

import (
	"context"
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

var sequenceOps = map[string]specialFunc{
	"SequenceEmpty":      seqEmpty,
	"SequenceConstruct":  seqConstruct,
	"SequenceInsert":     seqInsert,
	"SequenceAt":         seqAt,
	"SequenceErase":      seqErase,
	"SequenceLength":     seqLength,
	"SplitToSequence":    splitToSequence,
	"ConcatFromSequence": concatFromSequence,
	"Optional":           optionalOp,
	"OptionalHasElement": optionalHas,
	"OptionalGetElement": optionalGet,
	"Identity":           identityOp,
}

func asSeq(v Value, what string) (*Sequence, error) {
	if s, ok := v.(*Sequence); ok {
		return s, nil
	}
	if o, ok := v.(*Optional); ok {
		if s, ok := o.V.(*Sequence); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s must be a sequence, got %s", what, describe(v))
}

func seqEmpty(_ context.Context, _ *Model, np *nodePlan, _ *scope, _ []Value) ([]Value, error) {
	dt := ir.DType(np.n.Attrs.Int("dtype", int64(ir.Float32)))
	return []Value{&Sequence{Elem: &ir.Type{Kind: ir.KindTensor, DType: dt}}}, nil
}

func seqConstruct(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s := &Sequence{}
	for i, v := range in {
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("input %d is %s, want a tensor", i, describe(v))
		}
		if i > 0 && t.DType() != in[0].(*eager.Tensor).DType() {
			return nil, fmt.Errorf("input %d has dtype %v, input 0 has %v", i, t.DType(), in[0].(*eager.Tensor).DType())
		}
		s.Items = append(s.Items, t)
	}
	if len(s.Items) > 0 {
		s.Elem = &ir.Type{Kind: ir.KindTensor, DType: in[0].(*eager.Tensor).DType()}
	}
	return []Value{s}, nil
}

// seqPos resolves an optional position input against length n; insert
// allows n itself.
func seqPos(in []Value, i, n, def int, insert bool) (int, error) {
	if len(in) <= i || in[i] == nil {
		return def, nil
	}
	p64, err := scalarInt(in[i], "position")
	if err != nil {
		return 0, err
	}
	p := int(p64)
	if p < 0 {
		p += n
	}
	hi := n - 1
	if insert {
		hi = n
	}
	if p < 0 || p > hi {
		return 0, fmt.Errorf("position %d out of range for a sequence of %d", p64, n)
	}
	return p, nil
}

func seqInsert(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	p, err := seqPos(in, 2, len(s.Items), len(s.Items), true)
	if err != nil {
		return nil, err
	}
	items := append([]Value{}, s.Items[:p]...)
	items = append(items, in[1])
	items = append(items, s.Items[p:]...)
	return []Value{&Sequence{Elem: s.Elem, Items: items}}, nil
}

func seqAt(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	if len(in) < 2 || in[1] == nil {
		return nil, fmt.Errorf("SequenceAt needs a position")
	}
	p, err := seqPos(in, 1, len(s.Items), 0, false)
	if err != nil {
		return nil, err
	}
	return []Value{s.Items[p]}, nil
}

func seqErase(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("SequenceErase on an empty sequence")
	}
	p, err := seqPos(in, 1, len(s.Items), len(s.Items)-1, false)
	if err != nil {
		return nil, err
	}
	items := append(append([]Value{}, s.Items[:p]...), s.Items[p+1:]...)
	return []Value{&Sequence{Elem: s.Elem, Items: items}}, nil
}

func seqLength(_ context.Context, m *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	t, err := eager.FromHost(m.dev, ir.Scalar(int64(len(s.Items))))
	return []Value{t}, err
}

func splitToSequence(_ context.Context, m *Model, np *nodePlan, _ *scope, in []Value) ([]Value, error) {
	x, ok := in[0].(*eager.Tensor)
	if !ok {
		return nil, fmt.Errorf("input 0 is %s, want a tensor", describe(in[0]))
	}
	axis := int(np.n.Attrs.Int("axis", 0))
	if axis < 0 {
		axis += x.Rank()
	}
	if axis < 0 || axis >= x.Rank() {
		return nil, fmt.Errorf("axis %d out of range for shape %v", np.n.Attrs.Int("axis", 0), x.Shape())
	}
	n := x.Dim(axis)
	out := &Sequence{Elem: &ir.Type{Kind: ir.KindTensor, DType: x.DType()}}
	if len(in) < 2 || in[1] == nil {
		for i := 0; i < n; i++ {
			var part *eager.Tensor
			var err error
			if np.n.Attrs.Int("keepdims", 1) == 0 {
				part, err = index(x, axis, i)
			} else {
				part, err = sliceAxis(x, axis, i, i+1)
			}
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, part)
		}
		return []Value{out}, nil
	}
	st, ok := in[1].(*eager.Tensor)
	if !ok {
		return nil, fmt.Errorf("split must be a tensor")
	}
	sh, err := st.Host()
	if err != nil {
		return nil, err
	}
	sizes, err := sh.Int64s()
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	if sh.Rank() == 0 {
		step := int(sizes[0])
		if step <= 0 {
			return nil, fmt.Errorf("split size %d must be positive", step)
		}
		sizes = nil
		for lo := 0; lo < n; lo += step {
			sizes = append(sizes, int64(min(step, n-lo)))
		}
	}
	lo := 0
	for _, sz := range sizes {
		if sz < 0 || lo+int(sz) > n {
			return nil, fmt.Errorf("split sizes %v do not fit dimension %d of shape %v", sizes, axis, x.Shape())
		}
		part, err := sliceAxis(x, axis, lo, lo+int(sz))
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, part)
		lo += int(sz)
	}
	if lo != n {
		return nil, fmt.Errorf("split sizes %v sum to %d, dimension %d of shape %v is %d", sizes, lo, axis, x.Shape(), n)
	}
	return []Value{out}, nil
}

// sliceAxis takes [lo,hi) along axis.
func sliceAxis(x *eager.Tensor, axis, lo, hi int) (*eager.Tensor, error) {
	starts, err := int64Tensor(x, int64(lo))
	if err != nil {
		return nil, err
	}
	ends, _ := int64Tensor(x, int64(hi))
	axes, _ := int64Tensor(x, int64(axis))
	return call1("Slice", nil, x, starts, ends, axes)
}

func concatFromSequence(_ context.Context, _ *Model, np *nodePlan, _ *scope, in []Value) ([]Value, error) {
	s, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("ConcatFromSequence of an empty sequence")
	}
	ts := make([]*eager.Tensor, len(s.Items))
	for i, v := range s.Items {
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("item %d is %s", i, describe(v))
		}
		ts[i] = t
	}
	axis := int(np.n.Attrs.Int("axis", 0))
	newAxis := np.n.Attrs.Int("new_axis", 0) == 1
	rank := ts[0].Rank()
	if newAxis {
		rank++
	}
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return nil, fmt.Errorf("axis %d out of range for rank %d", np.n.Attrs.Int("axis", 0), rank)
	}
	var t *eager.Tensor
	if newAxis {
		t, err = stack(ts, axis)
	} else {
		t, err = concat(ts, axis)
	}
	return []Value{t}, err
}

func optionalOp(_ context.Context, _ *Model, np *nodePlan, _ *scope, in []Value) ([]Value, error) {
	o := &Optional{Elem: np.n.Attrs.Find("type").TypeProtoOrNil()}
	if len(in) > 0 && in[0] != nil {
		o.V = in[0]
	}
	return []Value{o}, nil
}

func optionalHas(_ context.Context, m *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	has := false
	if len(in) > 0 && in[0] != nil {
		has = true
		if o, ok := in[0].(*Optional); ok {
			has = o.V != nil
		}
	}
	t, err := eager.FromHost(m.dev, ir.Scalar(has))
	return []Value{t}, err
}

func optionalGet(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input is missing")
	}
	if o, ok := in[0].(*Optional); ok {
		if o.V == nil {
			return nil, fmt.Errorf("optional holds no value")
		}
		return []Value{o.V}, nil
	}
	return []Value{in[0]}, nil
}

func identityOp(_ context.Context, _ *Model, _ *nodePlan, _ *scope, in []Value) ([]Value, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input is missing")
	}
	return []Value{in[0]}, nil
}

func runSequenceMap(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error) {
	body := np.subs["body"]
	if body == nil {
		return nil, fmt.Errorf("SequenceMap has no body")
	}
	seq, err := asSeq(in[0], "input 0")
	if err != nil {
		return nil, err
	}
	outs := make([]*Sequence, len(body.g.Outputs))
	for k := range outs {
		outs[k] = &Sequence{Elem: body.g.Outputs[k].Type}
	}
	for i := range seq.Items {
		args := []Value{seq.Items[i]}
		for j, extra := range in[1:] {
			if es, ok := extra.(*Sequence); ok {
				if i >= len(es.Items) {
					return nil, fmt.Errorf("additional input %d has %d items, input sequence %d", j+1, len(es.Items), len(seq.Items))
				}
				args = append(args, es.Items[i])
			} else {
				args = append(args, extra)
			}
		}
		res, err := m.runGraph(ctx, body, s, args, false)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		for k, v := range res {
			outs[k].Items = append(outs[k].Items, v)
		}
	}
	vals := make([]Value, len(outs))
	for k, o := range outs {
		vals[k] = o
	}
	return vals, nil
}
