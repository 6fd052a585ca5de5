package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Mod and Pow.

func ewAttrErr(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", errAttr, op, fmt.Sprintf(format, args...))
}

func prepMod(s *backends.OpSpec) (kernelFunc, error) {
	dt, err := ewSameTypes(s, 2)
	if err != nil {
		return nil, err
	}
	fmod := s.Attrs.Int("fmod", 0) != 0
	cdt := ewComputeType(dt)
	var f ewBinFunc
	switch cdt {
	case ir.Float32:
		f = ewModF[float32](cdt, fmod)
	case ir.Float64:
		f = ewModF[float64](cdt, fmod)
	case ir.Int8:
		f = ewModI[int8](cdt, fmod)
	case ir.Int16:
		f = ewModI[int16](cdt, fmod)
	case ir.Int32:
		f = ewModI[int32](cdt, fmod)
	case ir.Int64:
		f = ewModI[int64](cdt, fmod)
	case ir.Uint8:
		f = ewModI[uint8](cdt, fmod)
	case ir.Uint16:
		f = ewModI[uint16](cdt, fmod)
	case ir.Uint32:
		f = ewModI[uint32](cdt, fmod)
	case ir.Uint64:
		f = ewModI[uint64](cdt, fmod)
	default:
		return nil, ewNoKernel("Mod", dt)
	}
	return ewPrep2(dt, f), nil
}

// ewModF is C fmod (sign of the dividend) with fmod, else numpy's mod (sign
// of the divisor).
func ewModF[T ewFloat](dt ir.DType, fmod bool) ewBinFunc {
	if fmod {
		return ewBin(dt, 8, ewRowOf(func(x, y T) T { return T(math.Mod(float64(x), float64(y))) }))
	}
	return ewBin(dt, 8, ewRowOf(func(x, y T) T {
		r := math.Mod(float64(x), float64(y))
		if r != 0 && (r < 0) != (y < 0) {
			r += float64(y)
		}
		return T(r)
	}))
}

// ewModI is the integer twin of ewModF; a zero divisor gives 0.
func ewModI[T ewInt](dt ir.DType, fmod bool) ewBinFunc {
	if fmod {
		return ewBin(dt, 2, ewRowOf(func(x, y T) T {
			if y == 0 {
				return 0
			}
			return x % y
		}))
	}
	return ewBin(dt, 2, ewRowOf(func(x, y T) T {
		if y == 0 {
			return 0
		}
		r := x % y
		if r != 0 && (r < 0) != (y < 0) {
			r += y
		}
		return r
	}))
}

func prepPow(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	et := inputType(s.InputTypes, 1)
	if !ewIsNumeric(et) {
		return nil, fmt.Errorf("%w: Pow exponent (input 1) is %v", errDType, et)
	}
	cdt := ewComputeType(dt)
	var f ewBinFunc
	switch cdt {
	case ir.Float32:
		f = ewPowF[float32](cdt)
	case ir.Float64:
		f = ewPowF[float64](cdt)
	case ir.Int8:
		f = ewPowI[int8](cdt)
	case ir.Int16:
		f = ewPowI[int16](cdt)
	case ir.Int32:
		f = ewPowI[int32](cdt)
	case ir.Int64:
		f = ewPowI[int64](cdt)
	case ir.Uint8:
		f = ewPowI[uint8](cdt)
	case ir.Uint16:
		f = ewPowI[uint16](cdt)
	case ir.Uint32:
		f = ewPowI[uint32](cdt)
	case ir.Uint64:
		f = ewPowI[uint64](cdt)
	default:
		return nil, ewNoKernel("Pow", dt)
	}
	return ewPrep2(dt, f), nil
}

// ewIsNumeric reports whether dt is an integer or float type.
func ewIsNumeric(dt ir.DType) bool { return dt.IsInt() || dt.IsFloat() }

// ewFloat64s returns t's values as float64 (t's own data when float64).
func ewFloat64s(t *ir.Tensor) *ir.Tensor {
	if t.DType == ir.Float64 {
		return t
	}
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Float64At(i)
	}
	return &ir.Tensor{DType: ir.Float64, Shape: t.Shape, Data: out}
}

// ewInt64s returns t's integer values as int64 (t's own data when int64).
func ewInt64s(t *ir.Tensor) *ir.Tensor {
	if t.DType == ir.Int64 {
		return t
	}
	out := make([]int64, t.Len())
	switch d := t.Data.(type) {
	case []uint64:
		for i, v := range d {
			out[i] = int64(v)
		}
	default:
		for i := range out {
			out[i] = int64(t.Float64At(i))
		}
	}
	return &ir.Tensor{DType: ir.Int64, Shape: t.Shape, Data: out}
}

// ewPowF raises floats to any numeric exponent, computed in float64. A
// scalar exponent of 2 (the common square) is a multiply.
func ewPowF[T ewFloat](dt ir.DType) ewBinFunc {
	pow := ewBin(dt, 16, ewRowOf(func(x T, y float64) T { return T(math.Pow(float64(x), y)) }))
	return func(a, b *ir.Tensor) (*ir.Tensor, error) {
		if b.Len() == 1 && b.Rank() <= a.Rank() && b.Float64At(0) == 2 {
			return ewBinary(a, a, dt, 1, ewMulRow[T])
		}
		return pow(a, ewFloat64s(b))
	}
}

// ewPowI raises integers: by squaring (wrapping like numpy) for integer
// exponents, through float64 and truncation for float exponents.
func ewPowI[T ewInt](dt ir.DType) ewBinFunc {
	ipow := ewBin(dt, 8, ewRowOf(ewIntPow[T]))
	fpow := ewBin(dt, 16, ewRowOf(func(x T, y float64) T { return T(math.Pow(float64(x), y)) }))
	return func(a, b *ir.Tensor) (*ir.Tensor, error) {
		if b.DType.IsInt() {
			return ipow(a, ewInt64s(b))
		}
		return fpow(a, ewFloat64s(b))
	}
}

func ewIntPow[T ewInt](x T, y int64) T {
	if y < 0 {
		switch {
		case x == 1:
			return 1
		case x == 0:
			return 0
		case x+1 == 0: // -1 for signed types
			if y%2 == 0 {
				return 1
			}
			return x
		}
		return 0
	}
	r := T(1)
	for y > 0 {
		if y&1 == 1 {
			r *= x
		}
		x *= x
		y >>= 1
	}
	return r
}
