package ir

// Value is a host value of any ONNX type: *Tensor, *Sequence, *Optional or *Map.
type Value interface{}

// Sequence is an ordered list of values of one type (SequenceProto).
type Sequence struct {
	Elem  *Type // element type when known (needed for an empty sequence)
	Items []Value
}

// Optional holds a value or none (Value nil).
type Optional struct {
	Elem  *Type
	Value Value
}

// Map is a map from integer or string keys to values (MapProto). Keys is a
// 1-D tensor; Values a sequence of the same length.
type Map struct {
	Keys   *Tensor
	Values *Sequence
}
