package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/ir"
)

// Row normalization shared by LayerNormalization, RMSNormalization,
// InstanceNormalization and GroupNormalization: x is viewed as (rows, size),
// each row is standardized with its own statistics (float64) and then scaled
// and shifted by per-channel parameters.

// redAffine returns the parameters of one row: element i of the row uses
// scale[i/blk] and bias[i/blk] (bias may be nil).
type redAffine func(row int) (scale, bias []float64, blk int)

// redNormCfg is the layout and the statistic of a row normalization.
type redNormCfg struct {
	rows, size int
	eps        float64
	rms        bool // divide by the root mean square; no centering
}

// redNormRows normalizes x into y and returns each row's mean (0 for rms)
// and inverse standard deviation (or inverse RMS).
// x, y (rows, size)
func redNormRows[T redFloat](c redNormCfg, y, x []T, aff redAffine) (mean, inv []float64) {
	mean, inv = make([]float64, c.rows), make([]float64, c.rows)
	if c.size == 0 {
		return mean, inv
	}
	parallelFor(c.rows, 4*c.size, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x[r*c.size : (r+1)*c.size]
			ys := y[r*c.size : (r+1)*c.size]
			m, q := 0.0, 0.0
			if c.rms {
				for _, v := range xs {
					q += float64(v) * float64(v)
				}
			} else {
				for _, v := range xs {
					m += float64(v)
				}
				m /= float64(c.size)
				for _, v := range xs {
					d := float64(v) - m
					q += d * d
				}
			}
			iv := 1 / math.Sqrt(q/float64(c.size)+c.eps)
			mean[r], inv[r] = m, iv
			sc, bi, blk := aff(r)
			for ch, s := range sc {
				a := s * iv
				b := -m * a
				if bi != nil {
					b += bi[ch]
				}
				lo, hi := ch*blk, min((ch+1)*blk, c.size)
				for i := lo; i < hi; i++ {
					ys[i] = T(float64(xs[i])*a + b)
				}
			}
		}
	})
	return mean, inv
}

// redRunNormRows runs redNormRows on a float32 or float64 tensor (narrow
// floats computed as float32) and returns y in x's dtype.
func redRunNormRows(c redNormCfg, x *ir.Tensor, aff redAffine) (y *ir.Tensor, mean, inv []float64, err error) {
	xc := redCompute(x)
	y = &ir.Tensor{DType: xc.DType, Shape: append([]int{}, x.Shape...)}
	switch d := xc.Data.(type) {
	case []float32:
		o := make([]float32, len(d))
		mean, inv = redNormRows(c, o, d, aff)
		y.Data = o
	case []float64:
		o := make([]float64, len(d))
		mean, inv = redNormRows(c, o, d, aff)
		y.Data = o
	default:
		return nil, nil, nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
	}
	y, err = redCastFloat(y, x.DType)
	return y, mean, inv, err
}

// redExpandTo broadcasts t unidirectionally to shape and returns its values
// as float64 (size of shape), or ok=false when it does not broadcast.
func redExpandTo(t *ir.Tensor, shape []int) (vals []float64, ok bool) {
	if t.Rank() > len(shape) {
		// leading unit dims may still be dropped
		for _, d := range t.Shape[:t.Rank()-len(shape)] {
			if d != 1 {
				return nil, false
			}
		}
		t = t.Reshaped(t.Shape[t.Rank()-len(shape):]...)
	}
	b, err := broadcastShapes(t.Shape, shape)
	if err != nil || !slices.Equal(b, shape) {
		return nil, false
	}
	src := redF64(t)
	if len(src) == ir.Size(shape) {
		return src, true
	}
	st := broadcastStrides(t.Shape, shape)
	out := make([]float64, ir.Size(shape))
	idx := make([]int, len(shape))
	off := 0
	for i := range out {
		out[i] = src[off]
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < shape[d] {
				break
			}
			off -= idx[d] * st[d]
			idx[d] = 0
		}
	}
	return out, true
}

// redRowParams expands a LayerNormalization-style parameter (scale or bias)
// for x normalized from axis on: it broadcasts either to the normalized
// shape (shared by every row) or to all of x (one slice per row).
func redRowParams(t *ir.Tensor, xShape []int, axis int, which int) (vals []float64, perRow bool, err error) {
	if t == nil {
		return nil, false, nil
	}
	if v, ok := redExpandTo(t, xShape[axis:]); ok {
		return v, false, nil
	}
	if v, ok := redExpandTo(t, xShape); ok {
		return v, true, nil
	}
	return nil, false, fmt.Errorf("%w: input %d shape %v does not broadcast to input 0 shape %v", errShape, which, t.Shape, xShape)
}
