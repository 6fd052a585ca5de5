package eager

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// Gradient rules of RoiAlign and MaxRoiPool (to X only: the boxes are not
// differentiable). Where each bin reads X depends only on the boxes, which
// are read on the host (like indices); the data stays on the backend. Each
// bin becomes T taps: a row of X viewed as (N·H·W, C) and a weight; bins
// with fewer taps are padded with weight 0 (and -Inf when maxima are taken).

func init() {
	RegisterGradient("", "RoiAlign", gradRoiAlign)
	RegisterGradient("", "MaxRoiPool", gradMaxRoiPool)
}

// roiTaps are the taps of every bin of every roi, bin-major: R·bins·T each.
type roiTaps struct {
	rows []int64   // row of X as (N·H·W, C)
	w    []float64 // weight of the tap
	pad  []float64 // 0 for a real tap, -Inf for padding
	t    int       // taps per bin
}

func newRoiTaps(n, t int) *roiTaps {
	return &roiTaps{rows: make([]int64, n*t), w: make([]float64, n*t), pad: make([]float64, n*t), t: t}
}

// fill sets bin b's taps (rows and weights of equal length), padding the rest.
func (rt *roiTaps) fill(b int, rows []int64, w []float64) {
	for i := 0; i < rt.t; i++ {
		j := b*rt.t + i
		if i < len(rows) {
			rt.rows[j], rt.w[j] = rows[i], w[i]
		} else {
			rt.pad[j] = math.Inf(-1)
		}
	}
}

// grad returns dX (N,C,H,W) for dY (R,C,PH,PW): each bin's gradient times
// its taps' weights, added at their rows. With max set, only the first tap
// holding the largest weighted value of X (w·x) receives it.
func (rt *roiTaps) grad(x, dy *Tensor, max bool) *Tensor {
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	r, bins := dy.Dim(0), dy.Dim(2)*dy.Dim(3)
	if rt.t == 0 || r == 0 {
		return ZerosLike(x)
	}
	rows := hostTensor(x, ir.FromSlice(rt.rows, r*bins*rt.t))
	w := Cast(hostTensor(x, ir.FromSlice(rt.w, r, bins, rt.t, 1)), x.DType())
	dyt := Reshape(Transpose(dy, 0, 2, 3, 1), r, bins, 1, c)
	upd := Mul(dyt, w) // (R, bins, T, C)
	if max {
		xt := Reshape(Transpose(x, 0, 2, 3, 1), n*h*wd, c)
		v := Reshape(Gather(xt, rows, 0), r, bins, rt.t, c)
		v = Add(Mul(v, w), Cast(hostTensor(x, ir.FromSlice(rt.pad, r, bins, rt.t, 1)), x.DType()))
		iota := make([]int64, rt.t)
		for i := range iota {
			iota[i] = int64(i)
		}
		first := Equal(ArgMax(v, 2, true), hostTensor(x, ir.FromSlice(iota, 1, 1, rt.t, 1)))
		upd = Mul(upd, Cast(first, x.DType()))
	}
	acc := op1("ScatterND", ir.Attrs{ir.StringAttr("reduction", "add")},
		Full(x, x.DType(), 0, n*h*wd, c), Reshape(rows, -1, 1), Reshape(upd, -1, c))
	return Transpose(Reshape(acc, n, h, wd, c), 0, 3, 1, 2)
}

// hostTensor puts a host tensor on like's backend.
func hostTensor(like *Tensor, h *ir.Tensor) *Tensor {
	t, err := FromHost(like.dev, h)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return t
}

// hostFloats reads a small float tensor (boxes) on the host.
func hostFloats(t *Tensor, what string) []float64 {
	h, err := t.Host()
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("%s: %w", what, err)})
	}
	out := make([]float64, h.Len())
	for i := range out {
		out[i] = h.Float64At(i)
	}
	return out
}

// RoiAlign (avg): Y[r,c,bin] = 1/G Σ_samples Σ_corners w·X[b_r,c,corner], so
// dX[b_r,c,corner] += w/G dY[r,c,bin]. RoiAlign (max): Y is the largest w·X
// over the bin's samples and corners; dY goes to that one, times its w.
func gradRoiAlign(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	if x.Rank() != 4 {
		panic(&OpError{Err: fmt.Errorf("RoiAlign gradient: X shape %v, want (N,C,H,W)", x.Shape())})
	}
	a := g.Attrs()
	ctm := "half_pixel"
	if g.Spec.Version > 0 && g.Spec.Version < 16 {
		ctm = "output_half_pixel"
	}
	half := a.Str("coordinate_transformation_mode", ctm) == "half_pixel"
	ph, pw := int(a.Int("output_height", 1)), int(a.Int("output_width", 1))
	ratio := int(a.Int("sampling_ratio", 0))
	scale := float64(a.Float("spatial_scale", 1))
	boxes := hostFloats(g.In[1], "RoiAlign gradient: rois")
	bidx := hostFloats(g.In[2], "RoiAlign gradient: batch_indices")
	h, w := x.Dim(2), x.Dim(3)
	nr := len(bidx)
	grids := make([]roiGrid, nr)
	t := 0
	for r := range grids {
		grids[r] = newRoiGrid(boxes[4*r:4*r+4], scale, half, ph, pw, ratio)
		t = max(t, 4*grids[r].gh*grids[r].gw)
	}
	rt := newRoiTaps(nr*ph*pw, t)
	var rows []int64
	var wts []float64
	for r := 0; r < nr; r++ {
		gr, base := grids[r], int64(bidx[r])*int64(h*w)
		inv := 1 / float64(max(gr.gh*gr.gw, 1))
		if a.Str("mode", "avg") == "max" {
			inv = 1
		}
		for by := 0; by < ph; by++ {
			for bx := 0; bx < pw; bx++ {
				rows, wts = rows[:0], wts[:0]
				for iy := 0; iy < gr.gh; iy++ {
					yy := gr.y0 + float64(by)*gr.bh + (float64(iy)+0.5)*gr.bh/float64(gr.gh)
					for ix := 0; ix < gr.gw; ix++ {
						xx := gr.x0 + float64(bx)*gr.bw + (float64(ix)+0.5)*gr.bw/float64(gr.gw)
						pos, cw := roiBilinear(yy, xx, h, w)
						for k := range pos {
							rows, wts = append(rows, base+int64(pos[k])), append(wts, cw[k]*inv)
						}
					}
				}
				rt.fill((r*ph+by)*pw+bx, rows, wts)
			}
		}
	}
	return []*Tensor{rt.grad(x, dy, a.Str("mode", "avg") == "max"), nil, nil}
}

// roiGrid is one RoiAlign box in map coordinates: its corner, bin size and
// sampling grid per bin.
type roiGrid struct {
	y0, x0, bh, bw float64
	gh, gw         int
}

// newRoiGrid maps box [x1 y1 x2 y2] onto the map (half_pixel shifts by
// -0.5; output_half_pixel keeps boxes at least 1 wide) and picks the
// sampling grid: ratio per axis, or ceil(bin size) when ratio is 0.
func newRoiGrid(box []float64, scale float64, half bool, ph, pw, ratio int) roiGrid {
	off := 0.0
	if half {
		off = 0.5
	}
	x0, y0 := box[0]*scale-off, box[1]*scale-off
	rw, rh := box[2]*scale-off-x0, box[3]*scale-off-y0
	if !half {
		rw, rh = max(rw, 1), max(rh, 1)
	}
	g := roiGrid{y0: y0, x0: x0, bh: rh / float64(ph), bw: rw / float64(pw), gh: ratio, gw: ratio}
	if ratio == 0 {
		g.gh, g.gw = max(0, int(math.Ceil(g.bh))), max(0, int(math.Ceil(g.bw)))
	}
	return g
}

// roiBilinear is RoiAlign's sample at (y, x) in an h×w map: four plane
// offsets and weights, clamped to the map, all zero more than a pixel out.
func roiBilinear(y, x float64, h, w int) ([4]int, [4]float64) {
	if y < -1 || y > float64(h) || x < -1 || x > float64(w) {
		return [4]int{}, [4]float64{}
	}
	y, x = max(y, 0), max(x, 0)
	yl, xl := int(y), int(x)
	yh, xh := yl+1, xl+1
	if yl >= h-1 {
		yl, yh, y = h-1, h-1, float64(h-1)
	}
	if xl >= w-1 {
		xl, xh, x = w-1, w-1, float64(w-1)
	}
	ly, lx := y-float64(yl), x-float64(xl)
	hy, hx := 1-ly, 1-lx
	return [4]int{yl*w + xl, yl*w + xh, yh*w + xl, yh*w + xh}, [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}
}

// MaxRoiPool: Y[r,c,bin] = max of X[b_r,c] over the bin's pixels (rounded
// box, floor/ceil bin edges); dY goes to the first maximum.
func gradMaxRoiPool(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	if x.Rank() != 4 {
		panic(&OpError{Err: fmt.Errorf("MaxRoiPool gradient: X shape %v, want (N,C,H,W)", x.Shape())})
	}
	a := g.Attrs()
	ps := a.Ints("pooled_shape", nil)
	if len(ps) != 2 {
		panic(&OpError{Err: fmt.Errorf("MaxRoiPool gradient: pooled_shape %v", ps)})
	}
	ph, pw := int(ps[0]), int(ps[1])
	scale := float64(a.Float("spatial_scale", 1))
	boxes := hostFloats(g.In[1], "MaxRoiPool gradient: rois")
	h, w := x.Dim(2), x.Dim(3)
	nr := len(boxes) / 5
	round := func(v float64) int { return int(math.Round(v * scale)) }
	edges := func(i int, bin float64, start, size int) (int, int) {
		lo := min(max(int(math.Floor(float64(i)*bin))+start, 0), size)
		hi := min(max(int(math.Ceil(float64(i+1)*bin))+start, 0), size)
		return lo, hi
	}
	type roiBox struct {
		b, sh, sw  int
		binH, binW float64
	}
	rb := make([]roiBox, nr)
	t := 0
	for r := range rb {
		v := boxes[5*r : 5*r+5]
		sw, sh, ew, eh := round(v[1]), round(v[2]), round(v[3]), round(v[4])
		rb[r] = roiBox{int(v[0]), sh, sw, float64(max(eh-sh+1, 1)) / float64(ph), float64(max(ew-sw+1, 1)) / float64(pw)}
		for i := 0; i < ph; i++ {
			h0, h1 := edges(i, rb[r].binH, sh, h)
			for j := 0; j < pw; j++ {
				w0, w1 := edges(j, rb[r].binW, sw, w)
				t = max(t, (h1-h0)*(w1-w0))
			}
		}
	}
	rt := newRoiTaps(nr*ph*pw, t)
	var rows []int64
	var ones []float64
	for r, q := range rb {
		for i := 0; i < ph; i++ {
			h0, h1 := edges(i, q.binH, q.sh, h)
			for j := 0; j < pw; j++ {
				w0, w1 := edges(j, q.binW, q.sw, w)
				rows, ones = rows[:0], ones[:0]
				for yy := h0; yy < h1; yy++ {
					for xx := w0; xx < w1; xx++ {
						rows, ones = append(rows, int64((q.b*h+yy)*w+xx)), append(ones, 1)
					}
				}
				rt.fill((r*ph+i)*pw+j, rows, ones)
			}
		}
	}
	return []*Tensor{rt.grad(x, dy, true), nil}
}
