package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestRoiAlign(t *testing.T) {
	// X is the ramp 4y+x, so averages of bilinear samples equal the ramp at
	// the mean sample position.
	x := ir.FromSlice(convSeq(16, 1), 1, 1, 4, 4)
	rois := ir.FromSlice([]float32{0, 0, 3, 3}, 1, 4)
	bi := ir.FromSlice([]int64{0}, 1)
	one := ir.Attrs{ir.IntAttr("sampling_ratio", 1), ir.StringAttr("coordinate_transformation_mode", "output_half_pixel")}
	assertClose(t, runOp(t, "RoiAlign", 16, one, 1, x, rois, bi)[0], []int{1, 1, 1, 1}, []float64{7.5}, 1e-6)
	half := ir.Attrs{ir.IntAttr("sampling_ratio", 1)}
	assertClose(t, runOp(t, "RoiAlign", 16, half, 1, x, rois, bi)[0], []int{1, 1, 1, 1}, []float64{5}, 1e-6)
	// RoiAlign-10 defaults to output_half_pixel.
	assertClose(t, runOp(t, "RoiAlign", 10, half, 1, x, rois, bi)[0], []int{1, 1, 1, 1}, []float64{7.5}, 1e-6)
	two := ir.Attrs{ir.IntAttr("sampling_ratio", 2), ir.IntAttr("output_height", 2), ir.IntAttr("output_width", 2),
		ir.StringAttr("coordinate_transformation_mode", "output_half_pixel")}
	assertClose(t, runOp(t, "RoiAlign", 16, two, 1, x, rois, bi)[0], []int{1, 1, 2, 2}, []float64{3.75, 5.25, 9.75, 11.25}, 1e-6)
	// Adaptive grid (sampling_ratio 0) on the ramp gives the same means.
	adapt := ir.Attrs{ir.IntAttr("output_height", 2), ir.IntAttr("output_width", 2),
		ir.StringAttr("coordinate_transformation_mode", "output_half_pixel")}
	assertClose(t, runOp(t, "RoiAlign", 16, adapt, 1, x, rois, bi)[0], []int{1, 1, 2, 2}, []float64{3.75, 5.25, 9.75, 11.25}, 1e-6)

	// max mode takes the largest weighted corner.
	ones := ir.FromSlice([]float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 4, 4)
	mx := append(ir.Attrs{ir.StringAttr("mode", "max")}, one...)
	assertClose(t, runOp(t, "RoiAlign", 16, mx, 1, ones, ir.FromSlice([]float32{0, 0, 2, 2}, 1, 4), bi)[0], []int{1, 1, 1, 1}, []float64{1}, 1e-6)
	assertClose(t, runOp(t, "RoiAlign", 16, mx, 1, ones, rois, bi)[0], []int{1, 1, 1, 1}, []float64{0.25}, 1e-6)

	if _, err := tryOp("RoiAlign", 16, nil, 1, x, rois, ir.FromSlice([]int64{1}, 1)); err == nil {
		t.Fatal("bad batch index: no error")
	}
}

func TestMaxRoiPool(t *testing.T) {
	x := ir.FromSlice(convSeq(32, 1), 1, 2, 4, 4)
	rois := ir.FromSlice([]float32{0, 0, 0, 3, 3, 0, 1, 1, 2, 2}, 2, 5)
	attrs := ir.Attrs{ir.IntsAttr("pooled_shape", 2, 2)}
	got := runOp(t, "MaxRoiPool", 1, attrs, 1, x, rois)[0]
	assertClose(t, got, []int{2, 2, 2, 2}, []float64{
		5, 7, 13, 15, 21, 23, 29, 31,
		5, 6, 9, 10, 21, 22, 25, 26}, 0)
}

func TestDeformConvMatchesConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x, _ := convRandT(r, 2, 4, 5, 6)
	w, _ := convRandT(r, 6, 2, 3, 3)
	b, _ := convRandT(r, 6)
	attrs := ir.Attrs{ir.IntAttr("group", 2), ir.IntsAttr("pads", 1, 0, 1, 1), ir.IntsAttr("strides", 1, 2)}
	want := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
	oh, ow := want.Shape[2], want.Shape[3]
	off := ir.Zeros(ir.Float32, 2, 2*9*2, oh, ow)
	attrs = append(attrs, ir.IntAttr("offset_group", 2))
	got := runOp(t, "DeformConv", 19, attrs, 1, x, w, off, b)[0]
	assertClose(t, got, want.Shape, convFloats(want), 1e-5)
	// A mask of one half halves the convolution (bias aside).
	mask := ir.Zeros(ir.Float32, 2, 2*9, oh, ow)
	for i := range mask.Data.([]float32) {
		mask.Data.([]float32)[i] = 0.5
	}
	nob := runOp(t, "Conv", 22, attrs[:3], 1, x, w)[0]
	got = runOp(t, "DeformConv", 19, attrs, 1, x, w, off, nil, mask)[0]
	half := convFloats(nob)
	for i := range half {
		half[i] /= 2
	}
	assertClose(t, got, nob.Shape, half, 1e-5)
}

func TestDeformConvOffsets(t *testing.T) {
	// 1×1 kernel on a 1×4 row: offsets sample between pixels.
	x := ir.FromSlice([]float32{0, 10, 20, 30}, 1, 1, 1, 4)
	w := ir.FromSlice([]float32{1}, 1, 1, 1, 1)
	off := ir.FromSlice([]float32{0, 0, 0, 0, 0.5, 1, -0.25, 3}, 1, 2, 1, 4)
	got := runOp(t, "DeformConv", 19, nil, 1, x, w, off)[0]
	// positions 0.5, 2, 1.75, 6 (outside: 0).
	assertClose(t, got, []int{1, 1, 1, 4}, []float64{5, 20, 17.5, 0}, 1e-6)
}

func TestRoiAlignBadRois(t *testing.T) {
	x := ir.FromSlice(convSeq(16, 1), 1, 1, 4, 4)
	bi := ir.FromSlice([]int64{0}, 1)
	nan := float32(math.NaN())
	got := runOp(t, "RoiAlign", 16, ir.Attrs{ir.IntAttr("sampling_ratio", 2)}, 1, x, ir.FromSlice([]float32{nan, 0, 1, 1}, 1, 4), bi)[0]
	assertClose(t, got, []int{1, 1, 1, 1}, []float64{0}, 0)
	if _, err := tryOp("RoiAlign", 16, nil, 1, x, ir.FromSlice([]float32{0, 0, 1e30, 1e30}, 1, 4), bi); err == nil {
		t.Fatal("huge roi: no error")
	}
}
