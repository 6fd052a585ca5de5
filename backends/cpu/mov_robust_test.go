package cpu

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

// movFuzzOp describes how to build random inputs for one op: kinds lists,
// per input, "x" (data), "f" (float data like x), "i" (int64 vector), "s"
// (int64 scalar), "b" (bool vector), or "-" (missing).
type movFuzzOp struct {
	op      string
	version int
	kinds   string
	attrs   []ir.Attrs
}

var movFuzzOps = []movFuzzOp{
	{"Reshape", 14, "xi", []ir.Attrs{nil, {ir.IntAttr("allowzero", 1)}}},
	{"Transpose", 13, "x", []ir.Attrs{nil, {ir.IntsAttr("perm", 1, 0)}, {ir.IntsAttr("perm", 0, 0)}}},
	{"Expand", 13, "xi", nil},
	{"Tile", 13, "xi", nil},
	{"Slice", 13, "xiiii", nil},
	{"Slice", 1, "x", []ir.Attrs{{ir.IntsAttr("starts", -1), ir.IntsAttr("ends", math.MaxInt64)}}},
	{"Concat", 13, "xx", []ir.Attrs{{ir.IntAttr("axis", 0)}, {ir.IntAttr("axis", -1)}, {ir.IntAttr("axis", 7)}}},
	{"Split", 18, "xi", []ir.Attrs{nil, {ir.IntAttr("num_outputs", 2)}, {ir.IntAttr("axis", -1)}}},
	{"Pad", 19, "xix", []ir.Attrs{nil, {ir.StringAttr("mode", "reflect")}, {ir.StringAttr("mode", "edge")}, {ir.StringAttr("mode", "wrap")}}},
	{"Pad", 18, "xi-i", nil},
	{"Gather", 13, "xi", []ir.Attrs{nil, {ir.IntAttr("axis", -1)}}},
	{"GatherElements", 13, "xx", []ir.Attrs{nil, {ir.IntAttr("axis", 1)}}},
	{"GatherND", 13, "xx", []ir.Attrs{nil, {ir.IntAttr("batch_dims", 1)}}},
	{"ScatterElements", 18, "xxx", []ir.Attrs{nil, {ir.StringAttr("reduction", "add")}}},
	{"ScatterND", 18, "xxx", []ir.Attrs{nil, {ir.StringAttr("reduction", "max")}}},
	{"TensorScatter", 24, "xxi", []ir.Attrs{nil, {ir.StringAttr("mode", "circular"), ir.IntAttr("axis", 1)}}},
	{"Squeeze", 13, "xi", nil},
	{"Unsqueeze", 13, "xi", nil},
	{"Flatten", 13, "x", []ir.Attrs{nil, {ir.IntAttr("axis", 5)}}},
	{"DepthToSpace", 13, "x", []ir.Attrs{nil, {ir.IntAttr("blocksize", 2)}}},
	{"SpaceToDepth", 13, "x", []ir.Attrs{{ir.IntAttr("blocksize", 2)}}},
	{"OneHot", 11, "iss", nil},
	{"Range", 11, "sss", nil},
	{"Shape", 15, "x", []ir.Attrs{nil, {ir.IntAttr("start", -9), ir.IntAttr("end", 9)}}},
	{"NonZero", 13, "x", nil},
	{"Unique", 11, "x", []ir.Attrs{nil, {ir.IntAttr("axis", 1)}, {ir.IntAttr("sorted", 0)}}},
	{"Trilu", 14, "xs", []ir.Attrs{nil, {ir.IntAttr("upper", 0)}}},
	{"Compress", 11, "xb", []ir.Attrs{nil, {ir.IntAttr("axis", 0)}}},
	{"ReverseSequence", 10, "xi", nil},
	{"EyeLike", 22, "x", nil},
	{"ConstantOfShape", 21, "i", nil},
	{"CenterCropPad", 18, "xi", nil},
	{"Resize", 19, "x-fi", []ir.Attrs{nil, {ir.StringAttr("mode", "linear"), ir.IntAttr("antialias", 1)},
		{ir.StringAttr("mode", "cubic"), ir.StringAttr("coordinate_transformation_mode", "tf_crop_and_resize")}}},
	{"Resize", 19, "xff", []ir.Attrs{{ir.StringAttr("coordinate_transformation_mode", "tf_crop_and_resize")}}},
	{"GridSample", 20, "fg", []ir.Attrs{nil, {ir.StringAttr("mode", "cubic"), ir.StringAttr("padding_mode", "reflection")},
		{ir.StringAttr("mode", "nearest"), ir.StringAttr("padding_mode", "border")}}},
	{"AffineGrid", 20, "fi", nil},
	{"Col2Im", 18, "fii", []ir.Attrs{nil, {ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}}},
}

// movFuzzInt picks a small or extreme integer.
func movFuzzInt(r *rand.Rand) int64 {
	switch r.Intn(12) {
	case 0:
		return math.MaxInt64
	case 1:
		return math.MinInt64
	case 2:
		return 1 << 40
	}
	return int64(r.Intn(9) - 4)
}

func movFuzzInput(r *rand.Rand, kind byte, base []int) *ir.Tensor {
	shape := make([]int, r.Intn(5))
	for i := range shape {
		shape[i] = r.Intn(4)
	}
	if r.Intn(5) < 3 {
		shape = base
	}
	if kind == 'g' && len(base) > 2 {
		shape = append(append([]int{base[0]}, base[2:]...), len(base)-2)
	}
	n := ir.Size(shape)
	switch kind {
	case 'x':
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(r.Intn(7) - 3)
		}
		return ir.FromSlice(d, shape...)
	case 'f', 'g':
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(r.NormFloat64())
			if r.Intn(20) == 0 {
				d[i] = float32([]float64{math.NaN(), math.Inf(1), -1e30, 0}[r.Intn(4)])
			}
		}
		return ir.FromSlice(d, shape...)
	case 'i':
		d := make([]int64, r.Intn(6))
		if r.Intn(2) == 0 {
			d = make([]int64, len(base))
		}
		for i := range d {
			d[i] = movFuzzInt(r)
		}
		return ir.FromSlice(d, len(d))
	case 's':
		return ir.Scalar(movFuzzInt(r))
	case 'b':
		d := make([]bool, r.Intn(6))
		for i := range d {
			d[i] = r.Intn(2) == 0
		}
		return ir.FromSlice(d, len(d))
	}
	return nil
}

// TestMovNoPanic feeds random, often invalid, inputs to every movement op:
// each call must return an error or valid tensors, never panic.
var movOK = map[string]int{}

func TestMovNoPanic(t *testing.T) {
	defer func() { t.Log(movOK) }()
	r := rand.New(rand.NewSource(1))
	saved := ir.MaxElements
	ir.MaxElements = 1 << 20
	defer func() { ir.MaxElements = saved }()
	for iter := 0; iter < 20000; iter++ {
		op := movFuzzOps[iter%len(movFuzzOps)]
		var attrs ir.Attrs
		if len(op.attrs) > 0 {
			attrs = op.attrs[r.Intn(len(op.attrs))]
		}
		base := make([]int, r.Intn(5))
		for i := range base {
			base[i] = 1 + r.Intn(3)
		}
		in := make([]*ir.Tensor, len(op.kinds))
		for i := range in {
			in[i] = movFuzzInput(r, op.kinds[i], base)
		}
		desc := fmt.Sprintf("%s-%d %v on %v", op.op, op.version, attrs, in)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s: panic %v", desc, p)
				}
			}()
			outs, err := tryOp(op.op, op.version, attrs, 2, in...)
			if err != nil {
				return
			}
			movOK[op.op]++
			for _, o := range outs {
				if o != nil {
					if verr := o.Validate(); verr != nil {
						t.Fatalf("%s: invalid output: %v", desc, verr)
					}
				}
			}
		}()
	}
}
