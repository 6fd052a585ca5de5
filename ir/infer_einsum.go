package ir

import (
	"sort"
	"strings"
)

// Inference rule of Einsum: parse the equation, bind each label to a size
// (labels must agree; "..." dims broadcast) and lay out the output.

func init() {
	addInferRules("", map[string]inferFunc{"Einsum": inferEinsum})
}

func inferEinsum(c *inferCtx) ([]*TensorInfo, error) {
	dt := c.dtype(0)
	eq := strings.ReplaceAll(c.attrs.Str("equation", ""), " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(c.in) {
		return nil, c.errorf("equation %q has %d operands for %d inputs", eq, len(terms), len(c.in))
	}
	e := &einsumLabels{sizes: map[byte]int{}, count: map[byte]int{}}
	for i, term := range terms {
		s, known := c.shape(i)
		if !known {
			return []*TensorInfo{unknownRank(dt)}, nil
		}
		if err := e.bind(c, i, term, s); err != nil {
			return nil, err
		}
	}
	if !explicit {
		var once []byte
		for l, n := range e.count {
			if n == 1 {
				once = append(once, l)
			}
		}
		sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
		rhs = "..." + string(once)
	}
	var out []int
	for k := 0; k < len(rhs); k++ {
		if strings.HasPrefix(rhs[k:], "...") {
			out = append(out, e.ell...)
			k += 2
			continue
		}
		d, ok := e.sizes[rhs[k]]
		if !ok {
			return nil, c.errorf("output label %q of %q is in no input", rhs[k], eq)
		}
		out = append(out, d)
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}

// einsumLabels binds labels to sizes as the operands are read.
type einsumLabels struct {
	sizes map[byte]int
	count map[byte]int
	ell   []int // the broadcast dims of "..."
}

// bind reads operand i (term, shape s).
func (e *einsumLabels) bind(c *inferCtx, i int, term string, s []int) error {
	before, after, hasEll := strings.Cut(term, "...")
	nl := len(before) + len(after)
	if (!hasEll && nl != len(s)) || (hasEll && nl > len(s)) {
		return c.errorf("term %q does not match input %d %s", term, i, shapeString(s))
	}
	dims := s
	if hasEll {
		ne := len(s) - nl
		b, err := Broadcast(e.ell, s[len(before):len(before)+ne])
		if err != nil {
			return c.errorf("ellipsis dims of input %d %s do not broadcast with %s", i, shapeString(s), shapeString(e.ell))
		}
		e.ell = b
		dims = append(append([]int{}, s[:len(before)]...), s[len(before)+ne:]...)
	}
	labels := before + after
	for k := range len(labels) {
		l := labels[k]
		e.count[l]++
		d, seen := e.sizes[l]
		switch {
		case !seen || d < 0 || d == 1 && dims[k] != 1:
			e.sizes[l] = dims[k]
		case dims[k] >= 0 && dims[k] != 1 && d != dims[k]:
			return c.errorf("label %q is %d in input %d %s and %d before", l, dims[k], i, shapeString(s), d)
		}
	}
	return nil
}
