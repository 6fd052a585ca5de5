package cpu

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/keenml/keen/ir"
)

// Cast between strings and numbers. Numbers print as Python's repr would
// (what ONNX's reference produces): shortest round-trip digits, fixed
// notation for decimal exponents in [-4, 16), "inf", "nan", "True".

// ewCastStrings parses strings as numbers of dtype to.
func ewCastStrings(src []string, to ir.DType, sat bool, round string) (any, error) {
	if to == ir.Bool {
		out := make([]bool, len(src))
		for i, s := range src {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				out[i] = true
				continue
			case "false":
				continue
			}
			f, err := ewParseFloat(s, 64)
			if err != nil {
				return nil, err
			}
			out[i] = f != 0
		}
		return out, nil
	}
	if to.IsInt() {
		out := make([]int64, len(src))
		for i, s := range src {
			t := strings.TrimSpace(s)
			if v, err := strconv.ParseInt(t, 10, 64); err == nil {
				out[i] = v
				continue
			}
			if v, err := strconv.ParseUint(t, 10, 64); err == nil {
				out[i] = int64(v)
				continue
			}
			f, err := ewParseFloat(s, 64)
			if err != nil {
				return nil, err
			}
			out[i] = int64(f)
		}
		return ewCastNumeric(out, to, sat, round)
	}
	if to == ir.Float32 {
		out := make([]float32, len(src))
		for i, s := range src {
			f, err := ewParseFloat(s, 32)
			if err != nil {
				return nil, err
			}
			out[i] = float32(f)
		}
		return out, nil
	}
	out := make([]float64, len(src))
	for i, s := range src {
		f, err := ewParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return ewCastNumeric(out, to, sat, round)
}

// ewParseFloat parses a number; "INF", "+INF", "-INF" and "NaN" match in
// any case (strconv already does so).
func ewParseFloat(s string, bits int) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), bits)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, fmt.Errorf("%w: Cast: %q is not a number", errInput, s)
	}
	return f, nil
}

// ewFormatStrings prints t's elements.
func ewFormatStrings(t *ir.Tensor) []string {
	n := t.Len()
	out := make([]string, n)
	switch d := t.Data.(type) {
	case []float64:
		for i, v := range d {
			out[i] = ewPyRepr(v, 64)
		}
	case []bool:
		for i, v := range d {
			out[i] = "False"
			if v {
				out[i] = "True"
			}
		}
	default:
		switch {
		case t.DType.IsFloat():
			f := d
			if t.DType.IsSmallFloat() {
				f = ewDecodeSmall(t)
			}
			for i, v := range f.([]float32) {
				out[i] = ewPyRepr(float64(v), 32)
			}
		case t.DType.IsUnsigned():
			for i, v := range ewConvTo[uint64](d) {
				out[i] = strconv.FormatUint(v, 10)
			}
		default:
			for i, v := range ewConvTo[int64](d) {
				out[i] = strconv.FormatInt(v, 10)
			}
		}
	}
	return out
}

// ewPyRepr formats v with the shortest digits that round-trip at the given
// bit size, in Python's repr layout.
func ewPyRepr(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(v, 'e', -1, bits) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(v, 'f', -1, bits)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
