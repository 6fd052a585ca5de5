package cpu

// RotaryEmbedding (opset 23) and SwiGLU (opset 28).

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("RotaryEmbedding", 23, prepRotaryEmbedding)
	reg("SwiGLU", 28, prepSwiGLU)
}

func prepRotaryEmbedding(s *backends.OpSpec) (kernelFunc, error) {
	interleaved := s.Attrs.Int("interleaved", 0) != 0
	heads := int(s.Attrs.Int("num_heads", 0))
	rdim := int(s.Attrs.Int("rotary_embedding_dim", 0))
	dt := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("RotaryEmbedding", dt, 0); err != nil {
		return nil, err
	}
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != dt {
			return nil, fmt.Errorf("RotaryEmbedding: %w: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, fmt.Errorf("RotaryEmbedding: %w", err)
		}
		if dt == ir.Float64 {
			return mxRotary[float64](in, interleaved, heads, rdim)
		}
		return mxRotary[float32](in, interleaved, heads, rdim)
	}
	return viaFloat32(fn, dt, 0, 1, 2), nil
}

// mxRotary rotates x (b, h, s, d) or (b, s, h*d) by the cached angles.
func mxRotary[T mxFloat](in []*ir.Tensor, interleaved bool, heads, rdim int) ([]*ir.Tensor, error) {
	x, cosT, sinT, pos := in[0], in[1], in[2], mxOptIn(in, 3)
	var b, h, s, d int
	// element (bi, hi, si, k) lives at bi*sb + hi*sh + si*ss + k
	var sb, sh, ss int
	switch {
	case x.Rank() == 4:
		b, h, s, d = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		sb, sh, ss = h*s*d, s*d, d
	case x.Rank() == 3 && heads > 0 && x.Shape[2]%heads == 0:
		b, s, h, d = x.Shape[0], x.Shape[1], heads, x.Shape[2]/heads
		sb, sh, ss = s*h*d, d, h*d
	default:
		return nil, fmt.Errorf("RotaryEmbedding: %w: input 0 has shape %v (num_heads %d)", errShape, x.Shape, heads)
	}
	if rdim == 0 {
		rdim = d
	}
	if rdim > d || rdim%2 != 0 {
		return nil, fmt.Errorf("RotaryEmbedding: %w: rotary_embedding_dim %d for head size %d", errAttr, rdim, d)
	}
	half := rdim / 2
	var ids []int64
	if pos != nil {
		var err error
		if ids, err = pos.Int64s(); err != nil || !mxSameInts(pos.Shape, []int{b, s}) {
			return nil, fmt.Errorf("RotaryEmbedding: %w: input 3 (position_ids) is %v%v, want int64 [%d %d]", errShape, pos.DType, pos.Shape, b, s)
		}
		if cosT.Rank() != 2 || cosT.Shape[1] != half || !mxSameInts(cosT.Shape, sinT.Shape) {
			return nil, fmt.Errorf("RotaryEmbedding: %w: caches %v, %v, want [max_pos %d]", errShape, cosT.Shape, sinT.Shape, half)
		}
		for _, p := range ids {
			if p < 0 || p >= int64(cosT.Shape[0]) {
				return nil, fmt.Errorf("RotaryEmbedding: %w: position id %d outside [0, %d)", errInput, p, cosT.Shape[0])
			}
		}
	} else if !mxSameInts(cosT.Shape, []int{b, s, half}) || !mxSameInts(sinT.Shape, cosT.Shape) {
		return nil, fmt.Errorf("RotaryEmbedding: %w: caches %v, %v, want [%d %d %d]", errShape, cosT.Shape, sinT.Shape, b, s, half)
	}
	xs, cs, sn := mxFloatData[T](x), mxFloatData[T](cosT), mxFloatData[T](sinT)
	out := make([]T, len(xs))
	copy(out, xs)
	for bi := 0; bi < b; bi++ {
		for si := 0; si < s; si++ {
			row := (bi*s + si) * half
			if ids != nil {
				row = int(ids[bi*s+si]) * half
			}
			for hi := 0; hi < h; hi++ {
				base := bi*sb + hi*sh + si*ss
				for k := 0; k < half; k++ {
					i1, i2 := base+k, base+k+half
					if interleaved {
						i1, i2 = base+2*k, base+2*k+1
					}
					c, sv := cs[row+k], sn[row+k]
					x1, x2 := xs[i1], xs[i2]
					out[i1] = c*x1 - sv*x2
					out[i2] = sv*x1 + c*x2
				}
			}
		}
	}
	return one(&ir.Tensor{DType: x.DType, Shape: append([]int{}, x.Shape...), Data: out})
}

func prepSwiGLU(s *backends.OpSpec) (kernelFunc, error) {
	alpha := float64(s.Attrs.Float("alpha", 1))
	dt := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("SwiGLU", dt, 0); err != nil {
		return nil, err
	}
	if t := inputType(s.InputTypes, 1); t != dt {
		return nil, fmt.Errorf("SwiGLU: %w: input 1 is %v, input 0 is %v", errDType, t, dt)
	}
	fn := func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("SwiGLU: %w", err)
		}
		if !mxSameInts(in[0].Shape, in[1].Shape) {
			return nil, fmt.Errorf("SwiGLU: %w: A %v and B %v differ", errShape, in[0].Shape, in[1].Shape)
		}
		if dt == ir.Float64 {
			return one(mxSwiGLU[float64](in[0], in[1], alpha))
		}
		return one(mxSwiGLU[float32](in[0], in[1], alpha))
	}
	return viaFloat32(fn, dt, 0, 1), nil
}

// y = a·sigmoid(alpha·a)·b
func mxSwiGLU[T mxFloat](a, b *ir.Tensor, alpha float64) *ir.Tensor {
	as, bs := mxFloatData[T](a), mxFloatData[T](b)
	out := make([]T, len(as))
	parallelFor(len(as), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			av := float64(as[i])
			out[i] = T(av / (1 + math.Exp(-alpha*av)) * float64(bs[i]))
		}
	})
	return &ir.Tensor{DType: a.DType, Shape: append([]int{}, a.Shape...), Data: out}
}
