package onnx

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

func TestValueRoundTrip(t *testing.T) {
	f32 := ir.TensorType(ir.Float32)
	seqF32 := &ir.Type{Kind: ir.KindSequence, Elem: f32}
	tests := []struct {
		name string
		v    ir.Value
		want *ir.Type
	}{
		{"tensor", ir.FromSlice([]int32{1, 2}, 2), nil},
		{"sequence", &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1)), ir.FromSlice([]float32{2, 3}, 2)}}, seqF32},
		{"empty sequence", &ir.Sequence{Elem: f32}, seqF32},
		{"sequence of sequences", &ir.Sequence{Elem: seqF32, Items: []ir.Value{&ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(4))}}}},
			&ir.Type{Kind: ir.KindSequence, Elem: seqF32}},
		{"optional tensor", &ir.Optional{Elem: f32, Value: ir.Scalar(float32(5))}, &ir.Type{Kind: ir.KindOptional, Elem: f32}},
		{"optional none", &ir.Optional{Elem: f32}, &ir.Type{Kind: ir.KindOptional, Elem: f32}},
		{"optional sequence", &ir.Optional{Elem: seqF32, Value: &ir.Sequence{Elem: f32}}, &ir.Type{Kind: ir.KindOptional, Elem: seqF32}},
		{"map int64", &ir.Map{Keys: ir.FromSlice([]int64{3, -1}, 2),
			Values: &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1)), ir.Scalar(float32(2))}}},
			&ir.Type{Kind: ir.KindMap, DType: ir.Int64, Elem: f32}},
		{"map uint8", &ir.Map{Keys: ir.FromSlice([]uint8{255}, 1),
			Values: &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1))}}},
			&ir.Type{Kind: ir.KindMap, DType: ir.Uint8, Elem: f32}},
		{"map string", &ir.Map{Keys: ir.FromSlice([]string{"a"}, 1),
			Values: &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1))}}},
			&ir.Type{Kind: ir.KindMap, DType: ir.String, Elem: f32}},
		{"sequence of maps", &ir.Sequence{Elem: &ir.Type{Kind: ir.KindMap, DType: ir.Int32, Elem: f32}, Items: []ir.Value{
			&ir.Map{Keys: ir.FromSlice([]int32{-7}, 1), Values: &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1))}}}}},
			&ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindMap, DType: ir.Int32, Elem: f32}}},
		{"sequence of optionals", &ir.Sequence{Elem: &ir.Type{Kind: ir.KindOptional, Elem: f32}, Items: []ir.Value{
			&ir.Optional{Elem: f32}, &ir.Optional{Elem: f32, Value: ir.Scalar(float32(2))}}},
			&ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindOptional, Elem: f32}}},
		{"sequence of sparse", &ir.Sequence{Elem: &ir.Type{Kind: ir.KindSparseTensor}, Items: []ir.Value{
			&ir.SparseTensor{Values: ir.FromSlice([]int8{3}, 1), Indices: ir.FromSlice([]int64{0, 1}, 1, 2), Dims: []int{1, 2}}}},
			&ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindSparseTensor}}},
		{"optional optional", &ir.Optional{Elem: &ir.Type{Kind: ir.KindOptional, Elem: f32}, Value: &ir.Optional{Elem: f32, Value: ir.Scalar(float32(3))}},
			&ir.Type{Kind: ir.KindOptional, Elem: &ir.Type{Kind: ir.KindOptional, Elem: f32}}},
		{"sparse", &ir.SparseTensor{Values: ir.FromSlice([]float32{1}, 1), Indices: ir.FromSlice([]int64{5}, 1), Dims: []int{2, 3}},
			&ir.Type{Kind: ir.KindSparseTensor, DType: ir.Float32}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := EncodeValue(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeValue(data, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, tc.v); d != "" {
				t.Fatalf("changed at %s", d)
			}
		})
	}
}

func TestDecodeValueInfersElem(t *testing.T) {
	sp := &pb.SequenceProto{TensorValues: []*pb.TensorProto{{DataType: proto32(7), Int64Data: []int64{9}}}}
	data, _ := proto.Marshal(sp)
	v, err := DecodeValue(data, &ir.Type{Kind: ir.KindSequence})
	if err != nil {
		t.Fatal(err)
	}
	s := v.(*ir.Sequence)
	if s.Elem.Kind != ir.KindTensor || s.Elem.DType != ir.Int64 || s.Items[0].(*ir.Tensor).Data.([]int64)[0] != 9 {
		t.Fatalf("got %+v", s)
	}
}

func TestValueErrors(t *testing.T) {
	enc := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	mapType := &ir.Type{Kind: ir.KindMap, DType: ir.Int8, Elem: ir.TensorType(ir.Float32)}
	oneValue := &pb.SequenceProto{ElemType: proto32(elemTensor), TensorValues: []*pb.TensorProto{{DataType: proto32(1), FloatData: []float32{1}}}}
	tests := []struct {
		name string
		data []byte
		want *ir.Type
		err  string
	}{
		{"key out of range", enc(&pb.MapProto{KeyType: proto32(3), Keys: []int64{300}, Values: oneValue}), mapType, "key 300 at 0 out of range for int8"},
		{"key count", enc(&pb.MapProto{KeyType: proto32(7), Keys: []int64{1, 2}, Values: oneValue}), mapType, "2 keys but 1 values"},
		{"float keys", enc(&pb.MapProto{KeyType: proto32(1), Values: oneValue}), mapType, "key type float32 is not an integer or string type"},
		{"bad elem_type", enc(&pb.SequenceProto{ElemType: proto32(9)}), &ir.Type{Kind: ir.KindSequence}, "unknown elem_type 9"},
		{"wrong elem kind", enc(oneValue), &ir.Type{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindMap}}, "holds"},
		{"bad item", enc(&pb.SequenceProto{ElemType: proto32(elemTensor), TensorValues: []*pb.TensorProto{{DataType: proto32(1), Dims: []int64{2}}}}),
			&ir.Type{Kind: ir.KindSequence}, `sequence "" item 0: tensor "": float32[2]: float_data has 0 values, want 2`},
		{"sparse index", enc(&pb.SparseTensorProto{Dims: []int64{2},
			Values:  &pb.TensorProto{DataType: proto32(1), Dims: []int64{1}, FloatData: []float32{1}},
			Indices: &pb.TensorProto{DataType: proto32(7), Dims: []int64{1}, Int64Data: []int64{2}}}),
			&ir.Type{Kind: ir.KindSparseTensor}, "linear index 2 at 0 out of range for dims [2]"},
		{"kind", nil, &ir.Type{Kind: ir.KindUnknown}, "cannot decode a value of type"},
	}
	for _, tc := range tests {
		if _, err := DecodeValue(tc.data, tc.want); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
	if _, err := EncodeValue(42); err == nil || !strings.Contains(err.Error(), "Go type int") {
		t.Errorf("EncodeValue(42): %v", err)
	}
	bad := &ir.Sequence{Elem: ir.TensorType(ir.Float32), Items: []ir.Value{&ir.Optional{}}}
	if _, err := EncodeValue(bad); err == nil || !strings.Contains(err.Error(), "sequence item 0") {
		t.Errorf("mixed sequence: %v", err)
	}
}
