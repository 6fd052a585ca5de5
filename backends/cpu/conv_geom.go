package cpu

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/ir"
)

// convWin holds the raw window attributes shared by Conv, ConvTranspose and
// the pooling ops, read once at prepare time; the spatial rank is known only
// when the input arrives, so resolve turns them into a convGeom per call.
type convWin struct {
	op        string
	autoPad   string
	kernel    []int64 // nil: taken from the weights
	strides   []int64
	dilations []int64
	pads      []int64
	ceil      bool
}

// convGeom is a resolved window over the spatial dimensions.
type convGeom struct {
	in, kernel, strides, dilations, padBegin, padEnd, out []int
}

func convReadWin(op string, a ir.Attrs) (convWin, error) {
	w := convWin{
		op:        op,
		autoPad:   a.Str("auto_pad", "NOTSET"),
		kernel:    a.Ints("kernel_shape", nil),
		strides:   a.Ints("strides", nil),
		dilations: a.Ints("dilations", nil),
		pads:      a.Ints("pads", nil),
		ceil:      a.Int("ceil_mode", 0) != 0,
	}
	switch w.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	case "":
		w.autoPad = "NOTSET"
	default:
		return w, fmt.Errorf("%w: %s: auto_pad %q", errAttr, op, w.autoPad)
	}
	return w, nil
}

// convAttrInts expands an optional per-axis attribute to r ints (default
// def), checking its length and that values are at least lo.
func convAttrInts(op, name string, v []int64, r, def, lo int) ([]int, error) {
	out := make([]int, r)
	if v == nil {
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	if len(v) != r {
		return nil, fmt.Errorf("%w: %s: %s %v has %d values, want %d", errAttr, op, name, v, len(v), r)
	}
	for i, x := range v {
		if x < int64(lo) || x > 1<<30 {
			return nil, fmt.Errorf("%w: %s: %s %v: value %d out of range", errAttr, op, name, v, x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// resolve computes the geometry for spatial input dims in. The kernel comes
// from the weights' spatial dims wk when the attribute is absent (pooling
// passes wk == nil: kernel_shape is then required). SAME auto_pad gives
// ceil(in/stride) outputs; ceil_mode rounds the explicit-pads output up but
// drops a last window that would start in the right padding.
func (w convWin) resolve(in, wk []int) (*convGeom, error) {
	r := len(in)
	g := &convGeom{in: in}
	var err error
	if g.kernel, err = w.kernelOf(r, wk); err != nil {
		return nil, err
	}
	if g.strides, err = convAttrInts(w.op, "strides", w.strides, r, 1, 1); err != nil {
		return nil, err
	}
	if g.dilations, err = convAttrInts(w.op, "dilations", w.dilations, r, 1, 1); err != nil {
		return nil, err
	}
	g.padBegin, g.padEnd, g.out = make([]int, r), make([]int, r), make([]int, r)
	if w.autoPad == "NOTSET" && w.pads != nil {
		p, err := convAttrInts(w.op, "pads", w.pads, 2*r, 0, 0)
		if err != nil {
			return nil, err
		}
		copy(g.padBegin, p[:r])
		copy(g.padEnd, p[r:])
	}
	for i := 0; i < r; i++ {
		dk := (g.kernel[i]-1)*g.dilations[i] + 1
		s := g.strides[i]
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = (in[i] + s - 1) / s
			total := max(0, (g.out[i]-1)*s+dk-in[i])
			g.padBegin[i] = total / 2
			if w.autoPad == "SAME_LOWER" {
				g.padBegin[i] = total - total/2
			}
			g.padEnd[i] = total - g.padBegin[i]
			continue
		}
		span := in[i] + g.padBegin[i] + g.padEnd[i] - dk
		if span < 0 {
			return nil, fmt.Errorf("%w: %s: window %d (dilated) is larger than padded input %d on spatial axis %d",
				errShape, w.op, dk, in[i]+g.padBegin[i]+g.padEnd[i], i)
		}
		g.out[i] = span/s + 1
		if w.ceil && span%s != 0 {
			g.out[i]++
			// The last window must start inside the input or the left padding.
			if (g.out[i]-1)*s >= in[i]+g.padBegin[i] {
				g.out[i]--
			}
		}
	}
	return g, nil
}

// kernelOf is the kernel_shape attribute, checked against the weights'
// spatial dims wk when both exist, or wk alone (nil wk: the attribute is
// required).
func (w convWin) kernelOf(r int, wk []int) ([]int, error) {
	if w.kernel == nil && wk != nil {
		for _, k := range wk {
			if k < 1 {
				return nil, fmt.Errorf("%w: %s: weight spatial shape %v has an empty dimension", errShape, w.op, wk)
			}
		}
		return wk, nil
	}
	if w.kernel == nil {
		return nil, fmt.Errorf("%w: %s: kernel_shape is required", errAttr, w.op)
	}
	k, err := convAttrInts(w.op, "kernel_shape", w.kernel, r, 1, 1)
	if err != nil {
		return nil, err
	}
	if wk != nil && !slices.Equal(k, wk) {
		return nil, fmt.Errorf("%w: %s: kernel_shape %v differs from weight shape %v", errAttr, w.op, w.kernel, wk)
	}
	return k, nil
}

// convSplitNC checks that x has rank >= 3 and returns N, C and the spatial dims.
func convSplitNC(op string, idx int, shape []int) (n, c int, spatial []int, err error) {
	if len(shape) < 3 {
		return 0, 0, nil, fmt.Errorf("%w: %s: input %d must be (N, C, D1, ...), got shape %v", errShape, op, idx, shape)
	}
	return shape[0], shape[1], shape[2:], nil
}

// convValidRange returns the sub-range [lo,hi) of output positions o in
// [a,b) whose input coordinate o*s+off lies in [0,n).
func convValidRange(off, s, n, a, b int) (lo, hi int) {
	lo = a
	if off < 0 {
		lo = min(max(a, (-off+s-1)/s), max(a, b)) // never past b: all padding is an empty range at b
	}
	hi = 0
	if n-off > 0 {
		hi = (n - off + s - 1) / s
	}
	hi = min(hi, b)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}
