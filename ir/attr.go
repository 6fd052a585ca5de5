package ir

import "fmt"

// AttrType is AttributeProto.AttributeType.
type AttrType int32

const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrSparseTensor  AttrType = 11
	AttrTypeProto     AttrType = 13
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensors AttrType = 12
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrFloat: "float", AttrInt: "int", AttrString: "string", AttrTensor: "tensor",
	AttrGraph: "graph", AttrSparseTensor: "sparse_tensor", AttrTypeProto: "type_proto",
	AttrFloats: "floats", AttrInts: "ints", AttrStrings: "strings", AttrTensors: "tensors",
	AttrGraphs: "graphs", AttrSparseTensors: "sparse_tensors", AttrTypeProtos: "type_protos",
}

func (a AttrType) String() string {
	if s, ok := attrTypeNames[a]; ok {
		return s
	}
	return fmt.Sprintf("attrtype(%d)", int32(a))
}

// Attr is one node attribute. Only the field matching Type is meaningful.
// RefAttrName, inside a function body, names the caller's attribute to use.
type Attr struct {
	Name        string
	Type        AttrType
	Float       float32
	Int         int64
	String      string
	Tensor      *Tensor
	Sparse      *SparseTensor
	Graph       *Graph
	TypeProto   *Type
	Floats      []float32
	Ints        []int64
	Strings     []string
	Tensors     []*Tensor
	Graphs      []*Graph
	TypeProtos  []*Type
	RefAttrName string
	Doc         string
}

// SparseTensor is a COO sparse tensor: Values holds the non-zeros, Indices
// their positions (shape [NNZ, rank] or linearized [NNZ]).
type SparseTensor struct {
	Values  *Tensor
	Indices *Tensor
	Dims    []int
}

// Attrs is a node's attribute list with typed, defaulted lookups.
type Attrs []Attr

// Find returns the attribute named name, or nil.
func (as Attrs) Find(name string) *Attr {
	for i := range as {
		if as[i].Name == name {
			return &as[i]
		}
	}
	return nil
}

// Has reports whether the attribute is present.
func (as Attrs) Has(name string) bool { return as.Find(name) != nil }

// Int returns an int attribute or def.
func (as Attrs) Int(name string, def int64) int64 {
	if a := as.Find(name); a != nil {
		return a.Int
	}
	return def
}

// Float returns a float attribute or def.
func (as Attrs) Float(name string, def float32) float32 {
	if a := as.Find(name); a != nil {
		return a.Float
	}
	return def
}

// Str returns a string attribute or def.
func (as Attrs) Str(name, def string) string {
	if a := as.Find(name); a != nil {
		return a.String
	}
	return def
}

// Ints returns an ints attribute or def.
func (as Attrs) Ints(name string, def []int64) []int64 {
	if a := as.Find(name); a != nil {
		return a.Ints
	}
	return def
}

// Floats returns a floats attribute or def.
func (as Attrs) Floats(name string, def []float32) []float32 {
	if a := as.Find(name); a != nil {
		return a.Floats
	}
	return def
}

// Strs returns a strings attribute or def.
func (as Attrs) Strs(name string, def []string) []string {
	if a := as.Find(name); a != nil {
		return a.Strings
	}
	return def
}

// TensorAttr returns a tensor attribute or nil.
func (as Attrs) TensorAttr(name string) *Tensor {
	if a := as.Find(name); a != nil {
		return a.Tensor
	}
	return nil
}

// GraphAttr returns a graph attribute or nil.
func (as Attrs) GraphAttr(name string) *Graph {
	if a := as.Find(name); a != nil {
		return a.Graph
	}
	return nil
}

// With returns a copy of as with the attribute set (replacing one of the same name).
func (as Attrs) With(a Attr) Attrs {
	out := make(Attrs, 0, len(as)+1)
	for _, x := range as {
		if x.Name != a.Name {
			out = append(out, x)
		}
	}
	return append(out, a)
}

// IntAttr, FloatAttr, ... build attributes.
func IntAttr(name string, v int64) Attr { return Attr{Name: name, Type: AttrInt, Int: v} }
func FloatAttr(name string, v float32) Attr {
	return Attr{Name: name, Type: AttrFloat, Float: v}
}
func StringAttr(name, v string) Attr { return Attr{Name: name, Type: AttrString, String: v} }
func IntsAttr(name string, v ...int64) Attr {
	return Attr{Name: name, Type: AttrInts, Ints: v}
}
func FloatsAttr(name string, v ...float32) Attr {
	return Attr{Name: name, Type: AttrFloats, Floats: v}
}
func TensorAttr(name string, t *Tensor) Attr {
	return Attr{Name: name, Type: AttrTensor, Tensor: t}
}
func GraphAttr(name string, g *Graph) Attr { return Attr{Name: name, Type: AttrGraph, Graph: g} }

// TypeProtoOrNil returns a type_proto attribute's type, or nil (also for a nil Attr).
func (a *Attr) TypeProtoOrNil() *Type {
	if a == nil {
		return nil
	}
	return a.TypeProto
}
