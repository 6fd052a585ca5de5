package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Resize and Upsample. Every resized axis is resampled on its own (the
// filters are separable): nearest becomes an index table per axis and runs
// as a pure copy on any dtype; linear and cubic become, per output index, a
// short list of (input index, weight) pairs applied axis by axis in float64.

func init() {
	reg("Upsample", 7, prepUpsample)
	reg("Upsample", 9, prepUpsample)
	reg("Resize", 10, prepResize)
	reg("Resize", 11, prepResize)
}

// movResize holds the attributes of one Resize/Upsample node.
type movResize struct {
	op                   string
	mode, coord, nearest string
	policy               string
	cubicA, extrap       float64
	exclude, antialias   bool
	axes                 []int64
	legacy               bool      // inputs (X, scales) of Upsample-9 and Resize-10
	attrScales           []float32 // Upsample-7
	hasAttrScales        bool
}

func prepUpsample(s *backends.OpSpec) (kernelFunc, error) {
	r := &movResize{op: "Upsample", mode: s.Attrs.Str("mode", "nearest"), coord: "asymmetric",
		nearest: "floor", policy: "stretch", cubicA: -0.75, legacy: true}
	if movVer(s) < 9 {
		r.attrScales, r.hasAttrScales = s.Attrs.Floats("scales", nil), true
		if r.attrScales == nil {
			return nil, fmt.Errorf("%w: Upsample-7 needs the scales attribute", errAttr)
		}
	}
	if r.mode == "bilinear" {
		r.mode = "linear"
	}
	if r.mode != "nearest" && r.mode != "linear" {
		return nil, fmt.Errorf("%w: Upsample: mode %q", errAttr, r.mode)
	}
	return r.run, nil
}

func prepResize(s *backends.OpSpec) (kernelFunc, error) {
	r := &movResize{op: "Resize", mode: s.Attrs.Str("mode", "nearest"), coord: "asymmetric", nearest: "floor",
		policy: "stretch", cubicA: -0.75}
	if movVer(s) < 11 {
		r.legacy = true
		if r.mode != "nearest" && r.mode != "linear" {
			return nil, fmt.Errorf("%w: Resize-10: mode %q", errAttr, r.mode)
		}
		return r.run, nil
	}
	r.coord = s.Attrs.Str("coordinate_transformation_mode", "half_pixel")
	r.nearest = s.Attrs.Str("nearest_mode", "round_prefer_floor")
	r.cubicA = float64(s.Attrs.Float("cubic_coeff_a", -0.75))
	r.exclude = s.Attrs.Int("exclude_outside", 0) != 0
	r.extrap = float64(s.Attrs.Float("extrapolation_value", 0))
	if movVer(s) >= 18 {
		r.antialias = s.Attrs.Int("antialias", 0) != 0
		r.axes = s.Attrs.Ints("axes", nil)
		r.policy = s.Attrs.Str("keep_aspect_ratio_policy", "stretch")
	}
	if err := r.check(movVer(s)); err != nil {
		return nil, fmt.Errorf("Resize: %w", err)
	}
	return r.run, nil
}

// check validates the string attributes against the opset.
func (r *movResize) check(version int) error {
	switch r.mode {
	case "nearest", "linear", "cubic":
	default:
		return fmt.Errorf("%w: mode %q", errAttr, r.mode)
	}
	switch r.coord {
	case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize":
	case "tf_half_pixel_for_nn":
		if version >= 18 {
			return fmt.Errorf("%w: coordinate_transformation_mode %q was removed in opset 18", errAttr, r.coord)
		}
	case "half_pixel_symmetric":
		if version < 19 {
			return fmt.Errorf("%w: coordinate_transformation_mode %q needs opset 19", errAttr, r.coord)
		}
	default:
		return fmt.Errorf("%w: coordinate_transformation_mode %q", errAttr, r.coord)
	}
	switch r.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return fmt.Errorf("%w: nearest_mode %q", errAttr, r.nearest)
	}
	switch r.policy {
	case "stretch", "not_larger", "not_smaller":
	default:
		return fmt.Errorf("%w: keep_aspect_ratio_policy %q", errAttr, r.policy)
	}
	return nil
}

// movResizeGeom is the per-axis geometry of one Resize call.
type movResizeGeom struct {
	scale      []float64
	out        []int
	roi0, roi1 []float64
}

func (r *movResize) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	g, err := r.geometry(x, in)
	if err != nil {
		return nil, fmt.Errorf("%s: input 0 shape %v: %w", r.op, x.Shape, err)
	}
	if _, err := ir.NumElements(g.out); err != nil {
		return nil, fmt.Errorf("%s: output shape %v: %w", r.op, g.out, err)
	}
	var out *ir.Tensor
	if r.mode == "nearest" {
		out, err = r.nearestCopy(x, g)
	} else {
		out, err = r.interpolate(x, g)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.op, err)
	}
	return one(out)
}

// geometry resolves scales, output sizes and roi for every axis.
func (r *movResize) geometry(x *ir.Tensor, in []*ir.Tensor) (*movResizeGeom, error) {
	rank := x.Rank()
	g := &movResizeGeom{scale: make([]float64, rank), out: append([]int{}, x.Shape...),
		roi0: make([]float64, rank), roi1: make([]float64, rank)}
	for i := range g.scale {
		g.scale[i], g.roi1[i] = 1, 1
	}
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	if r.axes != nil {
		var err error
		if axes, err = normAxes(r.axes, rank); err != nil {
			return nil, err
		}
	}
	var roi, scales, sizes *ir.Tensor
	switch {
	case r.hasAttrScales:
		scales = ir.FromSlice(r.attrScales, len(r.attrScales))
	case r.legacy:
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		scales = in[1]
	default:
		for i, p := range []**ir.Tensor{&roi, &scales, &sizes} {
			if i+1 < len(in) && in[i+1] != nil && in[i+1].Len() > 0 {
				*p = in[i+1]
			}
		}
	}
	if roi != nil && r.coord == "tf_crop_and_resize" {
		v, err := movFloats(roi)
		if err != nil || len(v) != 2*len(axes) {
			return nil, fmt.Errorf("%w: roi shape %v for %d axes", errInput, roi.Shape, len(axes))
		}
		for i, a := range axes {
			g.roi0[a], g.roi1[a] = v[i], v[len(axes)+i]
		}
	}
	switch {
	case scales != nil:
		return g, r.fromScales(g, x.Shape, axes, scales)
	case sizes != nil:
		return g, r.fromSizes(g, x.Shape, axes, sizes)
	}
	return nil, fmt.Errorf("%w: neither scales nor sizes given", errInput)
}

func (r *movResize) fromScales(g *movResizeGeom, shape, axes []int, scales *ir.Tensor) error {
	v, err := movFloats(scales)
	if err != nil || len(v) != len(axes) {
		return fmt.Errorf("%w: scales shape %v for %d axes", errInput, scales.Shape, len(axes))
	}
	for i, a := range axes {
		if !(v[i] > 0) || math.IsInf(v[i], 0) {
			return fmt.Errorf("%w: scale %v on axis %d", errInput, v[i], a)
		}
		o := math.Floor(float64(shape[a]) * v[i])
		if o > float64(ir.MaxElements) {
			return fmt.Errorf("%w: scale %v on axis %d", ir.ErrTooLarge, v[i], a)
		}
		g.scale[a], g.out[a] = v[i], int(o)
	}
	return nil
}

func (r *movResize) fromSizes(g *movResizeGeom, shape, axes []int, sizes *ir.Tensor) error {
	v, err := intsOf(sizes)
	if err != nil || len(v) != len(axes) {
		return fmt.Errorf("%w: sizes shape %v for %d axes", errInput, sizes.Shape, len(axes))
	}
	for i, a := range axes {
		if v[i] < 0 || v[i] > ir.MaxElements || (shape[a] == 0 && v[i] != 0) {
			return fmt.Errorf("%w: size %d on axis %d of size %d", errInput, v[i], a, shape[a])
		}
		g.out[a] = int(v[i])
		if shape[a] > 0 {
			g.scale[a] = float64(v[i]) / float64(shape[a])
		}
	}
	if r.policy == "stretch" || len(axes) == 0 {
		return nil
	}
	s := g.scale[axes[0]]
	for _, a := range axes[1:] {
		if r.policy == "not_larger" {
			s = min(s, g.scale[a])
		} else {
			s = max(s, g.scale[a])
		}
	}
	for _, a := range axes {
		g.scale[a] = s
		g.out[a] = int(s*float64(shape[a]) + 0.5)
	}
	return nil
}

// resized reports whether axis a changes at all.
func (r *movResize) resized(g *movResizeGeom, shape []int, a int) bool {
	return g.out[a] != shape[a] || g.scale[a] != 1 || r.coord == "tf_crop_and_resize"
}

// origin maps output coordinate xr of axis a to an input coordinate, and
// reports whether it falls outside the roi (tf_crop_and_resize only).
func (r *movResize) origin(g *movResizeGeom, shape []int, a, xr int) (float64, bool) {
	x, scale := float64(xr), g.scale[a]
	in := float64(shape[a])
	outW := scale * in
	switch r.coord {
	case "align_corners":
		if outW == 1 {
			return 0, false
		}
		return x * (in - 1) / (outW - 1), false
	case "asymmetric":
		return x / scale, false
	case "tf_crop_and_resize":
		var xo float64
		if outW == 1 {
			xo = (g.roi1[a] - g.roi0[a]) * (in - 1) / 2
		} else {
			xo = x * (g.roi1[a] - g.roi0[a]) * (in - 1) / (outW - 1)
		}
		xo += g.roi0[a] * (in - 1)
		return xo, xo < 0 || xo > in-1
	case "pytorch_half_pixel":
		if g.out[a] <= 1 {
			return 0, false
		}
	case "half_pixel_symmetric":
		adj := float64(g.out[a]) / outW
		return in/2*(1-adj) + (x+0.5)/scale - 0.5, false
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / scale, false
	}
	return (x+0.5)/scale - 0.5, false
}

// nearestIndex picks the input index for coordinate xo (edge-clamped).
func (r *movResize) nearestIndex(xo float64, n int) int {
	left := math.Ceil(xo) - 1 // the neighbor pair is (left, left+1), ratio in (0, 1]
	ratio := xo - left
	pick := left + 1
	if ratio != 1 {
		switch r.nearest {
		case "round_prefer_floor":
			if ratio <= 0.5 {
				pick = left
			}
		case "round_prefer_ceil":
			if ratio < 0.5 {
				pick = left
			}
		case "floor":
			pick = left
		}
	}
	return int(min(max(pick, 0), float64(n-1)))
}

// nearestCopy runs nearest-neighbor resizing as a copy through index tables.
func (r *movResize) nearestCopy(x *ir.Tensor, g *movResizeGeom) (*ir.Tensor, error) {
	st := stridesOf(x.Shape)
	axes := movIdentityAxes(x.Shape)
	extrap := false
	for a, n := range x.Shape {
		if !r.resized(g, x.Shape, a) {
			continue
		}
		tab := make([]int, g.out[a])
		for i := range tab {
			xo, outside := r.origin(g, x.Shape, a, i)
			if outside || n == 0 {
				tab[i], extrap = -1, true
				continue
			}
			tab[i] = r.nearestIndex(xo, n) * st[a]
		}
		axes[a] = movTable(tab)
	}
	var fill *ir.Tensor
	if extrap && x.DType != ir.String {
		var err error
		if fill, err = movScalarOf(x.DType, r.extrap); err != nil {
			return nil, err
		}
	}
	return movMap(x, x.DType, g.out, axes, fill)
}
