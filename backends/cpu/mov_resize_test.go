package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

func movF32(v ...float32) *ir.Tensor { return ir.FromSlice(v, len(v)) }

func TestMovResize(t *testing.T) {
	x := movIota(1, 1, 2, 2) // [[0 1] [2 3]]
	row := ir.FromSlice([]float32{0, 1, 2, 3}, 1, 4)
	runMovCases(t, []movCase{
		{"nearest-up", "Resize", 19, nil, []*ir.Tensor{x, nil, movF32(1, 1, 2, 1.5)}, []int{1, 1, 4, 3},
			[]float64{0, 0, 1, 0, 0, 1, 2, 2, 3, 2, 2, 3}},
		{"nearest-sizes-axes", "Resize", 19, ir.Attrs{ir.IntsAttr("axes", 3)},
			[]*ir.Tensor{x, nil, nil, movI64(4)}, []int{1, 1, 2, 4}, []float64{0, 0, 1, 1, 2, 2, 3, 3}},
		// half_pixel linear upsample of [0 1 2 3] by 2: x_orig = (i+0.5)/2-0.5.
		{"linear-up", "Resize", 19, ir.Attrs{ir.StringAttr("mode", "linear")},
			[]*ir.Tensor{row, nil, movF32(1, 2)}, []int{1, 8},
			[]float64{0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3}},
		{"linear-align-corners", "Resize", 19, ir.Attrs{ir.StringAttr("mode", "linear"),
			ir.StringAttr("coordinate_transformation_mode", "align_corners")},
			[]*ir.Tensor{row, nil, nil, movI64(1, 7)}, []int{1, 7}, []float64{0, 0.5, 1, 1.5, 2, 2.5, 3}},
		// Downsample by 2 with antialias: the triangle filter stretched to
		// width 4 puts weights 1/8, 3/8, 3/8, 1/8 on the taps around
		// x_orig = 0.5 and 2.5 (edge-clamped).
		{"linear-antialias", "Resize", 19, ir.Attrs{ir.StringAttr("mode", "linear"), ir.IntAttr("antialias", 1)},
			[]*ir.Tensor{row, nil, movF32(1, 0.5)}, []int{1, 2},
			[]float64{(0 + 3*0 + 3*1 + 2) / 8.0, (1 + 3*2 + 3*3 + 3) / 8.0}},
		// Cubic (a = -0.75) upsampling of a ramp stays on the ramp away from
		// the edges; at half-way points the weights are -3/32, 19/32, 19/32, -3/32
		// and the edge-clamped taps bend the ends.
		{"cubic-ramp", "Resize", 19, ir.Attrs{ir.StringAttr("mode", "cubic"),
			ir.StringAttr("coordinate_transformation_mode", "asymmetric")},
			[]*ir.Tensor{ir.FromSlice([]float32{0, 1, 2, 3, 4, 5}, 1, 6), nil, movF32(1, 2)}, []int{1, 12},
			[]float64{0, 0.40625, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.59375, 5, 5.09375}},
		{"crop-and-resize-extrapolate", "Resize", 19, ir.Attrs{ir.StringAttr("mode", "linear"),
			ir.StringAttr("coordinate_transformation_mode", "tf_crop_and_resize"), ir.FloatAttr("extrapolation_value", -1)},
			[]*ir.Tensor{row, movF32(0, 0.5, 1, 1.5), nil, movI64(1, 3)}, []int{1, 3}, []float64{1.5, 3, -1}},
		{"not-larger", "Resize", 19, ir.Attrs{ir.StringAttr("keep_aspect_ratio_policy", "not_larger"), ir.IntsAttr("axes", 2, 3)},
			[]*ir.Tensor{x, nil, nil, movI64(4, 6)}, []int{1, 1, 4, 4},
			[]float64{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}},
		{"upsample-7", "Upsample", 7, ir.Attrs{ir.FloatsAttr("scales", 1, 1, 1, 2)}, []*ir.Tensor{x}, []int{1, 1, 2, 4},
			[]float64{0, 0, 1, 1, 2, 2, 3, 3}},
		{"upsample-9-linear", "Upsample", 9, ir.Attrs{ir.StringAttr("mode", "linear")},
			[]*ir.Tensor{row, movF32(1, 2)}, []int{1, 8}, []float64{0, 0.5, 1, 1.5, 2, 2.5, 3, 3}},
		{"resize-10", "Resize", 10, nil, []*ir.Tensor{x, movF32(1, 1, 1, 2)}, []int{1, 1, 2, 4},
			[]float64{0, 0, 1, 1, 2, 2, 3, 3}},
	})
	// Nearest resizing copies any dtype.
	s := ir.FromSlice([]string{"a", "b"}, 1, 2)
	out := runOp(t, "Resize", 19, nil, 1, s, nil, movF32(2, 1.5))[0]
	if got := out.Data.([]string); len(got) != 6 || got[0] != "a" || got[2] != "b" || got[5] != "b" {
		t.Fatalf("string resize: %v %v", out.Shape, got)
	}
}

func TestMovGridSample(t *testing.T) {
	x := movIota(1, 1, 2, 2) // [[0 1] [2 3]]
	// Grid points (x, y) in [-1, 1]: corners and the center.
	grid := ir.FromSlice([]float32{-1, -1, 1, 1, 0, 0, 2, 0}, 1, 1, 4, 2)
	runMovCases(t, []movCase{
		{"linear-align", "GridSample", 20, ir.Attrs{ir.IntAttr("align_corners", 1)},
			[]*ir.Tensor{x, grid}, []int{1, 1, 1, 4}, []float64{0, 3, 1.5, 1}},
		// Without align_corners, -1 is the outer edge of pixel 0: half of it is zero padding.
		{"linear-zeros", "GridSample", 20, nil, []*ir.Tensor{x, grid}, []int{1, 1, 1, 4}, []float64{0, 0.75, 1.5, 0}},
		{"linear-border", "GridSample", 20, ir.Attrs{ir.StringAttr("padding_mode", "border")},
			[]*ir.Tensor{x, grid}, []int{1, 1, 1, 4}, []float64{0, 3, 1.5, 2}},
		{"nearest-reflection", "GridSample", 16, ir.Attrs{ir.StringAttr("mode", "nearest"),
			ir.StringAttr("padding_mode", "reflection"), ir.IntAttr("align_corners", 1)},
			[]*ir.Tensor{x, grid}, []int{1, 1, 1, 4}, []float64{0, 3, 0, 0}},
		{"bicubic-constant", "GridSample", 16, ir.Attrs{ir.StringAttr("mode", "bicubic"), ir.StringAttr("padding_mode", "border")},
			[]*ir.Tensor{ir.FromSlice([]float32{5, 5, 5, 5}, 1, 1, 2, 2), grid}, []int{1, 1, 1, 4}, []float64{5, 5, 5, 5}},
		{"affine-identity", "AffineGrid", 20, nil,
			[]*ir.Tensor{ir.FromSlice([]float32{1, 0, 0, 0, 1, 0}, 1, 2, 3), movI64(1, 1, 2, 2)}, []int{1, 2, 2, 2},
			[]float64{-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5}},
		{"affine-align-shift", "AffineGrid", 20, ir.Attrs{ir.IntAttr("align_corners", 1)},
			[]*ir.Tensor{ir.FromSlice([]float32{2, 0, 1, 0, 1, 0}, 1, 2, 3), movI64(1, 1, 1, 2)}, []int{1, 1, 2, 2},
			[]float64{-1, -1, 3, -1}},
	})
	// GridSample over AffineGrid's identity reproduces the input.
	g := runOp(t, "AffineGrid", 20, nil, 1, ir.FromSlice([]float32{1, 0, 0, 0, 1, 0}, 1, 2, 3), movI64(1, 1, 2, 2))[0]
	out := runOp(t, "GridSample", 20, nil, 1, x, g)[0]
	assertClose(t, out, []int{1, 1, 2, 2}, []float64{0, 1, 2, 3}, 1e-6)
}

func TestMovCol2Im(t *testing.T) {
	// A 1x3 image seen through 1x2 blocks with stride 1: two blocks, columns
	// [a0 a1] and [b0 b1]; pixel 1 receives a1 + b0.
	cols := ir.FromSlice([]float32{1, 10, 2, 20}, 1, 2, 2) // rows: kernel offset, cols: block
	out := runOp(t, "Col2Im", 18, nil, 1, cols, movI64(1, 3), movI64(1, 2))[0]
	assertClose(t, out, []int{1, 1, 1, 3}, []float64{1, 12, 20}, 0)
	// Padding 1 on each side of the width with stride 2 gives blocks at -1 and 1.
	out = runOp(t, "Col2Im", 18, ir.Attrs{ir.IntsAttr("pads", 0, 1, 0, 1), ir.IntsAttr("strides", 1, 2)}, 1,
		cols, movI64(1, 3), movI64(1, 2))[0]
	assertClose(t, out, []int{1, 1, 1, 3}, []float64{2, 10, 20}, 0)
	if _, err := tryOp("Col2Im", 18, nil, 1, cols, movI64(1, 4), movI64(1, 2)); err == nil {
		t.Fatal("wrong block count accepted")
	}
}
