package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

var le = binary.LittleEndian

// DecodeTensor parses a serialized TensorProto. Tensors whose data lies in an
// external file are an error (wrapping ErrExternalData); ReadTensor resolves them.
func DecodeTensor(data []byte) (*ir.Tensor, error) {
	tp := &pb.TensorProto{}
	if err := unmarshal(data, tp); err != nil {
		return nil, fmt.Errorf("onnx: decode tensor: %w", err)
	}
	t, err := (&decoder{}).tensor(tp)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return t, nil
}

// EncodeTensor serializes t as a TensorProto (raw_data, or string_data for strings).
func EncodeTensor(t *ir.Tensor) ([]byte, error) {
	tp, err := tensorToProto(t)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return marshal(tp)
}

// tensor converts a TensorProto, naming the tensor in any error.
func (d *decoder) tensor(tp *pb.TensorProto) (*ir.Tensor, error) {
	if tp == nil {
		return nil, errors.New("missing tensor")
	}
	t, err := d.tensorData(tp)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tp.GetName(), err)
	}
	return t, nil
}

func (d *decoder) tensorData(tp *pb.TensorProto) (*ir.Tensor, error) {
	dt := ir.DType(tp.GetDataType())
	if !dt.Valid() {
		return nil, fmt.Errorf("unknown data type %d", tp.GetDataType())
	}
	shape, n, err := dimsToShape(tp.GetDims())
	if err != nil {
		return nil, err
	}
	if tp.Segment != nil {
		return nil, errors.New("segmented tensors (TensorProto.segment) are not supported")
	}
	t := &ir.Tensor{Name: tp.GetName(), DType: dt, Shape: shape}
	switch {
	case tp.GetDataLocation() == pb.TensorProto_EXTERNAL:
		if dt == ir.String {
			return nil, errors.New("string tensors cannot hold external data")
		}
		raw, err := d.external(tp, rawSize(dt, n))
		if err != nil {
			return nil, err
		}
		t.Data, err = decodeRaw(dt, n, raw)
		if err != nil {
			return nil, fmt.Errorf("%v%v: external data: %w", dt, shape, err)
		}
	case tp.RawData != nil:
		if dt == ir.String {
			return nil, errors.New("string tensors cannot use raw_data")
		}
		t.Data, err = decodeRaw(dt, n, tp.RawData)
	default:
		t.Data, err = decodeTyped(dt, n, tp)
	}
	if err != nil {
		return nil, fmt.Errorf("%v%v: %w", dt, shape, err)
	}
	return t, nil
}

// dimsToShape checks wire dims and returns them as a shape with its element count.
func dimsToShape(dims []int64) ([]int, int, error) {
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			return nil, 0, fmt.Errorf("negative dimension %d in dims %v", d, dims)
		}
		if uint64(d) > math.MaxInt {
			return nil, 0, fmt.Errorf("dims %v: %w", dims, ir.ErrTooLarge)
		}
		shape[i] = int(d)
	}
	n, err := ir.NumElements(shape)
	if err != nil {
		return nil, 0, err
	}
	return shape, n, nil
}

// rawSize is the number of bytes n elements of dt take in raw_data.
func rawSize(dt ir.DType, n int) int64 {
	switch bits := dt.Bits(); bits {
	case 4:
		return (int64(n) + 1) / 2
	case 2:
		return (int64(n) + 3) / 4
	default:
		return int64(n) * int64(bits) / 8
	}
}

// decodeRaw unpacks n little-endian elements of dt.
func decodeRaw(dt ir.DType, n int, raw []byte) (any, error) {
	if want := rawSize(dt, n); int64(len(raw)) != want {
		return nil, fmt.Errorf("raw data has %d bytes, %d elements need %d", len(raw), n, want)
	}
	switch dt.Bits() {
	case 4, 2:
		return unpackSubByte(dt, n, raw), nil
	}
	return decodeFixed(dt, n, raw)
}

// unpackSubByte spreads 4-bit (two per byte) or 2-bit (four per byte) values,
// low bits first, to one element each, sign-extending int4 and int2.
func unpackSubByte(dt ir.DType, n int, raw []byte) any {
	bits := uint(dt.Bits())
	per := 8 / int(bits)
	mask := byte(1)<<bits - 1
	at := func(i int) byte { return raw[i/per] >> (bits * uint(i%per)) & mask }
	if dt.IsSigned() {
		out := make([]int8, n)
		shift := 8 - bits
		for i := range out {
			out[i] = int8(at(i)<<shift) >> shift
		}
		return out
	}
	out := make([]uint8, n)
	for i := range out {
		out[i] = at(i)
	}
	return out
}

// packSubByte is the inverse of unpackSubByte; values out of range are an error.
func packSubByte(dt ir.DType, data any) ([]byte, error) {
	bits := uint(dt.Bits())
	per := 8 / int(bits)
	var vals []int
	switch s := data.(type) {
	case []int8:
		lo, hi := -(1 << (bits - 1)), 1<<(bits-1)-1
		vals = make([]int, len(s))
		for i, v := range s {
			if int(v) < lo || int(v) > hi {
				return nil, fmt.Errorf("%v value %d at index %d out of range [%d, %d]", dt, v, i, lo, hi)
			}
			vals[i] = int(v)
		}
	case []uint8:
		vals = make([]int, len(s))
		for i, v := range s {
			if int(v) >= 1<<bits {
				return nil, fmt.Errorf("%v value %d at index %d out of range [0, %d]", dt, v, i, 1<<bits-1)
			}
			vals[i] = int(v)
		}
	default:
		return nil, fmt.Errorf("%v stored as %T", dt, data)
	}
	out := make([]byte, (len(vals)+per-1)/per)
	mask := 1<<bits - 1
	for i, v := range vals {
		out[i/per] |= byte(v&mask) << (bits * uint(i%per))
	}
	return out, nil
}

// decodeTyped reads the type-specific repeated field that holds dt.
func decodeTyped(dt ir.DType, n int, tp *pb.TensorProto) (any, error) {
	switch dt {
	case ir.Float32:
		return convert(tp.GetFloatData(), n, "float_data", func(v float32) float32 { return v })
	case ir.Float64:
		return convert(tp.GetDoubleData(), n, "double_data", func(v float64) float64 { return v })
	case ir.Int64:
		return convert(tp.GetInt64Data(), n, "int64_data", func(v int64) int64 { return v })
	case ir.Uint64:
		return convert(tp.GetUint64Data(), n, "uint64_data", func(v uint64) uint64 { return v })
	case ir.Uint32:
		return convert(tp.GetUint64Data(), n, "uint64_data", func(v uint64) uint32 { return uint32(v) })
	case ir.String:
		return convert(tp.GetStringData(), n, "string_data", func(v []byte) string { return string(v) })
	case ir.Complex64:
		f, err := convert(tp.GetFloatData(), 2*n, "float_data", func(v float32) float32 { return v })
		if err != nil {
			return nil, err
		}
		out := make([]complex64, n)
		for i := range out {
			out[i] = complex(f[2*i], f[2*i+1])
		}
		return out, nil
	case ir.Complex128:
		f, err := convert(tp.GetDoubleData(), 2*n, "double_data", func(v float64) float64 { return v })
		if err != nil {
			return nil, err
		}
		out := make([]complex128, n)
		for i := range out {
			out[i] = complex(f[2*i], f[2*i+1])
		}
		return out, nil
	}
	return decodeInt32Field(dt, n, tp.GetInt32Data())
}

// decodeInt32Field reads int32_data, which carries every type narrower than
// 32 bits as its bit pattern (sub-byte types packed, one byte per value).
func decodeInt32Field(dt ir.DType, n int, src []int32) (any, error) {
	const field = "int32_data"
	switch dt {
	case ir.Int32:
		return convert(src, n, field, func(v int32) int32 { return v })
	case ir.Int16:
		return convert(src, n, field, func(v int32) int16 { return int16(v) })
	case ir.Int8:
		return convert(src, n, field, func(v int32) int8 { return int8(v) })
	case ir.Uint16, ir.Float16, ir.BFloat16:
		return convert(src, n, field, func(v int32) uint16 { return uint16(v) })
	case ir.Bool:
		return convert(src, n, field, func(v int32) bool { return v != 0 })
	}
	switch dt.Bits() {
	case 8: // uint8 and the 8-bit float formats
		return convert(src, n, field, func(v int32) uint8 { return uint8(v) })
	case 4, 2:
		packed, err := convert(src, int(rawSize(dt, n)), field, func(v int32) byte { return byte(v) })
		if err != nil {
			return nil, err
		}
		return unpackSubByte(dt, n, packed), nil
	}
	return nil, fmt.Errorf("unsupported data type %v", dt)
}

func convert[S, D any](src []S, n int, field string, conv func(S) D) ([]D, error) {
	if len(src) != n {
		return nil, fmt.Errorf("%s has %d values, want %d", field, len(src), n)
	}
	out := make([]D, n)
	for i, v := range src {
		out[i] = conv(v)
	}
	return out, nil
}

// tensorToProto encodes t with raw_data (string_data for strings).
func tensorToProto(t *ir.Tensor) (*pb.TensorProto, error) {
	if err := t.Validate(); err != nil {
		if t == nil {
			return nil, err
		}
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	tp := &pb.TensorProto{DataType: proto32(int32(t.DType)), Dims: make([]int64, len(t.Shape))}
	if t.Name != "" {
		tp.Name = &t.Name
	}
	for i, d := range t.Shape {
		tp.Dims[i] = int64(d)
	}
	if s, ok := t.Data.([]string); ok {
		tp.StringData = make([][]byte, len(s))
		for i, v := range s {
			tp.StringData[i] = []byte(v)
		}
		return tp, nil
	}
	raw, err := encodeRaw(t.DType, t.Data)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	tp.RawData = raw
	return tp, nil
}

// encodeRaw is the little-endian wire form of a tensor's Data.
func encodeRaw(dt ir.DType, data any) ([]byte, error) {
	switch dt.Bits() {
	case 4, 2:
		return packSubByte(dt, data)
	}
	return encodeFixed(data)
}

func proto32(v int32) *int32 { return &v }
func proto64(v int64) *int64 { return &v }
