package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("GlobalAveragePool", 1, convPrepGlobalPool(convPoolAvg))
	reg("GlobalMaxPool", 1, convPrepGlobalPool(convPoolMax))
	reg("GlobalLpPool", 1, convPrepGlobalPool(convPoolLp))
	reg("MaxUnpool", 9, prepMaxUnpool)
}

func convPrepGlobalPool(kind int) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		op := "Global" + convPoolNames[kind]
		p := 2.0
		if kind == convPoolLp {
			var err error
			if p, err = convReadP(op, s.Attrs); err != nil {
				return nil, err
			}
		}
		dt := inputType(s.InputTypes, 0)
		switch dt {
		case ir.Float32:
			return convGlobalKernel[float32](op, kind, p), nil
		case ir.Float64:
			return convGlobalKernel[float64](op, kind, p), nil
		case ir.Float16, ir.BFloat16:
			return viaFloat32(convGlobalKernel[float32](op, kind, p), dt, 0), nil
		}
		return nil, fmt.Errorf("%w: %s: %v", errDType, op, dt)
	}
}

// convGlobalKernel: X (N,C,D...) -> Y (N,C,1,...,1), pooled over all of D.
func convGlobalKernel[T ~float32 | ~float64](op string, kind int, p float64) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		n, c, sp, err := convSplitNC(op, 0, in[0].Shape)
		if err != nil {
			return nil, err
		}
		shape := []int{n, c}
		for range sp {
			shape = append(shape, 1)
		}
		out, err := newTensorRaw(in[0].DType, shape)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		x, y := in[0].Data.([]T), out.Data.([]T)
		size := ir.Size(sp)
		parallelFor(n*c, size, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				y[pl] = T(convReducePlane(x[pl*size:(pl+1)*size], kind, p))
			}
		})
		return one(out)
	}
}

// convReducePlane is the mean, max or Lp norm of one plane.
func convReducePlane[T ~float32 | ~float64](x []T, kind int, p float64) float64 {
	switch kind {
	case convPoolMax:
		best := math.Inf(-1)
		for _, v := range x {
			if f := float64(v); f > best || f != f {
				best = f
				if f != f {
					break
				}
			}
		}
		return best
	case convPoolAvg:
		s := 0.0
		for _, v := range x {
			s += float64(v)
		}
		return s / float64(len(x))
	}
	s := 0.0
	for _, v := range x {
		s += math.Pow(math.Abs(float64(v)), p)
	}
	return math.Pow(s, 1/p)
}

// convUnpool is a prepared MaxUnpool.
type convUnpool struct{ win convWin }

func prepMaxUnpool(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("MaxUnpool", s.Attrs)
	if err != nil {
		return nil, err
	}
	if win.kernel == nil {
		return nil, fmt.Errorf("%w: MaxUnpool: kernel_shape is required", errAttr)
	}
	if t := inputType(s.InputTypes, 1); t != ir.Int64 {
		return nil, fmt.Errorf("%w: MaxUnpool: indices (input 1) are %v, want int64", errDType, t)
	}
	u := convUnpool{win: win}
	switch dt := inputType(s.InputTypes, 0); dt {
	case ir.Float32:
		return convUnpoolKernel[float32](u), nil
	case ir.Float64:
		return convUnpoolKernel[float64](u), nil
	case ir.Float16, ir.BFloat16:
		return convUnpoolKernel[uint16](u), nil
	default:
		return nil, fmt.Errorf("%w: MaxUnpool: %v", errDType, dt)
	}
}

// convUnpoolKernel: X (N,C,in...), I (same, flat indices into the inferred
// output) [, output_shape] -> Y. Values land at their index in the inferred
// shape (in-1)*stride - pads + kernel; a larger output_shape pads that block
// with zeros at the end of each axis, as ONNX's reference does.
func convUnpoolKernel[T float32 | float64 | uint16](u convUnpool) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("MaxUnpool: %w", err)
		}
		xs := in[0].Shape
		n, c, sp, err := convSplitNC("MaxUnpool", 0, xs)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(in[1].Shape, xs) {
			return nil, fmt.Errorf("%w: MaxUnpool: indices (input 1) shape %v differs from input shape %v", errShape, in[1].Shape, xs)
		}
		r := len(sp)
		k, err := convAttrInts("MaxUnpool", "kernel_shape", u.win.kernel, r, 1, 1)
		if err != nil {
			return nil, err
		}
		st, err := convAttrInts("MaxUnpool", "strides", u.win.strides, r, 1, 1)
		if err != nil {
			return nil, err
		}
		pads, err := convAttrInts("MaxUnpool", "pads", u.win.pads, 2*r, 0, 0)
		if err != nil {
			return nil, err
		}
		inferred := []int{n, c}
		for i := 0; i < r; i++ {
			d := (sp[i]-1)*st[i] - pads[i] - pads[r+i] + k[i]
			if d < 0 {
				return nil, fmt.Errorf("%w: MaxUnpool: negative inferred output size %d on axis %d", errShape, d, i+2)
			}
			inferred = append(inferred, d)
		}
		if _, err := ir.NumElements(inferred); err != nil {
			return nil, fmt.Errorf("MaxUnpool: %w", err)
		}
		y := make([]T, ir.Size(inferred))
		x, idx := in[0].Data.([]T), in[1].Data.([]int64)
		for i, v := range x {
			j := idx[i]
			if j < 0 || j >= int64(len(y)) {
				return nil, fmt.Errorf("%w: MaxUnpool: index %d out of range for output shape %v", errInput, j, inferred)
			}
			y[j] = v
		}
		res := &ir.Tensor{DType: in[0].DType, Shape: inferred, Data: y}
		if len(in) > 2 && in[2] != nil {
			return convUnpoolResize(res, in[2])
		}
		return one(res)
	}
}

// convUnpoolResize places y in the leading corner of a zero tensor of the
// requested shape.
func convUnpoolResize(y, shapeT *ir.Tensor) ([]*ir.Tensor, error) {
	want, err := intsOf(shapeT)
	if err != nil {
		return nil, fmt.Errorf("%w: MaxUnpool: output_shape (input 2): %v", errInput, err)
	}
	if len(want) != len(y.Shape) {
		return nil, fmt.Errorf("%w: MaxUnpool: output_shape %v has rank %d, want %d", errShape, want, len(want), len(y.Shape))
	}
	shape := make([]int, len(want))
	for i, d := range want {
		if d < int64(y.Shape[i]) || d > 1<<40 {
			return nil, fmt.Errorf("%w: MaxUnpool: output_shape %v is smaller than the unpooled shape %v", errShape, want, y.Shape)
		}
		shape[i] = int(d)
	}
	out, err := newTensor(y.DType, shape)
	if err != nil {
		return nil, fmt.Errorf("MaxUnpool: %w", err)
	}
	src, dst := y.Data, out.Data
	convCopyCorner(dst, src, y.Shape, shape)
	return one(out)
}

// convCopyCorner copies a row-major block of shape small into the leading
// corner of one of shape big (same element type).
func convCopyCorner(dst, src any, small, big []int) {
	r := len(small)
	if ir.Size(small) == 0 {
		return
	}
	bigSt := stridesOf(big)
	rowLen := small[r-1]
	idx := make([]int, r-1)
	for s := 0; ; s += rowLen {
		off := 0
		for d, i := range idx {
			off += i * bigSt[d]
		}
		switch d := dst.(type) {
		case []float32:
			copy(d[off:off+rowLen], src.([]float32)[s:s+rowLen])
		case []float64:
			copy(d[off:off+rowLen], src.([]float64)[s:s+rowLen])
		case []uint16:
			copy(d[off:off+rowLen], src.([]uint16)[s:s+rowLen])
		}
		d := r - 2
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < small[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
