package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// BitCast reinterprets each element's bits (little endian) as another type
// of the same width.

func init() { reg("BitCast", 26, prepBitCast) }

func prepBitCast(s *backends.OpSpec) (kernelFunc, error) {
	to, err := ewCastTarget("BitCast", s.Attrs)
	if err != nil {
		return nil, err
	}
	from := inputType(s.InputTypes, 0)
	if from == ir.String || to == ir.String {
		return nil, fmt.Errorf("%w: BitCast from %v to %v (strings have no bits)", errDType, from, to)
	}
	if from.Bits() != to.Bits() {
		return nil, fmt.Errorf("%w: BitCast from %v (%d bits) to %v (%d bits)", errDType, from, from.Bits(), to, to.Bits())
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.DType == to {
			return one(in[0])
		}
		if x.DType.Bits() != to.Bits() || x.DType == ir.Complex128 {
			return nil, fmt.Errorf("%w: BitCast from %v to %v", errDType, x.DType, to)
		}
		d, err := ewFromBits(ewBitsOf(x), to)
		if err != nil {
			return nil, err
		}
		return one(&ir.Tensor{DType: to, Shape: append([]int(nil), x.Shape...), Data: d})
	}, nil
}

// ewBitsOf returns each element's bit pattern (up to 64 bits).
func ewBitsOf(t *ir.Tensor) []uint64 {
	out := make([]uint64, t.Len())
	mask := uint64(1)<<t.DType.Bits() - 1
	if t.DType.Bits() == 64 {
		mask = math.MaxUint64
	}
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			out[i] = uint64(math.Float32bits(v))
		}
	case []float64:
		for i, v := range d {
			out[i] = math.Float64bits(v)
		}
	case []complex64:
		for i, v := range d {
			out[i] = uint64(math.Float32bits(real(v))) | uint64(math.Float32bits(imag(v)))<<32
		}
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	default:
		for i, v := range ewConvTo[int64](d) {
			out[i] = uint64(v) & mask
		}
	}
	return out
}

// ewFromBits builds the storage of dtype to from bit patterns.
func ewFromBits(b []uint64, to ir.DType) (any, error) {
	switch to {
	case ir.Float32:
		out := make([]float32, len(b))
		for i, v := range b {
			out[i] = math.Float32frombits(uint32(v))
		}
		return out, nil
	case ir.Float64:
		out := make([]float64, len(b))
		for i, v := range b {
			out[i] = math.Float64frombits(v)
		}
		return out, nil
	case ir.Complex64:
		out := make([]complex64, len(b))
		for i, v := range b {
			out[i] = complex(math.Float32frombits(uint32(v)), math.Float32frombits(uint32(v>>32)))
		}
		return out, nil
	case ir.Bool:
		out := make([]bool, len(b))
		for i, v := range b {
			out[i] = v != 0
		}
		return out, nil
	case ir.Int4, ir.Int2:
		bits := uint(to.Bits())
		out := make([]int8, len(b))
		for i, v := range b {
			out[i] = int8(int64(v<<(64-bits)) >> (64 - bits))
		}
		return out, nil
	}
	data, err := ir.MakeSlice(to, 0)
	if err != nil {
		return nil, err
	}
	switch data.(type) {
	case []int8:
		return ewConvTo[int8](b), nil
	case []int16:
		return ewConvTo[int16](b), nil
	case []int32:
		return ewConvTo[int32](b), nil
	case []int64:
		return ewConvTo[int64](b), nil
	case []uint8:
		return ewConvTo[uint8](b), nil
	case []uint16:
		return ewConvTo[uint16](b), nil
	case []uint32:
		return ewConvTo[uint32](b), nil
	case []uint64:
		return b, nil
	}
	return nil, fmt.Errorf("%w: BitCast to %v", errDType, to)
}
