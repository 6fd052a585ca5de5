package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("QuantizeLinear", 10, prepQuantizeLinear)
	reg("DequantizeLinear", 10, prepDequantizeLinear)
	reg("DynamicQuantizeLinear", 11, prepDynamicQuantizeLinear)
}

// convQMap maps an element of x to the index of its scale / zero point:
// per tensor (one scale), per axis (1-D scale along axis) or blocked (scale
// shaped like x with axis shrunk to ceil(D/block)).
type convQMap struct {
	mode                 int // 0 tensor, 1 axis, 2 blocked
	axisLen, inner       int
	block, scaleAxisSize int
}

func (q convQMap) index(i int) int {
	switch q.mode {
	case 1:
		return i / q.inner % q.axisLen
	case 2:
		o := i / (q.inner * q.axisLen)
		a := i / q.inner % q.axisLen
		return (o*q.scaleAxisSize+a/q.block)*q.inner + i%q.inner
	}
	return 0
}

func convPlanQMap(op string, xs, ss []int, axis int64, block int) (convQMap, error) {
	if ir.Size(ss) == 1 && block <= 0 {
		return convQMap{}, nil
	}
	a, err := normAxis(axis, max(len(xs), 1))
	if err != nil || len(xs) == 0 {
		return convQMap{}, fmt.Errorf("%w: %s: axis %d for input shape %v", errAttr, op, axis, xs)
	}
	q := convQMap{axisLen: xs[a], inner: ir.Size(xs[a+1:])}
	if block <= 0 {
		if len(ss) != 1 || ss[0] != xs[a] {
			return q, fmt.Errorf("%w: %s: per-axis scale shape %v, want [%d] (axis %d of %v)", errShape, op, ss, xs[a], a, xs)
		}
		q.mode = 1
		return q, nil
	}
	q.mode, q.block = 2, block
	ok := len(ss) == len(xs)
	for d := 0; ok && d < len(xs); d++ {
		if d == a {
			ok = ss[d] == (xs[d]+block-1)/block
		} else {
			ok = ss[d] == xs[d]
		}
	}
	if !ok {
		return q, fmt.Errorf("%w: %s: blocked scale shape %v does not fit input %v with block_size %d on axis %d",
			errShape, op, ss, xs, block, a)
	}
	q.scaleAxisSize = ss[a]
	return q, nil
}

// convQRange is the integer range of a quantized type (ok false for floats).
func convQRange(dt ir.DType) (lo, hi int64, ok bool) {
	switch dt {
	case ir.Uint8:
		return 0, 255, true
	case ir.Int8:
		return -128, 127, true
	case ir.Uint16:
		return 0, 65535, true
	case ir.Int16:
		return -32768, 32767, true
	case ir.Uint4:
		return 0, 15, true
	case ir.Int4:
		return -8, 7, true
	case ir.Uint2:
		return 0, 3, true
	case ir.Int2:
		return -2, 1, true
	case ir.Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// convQuantTarget reports whether dt is a QuantizeLinear output type.
func convQuantTarget(dt ir.DType) bool {
	if _, _, ok := convQRange(dt); ok {
		return dt != ir.Int32
	}
	switch dt {
	case ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float4E2M1:
		return true
	}
	return false
}

// convSetInt stores integer v (already in range) as element i of t.
func convSetInt(t *ir.Tensor, i int, v int64) {
	switch d := t.Data.(type) {
	case []int8:
		d[i] = int8(v)
	case []uint8:
		d[i] = uint8(v)
	case []int16:
		d[i] = int16(v)
	case []uint16:
		d[i] = uint16(v)
	case []int32:
		d[i] = int32(v)
	}
}

// convFloats returns t's values as float64 (scales, zero points, inputs).
func convFloats(t *ir.Tensor) []float64 {
	if t == nil {
		return nil
	}
	if f, ok := t.Data.([]float64); ok {
		return f
	}
	out := make([]float64, t.Len())
	if f, ok := t.Data.([]float32); ok {
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	}
	for i := range out {
		out[i] = t.Float64At(i)
	}
	return out
}

// convRoundTo rounds v to the precision of dt (float16/bfloat16 narrow it;
// float32 and wider leave it).
func convRoundTo(dt ir.DType, v float32) float32 {
	if dt == ir.Float16 || dt == ir.BFloat16 {
		return ir.SmallFloatToFloat32(dt, ir.Float32ToSmallFloat(dt, v, false))
	}
	return v
}

// convQuant is a prepared QuantizeLinear.
type convQuant struct {
	axis      int64
	block     int
	saturate  bool
	outDT     ir.DType
	precision ir.DType // type the division is done in
}

func prepQuantizeLinear(s *backends.OpSpec) (kernelFunc, error) {
	q := convQuant{
		axis:     s.Attrs.Int("axis", 1),
		block:    int(s.Attrs.Int("block_size", 0)),
		saturate: s.Attrs.Int("saturate", 1) != 0,
		outDT:    ir.DType(s.Attrs.Int("output_dtype", 0)),
	}
	xt, st := inputType(s.InputTypes, 0), inputType(s.InputTypes, 1)
	if zt := inputType(s.InputTypes, 2); zt != ir.Undefined {
		if q.outDT != ir.Undefined && q.outDT != zt {
			return nil, fmt.Errorf("%w: QuantizeLinear: output_dtype %v differs from y_zero_point (input 2) type %v", errAttr, q.outDT, zt)
		}
		q.outDT = zt
	}
	if q.outDT == ir.Undefined {
		q.outDT = ir.Uint8
	}
	if !convQuantTarget(q.outDT) {
		return nil, fmt.Errorf("%w: QuantizeLinear: output type %v", errDType, q.outDT)
	}
	switch xt {
	case ir.Float32, ir.Float16, ir.BFloat16, ir.Int32, ir.Float64:
	default:
		return nil, fmt.Errorf("%w: QuantizeLinear: x (input 0) is %v", errDType, xt)
	}
	if !st.IsFloat() && st != ir.Int32 {
		return nil, fmt.Errorf("%w: QuantizeLinear: y_scale (input 1) is %v", errDType, st)
	}
	// numpy's promotion of x / y_scale: narrow only when both are the same
	// narrow float; an int32 x divides in float64.
	q.precision = ir.Float32
	switch {
	case xt == ir.Int32 || xt == ir.Float64 || st == ir.Float64:
		q.precision = ir.Float64
	case xt == st:
		q.precision = xt
	}
	if p := ir.DType(s.Attrs.Int("precision", 0)); p != ir.Undefined {
		q.precision = p
	}
	return q.run, nil
}

// run: y = saturate(round(x / y_scale) + y_zero_point), or for float8/4
// targets a (saturating) cast of x / y_scale + y_zero_point.
func (q convQuant) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("QuantizeLinear: %w", err)
	}
	x, sc := in[0], in[1]
	var zp *ir.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	m, err := convPlanQMap("QuantizeLinear", x.Shape, sc.Shape, q.axis, q.block)
	if err != nil {
		return nil, err
	}
	if zp != nil && !slices.Equal(zp.Shape, sc.Shape) && ir.Size(zp.Shape) != ir.Size(sc.Shape) {
		return nil, fmt.Errorf("%w: QuantizeLinear: y_zero_point shape %v differs from y_scale shape %v", errShape, zp.Shape, sc.Shape)
	}
	out, err := newTensor(q.outDT, x.Shape)
	if err != nil {
		return nil, fmt.Errorf("QuantizeLinear: %w", err)
	}
	xv, sv, zv := convFloats(x), convFloats(sc), convFloats(zp)
	lo, hi, isInt := convQRange(q.outDT)
	parallelFor(len(xv), 16, func(a, b int) {
		for i := a; i < b; i++ {
			si := m.index(i)
			var v float64
			if q.precision == ir.Float64 {
				v = xv[i] / sv[si]
			} else {
				xf := convRoundTo(q.precision, float32(xv[i]))
				sf := convRoundTo(q.precision, float32(sv[si]))
				v = float64(convRoundTo(q.precision, xf/sf))
			}
			z := 0.0
			if zv != nil {
				z = zv[si]
			}
			if isInt {
				r := math.RoundToEven(v) + z
				if math.IsNaN(r) {
					r = 0
				}
				convSetInt(out, i, int64(max(float64(lo), min(float64(hi), r))))
				continue
			}
			out.Data.([]uint8)[i] = uint8(ir.Float32ToSmallFloat(q.outDT, float32(v+z), q.saturate))
		}
	})
	return one(out)
}

// convDequant is a prepared DequantizeLinear.
type convDequant struct {
	axis  int64
	block int
	outDT ir.DType
}

func prepDequantizeLinear(s *backends.OpSpec) (kernelFunc, error) {
	d := convDequant{
		axis:  s.Attrs.Int("axis", 1),
		block: int(s.Attrs.Int("block_size", 0)),
		outDT: ir.DType(s.Attrs.Int("output_dtype", 0)),
	}
	xt, st := inputType(s.InputTypes, 0), inputType(s.InputTypes, 1)
	if !convQuantTarget(xt) && xt != ir.Int32 {
		return nil, fmt.Errorf("%w: DequantizeLinear: x (input 0) is %v", errDType, xt)
	}
	if zt := inputType(s.InputTypes, 2); zt != ir.Undefined && zt != xt {
		return nil, fmt.Errorf("%w: DequantizeLinear: x_zero_point (input 2) is %v, x is %v", errDType, zt, xt)
	}
	if d.outDT == ir.Undefined {
		d.outDT = st
		if st == ir.Float8E8M0 {
			d.outDT = ir.Float32
		}
	}
	switch d.outDT {
	case ir.Float32, ir.Float16, ir.BFloat16:
	default:
		return nil, fmt.Errorf("%w: DequantizeLinear: output type %v", errDType, d.outDT)
	}
	return d.run, nil
}

// run: y = (x - x_zero_point) * x_scale.
func (d convDequant) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("DequantizeLinear: %w", err)
	}
	x, sc := in[0], in[1]
	var zp *ir.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	m, err := convPlanQMap("DequantizeLinear", x.Shape, sc.Shape, d.axis, d.block)
	if err != nil {
		return nil, err
	}
	if zp != nil && ir.Size(zp.Shape) != ir.Size(sc.Shape) {
		return nil, fmt.Errorf("%w: DequantizeLinear: x_zero_point shape %v differs from x_scale shape %v", errShape, zp.Shape, sc.Shape)
	}
	xv, sv, zv := convFloats(x), convFloats(sc), convFloats(zp)
	y := make([]float32, len(xv))
	parallelFor(len(xv), 8, func(a, b int) {
		for i := a; i < b; i++ {
			si := m.index(i)
			v := xv[i]
			if zv != nil {
				v -= zv[si]
			}
			y[i] = float32(v * sv[si])
		}
	})
	out := &ir.Tensor{DType: ir.Float32, Shape: append([]int{}, x.Shape...), Data: y}
	return one(fromFloat32(out, d.outDT))
}

func prepDynamicQuantizeLinear(s *backends.OpSpec) (kernelFunc, error) {
	if t := inputType(s.InputTypes, 0); t != ir.Float32 {
		return nil, fmt.Errorf("%w: DynamicQuantizeLinear: x is %v, want float32", errDType, t)
	}
	return convDynQuant, nil
}

// convDynQuant: x -> uint8 y, float32 scale, uint8 zero point with
// scale = (max(0, max x) - min(0, min x)) / 255 (1 when x is all zeros).
func convDynQuant(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 1); err != nil {
		return nil, fmt.Errorf("DynamicQuantizeLinear: %w", err)
	}
	x := in[0].Data.([]float32)
	var lo, hi float32
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	scale := float32(1)
	if hi != lo {
		scale = (hi - lo) / 255
	}
	zp := float32(math.RoundToEven(float64(max(0, min(255, 0-lo/scale)))))
	y := make([]uint8, len(x))
	parallelFor(len(x), 8, func(a, b int) {
		for i := a; i < b; i++ {
			r := float32(math.RoundToEven(float64(x[i]/scale))) + zp
			y[i] = uint8(max(0, min(255, r)))
		}
	})
	return []*ir.Tensor{
		{DType: ir.Uint8, Shape: append([]int{}, in[0].Shape...), Data: y},
		ir.Scalar(scale),
		ir.Scalar(uint8(zp)),
	}, nil
}
