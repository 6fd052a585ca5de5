package ir

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Tensor is a dense, row-major host tensor. Data is a typed Go slice whose
// length is the product of Shape:
//
//	float32 []float32   float64 []float64   bool []bool   string []string
//	intN    []intN      uintN   []uintN     complex64/128 []complex64/128
//	float16, bfloat16                      []uint16 (raw IEEE/bfloat bits)
//	float8 formats, float4e2m1, float8e8m0 []uint8  (raw bits, one per element)
//	int4, int2                             []int8   (one value per element)
//	uint4, uint2                           []uint8  (one value per element)
//
// Name is set when the tensor is an initializer or a named constant.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  any
}

// MaxElements caps the number of elements of one tensor built from untrusted
// sizes (model files, shape tensors). 2^31 elements is 8 GiB of float32.
var MaxElements = int64(1) << 31

// ErrTooLarge is wrapped by errors about tensors whose size overflows or
// passes MaxElements.
var ErrTooLarge = errors.New("tensor too large")

// NumElements is the product of dims, checked for overflow and against
// MaxElements. Negative dims are an error.
func NumElements(dims []int) (int, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > MaxElements/int64(d) {
			return 0, fmt.Errorf("shape %v: %w (more than %d elements)", dims, ErrTooLarge, MaxElements)
		}
		n *= int64(d)
	}
	if n > MaxElements {
		return 0, fmt.Errorf("shape %v: %w (more than %d elements)", dims, ErrTooLarge, MaxElements)
	}
	return int(n), nil
}

// Size is the product of shape; it assumes the shape was already checked.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// NewTensor allocates a zeroed tensor. It returns an error for an unknown
// dtype, a negative dimension or an oversized shape.
func NewTensor(dt DType, shape ...int) (*Tensor, error) {
	n, err := NumElements(shape)
	if err != nil {
		return nil, err
	}
	data, err := MakeSlice(dt, n)
	if err != nil {
		return nil, err
	}
	if len(shape) <= len(tensorBox{}.dims) {
		// One allocation for the tensor and its shape.
		b := &tensorBox{t: Tensor{DType: dt, Data: data}}
		b.t.Shape = b.dims[:len(shape):len(shape)]
		copy(b.t.Shape, shape)
		return &b.t, nil
	}
	return &Tensor{DType: dt, Shape: append([]int{}, shape...), Data: data}, nil
}

// tensorBox is a Tensor with room for a short shape beside it.
type tensorBox struct {
	t    Tensor
	dims [4]int
}

// Zeros is NewTensor for shapes already known to be valid; it panics otherwise.
func Zeros(dt DType, shape ...int) *Tensor {
	t, err := NewTensor(dt, shape...)
	if err != nil {
		panic("ir: " + err.Error())
	}
	return t
}

// MakeSlice returns a zeroed slice of n elements of the Go type that holds dt.
func MakeSlice(dt DType, n int) (any, error) {
	switch dt {
	case Float32:
		return make([]float32, n), nil
	case Float64:
		return make([]float64, n), nil
	case Int8, Int4, Int2:
		return make([]int8, n), nil
	case Int16:
		return make([]int16, n), nil
	case Int32:
		return make([]int32, n), nil
	case Int64:
		return make([]int64, n), nil
	case Uint8, Uint4, Uint2, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0:
		return make([]uint8, n), nil
	case Uint16, Float16, BFloat16:
		return make([]uint16, n), nil
	case Uint32:
		return make([]uint32, n), nil
	case Uint64:
		return make([]uint64, n), nil
	case Bool:
		return make([]bool, n), nil
	case String:
		return make([]string, n), nil
	case Complex64:
		return make([]complex64, n), nil
	case Complex128:
		return make([]complex128, n), nil
	}
	return nil, fmt.Errorf("unsupported dtype %v", dt)
}

// FromSlice wraps data (not copied) as a tensor of the natural dtype of its
// element type. It panics if len(data) does not match the shape.
func FromSlice[T Elem](data []T, shape ...int) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("ir: FromSlice: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: DTypeOf[T](), Shape: append([]int{}, shape...), Data: data}
}

// Scalar makes a rank-0 tensor.
func Scalar[T Elem](v T) *Tensor { return FromSlice([]T{v}) }

// Elem lists the Go element types a Tensor's Data may hold.
type Elem interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 |
		~uint32 | ~uint64 | ~bool | ~string | ~complex64 | ~complex128
}

// DTypeOf is the natural dtype of a Go element type (uint16 is uint16, not float16).
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case string:
		return String
	case complex64:
		return Complex64
	case complex128:
		return Complex128
	}
	return Undefined
}

// Data returns t.Data as []T; it panics if the storage is of another type.
func Data[T Elem](t *Tensor) []T { return t.Data.([]T) }

// Len is the number of elements held in Data.
func (t *Tensor) Len() int { return SliceLen(t.Data) }

// Rank is len(Shape).
func (t *Tensor) Rank() int { return len(t.Shape) }

// Validate checks that Data holds the Go type for DType and that its length
// matches Shape.
func (t *Tensor) Validate() error {
	if t == nil {
		return errors.New("nil tensor")
	}
	n, err := NumElements(t.Shape)
	if err != nil {
		return err
	}
	want, err := MakeSlice(t.DType, 0)
	if err != nil {
		return err
	}
	if reflect.TypeOf(want) != reflect.TypeOf(t.Data) {
		return fmt.Errorf("tensor %q: dtype %v stored as %T", t.Name, t.DType, t.Data)
	}
	if got := SliceLen(t.Data); got != n {
		return fmt.Errorf("tensor %q: shape %v needs %d elements, data has %d", t.Name, t.Shape, n, got)
	}
	return nil
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Name: t.Name, DType: t.DType, Shape: append([]int{}, t.Shape...)}
	c.Data = CloneSlice(t.Data)
	return c
}

// Reshaped returns a tensor sharing t's data with another shape of equal size.
func (t *Tensor) Reshaped(shape ...int) *Tensor {
	if Size(shape) != t.Len() {
		panic(fmt.Sprintf("ir: Reshaped: shape %v does not hold %d elements", shape, t.Len()))
	}
	return &Tensor{DType: t.DType, Shape: append([]int{}, shape...), Data: t.Data}
}

// SliceLen is len() of any typed slice a Tensor may hold (0 for nil).
func SliceLen(data any) int {
	switch s := data.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	case []int8:
		return len(s)
	case []int16:
		return len(s)
	case []int32:
		return len(s)
	case []int64:
		return len(s)
	case []uint8:
		return len(s)
	case []uint16:
		return len(s)
	case []uint32:
		return len(s)
	case []uint64:
		return len(s)
	case []bool:
		return len(s)
	case []string:
		return len(s)
	case []complex64:
		return len(s)
	case []complex128:
		return len(s)
	}
	return 0
}

// CloneSlice copies any typed slice a Tensor may hold.
func CloneSlice(data any) any {
	switch s := data.(type) {
	case []float32:
		return append([]float32{}, s...)
	case []float64:
		return append([]float64{}, s...)
	case []int8:
		return append([]int8{}, s...)
	case []int16:
		return append([]int16{}, s...)
	case []int32:
		return append([]int32{}, s...)
	case []int64:
		return append([]int64{}, s...)
	case []uint8:
		return append([]uint8{}, s...)
	case []uint16:
		return append([]uint16{}, s...)
	case []uint32:
		return append([]uint32{}, s...)
	case []uint64:
		return append([]uint64{}, s...)
	case []bool:
		return append([]bool{}, s...)
	case []string:
		return append([]string{}, s...)
	case []complex64:
		return append([]complex64{}, s...)
	case []complex128:
		return append([]complex128{}, s...)
	}
	return nil
}

// Float64At returns element i converted to float64 (NaN for strings;
// real part for complex). Small floats are decoded from their bits.
func (t *Tensor) Float64At(i int) float64 {
	switch s := t.Data.(type) {
	case []float32:
		return float64(s[i])
	case []float64:
		return s[i]
	case []int8:
		return float64(s[i])
	case []int16:
		return float64(s[i])
	case []int32:
		return float64(s[i])
	case []int64:
		return float64(s[i])
	case []uint8:
		if t.DType.IsSmallFloat() {
			return float64(SmallFloatToFloat32(t.DType, uint16(s[i])))
		}
		return float64(s[i])
	case []uint16:
		if t.DType.IsSmallFloat() {
			return float64(SmallFloatToFloat32(t.DType, s[i]))
		}
		return float64(s[i])
	case []uint32:
		return float64(s[i])
	case []uint64:
		return float64(s[i])
	case []bool:
		if s[i] {
			return 1
		}
		return 0
	case []complex64:
		return float64(real(s[i]))
	case []complex128:
		return real(s[i])
	}
	return math.NaN()
}

// Int64s returns the elements of an integer tensor as int64 (for shape,
// axes and index inputs). It errors for non-integer dtypes.
func (t *Tensor) Int64s() ([]int64, error) {
	switch s := t.Data.(type) {
	case []int64:
		return s, nil
	case []int32:
		out := make([]int64, len(s))
		for i, v := range s {
			out[i] = int64(v)
		}
		return out, nil
	}
	if !t.DType.IsInt() {
		return nil, fmt.Errorf("want an integer tensor, got %v", t.DType)
	}
	out := make([]int64, t.Len())
	for i := range out {
		out[i] = int64(t.Float64At(i))
	}
	return out, nil
}

// String prints dtype, shape and up to 8 leading values.
func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v%v ", t.DType, t.Shape)
	b.WriteString(FormatValues(t, 8))
	return b.String()
}

// FormatValues renders up to max leading values of t as "[v0 v1 ...]".
func FormatValues(t *Tensor, max int) string {
	n := t.Len()
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n && i < max; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch s := t.Data.(type) {
		case []string:
			fmt.Fprintf(&b, "%q", s[i])
		case []bool:
			fmt.Fprint(&b, s[i])
		case []complex64:
			fmt.Fprint(&b, s[i])
		case []complex128:
			fmt.Fprint(&b, s[i])
		default:
			fmt.Fprintf(&b, "%.6g", t.Float64At(i))
		}
	}
	if n > max {
		fmt.Fprintf(&b, " ... (%d values)", n)
	}
	b.WriteByte(']')
	return b.String()
}

// CopyElem sets element i of dst to element j of src; both must hold the
// same Go storage type (the same dtype).
func CopyElem(dst *Tensor, i int, src *Tensor, j int) {
	switch d := dst.Data.(type) {
	case []float32:
		d[i] = src.Data.([]float32)[j]
	case []float64:
		d[i] = src.Data.([]float64)[j]
	case []int8:
		d[i] = src.Data.([]int8)[j]
	case []int16:
		d[i] = src.Data.([]int16)[j]
	case []int32:
		d[i] = src.Data.([]int32)[j]
	case []int64:
		d[i] = src.Data.([]int64)[j]
	case []uint8:
		d[i] = src.Data.([]uint8)[j]
	case []uint16:
		d[i] = src.Data.([]uint16)[j]
	case []uint32:
		d[i] = src.Data.([]uint32)[j]
	case []uint64:
		d[i] = src.Data.([]uint64)[j]
	case []bool:
		d[i] = src.Data.([]bool)[j]
	case []string:
		d[i] = src.Data.([]string)[j]
	case []complex64:
		d[i] = src.Data.([]complex64)[j]
	case []complex128:
		d[i] = src.Data.([]complex128)[j]
	}
}

// SetInt64At stores v at element i of an integer tensor, converting it to
// the element type (no range check; callers check when it matters).
func (t *Tensor) SetInt64At(i int, v int64) {
	switch s := t.Data.(type) {
	case []int8:
		s[i] = int8(v)
	case []int16:
		s[i] = int16(v)
	case []int32:
		s[i] = int32(v)
	case []int64:
		s[i] = v
	case []uint8:
		s[i] = uint8(v)
	case []uint16:
		s[i] = uint16(v)
	case []uint32:
		s[i] = uint32(v)
	case []uint64:
		s[i] = uint64(v)
	}
}
