package ir

//go:generate go run ./internal/genschema -spec ../../shared/onnx-spec/docs -out schemas_gen.go

import (
	"cmp"
	"fmt"
	"slices"
)

// Operator schemas: every version of every operator of the ONNX domains in
// the spec's Changelog, as data. The table itself (schemas_gen.go) is
// generated from docs/Changelog.md by internal/genschema; this file holds the
// types and the lookups.

// ParamOption says how many values a formal input or output takes.
type ParamOption int

const (
	ParamSingle   ParamOption = iota // exactly one
	ParamOptional                    // zero or one (an empty name means absent)
	ParamVariadic                    // MinArity or more; only the last parameter
)

func (o ParamOption) String() string {
	switch o {
	case ParamSingle:
		return "single"
	case ParamOptional:
		return "optional"
	case ParamVariadic:
		return "variadic"
	}
	return fmt.Sprintf("paramoption(%d)", int(o))
}

// DiffTag is a formal parameter's differentiability as the spec states it.
type DiffTag int

const (
	DiffUnknown DiffTag = iota
	Differentiable
	NonDifferentiable
)

func (d DiffTag) String() string {
	switch d {
	case DiffUnknown:
		return "unknown"
	case Differentiable:
		return "differentiable"
	case NonDifferentiable:
		return "non-differentiable"
	}
	return fmt.Sprintf("difftag(%d)", int(d))
}

// Unbounded is MaxInputs or MaxOutputs of an operator whose last parameter
// is variadic.
const Unbounded = 1<<31 - 1

// FormalParam is one declared input or output. TypeStr is a type-constraint
// name ("T") or a concrete type ("tensor(int64)"). Homogeneous (a variadic's
// values all share one type) is true unless the spec says heterogeneous;
// MinArity is the least number of values a variadic takes (1 otherwise).
type FormalParam struct {
	Name, TypeStr string
	Option        ParamOption
	Diff          DiffTag
	Homogeneous   bool
	MinArity      int
}

// AttrSchema is one declared attribute. Default is nil when the attribute is
// required or has no default value in the spec.
type AttrSchema struct {
	Name     string
	Type     AttrType
	Required bool
	Default  *Attr
}

// TypeConstraint binds a type parameter to its allowed types, as written in
// the spec ("tensor(float)", "seq(tensor(int64))", ...).
type TypeConstraint struct {
	Param   string
	Allowed []string
	Doc     string
}

// Schema is one version of one operator. Domain is "" for the default
// ai.onnx domain. A Deprecated schema marks the opset from which the
// operator is gone; the spec omits its signature, so it repeats that of the
// version before (or, with none before, the one after). The lookups return
// shared schemas: treat them, and their slices, as read-only.
type Schema struct {
	Domain, Op string
	Since      int
	Deprecated bool

	Inputs, Outputs []FormalParam
	Attrs           []AttrSchema

	MinInputs, MaxInputs, MinOutputs, MaxOutputs int

	Constraints []TypeConstraint
}

// Name is "Op-Since", with the domain in front when it is not the default.
func (s *Schema) Name() string {
	if s.Domain == "" {
		return fmt.Sprintf("%s-%d", s.Op, s.Since)
	}
	return fmt.Sprintf("%s.%s-%d", s.Domain, s.Op, s.Since)
}

// Attr returns the schema of the attribute named name, or nil.
func (s *Schema) Attr(name string) *AttrSchema {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// Constraint returns the type constraint named param, or nil.
func (s *Schema) Constraint(param string) *TypeConstraint {
	for i := range s.Constraints {
		if s.Constraints[i].Param == param {
			return &s.Constraints[i]
		}
	}
	return nil
}

type schemaKey struct{ domain, op string }

// schemaIndex maps (domain, op) to its versions in ascending order.
var schemaIndex = func() map[schemaKey][]*Schema {
	m := make(map[schemaKey][]*Schema)
	for _, s := range schemaTable {
		k := schemaKey{s.Domain, s.Op}
		m[k] = append(m[k], s)
	}
	for _, v := range m {
		slices.SortFunc(v, func(a, b *Schema) int { return cmp.Compare(a.Since, b.Since) })
	}
	return m
}()

func normDomain(domain string) string {
	if domain == "ai.onnx" {
		return ""
	}
	return domain
}

// LookupSchema returns the newest version of op with Since <= version, the
// one a model importing that opset version of domain uses, or nil. The
// domain "" and "ai.onnx" are the same.
func LookupSchema(domain, op string, version int) *Schema {
	vs := schemaIndex[schemaKey{normDomain(domain), op}]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Since <= version {
			return vs[i]
		}
	}
	return nil
}

// SchemaVersions returns every version of op, oldest first.
func SchemaVersions(domain, op string) []*Schema {
	return slices.Clone(schemaIndex[schemaKey{normDomain(domain), op}])
}

// AllSchemas returns every schema, ordered by domain, op and version.
func AllSchemas() []*Schema {
	out := slices.Clone(schemaTable)
	slices.SortFunc(out, func(a, b *Schema) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Op, b.Op), cmp.Compare(a.Since, b.Since))
	})
	return out
}

// DefaultAttrs returns the attributes that have a default value, set to it.
// The values are copies; changing them leaves the schema alone.
func (s *Schema) DefaultAttrs() Attrs {
	var out Attrs
	for _, a := range s.Attrs {
		if a.Default == nil {
			continue
		}
		d := *a.Default
		d.Ints = slices.Clone(d.Ints)
		d.Floats = slices.Clone(d.Floats)
		d.Strings = slices.Clone(d.Strings)
		out = append(out, d)
	}
	return out
}

// CheckAttrs reports the first attribute of a that the schema does not
// declare, that has the wrong type or that appears twice, or a required
// attribute missing from a.
func (s *Schema) CheckAttrs(a Attrs) error {
	for i, at := range a {
		as := s.Attr(at.Name)
		if as == nil {
			return fmt.Errorf("ir: %s: unknown attribute %q", s.Name(), at.Name)
		}
		if at.Type != as.Type {
			return fmt.Errorf("ir: %s: attribute %q is %v, want %v", s.Name(), at.Name, at.Type, as.Type)
		}
		for _, prev := range a[:i] {
			if prev.Name == at.Name {
				return fmt.Errorf("ir: %s: attribute %q given twice", s.Name(), at.Name)
			}
		}
	}
	for _, as := range s.Attrs {
		if as.Required && !a.Has(as.Name) {
			return fmt.Errorf("ir: %s: missing required attribute %q (%v)", s.Name(), as.Name, as.Type)
		}
	}
	return nil
}
