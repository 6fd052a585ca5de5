package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// LayerNormalization (17), RMSNormalization (23), InstanceNormalization
// (1, 6, 22), GroupNormalization (18: per-group scale/bias; 21: per-channel).

func init() {
	reg("LayerNormalization", 17, prepLayerNorm)
	reg("RMSNormalization", 23, prepRMSNorm)
	reg("InstanceNormalization", 1, prepInstanceNorm)
	reg("GroupNormalization", 18, prepGroupNorm(false))
	reg("GroupNormalization", 21, prepGroupNorm(true))
}

// redStashType is the dtype of the Mean/InvStdDev outputs for stash_type.
func redStashType(stash int64, x ir.DType) ir.DType {
	switch dt := ir.DType(stash); dt {
	case ir.Float32, ir.BFloat16, ir.Float16, ir.Float64:
		return dt
	}
	return x
}

func prepLayerNorm(s *backends.OpSpec) (kernelFunc, error) {
	return prepRowNorm(s, false)
}

func prepRMSNorm(s *backends.OpSpec) (kernelFunc, error) {
	return prepRowNorm(s, true)
}

// prepRowNorm prepares LayerNormalization or (rms) RMSNormalization.
func prepRowNorm(s *backends.OpSpec, rms bool) (kernelFunc, error) {
	for i := 0; i < 2; i++ {
		if err := redNeedFloat(s.InputTypes, i); err != nil {
			return nil, err
		}
	}
	axisAttr := s.Attrs.Int("axis", -1)
	eps := float64(s.Attrs.Float("epsilon", 1e-5))
	stash := redStashType(s.Attrs.Int("stash_type", 1), inputType(s.InputTypes, 0))
	nOut := max(s.NumOutputs, 1)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		axis, err := normAxis(axisAttr, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
		}
		scale, scaleRows, err := redRowParams(in[1], x.Shape, axis, 1)
		if err != nil {
			return nil, err
		}
		var bias []float64
		biasRows := false
		if !rms && len(in) > 2 && in[2] != nil {
			if bias, biasRows, err = redRowParams(in[2], x.Shape, axis, 2); err != nil {
				return nil, err
			}
		}
		c := redNormCfg{rows: ir.Size(x.Shape[:axis]), size: ir.Size(x.Shape[axis:]), eps: eps, rms: rms}
		aff := func(r int) ([]float64, []float64, int) {
			sc, bi := scale, bias
			if scaleRows {
				sc = scale[r*c.size : (r+1)*c.size]
			}
			if biasRows {
				bi = bias[r*c.size : (r+1)*c.size]
			}
			return sc, bi, 1
		}
		y, mean, inv, err := redRunNormRows(c, x, aff)
		if err != nil {
			return nil, err
		}
		if rms {
			// Y has the dtype of scale.
			y, err = redCastFloat(y, in[1].DType)
			return []*ir.Tensor{y}, err
		}
		outs := make([]*ir.Tensor, nOut)
		outs[0] = y
		statShape := append([]int{}, x.Shape...)
		for i := axis; i < len(statShape); i++ {
			statShape[i] = 1
		}
		for i, v := range [][]float64{mean, inv} {
			if i+1 < nOut {
				if outs[i+1], err = redFromF64(v, stash, statShape); err != nil {
					return nil, err
				}
			}
		}
		return outs, nil
	}, nil
}

func prepInstanceNorm(s *backends.OpSpec) (kernelFunc, error) {
	for i := 0; i < 3; i++ {
		if err := redNeedFloat(s.InputTypes, i); err != nil {
			return nil, err
		}
	}
	eps := float64(s.Attrs.Float("epsilon", 1e-5))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("%w: input 0 shape %v needs rank >= 2", errShape, x.Shape)
		}
		ch := x.Shape[1]
		scale, bias, err := redChannelParams(in, ch)
		if err != nil {
			return nil, err
		}
		c := redNormCfg{rows: x.Shape[0] * ch, size: ir.Size(x.Shape[2:]), eps: eps}
		aff := func(r int) ([]float64, []float64, int) {
			k := r % ch
			return scale[k : k+1], bias[k : k+1], c.size
		}
		y, _, _, err := redRunNormRows(c, x, aff)
		return []*ir.Tensor{y}, err
	}, nil
}

// redChannelParams reads inputs 1 and 2 (scale, bias) of n values each.
func redChannelParams(in []*ir.Tensor, n int) (scale, bias []float64, err error) {
	for i := 1; i <= 2; i++ {
		if in[i].Len() != n {
			return nil, nil, fmt.Errorf("%w: input %d shape %v, want %d values for input 0 shape %v",
				errShape, i, in[i].Shape, n, in[0].Shape)
		}
	}
	return redF64(in[1]), redF64(in[2]), nil
}

// prepGroupNorm prepares GroupNormalization; perChannel selects opset 21's
// scale and bias of shape (C) over opset 18's (num_groups).
func prepGroupNorm(perChannel bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		for i := 0; i < 3; i++ {
			if err := redNeedFloat(s.InputTypes, i); err != nil {
				return nil, err
			}
		}
		eps := float64(s.Attrs.Float("epsilon", 1e-5))
		groups := int(s.Attrs.Int("num_groups", 0))
		if groups <= 0 {
			return nil, fmt.Errorf("%w: num_groups = %d", errAttr, groups)
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 3); err != nil {
				return nil, err
			}
			x := in[0]
			if x.Rank() < 2 || x.Shape[1]%groups != 0 {
				return nil, fmt.Errorf("%w: input 0 shape %v: channels not divisible into %d groups", errShape, x.Shape, groups)
			}
			ch, spatial := x.Shape[1], ir.Size(x.Shape[2:])
			cpg := ch / groups
			np := groups
			if perChannel {
				np = ch
			}
			scale, bias, err := redChannelParams(in, np)
			if err != nil {
				return nil, err
			}
			c := redNormCfg{rows: x.Shape[0] * groups, size: cpg * spatial, eps: eps}
			aff := func(r int) ([]float64, []float64, int) {
				g := r % groups
				if perChannel {
					return scale[g*cpg : (g+1)*cpg], bias[g*cpg : (g+1)*cpg], spatial
				}
				return scale[g : g+1], bias[g : g+1], c.size
			}
			y, _, _, err := redRunNormRows(c, x, aff)
			return []*ir.Tensor{y}, err
		}, nil
	}
}
