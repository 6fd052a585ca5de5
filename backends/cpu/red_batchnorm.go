package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// BatchNormalization, all opsets. Inference normalizes with the given
// mean and variance. Training (training_mode=1 from opset 14; before that,
// is_test=0 or, from opset 7, simply asking for more than Y) normalizes with
// the batch statistics and returns the running statistics
//
//	running = input * momentum + batch * (1 - momentum)
//
// (and, before 14, the batch mean and variance as saved_mean/saved_var).
// Before opset 9, spatial=0 takes per-activation parameters of shape
// (C x D1 x ... x Dn). Statistics use float64.

func init() {
	reg("BatchNormalization", 1, prepBatchNorm)
}

func prepBatchNorm(s *backends.OpSpec) (kernelFunc, error) {
	for i := 0; i < 5; i++ {
		if err := redNeedFloat(s.InputTypes, i); err != nil {
			return nil, err
		}
	}
	eps := float64(s.Attrs.Float("epsilon", 1e-5))
	momentum := float64(s.Attrs.Float("momentum", 0.9))
	var training bool
	switch {
	case s.Version >= 14:
		training = s.Attrs.Int("training_mode", 0) != 0
	case s.Version >= 7:
		training = s.NumOutputs > 1
	default:
		training = s.Attrs.Int("is_test", 0) == 0 && s.NumOutputs > 1
	}
	spatial := s.Version >= 9 || s.Attrs.Int("spatial", 1) != 0
	c := redBNCfg{eps: eps, momentum: momentum, training: training, spatial: spatial, nOut: max(s.NumOutputs, 1)}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 5); err != nil {
			return nil, err
		}
		return redBatchNorm(c, in)
	}, nil
}

// redBNCfg holds the attributes of a BatchNormalization node.
type redBNCfg struct {
	eps, momentum     float64
	training, spatial bool
	nOut              int
}

// redBatchNorm runs BatchNormalization on X, scale, B, mean, var.
func redBatchNorm(c redBNCfg, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("%w: input 0 (X) shape %v needs rank >= 2", errShape, x.Shape)
	}
	n, ch, inner := x.Shape[0], x.Shape[1], ir.Size(x.Shape[2:])
	if !c.spatial {
		ch, inner = ch*inner, 1
	}
	var p [4][]float64
	for i := range p {
		t := in[i+1]
		if t.Len() != ch {
			return nil, fmt.Errorf("%w: input %d shape %v does not match input 0 (X) shape %v", errShape, i+1, t.Shape, x.Shape)
		}
		p[i] = redF64(t)
	}
	xc := redCompute(x)
	mean, variance := p[2], p[3]
	var bm, bv []float64
	if c.training {
		bm, bv = redChannelStats(xc, n, ch, inner)
		mean, variance = bm, bv
	}
	y := &ir.Tensor{DType: xc.DType, Shape: append([]int{}, x.Shape...)}
	switch d := xc.Data.(type) {
	case []float32:
		o := rawSlice[float32](len(d))
		redBatchNormApply(o, d, n, ch, inner, p[0], p[1], mean, variance, c.eps)
		y.Data = o
	case []float64:
		o := rawSlice[float64](len(d))
		redBatchNormApply(o, d, n, ch, inner, p[0], p[1], mean, variance, c.eps)
		y.Data = o
	default:
		return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, x.DType)
	}
	y, err := redCastFloat(y, x.DType)
	if err != nil {
		return nil, err
	}
	outs := make([]*ir.Tensor, c.nOut)
	outs[0] = y
	if !c.training {
		// Extra outputs are invalid in inference; if a node declares them
		// anyway, the statistics pass through unchanged.
		for i := 1; i < c.nOut && i <= 4; i++ {
			outs[i] = in[3+(i-1)%2]
		}
		return outs, nil
	}
	rm, rv := make([]float64, ch), make([]float64, ch)
	for i := range rm {
		rm[i] = p[2][i]*c.momentum + bm[i]*(1-c.momentum)
		rv[i] = p[3][i]*c.momentum + bv[i]*(1-c.momentum)
	}
	extra := [][]float64{rm, rv, bm, bv}
	refs := []*ir.Tensor{in[3], in[4], in[3], in[4]} // dtype and shape of each
	for i := 1; i < c.nOut && i <= len(extra); i++ {
		if outs[i], err = redFromF64(extra[i-1], refs[i-1].DType, refs[i-1].Shape); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// redChannelStats returns the mean and population variance of each channel
// of x (n, c, inner) over n and inner.
func redChannelStats(x *ir.Tensor, n, c, inner int) (mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	switch d := x.Data.(type) {
	case []float32:
		redChannelStatsT(d, n, c, inner, mean, variance)
	case []float64:
		redChannelStatsT(d, n, c, inner, mean, variance)
	}
	return mean, variance
}

func redChannelStatsT[T redFloat](x []T, n, c, inner int, mean, variance []float64) {
	cnt := float64(n * inner)
	parallelFor(c, 2*n*inner, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			s := 0.0
			for b := 0; b < n; b++ {
				off := (b*c + ch) * inner
				for _, v := range x[off : off+inner] {
					s += float64(v)
				}
			}
			m := s / cnt
			q := 0.0
			for b := 0; b < n; b++ {
				off := (b*c + ch) * inner
				for _, v := range x[off : off+inner] {
					d := float64(v) - m
					q += d * d
				}
			}
			mean[ch], variance[ch] = m, q/cnt
		}
	})
}

// redBatchNormApply computes y = (x - mean) / sqrt(var + eps) * scale + bias
// per channel. x, y (n, c, inner)
func redBatchNormApply[T redFloat](y, x []T, n, c, inner int, scale, bias, mean, variance []float64, eps float64) {
	a, b := make([]float64, c), make([]float64, c)
	for ch := range a {
		a[ch] = scale[ch] / math.Sqrt(variance[ch]+eps)
		b[ch] = bias[ch] - mean[ch]*a[ch]
	}
	parallelFor(n*c, 2*inner, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			ch := row % c
			ai, bi := a[ch], b[ch]
			off := row * inner
			ys := y[off : off+inner]
			for i, v := range x[off : off+inner] {
				ys[i] = T(float64(v)*ai + bi)
			}
		}
	})
}
