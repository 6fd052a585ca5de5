package ir

import (
	"fmt"
	"strings"
)

// Dim is one dimension of a declared shape: a known size (Value >= 0),
// a symbol (Param != ""), or unknown (Value < 0 and no Param).
type Dim struct {
	Value int64
	Param string
}

// Known reports whether the dimension has a fixed size.
func (d Dim) Known() bool { return d.Value >= 0 && d.Param == "" }

func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value < 0:
		return "?"
	}
	return fmt.Sprint(d.Value)
}

// Shape is a declared shape; nil with Type.HasShape false means unknown rank.
type Shape []Dim

func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// ConcreteShape makes a Shape of known sizes.
func ConcreteShape(dims ...int) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		s[i] = Dim{Value: int64(d)}
	}
	return s
}

// TypeKind says which of TypeProto's alternatives a Type is.
type TypeKind int

const (
	KindUnknown TypeKind = iota
	KindTensor
	KindSequence
	KindMap
	KindOptional
	KindSparseTensor
)

// Type is a value's type (TypeProto): a tensor with element type and maybe a
// shape, or a sequence/optional of Elem, or a map from Key to Elem.
type Type struct {
	Kind       TypeKind
	DType      DType // tensor and sparse tensor element type; map key type
	HasShape   bool
	Shape      Shape
	Elem       *Type // sequence, optional and map value type
	Denotation string
}

// TensorType builds a tensor type with a known shape.
func TensorType(dt DType, dims ...int) *Type {
	return &Type{Kind: KindTensor, DType: dt, HasShape: true, Shape: ConcreteShape(dims...)}
}

func (t *Type) String() string {
	if t == nil {
		return "?"
	}
	switch t.Kind {
	case KindTensor, KindSparseTensor:
		pre := ""
		if t.Kind == KindSparseTensor {
			pre = "sparse "
		}
		if !t.HasShape {
			return pre + t.DType.String() + "[...]"
		}
		return pre + t.DType.String() + t.Shape.String()
	case KindSequence:
		return "seq(" + t.Elem.String() + ")"
	case KindOptional:
		return "optional(" + t.Elem.String() + ")"
	case KindMap:
		return "map(" + t.DType.String() + "," + t.Elem.String() + ")"
	}
	return "?"
}
