package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradResize(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	s, i := ir.StringAttr, ir.IntAttr
	ctm := func(v string) ir.Attr { return s("coordinate_transformation_mode", v) }
	linear, cubic, nearest := s("mode", "linear"), s("mode", "cubic"), s("mode", "nearest")
	roi := ir.FromSlice([]float64{0, 0, 0.2, 0.1, 1, 1, 0.9, 1.3}, 8)
	resize := func(name string, v int, attrs ir.Attrs, in ...*ir.Tensor) gradCase {
		return gradCase{name: name, op: "Resize", version: v, attrs: attrs, in: in, diff: []int{0}}
	}
	x := any(1, 2, 3, 4)
	cases := []gradCase{
		resize("nearest up half_pixel", 19, ir.Attrs{nearest}, x, nil, f32s(1, 1, 2, 1.5)),
		resize("nearest down asymmetric floor", 19, ir.Attrs{nearest, ctm("asymmetric"), s("nearest_mode", "floor")}, x, nil, nil, i64(1, 2, 2, 3)),
		resize("nearest ceil align_corners", 13, ir.Attrs{nearest, ctm("align_corners"), s("nearest_mode", "ceil")}, x, nil, nil, i64(1, 2, 5, 3)),
		resize("nearest prefer_ceil tf_half_pixel_for_nn", 13, ir.Attrs{nearest, ctm("tf_half_pixel_for_nn"), s("nearest_mode", "round_prefer_ceil")}, x, nil, f32s(1, 1, 1.7, 0.6)),
		resize("nearest tf_crop_and_resize extrapolation", 19, ir.Attrs{nearest, ctm("tf_crop_and_resize"), ir.FloatAttr("extrapolation_value", 10)}, x, roi, nil, i64(1, 2, 4, 4)),
		resize("nearest axes", 18, ir.Attrs{nearest, ir.IntsAttr("axes", 3, 2)}, x, nil, f32s(0.7, 2)),
		resize("nearest not_smaller", 18, ir.Attrs{nearest, s("keep_aspect_ratio_policy", "not_smaller"), ir.IntsAttr("axes", 2, 3)}, x, nil, nil, i64(5, 5)),
		resize("linear up half_pixel", 19, ir.Attrs{linear}, x, nil, f32s(1, 1, 2, 1.5)),
		resize("linear down align_corners", 19, ir.Attrs{linear, ctm("align_corners")}, x, nil, f32s(1, 1, 0.7, 0.5)),
		resize("linear pytorch_half_pixel to 1", 19, ir.Attrs{linear, ctm("pytorch_half_pixel")}, x, nil, nil, i64(1, 2, 1, 6)),
		resize("linear asymmetric", 13, ir.Attrs{linear, ctm("asymmetric")}, x, nil, f32s(1, 1, 1.5, 1.25)),
		resize("linear half_pixel_symmetric", 19, ir.Attrs{linear, ctm("half_pixel_symmetric")}, x, nil, f32s(1, 1, 2.5, 0.6)),
		resize("linear tf_crop_and_resize extrapolation", 19, ir.Attrs{linear, ctm("tf_crop_and_resize"), ir.FloatAttr("extrapolation_value", 10)}, x, roi, nil, i64(1, 2, 4, 4)),
		resize("linear tf_crop_and_resize float32 roi axes", 18, ir.Attrs{linear, ctm("tf_crop_and_resize"), ir.IntsAttr("axes", 3, 2)}, x, f32s(-0.1, 0.2, 0.8, 1.2), f32s(1.5, 1.5)),
		resize("cubic up", 19, ir.Attrs{cubic}, x, nil, f32s(1, 1, 2, 1.5)),
		resize("cubic down exclude_outside a=-0.5", 19, ir.Attrs{cubic, i("exclude_outside", 1), ir.FloatAttr("cubic_coeff_a", -0.5)}, any(1, 1, 5, 6), nil, f32s(1, 1, 0.8, 0.6)),
		resize("cubic antialias down", 18, ir.Attrs{cubic, i("antialias", 1)}, any(1, 1, 6, 5), nil, f32s(1, 1, 0.5, 0.6)),
		resize("linear antialias down sizes", 18, ir.Attrs{linear, i("antialias", 1)}, any(1, 1, 6, 5), nil, nil, i64(1, 1, 3, 2)),
		resize("linear not_larger axes", 18, ir.Attrs{linear, s("keep_aspect_ratio_policy", "not_larger"), ir.IntsAttr("axes", 2, 3)}, x, nil, nil, i64(7, 9)),
		resize("linear not_smaller all axes", 18, ir.Attrs{linear, s("keep_aspect_ratio_policy", "not_smaller")}, any(3, 4), nil, nil, i64(5, 3)),
		resize("cubic not_larger roi", 18, ir.Attrs{cubic, ctm("tf_crop_and_resize"), s("keep_aspect_ratio_policy", "not_larger"), ir.IntsAttr("axes", 1, 0)}, any(3, 4), f32s(0.1, 0, 0.9, 1), nil, i64(6, 5)),
		resize("linear rank 1", 19, ir.Attrs{linear}, any(5), nil, f32s(1.6)),
		resize("linear middle axis", 19, ir.Attrs{linear}, any(2, 3, 2), nil, f32s(1, 2, 1)),
		resize("Resize-11 linear sizes, empty roi and scales", 11, ir.Attrs{linear}, x, f32s(), f32s(), i64(1, 2, 5, 3)),
		resize("Resize-11 nearest", 11, ir.Attrs{nearest}, x, f32s(), f32s(1, 1, 2, 0.5)),
		resize("Resize-10 linear", 10, ir.Attrs{linear}, x, f32s(1, 1, 2, 1.5)),
		resize("Resize-10 nearest", 10, ir.Attrs{nearest}, x, f32s(1, 1, 0.5, 2)),
		{name: "Upsample-9 linear", op: "Upsample", version: 9, attrs: ir.Attrs{linear}, in: []*ir.Tensor{x, f32s(1, 1, 2, 1.5)}, diff: []int{0}},
		{name: "Upsample-9 nearest", op: "Upsample", version: 9, in: []*ir.Tensor{x, f32s(1, 2, 2, 1)}, diff: []int{0}},
		{name: "Upsample-7 bilinear", op: "Upsample", version: 7, attrs: ir.Attrs{s("mode", "bilinear"), ir.FloatsAttr("scales", 1, 1, 2, 1.5)}, in: []*ir.Tensor{x}, diff: []int{0}},
		{name: "Upsample-7 nearest", op: "Upsample", version: 7, attrs: ir.Attrs{ir.FloatsAttr("scales", 1, 1, 3, 2)}, in: []*ir.Tensor{x}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradGridSample(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	var cases []gradCase
	add := func(name string, v int, attrs ir.Attrs, x, grid *ir.Tensor) {
		cases = append(cases, gradCase{name: name, op: "GridSample", version: v, attrs: attrs, in: []*ir.Tensor{x, grid}, diff: []int{0, 1}})
	}
	for _, mode := range []string{"bilinear", "nearest", "bicubic"} {
		for _, pad := range []string{"zeros", "border", "reflection"} {
			for _, align := range []int64{0, 1} {
				attrs := ir.Attrs{ir.StringAttr("mode", mode), ir.StringAttr("padding_mode", pad), ir.IntAttr("align_corners", align)}
				name := mode + " " + pad + map[int64]string{0: "", 1: " align_corners"}[align]
				add(name, 16, attrs, randT(r, -1, 1, 1, 2, 3, 4), randT(r, -1.6, 1.6, 1, 2, 3, 2))
			}
		}
	}
	add("linear 3-D", 20, ir.Attrs{ir.StringAttr("mode", "linear")}, randT(r, -1, 1, 2, 1, 2, 3, 3), randT(r, -1.2, 1.2, 2, 2, 1, 2, 3))
	add("cubic 3-D border", 20, ir.Attrs{ir.StringAttr("mode", "cubic"), ir.StringAttr("padding_mode", "border")}, randT(r, -1, 1, 1, 1, 3, 2, 3), randT(r, -1.2, 1.2, 1, 2, 1, 1, 3))
	add("nearest 3-D reflection", 20, ir.Attrs{ir.StringAttr("mode", "nearest"), ir.StringAttr("padding_mode", "reflection")}, randT(r, -1, 1, 1, 2, 2, 2, 3), randT(r, -1.5, 1.5, 1, 3, 1, 1, 3))
	add("linear 1-D reflection align_corners", 20, ir.Attrs{ir.StringAttr("padding_mode", "reflection"), ir.IntAttr("align_corners", 1)}, randT(r, -1, 1, 2, 2, 4), randT(r, -3, 3, 2, 5, 1))
	add("linear 2-D batch 2", 20, nil, randT(r, -1, 1, 2, 1, 3, 3), randT(r, -1, 1, 2, 2, 2, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradGridSampleNearestGrid(t *testing.T) {
	// Nearest taps do not move with the grid: its gradient is exactly zero.
	x := eager.New([]float64{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	grid := eager.New([]float64{-0.3, 0.2, 0.7, -0.9}, 1, 1, 2, 2)
	tape := eager.NewTape()
	y := eager.Op("GridSample", ir.Attrs{ir.StringAttr("mode", "nearest")}, 1, x, grid)[0]
	g := tape.Gradient(eager.Sum(y), x, grid)
	if got := g[1].Floats64(); len(got) != 4 || got[0] != 0 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Errorf("d/d grid = %v, want zeros", got)
	}
	if got := g[0].Floats64(); len(got) != 6 {
		t.Errorf("d/d x = %v", got)
	}
}

func TestGradAffineGridCol2Im(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	cases := []gradCase{
		{name: "AffineGrid 2-D", op: "AffineGrid", in: []*ir.Tensor{any(2, 2, 3), i64(2, 3, 4, 5)}, diff: []int{0}},
		{name: "AffineGrid 2-D align_corners", op: "AffineGrid", attrs: ir.Attrs{ir.IntAttr("align_corners", 1)}, in: []*ir.Tensor{any(1, 2, 3), i64(1, 1, 3, 2)}, diff: []int{0}},
		{name: "AffineGrid 3-D", op: "AffineGrid", in: []*ir.Tensor{any(2, 3, 4), i64(2, 1, 2, 3, 2)}, diff: []int{0}},
		{name: "AffineGrid 3-D align_corners", op: "AffineGrid", attrs: ir.Attrs{ir.IntAttr("align_corners", 1)}, in: []*ir.Tensor{any(1, 3, 4), i64(1, 2, 3, 1, 2)}, diff: []int{0}},
		{name: "Col2Im 2-D", op: "Col2Im", in: []*ir.Tensor{any(1, 8, 4), i64(3, 3), i64(2, 2)}, diff: []int{0}},
		{name: "Col2Im pads strides dilations", op: "Col2Im", attrs: ir.Attrs{ints("pads", 1, 0, 1, 1), ints("strides", 2, 1), ints("dilations", 1, 2)},
			in: []*ir.Tensor{any(2, 4, 6), i64(4, 3), i64(2, 2)}, diff: []int{0}},
		{name: "Col2Im 1-D", op: "Col2Im", attrs: ir.Attrs{ints("strides", 2), ints("pads", 1, 2)}, in: []*ir.Tensor{any(1, 6, 3), i64(5), i64(3)}, diff: []int{0}},
		{name: "Col2Im 3-D", op: "Col2Im", in: []*ir.Tensor{any(1, 16, 2), i64(2, 3, 2), i64(2, 2, 2)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradIndexMapOps(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	s := ir.StringAttr
	bools := func(v ...bool) *ir.Tensor { return ir.FromSlice(v, len(v)) }
	cases := []gradCase{
		{name: "DepthToSpace DCR", op: "DepthToSpace", attrs: ir.Attrs{ir.IntAttr("blocksize", 2)}, in: []*ir.Tensor{any(1, 8, 2, 3)}, diff: []int{0}},
		{name: "DepthToSpace CRD", op: "DepthToSpace", attrs: ir.Attrs{ir.IntAttr("blocksize", 2), s("mode", "CRD")}, in: []*ir.Tensor{any(2, 4, 2, 2)}, diff: []int{0}},
		{name: "SpaceToDepth", op: "SpaceToDepth", attrs: ir.Attrs{ir.IntAttr("blocksize", 2)}, in: []*ir.Tensor{any(1, 2, 4, 6)}, diff: []int{0}},
		{name: "ReverseSequence time-major", op: "ReverseSequence", attrs: ir.Attrs{ir.IntAttr("batch_axis", 1), ir.IntAttr("time_axis", 0)},
			in: []*ir.Tensor{any(4, 3, 2), i64(4, 1, 2)}, diff: []int{0}},
		{name: "ReverseSequence batch-major", op: "ReverseSequence", attrs: ir.Attrs{ir.IntAttr("batch_axis", 0), ir.IntAttr("time_axis", 1)},
			in: []*ir.Tensor{any(2, 3, 2), i64(3, 2)}, diff: []int{0}},
		{name: "Trilu upper", op: "Trilu", in: []*ir.Tensor{any(2, 3, 4)}, diff: []int{0}},
		{name: "Trilu lower k=-1", op: "Trilu", attrs: ir.Attrs{ir.IntAttr("upper", 0)}, in: []*ir.Tensor{any(4, 3), ir.Scalar(int64(-1))}, diff: []int{0}},
		{name: "Trilu upper k=2", op: "Trilu", in: []*ir.Tensor{any(3, 5), ir.Scalar(int64(2))}, diff: []int{0}},
		{name: "Compress axis", op: "Compress", attrs: ir.Attrs{ir.IntAttr("axis", 1)}, in: []*ir.Tensor{any(2, 4), bools(true, false, true)}, diff: []int{0}},
		{name: "Compress flat", op: "Compress", in: []*ir.Tensor{any(2, 3), bools(false, true, true, false, true)}, diff: []int{0}},
		{name: "CenterCropPad crop and pad", op: "CenterCropPad", in: []*ir.Tensor{any(3, 4, 2), i64(2, 7, 2)}, diff: []int{0}},
		{name: "CenterCropPad axes", op: "CenterCropPad", attrs: ir.Attrs{ir.IntsAttr("axes", -1, 0)}, in: []*ir.Tensor{any(5, 2, 3), i64(1, 4)}, diff: []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

func TestGradResampleSecondOrder(t *testing.T) {
	// The rules are eager ops, so their gradients can be differentiated again:
	// f(x, grid) = ∂/∂(x, grid) Σ op(x, grid)² · w is itself checked.
	r := rand.New(rand.NewSource(9))
	sq := func(op string, attrs ir.Attrs) func([]*eager.Tensor) *eager.Tensor {
		return func(xs []*eager.Tensor) *eager.Tensor {
			y := eager.Op(op, attrs, 1, xs...)[0]
			w := eager.New(randT(rand.New(rand.NewSource(1)), -1, 1, y.Shape()...).Data.([]float64), y.Shape()...)
			return eager.Sum(eager.Mul(eager.Mul(y, y), w))
		}
	}
	x, grid := randT(r, -1, 1, 1, 2, 3, 3), randT(r, -1.2, 1.2, 1, 2, 2, 2)
	checkSecondOrder(t, "GridSample d/dgrid", []*ir.Tensor{x, grid}, []int{0, 1}, 1, sq("GridSample", nil))
	checkSecondOrder(t, "GridSample bicubic d/dx", []*ir.Tensor{x, grid}, []int{0, 1}, 0, sq("GridSample", ir.Attrs{ir.StringAttr("mode", "bicubic")}))
	checkSecondOrder(t, "Resize cubic d/dx", []*ir.Tensor{x, nil, f32s(1, 1, 1.5, 0.7)}, []int{0}, 0, sq("Resize", ir.Attrs{ir.StringAttr("mode", "cubic")}))
	checkSecondOrder(t, "AffineGrid d/dtheta", []*ir.Tensor{randT(r, -1, 1, 1, 2, 3), i64(1, 1, 3, 2)}, []int{0}, 0, sq("AffineGrid", nil))
}

func TestGradResampleFloat32(t *testing.T) {
	// The rules build their helper tensors in the input's dtype: float32
	// gradients match the float64 ones to float32 precision.
	r := rand.New(rand.NewSource(10))
	cases := []gradCase{
		{name: "Resize", op: "Resize", attrs: ir.Attrs{ir.StringAttr("mode", "cubic"), ir.IntAttr("antialias", 1)}, in: []*ir.Tensor{randT(r, -1, 1, 1, 1, 4, 5), nil, f32s(1, 1, 0.6, 1.5)}, diff: []int{0}},
		{name: "GridSample", op: "GridSample", attrs: ir.Attrs{ir.StringAttr("padding_mode", "reflection")}, in: []*ir.Tensor{randT(r, -1, 1, 1, 2, 3, 3), randT(r, -1.5, 1.5, 1, 2, 2, 2)}, diff: []int{0, 1}},
		{name: "AffineGrid", op: "AffineGrid", in: []*ir.Tensor{randT(r, -1, 1, 1, 2, 3), i64(1, 1, 2, 3)}, diff: []int{0}},
		{name: "Col2Im", op: "Col2Im", in: []*ir.Tensor{randT(r, -1, 1, 1, 4, 4), i64(3, 3), i64(2, 2)}, diff: []int{0}},
	}
	for _, c := range cases {
		checkGradientFloat32(t, c)
	}
}
