package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/pgrad"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("MaxPool", 1, convPrepPool(convPoolMax))
	reg("AveragePool", 1, convPrepPool(convPoolAvg))
	reg("LpPool", 1, convPrepPool(convPoolLp))
}

// Pooling kinds.
const (
	convPoolMax = iota
	convPoolAvg
	convPoolLp
)

var convPoolNames = [...]string{"MaxPool", "AveragePool", "LpPool"}

// convPool is a prepared MaxPool, AveragePool or LpPool.
type convPool struct {
	kind     int
	win      convWin
	countPad bool    // AveragePool count_include_pad
	p        float64 // LpPool exponent
	colMajor bool    // MaxPool storage_order
	indices  bool    // MaxPool second output wanted
}

// convReadP reads the p attribute: a float in LpPool-1/GlobalLpPool-1, an
// int afterwards.
func convReadP(op string, a ir.Attrs) (float64, error) {
	p := 2.0
	if at := a.Find("p"); at != nil {
		if at.Type == ir.AttrFloat {
			p = float64(at.Float)
		} else {
			p = float64(at.Int)
		}
	}
	if p <= 0 || math.IsNaN(p) || math.IsInf(p, 0) {
		return 0, fmt.Errorf("%w: %s: p = %v must be positive", errAttr, op, p)
	}
	return p, nil
}

func convPrepPool(kind int) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		op := convPoolNames[kind]
		win, err := convReadWin(op, s.Attrs)
		if err != nil {
			return nil, err
		}
		c := convPool{
			kind:     kind,
			win:      win,
			countPad: s.Attrs.Int("count_include_pad", 0) != 0,
			colMajor: s.Attrs.Int("storage_order", 0) != 0,
			indices:  kind == convPoolMax && s.NumOutputs > 1,
		}
		if kind == convPoolLp {
			if c.p, err = convReadP(op, s.Attrs); err != nil {
				return nil, err
			}
		}
		dt := inputType(s.InputTypes, 0)
		switch dt {
		case ir.Float32:
			return convPoolKernel[float32](c), nil
		case ir.Float64:
			return convPoolKernel[float64](c), nil
		case ir.Float16, ir.BFloat16:
			return viaFloat32(convPoolKernel[float32](c), dt, 0), nil
		case ir.Int8:
			if kind == convPoolMax {
				return convPoolKernel[int8](c), nil
			}
		case ir.Uint8:
			if kind == convPoolMax {
				return convPoolKernel[uint8](c), nil
			}
		}
		return nil, fmt.Errorf("%w: %s: %v", errDType, op, dt)
	}
}

// convPoolT lists the element types pooling runs on.
type convPoolT interface {
	~float32 | ~float64 | ~int8 | ~uint8
}

// convG3 is a window geometry of rank <= 3 padded to 3 dims (leading dims of
// size 1), so one set of loops serves 1-D, 2-D and 3-D pooling.
type convG3 struct {
	in, out, k, s, dil, pb, pe [3]int
	// lo[d][o], hi[d][o]: kernel taps of output o on dim d that fall inside
	// the input; plo/phi: inside the padded input (count_include_pad).
	lo, hi, plo, phi [3][]int
}

func convTo3(op string, g *convGeom) (*convG3, error) {
	r := len(g.in)
	if r > 3 {
		return nil, fmt.Errorf("%w: %s: %d spatial dimensions (at most 3 supported)", backends.ErrNotImplemented, op, r)
	}
	t := &convG3{}
	for i := 0; i < 3; i++ {
		t.in[i], t.out[i], t.k[i], t.s[i], t.dil[i] = 1, 1, 1, 1, 1
	}
	for i := 0; i < r; i++ {
		j := 3 - r + i
		t.in[j], t.out[j], t.k[j], t.s[j], t.dil[j] = g.in[i], g.out[i], g.kernel[i], g.strides[i], g.dilations[i]
		t.pb[j], t.pe[j] = g.padBegin[i], g.padEnd[i]
	}
	for d := 0; d < 3; d++ {
		n := t.out[d]
		t.lo[d], t.hi[d], t.plo[d], t.phi[d] = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
		for o := 0; o < n; o++ {
			st := o*t.s[d] - t.pb[d]
			t.lo[d][o], t.hi[d][o] = t.taps(d, st, 0, t.in[d])
			t.plo[d][o], t.phi[d][o] = t.taps(d, st, -t.pb[d], t.in[d]+t.pe[d])
		}
	}
	return t, nil
}

// taps returns the kernel taps [lo,hi) of dim d whose input coordinate
// st + k*dil lies in [from, to).
func (t *convG3) taps(d, st, from, to int) (lo, hi int) {
	dil := t.dil[d]
	lo = 0
	if st < from {
		lo = (from - st + dil - 1) / dil
	}
	hi = t.k[d]
	if lim := to - st; lim <= 0 {
		hi = 0
	} else {
		hi = min(hi, (lim+dil-1)/dil)
	}
	return lo, max(lo, hi)
}

func convPoolKernel[T convPoolT](c convPool) kernelFunc {
	op := convPoolNames[c.kind]
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		n, ch, sp, err := convSplitNC(op, 0, in[0].Shape)
		if err != nil {
			return nil, err
		}
		g, err := c.win.resolve(sp, nil)
		if err != nil {
			return nil, err
		}
		t, err := convTo3(op, g)
		if err != nil {
			return nil, err
		}
		shape := append([]int{n, ch}, g.out...)
		out, err := newTensorRaw(in[0].DType, shape)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		var idx []int64
		outs := []*ir.Tensor{out}
		if c.indices {
			it, _ := newTensor(ir.Int64, shape)
			idx = it.Data.([]int64)
			outs = append(outs, it)
		}
		x, y := in[0].Data.([]T), out.Data.([]T)
		inSize, outSize := ir.Size(sp), ir.Size(g.out)
		parallelFor(n*ch, outSize*ir.Size(g.kernel), func(lo, hi int) {
			var rows []T // separable max: the row maxima of one plane
			for pl := lo; pl < hi; pl++ {
				xp, yp := x[pl*inSize:(pl+1)*inSize], y[pl*outSize:(pl+1)*outSize]
				switch c.kind {
				case convPoolMax:
					var ip []int64
					if idx != nil {
						ip = idx[pl*outSize : (pl+1)*outSize]
					}
					switch {
					case t.is2x2():
						convMax2x2Plane(t, xp, yp, ip, int64(pl*inSize), c.colMajor)
					case ip == nil && t.is3x3s2():
						if rows == nil {
							rows = make([]T, 2*t.in[2]+4)
						}
						convMax3x3s2(t, xp, yp, rows)
					case ip == nil && t.separable():
						if rows == nil {
							rows = make([]T, t.in[0]*t.in[1]*t.out[2])
						}
						convMaxSeparable(t, xp, yp, rows)
					default:
						convMaxPlane(t, xp, yp, ip, int64(pl*inSize), c.colMajor)
					}
				default:
					convAvgLpPlane(t, c, xp, yp)
				}
			}
		})
		return outs, nil
	}
}

// convMaxPlane max-pools one (n, c) plane; ip (optional) receives the
// flattened index (into the whole input) of each maximum.
func convMaxPlane[T convPoolT](t *convG3, x, y []T, ip []int64, base int64, colMajor bool) {
	o := 0
	in1, in2 := t.in[1], t.in[2]
	d1, d2 := t.dil[1], t.dil[2]
	for od := 0; od < t.out[0]; od++ {
		sd := od*t.s[0] - t.pb[0]
		dlo, dhi := t.lo[0][od], t.hi[0][od]
		for oh := 0; oh < t.out[1]; oh++ {
			sh := oh*t.s[1] - t.pb[1]
			hlo, hhi := t.lo[1][oh], t.hi[1][oh]
			for ow := 0; ow < t.out[2]; ow++ {
				sw := ow*t.s[2] - t.pb[2]
				wlo, whi := t.lo[2][ow], t.hi[2][ow]
				if dlo >= dhi || hlo >= hhi || wlo >= whi {
					var zero T
					y[o] = zero
					if ip != nil {
						ip[o] = -1
					}
					o++
					continue
				}
				first := ((sd+dlo*t.dil[0])*in1+sh+hlo*d1)*in2 + sw + wlo*d2
				best, bi := x[first], first
				for kd := dlo; kd < dhi; kd++ {
					plane := (sd + kd*t.dil[0]) * in1
					for kh := hlo; kh < hhi; kh++ {
						row := (plane+sh+kh*d1)*in2 + sw
						if ip == nil {
							// Branch-free: the comparison is unpredictable.
							for kw := wlo; kw < whi; kw++ {
								best = max(best, x[row+kw*d2])
							}
							continue
						}
						for kw := wlo; kw < whi; kw++ {
							if v := x[row+kw*d2]; v > best {
								best, bi = v, row+kw*d2
							}
						}
					}
				}
				y[o] = best
				if ip != nil {
					ip[o] = base + convPoolIndex(t, bi, colMajor)
				}
				o++
			}
		}
	}
}

// is2x2 reports a 2-D 2×2 window of stride 2 without padding or dilation
// whose windows all lie inside the input: the common pooling layer, which
// convMax2x2Plane runs without per-window bounds.
func (t *convG3) is2x2() bool {
	return t.k == [3]int{1, 2, 2} && t.s == [3]int{1, 2, 2} && t.dil == [3]int{1, 1, 1} &&
		t.pb == [3]int{} && t.out[0] == t.in[0] && 2*t.out[1] <= t.in[1] && 2*t.out[2] <= t.in[2]
}

// convMax2x2Plane is convMaxPlane for is2x2 geometries, with the same
// results: max propagates NaN without indices, and with indices the first
// strictly greatest value of a window (row-major) wins. float32 maxima
// without indices run pgrad.Max2x2 (AVX-512, Go's max to the bit).
func convMax2x2Plane[T convPoolT](t *convG3, x, y []T, ip []int64, base int64, colMajor bool) {
	w, ow := t.in[2], t.out[2]
	if xf, ok := any(x).([]float32); ok && ip == nil {
		yf := any(y).([]float32)
		for d := 0; d < t.out[0]; d++ {
			xd := xf[d*t.in[1]*w:]
			for oh := 0; oh < t.out[1]; oh++ {
				i0 := 2 * oh * w
				pgrad.Max2x2(yf[(d*t.out[1]+oh)*ow:][:ow], xd[i0:i0+2*ow], xd[i0+w:i0+w+2*ow])
			}
		}
		return
	}
	for d := 0; d < t.out[0]; d++ {
		xd := x[d*t.in[1]*w:]
		for oh := 0; oh < t.out[1]; oh++ {
			i0 := 2 * oh * w
			r0, r1 := xd[i0:i0+2*ow], xd[i0+w:i0+w+2*ow]
			yr := y[(d*t.out[1]+oh)*ow:][:ow]
			if ip == nil {
				for o := range yr {
					yr[o] = max(r0[2*o], r0[2*o+1], r1[2*o], r1[2*o+1])
				}
				continue
			}
			ir := ip[(d*t.out[1]+oh)*ow:][:ow]
			off := d*t.in[1]*w + i0
			for o := range yr {
				best, bi := r0[2*o], off+2*o
				if v := r0[2*o+1]; v > best {
					best, bi = v, off+2*o+1
				}
				if v := r1[2*o]; v > best {
					best, bi = v, off+w+2*o
				}
				if v := r1[2*o+1]; v > best {
					best, bi = v, off+w+2*o+1
				}
				yr[o] = best
				ir[o] = base + convPoolIndex(t, bi, colMajor)
			}
		}
	}
}

// separable reports a window over the last two dims only (k = 1, stride 1,
// no padding on the first of three), where a max is a max of row maxima.
func (t *convG3) separable() bool {
	return t.k[0] == 1 && t.s[0] == 1 && t.pb[0] == 0 && t.pe[0] == 0 && t.out[0] == t.in[0]
}

// convMaxSeparable is convMaxPlane without indices for separable windows:
// rows (in0·in1·out2 scratch) first takes each input row's maximum under
// every column window, then each output is the maximum of kh of those.
// Empty windows give zero, as in convMaxPlane; max propagates NaN either
// way.
func convMaxSeparable[T convPoolT](t *convG3, x, y, rows []T) {
	in1, in2, out1, out2 := t.in[1], t.in[2], t.out[1], t.out[2]
	d1, d2 := t.dil[1], t.dil[2]
	three := t.k[2] == 3 && d2 == 1 // ResNet's 3x3 pool: whole windows unrolled
	for d := 0; d < t.out[0]; d++ {
		xd, rd := x[d*in1*in2:][:in1*in2], rows[d*in1*out2:][:in1*out2]
		for r := 0; r < in1; r++ {
			xr, hr := xd[r*in2:][:in2], rd[r*out2:][:out2]
			for ow := range hr {
				wlo, whi := t.lo[2][ow], t.hi[2][ow]
				if wlo >= whi {
					continue
				}
				sw := ow*t.s[2] - t.pb[2]
				if three && wlo == 0 && whi == 3 {
					w := xr[sw : sw+3 : sw+3]
					hr[ow] = max(w[0], w[1], w[2])
					continue
				}
				best := xr[sw+wlo*d2]
				for kw := wlo + 1; kw < whi; kw++ {
					best = max(best, xr[sw+kw*d2])
				}
				hr[ow] = best
			}
		}
		yd := y[d*out1*out2:][:out1*out2]
		for oh := 0; oh < out1; oh++ {
			hlo, hhi := t.lo[1][oh], t.hi[1][oh]
			yr := yd[oh*out2:][:out2]
			if hlo >= hhi {
				clear(yr)
				continue
			}
			sh := oh*t.s[1] - t.pb[1]
			copy(yr, rd[(sh+hlo*d1)*out2:][:out2])
			for kh := hlo + 1; kh < hhi; kh++ {
				hr := rd[(sh+kh*d1)*out2:][:out2]
				for ow, v := range hr {
					yr[ow] = max(yr[ow], v)
				}
			}
			for ow := range yr {
				if t.lo[2][ow] >= t.hi[2][ow] {
					var zero T
					yr[ow] = zero
				}
			}
		}
	}
}

// convPoolIndex maps a row-major spatial offset to the storage_order index.
func convPoolIndex(t *convG3, i int, colMajor bool) int64 {
	if !colMajor || i < 0 {
		return int64(i)
	}
	w := i % t.in[2]
	h := i / t.in[2] % t.in[1]
	d := i / (t.in[2] * t.in[1])
	// Padded leading dims have size 1 and coordinate 0, so they drop out.
	return int64(d + h*t.in[0] + w*t.in[0]*t.in[1])
}

// convAvgLpPlane average- or Lp-pools one plane.
func convAvgLpPlane[T convPoolT](t *convG3, c convPool, x, y []T) {
	o := 0
	for od := 0; od < t.out[0]; od++ {
		sd := od*t.s[0] - t.pb[0]
		dlo, dhi := t.lo[0][od], t.hi[0][od]
		pd := t.phi[0][od] - t.plo[0][od]
		for oh := 0; oh < t.out[1]; oh++ {
			sh := oh*t.s[1] - t.pb[1]
			hlo, hhi := t.lo[1][oh], t.hi[1][oh]
			ph := t.phi[1][oh] - t.plo[1][oh]
			for ow := 0; ow < t.out[2]; ow++ {
				sw := ow*t.s[2] - t.pb[2]
				wlo, whi := t.lo[2][ow], t.hi[2][ow]
				sum := 0.0
				for kd := dlo; kd < dhi; kd++ {
					id := sd + kd*t.dil[0]
					for kh := hlo; kh < hhi; kh++ {
						row := (id*t.in[1] + sh + kh*t.dil[1]) * t.in[2]
						for kw := wlo; kw < whi; kw++ {
							v := float64(x[row+sw+kw*t.dil[2]])
							switch {
							case c.kind == convPoolAvg:
								sum += v
							case c.p == 2:
								sum += v * v
							case c.p == 1:
								sum += math.Abs(v)
							default:
								sum += math.Pow(math.Abs(v), c.p)
							}
						}
					}
				}
				switch {
				case c.kind == convPoolLp && c.p == 2:
					sum = math.Sqrt(sum)
				case c.kind == convPoolLp && c.p != 1:
					sum = math.Pow(sum, 1/c.p)
				case c.kind == convPoolAvg:
					cnt := (dhi - dlo) * (hhi - hlo) * (whi - wlo)
					if c.countPad {
						cnt = pd * ph * (t.phi[2][ow] - t.plo[2][ow])
					}
					sum /= float64(cnt)
				}
				y[o] = T(sum)
				o++
			}
		}
	}
}
