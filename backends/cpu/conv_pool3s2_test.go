package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestConvMax3x3s2 checks the 3x3 stride-2 max pool against convMaxPlane
// bit for bit (NaN for NaN) over paddings that clip either side, odd and
// even planes and ceil_mode windows hanging off the end, with NaNs and
// signed zeros in the input.
func TestConvMax3x3s2(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct {
		sp    []int
		attrs ir.Attrs
	}{
		{[]int{112, 112}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{12, 13}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{9, 8}, nil},
		{[]int{8, 9}, ir.Attrs{ir.IntAttr("ceil_mode", 1)}},
		{[]int{7, 10}, ir.Attrs{ir.IntsAttr("pads", 0, 2, 1, 0)}},
		{[]int{5, 6}, ir.Attrs{ir.IntsAttr("pads", 2, 2, 2, 2)}},
		{[]int{3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntAttr("ceil_mode", 1)}},
	} {
		attrs := append(ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2)}, tc.attrs...)
		win, err := convReadWin("MaxPool", attrs)
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
		if !g3.is3x3s2() {
			t.Fatalf("%v %v: not 3x3/2", tc.sp, tc.attrs)
		}
		x := make([]float32, ir.Size(tc.sp))
		for j := range x {
			x[j] = float32(r.NormFloat64())
		}
		x[r.IntN(len(x))] = float32(math.NaN())
		x[r.IntN(len(x))] = float32(math.Copysign(0, -1))
		x[r.IntN(len(x))] = 0
		n := ir.Size(g.out)
		want, got := make([]float32, n), make([]float32, n)
		convMaxPlane(g3, x, want, nil, 0, false)
		convMax3x3s2(g3, x, got, make([]float32, 2*g3.in[2]+4))
		for j := range want {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) && !(math.IsNaN(float64(got[j])) && math.IsNaN(float64(want[j]))) {
				t.Fatalf("%v %v: out %v: [%d] = %v, want %v", tc.sp, tc.attrs, g.out, j, got[j], want[j])
			}
		}
	}
	g3 := &convG3{in: [3]int{1, 8, 8}, out: [3]int{1, 4, 4}, k: [3]int{1, 3, 3}, s: [3]int{1, 2, 1}, dil: [3]int{1, 1, 1}}
	if g3.is3x3s2() {
		t.Error("stride 2x1 taken as 3x3/2")
	}
}
