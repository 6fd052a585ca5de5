package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Col2Im: sums sliding blocks (columns) back into an image.

func init() { reg("Col2Im", 18, prepCol2Im) }

func prepCol2Im(s *backends.OpSpec) (kernelFunc, error) {
	dil := s.Attrs.Ints("dilations", nil)
	pads := s.Attrs.Ints("pads", nil)
	strides := s.Attrs.Ints("strides", nil)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		x := in[0]
		img, err := movShapeInput(in[1], "input 1 (image_shape)")
		if err != nil {
			return nil, fmt.Errorf("Col2Im: %w", err)
		}
		blk, err := movShapeInput(in[2], "input 2 (block_shape)")
		if err != nil {
			return nil, fmt.Errorf("Col2Im: %w", err)
		}
		g, err := movCol2ImGeom(x.Shape, img, blk, dil, pads, strides)
		if err != nil {
			return nil, fmt.Errorf("Col2Im: input shape %v image_shape %v block_shape %v: %w", x.Shape, img, blk, err)
		}
		xv, err := movFloats(x)
		if err != nil {
			return nil, fmt.Errorf("Col2Im: %w", err)
		}
		out := make([]float64, ir.Size(g.outShape))
		g.scatter(out, xv)
		res, err := movFromFloats(x.DType, g.outShape, out)
		if err != nil {
			return nil, fmt.Errorf("Col2Im: %w", err)
		}
		return one(res)
	}, nil
}

// movCol2Im is the validated geometry of one Col2Im call.
type movCol2Im struct {
	n, c, k, l                   int // batch, channels, block size, block count
	img, blk, nb, dil, pad, strd []int
	outShape                     []int
}

func movCol2ImGeom(xs []int, img, blk, dil, pads, strides []int64) (*movCol2Im, error) {
	r := len(img)
	if len(xs) != 3 || r == 0 || len(blk) != r || (dil != nil && len(dil) != r) ||
		(pads != nil && len(pads) != 2*r) || (strides != nil && len(strides) != r) {
		return nil, fmt.Errorf("%w: inconsistent ranks (dilations %v, pads %v, strides %v)", errShape, dil, pads, strides)
	}
	g := &movCol2Im{n: xs[0], l: xs[2], img: movToInts(img), blk: movToInts(blk),
		nb: make([]int, r), dil: make([]int, r), pad: make([]int, 2*r), strd: make([]int, r)}
	g.k = 1
	nb := 1
	for i := 0; i < r; i++ {
		g.dil[i], g.strd[i] = 1, 1
		if dil != nil {
			g.dil[i] = int(dil[i])
		}
		if strides != nil {
			g.strd[i] = int(strides[i])
		}
		if pads != nil {
			g.pad[i], g.pad[r+i] = int(pads[i]), int(pads[r+i])
		}
		if g.img[i] < 0 || g.blk[i] < 1 || g.dil[i] < 1 || g.strd[i] < 1 || g.pad[i] < 0 || g.pad[r+i] < 0 {
			return nil, fmt.Errorf("%w: sizes, dilations, strides and pads must be positive", errInput)
		}
		span := g.dil[i]*(g.blk[i]-1) + 1
		g.nb[i] = (g.img[i]+g.pad[i]+g.pad[r+i]-span)/g.strd[i] + 1
		if g.nb[i] < 0 {
			g.nb[i] = 0
		}
		g.k *= g.blk[i]
		nb *= g.nb[i]
	}
	if g.k == 0 || xs[1]%g.k != 0 || nb != g.l {
		return nil, fmt.Errorf("%w: want %d*C rows and %d blocks", errShape, g.k, nb)
	}
	g.c = xs[1] / g.k
	g.outShape = append([]int{g.n, g.c}, g.img...)
	if _, err := ir.NumElements(g.outShape); err != nil {
		return nil, err
	}
	return g, nil
}

// scatter adds every column element of x into out.
func (g *movCol2Im) scatter(out, x []float64) {
	r := len(g.img)
	vol := ir.Size(g.img)
	st := stridesOf(g.img)
	// For each (kernel offset, block) pair, the image offset or -1 (padding).
	offs := make([]int, g.k*g.l)
	kk, bb := make([]int, r), make([]int, r)
	for k := 0; k < g.k; k++ {
		movUnravel(kk, k, g.blk)
		for b := 0; b < g.l; b++ {
			movUnravel(bb, b, g.nb)
			o := 0
			for i := 0; i < r && o >= 0; i++ {
				p := bb[i]*g.strd[i] - g.pad[i] + kk[i]*g.dil[i]
				if p < 0 || p >= g.img[i] {
					o = -1
				} else {
					o += p * st[i]
				}
			}
			offs[k*g.l+b] = o
		}
	}
	parallelFor(g.n*g.c, g.k*g.l, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			dst := out[nc*vol : (nc+1)*vol]
			src := x[nc*g.k*g.l : (nc+1)*g.k*g.l]
			for j, o := range offs {
				if o >= 0 {
					dst[o] += src[j]
				}
			}
		}
	})
}

// movUnravel writes the multi-index of flat index i over shape into idx.
func movUnravel(idx []int, i int, shape []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}
