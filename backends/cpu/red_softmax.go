package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to 2-D
// at axis (default 1) and the op runs over each flattened row; from 13 on it
// runs over the single axis (default -1).

// redSmKind selects the softmax variant.
type redSmKind uint8

const (
	redSoftmax redSmKind = iota
	redLogSoftmax
	redHardmax
)

func init() {
	for op, k := range map[string]redSmKind{"Softmax": redSoftmax, "LogSoftmax": redLogSoftmax, "Hardmax": redHardmax} {
		reg(op, 1, prepSoftmax(k, true))
		reg(op, 13, prepSoftmax(k, false))
	}
}

func prepSoftmax(k redSmKind, coerce2D bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		if err := redNeedFloat(s.InputTypes, 0); err != nil {
			return nil, err
		}
		def := int64(-1)
		if coerce2D {
			def = 1
		}
		axisAttr := s.Attrs.Int("axis", def)
		fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			x := in[0]
			var outer, n, inner int
			if coerce2D {
				r := x.Rank()
				a := int(axisAttr)
				if a < 0 {
					a += r
				}
				if a < 0 || a > r {
					return nil, fmt.Errorf("%w: axis %d out of range for input 0 shape %v", errAttr, axisAttr, x.Shape)
				}
				outer, n, inner = ir.Size(x.Shape[:a]), ir.Size(x.Shape[a:]), 1
			} else {
				a, err := normAxis(axisAttr, x.Rank())
				if err != nil {
					return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
				}
				outer, n, inner = redSplit(x.Shape, a)
			}
			y := &ir.Tensor{DType: x.DType, Shape: append([]int{}, x.Shape...)}
			switch d := x.Data.(type) {
			case []float32:
				o := rawSlice[float32](len(d))
				redSoftmaxRun(k, o, d, outer, n, inner)
				y.Data = o
			case []float64:
				o := rawSlice[float64](len(d))
				redSoftmaxRun(k, o, d, outer, n, inner)
				y.Data = o
			default:
				return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
			}
			return one(y)
		}
		return viaFloat32(fn, inputType(s.InputTypes, 0), 0), nil
	}
}

// redSoftmaxRun applies the variant over the middle axis of x (outer, n, inner).
func redSoftmaxRun[T redFloat](k redSmKind, y, x []T, outer, n, inner int) {
	if n == 0 || outer == 0 || inner == 0 {
		return
	}
	if yf, ok := any(y).([]float32); ok && k != redHardmax {
		redSoftmaxRunF32(k, yf, any(x).([]float32), outer, n, inner)
		return
	}
	parallelFor(outer*inner, n*8, func(lo, hi int) {
		col := make([]float64, n)
		for it := lo; it < hi; it++ {
			o, c := it/inner, it%inner
			base := o*n*inner + c
			for j := range col {
				col[j] = float64(x[base+j*inner])
			}
			redSoftmaxCol(k, col)
			for j, v := range col {
				y[base+j*inner] = T(v)
			}
		}
	})
}

// redSoftmaxCol replaces v by its softmax, log-softmax or hardmax.
func redSoftmaxCol(k redSmKind, v []float64) {
	if len(v) == 0 {
		return
	}
	m, at := v[0], 0
	for j, x := range v {
		if x > m {
			m, at = x, j
		}
	}
	if k == redHardmax {
		for j := range v {
			v[j] = 0
		}
		v[at] = 1
		return
	}
	if math.IsInf(m, 0) {
		m = 0
	}
	if k == redLogSoftmax {
		sum := 0.0
		for _, x := range v {
			sum += math.Exp(x - m)
		}
		ls := m + math.Log(sum)
		for j := range v {
			v[j] -= ls
		}
		return
	}
	sum := 0.0
	for j, x := range v {
		e := math.Exp(x - m)
		v[j] = e
		sum += e
	}
	for j := range v {
		v[j] /= sum
	}
}

// redSoftmaxRunF32 is Softmax or LogSoftmax of float32 with the vecmath
// kernels, in float32 throughout: on each row when rows are contiguous,
// else on a gathered column.
func redSoftmaxRunF32(k redSmKind, y, x []float32, outer, n, inner int) {
	parallelFor(outer*inner, n*8, func(lo, hi int) {
		var cx, cy []float32
		if inner > 1 {
			cx, cy = make([]float32, n), make([]float32, n)
		}
		for it := lo; it < hi; it++ {
			o, c := it/inner, it%inner
			base := o*n*inner + c
			if inner == 1 {
				redSoftmaxRowF32(k, y[base:base+n], x[base:base+n])
				continue
			}
			for j := range cx {
				cx[j] = x[base+j*inner]
			}
			redSoftmaxRowF32(k, cy, cx)
			for j, v := range cy {
				y[base+j*inner] = v
			}
		}
	})
}

// redSoftmaxRowF32 sets y (distinct from x) to the softmax or log-softmax
// of x, shifting by the maximum (by 0 when that is infinite).
func redSoftmaxRowF32(k redSmKind, y, x []float32) {
	m := vecmath.Max(x)
	if math.IsInf(float64(m), 0) {
		m = 0
	}
	s := vecmath.ExpShiftSum(y, x, m)
	if k == redSoftmax {
		vecmath.MulScalar(y, y, 1/s)
		return
	}
	// (x - m) - log(s): exact near the maximum, where the result is small.
	vecmath.AddScalar(y, x, -m)
	vecmath.AddScalar(y, y, -float32(math.Log(float64(s))))
}
