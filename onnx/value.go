package onnx

import (
	"fmt"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// DecodeValue parses a serialized value of the kind want names: TensorProto
// (want nil or a tensor type) to *ir.Tensor, SparseTensorProto to
// *ir.SparseTensor, SequenceProto to *ir.Sequence, OptionalProto to
// *ir.Optional, MapProto to *ir.Map. want's element types fill in the types
// of sequences and optionals, which the wire format carries only in part.
func DecodeValue(data []byte, want *ir.Type) (ir.Value, error) {
	kind := ir.KindTensor
	if want != nil {
		kind = want.Kind
	}
	d := &decoder{}
	var (
		v   ir.Value
		err error
	)
	switch kind {
	case ir.KindTensor:
		tp := &pb.TensorProto{}
		if err = unmarshal(data, tp); err == nil {
			v, err = d.tensor(tp)
		}
	case ir.KindSparseTensor:
		sp := &pb.SparseTensorProto{}
		if err = unmarshal(data, sp); err == nil {
			v, err = d.sparse(sp)
		}
	case ir.KindSequence:
		sp := &pb.SequenceProto{}
		if err = unmarshal(data, sp); err == nil {
			v, err = d.sequence(sp, want.Elem)
		}
	case ir.KindOptional:
		op := &pb.OptionalProto{}
		if err = unmarshal(data, op); err == nil {
			v, err = d.optional(op, want.Elem)
		}
	case ir.KindMap:
		mp := &pb.MapProto{}
		if err = unmarshal(data, mp); err == nil {
			v, err = d.mapValue(mp, want.Elem)
		}
	default:
		err = fmt.Errorf("cannot decode a value of type %v", want)
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: decode value: %w", err)
	}
	return v, nil
}

// EncodeValue serializes *ir.Tensor, *ir.SparseTensor, *ir.Sequence,
// *ir.Optional or *ir.Map as the matching message of onnx-data.proto.
func EncodeValue(v ir.Value) ([]byte, error) {
	if t, ok := v.(*ir.Tensor); ok {
		return EncodeTensor(t)
	}
	var (
		data []byte
		err  error
	)
	switch x := v.(type) {
	case *ir.SparseTensor:
		var sp *pb.SparseTensorProto
		if sp, err = sparseToProto(x); err == nil {
			data, err = marshal(sp)
		}
	case *ir.Sequence:
		var sp *pb.SequenceProto
		if sp, err = sequenceToProto(x); err == nil {
			data, err = marshal(sp)
		}
	case *ir.Optional:
		var op *pb.OptionalProto
		if op, err = optionalToProto(x); err == nil {
			data, err = marshal(op)
		}
	case *ir.Map:
		var mp *pb.MapProto
		if mp, err = mapToProto(x); err == nil {
			data, err = marshal(mp)
		}
	default:
		err = fmt.Errorf("cannot encode a value of Go type %T", v)
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: encode value: %w", err)
	}
	return data, nil
}

// Element kinds of SequenceProto and OptionalProto (their DataType enums).
const (
	elemUndefined int32 = iota
	elemTensor
	elemSparseTensor
	elemSequence
	elemMap
	elemOptional
)

var kindOfElem = map[int32]ir.TypeKind{
	elemUndefined: ir.KindUnknown, elemTensor: ir.KindTensor, elemSparseTensor: ir.KindSparseTensor,
	elemSequence: ir.KindSequence, elemMap: ir.KindMap, elemOptional: ir.KindOptional,
}

func elemOfKind(k ir.TypeKind) int32 {
	for e, kk := range kindOfElem {
		if kk == k {
			return e
		}
	}
	return elemUndefined
}

// elemOfValue is the SequenceProto/OptionalProto element kind of a Go value.
func elemOfValue(v ir.Value) int32 {
	switch v.(type) {
	case *ir.Tensor:
		return elemTensor
	case *ir.SparseTensor:
		return elemSparseTensor
	case *ir.Sequence:
		return elemSequence
	case *ir.Map:
		return elemMap
	case *ir.Optional:
		return elemOptional
	}
	return elemUndefined
}

// sequence decodes a SequenceProto; elem is the element type when known.
// An unset elem_type is taken from the one list that has items.
func (d *decoder) sequence(sp *pb.SequenceProto, elem *ir.Type) (*ir.Sequence, error) {
	if sp == nil {
		return nil, fmt.Errorf("missing sequence")
	}
	kind, filled := sp.GetElemType(), inferSeqElem(sp)
	if filled < 0 {
		return nil, fmt.Errorf("sequence %q: holds values of several kinds", sp.GetName())
	}
	if kind == elemUndefined {
		kind = filled
	}
	if filled != elemUndefined && filled != kind {
		return nil, fmt.Errorf("sequence %q: elem_type %d but holds values of kind %d", sp.GetName(), kind, filled)
	}
	k, ok := kindOfElem[kind]
	if !ok {
		return nil, fmt.Errorf("sequence %q: unknown elem_type %d", sp.GetName(), kind)
	}
	s := &ir.Sequence{Elem: elem}
	if s.Elem == nil && k != ir.KindUnknown {
		s.Elem = &ir.Type{Kind: k}
	}
	if elem != nil && k != ir.KindUnknown && elem.Kind != k {
		return nil, fmt.Errorf("sequence %q: holds %v values, want %v", sp.GetName(), k, elem)
	}
	var err error
	add := func(v ir.Value, e error) {
		if err == nil {
			s.Items, err = append(s.Items, v), e
		}
	}
	switch kind {
	case elemTensor:
		for _, tp := range sp.GetTensorValues() {
			add(d.tensor(tp))
		}
	case elemSparseTensor:
		for _, x := range sp.GetSparseTensorValues() {
			add(d.sparse(x))
		}
	case elemSequence:
		for _, x := range sp.GetSequenceValues() {
			add(d.sequence(x, elemOf(elem)))
		}
	case elemMap:
		for _, x := range sp.GetMapValues() {
			add(d.mapValue(x, elemOf(elem)))
		}
	case elemOptional:
		for _, x := range sp.GetOptionalValues() {
			add(d.optional(x, elemOf(elem)))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sequence %q item %d: %w", sp.GetName(), len(s.Items)-1, err)
	}
	if s.Elem != nil && s.Elem.Kind == ir.KindTensor && s.Elem.DType == ir.Undefined && len(s.Items) > 0 && elem == nil {
		s.Elem.DType = s.Items[0].(*ir.Tensor).DType
	}
	return s, nil
}

// inferSeqElem is the kind of the one list of sp that has items (-1 when
// several do).
func inferSeqElem(sp *pb.SequenceProto) int32 {
	kind := elemUndefined
	for k, n := range map[int32]int{
		elemTensor: len(sp.GetTensorValues()), elemSparseTensor: len(sp.GetSparseTensorValues()),
		elemSequence: len(sp.GetSequenceValues()), elemMap: len(sp.GetMapValues()),
		elemOptional: len(sp.GetOptionalValues()),
	} {
		if n > 0 {
			if kind != elemUndefined {
				return -1
			}
			kind = k
		}
	}
	return kind
}

func elemOf(t *ir.Type) *ir.Type {
	if t == nil {
		return nil
	}
	return t.Elem
}

// optional decodes an OptionalProto; a missing value is None, whatever the
// declared elem_type.
func (d *decoder) optional(op *pb.OptionalProto, elem *ir.Type) (*ir.Optional, error) {
	if op == nil {
		return nil, fmt.Errorf("missing optional")
	}
	kind := op.GetElemType()
	if _, ok := kindOfElem[kind]; !ok {
		return nil, fmt.Errorf("optional %q: unknown elem_type %d", op.GetName(), kind)
	}
	o := &ir.Optional{Elem: elem}
	var err error
	switch {
	case op.TensorValue != nil:
		o.Value, err = d.tensor(op.TensorValue)
	case op.SparseTensorValue != nil:
		o.Value, err = d.sparse(op.SparseTensorValue)
	case op.SequenceValue != nil:
		o.Value, err = d.sequence(op.SequenceValue, elemOf(elem))
	case op.MapValue != nil:
		o.Value, err = d.mapValue(op.MapValue, elemOf(elem))
	case op.OptionalValue != nil:
		o.Value, err = d.optional(op.OptionalValue, elemOf(elem))
	}
	if err != nil {
		return nil, fmt.Errorf("optional %q: %w", op.GetName(), err)
	}
	if o.Value != nil {
		if vk := elemOfValue(o.Value); kind == elemUndefined {
			kind = vk
		} else if kind != vk {
			return nil, fmt.Errorf("optional %q: elem_type %d but holds a %T", op.GetName(), kind, o.Value)
		}
	}
	if k := kindOfElem[kind]; elem != nil && k != ir.KindUnknown && elem.Kind != k {
		return nil, fmt.Errorf("optional %q: holds %v values, want %v", op.GetName(), k, elem)
	} else if o.Elem == nil && k != ir.KindUnknown {
		o.Elem = &ir.Type{Kind: k}
	}
	return o, nil
}

func sequenceToProto(s *ir.Sequence) (*pb.SequenceProto, error) {
	kind := elemUndefined
	if s.Elem != nil {
		kind = elemOfKind(s.Elem.Kind)
	} else if len(s.Items) > 0 {
		kind = elemOfValue(s.Items[0])
	}
	sp := &pb.SequenceProto{ElemType: proto32(kind)}
	for i, item := range s.Items {
		if elemOfValue(item) != kind || kind == elemUndefined {
			return nil, fmt.Errorf("sequence item %d is a %T in a sequence of %v", i, item, s.Elem)
		}
		var err error
		switch x := item.(type) {
		case *ir.Tensor:
			var tp *pb.TensorProto
			tp, err = tensorToProto(x)
			sp.TensorValues = append(sp.TensorValues, tp)
		case *ir.SparseTensor:
			var p *pb.SparseTensorProto
			p, err = sparseToProto(x)
			sp.SparseTensorValues = append(sp.SparseTensorValues, p)
		case *ir.Sequence:
			var p *pb.SequenceProto
			p, err = sequenceToProto(x)
			sp.SequenceValues = append(sp.SequenceValues, p)
		case *ir.Map:
			var p *pb.MapProto
			p, err = mapToProto(x)
			sp.MapValues = append(sp.MapValues, p)
		case *ir.Optional:
			var p *pb.OptionalProto
			p, err = optionalToProto(x)
			sp.OptionalValues = append(sp.OptionalValues, p)
		}
		if err != nil {
			return nil, fmt.Errorf("sequence item %d: %w", i, err)
		}
	}
	return sp, nil
}

func optionalToProto(o *ir.Optional) (*pb.OptionalProto, error) {
	op := &pb.OptionalProto{ElemType: proto32(elemUndefined)}
	if o.Elem != nil {
		op.ElemType = proto32(elemOfKind(o.Elem.Kind))
	}
	if o.Value == nil {
		return op, nil
	}
	op.ElemType = proto32(elemOfValue(o.Value))
	var err error
	switch x := o.Value.(type) {
	case *ir.Tensor:
		op.TensorValue, err = tensorToProto(x)
	case *ir.SparseTensor:
		op.SparseTensorValue, err = sparseToProto(x)
	case *ir.Sequence:
		op.SequenceValue, err = sequenceToProto(x)
	case *ir.Map:
		op.MapValue, err = mapToProto(x)
	case *ir.Optional:
		op.OptionalValue, err = optionalToProto(x)
	default:
		err = fmt.Errorf("optional holds a %T", o.Value)
	}
	if err != nil {
		return nil, fmt.Errorf("optional: %w", err)
	}
	return op, nil
}
