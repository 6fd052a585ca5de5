package plugins

import (
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// inferDTypes guesses a kernel's output dtypes from the op's schema so that
// DType of a queued output needs no round trip: an output shares the dtype
// of an input with the same type parameter, or its parameter allows one
// type only, or a dtype attribute ("to", "dtype", "output_dtype") names it.
// Undefined marks an output left to the plugin's answer. The guess is
// checked when the answer comes: a wrong one is an error, never a silent
// change of dtype.
func inferDTypes(s *backends.OpSpec) []ir.DType {
	out := make([]ir.DType, s.NumOutputs)
	sch := ir.LookupSchema(s.Domain, s.Op, s.Version)
	if sch == nil {
		return out
	}
	for j := range out {
		fp := formal(sch.Outputs, j)
		if fp == nil {
			continue
		}
		out[j] = resolveType(s, sch, fp.TypeStr)
	}
	if s.Op == "CastLike" && ir.NormDomain(s.Domain) == "" && len(s.InputTypes) > 1 && len(out) > 0 {
		out[0] = s.InputTypes[1]
	}
	return out
}

// formal is the formal parameter that takes actual position i.
func formal(ps []ir.FormalParam, i int) *ir.FormalParam {
	if i < len(ps) {
		return &ps[i]
	}
	if n := len(ps); n > 0 && ps[n-1].Option == ir.ParamVariadic {
		return &ps[n-1]
	}
	return nil
}

func resolveType(s *backends.OpSpec, sch *ir.Schema, ts string) ir.DType {
	for i, dt := range s.InputTypes {
		if fp := formal(sch.Inputs, i); dt != ir.Undefined && fp != nil && fp.TypeStr == ts {
			return dt
		}
	}
	allowed := []string{ts}
	if tc := sch.Constraint(ts); tc != nil {
		allowed = tc.Allowed
	}
	if len(allowed) == 1 {
		return specType(allowed[0])
	}
	for _, name := range []string{"to", "dtype", "output_dtype"} {
		if a := s.Attrs.Find(name); a != nil && a.Type == ir.AttrInt && a.Int != 0 {
			if dt := ir.DType(a.Int); dt.Valid() && allows(allowed, dt) {
				return dt
			}
		}
	}
	return ir.Undefined
}

// specType maps a spec type string ("tensor(float)") to a dtype.
func specType(s string) ir.DType {
	name, ok := strings.CutPrefix(s, "tensor(")
	if !ok {
		return ir.Undefined
	}
	name = strings.TrimSuffix(name, ")")
	switch name {
	case "float":
		return ir.Float32
	case "double":
		return ir.Float64
	}
	dt, _ := ir.ParseDType(name)
	return dt
}

func allows(allowed []string, dt ir.DType) bool {
	for _, a := range allowed {
		if specType(a) == dt {
			return true
		}
	}
	return false
}
