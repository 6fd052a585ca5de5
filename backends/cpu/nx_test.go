package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func nxSilu(v float64) float64 { return v / (1 + math.Exp(-v)) }

func TestCausalConvWithState(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2, 3}, 1, 1, 3)
	w := ir.FromSlice([]float32{0.5, -1, 2}, 1, 1, 3)
	bias := ir.FromSlice([]float32{0.25}, 1)
	past := ir.FromSlice([]float32{4, 5}, 1, 1, 2)
	cases := []struct {
		name      string
		act       string
		in        []*ir.Tensor
		outShape  []int
		out       []float64
		state     []float64
		stateShap []int
	}{
		// pad [0 0 1 2 3]: out[t] = 0.5 pad[t] - pad[t+1] + 2 pad[t+2]
		{"no past", "", []*ir.Tensor{x, w}, []int{1, 1, 3}, []float64{2, 3, 4.5}, []float64{2, 3}, []int{1, 1, 2}},
		// pad [4 5 1 2 3], + 0.25
		{"bias and past", "", []*ir.Tensor{x, w, bias, past}, []int{1, 1, 3},
			[]float64{-0.75, 5.75, 4.75}, []float64{2, 3}, []int{1, 1, 2}},
		{"past only", "none", []*ir.Tensor{x, w, nil, past}, []int{1, 1, 3},
			[]float64{-1, 5.5, 4.5}, []float64{2, 3}, []int{1, 1, 2}},
		{"silu", "silu", []*ir.Tensor{x, w, bias, past}, []int{1, 1, 3},
			[]float64{nxSilu(-0.75), nxSilu(5.75), nxSilu(4.75)}, []float64{2, 3}, []int{1, 1, 2}},
		{"swish", "swish", []*ir.Tensor{x, w}, []int{1, 1, 3},
			[]float64{nxSilu(2), nxSilu(3), nxSilu(4.5)}, []float64{2, 3}, []int{1, 1, 2}},
		// L=1 < k-1: pad [0 0 7], state keeps a zero of the padding.
		{"short input", "", []*ir.Tensor{ir.FromSlice([]float32{7}, 1, 1, 1), w}, []int{1, 1, 1},
			[]float64{14}, []float64{0, 7}, []int{1, 1, 2}},
		// two channels with their own kernels: ch0 pad [0 1 2], ch1 pad [0 3 4]
		{"channels", "", []*ir.Tensor{ir.FromSlice([]float32{1, 2, 3, 4}, 1, 2, 2),
			ir.FromSlice([]float32{1, 10, 100, 1000}, 2, 1, 2)}, []int{1, 2, 2},
			[]float64{10, 21, 3000, 4300}, []float64{2, 4}, []int{1, 2, 1}},
		// k=1: a per-channel scale, empty state
		{"k1", "", []*ir.Tensor{ir.FromSlice([]float32{1, 2, 3, 4}, 2, 1, 2),
			ir.FromSlice([]float32{-2}, 1, 1, 1)}, []int{2, 1, 2},
			[]float64{-2, -4, -6, -8}, nil, []int{2, 1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var attrs ir.Attrs
			if c.act != "" {
				attrs = ir.Attrs{ir.StringAttr("activation", c.act)}
			}
			out := runOp(t, "CausalConvWithState", 27, attrs, 2, c.in...)
			assertClose(t, out[0], c.outShape, c.out, 1e-6)
			assertClose(t, out[1], c.stateShap, c.state, 0)
		})
	}
}

func TestCausalConvWithStateDTypes(t *testing.T) {
	x64 := ir.FromSlice([]float64{1, 2, 3}, 1, 1, 3)
	w64 := ir.FromSlice([]float64{0.5, -1, 2}, 1, 1, 3)
	out := runOp(t, "CausalConvWithState", 27, nil, 2, x64, w64)
	assertClose(t, out[0], []int{1, 1, 3}, []float64{2, 3, 4.5}, 1e-12)

	x16 := fromFloat32(ir.FromSlice([]float32{1, 2, 3}, 1, 1, 3), ir.Float16)
	w16 := fromFloat32(ir.FromSlice([]float32{0.5, -1, 2}, 1, 1, 3), ir.Float16)
	out = runOp(t, "CausalConvWithState", 27, ir.Attrs{ir.StringAttr("activation", "silu")}, 2, x16, w16)
	if out[0].DType != ir.Float16 || out[1].DType != ir.Float16 {
		t.Fatalf("dtypes %v %v, want float16", out[0].DType, out[1].DType)
	}
	assertClose(t, out[0], []int{1, 1, 3}, []float64{nxSilu(2), nxSilu(3), nxSilu(4.5)}, 2e-3)
	assertClose(t, out[1], []int{1, 1, 2}, []float64{2, 3}, 0)
}

func TestCausalConvWithStateErrors(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2, 3, 4}, 1, 2, 2)
	w := ir.FromSlice([]float32{1, 2, 3, 4}, 2, 1, 2)
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    []*ir.Tensor
	}{
		{"activation", ir.Attrs{ir.StringAttr("activation", "relu")}, []*ir.Tensor{x, w}},
		{"weight channels", nil, []*ir.Tensor{x, ir.FromSlice([]float32{1, 2}, 1, 1, 2)}},
		{"weight middle", nil, []*ir.Tensor{x, ir.FromSlice([]float32{1, 2, 3, 4}, 2, 2, 1)}},
		{"rank", nil, []*ir.Tensor{ir.FromSlice([]float32{1, 2}, 2), w}},
		{"bias", nil, []*ir.Tensor{x, w, ir.FromSlice([]float32{1}, 1)}},
		{"past", nil, []*ir.Tensor{x, w, nil, ir.FromSlice([]float32{1, 2}, 1, 2, 1, 1)}},
		{"dtype", nil, []*ir.Tensor{x, ir.FromSlice([]float64{1, 2, 3, 4}, 2, 1, 2)}},
		{"int", nil, []*ir.Tensor{ir.FromSlice([]int32{1, 2, 3, 4}, 1, 2, 2), ir.FromSlice([]int32{1, 2, 3, 4}, 2, 1, 2)}},
	}
	for _, c := range cases {
		if _, err := tryOp("CausalConvWithState", 27, c.attrs, 2, c.in...); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
