package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestReduceOps(t *testing.T) {
	// x (3,2,2)
	x := ir.FromSlice([]float32{5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2}, 3, 2, 2)
	axes1 := ir.FromSlice([]int64{1}, 1)
	inf := math.Inf(1)
	cases := []struct {
		op    string
		ver   int
		attrs ir.Attrs
		in    []*ir.Tensor
		shape []int
		want  []float64
	}{
		{"ReduceSum", 13, nil, []*ir.Tensor{x, axes1}, []int{3, 1, 2}, []float64{25, 3, 70, 3, 115, 3}},
		{"ReduceSum", 13, ir.Attrs{ir.IntAttr("keepdims", 0)}, []*ir.Tensor{x}, []int{}, []float64{219}},
		{"ReduceSum", 11, ir.Attrs{ir.IntsAttr("axes", 0, 2), ir.IntAttr("keepdims", 0)}, []*ir.Tensor{x}, []int{2}, []float64{93, 126}},
		{"ReduceSum", 13, ir.Attrs{ir.IntAttr("noop_with_empty_axes", 1)}, []*ir.Tensor{x, ir.FromSlice([]int64{}, 0)}, []int{3, 2, 2},
			[]float64{5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2}},
		{"ReduceMean", 18, nil, []*ir.Tensor{x, axes1}, []int{3, 1, 2}, []float64{12.5, 1.5, 35, 1.5, 57.5, 1.5}},
		{"ReduceMean", 13, ir.Attrs{ir.IntsAttr("axes", 0)}, []*ir.Tensor{x}, []int{1, 2, 2}, []float64{30, 1, 40, 2}},
		{"ReduceMax", 18, ir.Attrs{ir.IntAttr("keepdims", 0)}, []*ir.Tensor{x, ir.FromSlice([]int64{-1}, 1)}, []int{3, 2}, []float64{5, 20, 30, 40, 55, 60}},
		{"ReduceMin", 1, ir.Attrs{ir.IntsAttr("axes", 0)}, []*ir.Tensor{x}, []int{1, 2, 2}, []float64{5, 1, 20, 2}},
		{"ReduceProd", 18, nil, []*ir.Tensor{x, axes1}, []int{3, 1, 2}, []float64{100, 2, 1200, 2, 3300, 2}},
		{"ReduceL1", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{-3, 4}, 2)}, []int{1}, []float64{7}},
		{"ReduceL2", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{-3, 4}, 2)}, []int{1}, []float64{5}},
		{"ReduceSumSquare", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{-3, 4}, 2)}, []int{1}, []float64{25}},
		{"ReduceLogSum", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{1, 2}, 2)}, []int{1}, []float64{math.Log(3)}},
		{"ReduceLogSumExp", 18, nil, []*ir.Tensor{ir.FromSlice([]float64{1000, 1000}, 2)}, []int{1}, []float64{1000 + math.Log(2)}},
		// empty sets give the identity of the fold
		{"ReduceSum", 13, nil, []*ir.Tensor{ir.FromSlice([]float32{}, 2, 0, 4), axes1}, []int{2, 1, 4}, make([]float64, 8)},
		{"ReduceMax", 20, ir.Attrs{ir.IntAttr("keepdims", 0)}, []*ir.Tensor{ir.FromSlice([]float32{}, 0, 2), ir.FromSlice([]int64{0}, 1)}, []int{2}, []float64{-inf, -inf}},
		{"ReduceMin", 20, nil, []*ir.Tensor{ir.FromSlice([]float32{}, 2, 0), axes1}, []int{2, 1}, []float64{inf, inf}},
		{"ReduceProd", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{}, 1, 0), axes1}, []int{1, 1}, []float64{1}},
		{"ReduceLogSumExp", 18, nil, []*ir.Tensor{ir.FromSlice([]float32{}, 1, 0), axes1}, []int{1, 1}, []float64{-inf}},
		// non-reduced zero dim: empty output
		{"ReduceSum", 13, nil, []*ir.Tensor{ir.FromSlice([]float32{}, 0, 3), axes1}, []int{0, 1}, []float64{}},
		// integers stay exact
		{"ReduceSum", 13, nil, []*ir.Tensor{ir.FromSlice([]int64{1 << 60, 1, 1}, 3)}, []int{1}, []float64{1<<60 + 2}},
		{"ReduceMean", 18, nil, []*ir.Tensor{ir.FromSlice([]int32{1, 2}, 2)}, []int{1}, []float64{1}},
		{"ReduceMax", 18, nil, []*ir.Tensor{ir.FromSlice([]int8{-5, -3}, 2)}, []int{1}, []float64{-3}},
		{"ReduceMin", 18, nil, []*ir.Tensor{ir.FromSlice([]uint64{7, 3}, 2)}, []int{1}, []float64{3}},
	}
	for i, c := range cases {
		out := runOp(t, c.op, c.ver, c.attrs, 1, c.in...)
		t.Run(c.op, func(t *testing.T) {
			if out[0].DType != c.in[0].DType {
				t.Fatalf("case %d: dtype %v", i, out[0].DType)
			}
			assertClose(t, out[0], c.shape, c.want, 1e-6)
		})
	}
}

func TestReduceBoolAndHalf(t *testing.T) {
	b := ir.FromSlice([]bool{true, true, true, false, false, true, false, false}, 4, 2)
	axes := ir.FromSlice([]int64{1}, 1)
	mx := runOp(t, "ReduceMax", 20, nil, 1, b, axes)[0]
	mn := runOp(t, "ReduceMin", 20, nil, 1, b, axes)[0]
	if got := mx.Data.([]bool); !(got[0] && got[1] && got[2] && !got[3]) {
		t.Fatalf("max %v", got)
	}
	if got := mn.Data.([]bool); !(got[0] && !got[1] && !got[2] && !got[3]) {
		t.Fatalf("min %v", got)
	}
	h := fromFloat32(ir.FromSlice([]float32{1, 2, 3, 4}, 2, 2), ir.Float16)
	s := runOp(t, "ReduceSum", 13, nil, 1, h, ir.FromSlice([]int64{0}, 1))[0]
	if s.DType != ir.Float16 {
		t.Fatalf("dtype %v", s.DType)
	}
	assertClose(t, s, []int{1, 2}, []float64{4, 6}, 1e-3)
}

// TestReducePlanLayouts checks every axis subset of a rank-4 tensor against
// a direct reference sum.
func TestReducePlanLayouts(t *testing.T) {
	shape := []int{3, 1, 4, 5}
	n := ir.Size(shape)
	data := make([]float64, n)
	for i := range data {
		data[i] = float64(i%7) - 2.5
	}
	x := ir.FromSlice(data, shape...)
	st := stridesOf(shape)
	for mask := 0; mask < 16; mask++ {
		var axes []int64
		for a := 0; a < 4; a++ {
			if mask&(1<<a) != 0 {
				axes = append(axes, int64(a))
			}
		}
		outShape := make([]int, 4)
		for a := range outShape {
			outShape[a] = shape[a]
			if mask&(1<<a) != 0 {
				outShape[a] = 1
			}
		}
		want := make([]float64, ir.Size(outShape))
		ost := stridesOf(outShape)
		for i := 0; i < n; i++ {
			o := 0
			for a := 0; a < 4; a++ {
				idx := i / st[a] % shape[a]
				if mask&(1<<a) == 0 {
					o += idx * ost[a]
				}
			}
			want[o] += data[i]
		}
		var in []*ir.Tensor
		in = append(in, x)
		if len(axes) > 0 {
			in = append(in, ir.FromSlice(axes, len(axes)))
		} else {
			outShape = []int{1, 1, 1, 1}
		}
		got := runOp(t, "ReduceSum", 13, nil, 1, in...)[0]
		if len(axes) == 0 {
			want = []float64{0}
			for _, v := range data {
				want[0] += v
			}
		}
		assertClose(t, got, outShape, want, 1e-9)
	}
}

func TestReduceErrors(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2}, 2)
	if _, err := tryOp("ReduceSum", 13, nil, 1, x, ir.FromSlice([]int64{3}, 1)); err == nil {
		t.Fatal("axis out of range accepted")
	}
	if _, err := tryOp("ReduceSum", 13, nil, 1, x, ir.FromSlice([]int64{0, -1}, 2)); err == nil {
		t.Fatal("repeated axis accepted")
	}
	if _, err := tryOp("ReduceSum", 13, nil, 1, ir.FromSlice([]string{"a"}, 1)); err == nil {
		t.Fatal("string input accepted")
	}
	if _, err := tryOp("ReduceSum", 13, nil, 1); err == nil {
		t.Fatal("missing input accepted")
	}
}

// TestReduceSplitFolds covers the path that splits a few long folds over
// the workers (full reductions and reductions to fewer outputs than workers).
func TestReduceSplitFolds(t *testing.T) {
	old := Threads()
	setPoolThreads(8)
	defer setPoolThreads(old)
	shape := []int{3, 2, 40000}
	v := make([]float64, ir.Size(shape))
	for i := range v {
		v[i] = float64(i%11) - 4
	}
	v[12345] = 100 // in output 0 (dim 1 index 0)
	x := ir.FromSlice(v, shape...)
	want := []float64{0, 0}
	wantMax := []float64{math.Inf(-1), math.Inf(-1)}
	for i, e := range v {
		o := i / 40000 % 2
		want[o] += e
		wantMax[o] = math.Max(wantMax[o], e)
	}
	axes := ir.FromSlice([]int64{0, 2}, 2)
	got := runOp(t, "ReduceSum", 13, ir.Attrs{ir.IntAttr("keepdims", 0)}, 1, x, axes)[0]
	assertClose(t, got, []int{2}, want, 1e-12)
	got = runOp(t, "ReduceMax", 18, ir.Attrs{ir.IntAttr("keepdims", 0)}, 1, x, axes)[0]
	assertClose(t, got, []int{2}, wantMax, 0)
	all := runOp(t, "ReduceMean", 18, ir.Attrs{ir.IntAttr("keepdims", 0)}, 1, x)[0]
	assertClose(t, all, []int{}, []float64{(want[0] + want[1]) / float64(len(v))}, 1e-12)
}
