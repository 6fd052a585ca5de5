package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Binary elementwise ops with numpy broadcasting (opset 7 on) and the
// legacy broadcast/axis attributes (opsets 1 and 6).

func init() {
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		reg(op, 1, ewLegacy(prepArith(op)))
		reg(op, 7, prepArith(op))
	}
	for _, op := range []string{"Equal", "Greater", "Less"} {
		reg(op, 1, ewLegacy(prepCompare(op)))
		reg(op, 7, prepCompare(op))
	}
	reg("GreaterOrEqual", 12, prepCompare("GreaterOrEqual"))
	reg("LessOrEqual", 12, prepCompare("LessOrEqual"))
	for _, op := range []string{"And", "Or", "Xor"} {
		reg(op, 1, ewLegacy(prepLogical(op)))
		reg(op, 7, prepLogical(op))
	}
	for _, op := range []string{"BitwiseAnd", "BitwiseOr", "BitwiseXor"} {
		reg(op, 18, prepBitwise(op))
	}
	reg("BitShift", 11, prepBitShift)
	reg("Mod", 10, prepMod)
	reg("Pow", 1, ewLegacy(prepPow))
	reg("Pow", 7, prepPow)
}

// ewBinFunc computes a binary op on two host tensors.
type ewBinFunc func(a, b *ir.Tensor) (*ir.Tensor, error)

// ewBin wraps a row function as an ewBinFunc producing dtype dt.
func ewBin[A, B, O any](dt ir.DType, cost int, row func(o []O, a []A, b []B)) ewBinFunc {
	return func(a, b *ir.Tensor) (*ir.Tensor, error) { return ewBinary(a, b, dt, cost, row) }
}

// ewComputeType is the dtype a kernel computes in: float32 for narrow floats.
func ewComputeType(dt ir.DType) ir.DType {
	if dt.IsSmallFloat() {
		return ir.Float32
	}
	return dt
}

// ewSameTypes checks that inputs 0..n-1 share one dtype and returns it.
func ewSameTypes(s *backends.OpSpec, n int) (ir.DType, error) {
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < n; i++ {
		if t := inputType(s.InputTypes, i); t != dt && t != ir.Undefined {
			return 0, fmt.Errorf("%w: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	return dt, nil
}

// ewPrep2 builds the kernel of a binary op from its ewBinFunc; narrow float
// inputs are computed in float32.
func ewPrep2(dt ir.DType, f ewBinFunc) kernelFunc {
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		out, err := f(in[0], in[1])
		if err != nil {
			return nil, err
		}
		return one(out)
	}
	return viaFloat32(fn, dt, 0, 1)
}

func ewNoKernel(op string, dt ir.DType) error {
	return fmt.Errorf("%w: %s does not take %v", errDType, op, dt)
}

func prepArith(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt, err := ewSameTypes(s, 2)
		if err != nil {
			return nil, err
		}
		f := ewArith(op, ewComputeType(dt))
		if f == nil {
			return nil, ewNoKernel(op, dt)
		}
		return ewPrep2(dt, f), nil
	}
}

// ewArith returns the kernel of Add, Sub, Mul, Div, Max, Min for dt.
func ewArith(op string, dt ir.DType) ewBinFunc {
	switch dt {
	case ir.Float32:
		return ewArithF[float32](op, dt)
	case ir.Float64:
		return ewArithF[float64](op, dt)
	case ir.Int8:
		return ewArithI[int8](op, dt)
	case ir.Int16:
		return ewArithI[int16](op, dt)
	case ir.Int32:
		return ewArithI[int32](op, dt)
	case ir.Int64:
		return ewArithI[int64](op, dt)
	case ir.Uint8:
		return ewArithI[uint8](op, dt)
	case ir.Uint16:
		return ewArithI[uint16](op, dt)
	case ir.Uint32:
		return ewArithI[uint32](op, dt)
	case ir.Uint64:
		return ewArithI[uint64](op, dt)
	}
	return nil
}

func ewArithF[T ewFloat](op string, dt ir.DType) ewBinFunc {
	if op == "Div" {
		return ewBin(dt, 1, ewDivRow[T])
	}
	return ewArithCommon[T](op, dt)
}

func ewArithI[T ewInt](op string, dt ir.DType) ewBinFunc {
	if op == "Div" {
		return ewBin(dt, 2, ewRowOf(ewIntDiv[T]))
	}
	return ewArithCommon[T](op, dt)
}

func ewArithCommon[T ewNum](op string, dt ir.DType) ewBinFunc {
	switch op {
	case "Add":
		return ewBin(dt, 1, ewAddRow[T])
	case "Sub":
		return ewBin(dt, 1, ewSubRow[T])
	case "Mul":
		return ewBin(dt, 1, ewMulRow[T])
	case "Max":
		return ewBin(dt, 1, ewMaxRow[T])
	case "Min":
		return ewBin(dt, 1, ewMinRow[T])
	}
	return nil
}

// ewLegacy adds the broadcast/axis attributes of opsets 1 and 6: with
// broadcast=1, input 1's shape is a contiguous run of input 0's dims
// starting at axis (trailing dims when axis is absent).
func ewLegacy(prep prepareFunc) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		fn, err := prep(s)
		if err != nil {
			return nil, err
		}
		if s.Attrs.Int("broadcast", 0) == 0 || !s.Attrs.Has("axis") {
			return fn, nil
		}
		axis := s.Attrs.Int("axis", 0)
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 2); err != nil {
				return nil, err
			}
			a, b := in[0], in[1]
			ax := int(axis)
			if ax < 0 {
				ax += a.Rank()
			}
			if ax < 0 || ax+b.Rank() > a.Rank() {
				return nil, fmt.Errorf("%w: axis %d does not place input 1 of shape %v in input 0 of shape %v",
					errAttr, axis, b.Shape, a.Shape)
			}
			shape := make([]int, a.Rank()-ax)
			for i := range shape {
				shape[i] = 1
			}
			copy(shape, b.Shape)
			return fn([]*ir.Tensor{a, {DType: b.DType, Shape: shape, Data: b.Data}})
		}, nil
	}
}
