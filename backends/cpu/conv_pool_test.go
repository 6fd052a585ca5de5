package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestMaxPool(t *testing.T) {
	x := ir.FromSlice(convSeq(16, 1), 1, 1, 4, 4) // 0..15
	k2s2 := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	out := runOp(t, "MaxPool", 12, k2s2, 2, x)
	assertClose(t, out[0], []int{1, 1, 2, 2}, []float64{5, 7, 13, 15}, 0)
	assertClose(t, out[1], []int{1, 1, 2, 2}, []float64{5, 7, 13, 15}, 0)
	colMajor := append(ir.Attrs{ir.IntAttr("storage_order", 1)}, k2s2...)
	assertClose(t, runOp(t, "MaxPool", 12, colMajor, 2, x)[1], []int{1, 1, 2, 2}, []float64{5, 13, 7, 15}, 0)

	ceil := ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntAttr("ceil_mode", 1)}
	assertClose(t, runOp(t, "MaxPool", 12, ceil, 1, x)[0], []int{1, 1, 2, 2}, []float64{10, 11, 14, 15}, 0)

	pads := ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 3, 3)}
	assertClose(t, runOp(t, "MaxPool", 12, pads, 1, x)[0], []int{1, 1, 2, 2}, []float64{5, 7, 13, 15}, 0)

	same := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.StringAttr("auto_pad", "SAME_LOWER")}
	got := runOp(t, "MaxPool", 12, same, 1, ir.FromSlice(convSeq(9, 1), 1, 1, 3, 3))[0]
	assertClose(t, got, []int{1, 1, 3, 3}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}, 0)

	dil := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 2, 2)}
	assertClose(t, runOp(t, "MaxPool", 12, dil, 1, x)[0], []int{1, 1, 2, 2}, []float64{10, 11, 14, 15}, 0)

	// 1-D, 3-D and int8.
	x1 := ir.FromSlice([]float32{3, 1, 4, 1, 5, 9, 2}, 1, 1, 7)
	assertClose(t, runOp(t, "MaxPool", 12, ir.Attrs{ir.IntsAttr("kernel_shape", 3)}, 1, x1)[0],
		[]int{1, 1, 5}, []float64{4, 4, 5, 9, 9}, 0)
	x3 := ir.FromSlice(convSeq(8, 1), 1, 1, 2, 2, 2)
	out = runOp(t, "MaxPool", 12, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2, 2)}, 2, x3)
	assertClose(t, out[0], []int{1, 1, 1, 1, 1}, []float64{7}, 0)
	assertClose(t, out[1], []int{1, 1, 1, 1, 1}, []float64{7}, 0)
	xi := ir.FromSlice([]int8{-5, -3, -9, -1}, 1, 1, 2, 2)
	assertClose(t, runOp(t, "MaxPool", 12, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2)}, 1, xi)[0],
		[]int{1, 1, 1, 1}, []float64{-1}, 0)
	// Indices of the second plane include the plane offset.
	x2 := ir.FromSlice(convSeq(8, 1), 1, 2, 2, 2)
	assertClose(t, runOp(t, "MaxPool", 12, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2)}, 2, x2)[1],
		[]int{1, 2, 1, 1}, []float64{3, 7}, 0)
}

func TestAveragePool(t *testing.T) {
	x := ir.FromSlice(convSeq(9, 1), 1, 1, 3, 3) // 0..8
	base := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}
	got := runOp(t, "AveragePool", 19, base, 1, x)[0]
	assertClose(t, got, []int{1, 1, 4, 4}, []float64{
		0, 0.5, 1.5, 2,
		1.5, 2, 3, 3.5,
		4.5, 5, 6, 6.5,
		6, 6.5, 7.5, 8}, 1e-6)
	got = runOp(t, "AveragePool", 19, append(base, ir.IntAttr("count_include_pad", 1)), 1, x)[0]
	assertClose(t, got, []int{1, 1, 4, 4}, []float64{
		0, 0.25, 0.75, 0.5,
		0.75, 2, 3, 1.75,
		2.25, 5, 6, 3.25,
		1.5, 3.25, 3.75, 2}, 1e-6)
	// ceil_mode: the last window is clipped to the input.
	x1 := ir.FromSlice([]float32{1, 2, 3, 4, 5}, 1, 1, 5)
	ceil := ir.Attrs{ir.IntsAttr("kernel_shape", 2), ir.IntsAttr("strides", 2), ir.IntAttr("ceil_mode", 1)}
	assertClose(t, runOp(t, "AveragePool", 19, ceil, 1, x1)[0], []int{1, 1, 3}, []float64{1.5, 3.5, 5}, 1e-6)
	// dilations
	dil := ir.Attrs{ir.IntsAttr("kernel_shape", 2), ir.IntsAttr("dilations", 2)}
	assertClose(t, runOp(t, "AveragePool", 19, dil, 1, x1)[0], []int{1, 1, 3}, []float64{2, 3, 4}, 1e-6)
	// float64
	x64 := &ir.Tensor{DType: ir.Float64, Shape: []int{1, 1, 5}, Data: []float64{1, 2, 3, 4, 5}}
	assertClose(t, runOp(t, "AveragePool", 19, ir.Attrs{ir.IntsAttr("kernel_shape", 5)}, 1, x64)[0], []int{1, 1, 1}, []float64{3}, 0)
}

func TestLpPool(t *testing.T) {
	x := ir.FromSlice([]float32{3, 4, 0, -12}, 1, 1, 4)
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 2), ir.IntAttr("p", 2)}
	assertClose(t, runOp(t, "LpPool", 18, attrs, 1, x)[0], []int{1, 1, 3}, []float64{5, 4, 12}, 1e-6)
	attrs = ir.Attrs{ir.IntsAttr("kernel_shape", 2), ir.FloatAttr("p", 1), ir.IntsAttr("strides", 2)}
	assertClose(t, runOp(t, "LpPool", 1, attrs, 1, x)[0], []int{1, 1, 2}, []float64{7, 12}, 1e-6)
	attrs = ir.Attrs{ir.IntsAttr("kernel_shape", 2), ir.IntAttr("p", 3), ir.IntsAttr("pads", 1, 0)}
	assertClose(t, runOp(t, "LpPool", 18, attrs, 1, x)[0], []int{1, 1, 4},
		[]float64{3, math.Cbrt(27 + 64), 4, 12}, 1e-5)
}

func TestGlobalPools(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2, 3, 4, -1, -2, -3, -4}, 1, 2, 2, 2)
	assertClose(t, runOp(t, "GlobalAveragePool", 1, nil, 1, x)[0], []int{1, 2, 1, 1}, []float64{2.5, -2.5}, 1e-6)
	assertClose(t, runOp(t, "GlobalMaxPool", 1, nil, 1, x)[0], []int{1, 2, 1, 1}, []float64{4, -1}, 0)
	assertClose(t, runOp(t, "GlobalLpPool", 2, nil, 1, x)[0], []int{1, 2, 1, 1}, []float64{math.Sqrt(30), math.Sqrt(30)}, 1e-6)
	x1 := ir.FromSlice([]float32{1, 2, 3}, 1, 1, 3)
	assertClose(t, runOp(t, "GlobalAveragePool", 22, nil, 1, x1)[0], []int{1, 1, 1}, []float64{2}, 1e-6)
}

func TestMaxUnpool(t *testing.T) {
	x := ir.FromSlice([]float32{5, 6, 7, 8}, 1, 1, 2, 2)
	idx := ir.FromSlice([]int64{5, 7, 13, 15}, 1, 1, 2, 2)
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
	got := runOp(t, "MaxUnpool", 11, attrs, 1, x, idx)[0]
	assertClose(t, got, []int{1, 1, 4, 4}, []float64{0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8}, 0)
	got = runOp(t, "MaxUnpool", 11, attrs, 1, x, idx, ir.FromSlice([]int64{1, 1, 5, 5}, 4))[0]
	assertClose(t, got, []int{1, 1, 5, 5}, []float64{
		0, 0, 0, 0, 0,
		0, 5, 0, 6, 0,
		0, 0, 0, 0, 0,
		0, 7, 0, 8, 0,
		0, 0, 0, 0, 0}, 0)
	bad := ir.FromSlice([]int64{5, 7, 13, 16}, 1, 1, 2, 2)
	if _, err := tryOp("MaxUnpool", 11, attrs, 1, x, bad); err == nil {
		t.Fatal("out-of-range index: no error")
	}
}

func TestPoolErrors(t *testing.T) {
	x := ir.Zeros(ir.Float32, 1, 1, 4, 4)
	for _, attrs := range []ir.Attrs{
		nil, // kernel_shape required
		{ir.IntsAttr("kernel_shape", 5, 5)},
		{ir.IntsAttr("kernel_shape", 2)},
		{ir.IntsAttr("kernel_shape", 2, 2), ir.StringAttr("auto_pad", "BOGUS")},
	} {
		if _, err := tryOp("MaxPool", 12, attrs, 1, x); err == nil {
			t.Errorf("%v: no error", attrs)
		}
	}
	if _, err := tryOp("AveragePool", 19, ir.Attrs{ir.IntsAttr("kernel_shape", 2)}, 1, ir.Zeros(ir.Float32, 4, 4)); err == nil {
		t.Error("rank 2 input: no error")
	}
}

// TestMaxPool2x2MatchesGeneric runs the 2×2 stride-2 fast path against
// convMaxPlane, with ties, NaNs, odd sizes (a dropped last row and column)
// and both index orders.
func TestMaxPool2x2MatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, sp := range [][]int{{4, 4}, {7, 9}, {2, 2}, {3, 6, 8}} {
		win, err := convReadWin("MaxPool", ir.Attrs{ir.IntsAttr("kernel_shape", append(make([]int64, len(sp)-2), 2, 2)...),
			ir.IntsAttr("strides", append(make([]int64, len(sp)-2), 2, 2)...)})
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) == 3 { // a 1×2×2 window over 3-D
			win.kernel[0], win.strides[0] = 1, 1
		}
		g, err := win.resolve(sp, nil)
		if err != nil {
			t.Fatal(err)
		}
		g3, err := convTo3("MaxPool", g)
		if err != nil {
			t.Fatal(err)
		}
		if !g3.is2x2() {
			t.Fatalf("%v: not the 2x2 fast path", sp)
		}
		x := make([]float32, ir.Size(sp))
		for i := range x {
			x[i] = float32(r.IntN(5)) // ties
		}
		x[1] = float32(math.NaN())
		n := ir.Size(g.out)
		for _, colMajor := range []bool{false, true} {
			for _, withIdx := range []bool{false, true} {
				want, got := make([]float32, n), make([]float32, n)
				var wi, gi []int64
				if withIdx {
					wi, gi = make([]int64, n), make([]int64, n)
				}
				convMaxPlane(g3, x, want, wi, 100, colMajor)
				convMax2x2Plane(g3, x, got, gi, 100, colMajor)
				for i := range want {
					same := got[i] == want[i] || (math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i])))
					if !same || (withIdx && gi[i] != wi[i]) {
						t.Fatalf("%v colMajor %v indices %v: [%d] = %v (%v), want %v (%v)", sp, colMajor, withIdx, i, got[i], gi, want[i], wi)
					}
				}
			}
		}
	}
}

// TestMaxPoolSeparableMatchesGeneric runs the row-maxima path against
// convMaxPlane over strides, pads, dilations, ceil mode, 1-D and 3-D.
func TestMaxPoolSeparableMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	cases := []struct {
		sp    []int
		attrs ir.Attrs
	}{
		{[]int{12, 12}, ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{9, 7}, ir.Attrs{ir.IntsAttr("kernel_shape", 3, 2), ir.IntsAttr("pads", 1, 0, 1, 1)}},
		{[]int{10, 11}, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 3), ir.IntsAttr("dilations", 2, 2), ir.IntsAttr("strides", 1, 2)}},
		{[]int{8, 8}, ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntAttr("ceil_mode", 1)}},
		{[]int{13}, ir.Attrs{ir.IntsAttr("kernel_shape", 4), ir.IntsAttr("strides", 3), ir.IntsAttr("pads", 2, 2)}},
		{[]int{3, 6, 7}, ir.Attrs{ir.IntsAttr("kernel_shape", 1, 3, 3), ir.IntsAttr("pads", 0, 1, 1, 0, 1, 1)}},
	}
	for i, tc := range cases {
		win, err := convReadWin("MaxPool", tc.attrs)
		if err != nil {
			t.Fatal(err)
		}
		g, err := win.resolve(tc.sp, nil)
		if err != nil {
			t.Fatal(err)
		}
		g3, err := convTo3("MaxPool", g)
		if err != nil {
			t.Fatal(err)
		}
		if !g3.separable() {
			t.Fatalf("case %d: not separable", i)
		}
		x := make([]float32, ir.Size(tc.sp))
		for j := range x {
			x[j] = float32(r.NormFloat64())
		}
		x[3] = float32(math.NaN())
		n := ir.Size(g.out)
		want, got := make([]float32, n), make([]float32, n)
		convMaxPlane(g3, x, want, nil, 0, false)
		convMaxSeparable(g3, x, got, make([]float32, g3.in[0]*g3.in[1]*g3.out[2]))
		for j := range want {
			if got[j] != want[j] && !(math.IsNaN(float64(got[j])) && math.IsNaN(float64(want[j]))) {
				t.Fatalf("case %d: out %v: [%d] = %v, want %v", i, g.out, j, got[j], want[j])
			}
		}
	}
}
