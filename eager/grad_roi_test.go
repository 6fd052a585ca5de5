package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestGradRoi(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	// Boxes [x1 y1 x2 y2]: inside, partly outside, tiny, and one on image 1.
	boxes := f64([]float64{0.5, 0.7, 4.2, 3.9, -1.5, 2.2, 3.1, 6.8, 2.1, 1.2, 2.6, 1.9, 1.3, 0.2, 5.7, 4.4}, 4, 4)
	batch := i64(0, 0, 1, 1)
	x := any(2, 2, 5, 6)
	align := func(name string, attrs ir.Attrs) gradCase {
		return gradCase{name: name, op: "RoiAlign", attrs: attrs, in: []*ir.Tensor{x, boxes, batch}, diff: []int{0}}
	}
	oh := func(h, w int64) ir.Attrs {
		return ir.Attrs{ir.IntAttr("output_height", h), ir.IntAttr("output_width", w)}
	}
	pool := func(name string, attrs ir.Attrs, rois *ir.Tensor) gradCase {
		return gradCase{name: name, op: "MaxRoiPool", attrs: attrs, in: []*ir.Tensor{x, rois}, diff: []int{0}}
	}
	rois := f64([]float64{0, 0.4, 0.6, 3.4, 4.1, 1, 1, 0, 5, 2, 0, -2, 3, 1, 7, 1, 2.6, 1.4, 2.6, 1.4}, 4, 5)
	cases := []gradCase{
		align("avg adaptive", oh(2, 3)),
		align("avg sampling_ratio 2 scale", append(oh(3, 2), ir.IntAttr("sampling_ratio", 2), ir.FloatAttr("spatial_scale", 0.8))),
		align("avg output_half_pixel", append(oh(2, 2), ir.StringAttr("coordinate_transformation_mode", "output_half_pixel"))),
		align("max adaptive", append(oh(2, 2), ir.StringAttr("mode", "max"))),
		align("max sampling_ratio 1", append(oh(3, 3), ir.StringAttr("mode", "max"), ir.IntAttr("sampling_ratio", 1))),
		pool("MaxRoiPool 2x2", ir.Attrs{ir.IntsAttr("pooled_shape", 2, 2)}, rois),
		pool("MaxRoiPool 3x2 scale", ir.Attrs{ir.IntsAttr("pooled_shape", 3, 2), ir.FloatAttr("spatial_scale", 0.7)}, rois),
		pool("MaxRoiPool overlapping bins", ir.Attrs{ir.IntsAttr("pooled_shape", 4, 4)}, f64([]float64{1, 0, 0, 2, 2}, 1, 5)),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// RoiAlign-10 defaults to output_half_pixel.
	t.Run("RoiAlign-10", func(t *testing.T) {
		c := align("v10", oh(2, 2))
		c.version = 10
		checkGradient(t, c)
	})
}
