package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
// ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare.

// redOp names one of the Reduce* operators.
type redOp uint8

const (
	redOpSum redOp = iota
	redOpMean
	redOpMax
	redOpMin
	redOpProd
	redOpL1
	redOpL2
	redOpLogSum
	redOpLogSumExp
	redOpSumSquare
)

var redOpNames = map[string]redOp{
	"ReduceSum": redOpSum, "ReduceMean": redOpMean, "ReduceMax": redOpMax,
	"ReduceMin": redOpMin, "ReduceProd": redOpProd, "ReduceL1": redOpL1,
	"ReduceL2": redOpL2, "ReduceLogSum": redOpLogSum,
	"ReduceLogSumExp": redOpLogSumExp, "ReduceSumSquare": redOpSumSquare,
}

func init() {
	for name, op := range redOpNames {
		reg(name, 1, prepReduce(op, false))
		// axes moved from an attribute to an input: ReduceSum at 13, the rest at 18.
		if op == redOpSum {
			reg(name, 13, prepReduce(op, true))
		} else {
			reg(name, 18, prepReduce(op, true))
		}
	}
}

// prepReduce prepares a Reduce* op; axesInput selects the opset >= 13/18
// form that reads axes from input 1 and honours noop_with_empty_axes.
func prepReduce(op redOp, axesInput bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		dt := inputType(s.InputTypes, 0)
		if !redIsReal(dt) && !(dt == ir.Bool && (op == redOpMax || op == redOpMin)) {
			return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, dt)
		}
		keep := s.Attrs.Int("keepdims", 1) != 0
		noop := axesInput && s.Attrs.Int("noop_with_empty_axes", 0) != 0
		attrAxes := s.Attrs.Ints("axes", nil)
		fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			x := in[0]
			axes := attrAxes
			if axesInput {
				axes = nil
				if len(in) > 1 && in[1] != nil {
					var err error
					if axes, err = intsOf(in[1]); err != nil {
						return nil, fmt.Errorf("%w: input 1 (axes): %v", errInput, err)
					}
				}
			}
			ax, err := redAxesOf(axes, x.Rank(), noop)
			if err != nil {
				if axesInput {
					return nil, fmt.Errorf("input 1 (axes) %v for input 0 shape %v: %w", axes, x.Shape, err)
				}
				return nil, fmt.Errorf("axes %v for input 0 shape %v: %w", axes, x.Shape, err)
			}
			y, err := redReduce(op, x, ax, keep)
			if err != nil {
				return nil, err
			}
			return one(y)
		}
		return viaFloat32(fn, dt, 0), nil
	}
}

// redAxesOf normalizes reduction axes; none means every axis, unless noop.
func redAxesOf(axes []int64, rank int, noop bool) ([]int, error) {
	if len(axes) == 0 {
		if noop {
			return []int{}, nil
		}
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	return normAxes(axes, rank)
}

// redReduce applies op to x over axes (float32/float64, integers or bool).
func redReduce(op redOp, x *ir.Tensor, axes []int, keep bool) (*ir.Tensor, error) {
	p := redMakePlan(x.Shape, axes, keep)
	if p.outN == 0 || p.n == 0 {
		return redIdentity(op, x.DType, p)
	}
	switch d := x.Data.(type) {
	case []float32:
		return &ir.Tensor{DType: x.DType, Shape: p.outShape, Data: redFloatOp(op, p, d)}, nil
	case []float64:
		return &ir.Tensor{DType: x.DType, Shape: p.outShape, Data: redFloatOp(op, p, d)}, nil
	case []int8:
		return redIntTensor(op, p, x, d, int64(0))
	case []int16:
		return redIntTensor(op, p, x, d, int64(0))
	case []int32:
		return redIntTensor(op, p, x, d, int64(0))
	case []int64:
		return redIntTensor(op, p, x, d, int64(0))
	case []uint8:
		return redIntTensor(op, p, x, d, uint64(0))
	case []uint16:
		return redIntTensor(op, p, x, d, uint64(0))
	case []uint32:
		return redIntTensor(op, p, x, d, uint64(0))
	case []uint64:
		return redIntTensor(op, p, x, d, uint64(0))
	case []bool:
		u := make([]uint8, len(d))
		for i, v := range d {
			if v {
				u[i] = 1
			}
		}
		r := redIntOp[uint8, uint64](op, p, u)
		out := make([]bool, len(r))
		for i, v := range r {
			out[i] = v != 0
		}
		return &ir.Tensor{DType: ir.Bool, Shape: p.outShape, Data: out}, nil
	}
	return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
}

// redIntTensor runs an integer reduction; the last argument picks the
// accumulator type.
func redIntTensor[T redNum, A redAcc](op redOp, p *redPlan, x *ir.Tensor, d []T, _ A) (*ir.Tensor, error) {
	switch op {
	case redOpL2, redOpLogSum, redOpLogSumExp:
		f := redFloatOp(op, p, redConvSlice[T, float64](d))
		return redFromF64(f, x.DType, p.outShape)
	}
	return &ir.Tensor{DType: x.DType, Shape: p.outShape, Data: redIntOp[T, A](op, p, d)}, nil
}

// redFloatOp computes op over a float slice with float64 accumulators.
func redFloatOp[T redFloat](op redOp, p *redPlan, x []T) []T {
	var acc []float64
	xf, isF32 := any(x).([]float32)
	switch op {
	case redOpSum, redOpMean, redOpLogSum:
		if isF32 && !p.innerKept && len(p.offs) == 1 {
			acc = redSumRunsF32(p, xf)
			break
		}
		acc = redExec[T, float64](p, redSum, x, nil)
	case redOpMax:
		acc = redExec[T, float64](p, redMax, x, nil)
	case redOpMin:
		acc = redExec[T, float64](p, redMin, x, nil)
	case redOpProd:
		acc = redExec[T, float64](p, redProd, x, nil)
	case redOpL1:
		acc = redExec[T, float64](p, redSumAbs, x, nil)
	case redOpL2, redOpSumSquare:
		acc = redExec[T, float64](p, redSumSq, x, nil)
	case redOpLogSumExp:
		m := redExec[T, float64](p, redMax, x, nil)
		for i, v := range m {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				m[i] = 0
			}
		}
		acc = redExec[T, float64](p, redSumExp, x, m)
		for i := range acc {
			acc[i] = math.Log(acc[i]) + m[i]
		}
	}
	n := float64(p.n)
	out := rawSlice[T](len(acc))
	for i, v := range acc {
		switch op {
		case redOpMean:
			v /= n
		case redOpL2:
			v = math.Sqrt(v)
		case redOpLogSum:
			v = math.Log(v)
		}
		out[i] = T(v)
	}
	return out
}

// redSumRunsF32 sums each output's contiguous run of p.n floats with
// vecmath.Sum64 (SIMD, float64 accumulators: the accuracy of redExec). A
// few long runs are split over the workers.
func redSumRunsF32(p *redPlan, x []float32) []float64 {
	out := make([]float64, len(p.bases))
	n := p.n
	if w := Threads(); len(p.bases) < w && n >= 1<<16 {
		for o, b := range p.bases {
			parts := make([]float64, w)
			parallelFor(w, n/w, func(lo, hi int) {
				for k := lo; k < hi; k++ {
					parts[k] = vecmath.Sum64(x[b+k*n/w : b+(k+1)*n/w])
				}
			})
			for _, v := range parts {
				out[o] += v
			}
		}
		return out
	}
	parallelFor(len(p.bases), n, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			out[o] = vecmath.Sum64(x[p.bases[o] : p.bases[o]+n])
		}
	})
	return out
}

// redIntOp computes the integer-valued ops in integer arithmetic (ReduceMean
// truncates toward zero).
func redIntOp[T redNum, A redAcc](op redOp, p *redPlan, x []T) []T {
	k := redSum
	switch op {
	case redOpMax:
		k = redMax
	case redOpMin:
		k = redMin
	case redOpProd:
		k = redProd
	case redOpL1:
		k = redSumAbs
	case redOpSumSquare:
		k = redSumSq
	}
	acc := redExec[T, A](p, k, x, nil)
	out := rawSlice[T](len(acc))
	for i, v := range acc {
		if op == redOpMean {
			v /= A(p.n)
		}
		out[i] = T(v)
	}
	return out
}

// redIdentity is the result of reducing empty sets (or of an empty output).
func redIdentity(op redOp, dt ir.DType, p *redPlan) (*ir.Tensor, error) {
	v := 0.0
	switch op {
	case redOpProd:
		v = 1
	case redOpMax, redOpLogSum, redOpLogSumExp:
		v = math.Inf(-1)
	case redOpMin:
		v = math.Inf(1)
	case redOpMean:
		v = math.NaN()
	}
	if dt == ir.Bool {
		v = 0
		if op == redOpMin {
			v = 1
		}
	}
	vals := make([]float64, p.outN)
	for i := range vals {
		vals[i] = v
	}
	return redFromF64(vals, dt, p.outShape)
}
