package cpu

import (
	"errors"
	"math/rand"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

// movIota returns float32 0..n-1 shaped as shape.
func movIota(shape ...int) *ir.Tensor {
	d := make([]float32, ir.Size(shape))
	for i := range d {
		d[i] = float32(i)
	}
	return ir.FromSlice(d, shape...)
}

func movI64(v ...int64) *ir.Tensor { return ir.FromSlice(v, len(v)) }

// movCase runs one op and checks its first output.
type movCase struct {
	name    string
	op      string
	version int
	attrs   ir.Attrs
	in      []*ir.Tensor
	shape   []int
	want    []float64
}

func runMovCases(t *testing.T, cases []movCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOp(t, c.op, c.version, c.attrs, 1, c.in...)
			assertClose(t, out[0], c.shape, c.want, 0)
		})
	}
}

func TestMovShapeOps(t *testing.T) {
	x := movIota(2, 3, 4)
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		return v
	}
	runMovCases(t, []movCase{
		{"reshape", "Reshape", 14, nil, []*ir.Tensor{x, movI64(4, 0, -1)}, []int{4, 3, 2}, seq(24)},
		{"reshape-allowzero-empty", "Reshape", 14, ir.Attrs{ir.IntAttr("allowzero", 1)},
			[]*ir.Tensor{ir.Zeros(ir.Float32, 0, 3), movI64(3, 0)}, []int{3, 0}, nil},
		{"reshape-1", "Reshape", 1, ir.Attrs{ir.IntsAttr("shape", 6, -1)}, []*ir.Tensor{x}, []int{6, 4}, seq(24)},
		{"flatten", "Flatten", 13, ir.Attrs{ir.IntAttr("axis", -1)}, []*ir.Tensor{x}, []int{6, 4}, seq(24)},
		{"flatten0", "Flatten", 13, ir.Attrs{ir.IntAttr("axis", 0)}, []*ir.Tensor{x}, []int{1, 24}, seq(24)},
		{"squeeze-all", "Squeeze", 13, nil, []*ir.Tensor{movIota(1, 3, 1)}, []int{3}, seq(3)},
		{"squeeze-attr", "Squeeze", 11, ir.Attrs{ir.IntsAttr("axes", -1)}, []*ir.Tensor{movIota(1, 3, 1)}, []int{1, 3}, seq(3)},
		{"unsqueeze", "Unsqueeze", 13, nil, []*ir.Tensor{movIota(3, 2), movI64(-1, 0)}, []int{1, 3, 2, 1}, seq(6)},
		{"unsqueeze-1", "Unsqueeze", 1, ir.Attrs{ir.IntsAttr("axes", 1)}, []*ir.Tensor{movIota(3)}, []int{3, 1}, seq(3)},
		{"shape", "Shape", 15, ir.Attrs{ir.IntAttr("start", -2)}, []*ir.Tensor{x}, []int{2}, []float64{3, 4}},
		{"shape-empty", "Shape", 15, ir.Attrs{ir.IntAttr("start", 2), ir.IntAttr("end", 1)}, []*ir.Tensor{x}, []int{0}, nil},
		{"size", "Size", 13, nil, []*ir.Tensor{x}, []int{}, []float64{24}},
		{"transpose", "Transpose", 13, ir.Attrs{ir.IntsAttr("perm", 1, 0)}, []*ir.Tensor{movIota(2, 3)}, []int{3, 2},
			[]float64{0, 3, 1, 4, 2, 5}},
		{"transpose-default", "Transpose", 13, nil, []*ir.Tensor{movIota(2, 1, 2)}, []int{2, 1, 2}, []float64{0, 2, 1, 3}},
		{"depthtospace-dcr", "DepthToSpace", 13, ir.Attrs{ir.IntAttr("blocksize", 2)}, []*ir.Tensor{movIota(1, 4, 1, 2)},
			[]int{1, 1, 2, 4}, []float64{0, 2, 1, 3, 4, 6, 5, 7}},
		{"depthtospace-crd", "DepthToSpace", 13, ir.Attrs{ir.IntAttr("blocksize", 2), ir.StringAttr("mode", "CRD")},
			[]*ir.Tensor{movIota(1, 4, 1, 2)}, []int{1, 1, 2, 4}, []float64{0, 2, 1, 3, 4, 6, 5, 7}},
		{"spacetodepth", "SpaceToDepth", 13, ir.Attrs{ir.IntAttr("blocksize", 2)}, []*ir.Tensor{movIota(1, 1, 2, 4)},
			[]int{1, 4, 1, 2}, []float64{0, 2, 1, 3, 4, 6, 5, 7}},
		{"expand", "Expand", 13, nil, []*ir.Tensor{movIota(3, 1), movI64(2, 1, 2)}, []int{2, 3, 2},
			[]float64{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2}},
		{"tile", "Tile", 13, nil, []*ir.Tensor{movIota(2, 2), movI64(1, 2)}, []int{2, 4}, []float64{0, 1, 0, 1, 2, 3, 2, 3}},
		{"tile-1", "Tile", 1, nil, []*ir.Tensor{movIota(2, 2), ir.Scalar(int64(2)), ir.Scalar(int64(0))}, []int{4, 2},
			[]float64{0, 1, 2, 3, 0, 1, 2, 3}},
	})
}

func TestMovSlice(t *testing.T) {
	x := movIota(3, 4)
	runMovCases(t, []movCase{
		{"basic", "Slice", 13, nil, []*ir.Tensor{x, movI64(1, 1), movI64(3, 3)}, []int{2, 2}, []float64{5, 6, 9, 10}},
		{"neg-step", "Slice", 13, nil, []*ir.Tensor{x, movI64(-1), movI64(-1 << 62), movI64(1), movI64(-2)}, []int{3, 2},
			[]float64{3, 1, 7, 5, 11, 9}},
		{"reverse-all", "Slice", 13, nil, []*ir.Tensor{movIota(3), movI64(5), movI64(-10), nil, movI64(-1)}, []int{3},
			[]float64{2, 1, 0}},
		{"clamp", "Slice", 13, nil, []*ir.Tensor{x, movI64(10), movI64(20), movI64(0)}, []int{0, 4}, nil},
		{"attr", "Slice", 1, ir.Attrs{ir.IntsAttr("starts", 1), ir.IntsAttr("ends", 1000), ir.IntsAttr("axes", 1)},
			[]*ir.Tensor{x}, []int{3, 3}, []float64{1, 2, 3, 5, 6, 7, 9, 10, 11}},
		{"step3", "Slice", 13, nil, []*ir.Tensor{movIota(7), movI64(0), movI64(7), nil, movI64(3)}, []int{3}, []float64{0, 3, 6}},
	})
	if _, err := tryOp("Slice", 13, nil, 1, x, movI64(0), movI64(1), movI64(0), movI64(0)); err == nil {
		t.Fatal("step 0 accepted")
	}
}

func TestMovConcatSplit(t *testing.T) {
	a, b := movIota(2, 2), movIota(2, 1)
	out := runOp(t, "Concat", 13, ir.Attrs{ir.IntAttr("axis", -1)}, 1, a, b)
	assertClose(t, out[0], []int{2, 3}, []float64{0, 1, 0, 2, 3, 1}, 0)
	out = runOp(t, "Concat", 13, ir.Attrs{ir.IntAttr("axis", 0)}, 1, a, ir.Zeros(ir.Float32, 0, 2))
	assertClose(t, out[0], []int{2, 2}, []float64{0, 1, 2, 3}, 0)
	if _, err := tryOp("Concat", 13, ir.Attrs{ir.IntAttr("axis", 0)}, 1, a, b); !errors.Is(err, errShape) {
		t.Fatalf("mismatched concat: %v", err)
	}
	s := ir.FromSlice([]string{"a", "b", "c"}, 3)
	out = runOp(t, "Concat", 13, ir.Attrs{ir.IntAttr("axis", 0)}, 1, s, s)
	if got := out[0].Data.([]string); len(got) != 6 || got[3] != "a" || got[5] != "c" {
		t.Fatalf("string concat %v", got)
	}

	x := movIota(5)
	cases := []struct {
		name    string
		version int
		attrs   ir.Attrs
		in      []*ir.Tensor
		n       int
		sizes   []int
	}{
		{"uneven-18", 18, ir.Attrs{ir.IntAttr("num_outputs", 2)}, []*ir.Tensor{x}, 2, []int{3, 2}},
		{"input-13", 13, nil, []*ir.Tensor{x, movI64(1, 4)}, 2, []int{1, 4}},
		{"attr-2", 2, ir.Attrs{ir.IntsAttr("split", 2, 0, 3)}, []*ir.Tensor{x}, 3, []int{2, 0, 3}},
		{"equal", 13, nil, []*ir.Tensor{movIota(6)}, 3, []int{2, 2, 2}},
		{"uneven-18-4", 18, ir.Attrs{ir.IntAttr("num_outputs", 4)}, []*ir.Tensor{movIota(7)}, 4, []int{2, 2, 2, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outs := runOp(t, "Split", c.version, c.attrs, c.n, c.in...)
			pos := 0
			for i, o := range outs {
				want := make([]float64, c.sizes[i])
				for j := range want {
					want[j] = float64(pos + j)
				}
				pos += c.sizes[i]
				assertClose(t, o, []int{c.sizes[i]}, want, 0)
			}
		})
	}
	if _, err := tryOp("Split", 13, nil, 2, x); err == nil {
		t.Fatal("uneven split accepted before opset 18")
	}
}

func TestMovPad(t *testing.T) {
	x := movIota(2, 3)
	runMovCases(t, []movCase{
		{"constant", "Pad", 13, nil, []*ir.Tensor{x, movI64(0, 1, 1, 0), ir.Scalar(float32(9))}, []int{3, 4},
			[]float64{9, 0, 1, 2, 9, 3, 4, 5, 9, 9, 9, 9}},
		{"reflect", "Pad", 13, ir.Attrs{ir.StringAttr("mode", "reflect")}, []*ir.Tensor{x, movI64(0, 2, 0, 2)}, []int{2, 7},
			[]float64{2, 1, 0, 1, 2, 1, 0, 5, 4, 3, 4, 5, 4, 3}},
		{"edge", "Pad", 13, ir.Attrs{ir.StringAttr("mode", "edge")}, []*ir.Tensor{x, movI64(1, 0, 0, 1)}, []int{3, 4},
			[]float64{0, 1, 2, 2, 0, 1, 2, 2, 3, 4, 5, 5}},
		{"wrap", "Pad", 19, ir.Attrs{ir.StringAttr("mode", "wrap")}, []*ir.Tensor{x, movI64(0, 1, 0, 4)}, []int{2, 8},
			[]float64{2, 0, 1, 2, 0, 1, 2, 0, 5, 3, 4, 5, 3, 4, 5, 3}},
		{"negative", "Pad", 13, nil, []*ir.Tensor{x, movI64(0, -1, -1, 0)}, []int{1, 2}, []float64{1, 2}},
		{"axes", "Pad", 18, nil, []*ir.Tensor{x, movI64(1, 1), nil, movI64(-1)}, []int{2, 5},
			[]float64{0, 0, 1, 2, 0, 0, 3, 4, 5, 0}},
		{"attr-2", "Pad", 2, ir.Attrs{ir.IntsAttr("pads", 1, 0, 0, 0), ir.FloatAttr("value", 7)}, []*ir.Tensor{x},
			[]int{3, 3}, []float64{7, 7, 7, 0, 1, 2, 3, 4, 5}},
		{"attr-1", "Pad", 1, ir.Attrs{ir.IntsAttr("paddings", 0, 0, 0, 1)}, []*ir.Tensor{x},
			[]int{2, 4}, []float64{0, 1, 2, 0, 3, 4, 5, 0}},
		{"center-crop-pad", "CenterCropPad", 18, nil, []*ir.Tensor{movIota(3, 2), movI64(1, 5)}, []int{1, 5},
			[]float64{0, 2, 3, 0, 0}},
	})
}

// TestMovTiledMatchesRows checks the tiled transpose path against the
// row-by-row twin on random permutations, including partial tiles.
func TestMovTiledMatchesRows(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	tiled := 0
	for iter := 0; iter < 200; iter++ {
		shape := make([]int, 2+r.Intn(4))
		for i := range shape {
			shape[i] = 1 + r.Intn(40)
		}
		if ir.Size(shape) > 1<<16 {
			continue
		}
		perm := r.Perm(len(shape))
		st := stridesOf(shape)
		axes := make([]movAxis, len(perm))
		for k, p := range perm {
			axes[k] = movAffine(shape[p], 0, st[p])
			if r.Intn(4) == 0 && shape[p] > 2 { // a reversed axis
				axes[k] = movAffine(shape[p], (shape[p]-1)*st[p], -st[p])
			}
		}
		axes = movCoalesce(axes)
		k := movTileAxis(axes, 1<<20) // any plan worth tiling at all
		if k < 0 {
			continue
		}
		tiled++
		src := make([]uint32, ir.Size(shape))
		for i := range src {
			src[i] = uint32(i)
		}
		a, b := make([]uint32, len(src)), make([]uint32, len(src))
		movTiled(a, src, axes, k)
		movRunRows(b, src, 0, axes)
		if !slices.Equal(a, b) {
			t.Fatalf("shape %v perm %v: tiled and row copies differ", shape, perm)
		}
	}
	if tiled < 50 {
		t.Fatalf("only %d plans took the tiled path", tiled)
	}
}
