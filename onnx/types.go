package onnx

import (
	"fmt"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// typeFromProto converts a TypeProto. A missing type is nil; an opaque type
// or one with no alternative set is KindUnknown.
func typeFromProto(tp *pb.TypeProto) (*ir.Type, error) {
	if tp == nil {
		return nil, nil
	}
	t := &ir.Type{Denotation: tp.GetDenotation()}
	var err error
	switch v := tp.GetValue().(type) {
	case *pb.TypeProto_TensorType:
		t.Kind = ir.KindTensor
		t.DType, err = elemDType(v.TensorType.GetElemType())
		if err == nil {
			t.HasShape, t.Shape, err = shapeFromProto(v.TensorType.GetShape())
		}
	case *pb.TypeProto_SparseTensorType:
		t.Kind = ir.KindSparseTensor
		t.DType, err = elemDType(v.SparseTensorType.GetElemType())
		if err == nil {
			t.HasShape, t.Shape, err = shapeFromProto(v.SparseTensorType.GetShape())
		}
	case *pb.TypeProto_SequenceType:
		t.Kind = ir.KindSequence
		t.Elem, err = typeFromProto(v.SequenceType.GetElemType())
	case *pb.TypeProto_OptionalType:
		t.Kind = ir.KindOptional
		t.Elem, err = typeFromProto(v.OptionalType.GetElemType())
	case *pb.TypeProto_MapType:
		t.Kind = ir.KindMap
		t.DType, err = elemDType(v.MapType.GetKeyType())
		if err == nil {
			t.Elem, err = typeFromProto(v.MapType.GetValueType())
		}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func elemDType(v int32) (ir.DType, error) {
	dt := ir.DType(v)
	if dt != ir.Undefined && !dt.Valid() {
		return 0, fmt.Errorf("unknown element type %d", v)
	}
	return dt, nil
}

// shapeFromProto maps dim_value to Value, dim_param to Param, and an unset
// (or negative) dimension to Value -1.
func shapeFromProto(sp *pb.TensorShapeProto) (bool, ir.Shape, error) {
	if sp == nil {
		return false, nil, nil
	}
	s := make(ir.Shape, len(sp.GetDim()))
	for i, d := range sp.GetDim() {
		switch v := d.GetValue().(type) {
		case *pb.TensorShapeProto_Dimension_DimValue:
			s[i].Value = v.DimValue
			if v.DimValue < 0 {
				s[i].Value = -1
			}
		case *pb.TensorShapeProto_Dimension_DimParam:
			s[i].Param = v.DimParam
			s[i].Value = -1
		default:
			s[i].Value = -1
		}
	}
	return true, s, nil
}

// typeToProto is the inverse of typeFromProto.
func typeToProto(t *ir.Type) (*pb.TypeProto, error) {
	if t == nil {
		return nil, nil
	}
	tp := &pb.TypeProto{}
	if t.Denotation != "" {
		tp.Denotation = &t.Denotation
	}
	switch t.Kind {
	case ir.KindTensor:
		tp.Value = &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: proto32(int32(t.DType)), Shape: shapeToProto(t)}}
	case ir.KindSparseTensor:
		tp.Value = &pb.TypeProto_SparseTensorType{SparseTensorType: &pb.TypeProto_SparseTensor{
			ElemType: proto32(int32(t.DType)), Shape: shapeToProto(t)}}
	case ir.KindSequence, ir.KindOptional, ir.KindMap:
		elem, err := typeToProto(t.Elem)
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case ir.KindSequence:
			tp.Value = &pb.TypeProto_SequenceType{SequenceType: &pb.TypeProto_Sequence{ElemType: elem}}
		case ir.KindOptional:
			tp.Value = &pb.TypeProto_OptionalType{OptionalType: &pb.TypeProto_Optional{ElemType: elem}}
		default:
			tp.Value = &pb.TypeProto_MapType{MapType: &pb.TypeProto_Map{
				KeyType: proto32(int32(t.DType)), ValueType: elem}}
		}
	case ir.KindUnknown:
	default:
		return nil, fmt.Errorf("type of unknown kind %d", int(t.Kind))
	}
	return tp, nil
}

func shapeToProto(t *ir.Type) *pb.TensorShapeProto {
	if !t.HasShape {
		return nil
	}
	sp := &pb.TensorShapeProto{Dim: make([]*pb.TensorShapeProto_Dimension, len(t.Shape))}
	for i, d := range t.Shape {
		dim := &pb.TensorShapeProto_Dimension{}
		switch {
		case d.Param != "":
			dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		case d.Value >= 0:
			dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
		}
		sp.Dim[i] = dim
	}
	return sp
}

func valueInfosFromProto(vs []*pb.ValueInfoProto, what string) ([]ir.ValueInfo, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]ir.ValueInfo, len(vs))
	for i, v := range vs {
		t, err := typeFromProto(v.GetType())
		if err != nil {
			return nil, fmt.Errorf("%s %d (%q): %w", what, i, v.GetName(), err)
		}
		out[i] = ir.ValueInfo{Name: v.GetName(), Type: t, Doc: v.GetDocString()}
	}
	return out, nil
}

func valueInfosToProto(vs []ir.ValueInfo, what string) ([]*pb.ValueInfoProto, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]*pb.ValueInfoProto, len(vs))
	for i, v := range vs {
		t, err := typeToProto(v.Type)
		if err != nil {
			return nil, fmt.Errorf("%s %d (%q): %w", what, i, v.Name, err)
		}
		out[i] = &pb.ValueInfoProto{Name: optString(v.Name), Type: t, DocString: optString(v.Doc)}
	}
	return out, nil
}

// optString is nil for "", so empty strings stay off the wire.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
