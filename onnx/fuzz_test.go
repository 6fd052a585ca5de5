package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// FuzzDecodeModel feeds arbitrary bytes to DecodeModel: it must return a
// model or an error, never panic; a model it returns must encode, and decode
// again to the same model.
func FuzzDecodeModel(f *testing.F) {
	if data, err := EncodeModel(fullModel()); err == nil {
		f.Add(data)
	}
	huge := nodeModel(&pb.AttributeProto{Name: proto.String("value"), T: &pb.TensorProto{
		DataType: proto32(22), Dims: []int64{1 << 20, 1 << 20}, RawData: []byte{0x12}}})
	for _, mp := range []*pb.ModelProto{externalModel("location", "w.bin"), huge} {
		if data, err := proto.Marshal(mp); err == nil {
			f.Add(data)
		}
	}
	root := findBackendTests() // seeds from the ONNX node tests, when present
	for _, c := range []string{"test_abs", "test_if", "test_loop11", "test_constant", "test_cast_FLOAT_to_INT4",
		"test_sequence_map_identity_1_sequence", "test_optional_has_element_optional_input", "test_sce_mean_expanded"} {
		if root == "" {
			break
		}
		if data, err := os.ReadFile(filepath.Join(root, "node", c, "model.onnx")); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeModel(data)
		if err != nil {
			return
		}
		enc, err := EncodeModel(m)
		if err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		m2, err := DecodeModel(enc)
		if err != nil {
			t.Fatalf("encoded model does not decode: %v", err)
		}
		if d := diff(m, m2); d != "" {
			t.Fatalf("round trip changed the model at %s", d)
		}
	})
}

// FuzzDecodeValue does the same for the values of onnx-data.proto, read as
// each kind in turn.
func FuzzDecodeValue(f *testing.F) {
	f32 := ir.TensorType(ir.Float32)
	for _, v := range []ir.Value{
		ir.FromSlice([]int8{-8, 7}, 2),
		&ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(1))}},
		&ir.Optional{Elem: f32, Value: ir.Scalar(float32(2))},
		&ir.Map{Keys: ir.FromSlice([]string{"k"}, 1), Values: &ir.Sequence{Elem: f32, Items: []ir.Value{ir.Scalar(float32(3))}}},
		&ir.SparseTensor{Values: ir.FromSlice([]float32{1}, 1), Indices: ir.FromSlice([]int64{0, 1}, 1, 2), Dims: []int{2, 2}},
	} {
		if data, err := EncodeValue(v); err == nil {
			f.Add(data)
		}
	}
	kinds := []*ir.Type{nil,
		{Kind: ir.KindSequence}, {Kind: ir.KindOptional}, {Kind: ir.KindSparseTensor},
		{Kind: ir.KindMap, DType: ir.Int64, Elem: f32},
		{Kind: ir.KindSequence, Elem: &ir.Type{Kind: ir.KindSequence, Elem: f32}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, want := range kinds {
			v, err := DecodeValue(data, want)
			if err != nil {
				continue
			}
			enc, err := EncodeValue(v)
			if err != nil {
				t.Fatalf("decoded value (%v) does not encode: %v", want, err)
			}
			v2, err := DecodeValue(enc, want)
			if err != nil {
				t.Fatalf("encoded value (%v) does not decode: %v", want, err)
			}
			if d := diff(v, v2); d != "" {
				t.Fatalf("round trip (%v) changed the value at %s", want, d)
			}
		}
	})
}
