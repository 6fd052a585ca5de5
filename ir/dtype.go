// Package ir holds Keen's device-free description of ONNX: element types,
// host tensors, attributes, value types with symbolic shapes, graphs, models
// and model-local functions. It is pure data and imports only the standard
// library, so every other package (backends, eager, onnx) can share it.
package ir

import "fmt"

// DType is an ONNX tensor element type. Its values are those of
// TensorProto.DataType, so they convert to and from the wire format unchanged.
type DType int32

const (
	Undefined      DType = 0
	Float32        DType = 1
	Uint8          DType = 2
	Int8           DType = 3
	Uint16         DType = 4
	Int16          DType = 5
	Int32          DType = 6
	Int64          DType = 7
	String         DType = 8
	Bool           DType = 9
	Float16        DType = 10
	Float64        DType = 11
	Uint32         DType = 12
	Uint64         DType = 13
	Complex64      DType = 14
	Complex128     DType = 15
	BFloat16       DType = 16
	Float8E4M3FN   DType = 17
	Float8E4M3FNUZ DType = 18
	Float8E5M2     DType = 19
	Float8E5M2FNUZ DType = 20
	Uint4          DType = 21
	Int4           DType = 22
	Float4E2M1     DType = 23
	Float8E8M0     DType = 24
	Uint2          DType = 25
	Int2           DType = 26
)

var dtypeNames = [...]string{
	"undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64",
	"string", "bool", "float16", "float64", "uint32", "uint64", "complex64",
	"complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
	"float8e5m2fnuz", "uint4", "int4", "float4e2m1", "float8e8m0", "uint2", "int2",
}

func (d DType) String() string {
	if d >= 0 && int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Valid reports whether d is a known element type other than Undefined.
func (d DType) Valid() bool { return d > 0 && int(d) < len(dtypeNames) }

// ParseDType maps a name as printed by String back to its DType.
func ParseDType(s string) (DType, bool) {
	for i, n := range dtypeNames {
		if n == s && i > 0 {
			return DType(i), true
		}
	}
	return Undefined, false
}

// IsFloat reports whether d is a real floating-point type (any width).
func (d DType) IsFloat() bool {
	switch d {
	case Float32, Float64, Float16, BFloat16, Float8E4M3FN, Float8E4M3FNUZ,
		Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0:
		return true
	}
	return false
}

// IsSmallFloat reports whether d is a float narrower than 32 bits, stored as
// raw bits (uint16 for float16/bfloat16, uint8 for the 8- and 4-bit formats).
func (d DType) IsSmallFloat() bool { return d.IsFloat() && d != Float32 && d != Float64 }

// IsInt reports whether d is a signed or unsigned integer type (any width).
func (d DType) IsInt() bool { return d.IsSigned() || d.IsUnsigned() }

// IsSigned reports whether d is a signed integer type.
func (d DType) IsSigned() bool {
	switch d {
	case Int8, Int16, Int32, Int64, Int4, Int2:
		return true
	}
	return false
}

// IsUnsigned reports whether d is an unsigned integer type.
func (d DType) IsUnsigned() bool {
	switch d {
	case Uint8, Uint16, Uint32, Uint64, Uint4, Uint2:
		return true
	}
	return false
}

// IsComplex reports whether d is complex64 or complex128.
func (d DType) IsComplex() bool { return d == Complex64 || d == Complex128 }

// Bits is the storage width of one element in the ONNX wire format
// (4 for int4, 2 for int2, 0 for string).
func (d DType) Bits() int {
	switch d {
	case Bool, Uint8, Int8, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float8E8M0:
		return 8
	case Uint16, Int16, Float16, BFloat16:
		return 16
	case Float32, Int32, Uint32:
		return 32
	case Float64, Int64, Uint64, Complex64:
		return 64
	case Complex128:
		return 128
	case Uint4, Int4, Float4E2M1:
		return 4
	case Uint2, Int2:
		return 2
	}
	return 0
}

// GoSize is the number of bytes one element takes in Tensor.Data
// (sub-byte types are unpacked to one byte each; strings count as 16).
func (d DType) GoSize() int {
	switch {
	case d == String:
		return 16
	case d.Bits() < 8:
		return 1
	}
	return d.Bits() / 8
}
