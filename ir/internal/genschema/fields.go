package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parsing of single <dt> lines: formal parameters, attributes and their
// printed default values, and lists of allowed types.

func parseParam(l string) (param, error) {
	m := reParam.FindStringSubmatch(l)
	if m == nil {
		return param{}, fmt.Errorf("unrecognized parameter %q", l)
	}
	pr := param{name: m[1], typ: m[3], option: "ParamSingle", diff: "DiffUnknown", homogeneous: true, minArity: 1}
	if m[2] == "" {
		return pr, nil
	}
	for _, tag := range strings.Split(m[2], ", ") {
		switch tag {
		case "optional":
			pr.option = "ParamOptional"
		case "variadic":
			pr.option = "ParamVariadic"
		case "heterogeneous":
			pr.homogeneous = false
		case "differentiable":
			pr.diff = "Differentiable"
		case "non-differentiable":
			pr.diff = "NonDifferentiable"
		default:
			return param{}, fmt.Errorf("parameter %q: unknown tag %q", pr.name, tag)
		}
	}
	return pr, nil
}

var attrTypes = map[string]string{
	"int": "AttrInt", "float": "AttrFloat", "string": "AttrString", "tensor": "AttrTensor",
	"graph": "AttrGraph", "sparse_tensor": "AttrSparseTensor", "type_proto": "AttrTypeProto",
	"list of ints": "AttrInts", "list of floats": "AttrFloats", "list of strings": "AttrStrings",
	"list of tensors": "AttrTensors", "list of graphs": "AttrGraphs",
	"list of sparse_tensors": "AttrSparseTensors", "list of type_protos": "AttrTypeProtos",
}

func parseAttr(l string) (attr, error) {
	m := reAttr.FindStringSubmatch(l)
	if m == nil {
		return attr{}, fmt.Errorf("unrecognized attribute %q", l)
	}
	a := attr{name: m[1], typ: attrTypes[m[2]], required: m[3] == "required"}
	if a.typ == "" {
		return attr{}, fmt.Errorf("attribute %q: unknown type %q", a.name, m[2])
	}
	if strings.HasPrefix(m[3], "default is ") {
		v, err := parseDefault(a.typ, m[4])
		if err != nil {
			return attr{}, fmt.Errorf("attribute %q: %w", a.name, err)
		}
		a.hasDef, a.def = true, v
	}
	return a, nil
}

// parseDefault turns the spec's printed default into a typed value. Floats
// are printed with 7 significant digits, so "(3.402823e+38)" stands for the
// largest float32.
func parseDefault(typ, s string) (any, error) {
	if typ != "AttrString" && len(s) > 1 && s[0] == '(' && s[len(s)-1] == ')' {
		s = s[1 : len(s)-1]
	}
	switch typ {
	case "AttrInt":
		return strconv.ParseInt(s, 10, 64)
	case "AttrFloat":
		return parseFloat32(s)
	case "AttrString":
		return s, nil
	case "AttrInts", "AttrFloats", "AttrStrings":
		return parseList(typ, s)
	}
	return nil, fmt.Errorf("no default values for %s", typ)
}

func parseFloat32(s string) (float32, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if a := math.Abs(f); a != math.MaxFloat32 && math.Abs(a-math.MaxFloat32) <= 1e-6*math.MaxFloat32 {
		f = math.Copysign(math.MaxFloat32, f)
	}
	return float32(f), nil
}

// parseList reads a Python-printed list such as "['0', '2', '3']".
func parseList(typ, s string) (any, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("list default %q", s)
	}
	var items []string
	if body := strings.TrimSpace(s[1 : len(s)-1]); body != "" {
		for _, it := range strings.Split(body, ",") {
			it = strings.TrimSpace(it)
			if len(it) >= 2 && (it[0] == '\'' || it[0] == '"') && it[len(it)-1] == it[0] {
				it = it[1 : len(it)-1]
			}
			items = append(items, it)
		}
	}
	switch typ {
	case "AttrInts":
		out := []int64{}
		for _, it := range items {
			v, err := strconv.ParseInt(it, 10, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "AttrFloats":
		out := []float32{}
		for _, it := range items {
			v, err := parseFloat32(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return append([]string{}, items...), nil
}

// splitTypes splits "tensor(float), seq(tensor(int64))" at top-level commas.
func splitTypes(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}
