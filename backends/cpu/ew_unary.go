package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// Unary math ops. Floats are computed in float64 and rounded to the
// tensor's type; narrow floats go through float32 (viaFloat32).

// ewMathFuncs are the unary float ops as float64 functions, with a rough
// cost per element for parallelFor.
var ewMathFuncs = map[string]struct {
	f    func(float64) float64
	cost int
}{
	"Acos":       {math.Acos, 20},
	"Acosh":      {math.Acosh, 20},
	"Asin":       {math.Asin, 20},
	"Asinh":      {math.Asinh, 20},
	"Atan":       {math.Atan, 20},
	"Atanh":      {math.Atanh, 20},
	"Ceil":       {math.Ceil, 2},
	"Cos":        {math.Cos, 20},
	"Cosh":       {math.Cosh, 20},
	"Erf":        {math.Erf, 20},
	"Exp":        {math.Exp, 20},
	"Floor":      {math.Floor, 2},
	"Log":        {math.Log, 20},
	"Reciprocal": {func(x float64) float64 { return 1 / x }, 4},
	"Round":      {math.RoundToEven, 2},
	"Sin":        {math.Sin, 20},
	"Sinh":       {math.Sinh, 20},
	"Sqrt":       {math.Sqrt, 4},
	"Tan":        {math.Tan, 20},
	"Tanh":       {math.Tanh, 20},
}

// ewMathF32 are the float32 kernels of vecmath (SIMD, a few ulp) for the
// unary ops that have one; the others go through float64.
var ewMathF32 = map[string]func(dst, x []float32){
	"Exp": vecmath.Exp, "Log": vecmath.Log, "Tanh": vecmath.Tanh, "Erf": vecmath.Erf,
}

// ewF32Cost is the parallelFor cost per element of a vecmath kernel.
const ewF32Cost = 4

func init() {
	for op := range ewMathFuncs {
		reg(op, 1, prepMath(op))
	}
	for _, op := range []string{"Abs", "Neg", "Sign", "Relu"} {
		reg(op, 1, prepSimple(op))
	}
	reg("IsNaN", 9, prepIsNaN)
	reg("IsInf", 10, prepIsInf)
	reg("Not", 1, prepNot)
	reg("BitwiseNot", 18, prepBitwiseNot)
}

// ewUnaryFunc computes a unary op on one host tensor.
type ewUnaryFunc func(x *ir.Tensor) (*ir.Tensor, error)

// ewU wraps a row function as an ewUnaryFunc producing dtype dt.
func ewU[T, O any](dt ir.DType, cost int, row func(o []O, x []T)) ewUnaryFunc {
	return func(x *ir.Tensor) (*ir.Tensor, error) { return ewUnary(x, dt, cost, row) }
}

// ewPrep1 builds the kernel of a unary op; narrow floats compute in float32.
func ewPrep1(dt ir.DType, f ewUnaryFunc) kernelFunc {
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		out, err := f(in[0])
		if err != nil {
			return nil, err
		}
		return one(out)
	}
	return viaFloat32(fn, dt, 0)
}

// ewFloatMap applies f to a float tensor of compute type dt.
func ewFloatMap(dt ir.DType, cost int, f func(float64) float64) ewUnaryFunc {
	switch dt {
	case ir.Float32:
		return ewU(dt, cost, ewMap[float32](f))
	case ir.Float64:
		return ewU(dt, cost, ewMap[float64](f))
	}
	return nil
}

// ewNumMap applies f to a tensor of any numeric compute type dt (integers
// go through float64 and are truncated back).
func ewNumMap(dt ir.DType, cost int, f func(float64) float64) ewUnaryFunc {
	switch dt {
	case ir.Int8:
		return ewU(dt, cost, ewMap[int8](f))
	case ir.Int16:
		return ewU(dt, cost, ewMap[int16](f))
	case ir.Int32:
		return ewU(dt, cost, ewMap[int32](f))
	case ir.Int64:
		return ewU(dt, cost, ewMap[int64](f))
	case ir.Uint8:
		return ewU(dt, cost, ewMap[uint8](f))
	case ir.Uint16:
		return ewU(dt, cost, ewMap[uint16](f))
	case ir.Uint32:
		return ewU(dt, cost, ewMap[uint32](f))
	case ir.Uint64:
		return ewU(dt, cost, ewMap[uint64](f))
	}
	return ewFloatMap(dt, cost, f)
}

func prepMath(op string) prepareFunc {
	m := ewMathFuncs[op]
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		f := ewFloatMap(ewComputeType(dt), m.cost, m.f)
		if k := ewMathF32[op]; k != nil && ewComputeType(dt) == ir.Float32 {
			f = ewU(ir.Float32, ewF32Cost, k)
		}
		if f == nil {
			return nil, ewNoKernel(op, dt)
		}
		return ewPrep1(dt, f), nil
	}
}

func prepSimple(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		cdt := ewComputeType(dt)
		var f ewUnaryFunc
		switch cdt {
		case ir.Float32:
			f = ewU(cdt, 1, ewSimpleRow[float32](op))
			if op == "Relu" {
				f = ewU(cdt, 1, vecmath.Relu)
			}
		case ir.Float64:
			f = ewU(cdt, 1, ewSimpleRow[float64](op))
		case ir.Int8:
			f = ewU(cdt, 1, ewSimpleRow[int8](op))
		case ir.Int16:
			f = ewU(cdt, 1, ewSimpleRow[int16](op))
		case ir.Int32:
			f = ewU(cdt, 1, ewSimpleRow[int32](op))
		case ir.Int64:
			f = ewU(cdt, 1, ewSimpleRow[int64](op))
		case ir.Uint8:
			f = ewU(cdt, 1, ewSimpleRow[uint8](op))
		case ir.Uint16:
			f = ewU(cdt, 1, ewSimpleRow[uint16](op))
		case ir.Uint32:
			f = ewU(cdt, 1, ewSimpleRow[uint32](op))
		case ir.Uint64:
			f = ewU(cdt, 1, ewSimpleRow[uint64](op))
		default:
			return nil, ewNoKernel(op, dt)
		}
		return ewPrep1(dt, f), nil
	}
}

// ewSimpleRow returns the row function of Abs, Neg, Sign or Relu.
func ewSimpleRow[T ewNum](op string) func(o, x []T) {
	switch op {
	case "Abs":
		return func(o, x []T) {
			o = o[:len(x)]
			for i, v := range x {
				if v < 0 {
					v = -v
				}
				o[i] = v
			}
		}
	case "Neg":
		return func(o, x []T) {
			o = o[:len(x)]
			for i, v := range x {
				o[i] = -v
			}
		}
	case "Sign":
		return func(o, x []T) {
			o = o[:len(x)]
			one := T(1)
			for i, v := range x {
				switch {
				case v > 0:
					o[i] = 1
				case v < 0:
					o[i] = -one
				default:
					o[i] = v // 0 or NaN
				}
			}
		}
	}
	return func(o, x []T) {
		o = o[:len(x)]
		for i, v := range x {
			o[i] = max(v, 0)
		}
	}
}

// ewFloat32Of decodes any float tensor (float8 formats included, with
// Keen's own codecs) to float32; float32 itself is returned as is.
func ewFloat32Of(t *ir.Tensor) (*ir.Tensor, error) {
	if t.DType == ir.Float32 {
		return t, nil
	}
	d, err := ewCastData(t, ir.Float32, true, "up")
	if err != nil {
		return nil, err
	}
	return &ir.Tensor{DType: ir.Float32, Shape: t.Shape, Data: d}, nil
}

// ewPredicate builds IsNaN/IsInf: f64 decides on float64 values.
func ewPredicate(op string, dt ir.DType, f func(float64) bool) (kernelFunc, error) {
	if !dt.IsFloat() {
		return nil, ewNoKernel(op, dt)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.DType != ir.Float64 {
			var err error
			if x, err = ewFloat32Of(x); err != nil {
				return nil, err
			}
			return one2(ewUnary(x, ir.Bool, 1, func(o []bool, x []float32) {
				for i, v := range x {
					o[i] = f(float64(v))
				}
			}))
		}
		return one2(ewUnary(x, ir.Bool, 1, func(o []bool, x []float64) {
			for i, v := range x {
				o[i] = f(v)
			}
		}))
	}, nil
}

// one2 wraps a (tensor, error) pair as a single output.
func one2(t *ir.Tensor, err error) ([]*ir.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return one(t)
}

func prepIsNaN(s *backends.OpSpec) (kernelFunc, error) {
	return ewPredicate("IsNaN", inputType(s.InputTypes, 0), math.IsNaN)
}

func prepIsInf(s *backends.OpSpec) (kernelFunc, error) {
	neg := s.Attrs.Int("detect_negative", 1) != 0
	pos := s.Attrs.Int("detect_positive", 1) != 0
	return ewPredicate("IsInf", inputType(s.InputTypes, 0), func(v float64) bool {
		return (pos && math.IsInf(v, 1)) || (neg && math.IsInf(v, -1))
	})
}

func prepNot(s *backends.OpSpec) (kernelFunc, error) {
	if dt := inputType(s.InputTypes, 0); dt != ir.Bool {
		return nil, ewNoKernel("Not", dt)
	}
	return ewPrep1(ir.Bool, ewU(ir.Bool, 1, func(o, x []bool) {
		for i, v := range x {
			o[i] = !v
		}
	})), nil
}

func prepBitwiseNot(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	var f ewUnaryFunc
	switch dt {
	case ir.Int8:
		f = ewU(dt, 1, ewBitNotRow[int8])
	case ir.Int16:
		f = ewU(dt, 1, ewBitNotRow[int16])
	case ir.Int32:
		f = ewU(dt, 1, ewBitNotRow[int32])
	case ir.Int64:
		f = ewU(dt, 1, ewBitNotRow[int64])
	case ir.Uint8:
		f = ewU(dt, 1, ewBitNotRow[uint8])
	case ir.Uint16:
		f = ewU(dt, 1, ewBitNotRow[uint16])
	case ir.Uint32:
		f = ewU(dt, 1, ewBitNotRow[uint32])
	case ir.Uint64:
		f = ewU(dt, 1, ewBitNotRow[uint64])
	default:
		return nil, fmt.Errorf("%w: BitwiseNot does not take %v", errDType, dt)
	}
	return ewPrep1(dt, f), nil
}

func ewBitNotRow[T ewInt](o, x []T) {
	for i, v := range x {
		o[i] = ^v
	}
}
