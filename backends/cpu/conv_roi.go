package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("RoiAlign", 10, prepRoiAlign)
	reg("MaxRoiPool", 1, prepMaxRoiPool)
}

// convRoiAlign is a prepared RoiAlign.
type convRoiAlign struct {
	max          bool
	halfPixel    bool
	outH, outW   int
	samplingRate int
	scale        float64
}

func prepRoiAlign(s *backends.OpSpec) (kernelFunc, error) {
	mode := s.Attrs.Str("mode", "avg")
	ctm := "half_pixel"
	if s.Version < 16 {
		ctm = "output_half_pixel"
	}
	ctm = s.Attrs.Str("coordinate_transformation_mode", ctm)
	r := convRoiAlign{
		max:          mode == "max",
		halfPixel:    ctm == "half_pixel",
		outH:         int(s.Attrs.Int("output_height", 1)),
		outW:         int(s.Attrs.Int("output_width", 1)),
		samplingRate: int(s.Attrs.Int("sampling_ratio", 0)),
		scale:        float64(s.Attrs.Float("spatial_scale", 1)),
	}
	switch {
	case mode != "avg" && mode != "max":
		return nil, fmt.Errorf("%w: RoiAlign: mode %q", errAttr, mode)
	case ctm != "half_pixel" && ctm != "output_half_pixel":
		return nil, fmt.Errorf("%w: RoiAlign: coordinate_transformation_mode %q", errAttr, ctm)
	case r.outH < 1 || r.outW < 1 || r.outH > 1<<20 || r.outW > 1<<20:
		return nil, fmt.Errorf("%w: RoiAlign: output size %dx%d", errAttr, r.outH, r.outW)
	case r.samplingRate < 0 || r.samplingRate > 1<<10:
		return nil, fmt.Errorf("%w: RoiAlign: sampling_ratio %d", errAttr, r.samplingRate)
	}
	dt := inputType(s.InputTypes, 0)
	if t := inputType(s.InputTypes, 1); t != dt {
		return nil, fmt.Errorf("%w: RoiAlign: rois (input 1) are %v, X is %v", errDType, t, dt)
	}
	if t := inputType(s.InputTypes, 2); t != ir.Int64 && t != ir.Int32 {
		return nil, fmt.Errorf("%w: RoiAlign: batch_indices (input 2) are %v, want int64", errDType, t)
	}
	switch dt {
	case ir.Float32:
		return convRoiAlignKernel[float32](r), nil
	case ir.Float64:
		return convRoiAlignKernel[float64](r), nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convRoiAlignKernel[float32](r), dt, 0, 1), nil
	}
	return nil, fmt.Errorf("%w: RoiAlign: %v", errDType, dt)
}

// convRoiSample is one bilinear sample: four plane offsets and weights.
type convRoiSample struct {
	pos [4]int
	w   [4]float64
}

// convRoiAlignKernel: X (N,C,H,W), rois (R,4) [x1 y1 x2 y2], batch_indices
// (R) -> Y (R,C,outH,outW).
func convRoiAlignKernel[T ~float32 | ~float64](r convRoiAlign) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, fmt.Errorf("RoiAlign: %w", err)
		}
		xs, rs := in[0].Shape, in[1].Shape
		if len(xs) != 4 {
			return nil, fmt.Errorf("%w: RoiAlign: X (input 0) must be (N,C,H,W), got %v", errShape, xs)
		}
		if len(rs) != 2 || rs[1] != 4 {
			return nil, fmt.Errorf("%w: RoiAlign: rois (input 1) must be (R,4), got %v", errShape, rs)
		}
		bidx, err := intsOf(in[2])
		if err != nil || len(bidx) != rs[0] {
			return nil, fmt.Errorf("%w: RoiAlign: batch_indices (input 2) shape %v, want [%d]", errShape, in[2].Shape, rs[0])
		}
		for _, b := range bidx {
			if b < 0 || b >= int64(xs[0]) {
				return nil, fmt.Errorf("%w: RoiAlign: batch index %d out of range for X %v", errInput, b, xs)
			}
		}
		c, h, w := xs[1], xs[2], xs[3]
		out, err := newTensor(in[0].DType, []int{rs[0], c, r.outH, r.outW})
		if err != nil {
			return nil, fmt.Errorf("RoiAlign: %w", err)
		}
		x, rois, y := in[0].Data.([]T), in[1].Data.([]T), out.Data.([]T)
		bins := r.outH * r.outW
		for n := 0; n < rs[0]; n++ {
			samples, gh, gw, err := convRoiPrecompute(r, rois[n*4:n*4+4], h, w)
			if err != nil {
				return nil, err
			}
			grid := gh * gw
			parallelFor(c, len(samples)*4, func(lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					plane := x[(int(bidx[n])*c+ch)*h*w:]
					convRoiBins(y[(n*c+ch)*bins:(n*c+ch+1)*bins], plane, samples, grid, r.max)
				}
			})
		}
		return one(out)
	}
}

// convRoiBins pools each bin's grid samples of one channel plane: the mean
// of the bilinear values, or (max mode) the largest weighted corner.
func convRoiBins[T ~float32 | ~float64](dst, plane []T, samples []convRoiSample, grid int, maxMode bool) {
	count := float64(max(grid, 1))
	for b := range dst {
		v := 0.0
		for i, sm := range samples[b*grid : (b+1)*grid] {
			c0, c1 := sm.w[0]*float64(plane[sm.pos[0]]), sm.w[1]*float64(plane[sm.pos[1]])
			c2, c3 := sm.w[2]*float64(plane[sm.pos[2]]), sm.w[3]*float64(plane[sm.pos[3]])
			if !maxMode {
				v += c0 + c1 + c2 + c3
				continue
			}
			if m := max(c0, c1, c2, c3); i == 0 || m > v {
				v = m
			}
		}
		if !maxMode {
			v /= count
		}
		dst[b] = T(v)
	}
}

// convRoiPrecompute returns the bilinear samples of one roi [x1 y1 x2 y2],
// bin by bin (gh×gw per bin, row-major), shared by all channels.
func convRoiPrecompute[T ~float32 | ~float64](r convRoiAlign, roi []T, h, w int) ([]convRoiSample, int, int, error) {
	off := 0.0
	if r.halfPixel {
		off = 0.5
	}
	x0, y0 := float64(roi[0])*r.scale-off, float64(roi[1])*r.scale-off
	rw, rh := float64(roi[2])*r.scale-off-x0, float64(roi[3])*r.scale-off-y0
	if !r.halfPixel {
		rw, rh = max(rw, 1), max(rh, 1)
	}
	bh, bw := rh/float64(r.outH), rw/float64(r.outW)
	gh, gw := r.samplingRate, r.samplingRate
	if gh == 0 {
		gh, gw = convGridSize(bh), convGridSize(bw)
	}
	if int64(gh)*int64(gw)*int64(r.outH*r.outW) > convMaxRoiSamples {
		return nil, 0, 0, fmt.Errorf("%w: RoiAlign: roi %v needs a %dx%d sampling grid per bin", errInput, roi, gh, gw)
	}
	samples := make([]convRoiSample, 0, r.outH*r.outW*gh*gw)
	for ph := 0; ph < r.outH; ph++ {
		for pw := 0; pw < r.outW; pw++ {
			for iy := 0; iy < gh; iy++ {
				yy := y0 + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)
				for ix := 0; ix < gw; ix++ {
					xx := x0 + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)
					samples = append(samples, convBilinear(yy, xx, h, w))
				}
			}
		}
	}
	return samples, gh, gw, nil
}

// convMaxRoiSamples caps the bilinear samples of one roi (an adaptive grid
// over a huge or non-finite roi would otherwise exhaust memory).
const convMaxRoiSamples = 1 << 24

// convGridSize is the adaptive grid, ceil(bin size), 0 for non-finite or
// negative sizes.
func convGridSize(bin float64) int {
	switch {
	case !(bin > 0):
		return 0
	case bin > 1<<24:
		return 1 << 24
	}
	return int(math.Ceil(bin))
}

// convBilinear is RoiAlign's sample at (y, x): clamped to the map, zero
// weight when more than one pixel outside it.
func convBilinear(y, x float64, h, w int) convRoiSample {
	if !(y >= -1 && y <= float64(h) && x >= -1 && x <= float64(w)) || h == 0 || w == 0 {
		return convRoiSample{}
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
	return convRoiSample{
		pos: [4]int{yl*w + xl, yl*w + xh, yh*w + xl, yh*w + xh},
		w:   [4]float64{hy * hx, hy * lx, ly * hx, ly * lx},
	}
}

// convMaxRoi is a prepared MaxRoiPool.
type convMaxRoi struct {
	ph, pw int
	scale  float64
}

func prepMaxRoiPool(s *backends.OpSpec) (kernelFunc, error) {
	ps := s.Attrs.Ints("pooled_shape", nil)
	if len(ps) != 2 || ps[0] < 1 || ps[1] < 1 || ps[0] > 1<<20 || ps[1] > 1<<20 {
		return nil, fmt.Errorf("%w: MaxRoiPool: pooled_shape %v, want two positive ints", errAttr, ps)
	}
	m := convMaxRoi{ph: int(ps[0]), pw: int(ps[1]), scale: float64(s.Attrs.Float("spatial_scale", 1))}
	dt := inputType(s.InputTypes, 0)
	if t := inputType(s.InputTypes, 1); t != dt {
		return nil, fmt.Errorf("%w: MaxRoiPool: rois (input 1) are %v, X is %v", errDType, t, dt)
	}
	switch dt {
	case ir.Float32:
		return convMaxRoiKernel[float32](m), nil
	case ir.Float64:
		return convMaxRoiKernel[float64](m), nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convMaxRoiKernel[float32](m), dt, 0, 1), nil
	}
	return nil, fmt.Errorf("%w: MaxRoiPool: %v", errDType, dt)
}

// convRoundAway rounds half away from zero (C's round).
func convRoundAway(v float64) int { return int(math.Round(v)) }

// convMaxRoiKernel: X (N,C,H,W), rois (R,5) [batch x1 y1 x2 y2] -> Y (R,C,ph,pw).
func convMaxRoiKernel[T ~float32 | ~float64](m convMaxRoi) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("MaxRoiPool: %w", err)
		}
		xs, rs := in[0].Shape, in[1].Shape
		if len(xs) != 4 || len(rs) != 2 || rs[1] != 5 {
			return nil, fmt.Errorf("%w: MaxRoiPool: want X (N,C,H,W) and rois (R,5), got %v and %v", errShape, xs, rs)
		}
		c, h, w := xs[1], xs[2], xs[3]
		out, err := newTensor(in[0].DType, []int{rs[0], c, m.ph, m.pw})
		if err != nil {
			return nil, fmt.Errorf("MaxRoiPool: %w", err)
		}
		x, rois, y := in[0].Data.([]T), in[1].Data.([]T), out.Data.([]T)
		for n := 0; n < rs[0]; n++ {
			roi := rois[n*5 : n*5+5]
			b := int(roi[0])
			if b < 0 || b >= xs[0] || float64(roi[0]) != float64(b) {
				return nil, fmt.Errorf("%w: MaxRoiPool: roi %d batch index %v out of range for X %v", errInput, n, roi[0], xs)
			}
			sw, sh := convRoundAway(float64(roi[1])*m.scale), convRoundAway(float64(roi[2])*m.scale)
			ew, eh := convRoundAway(float64(roi[3])*m.scale), convRoundAway(float64(roi[4])*m.scale)
			bh := float64(max(eh-sh+1, 1)) / float64(m.ph)
			bw := float64(max(ew-sw+1, 1)) / float64(m.pw)
			for ch := 0; ch < c; ch++ {
				plane := x[(b*c+ch)*h*w : (b*c+ch+1)*h*w]
				dst := y[(n*c+ch)*m.ph*m.pw:]
				for i := 0; i < m.ph; i++ {
					h0 := min(max(int(math.Floor(float64(i)*bh))+sh, 0), h)
					h1 := min(max(int(math.Ceil(float64(i+1)*bh))+sh, 0), h)
					for j := 0; j < m.pw; j++ {
						w0 := min(max(int(math.Floor(float64(j)*bw))+sw, 0), w)
						w1 := min(max(int(math.Ceil(float64(j+1)*bw))+sw, 0), w)
						var best T
						for yy := h0; yy < h1; yy++ {
							for xx := w0; xx < w1; xx++ {
								if v := plane[yy*w+xx]; (yy == h0 && xx == w0) || v > best {
									best = v
								}
							}
						}
						dst[i*m.pw+j] = best
					}
				}
			}
		}
		return one(out)
	}
}
