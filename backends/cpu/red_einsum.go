package cpu

import (
	"fmt"
	"sort"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Einsum (opset 12): explicit or implicit output, repeated labels (diagonals
// and traces), ellipsis with broadcasting of its dims, any number of
// operands. Operands are contracted left to right, each pair as a batched
// matrix product after labels used nowhere else have been summed out.
// Floats compute in their own type (narrow floats in float32), integers in
// int64.

func init() {
	reg("Einsum", 12, prepEinsum)
}

// redEinsumEq is a parsed equation. Labels are runes; the dims an ellipsis
// stands for get labels redEllBase+j, right-aligned across operands.
type redEinsumEq struct {
	terms    []string // input terms as written (without spaces)
	out      string   // output term, if explicit
	explicit bool
}

const redEllBase = 0x10000

func prepEinsum(s *backends.OpSpec) (kernelFunc, error) {
	for i, dt := range s.InputTypes {
		if !redIsReal(dt) {
			return nil, fmt.Errorf("%w: input %d has dtype %v", errDType, i, dt)
		}
	}
	eq, err := redParseEinsum(s.Attrs.Str("equation", ""), len(s.InputTypes))
	if err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, len(eq.terms)); err != nil {
			return nil, err
		}
		ops, outLabels, err := eq.bind(in)
		if err != nil {
			return nil, err
		}
		y, err := redEinsumRun(in, ops, outLabels)
		if err != nil {
			return nil, err
		}
		return []*ir.Tensor{y}, nil
	}, nil
}

// redParseEinsum splits an equation into terms and checks its characters.
func redParseEinsum(eq string, nIn int) (*redEinsumEq, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	e := &redEinsumEq{}
	lhs := eq
	if i := strings.Index(eq, "->"); i >= 0 {
		lhs, e.out, e.explicit = eq[:i], eq[i+2:], true
	}
	e.terms = strings.Split(lhs, ",")
	if len(e.terms) != nIn {
		return nil, fmt.Errorf("%w: equation %q has %d operands, node has %d inputs", errAttr, eq, len(e.terms), nIn)
	}
	all := append([]string{e.out}, e.terms...)
	for _, t := range all {
		rest := strings.Replace(t, "...", "", 1)
		for _, r := range rest {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return nil, fmt.Errorf("%w: equation %q: bad character %q", errAttr, eq, r)
			}
		}
	}
	if e.explicit {
		seen := map[rune]bool{}
		for _, r := range strings.Replace(e.out, "...", "", 1) {
			if seen[r] {
				return nil, fmt.Errorf("%w: equation %q repeats output label %q", errAttr, eq, r)
			}
			seen[r] = true
		}
	}
	return e, nil
}

// redEinOperand is one input with a label per dim.
type redEinOperand struct {
	labels []rune
	shape  []int
}

// bind expands ellipses for the actual input ranks, checks label sizes and
// works out the output labels.
func (e *redEinsumEq) bind(in []*ir.Tensor) ([]redEinOperand, []rune, error) {
	ops := make([]redEinOperand, len(e.terms))
	ell := 0
	for i, t := range e.terms {
		letters := len(strings.Replace(t, "...", "", 1))
		extra := in[i].Rank() - letters
		if extra < 0 || (extra > 0 && !strings.Contains(t, "...")) {
			return nil, nil, fmt.Errorf("%w: term %q does not fit input %d shape %v", errShape, t, i, in[i].Shape)
		}
		ell = max(ell, extra)
	}
	size := map[rune]int{}
	count := map[rune]int{}
	for i, t := range e.terms {
		extra := in[i].Rank() - len(strings.Replace(t, "...", "", 1))
		labels := redExpandTerm(t, extra, ell)
		for d, l := range labels {
			n := in[i].Shape[d]
			count[l]++
			old, ok := size[l]
			switch {
			case !ok || old == n:
				size[l] = n
			case l >= redEllBase && old == 1:
				size[l] = n
			case l >= redEllBase && n == 1:
			default:
				return nil, nil, fmt.Errorf("%w: label %q is %d in input %d shape %v but %d elsewhere", errShape, l, n, i, in[i].Shape, old)
			}
		}
		ops[i] = redEinOperand{labels: labels, shape: in[i].Shape}
	}
	var out []rune
	if e.explicit {
		out = redExpandTerm(e.out, ell, ell)
		for _, l := range out {
			if _, ok := size[l]; !ok {
				return nil, nil, fmt.Errorf("%w: output label %q appears in no input", errAttr, l)
			}
		}
	} else {
		for j := 0; j < ell; j++ {
			out = append(out, rune(redEllBase+j))
		}
		var once []rune
		for l, c := range count {
			if c == 1 && l < redEllBase {
				once = append(once, l)
			}
		}
		sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
		out = append(out, once...)
	}
	return ops, out, nil
}

// redExpandTerm turns a term into one label per dim; its ellipsis covers
// extra dims, the last extra of the ell ellipsis labels.
func redExpandTerm(t string, extra, ell int) []rune {
	var labels []rune
	before, after, has := strings.Cut(t, "...")
	labels = append(labels, []rune(before)...)
	if has {
		for j := ell - extra; j < ell; j++ {
			labels = append(labels, rune(redEllBase+j))
		}
		labels = append(labels, []rune(after)...)
	}
	return labels
}

// redEinsumRun converts the inputs to a compute type and runs the plan.
func redEinsumRun(in []*ir.Tensor, ops []redEinOperand, out []rune) (*ir.Tensor, error) {
	dt := in[0].DType
	for i, t := range in {
		if t.DType != dt {
			return nil, fmt.Errorf("%w: input %d has dtype %v, input 0 %v", errDType, i, t.DType, dt)
		}
	}
	switch {
	case dt == ir.Float64:
		return redEinsumTyped(in, ops, out, dt, func(t *ir.Tensor) []float64 { return t.Data.([]float64) })
	case dt.IsFloat():
		y, err := redEinsumTyped(in, ops, out, ir.Float32, func(t *ir.Tensor) []float32 { return toFloat32(t).Data.([]float32) })
		if err != nil {
			return nil, err
		}
		return redCastFloat(y, dt)
	}
	y, err := redEinsumTyped(in, ops, out, ir.Int64, redI64)
	if err != nil {
		return nil, err
	}
	return redFromI64(y.Data.([]int64), dt, y.Shape)
}
