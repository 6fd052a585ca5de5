package onnx

import (
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

func tensorProto(dt ir.DType, dims ...int64) *pb.TensorProto {
	return &pb.TensorProto{Name: proto.String("x"), DataType: proto32(int32(dt)), Dims: dims}
}

func decodeTP(t *testing.T, tp *pb.TensorProto) (*ir.Tensor, error) {
	t.Helper()
	data, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	return DecodeTensor(data)
}

func TestDecodeTensorFields(t *testing.T) {
	with := func(tp *pb.TensorProto, f func(*pb.TensorProto)) *pb.TensorProto { f(tp); return tp }
	tests := []struct {
		name string
		tp   *pb.TensorProto
		want any
	}{
		{"float_data", with(tensorProto(ir.Float32, 2), func(p *pb.TensorProto) { p.FloatData = []float32{1.5, -2} }), []float32{1.5, -2}},
		{"scalar", with(tensorProto(ir.Float32), func(p *pb.TensorProto) { p.FloatData = []float32{3} }), []float32{3}},
		{"empty", tensorProto(ir.Float32, 2, 0), []float32{}},
		{"complex64 pairs", with(tensorProto(ir.Complex64, 2), func(p *pb.TensorProto) { p.FloatData = []float32{1, 2, 3, 4} }), []complex64{1 + 2i, 3 + 4i}},
		{"double_data", with(tensorProto(ir.Float64, 1), func(p *pb.TensorProto) { p.DoubleData = []float64{0.1} }), []float64{0.1}},
		{"complex128 pairs", with(tensorProto(ir.Complex128, 1), func(p *pb.TensorProto) { p.DoubleData = []float64{-1, 0.5} }), []complex128{-1 + 0.5i}},
		{"int64_data", with(tensorProto(ir.Int64, 2), func(p *pb.TensorProto) { p.Int64Data = []int64{-1 << 62, 7} }), []int64{-1 << 62, 7}},
		{"uint32 in uint64_data", with(tensorProto(ir.Uint32, 1), func(p *pb.TensorProto) { p.Uint64Data = []uint64{math.MaxUint32} }), []uint32{math.MaxUint32}},
		{"uint64_data", with(tensorProto(ir.Uint64, 1), func(p *pb.TensorProto) { p.Uint64Data = []uint64{1 << 63} }), []uint64{1 << 63}},
		{"int32_data", with(tensorProto(ir.Int32, 2), func(p *pb.TensorProto) { p.Int32Data = []int32{-5, math.MaxInt32} }), []int32{-5, math.MaxInt32}},
		{"int16 in int32_data", with(tensorProto(ir.Int16, 1), func(p *pb.TensorProto) { p.Int32Data = []int32{-3} }), []int16{-3}},
		{"int8 in int32_data", with(tensorProto(ir.Int8, 2), func(p *pb.TensorProto) { p.Int32Data = []int32{-128, 127} }), []int8{-128, 127}},
		{"uint8 in int32_data", with(tensorProto(ir.Uint8, 1), func(p *pb.TensorProto) { p.Int32Data = []int32{255} }), []uint8{255}},
		{"uint16 in int32_data", with(tensorProto(ir.Uint16, 1), func(p *pb.TensorProto) { p.Int32Data = []int32{65535} }), []uint16{65535}},
		{"bool in int32_data", with(tensorProto(ir.Bool, 3), func(p *pb.TensorProto) { p.Int32Data = []int32{0, 1, 1} }), []bool{false, true, true}},
		{"float16 bits", with(tensorProto(ir.Float16, 2), func(p *pb.TensorProto) { p.Int32Data = []int32{0x3c00, 0xc000} }), []uint16{0x3c00, 0xc000}},
		{"bfloat16 bits", with(tensorProto(ir.BFloat16, 1), func(p *pb.TensorProto) { p.Int32Data = []int32{0x3f80} }), []uint16{0x3f80}},
		// e4m3fn: 0x38 = 1.0, 0x7e = 448, 0xb8 = -1.0
		{"float8e4m3fn bits", with(tensorProto(ir.Float8E4M3FN, 3), func(p *pb.TensorProto) { p.Int32Data = []int32{0x38, 0x7e, 0xb8} }), []uint8{0x38, 0x7e, 0xb8}},
		{"float8e5m2 raw", with(tensorProto(ir.Float8E5M2, 2), func(p *pb.TensorProto) { p.RawData = []byte{0x3c, 0xfb} }), []uint8{0x3c, 0xfb}},
		{"float8e8m0 bits", with(tensorProto(ir.Float8E8M0, 1), func(p *pb.TensorProto) { p.Int32Data = []int32{127} }), []uint8{127}},
		// int4 [7, -8, -1]: bytes 0x87 (7 low, -8 high), 0x0f
		{"int4 in int32_data", with(tensorProto(ir.Int4, 3), func(p *pb.TensorProto) { p.Int32Data = []int32{0x87, 0x0f} }), []int8{7, -8, -1}},
		{"int4 raw", with(tensorProto(ir.Int4, 4), func(p *pb.TensorProto) { p.RawData = []byte{0x98, 0x21} }), []int8{-8, -7, 1, 2}},
		{"uint4 raw", with(tensorProto(ir.Uint4, 2), func(p *pb.TensorProto) { p.RawData = []byte{0xa5} }), []uint8{5, 10}},
		{"float4e2m1 raw", with(tensorProto(ir.Float4E2M1, 3), func(p *pb.TensorProto) { p.RawData = []byte{0x21, 0x0f} }), []uint8{1, 2, 15}},
		// int2 [1, -2, -1, 0, 1]: codes 1, 2, 3, 0 -> 0b00111001, then 1
		{"int2 raw", with(tensorProto(ir.Int2, 5), func(p *pb.TensorProto) { p.RawData = []byte{0x39, 0x01} }), []int8{1, -2, -1, 0, 1}},
		{"uint2 in int32_data", with(tensorProto(ir.Uint2, 4), func(p *pb.TensorProto) { p.Int32Data = []int32{0xe4} }), []uint8{0, 1, 2, 3}},
		{"string_data", with(tensorProto(ir.String, 2), func(p *pb.TensorProto) { p.StringData = [][]byte{[]byte("a"), []byte("héllo")} }), []string{"a", "héllo"}},
		{"float raw", with(tensorProto(ir.Float32, 2), func(p *pb.TensorProto) { p.RawData = []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0} }), []float32{1, -2}},
		{"int16 raw", with(tensorProto(ir.Int16, 1), func(p *pb.TensorProto) { p.RawData = []byte{0xfe, 0xff} }), []int16{-2}},
		{"uint32 raw", with(tensorProto(ir.Uint32, 1), func(p *pb.TensorProto) { p.RawData = []byte{1, 0, 0, 0x80} }), []uint32{0x80000001}},
		{"bool raw", with(tensorProto(ir.Bool, 2), func(p *pb.TensorProto) { p.RawData = []byte{1, 0} }), []bool{true, false}},
		{"complex64 raw", with(tensorProto(ir.Complex64, 1), func(p *pb.TensorProto) { p.RawData = []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40} }), []complex64{1 + 2i}},
		{"float64 raw", with(tensorProto(ir.Float64, 1), func(p *pb.TensorProto) { p.RawData = []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f} }), []float64{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeTP(t, tc.tp)
			if err != nil {
				t.Fatal(err)
			}
			if !same(got.Data, tc.want) {
				t.Fatalf("got %v (%T), want %v", got.Data, got.Data, tc.want)
			}
			if got.Name != "x" || got.DType != ir.DType(tc.tp.GetDataType()) || len(got.Shape) != len(tc.tp.Dims) {
				t.Fatalf("got %q %v%v", got.Name, got.DType, got.Shape)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDecodeTensorErrors(t *testing.T) {
	with := func(tp *pb.TensorProto, f func(*pb.TensorProto)) *pb.TensorProto { f(tp); return tp }
	tests := []struct {
		name string
		tp   *pb.TensorProto
		want string
		is   error
	}{
		{"too few values", with(tensorProto(ir.Float32, 2, 3), func(p *pb.TensorProto) { p.FloatData = make([]float32, 5) }), `tensor "x": float32[2 3]: float_data has 5 values, want 6`, nil},
		{"no data", tensorProto(ir.Int64, 4), "int64_data has 0 values, want 4", nil},
		{"negative dim", tensorProto(ir.Float32, 2, -1), "negative dimension -1", nil},
		{"huge dims", tensorProto(ir.Float32, 1<<40, 1<<40), "", ir.ErrTooLarge},
		{"max dims", tensorProto(ir.Float32, math.MaxInt64, 2), "", ir.ErrTooLarge},
		{"unknown dtype", tensorProto(99, 1), `tensor "x": unknown data type 99`, nil},
		{"undefined dtype", tensorProto(ir.Undefined, 1), "unknown data type 0", nil},
		{"raw too short", with(tensorProto(ir.Float32, 2), func(p *pb.TensorProto) { p.RawData = make([]byte, 7) }), "raw data has 7 bytes, 2 elements need 8", nil},
		{"int4 raw too long", with(tensorProto(ir.Int4, 3), func(p *pb.TensorProto) { p.RawData = make([]byte, 3) }), "raw data has 3 bytes, 3 elements need 2", nil},
		{"string raw", with(tensorProto(ir.String, 1), func(p *pb.TensorProto) { p.RawData = []byte("a") }), "string tensors cannot use raw_data", nil},
		{"segment", with(tensorProto(ir.Float32, 1), func(p *pb.TensorProto) { p.Segment = &pb.TensorProto_Segment{} }), "segmented", nil},
		{"external", with(tensorProto(ir.Float32, 1), func(p *pb.TensorProto) {
			p.DataLocation = pb.TensorProto_EXTERNAL.Enum()
		}), "", ErrExternalData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeTP(t, tc.tp)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %q does not wrap %v", err, tc.is)
			}
		})
	}
	if _, err := DecodeTensor([]byte{0xff, 0xff}); err == nil || !strings.Contains(err.Error(), "malformed protobuf") {
		t.Fatalf("garbage: %v", err)
	}
}

// sampleTensors has one tensor of every dtype, with edge values.
func sampleTensors() []*ir.Tensor {
	nan := float32(math.NaN())
	return []*ir.Tensor{
		{Name: "f32", DType: ir.Float32, Shape: []int{2, 2}, Data: []float32{1, -0.5, nan, float32(math.Inf(-1))}},
		{Name: "f64", DType: ir.Float64, Shape: []int{1}, Data: []float64{math.Pi}},
		{Name: "i8", DType: ir.Int8, Shape: []int{2}, Data: []int8{-128, 127}},
		{Name: "i16", DType: ir.Int16, Shape: []int{1}, Data: []int16{-300}},
		{Name: "i32", DType: ir.Int32, Shape: []int{1}, Data: []int32{math.MinInt32}},
		{Name: "i64", DType: ir.Int64, Shape: []int{}, Data: []int64{math.MinInt64}},
		{Name: "u8", DType: ir.Uint8, Shape: []int{1}, Data: []uint8{200}},
		{Name: "u16", DType: ir.Uint16, Shape: []int{1}, Data: []uint16{60000}},
		{Name: "u32", DType: ir.Uint32, Shape: []int{1}, Data: []uint32{4e9}},
		{Name: "u64", DType: ir.Uint64, Shape: []int{1}, Data: []uint64{1<<64 - 1}},
		{Name: "b", DType: ir.Bool, Shape: []int{3}, Data: []bool{true, false, true}},
		{Name: "s", DType: ir.String, Shape: []int{2}, Data: []string{"", "x y"}},
		{Name: "c64", DType: ir.Complex64, Shape: []int{1}, Data: []complex64{1 - 2i}},
		{Name: "c128", DType: ir.Complex128, Shape: []int{1}, Data: []complex128{-3 + 4i}},
		{Name: "f16", DType: ir.Float16, Shape: []int{1}, Data: []uint16{0x3c00}},
		{Name: "bf16", DType: ir.BFloat16, Shape: []int{1}, Data: []uint16{0xbf80}},
		{Name: "e4m3fn", DType: ir.Float8E4M3FN, Shape: []int{1}, Data: []uint8{0x7f}},
		{Name: "e4m3fnuz", DType: ir.Float8E4M3FNUZ, Shape: []int{1}, Data: []uint8{0x80}},
		{Name: "e5m2", DType: ir.Float8E5M2, Shape: []int{1}, Data: []uint8{0x7c}},
		{Name: "e5m2fnuz", DType: ir.Float8E5M2FNUZ, Shape: []int{1}, Data: []uint8{0x01}},
		{Name: "e8m0", DType: ir.Float8E8M0, Shape: []int{1}, Data: []uint8{0xff}},
		{Name: "i4", DType: ir.Int4, Shape: []int{3}, Data: []int8{-8, 7, -1}},
		{Name: "u4", DType: ir.Uint4, Shape: []int{3}, Data: []uint8{0, 15, 9}},
		{Name: "f4", DType: ir.Float4E2M1, Shape: []int{2}, Data: []uint8{0xf, 0x1}},
		{Name: "i2", DType: ir.Int2, Shape: []int{5}, Data: []int8{-2, -1, 0, 1, -2}},
		{Name: "u2", DType: ir.Uint2, Shape: []int{2, 3}, Data: []uint8{0, 1, 2, 3, 3, 0}},
		{Name: "empty", DType: ir.Float32, Shape: []int{0, 4}, Data: []float32{}},
	}
}

func TestTensorRoundTrip(t *testing.T) {
	for _, x := range sampleTensors() {
		data, err := EncodeTensor(x)
		if err != nil {
			t.Fatalf("%s: %v", x.Name, err)
		}
		got, err := DecodeTensor(data)
		if err != nil {
			t.Fatalf("%s: %v", x.Name, err)
		}
		if !same(got, x) {
			t.Errorf("%s: got %v, want %v", x.Name, got, x)
		}
	}
}

func TestEncodeTensorPacking(t *testing.T) {
	tests := []struct {
		t   *ir.Tensor
		raw []byte
	}{
		{&ir.Tensor{DType: ir.Int4, Shape: []int{3}, Data: []int8{7, -8, -1}}, []byte{0x87, 0x0f}},
		{&ir.Tensor{DType: ir.Uint4, Shape: []int{2}, Data: []uint8{5, 10}}, []byte{0xa5}},
		{&ir.Tensor{DType: ir.Int2, Shape: []int{5}, Data: []int8{1, -2, -1, 0, 1}}, []byte{0x39, 0x01}},
		{&ir.Tensor{DType: ir.Float16, Shape: []int{1}, Data: []uint16{0x3c00}}, []byte{0x00, 0x3c}},
		{&ir.Tensor{DType: ir.Bool, Shape: []int{2}, Data: []bool{true, false}}, []byte{1, 0}},
	}
	for _, tc := range tests {
		tp, err := tensorToProto(tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if string(tp.RawData) != string(tc.raw) {
			t.Errorf("%v: raw % x, want % x", tc.t, tp.RawData, tc.raw)
		}
	}
	bad := []*ir.Tensor{
		{Name: "a", DType: ir.Int4, Shape: []int{1}, Data: []int8{8}},
		{Name: "b", DType: ir.Uint2, Shape: []int{1}, Data: []uint8{4}},
		{Name: "c", DType: ir.Float32, Shape: []int{3}, Data: []float32{1}},
		{Name: "d", DType: ir.Float32, Shape: []int{1}, Data: []int32{1}},
	}
	for _, x := range bad {
		if _, err := EncodeTensor(x); err == nil || !strings.Contains(err.Error(), `tensor "`+x.Name+`"`) {
			t.Errorf("%s: error %v", x.Name, err)
		}
	}
}

// TestBackendSmallTypes checks int4/int2 unpacking and float8 bits on the
// ONNX Cast tests, whose input and output hold the same values.
func TestBackendSmallTypes(t *testing.T) {
	root := backendTests(t)
	read := func(c, f string) *ir.Tensor {
		x, err := ReadTensor(root + "/node/" + c + "/test_data_set_0/" + f)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []string{"test_cast_INT4_to_INT8", "test_cast_UINT4_to_UINT8", "test_cast_INT2_to_INT8", "test_cast_UINT2_to_UINT8"} {
		in, out := read(c, "input_0.pb"), read(c, "output_0.pb")
		if in.Len() != out.Len() || in.Len() == 0 {
			t.Fatalf("%s: %v vs %v", c, in, out)
		}
		for i := 0; i < in.Len(); i++ {
			if in.Float64At(i) != out.Float64At(i) {
				t.Errorf("%s: element %d: %v, want %v", c, i, in.Float64At(i), out.Float64At(i))
			}
		}
	}
	// e5m2 is the top byte of a float16.
	in, out := read("test_cast_FLOAT8E5M2_to_FLOAT", "input_0.pb"), read("test_cast_FLOAT8E5M2_to_FLOAT", "output_0.pb")
	for i, b := range in.Data.([]uint8) {
		got, want := ir.Float16ToFloat32(uint16(b)<<8), out.Data.([]float32)[i]
		if got != want && !(got != got && want != want) {
			t.Errorf("e5m2 element %d (0x%02x): %v, want %v", i, b, got, want)
		}
	}
	in, out = read("test_cast_FLOAT8E4M3FN_to_FLOAT", "input_0.pb"), read("test_cast_FLOAT8E4M3FN_to_FLOAT", "output_0.pb")
	for i, b := range in.Data.([]uint8) {
		got, want := e4m3fn(b), out.Data.([]float32)[i]
		if got != want && !(got != got && want != want) {
			t.Errorf("e4m3fn element %d (0x%02x): %v, want %v", i, b, got, want)
		}
	}
}

// e4m3fn decodes float8 E4M3FN bits (bias 7, no infinities, S.1111.111 NaN).
func e4m3fn(b uint8) float32 {
	sign := float32(1)
	if b&0x80 != 0 {
		sign = -1
	}
	exp, man := int(b>>3&0xf), float64(b&7)
	switch {
	case exp == 15 && man == 7:
		return float32(math.NaN())
	case exp == 0:
		return sign * float32(math.Ldexp(man/8, -6))
	}
	return sign * float32(math.Ldexp(1+man/8, exp-7))
}

// The byte-copy fast path and the per-element path (used on big-endian
// hosts) give the same bytes and values.
func TestRawCopyPaths(t *testing.T) {
	defer func(v bool) { hostLE = v }(hostLE)
	for _, x := range sampleTensors() {
		hostLE = true
		fast, err := EncodeTensor(x)
		if err != nil {
			t.Fatal(err)
		}
		hostLE = false
		slow, err := EncodeTensor(x)
		if err != nil {
			t.Fatal(err)
		}
		if string(fast) != string(slow) {
			t.Errorf("%s: encodings differ", x.Name)
		}
		got, err := DecodeTensor(fast)
		if err != nil || !same(got, x) {
			t.Errorf("%s: per-element decode gives %v, %v", x.Name, got, err)
		}
	}
}

func BenchmarkDecodeTensorFloat32(b *testing.B) {
	data, err := EncodeTensor(ir.Zeros(ir.Float32, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeTensor(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeTensorFloat32(b *testing.B) {
	x := ir.Zeros(ir.Float32, 1<<20)
	b.SetBytes(4 << 20)
	for b.Loop() {
		if _, err := EncodeTensor(x); err != nil {
			b.Fatal(err)
		}
	}
}
