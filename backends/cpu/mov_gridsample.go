package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// GridSample (2-D from opset 16, N-D from 20) and AffineGrid.

func init() {
	reg("GridSample", 16, prepGridSample)
	reg("AffineGrid", 20, prepAffineGrid)
}

// movGrid holds the attributes of a GridSample node.
type movGrid struct {
	mode, padding string
	align         bool
	only2D        bool
	wide          bool // float64 grid: coordinates in float64, not float32
}

func prepGridSample(s *backends.OpSpec) (kernelFunc, error) {
	def := "linear"
	if movVer(s) < 20 {
		def = "bilinear"
	}
	g := &movGrid{mode: s.Attrs.Str("mode", def), padding: s.Attrs.Str("padding_mode", "zeros"),
		align: s.Attrs.Int("align_corners", 0) != 0, only2D: movVer(s) < 20}
	g.wide = len(s.InputTypes) > 1 && s.InputTypes[1] == ir.Float64
	switch g.mode {
	case "bilinear", "linear":
		g.mode = "linear"
	case "bicubic", "cubic":
		g.mode = "cubic"
	case "nearest":
	default:
		return nil, fmt.Errorf("%w: GridSample: mode %q", errAttr, g.mode)
	}
	switch g.padding {
	case "zeros", "border", "reflection":
	default:
		return nil, fmt.Errorf("%w: GridSample: padding_mode %q", errAttr, g.padding)
	}
	return g.run, nil
}

func (g *movGrid) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, err
	}
	x, grid := in[0], in[1]
	r := x.Rank() - 2
	if r < 1 || r > movGridMaxRank || (g.only2D && r != 2) || grid.Rank() != r+2 || grid.Shape[0] != x.Shape[0] || grid.Shape[r+1] != r {
		return nil, fmt.Errorf("%w: GridSample: X shape %v and grid shape %v do not match", errShape, x.Shape, grid.Shape)
	}
	xv, err := movFloats(x)
	if err != nil {
		return nil, fmt.Errorf("GridSample: X: %w", err)
	}
	gv, err := movFloats(grid)
	if err != nil {
		return nil, fmt.Errorf("GridSample: grid: %w", err)
	}
	n, c := x.Shape[0], x.Shape[1]
	dims := x.Shape[2:]
	outShape := append([]int{n, c}, grid.Shape[1:r+1]...)
	if _, err := ir.NumElements(outShape); err != nil {
		return nil, fmt.Errorf("GridSample: %w", err)
	}
	p := ir.Size(grid.Shape[1 : r+1])
	vol := ir.Size(dims)
	out := make([]float64, n*c*p)
	st := stridesOf(dims)
	parallelFor(n*p, c*8+64, func(lo, hi int) {
		var offs []int
		var ws []float64
		for np := lo; np < hi; np++ {
			b, q := np/p, np%p
			offs, ws = g.taps(offs[:0], ws[:0], gv[np*r:(np+1)*r], dims, st)
			for ch := 0; ch < c; ch++ {
				src := xv[(b*c+ch)*vol:]
				sum := 0.0
				for k, o := range offs {
					sum += ws[k] * src[o]
				}
				out[(b*c+ch)*p+q] = sum
			}
		}
	})
	res, err := movFromFloats(x.DType, outShape, out)
	if err != nil {
		return nil, fmt.Errorf("GridSample: %w", err)
	}
	return one(res)
}

// movGridMaxRank bounds the spatial rank GridSample accepts.
const movGridMaxRank = 8

// taps appends, for one grid point (normalized coordinates in reverse axis
// order), the flat offsets into a spatial volume and their weights.
func (g *movGrid) taps(offs []int, ws []float64, coord []float64, dims, st []int) ([]int, []float64) {
	r := len(dims)
	var idx [movGridMaxRank][4]int
	var w [movGridMaxRank][4]float64
	nt := 1
	for i := 0; i < r; i++ {
		nt = g.axisTaps(&idx[i], &w[i], coord[r-1-i], dims[i])
	}
	// Walk every combination of one tap per axis.
	var pick [movGridMaxRank]int
	for {
		o, wt := 0, 1.0
		for i := 0; i < r; i++ {
			j := idx[i][pick[i]]
			if j < 0 {
				wt = 0
				break
			}
			o += j * st[i]
			wt *= w[i][pick[i]]
		}
		if wt != 0 {
			offs, ws = append(offs, o), append(ws, wt)
		}
		i := r - 1
		for ; i >= 0; i-- {
			if pick[i]++; pick[i] < nt {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			return offs, ws
		}
	}
}

// axisTaps fills the taps of one axis (index -1 reads zero padding) and
// returns their count.
func (g *movGrid) axisTaps(idx *[4]int, w *[4]float64, nrm float64, d int) int {
	lo, hi := -0.5, float64(d)-0.5
	if g.align {
		lo, hi = 0, float64(d-1)
	}
	x := g.unnormalize(nrm, d)
	if g.mode == "nearest" {
		// Half to even, as ONNX's test data has it (PyTorch's 3-D kernel
		// rounds half away from zero).
		x = math.RoundToEven(x)
	}
	if x < lo || x > hi {
		switch g.padding {
		case "border":
			x = g.round(min(max(x, 0), float64(d-1)))
		case "reflection":
			x = g.round(movReflect(x, lo, hi))
		}
	}
	x0 := math.Floor(x)
	t := x - x0
	n := 1
	switch g.mode {
	case "nearest":
		idx[0], w[0] = int(x0), 1
	case "linear":
		n = 2
		idx[0], idx[1] = int(x0), int(x0)+1
		w[0], w[1] = 1-t, t
	case "cubic":
		n = 4
		for k := 0; k < 4; k++ {
			idx[k] = int(x0) - 1 + k
		}
		w[0], w[1], w[2], w[3] = movCubic(t+1, -0.75), movCubic(t, -0.75), movCubic(1-t, -0.75), movCubic(2-t, -0.75)
	}
	for k := 0; k < n; k++ {
		idx[k] = g.pixel(idx[k], d, lo, hi)
	}
	return n
}

// unnormalize maps a normalized coordinate onto an axis of length d, in
// float32 arithmetic (as ONNX's test data has it) unless the grid is float64.
func (g *movGrid) unnormalize(nrm float64, d int) float64 {
	if g.wide {
		if g.align {
			return (nrm + 1) / 2 * float64(d-1)
		}
		return ((nrm+1)*float64(d) - 1) / 2
	}
	n32 := float32(nrm)
	if g.align {
		return float64((n32 + 1) / 2 * float32(d-1))
	}
	return float64(((n32+1)*float32(d) - 1) / 2)
}

// round rounds to float32 unless the grid is float64.
func (g *movGrid) round(x float64) float64 {
	if g.wide {
		return x
	}
	return float64(float32(x))
}

// pixel resolves an integer index with the padding mode (-1: zero).
func (g *movGrid) pixel(i, d int, lo, hi float64) int {
	if i >= 0 && i < d {
		return i
	}
	switch g.padding {
	case "border":
		return min(max(i, 0), d-1)
	case "reflection":
		j := int(movReflect(float64(i), lo, hi))
		return min(max(j, 0), d-1)
	}
	return -1
}

// movReflect folds x into [lo, hi] by reflecting at the borders.
func movReflect(x, lo, hi float64) float64 {
	rng := hi - lo
	if rng <= 0 {
		return lo
	}
	if x < lo {
		dx := lo - x
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if math.Mod(n, 2) == 0 {
			return lo + r
		}
		return hi - r
	}
	if x > hi {
		dx := x - hi
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if math.Mod(n, 2) == 0 {
			return hi - r
		}
		return lo + r
	}
	return x
}

func prepAffineGrid(s *backends.OpSpec) (kernelFunc, error) {
	align := s.Attrs.Int("align_corners", 0) != 0
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		theta := in[0]
		size, err := movShapeInput(in[1], "input 1 (size)")
		if err != nil {
			return nil, fmt.Errorf("AffineGrid: %w", err)
		}
		r := len(size) - 2
		if (r != 2 && r != 3) || theta.Rank() != 3 || theta.Shape[0] != int(size[0]) ||
			theta.Shape[1] != r || theta.Shape[2] != r+1 {
			return nil, fmt.Errorf("%w: AffineGrid: theta shape %v for size %v", errShape, theta.Shape, size)
		}
		tv, err := movFloats(theta)
		if err != nil {
			return nil, fmt.Errorf("AffineGrid: theta: %w", err)
		}
		spatial := movToInts(size[2:])
		outShape := append(append([]int{int(size[0])}, spatial...), r)
		if _, err := ir.NumElements(outShape); err != nil {
			return nil, fmt.Errorf("AffineGrid: %w", err)
		}
		out := make([]float64, ir.Size(outShape))
		p := ir.Size(spatial)
		base := make([]float64, r+1) // (x, y[, z], 1): x walks the last axis
		for b := 0; b < outShape[0]; b++ {
			th := tv[b*r*(r+1):]
			for q := 0; q < p; q++ {
				rem := q
				for i := r - 1; i >= 0; i-- {
					base[r-1-i] = movAffineCoord(rem%spatial[i], spatial[i], align)
					rem /= spatial[i]
				}
				base[r] = 1
				o := out[(b*p+q)*r:]
				for j := 0; j < r; j++ {
					sum := 0.0
					for k := 0; k <= r; k++ {
						sum += th[j*(r+1)+k] * base[k]
					}
					o[j] = sum
				}
			}
		}
		res, err := movFromFloats(theta.DType, outShape, out)
		if err != nil {
			return nil, fmt.Errorf("AffineGrid: %w", err)
		}
		return one(res)
	}, nil
}

// movAffineCoord is the normalized coordinate of pixel i of n in [-1, 1].
func movAffineCoord(i, n int, align bool) float64 {
	if align {
		if n <= 1 {
			return -1
		}
		return -1 + float64(i)*2/float64(n-1)
	}
	return -1 + float64(2*i+1)/float64(n)
}
