package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Pad (constant, reflect, edge, wrap) and CenterCropPad.

func init() {
	reg("Pad", 1, prepPad)
	reg("Pad", 2, prepPad)
	reg("Pad", 11, prepPad)
	reg("CenterCropPad", 18, prepCenterCropPad)
}

func prepPad(s *backends.OpSpec) (kernelFunc, error) {
	mode := s.Attrs.Str("mode", "constant")
	switch mode {
	case "constant", "reflect", "edge":
	case "wrap":
		if movVer(s) < 19 {
			return nil, fmt.Errorf("%w: Pad: mode wrap needs opset 19, model has %d", errAttr, s.Version)
		}
	default:
		return nil, fmt.Errorf("%w: Pad: unknown mode %q", errAttr, mode)
	}
	if movVer(s) < 11 {
		name := "pads"
		if movVer(s) < 2 {
			name = "paddings"
		}
		if !s.Attrs.Has(name) {
			return nil, fmt.Errorf("%w: Pad-%d needs the %s attribute", errAttr, s.Version, name)
		}
		pads := s.Attrs.Ints(name, nil)
		value := float64(s.Attrs.Float("value", 0))
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			fill, err := movScalarOf(in[0].DType, value)
			if err != nil {
				return nil, fmt.Errorf("Pad: value attribute: %w", err)
			}
			return movPad(in[0], pads, nil, mode, fill)
		}, nil
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		pads, err := movShapeInput(in[1], "input 1 (pads)")
		if err != nil {
			return nil, err
		}
		var fill *ir.Tensor
		if len(in) > 2 && in[2] != nil {
			fill = in[2]
			if fill.DType != in[0].DType || fill.Len() > 1 {
				return nil, fmt.Errorf("%w: Pad: input 2 (constant_value) %v%v must be one %v value", errInput, fill.DType, fill.Shape, in[0].DType)
			}
		}
		var axes []int64
		if len(in) > 3 && in[3] != nil {
			if axes, err = movShapeInput(in[3], "input 3 (axes)"); err != nil {
				return nil, err
			}
		}
		return movPad(in[0], pads, axes, mode, fill)
	}, nil
}

// movPad pads (or, for negative pads, crops) x. pads is [begins..., ends...]
// over axes (all axes when nil).
func movPad(x *ir.Tensor, pads, axes []int64, mode string, fill *ir.Tensor) ([]*ir.Tensor, error) {
	r := x.Rank()
	if axes == nil {
		axes = make([]int64, r)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("%w: Pad: %d pads for %d axes of input shape %v", errInput, len(pads), len(axes), x.Shape)
	}
	norm, err := normAxes(axes, r)
	if err != nil {
		return nil, fmt.Errorf("Pad: input shape %v: %w", x.Shape, err)
	}
	begin, end := make([]int, r), make([]int, r)
	for i, a := range norm {
		b, e := pads[i], pads[i+len(norm)]
		if b < -ir.MaxElements || b > ir.MaxElements || e < -ir.MaxElements || e > ir.MaxElements {
			return nil, fmt.Errorf("%w: Pad: pads %v out of range", errInput, pads)
		}
		begin[a], end[a] = int(b), int(e)
	}
	out, err := movPadAxes(x, begin, end, mode, fill)
	if err != nil {
		return nil, fmt.Errorf("Pad: input shape %v pads %v: %w", x.Shape, pads, err)
	}
	return one(out)
}

// movPadAxes pads every axis i by begin[i] and end[i] elements.
func movPadAxes(x *ir.Tensor, begin, end []int, mode string, fill *ir.Tensor) (*ir.Tensor, error) {
	st := stridesOf(x.Shape)
	shape := make([]int, x.Rank())
	axes := make([]movAxis, x.Rank())
	for a, d := range x.Shape {
		n := d + begin[a] + end[a]
		if n < 0 {
			return nil, fmt.Errorf("%w: axis %d would have size %d", errShape, a, n)
		}
		shape[a] = n
		if begin[a] == 0 && end[a] == 0 {
			axes[a] = movAffine(d, 0, st[a])
			continue
		}
		if d == 0 && n > 0 && mode != "constant" {
			return nil, fmt.Errorf("%w: mode %s cannot pad the empty axis %d", errShape, mode, a)
		}
		if _, err := ir.NumElements(shape[:a+1]); err != nil {
			return nil, err
		}
		tab := make([]int, n)
		for i := range tab {
			j := movPadIndex(i-begin[a], d, mode)
			if j >= 0 {
				j *= st[a]
			}
			tab[i] = j
		}
		axes[a] = movTable(tab)
	}
	return movMap(x, x.DType, shape, axes, fill)
}

// movPadIndex maps a coordinate j (possibly outside [0, d)) to the input
// index the pad mode reads, or -1 for the constant.
func movPadIndex(j, d int, mode string) int {
	if j >= 0 && j < d {
		return j
	}
	switch mode {
	case "edge":
		return min(max(j, 0), d-1)
	case "wrap":
		return ((j % d) + d) % d
	case "reflect":
		if d == 1 {
			return 0
		}
		m := 2 * (d - 1)
		j = ((j % m) + m) % m
		if j >= d {
			j = m - j
		}
		return j
	}
	return -1
}

// movScalarOf makes a one-element tensor of a numeric dtype holding v.
func movScalarOf(dt ir.DType, v float64) (*ir.Tensor, error) {
	t, err := newTensor(dt, nil)
	if err != nil {
		return nil, err
	}
	if err := movSetFloat(t, 0, v); err != nil {
		return nil, err
	}
	return t, nil
}

// movSetFloat stores v (converted) as element i of t.
func movSetFloat(t *ir.Tensor, i int, v float64) error {
	switch d := t.Data.(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []int8:
		d[i] = int8(v)
	case []int16:
		d[i] = int16(v)
	case []int32:
		d[i] = int32(v)
	case []int64:
		d[i] = int64(v)
	case []uint8:
		if t.DType.IsSmallFloat() {
			d[i] = uint8(ir.Float32ToSmallFloat(t.DType, float32(v), true))
		} else {
			d[i] = uint8(v)
		}
	case []uint16:
		if t.DType.IsSmallFloat() {
			d[i] = ir.Float32ToSmallFloat(t.DType, float32(v), true)
		} else {
			d[i] = uint16(v)
		}
	case []uint32:
		d[i] = uint32(v)
	case []uint64:
		d[i] = uint64(v)
	case []bool:
		d[i] = v != 0
	case []complex64:
		d[i] = complex(float32(v), 0)
	case []complex128:
		d[i] = complex(v, 0)
	default:
		return fmt.Errorf("%w: numeric value for %v", errDType, t.DType)
	}
	return nil
}

func prepCenterCropPad(s *backends.OpSpec) (kernelFunc, error) {
	attrAxes := s.Attrs.Ints("axes", nil)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		target, err := movShapeInput(in[1], "input 1 (shape)")
		if err != nil {
			return nil, err
		}
		axes := attrAxes
		if axes == nil {
			axes = make([]int64, x.Rank())
			for i := range axes {
				axes[i] = int64(i)
			}
		}
		if len(axes) != len(target) {
			return nil, fmt.Errorf("%w: CenterCropPad: shape %v for axes %v", errInput, target, axes)
		}
		norm, err := normAxes(axes, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("CenterCropPad: input shape %v: %w", x.Shape, err)
		}
		begin, end := make([]int, x.Rank()), make([]int, x.Rank())
		for i, a := range norm {
			if target[i] < 0 || target[i] > ir.MaxElements {
				return nil, fmt.Errorf("%w: CenterCropPad: target size %d", errInput, target[i])
			}
			diff := int(target[i]) - x.Shape[a]
			if diff >= 0 {
				begin[a] = diff / 2
			} else {
				begin[a] = -((-diff) / 2)
			}
			end[a] = diff - begin[a]
		}
		out, err := movPadAxes(x, begin, end, "constant", nil)
		if err != nil {
			return nil, fmt.Errorf("CenterCropPad: input shape %v to %v: %w", x.Shape, target, err)
		}
		return one(out)
	}, nil
}
