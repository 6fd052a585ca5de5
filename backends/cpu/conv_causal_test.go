package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestCausalConvWithState(t *testing.T) {
	x := ir.FromSlice([]float32{1, 2, 3}, 1, 1, 3)
	w := ir.FromSlice([]float32{1, 10}, 1, 1, 2)
	out := runOp(t, "CausalConvWithState", 27, nil, 2, x, w)
	assertClose(t, out[0], []int{1, 1, 3}, []float64{10, 21, 32}, 0)
	assertClose(t, out[1], []int{1, 1, 1}, []float64{3}, 0)
	out = runOp(t, "CausalConvWithState", 27, nil, 2, x, w, ir.FromSlice([]float32{-1}, 1), ir.FromSlice([]float32{5}, 1, 1, 1))
	assertClose(t, out[0], []int{1, 1, 3}, []float64{14, 20, 31}, 0)
	// Input shorter than k-1: the state keeps part of the past.
	w4 := ir.FromSlice([]float32{0, 0, 0, 1}, 1, 1, 4)
	out = runOp(t, "CausalConvWithState", 27, nil, 2, ir.FromSlice([]float32{7}, 1, 1, 1), w4, nil, ir.FromSlice([]float32{4, 5, 6}, 1, 1, 3))
	assertClose(t, out[0], []int{1, 1, 1}, []float64{7}, 0)
	assertClose(t, out[1], []int{1, 1, 3}, []float64{5, 6, 7}, 0)
	silu := ir.Attrs{ir.StringAttr("activation", "silu")}
	out = runOp(t, "CausalConvWithState", 27, silu, 2, ir.FromSlice([]float32{2}, 1, 1, 1), ir.FromSlice([]float32{1}, 1, 1, 1))
	assertClose(t, out[0], []int{1, 1, 1}, []float64{2 / (1 + math.Exp(-2))}, 1e-6)
	if _, err := tryOp("CausalConvWithState", 27, nil, 2, x, ir.Zeros(ir.Float32, 2, 1, 2)); err == nil {
		t.Fatal("channel mismatch: no error")
	}
}
