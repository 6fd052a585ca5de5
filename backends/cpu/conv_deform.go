package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("DeformConv", 19, prepDeformConv)
}

// convDeform is a prepared DeformConv.
type convDeform struct {
	win         convWin
	group       int
	offsetGroup int
}

func prepDeformConv(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("DeformConv", s.Attrs)
	if err != nil {
		return nil, err
	}
	win.autoPad = "NOTSET"
	d := convDeform{win: win, group: int(s.Attrs.Int("group", 1)), offsetGroup: int(s.Attrs.Int("offset_group", 1))}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 5; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: DeformConv: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	switch dt {
	case ir.Float32:
		return convDeformKernel(d, convSgemmFn), nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convDeformKernel(d, convSgemmFn), dt, 0, 1, 2, 3, 4), nil
	case ir.Float64:
		return convDeformKernel(d, convGemmFnT[float64]), nil
	}
	return nil, fmt.Errorf("%w: DeformConv: %v", errDType, dt)
}

// check validates offset (N, og*kSize*r, out...) and mask (N, og*kSize, out...).
func (d convDeform) check(p *convProblem, off, mask *ir.Tensor) error {
	og := d.offsetGroup
	if og < 1 || p.c%og != 0 {
		return fmt.Errorf("%w: DeformConv: offset_group %d must divide input channels %d", errAttr, og, p.c)
	}
	r := len(p.geo.in)
	want := append([]int{p.n, og * p.kSize * r}, p.geo.out...)
	if !slices.Equal(off.Shape, want) {
		return fmt.Errorf("%w: DeformConv: offset (input 2) shape %v, want %v", errShape, off.Shape, want)
	}
	if mask != nil {
		want[1] = og * p.kSize
		if !slices.Equal(mask.Shape, want) {
			return fmt.Errorf("%w: DeformConv: mask (input 4) shape %v, want %v", errShape, mask.Shape, want)
		}
	}
	return nil
}

// convDeformKernel: X (N,C,in...), W (oC,C/group,k...), offset, [B (oC)],
// [mask] -> Y (N,oC,out...): a convolution whose taps sample X N-linearly
// at their position plus a learned offset (zero outside X), times mask.
func convDeformKernel[T ~float32 | ~float64](d convDeform, gemm convGemmFn[T]) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, fmt.Errorf("DeformConv: %w", err)
		}
		var bias, mask *ir.Tensor
		if len(in) > 3 {
			bias = in[3]
		}
		if len(in) > 4 {
			mask = in[4]
		}
		p, err := convPlan(d.win, d.group, in[0].Shape, in[1].Shape, bias)
		if err != nil {
			return nil, err
		}
		if err := d.check(p, in[2], mask); err != nil {
			return nil, err
		}
		out, err := newTensor(in[0].DType, p.outShape())
		if err != nil {
			return nil, fmt.Errorf("DeformConv: %w", err)
		}
		y := out.Data.([]T)
		if p.outSize > 0 && p.m > 0 {
			rows := p.cg * p.kSize
			cols := convScratch[T](rows * p.outSize)
			defer convRelease(cols)
			var mk []T
			if mask != nil {
				mk = mask.Data.([]T)
			}
			x, w, off := in[0].Data.([]T), in[1].Data.([]T), in[2].Data.([]T)
			for n := 0; n < p.n; n++ {
				for g := 0; g < p.group; g++ {
					convDeformCols(d, cols, p, x, off, mk, n, g)
					gemm(false, false, p.mg, p.outSize, rows, w[g*p.mg*rows:], rows, cols, p.outSize,
						y[(n*p.m+g*p.mg)*p.outSize:], p.outSize)
				}
			}
		}
		if bias != nil {
			convAddBias(y, bias.Data.([]T), p.n, p.m, p.outSize)
		}
		return one(out)
	}
}

// convDeformCols fills the deformable im2col matrix of image n, group g.
func convDeformCols[T ~float32 | ~float64](d convDeform, cols []T, p *convProblem, x, off, mk []T, n, g int) {
	geo := p.geo
	r := len(geo.in)
	cPerOG := p.c / d.offsetGroup
	kSt, oSt, inSt := stridesOf(geo.kernel), stridesOf(geo.out), stridesOf(geo.in)
	parallelFor(p.cg*p.kSize, p.outSize*(4<<r), func(lo, hi int) {
		pos := make([]float64, r)
		for row := lo; row < hi; row++ {
			c, kk := row/p.kSize, row%p.kSize
			ic := g*p.cg + c
			og := ic / cPerOG
			plane := x[(n*p.c+ic)*p.inSize : (n*p.c+ic+1)*p.inSize]
			offBase := (n*d.offsetGroup*p.kSize*r + (og*p.kSize+kk)*r) * p.outSize
			dst := cols[row*p.outSize : (row+1)*p.outSize]
			for o := range dst {
				for i := 0; i < r; i++ {
					oi := o / oSt[i] % geo.out[i]
					ki := kk / kSt[i] % geo.kernel[i]
					pos[i] = float64(oi*geo.strides[i]-geo.padBegin[i]+ki*geo.dilations[i]) + float64(off[offBase+i*p.outSize+o])
				}
				v := convLerpN(plane, geo.in, inSt, pos)
				if mk != nil {
					v *= float64(mk[(n*d.offsetGroup*p.kSize+og*p.kSize+kk)*p.outSize+o])
				}
				dst[o] = T(v)
			}
		}
	})
}

// convLerpN samples plane (shape dims) N-linearly at pos, with zeros outside.
func convLerpN[T ~float32 | ~float64](plane []T, dims, st []int, pos []float64) float64 {
	r := len(dims)
	sum := 0.0
	for corner := 0; corner < 1<<r; corner++ {
		wt, idx := 1.0, 0
		for i := 0; i < r && wt != 0; i++ {
			f := math.Floor(pos[i])
			c, frac := int(f), pos[i]-f
			if corner>>i&1 == 1 {
				c++
				wt *= frac
			} else {
				wt *= 1 - frac
			}
			if c < 0 || c >= dims[i] {
				wt = 0
			}
			idx += c * st[i]
		}
		if wt != 0 {
			sum += wt * float64(plane[idx])
		}
	}
	return sum
}
