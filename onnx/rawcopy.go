package onnx

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/keenml/keen/ir"
)

// hostLE reports whether this machine is little endian like the wire
// format, so fixed-width elements move between raw_data and typed slices
// with one copy instead of a conversion per element.
var hostLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// byteView is the memory of a numeric slice as bytes (nil for bool and
// string slices, whose Go form differs from the wire).
func byteView(data any) []byte {
	switch s := data.(type) {
	case []float32:
		return asBytes(s)
	case []float64:
		return asBytes(s)
	case []int8:
		return asBytes(s)
	case []int16:
		return asBytes(s)
	case []int32:
		return asBytes(s)
	case []int64:
		return asBytes(s)
	case []uint8:
		return s
	case []uint16:
		return asBytes(s)
	case []uint32:
		return asBytes(s)
	case []uint64:
		return asBytes(s)
	case []complex64:
		return asBytes(s)
	case []complex128:
		return asBytes(s)
	}
	return nil
}

func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// decodeFixed fills a new slice of n elements of dt (8 bits or wider) from
// little-endian raw bytes of the right length.
func decodeFixed(dt ir.DType, n int, raw []byte) (any, error) {
	out, err := ir.MakeSlice(dt, n)
	if err != nil {
		return nil, err
	}
	if b := byteView(out); hostLE && b != nil {
		copy(b, raw)
		return out, nil
	}
	switch s := out.(type) {
	case []complex64:
		for i := range s {
			s[i] = complex(math.Float32frombits(le.Uint32(raw[8*i:])), math.Float32frombits(le.Uint32(raw[8*i+4:])))
		}
	case []complex128:
		for i := range s {
			s[i] = complex(math.Float64frombits(le.Uint64(raw[16*i:])), math.Float64frombits(le.Uint64(raw[16*i+8:])))
		}
	default: // bool, and every type on big-endian hosts
		if _, err := binary.Decode(raw, le, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodeFixed is the little-endian wire form of a slice of a type 8 bits or wider.
func encodeFixed(data any) ([]byte, error) {
	if b := byteView(data); hostLE && b != nil {
		return append(make([]byte, 0, len(b)), b...), nil
	}
	switch s := data.(type) {
	case []complex64:
		out := make([]byte, 8*len(s))
		for i, v := range s {
			le.PutUint32(out[8*i:], math.Float32bits(real(v)))
			le.PutUint32(out[8*i+4:], math.Float32bits(imag(v)))
		}
		return out, nil
	case []complex128:
		out := make([]byte, 16*len(s))
		for i, v := range s {
			le.PutUint64(out[16*i:], math.Float64bits(real(v)))
			le.PutUint64(out[16*i+8:], math.Float64bits(imag(v)))
		}
		return out, nil
	}
	return binary.Append(make([]byte, 0, ir.SliceLen(data)), le, data)
}
