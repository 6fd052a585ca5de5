package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("ConvInteger", 10, prepConvInteger)
	reg("QLinearConv", 10, prepQLinearConv)
	reg("MatMulInteger", 10, prepMatMulInteger)
	reg("QLinearMatMul", 10, prepQLinearMatMul)
}

// convIs8 reports whether dt is int8 or uint8.
func convIs8(dt ir.DType) bool { return dt == ir.Int8 || dt == ir.Uint8 }

// convNeed8 checks that the listed inputs are 8-bit integers.
func convNeed8(op string, types []ir.DType, idx ...int) error {
	for _, i := range idx {
		if t := inputType(types, i); !convIs8(t) {
			return fmt.Errorf("%w: %s: input %d is %v, want int8 or uint8", errDType, op, i, t)
		}
	}
	return nil
}

// convCentered returns t - zp as int32, where zp (nil: 0) is one value or,
// when per > 0, one value per index (i / inner) % per.
func convCentered(op string, idx int, t, zp *ir.Tensor, per, inner int) ([]int32, error) {
	out := make([]int32, t.Len())
	var z []int64
	if zp != nil {
		var err error
		if z, err = zp.Int64s(); err != nil {
			return nil, fmt.Errorf("%w: %s: zero point of input %d: %v", errInput, op, idx, err)
		}
		if len(z) != 1 && len(z) != per {
			return nil, fmt.Errorf("%w: %s: zero point of input %d has shape %v, want a scalar or [%d]", errShape, op, idx, zp.Shape, per)
		}
	}
	for i := range out {
		v := int32(t.Float64At(i))
		switch {
		case len(z) == 1:
			v -= int32(z[0])
		case len(z) > 1:
			v -= int32(z[i/inner%per])
		}
		out[i] = v
	}
	return out, nil
}

// convIntConv computes the int32 convolution of (x - x_zp) and (w - w_zp),
// w_zp per output channel when 1-D.
func convIntConv(win convWin, group int, x, xzp, w, wzp *ir.Tensor) ([]int32, *convProblem, error) {
	p, err := convPlan(win, group, x.Shape, w.Shape, nil)
	if err != nil {
		return nil, nil, err
	}
	xi, err := convCentered(win.op, 0, x, xzp, 1, 1)
	if err != nil {
		return nil, nil, err
	}
	wi, err := convCentered(win.op, 1, w, wzp, p.m, w.Len()/max(1, p.m))
	if err != nil {
		return nil, nil, err
	}
	y := make([]int32, ir.Size(p.outShape()))
	convForward(p, xi, wi, nil, y, convGemmFnT[int32])
	return y, p, nil
}

func prepConvInteger(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("ConvInteger", s.Attrs)
	if err != nil {
		return nil, err
	}
	if err := convNeed8("ConvInteger", s.InputTypes, 0, 1); err != nil {
		return nil, err
	}
	group := int(s.Attrs.Int("group", 1))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("ConvInteger: %w", err)
		}
		y, p, err := convIntConv(win, group, in[0], convOpt(in, 2), in[1], convOpt(in, 3))
		if err != nil {
			return nil, err
		}
		return one(&ir.Tensor{DType: ir.Int32, Shape: p.outShape(), Data: y})
	}, nil
}

// convOpt returns optional input i or nil.
func convOpt(in []*ir.Tensor, i int) *ir.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// convScalar reads a one-element tensor as float32 (scales) or errors.
func convScalar(op string, idx int, t *ir.Tensor) (float32, error) {
	if t == nil || t.Len() != 1 {
		return 0, fmt.Errorf("%w: %s: input %d must hold one value", errShape, op, idx)
	}
	return float32(t.Float64At(0)), nil
}

// convRequant writes clip(rint(acc * mult[c]) + zp) as dt, c = (i/inner)%per.
func convRequant(out *ir.Tensor, acc []int32, mult []float32, zp float64, per, inner int) {
	lo, hi, _ := convQRange(out.DType)
	parallelFor(len(acc), 8, func(a, b int) {
		for i := a; i < b; i++ {
			m := mult[0]
			if len(mult) > 1 {
				m = mult[i/inner%per]
			}
			v := math.RoundToEven(float64(acc[i])*float64(m)) + zp
			convSetInt(out, i, int64(max(float64(lo), min(float64(hi), v))))
		}
	})
}

func prepQLinearConv(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("QLinearConv", s.Attrs)
	if err != nil {
		return nil, err
	}
	if err := convNeed8("QLinearConv", s.InputTypes, 0, 3); err != nil {
		return nil, err
	}
	outDT := inputType(s.InputTypes, 0)
	if t := inputType(s.InputTypes, 7); t != ir.Undefined {
		outDT = t
	}
	group := int(s.Attrs.Int("group", 1))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		const op = "QLinearConv"
		if err := needInputs(in, 8); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		xs, err := convScalar(op, 1, in[1])
		if err != nil {
			return nil, err
		}
		ys, err := convScalar(op, 6, in[6])
		if err != nil {
			return nil, err
		}
		acc, p, err := convIntConv(win, group, in[0], in[2], in[3], in[5])
		if err != nil {
			return nil, err
		}
		ws := convFloats(in[4])
		if len(ws) != 1 && len(ws) != p.m {
			return nil, fmt.Errorf("%w: %s: w_scale (input 4) shape %v, want a scalar or [%d]", errShape, op, in[4].Shape, p.m)
		}
		mult := make([]float32, len(ws))
		for i, w := range ws {
			mult[i] = xs * float32(w) / ys
		}
		if b := convOpt(in, 8); b != nil {
			bv, err := b.Int64s()
			if err != nil || len(bv) != p.m {
				return nil, fmt.Errorf("%w: %s: bias (input 8) shape %v, want int32 [%d]", errShape, op, b.Shape, p.m)
			}
			for i := range acc {
				acc[i] += int32(bv[i/p.outSize%p.m])
			}
		}
		out, err := newTensor(outDT, p.outShape())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		convRequant(out, acc, mult, in[7].Float64At(0), p.m, p.outSize)
		return one(out)
	}, nil
}

// convIntMatMul computes (a - a_zp) × (b - b_zp) in int32: a_zp per row of a
// when 1-D, b_zp per column of b when 1-D.
func convIntMatMul(op string, a, azp, b, bzp *ir.Tensor) ([]int32, *convMMPlan, error) {
	p, err := convPlanMatMul(op, a.Shape, b.Shape)
	if err != nil {
		return nil, nil, err
	}
	ai, err := convCentered(op, 0, a, azp, p.m, p.k)
	if err != nil {
		return nil, nil, err
	}
	bi, err := convCentered(op, 1, b, bzp, p.n, 1)
	if err != nil {
		return nil, nil, err
	}
	y := make([]int32, len(p.aOff)*p.m*p.n)
	p.run(func(m, ao, bo, co int) {
		convGemmT(false, false, m, p.n, p.k, ai[ao:], p.k, bi[bo:], p.n, false, y[co:], p.n)
	})
	return y, p, nil
}

func prepMatMulInteger(s *backends.OpSpec) (kernelFunc, error) {
	if err := convNeed8("MatMulInteger", s.InputTypes, 0, 1); err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("MatMulInteger: %w", err)
		}
		y, p, err := convIntMatMul("MatMulInteger", in[0], convOpt(in, 2), in[1], convOpt(in, 3))
		if err != nil {
			return nil, err
		}
		return one(&ir.Tensor{DType: ir.Int32, Shape: p.outShape, Data: y})
	}, nil
}

// convIsF8 reports whether dt is one of the float8 formats.
func convIsF8(dt ir.DType) bool {
	switch dt {
	case ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ:
		return true
	}
	return false
}

func prepQLinearMatMul(s *backends.OpSpec) (kernelFunc, error) {
	const op = "QLinearMatMul"
	floats := false
	for _, i := range []int{0, 3, 7} {
		t := inputType(s.InputTypes, i)
		if !convIs8(t) && !convIsF8(t) {
			return nil, fmt.Errorf("%w: %s: input %d is %v, want an 8-bit integer or float8", errDType, op, i, t)
		}
		floats = floats || convIsF8(t)
	}
	outDT, prec := inputType(s.InputTypes, 7), inputType(s.InputTypes, 1)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 8); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		as, err := convScalar(op, 1, in[1])
		if err != nil {
			return nil, err
		}
		ys, err := convScalar(op, 6, in[6])
		if err != nil {
			return nil, err
		}
		p, err := convPlanMatMul(op, in[0].Shape, in[3].Shape)
		if err != nil {
			return nil, err
		}
		bs := convFloats(in[4])
		if len(bs) != 1 && len(bs) != p.n {
			return nil, fmt.Errorf("%w: %s: b_scale (input 4) shape %v, want a scalar or [%d]", errShape, op, in[4].Shape, p.n)
		}
		// The multiplier is computed in the scales' own precision.
		mult := make([]float32, len(bs))
		for i, b := range bs {
			mult[i] = convRoundTo(prec, convRoundTo(prec, as*float32(b))/ys)
		}
		out, err := newTensor(outDT, p.outShape)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if floats {
			return convQLinearMatMulF8(in, p, mult, out)
		}
		acc, _, err := convIntMatMul(op, in[0], in[2], in[3], in[5])
		if err != nil {
			return nil, err
		}
		convRequant(out, acc, mult, in[7].Float64At(0), p.n, 1)
		return one(out)
	}, nil
}

// convQLinearMatMulF8 is QLinearMatMul with float8 operands or output: the
// centered operands multiply in float32 and the result is cast (saturating)
// to the output type.
func convQLinearMatMulF8(in []*ir.Tensor, p *convMMPlan, mult []float32, out *ir.Tensor) ([]*ir.Tensor, error) {
	a, err := convCenteredF("QLinearMatMul", 0, in[0], in[2], p.m, p.k)
	if err != nil {
		return nil, err
	}
	b, err := convCenteredF("QLinearMatMul", 3, in[3], in[5], p.n, 1)
	if err != nil {
		return nil, err
	}
	acc := make([]float32, out.Len())
	p.run(func(m, ao, bo, co int) {
		convSgemm(false, false, m, p.n, p.k, 1, a[ao:], p.k, b[bo:], p.n, 0, acc[co:], p.n)
	})
	zp := in[7].Float64At(0)
	lo, hi, isInt := convQRange(out.DType)
	for i, v := range acc {
		m := mult[0]
		if len(mult) > 1 {
			m = mult[i%p.n]
		}
		y := float64(v)*float64(m) + zp
		if isInt {
			convSetInt(out, i, int64(max(float64(lo), min(float64(hi), math.RoundToEven(y)))))
			continue
		}
		out.Data.([]uint8)[i] = uint8(ir.Float32ToSmallFloat(out.DType, float32(y), true))
	}
	return one(out)
}

// convCenteredF is convCentered for float8 (or integer) data, in float32.
func convCenteredF(op string, idx int, t, zp *ir.Tensor, per, inner int) ([]float32, error) {
	var z []float64
	if zp != nil {
		z = convFloats(zp)
		if len(z) != 1 && len(z) != per {
			return nil, fmt.Errorf("%w: %s: zero point of input %d has shape %v, want a scalar or [%d]", errShape, op, idx, zp.Shape, per)
		}
	}
	out := make([]float32, t.Len())
	for i := range out {
		v := t.Float64At(i)
		switch {
		case len(z) == 1:
			v -= z[0]
		case len(z) > 1:
			v -= z[i/inner%per]
		}
		out[i] = float32(v)
	}
	return out, nil
}
