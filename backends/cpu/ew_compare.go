package cpu

import (
	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Comparisons, logical and bitwise binary ops.

func prepCompare(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt, err := ewSameTypes(s, 2)
		if err != nil {
			return nil, err
		}
		cdt := ewComputeType(dt)
		var f ewBinFunc
		switch op {
		case "Equal":
			f = ewEqual(cdt)
		case "Less", "Greater":
			f = ewLess(cdt, false)
		case "LessOrEqual", "GreaterOrEqual":
			f = ewLess(cdt, true)
		}
		if f == nil {
			return nil, ewNoKernel(op, dt)
		}
		if op == "Greater" || op == "GreaterOrEqual" {
			less := f
			f = func(a, b *ir.Tensor) (*ir.Tensor, error) {
				out, err := less(b, a)
				if err != nil {
					return nil, ewSwapErr(err, a, b)
				}
				return out, nil
			}
		}
		return ewPrep2(dt, f), nil
	}
}

// ewSwapErr rewrites a broadcast error of swapped operands to name them in
// the caller's order.
func ewSwapErr(err error, a, b *ir.Tensor) error {
	if _, e2 := ewBroadcast2(a.Shape, b.Shape); e2 != nil {
		return e2
	}
	return err
}

func ewEqual(dt ir.DType) ewBinFunc {
	switch dt {
	case ir.Bool:
		return ewBin(ir.Bool, 1, ewEqualRow[bool])
	case ir.String:
		return ewBin(ir.Bool, 4, ewEqualRow[string])
	case ir.Float32:
		return ewBin(ir.Bool, 1, ewEqualRow[float32])
	case ir.Float64:
		return ewBin(ir.Bool, 1, ewEqualRow[float64])
	case ir.Int8:
		return ewBin(ir.Bool, 1, ewEqualRow[int8])
	case ir.Int16:
		return ewBin(ir.Bool, 1, ewEqualRow[int16])
	case ir.Int32:
		return ewBin(ir.Bool, 1, ewEqualRow[int32])
	case ir.Int64:
		return ewBin(ir.Bool, 1, ewEqualRow[int64])
	case ir.Uint8:
		return ewBin(ir.Bool, 1, ewEqualRow[uint8])
	case ir.Uint16:
		return ewBin(ir.Bool, 1, ewEqualRow[uint16])
	case ir.Uint32:
		return ewBin(ir.Bool, 1, ewEqualRow[uint32])
	case ir.Uint64:
		return ewBin(ir.Bool, 1, ewEqualRow[uint64])
	}
	return nil
}

func ewLess(dt ir.DType, orEqual bool) ewBinFunc {
	switch dt {
	case ir.Float32:
		return ewLessT[float32](orEqual)
	case ir.Float64:
		return ewLessT[float64](orEqual)
	case ir.Int8:
		return ewLessT[int8](orEqual)
	case ir.Int16:
		return ewLessT[int16](orEqual)
	case ir.Int32:
		return ewLessT[int32](orEqual)
	case ir.Int64:
		return ewLessT[int64](orEqual)
	case ir.Uint8:
		return ewLessT[uint8](orEqual)
	case ir.Uint16:
		return ewLessT[uint16](orEqual)
	case ir.Uint32:
		return ewLessT[uint32](orEqual)
	case ir.Uint64:
		return ewLessT[uint64](orEqual)
	}
	return nil
}

func ewLessT[T ewNum](orEqual bool) ewBinFunc {
	if orEqual {
		return ewBin(ir.Bool, 1, ewLessEqRow[T])
	}
	return ewBin(ir.Bool, 1, ewLessRow[T])
}

func prepLogical(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt, err := ewSameTypes(s, 2)
		if err != nil {
			return nil, err
		}
		if dt != ir.Bool {
			return nil, ewNoKernel(op, dt)
		}
		var f func(x, y bool) bool
		switch op {
		case "And":
			f = func(x, y bool) bool { return x && y }
		case "Or":
			f = func(x, y bool) bool { return x || y }
		default:
			f = func(x, y bool) bool { return x != y }
		}
		return ewPrep2(dt, ewBin(ir.Bool, 1, ewRowOf(f))), nil
	}
}

func prepBitwise(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt, err := ewSameTypes(s, 2)
		if err != nil {
			return nil, err
		}
		var f ewBinFunc
		switch dt {
		case ir.Int8:
			f = ewBitwiseT[int8](op, dt)
		case ir.Int16:
			f = ewBitwiseT[int16](op, dt)
		case ir.Int32:
			f = ewBitwiseT[int32](op, dt)
		case ir.Int64:
			f = ewBitwiseT[int64](op, dt)
		case ir.Uint8:
			f = ewBitwiseT[uint8](op, dt)
		case ir.Uint16:
			f = ewBitwiseT[uint16](op, dt)
		case ir.Uint32:
			f = ewBitwiseT[uint32](op, dt)
		case ir.Uint64:
			f = ewBitwiseT[uint64](op, dt)
		default:
			return nil, ewNoKernel(op, dt)
		}
		return ewPrep2(dt, f), nil
	}
}

func ewBitwiseT[T ewInt](op string, dt ir.DType) ewBinFunc {
	switch op {
	case "BitwiseAnd":
		return ewBin(dt, 1, ewRowOf(func(x, y T) T { return x & y }))
	case "BitwiseOr":
		return ewBin(dt, 1, ewRowOf(func(x, y T) T { return x | y }))
	}
	return ewBin(dt, 1, ewRowOf(func(x, y T) T { return x ^ y }))
}

func prepBitShift(s *backends.OpSpec) (kernelFunc, error) {
	dt, err := ewSameTypes(s, 2)
	if err != nil {
		return nil, err
	}
	dir := s.Attrs.Str("direction", "")
	if dir != "LEFT" && dir != "RIGHT" {
		return nil, ewAttrErr("BitShift", "direction %q is neither LEFT nor RIGHT", dir)
	}
	left := dir == "LEFT"
	var f ewBinFunc
	switch dt {
	case ir.Uint8:
		f = ewShiftT[uint8](dt, left)
	case ir.Uint16:
		f = ewShiftT[uint16](dt, left)
	case ir.Uint32:
		f = ewShiftT[uint32](dt, left)
	case ir.Uint64:
		f = ewShiftT[uint64](dt, left)
	default:
		return nil, ewNoKernel("BitShift", dt)
	}
	return ewPrep2(dt, f), nil
}

// ewShiftT shifts unsigned values; Go defines shifts past the width as 0.
func ewShiftT[T ~uint8 | ~uint16 | ~uint32 | ~uint64](dt ir.DType, left bool) ewBinFunc {
	if left {
		return ewBin(dt, 1, ewRowOf(func(x, y T) T { return x << y }))
	}
	return ewBin(dt, 1, ewRowOf(func(x, y T) T { return x >> y }))
}
