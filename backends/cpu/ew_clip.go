package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// Clip: bounds are attributes up to opset 10 and optional scalar inputs from
// opset 11 on. y = min(max(x, lo), hi), so lo > hi gives hi everywhere.

func prepClipAttr(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	cdt := ewComputeType(dt)
	if cdt != ir.Float32 && cdt != ir.Float64 {
		return nil, ewNoKernel("Clip", dt)
	}
	lo := s.Attrs.Find("min")
	hi := s.Attrs.Find("max")
	var bounds [2]*ir.Tensor
	if lo != nil {
		bounds[0] = ewScalarOf(cdt, float64(lo.Float))
	}
	if hi != nil {
		bounds[1] = ewScalarOf(cdt, float64(hi.Float))
	}
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		return one2(ewClip(in[0], bounds[0], bounds[1]))
	}
	return viaFloat32(fn, dt, 0), nil
}

// ewScalarOf makes a float32 or float64 scalar tensor.
func ewScalarOf(dt ir.DType, v float64) *ir.Tensor {
	if dt == ir.Float32 {
		return ir.Scalar(float32(v))
	}
	return ir.Scalar(v)
}

func prepClip(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: Clip input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	if !ewIsNumeric(dt) {
		return nil, ewNoKernel("Clip", dt)
	}
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		var lo, hi *ir.Tensor
		if len(in) > 1 {
			lo = in[1]
		}
		if len(in) > 2 {
			hi = in[2]
		}
		return one2(ewClip(in[0], lo, hi))
	}
	return viaFloat32(fn, dt, 0, 1, 2), nil
}

// ewClip clips x to the optional one-element bounds lo and hi.
func ewClip(x, lo, hi *ir.Tensor) (*ir.Tensor, error) {
	for i, b := range []*ir.Tensor{lo, hi} {
		if b != nil && b.Len() != 1 {
			return nil, fmt.Errorf("%w: Clip bound (input %d) has shape %v, want a scalar", errShape, i+1, b.Shape)
		}
	}
	switch x.Data.(type) {
	case []float32:
		if l, h, ok := ewClipBounds32(lo, hi); ok {
			return ewUnary(x, x.DType, 1, func(o, x []float32) { vecmath.Clamp(o, x, l, h) })
		}
		return ewClipT[float32](x, lo, hi)
	case []float64:
		return ewClipT[float64](x, lo, hi)
	case []int8:
		return ewClipT[int8](x, lo, hi)
	case []int16:
		return ewClipT[int16](x, lo, hi)
	case []int32:
		return ewClipT[int32](x, lo, hi)
	case []int64:
		return ewClipT[int64](x, lo, hi)
	case []uint8:
		return ewClipT[uint8](x, lo, hi)
	case []uint16:
		return ewClipT[uint16](x, lo, hi)
	case []uint32:
		return ewClipT[uint32](x, lo, hi)
	case []uint64:
		return ewClipT[uint64](x, lo, hi)
	}
	return nil, fmt.Errorf("%w: Clip input 0 is %v", errDType, x.DType)
}

// ewClipBounds32 returns float32 bounds for vecmath.Clamp, ±Inf where a
// bound is absent; ok is false when a bound is not a float32 scalar or is
// NaN (ewClipT then gives NaN everywhere, as min and max do).
func ewClipBounds32(lo, hi *ir.Tensor) (l, h float32, ok bool) {
	l, h = float32(math.Inf(-1)), float32(math.Inf(1))
	for i, b := range []*ir.Tensor{lo, hi} {
		if b == nil {
			continue
		}
		d, isF32 := b.Data.([]float32)
		if !isF32 || d[0] != d[0] {
			return 0, 0, false
		}
		if i == 0 {
			l = d[0]
		} else {
			h = d[0]
		}
	}
	return l, h, true
}

func ewClipT[T ewNum](x, lo, hi *ir.Tensor) (*ir.Tensor, error) {
	var l, h T
	hasL, hasH := lo != nil, hi != nil
	for i, b := range []*ir.Tensor{lo, hi} {
		if b == nil {
			continue
		}
		d, ok := b.Data.([]T)
		if !ok {
			return nil, fmt.Errorf("%w: Clip bound (input %d) is %v, input 0 is %v", errDType, i+1, b.DType, x.DType)
		}
		if i == 0 {
			l = d[0]
		} else {
			h = d[0]
		}
	}
	if hasL && hasH {
		// Both bounds (ReLU6 and friends): branch-free; min/max keep NaN.
		return ewUnary(x, x.DType, 1, func(o, x []T) {
			o = o[:len(x)]
			for i, v := range x {
				o[i] = min(max(v, l), h)
			}
		})
	}
	return ewUnary(x, x.DType, 1, func(o, x []T) {
		o = o[:len(x)]
		for i, v := range x {
			if hasL && v < l {
				v = l
			}
			if hasH && v > h {
				v = h
			}
			o[i] = v
		}
	})
}
