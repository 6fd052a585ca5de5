package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// Linear and cubic resampling for Resize/Upsample.

// movTaps is a 1-D resampling: output i reads the n inputs idx[i*n:] with
// weights w[i*n:], or the extrapolation value when extrap[i].
type movTaps struct {
	n      int
	idx    []int
	w      []float64
	extrap []bool
}

// movCubic is the Keys cubic convolution kernel with parameter a.
func movCubic(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// taps builds the resampling of axis a.
func (r *movResize) taps(g *movResizeGeom, shape []int, a int) movTaps {
	in, out, scale := shape[a], g.out[a], g.scale[a]
	cubic := r.mode == "cubic"
	start, n, s := 0, 2, 1.0
	if cubic {
		start, n = -1, 4
	}
	if r.antialias && scale < 1 {
		// The filter is stretched by 1/scale so every input contributes.
		s = scale
		support := 1.0
		if cubic {
			support = 2
		}
		start = int(math.Floor(-support/s) + 1)
		n = 2 - 2*start
	}
	t := movTaps{n: n, idx: make([]int, out*n), w: make([]float64, out*n), extrap: make([]bool, out)}
	for i := 0; i < out; i++ {
		xo, outside := r.origin(g, shape, a, i)
		if outside {
			t.extrap[i] = true
			continue
		}
		left := math.Ceil(xo) - 1 // ratio = xo - left is in (0, 1]
		ratio := xo - left
		idx, w := t.idx[i*n:(i+1)*n], t.w[i*n:(i+1)*n]
		sum := 0.0
		for k := range w {
			d := (float64(start+k) - ratio) * s
			if cubic {
				w[k] = movCubic(d, r.cubicA)
			} else {
				w[k] = max(0, 1-math.Abs(d))
			}
			p := int(left) + start + k
			if r.exclude && (p < 0 || p >= in) {
				w[k] = 0
			}
			idx[k] = min(max(p, 0), in-1)
			sum += w[k]
		}
		if (r.antialias && s < 1 || r.exclude) && sum != 0 {
			for k := range w {
				w[k] /= sum
			}
		}
	}
	return t
}

// interpolate runs linear or cubic resizing axis by axis in float64.
func (r *movResize) interpolate(x *ir.Tensor, g *movResizeGeom) (*ir.Tensor, error) {
	data, err := movFloats(x)
	if err != nil {
		return nil, err
	}
	cur := append([]int{}, x.Shape...)
	for a := range cur {
		if !r.resized(g, x.Shape, a) {
			continue
		}
		if cur[a] == 0 && g.out[a] > 0 {
			return nil, fmt.Errorf("%w: cannot interpolate the empty axis %d of shape %v", errShape, a, x.Shape)
		}
		t := r.taps(g, x.Shape, a)
		outer, inner := ir.Size(cur[:a]), ir.Size(cur[a+1:])
		next := make([]float64, outer*g.out[a]*inner)
		movResample(next, data, t, outer, cur[a], g.out[a], inner, r.extrap)
		data = next
		cur[a] = g.out[a]
	}
	return movFromFloats(x.DType, cur, data)
}

// movResample applies t along the middle axis of src (outer, inLen, inner).
func movResample(dst, src []float64, t movTaps, outer, inLen, outLen, inner int, extrap float64) {
	rows := outer * outLen
	parallelFor(rows, t.n*inner+8, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			o, i := row/outLen, row%outLen
			d := dst[row*inner : (row+1)*inner]
			if t.extrap[i] {
				for j := range d {
					d[j] = extrap
				}
				continue
			}
			for k := 0; k < t.n; k++ {
				w := t.w[i*t.n+k]
				s := src[(o*inLen+t.idx[i*t.n+k])*inner:]
				for j := range d {
					d[j] += w * s[j]
				}
			}
		}
	})
}
