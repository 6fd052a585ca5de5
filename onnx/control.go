package onnx

import (
	"context"
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// specialFunc runs a node the executor handles itself: control flow,
// sequences and optionals, model-local functions and custom ops.
type specialFunc func(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error)

var specials map[string]specialFunc

func init() {
	specials = map[string]specialFunc{
		"If": runIf, "Loop": runLoop, "Scan": runScan, "SequenceMap": runSequenceMap,
	}
	for k, v := range sequenceOps {
		specials[k] = v
	}
}

func runIf(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("If needs a condition input")
	}
	c, err := scalarBool(in[0], "condition")
	if err != nil {
		return nil, err
	}
	branch := "else_branch"
	if c {
		branch = "then_branch"
	}
	g := np.subs[branch]
	if g == nil {
		return nil, fmt.Errorf("If has no %s", branch)
	}
	return m.runGraph(ctx, g, s, nil, false)
}

func runLoop(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error) {
	body := np.subs["body"]
	if body == nil {
		return nil, fmt.Errorf("Loop has no body")
	}
	maxTrip, hasMax := int64(0), false
	if len(in) > 0 && in[0] != nil {
		v, err := scalarInt(in[0], "M (trip count)")
		if err != nil {
			return nil, err
		}
		maxTrip, hasMax = v, true
	}
	cond := true
	if len(in) > 1 && in[1] != nil {
		c, err := scalarBool(in[1], "cond")
		if err != nil {
			return nil, err
		}
		cond = c
	}
	var carried []Value
	if len(in) > 2 {
		carried = append(carried, in[2:]...)
	}
	nScan := len(body.g.Outputs) - 1 - len(carried)
	if nScan < 0 {
		return nil, fmt.Errorf("Loop body has %d outputs for %d loop-carried values", len(body.g.Outputs), len(carried))
	}
	scans := make([][]*eager.Tensor, nScan)
	dev := m.dev
	for i := int64(0); cond && (!hasMax || i < maxTrip); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		iter, err := eager.FromHost(dev, ir.Scalar(i))
		if err != nil {
			return nil, err
		}
		cv, err := eager.FromHost(dev, ir.Scalar(cond))
		if err != nil {
			return nil, err
		}
		outs, err := m.runGraph(ctx, body, s, append([]Value{iter, cv}, carried...), false)
		if err != nil {
			return nil, fmt.Errorf("iteration %d: %w", i, err)
		}
		if cond, err = scalarBool(outs[0], "body condition output"); err != nil {
			return nil, err
		}
		copy(carried, outs[1:1+len(carried)])
		for k := 0; k < nScan; k++ {
			t, ok := outs[1+len(carried)+k].(*eager.Tensor)
			if !ok {
				return nil, fmt.Errorf("scan output %d is %s, want a tensor", k, describe(outs[1+len(carried)+k]))
			}
			scans[k] = append(scans[k], t)
		}
	}
	res := append([]Value{}, carried...)
	for k := 0; k < nScan; k++ {
		v, err := stackOrEmpty(m, scans[k], body.g.Outputs[1+len(carried)+k].Type, 0)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", k, err)
		}
		res = append(res, v)
	}
	return res, nil
}

// stackOrEmpty stacks per-iteration tensors along axis, or makes an empty
// tensor from the declared element type when there were no iterations.
func stackOrEmpty(m *Model, ts []*eager.Tensor, typ *ir.Type, axis int) (*eager.Tensor, error) {
	if len(ts) > 0 {
		return stack(ts, axis)
	}
	dt, shape := ir.Float32, []int{0}
	if typ != nil && typ.Kind == ir.KindTensor {
		dt = typ.DType
		for _, d := range typ.Shape {
			v := 0
			if d.Known() {
				v = int(d.Value)
			}
			shape = append(shape, v)
		}
	}
	h, err := ir.NewTensor(dt, shape...)
	if err != nil {
		return nil, err
	}
	return eager.FromHost(m.dev, h)
}

func runScan(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value) ([]Value, error) {
	body := np.subs["body"]
	if body == nil {
		return nil, fmt.Errorf("Scan has no body")
	}
	a := np.n.Attrs
	nIn := int(a.Int("num_scan_inputs", 0))
	if np.version < 9 {
		return runScan8(ctx, m, np, s, in, body, nIn)
	}
	ts := make([]*eager.Tensor, len(in))
	for i, v := range in {
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("input %d is %s, want a tensor", i, describe(v))
		}
		ts[i] = t
	}
	return scanLoop(ctx, m, body, s, ts, nIn, a)
}

// scanLoop runs the opset-9+ Scan over tensors ts (states, then scan inputs).
func scanLoop(ctx context.Context, m *Model, body *graphPlan, s *scope, ts []*eager.Tensor, nIn int, a ir.Attrs) ([]Value, error) {
	nState := len(ts) - nIn
	if nState < 0 {
		return nil, fmt.Errorf("Scan has %d inputs but num_scan_inputs is %d", len(ts), nIn)
	}
	inAxes := a.Ints("scan_input_axes", nil)
	inDirs := a.Ints("scan_input_directions", nil)
	outAxes := a.Ints("scan_output_axes", nil)
	outDirs := a.Ints("scan_output_directions", nil)
	steps := -1
	axes := make([]int, nIn)
	for j := 0; j < nIn; j++ {
		x := ts[nState+j]
		ax := 0
		if j < len(inAxes) {
			ax = int(inAxes[j])
		}
		if ax < 0 {
			ax += x.Rank()
		}
		if ax < 0 || ax >= x.Rank() {
			return nil, fmt.Errorf("scan input %d: axis %d out of range for shape %v", j, ax, x.Shape())
		}
		axes[j] = ax
		if steps >= 0 && x.Dim(ax) != steps {
			return nil, fmt.Errorf("scan inputs disagree on length: %d vs %d", steps, x.Dim(ax))
		}
		steps = x.Dim(ax)
	}
	if steps < 0 {
		steps = 0
	}
	states := make([]Value, nState)
	for i := range states {
		states[i] = ts[i]
	}
	nOut := len(body.g.Outputs) - nState
	scans := make([][]*eager.Tensor, nOut)
	for t := 0; t < steps; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		args := append([]Value{}, states...)
		for j := 0; j < nIn; j++ {
			pos := t
			if j < len(inDirs) && inDirs[j] == 1 {
				pos = steps - 1 - t
			}
			sl, err := index(ts[nState+j], axes[j], pos)
			if err != nil {
				return nil, err
			}
			args = append(args, sl)
		}
		outs, err := m.runGraph(ctx, body, s, args, false)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		copy(states, outs[:nState])
		for k := 0; k < nOut; k++ {
			o, ok := outs[nState+k].(*eager.Tensor)
			if !ok {
				return nil, fmt.Errorf("scan output %d is %s", k, describe(outs[nState+k]))
			}
			scans[k] = append(scans[k], o)
		}
	}
	res := append([]Value{}, states...)
	for k := 0; k < nOut; k++ {
		seq := scans[k]
		if k < len(outDirs) && outDirs[k] == 1 {
			rev := make([]*eager.Tensor, len(seq))
			for i := range seq {
				rev[i] = seq[len(seq)-1-i]
			}
			seq = rev
		}
		ax := 0
		if k < len(outAxes) {
			ax = int(outAxes[k])
		}
		if ax < 0 && len(seq) > 0 {
			ax += seq[0].Rank() + 1
		}
		v, err := stackOrEmpty(m, seq, body.g.Outputs[nState+k].Type, ax)
		if err != nil {
			return nil, err
		}
		res = append(res, v)
	}
	return res, nil
}

// runScan8 is Scan-8: inputs carry a leading batch axis and an optional
// sequence_lens first input; each batch item is scanned on its own.
func runScan8(ctx context.Context, m *Model, np *nodePlan, s *scope, in []Value, body *graphPlan, nIn int) ([]Value, error) {
	if len(in) > 0 && in[0] != nil {
		return nil, fmt.Errorf("Scan-8 with sequence_lens is not supported")
	}
	ts := make([]*eager.Tensor, len(in)-1)
	for i, v := range in[1:] {
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("input %d is %s", i+1, describe(v))
		}
		ts[i] = t
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("Scan-8 has no inputs")
	}
	batch := ts[0].Dim(0)
	a := ir.Attrs{ir.IntsAttr("scan_input_directions", np.n.Attrs.Ints("directions", nil)...)}
	var per [][]Value
	for b := 0; b < batch; b++ {
		item := make([]*eager.Tensor, len(ts))
		for i, t := range ts {
			var err error
			if item[i], err = index(t, 0, b); err != nil {
				return nil, err
			}
		}
		outs, err := scanLoop(ctx, m, body, s, item, nIn, a)
		if err != nil {
			return nil, fmt.Errorf("batch %d: %w", b, err)
		}
		per = append(per, outs)
	}
	res := make([]Value, len(per[0]))
	for k := range res {
		col := make([]*eager.Tensor, batch)
		for b := range per {
			col[b] = per[b][k].(*eager.Tensor)
		}
		v, err := stack(col, 0)
		if err != nil {
			return nil, err
		}
		res[k] = v
	}
	return res, nil
}
