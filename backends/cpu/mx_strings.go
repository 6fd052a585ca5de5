package cpu

// String ops: StringNormalizer, StringConcat, StringSplit, RegexFullMatch.

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("StringNormalizer", 10, prepStringNormalizer)
	reg("StringConcat", 20, prepStringConcat)
	reg("StringSplit", 20, prepStringSplit)
	reg("RegexFullMatch", 20, prepRegexFullMatch)
}

// mxStrings checks that input i is a string tensor and returns its data.
func mxStrings(op string, in []*ir.Tensor, i int) ([]string, error) {
	if err := needInputs(in, i+1); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s, ok := in[i].Data.([]string)
	if !ok {
		return nil, fmt.Errorf("%s: %w: input %d is %v, want string", op, errDType, i, in[i].DType)
	}
	return s, nil
}

func prepStringNormalizer(s *backends.OpSpec) (kernelFunc, error) {
	action := s.Attrs.Str("case_change_action", "NONE")
	if action != "NONE" && action != "LOWER" && action != "UPPER" {
		return nil, fmt.Errorf("StringNormalizer: %w: case_change_action %q", errAttr, action)
	}
	sensitive := s.Attrs.Int("is_case_sensitive", 0) != 0
	stop := map[string]bool{}
	for _, w := range s.Attrs.Strs("stopwords", nil) {
		if !sensitive {
			w = strings.ToLower(w)
		}
		stop[w] = true
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		xs, err := mxStrings("StringNormalizer", in, 0)
		if err != nil {
			return nil, err
		}
		sh := in[0].Shape
		if !(len(sh) == 1 || len(sh) == 2 && sh[0] == 1) {
			return nil, fmt.Errorf("StringNormalizer: %w: input 0 has shape %v, want [C] or [1, C]", errShape, sh)
		}
		out := []string{}
		for _, x := range xs {
			key := x
			if !sensitive {
				key = strings.ToLower(x)
			}
			if stop[key] {
				continue
			}
			switch action {
			case "LOWER":
				x = strings.ToLower(x)
			case "UPPER":
				x = strings.ToUpper(x)
			}
			out = append(out, x)
		}
		if len(out) == 0 {
			out = []string{""}
		}
		if len(sh) == 2 {
			return one(ir.FromSlice(out, 1, len(out)))
		}
		return one(ir.FromSlice(out, len(out)))
	}, nil
}

func prepStringConcat(s *backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		xs, err := mxStrings("StringConcat", in, 0)
		if err != nil {
			return nil, err
		}
		ys, err := mxStrings("StringConcat", in, 1)
		if err != nil {
			return nil, err
		}
		shape, err := broadcastShapes(in[0].Shape, in[1].Shape)
		if err != nil {
			return nil, fmt.Errorf("StringConcat: %w", err)
		}
		n := ir.Size(shape)
		out := make([]string, n)
		sx, sy := broadcastStrides(in[0].Shape, shape), broadcastStrides(in[1].Shape, shape)
		idx := make([]int, len(shape))
		for i := 0; i < n; i++ {
			px, py := 0, 0
			for k, v := range idx {
				px += v * sx[k]
				py += v * sy[k]
			}
			out[i] = xs[px] + ys[py]
			for k := len(idx) - 1; k >= 0; k-- {
				if idx[k]++; idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		return one(ir.FromSlice(out, shape...))
	}, nil
}

func prepStringSplit(s *backends.OpSpec) (kernelFunc, error) {
	delim := s.Attrs.Str("delimiter", "")
	maxsplit := int(s.Attrs.Int("maxsplit", -1))
	if !s.Attrs.Has("maxsplit") || maxsplit < 0 {
		maxsplit = -1
	}
	if s.NumOutputs != 2 && s.NumOutputs != 1 {
		return nil, fmt.Errorf("StringSplit: %w: %d outputs declared", errAttr, s.NumOutputs)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		xs, err := mxStrings("StringSplit", in, 0)
		if err != nil {
			return nil, err
		}
		parts := make([][]string, len(xs))
		width := 0
		lens := make([]int64, len(xs))
		for i, x := range xs {
			if delim == "" {
				parts[i] = mxSplitSpace(x, maxsplit)
			} else {
				n := -1
				if maxsplit >= 0 {
					n = maxsplit + 1
				}
				parts[i] = strings.SplitN(x, delim, n)
			}
			lens[i] = int64(len(parts[i]))
			width = max(width, len(parts[i]))
		}
		out := make([]string, len(xs)*width)
		for i, p := range parts {
			copy(out[i*width:], p)
		}
		shape := append(append([]int{}, in[0].Shape...), width)
		return []*ir.Tensor{ir.FromSlice(out, shape...), ir.FromSlice(lens, in[0].Shape...)}, nil
	}, nil
}

// mxSplitSpace splits on runs of whitespace like Python's str.split(None,
// maxsplit): no empty fields; the remainder after maxsplit splits keeps its
// inner and trailing whitespace.
func mxSplitSpace(x string, maxsplit int) []string {
	out := []string{}
	rest := strings.TrimLeftFunc(x, unicode.IsSpace)
	for rest != "" {
		if maxsplit >= 0 && len(out) == maxsplit {
			out = append(out, rest)
			break
		}
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:end])
		rest = strings.TrimLeftFunc(rest[end:], unicode.IsSpace)
	}
	return out
}

func prepRegexFullMatch(s *backends.OpSpec) (kernelFunc, error) {
	pat := s.Attrs.Str("pattern", "")
	re, err := regexp.Compile(`^(?:` + pat + `)$`)
	if err != nil {
		return nil, fmt.Errorf("RegexFullMatch: %w: pattern %q: %v", errAttr, pat, err)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		xs, err := mxStrings("RegexFullMatch", in, 0)
		if err != nil {
			return nil, err
		}
		out := make([]bool, len(xs))
		for i, x := range xs {
			out[i] = re.MatchString(x)
		}
		return one(ir.FromSlice(out, in[0].Shape...))
	}, nil
}
