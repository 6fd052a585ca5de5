package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// LpNormalization (1, 22), MeanVarianceNormalization (9, 13), LRN (1, 13).
// All compute in float64 from a float64 copy of the input.

func init() {
	reg("LpNormalization", 1, prepLpNorm)
	reg("MeanVarianceNormalization", 9, prepMVN)
	reg("LRN", 1, prepLRN)
}

func prepLpNorm(s *backends.OpSpec) (kernelFunc, error) {
	if err := redNeedFloat(s.InputTypes, 0); err != nil {
		return nil, err
	}
	axisAttr := s.Attrs.Int("axis", -1)
	p := s.Attrs.Int("p", 2)
	if p != 1 && p != 2 {
		return nil, fmt.Errorf("%w: p = %d, want 1 or 2", errAttr, p)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		axis, err := normAxis(axisAttr, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
		}
		outer, n, inner := redSplit(x.Shape, axis)
		v := redF64(x)
		for o := 0; o < outer; o++ {
			for k := 0; k < inner; k++ {
				base := o*n*inner + k
				norm := 0.0
				for j := 0; j < n; j++ {
					if e := v[base+j*inner]; p == 1 {
						norm += math.Abs(e)
					} else {
						norm += e * e
					}
				}
				if p == 2 {
					norm = math.Sqrt(norm)
				}
				if norm == 0 {
					continue // a zero vector stays zero
				}
				for j := 0; j < n; j++ {
					v[base+j*inner] /= norm
				}
			}
		}
		y, err := redFromF64(v, x.DType, x.Shape)
		return []*ir.Tensor{y}, err
	}, nil
}

// prepMVN: Y = (X - mean) / (sqrt(var) + 1e-9) over axes (default 0, 2, 3),
// as the op's function body computes it.
func prepMVN(s *backends.OpSpec) (kernelFunc, error) {
	if err := redNeedFloat(s.InputTypes, 0); err != nil {
		return nil, err
	}
	axesAttr := s.Attrs.Ints("axes", []int64{0, 2, 3})
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		axes, err := normAxes(axesAttr, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("input 0 shape %v: %w", x.Shape, err)
		}
		p := redMakePlan(x.Shape, axes, true)
		v := redF64(x)
		if p.n == 0 || p.outN == 0 {
			return []*ir.Tensor{x}, nil
		}
		owner := redOwners(p, len(v))
		mean, sq := make([]float64, p.outN), make([]float64, p.outN)
		for i, e := range v {
			mean[owner[i]] += e
		}
		for o := range mean {
			mean[o] /= float64(p.n)
		}
		for i, e := range v {
			d := e - mean[owner[i]]
			sq[owner[i]] += d * d
		}
		for o := range sq {
			sq[o] = math.Sqrt(sq[o]/float64(p.n)) + 1e-9
		}
		for i := range v {
			v[i] = (v[i] - mean[owner[i]]) / sq[owner[i]]
		}
		y, err := redFromF64(v, x.DType, x.Shape)
		return []*ir.Tensor{y}, err
	}, nil
}

// redOwners maps every input element of plan p to the output it folds into.
func redOwners(p *redPlan, n int) []int {
	owner := make([]int, n)
	for g, b := range p.bases {
		for _, r := range p.offs {
			for j := 0; j < p.inner; j++ {
				if p.innerKept {
					owner[b+r+j] = g*p.inner + j
				} else {
					owner[b+r+j] = g
				}
			}
		}
	}
	return owner
}

// prepLRN: y = x / (bias + alpha/size * sum of x^2 over the channel window
// [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
func prepLRN(s *backends.OpSpec) (kernelFunc, error) {
	if err := redNeedFloat(s.InputTypes, 0); err != nil {
		return nil, err
	}
	alpha := float64(s.Attrs.Float("alpha", 1e-4))
	beta := float64(s.Attrs.Float("beta", 0.75))
	bias := float64(s.Attrs.Float("bias", 1))
	size := int(s.Attrs.Int("size", 0))
	if size <= 0 {
		return nil, fmt.Errorf("%w: size = %d", errAttr, size)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("%w: input 0 shape %v needs rank >= 2", errShape, x.Shape)
		}
		n, c, inner := x.Shape[0], x.Shape[1], ir.Size(x.Shape[2:])
		v := redF64(x)
		out := make([]float64, len(v))
		before, after := (size-1)/2, size/2 // floor and ceil of (size-1)/2
		parallelFor(n*c, size*inner*2, func(lo, hi int) {
			sq := make([]float64, inner)
			for row := lo; row < hi; row++ {
				b, ch := row/c, row%c
				clear(sq)
				for k := max(0, ch-before); k <= min(c-1, ch+after); k++ {
					for i, e := range v[(b*c+k)*inner : (b*c+k+1)*inner] {
						sq[i] += e * e
					}
				}
				off := row * inner
				for i := range sq {
					out[off+i] = v[off+i] / math.Pow(bias+alpha/float64(size)*sq[i], beta)
				}
			}
		})
		y, err := redFromF64(out, x.DType, x.Shape)
		return []*ir.Tensor{y}, err
	}, nil
}
