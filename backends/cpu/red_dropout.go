package cpu

import (
	"fmt"
	"math/rand/v2"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Dropout. Before opset 12 it always runs as inference (as runtimes do for
// imported models, whatever is_test says): the output is the input and the
// mask all ones (dtype T before opset 10, bool after). From opset 12 the
// optional inputs ratio (default 0.5) and training_mode (default false)
// decide; training draws the keep mask u >= ratio from uniform u in [0, 1)
// and scales kept values by 1/(1-ratio). With a seed attribute the draws are
// those of numpy's legacy MT19937 generator seeded with it, so results match
// the ONNX reference; without one they are random.

func init() {
	reg("Dropout", 1, prepDropout)
}

func prepDropout(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	if !redIsFloat(dt) {
		return nil, fmt.Errorf("%w: input 0 has dtype %v", errDType, dt)
	}
	inputs := s.Version >= 12
	boolMask := s.Version >= 10
	seeded := s.Attrs.Has("seed")
	seed := s.Attrs.Int("seed", 0)
	wantMask := s.NumOutputs > 1
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		ratio, training := 0.5, false
		if inputs {
			if len(in) > 1 && in[1] != nil {
				if in[1].Len() != 1 {
					return nil, fmt.Errorf("%w: input 1 (ratio) shape %v, want a scalar", errInput, in[1].Shape)
				}
				ratio = in[1].Float64At(0)
			}
			if len(in) > 2 && in[2] != nil {
				if in[2].Len() != 1 {
					return nil, fmt.Errorf("%w: input 2 (training_mode) shape %v, want a scalar", errInput, in[2].Shape)
				}
				training = in[2].Float64At(0) != 0
			}
		}
		if training && (ratio < 0 || ratio > 1) {
			return nil, fmt.Errorf("%w: ratio %v outside [0, 1]", errInput, ratio)
		}
		if !training || ratio == 0 {
			outs := []*ir.Tensor{x}
			if wantMask {
				m, err := redOnesMask(x.Shape, boolMask, x.DType)
				if err != nil {
					return nil, err
				}
				outs = append(outs, m)
			}
			return outs, nil
		}
		return redDropoutTrain(x, ratio, seeded, seed, wantMask)
	}, nil
}

// redDropoutTrain drops each element with probability ratio and scales the
// kept ones by 1/(1-ratio).
func redDropoutTrain(x *ir.Tensor, ratio float64, seeded bool, seed int64, wantMask bool) ([]*ir.Tensor, error) {
	u := rand.Float64
	if seeded {
		u = redNewMT19937(uint32(seed)).float64
	}
	v := redF64(x)
	keep := make([]bool, len(v))
	scale := 0.0
	if ratio < 1 {
		scale = 1 / (1 - ratio)
	}
	for i := range v {
		keep[i] = u() >= ratio
		if keep[i] {
			v[i] *= scale
		} else {
			v[i] = 0
		}
	}
	y, err := redFromF64(v, x.DType, x.Shape)
	if err != nil || !wantMask {
		return []*ir.Tensor{y}, err
	}
	return []*ir.Tensor{y, {DType: ir.Bool, Shape: append([]int{}, x.Shape...), Data: keep}}, nil
}

// redOnesMask is an all-kept mask: bool true, or ones of dtype dt.
func redOnesMask(shape []int, boolMask bool, dt ir.DType) (*ir.Tensor, error) {
	n := ir.Size(shape)
	if boolMask {
		m := make([]bool, n)
		for i := range m {
			m[i] = true
		}
		return &ir.Tensor{DType: ir.Bool, Shape: append([]int{}, shape...), Data: m}, nil
	}
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	return redFromF64(ones, dt, shape)
}

// redMT19937 is the Mersenne Twister as numpy's legacy RandomState runs it.
type redMT19937 struct {
	mt  [624]uint32
	pos int
}

// redNewMT19937 seeds like numpy.random.seed(seed) (init_genrand).
func redNewMT19937(seed uint32) *redMT19937 {
	g := &redMT19937{pos: 624}
	g.mt[0] = seed
	for i := 1; i < 624; i++ {
		p := g.mt[i-1]
		g.mt[i] = 1812433253*(p^(p>>30)) + uint32(i)
	}
	return g
}

func (g *redMT19937) uint32() uint32 {
	if g.pos >= 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		for i := 0; i < 624; i++ {
			y := g.mt[i]&upper | g.mt[(i+1)%624]&lower
			v := g.mt[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			g.mt[i] = v
		}
		g.pos = 0
	}
	y := g.mt[g.pos]
	g.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// float64 is numpy's random_sample: 53 random bits from two draws.
func (g *redMT19937) float64() float64 {
	a, b := g.uint32()>>5, g.uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}
