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
	sizes := map[byte]int{}
	count := map[byte]int{}
	var ell []int
	for i, term := range terms {
		s, known := c.shape(i)
		if !known {
			return []*TensorInfo{unknownRank(dt)}, nil
		}
		before, after, hasEll := strings.Cut(term, "...")
		nl := len(before) + len(after)
		if (!hasEll && nl != len(s)) || (hasEll && nl > len(s)) {
			return nil, c.errorf("term %q does not match input %d %s", term, i, shapeString(s))
		}
		ne := len(s) - nl
		dims := s
		if hasEll {
			b, err := Broadcast(ell, s[len(before):len(before)+ne])
			if err != nil {
				return nil, c.errorf("ellipsis dims of input %d %s do not broadcast with %s", i, shapeString(s), shapeString(ell))
			}
			ell = b
			dims = append(append([]int{}, s[:len(before)]...), s[len(before)+ne:]...)
		}
		labels := before + after
		for k := range len(labels) {
			l := labels[k]
			count[l]++
			d, seen := sizes[l]
			switch {
			case !seen || d < 0 || d == 1 && dims[k] != 1:
				sizes[l] = dims[k]
			case dims[k] >= 0 && dims[k] != 1 && d != dims[k]:
				return nil, c.errorf("label %q is %d in input %d %s and %d before", l, dims[k], i, shapeString(s), d)
			}
		}
	}
	if !explicit {
		var once []byte
		for l, n := range count {
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
			out = append(out, ell...)
			k += 2
			continue
		}
		d, ok := sizes[rhs[k]]
		if !ok {
			return nil, c.errorf("output label %q of %q is in no input", rhs[k], eq)
		}
		out = append(out, d)
	}
	return []*TensorInfo{{DType: dt, Shape: out}}, nil
}
