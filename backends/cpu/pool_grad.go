package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/pgrad"
	"github.com/keenml/keen/ir"
)

// MaxPoolGrad(dY, X) -> dX, a Keen-private op (see conv_grad.go) with
// MaxPool's attributes: each window's gradient dY goes to the element
// MaxPool's Indices output would name, the first greatest of the window in
// row-major order; windows that overlap add up. With positive_only = 1 a
// window whose maximum is not positive passes no gradient (MaxPool over a
// Relu's output: the Relu's gradient is then the result itself).

func init() { regKeen("MaxPoolGrad", prepMaxPoolGrad, ir.Float32, ir.Float64) }

func prepMaxPoolGrad(s *backends.OpSpec) (kernelFunc, error) {
	const op = "MaxPoolGrad"
	if s.NumOutputs > 1 {
		return nil, fmt.Errorf("%w: %s has one output, %d declared", errAttr, op, s.NumOutputs)
	}
	win, err := convReadWin(op, s.Attrs)
	if err != nil {
		return nil, err
	}
	pos := s.Attrs.Int("positive_only", 0) != 0
	switch dt := inputType(s.InputTypes, 0); dt {
	case ir.Float32:
		return maxPoolGradKernel[float32](win, pos), nil
	case ir.Float64:
		return maxPoolGradKernel[float64](win, pos), nil
	default:
		return nil, fmt.Errorf("%w: %s: %v", errDType, op, dt)
	}
}

func maxPoolGradKernel[T float32 | float64](win convWin, pos bool) kernelFunc {
	const op = "MaxPoolGrad"
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		dy, x := in[0], in[1]
		n, ch, sp, err := convSplitNC(op, 1, x.Shape)
		if err != nil {
			return nil, err
		}
		g, err := win.resolve(sp, nil)
		if err != nil {
			return nil, err
		}
		t, err := convTo3(op, g)
		if err != nil {
			return nil, err
		}
		if want := append([]int{n, ch}, g.out...); dy.DType != x.DType || !slices.Equal(dy.Shape, want) {
			return nil, fmt.Errorf("%w: %s: dY (input 0) %v%v, want %v%v for X %v", errShape, op, dy.DType, dy.Shape, x.DType, want, x.Shape)
		}
		alloc := newTensor
		if _, f32 := any(T(0)).(float32); f32 && pos && t.is2x2() && t.in[1] == 2*t.out[1] && t.in[2] == 2*t.out[2] {
			alloc = newTensorRaw // maxGrad2x2PlanePos writes every element
		}
		out, err := alloc(x.DType, x.Shape)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		xs, ds, dx := x.Data.([]T), dy.Data.([]T), out.Data.([]T)
		inSize, outSize := ir.Size(sp), ir.Size(g.out)
		_, f32 := any(xs).([]float32)
		parallelFor(n*ch, inSize+outSize*ir.Size(g.kernel), func(lo, hi int) {
			var pick maxPick[T]
			for pl := lo; pl < hi; pl++ {
				xp, dp, gp := xs[pl*inSize:][:inSize], ds[pl*outSize:][:outSize], dx[pl*inSize:][:inSize]
				switch {
				case !t.is2x2():
					pick.plane(t, xp, dp, gp, pos)
				case f32 && pos:
					maxGrad2x2PlanePos(t, any(xp).([]float32), any(dp).([]float32), any(gp).([]float32))
				case f32:
					maxGrad2x2PlaneF32(t, any(xp).([]float32), any(dp).([]float32), any(gp).([]float32))
				default:
					maxGrad2x2Plane(t, xp, dp, gp, pos)
				}
			}
		})
		return one(out)
	}
}

// maxPick holds one worker's scratch for plane: the pooled values and
// the in-plane positions of the maxima, from convMaxPlane itself.
type maxPick[T float32 | float64] struct {
	y  []T
	ip []int64
}

// plane adds each output's gradient dp[o] into gp at the position of its
// window's maximum (convMaxPlane's choice: the first greatest, row-major).
// With pos, windows whose maximum is not positive pass nothing. gp must be
// zero.
func (m *maxPick[T]) plane(t *convG3, x, dp, gp []T, pos bool) {
	if len(m.ip) < len(dp) {
		m.y, m.ip = make([]T, len(dp)), make([]int64, len(dp))
	}
	y, ip := m.y[:len(dp)], m.ip[:len(dp)]
	convMaxPlane(t, x, y, ip, 0, false)
	for o, i := range ip {
		if i >= 0 && (!pos || y[o] > 0) {
			gp[i] += dp[o]
		}
	}
}

// maxGrad2x2Plane is maxPick.plane for is2x2 geometries: the windows do not
// overlap, so each gradient is stored, not added.
func maxGrad2x2Plane[T float32 | float64](t *convG3, x, dp, gp []T, pos bool) {
	w, ow := t.in[2], t.out[2]
	for d := 0; d < t.out[0]; d++ {
		xd, gd := x[d*t.in[1]*w:], gp[d*t.in[1]*w:]
		for oh := 0; oh < t.out[1]; oh++ {
			i0 := 2 * oh * w
			r0, r1 := xd[i0:i0+2*ow], xd[i0+w:i0+w+2*ow]
			g0, g1 := gd[i0:i0+2*ow], gd[i0+w:i0+w+2*ow]
			dr := dp[(d*t.out[1]+oh)*ow:][:ow]
			for o, v := range dr {
				best, k := r0[2*o], 0
				if b := r0[2*o+1]; b > best {
					best, k = b, 1
				}
				if c := r1[2*o]; c > best {
					best, k = c, 2
				}
				if e := r1[2*o+1]; e > best {
					best, k = e, 3
				}
				if pos && !(best > 0) {
					continue
				}
				switch k {
				case 0:
					g0[2*o] = v
				case 1:
					g0[2*o+1] = v
				case 2:
					g1[2*o] = v
				default:
					g1[2*o+1] = v
				}
			}
		}
	}
}

// maxGrad2x2PlaneF32 is maxGrad2x2Plane without branches on the data
// (random comparisons mispredict about every other window): the winner is
// tracked as a bit mask, and all four gradients of a window are written.
// (With positive_only, float32 takes maxGrad2x2PlanePos.)
func maxGrad2x2PlaneF32(t *convG3, x, dp, gp []float32) {
	w, ow := t.in[2], t.out[2]
	for d := 0; d < t.out[0]; d++ {
		xd, gd := x[d*t.in[1]*w:], gp[d*t.in[1]*w:]
		for oh := 0; oh < t.out[1]; oh++ {
			i0 := 2 * oh * w
			r0, r1 := xd[i0:i0+2*ow], xd[i0+w:i0+w+2*ow]
			g0, g1 := gd[i0:i0+2*ow], gd[i0+w:i0+w+2*ow]
			dr := dp[(d*t.out[1]+oh)*ow:][:ow]
			for o, v := range dr {
				a, b, c, e := r0[2*o], r0[2*o+1], r1[2*o], r1[2*o+1]
				ab := fmask(b > a)
				best := fsel(ab, b, a)
				k := ab & 1
				ac := fmask(c > best)
				best = fsel(ac, c, best)
				k = ac&2 | ^ac&k
				ae := fmask(e > best)
				k = ae&3 | ^ae&k
				vb := math.Float32bits(v)
				g0[2*o] = math.Float32frombits(vb & fmask(k == 0))
				g0[2*o+1] = math.Float32frombits(vb & fmask(k == 1))
				g1[2*o] = math.Float32frombits(vb & fmask(k == 2))
				g1[2*o+1] = math.Float32frombits(vb & fmask(k == 3))
			}
		}
	}
}

// fmask is all ones when c holds, else zero.
func fmask(c bool) uint32 {
	var u uint32
	if c {
		u = 1
	}
	return -u
}

// fsel is x where mask m is all ones, y where it is zero.
func fsel(m uint32, x, y float32) float32 {
	return math.Float32frombits(math.Float32bits(x)&m | math.Float32bits(y)&^m)
}

// maxGrad2x2PlanePos is maxGrad2x2PlaneF32 with positive_only: the bit
// patterns of positive floats order as integers as the values do, and
// every other value's is below them (negative as an int32, or +0), so the
// winner of a window with a positive maximum is found with integer
// compares (pgrad.Max2x2Pos: AVX-512 compares into masks, or conditional
// moves in its Go twin). Windows with a NaN (whose MaxPool output
// is NaN) pass nothing.
func maxGrad2x2PlanePos(t *convG3, x, dp, gp []float32) {
	w, ow := t.in[2], t.out[2]
	for d := 0; d < t.out[0]; d++ {
		xd, gd := x[d*t.in[1]*w:], gp[d*t.in[1]*w:]
		for oh := 0; oh < t.out[1]; oh++ {
			i0 := 2 * oh * w
			pgrad.Max2x2Pos(gd[i0:i0+2*ow], gd[i0+w:i0+w+2*ow], xd[i0:i0+2*ow], xd[i0+w:i0+w+2*ow],
				dp[(d*t.out[1]+oh)*ow:][:ow])
		}
	}
}
