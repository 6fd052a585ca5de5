package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Variadic Max, Min, Sum, Mean (multi-input broadcasting) and Where.

func init() {
	for _, op := range []string{"Max", "Min", "Sum", "Mean"} {
		reg(op, 1, prepVariadic(op))
	}
	reg("Where", 9, prepWhere)
}

func prepVariadic(op string) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		n := len(s.InputTypes)
		if n == 0 {
			return nil, fmt.Errorf("%w: %s needs at least one input", errInput, op)
		}
		dt, err := ewSameTypes(s, n)
		if err != nil {
			return nil, err
		}
		cdt := ewComputeType(dt)
		base := op
		if op == "Sum" || op == "Mean" {
			base = "Add"
		}
		f := ewArith(base, cdt)
		if f == nil || (op == "Mean" && !cdt.IsFloat()) {
			return nil, ewNoKernel(op, dt)
		}
		fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, len(in)); err != nil {
				return nil, err
			}
			if len(in) == 0 {
				return nil, fmt.Errorf("%w: %s needs at least one input", errInput, op)
			}
			acc := in[0]
			for i := 1; i < len(in); i++ {
				next, err := f(acc, in[i])
				if err != nil {
					return nil, fmt.Errorf("%w (at input %d of shape %v, running shape %v)", err, i, in[i].Shape, acc.Shape)
				}
				acc = next
			}
			if op == "Mean" {
				acc = ewScale(acc, len(in))
			}
			return one(acc)
		}
		return viaFloat32(fn, dt, ewSeq(n)...), nil
	}
}

// ewSeq returns 0..n-1.
func ewSeq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// ewScale returns t / n for a float tensor (a new tensor).
func ewScale(t *ir.Tensor, n int) *ir.Tensor {
	out := &ir.Tensor{DType: t.DType, Shape: t.Shape}
	switch d := t.Data.(type) {
	case []float32:
		o := rawSlice[float32](len(d))
		for i, v := range d {
			o[i] = v / float32(n)
		}
		out.Data = o
	case []float64:
		o := rawSlice[float64](len(d))
		for i, v := range d {
			o[i] = v / float64(n)
		}
		out.Data = o
	}
	return out
}

func prepWhere(s *backends.OpSpec) (kernelFunc, error) {
	if ct := inputType(s.InputTypes, 0); ct != ir.Bool {
		return nil, fmt.Errorf("%w: Where condition (input 0) is %v, want bool", errDType, ct)
	}
	xt, yt := inputType(s.InputTypes, 1), inputType(s.InputTypes, 2)
	if xt != yt {
		return nil, fmt.Errorf("%w: Where inputs 1 and 2 are %v and %v", errDType, xt, yt)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		out, err := ewWhere(in[0], in[1], in[2])
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func ewWhere(c, x, y *ir.Tensor) (*ir.Tensor, error) {
	shape, err := broadcastShapes(c.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, fmt.Errorf("%w: inputs 0, 1, 2: cannot broadcast shapes %v, %v and %v", errShape, c.Shape, x.Shape, y.Shape)
	}
	out, err := newTensorRaw(x.DType, shape)
	if err != nil {
		return nil, err
	}
	switch x.Data.(type) {
	case []float32:
		err = ewWhereT[float32](out, c, x, y)
	case []float64:
		err = ewWhereT[float64](out, c, x, y)
	case []int8:
		err = ewWhereT[int8](out, c, x, y)
	case []int16:
		err = ewWhereT[int16](out, c, x, y)
	case []int32:
		err = ewWhereT[int32](out, c, x, y)
	case []int64:
		err = ewWhereT[int64](out, c, x, y)
	case []uint8:
		err = ewWhereT[uint8](out, c, x, y)
	case []uint16:
		err = ewWhereT[uint16](out, c, x, y)
	case []uint32:
		err = ewWhereT[uint32](out, c, x, y)
	case []uint64:
		err = ewWhereT[uint64](out, c, x, y)
	case []bool:
		err = ewWhereT[bool](out, c, x, y)
	case []string:
		err = ewWhereT[string](out, c, x, y)
	case []complex64:
		err = ewWhereT[complex64](out, c, x, y)
	case []complex128:
		err = ewWhereT[complex128](out, c, x, y)
	default:
		err = fmt.Errorf("%w: Where input 1 is %v stored as %T", errDType, x.DType, x.Data)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// o = c ? x : y, broadcast.
func ewWhereT[T any](out, c, x, y *ir.Tensor) error {
	cd, ok1 := c.Data.([]bool)
	xd, ok2 := x.Data.([]T)
	yd, ok3 := y.Data.([]T)
	o, ok4 := out.Data.([]T)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("%w: Where inputs are %v, %v, %v", errDType, c.DType, x.DType, y.DType)
	}
	n := len(o)
	if n == 0 {
		return nil
	}
	if len(cd) == n && len(xd) == n && len(yd) == n {
		parallelFor(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if cd[i] {
					o[i] = xd[i]
				} else {
					o[i] = yd[i]
				}
			}
		})
		return nil
	}
	p := ewMakePlan(out.Shape, c.Shape, x.Shape, y.Shape)
	r := len(p.dims) - 1
	inner := p.dims[r]
	sc, sx, sy := p.strides[0][r], p.strides[1][r], p.strides[2][r]
	parallelFor(n/inner, inner, func(lo, hi int) {
		ewWalk(p, lo, hi, func(k int, offs []int) {
			row := o[k*inner : (k+1)*inner]
			oc, ox, oy := offs[0], offs[1], offs[2]
			for i := range row {
				if cd[oc+i*sc] {
					row[i] = xd[ox+i*sx]
				} else {
					row[i] = yd[oy+i*sy]
				}
			}
		})
	})
	return nil
}
