package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestEwClipNaN pins Clip's NaN handling on the float32 fast path and the
// generic one alike: a NaN input stays NaN, a NaN bound makes every output
// NaN (min and max propagate it), and a long input (run in parallel
// chunks) matches the float64 kernel.
func TestEwClipNaN(t *testing.T) {
	nan := float32(math.NaN())
	x := ir.FromSlice(f32s(-3, nan, 0.5, 7), 4)
	out := runOp(t, "Clip", 13, nil, 1, x, ir.Scalar(float32(0)), ir.Scalar(float32(6)))[0]
	got := out.Data.([]float32)
	if got[0] != 0 || got[1] == got[1] || got[2] != 0.5 || got[3] != 6 {
		t.Fatalf("Clip(x, 0, 6) = %v, want [0 NaN 0.5 6]", got)
	}
	out = runOp(t, "Clip", 13, nil, 1, x, ir.Scalar(nan), ir.Scalar(float32(6)))[0]
	for i, v := range out.Data.([]float32) {
		if v == v {
			t.Fatalf("Clip(x, NaN, 6)[%d] = %g, want NaN", i, v)
		}
	}
	out = runOp(t, "Clip", 6, ir.Attrs{ir.FloatAttr("max", 1)}, 1, x)[0]
	got = out.Data.([]float32)
	if got[0] != -3 || got[1] == got[1] || got[2] != 0.5 || got[3] != 1 {
		t.Fatalf("Clip-6(x, max 1) = %v, want [-3 NaN 0.5 1]", got)
	}
	const n = 100003
	xs, xd := make([]float32, n), make([]float64, n)
	for i := range xs {
		xs[i] = float32(i%23) - 9.5
		xd[i] = float64(xs[i])
	}
	o32 := runOp(t, "Clip", 13, nil, 1, ir.FromSlice(xs, n), ir.Scalar(float32(-2)), ir.Scalar(float32(6)))[0].Data.([]float32)
	o64 := runOp(t, "Clip", 13, nil, 1, ir.FromSlice(xd, n), ir.Scalar(-2.0), ir.Scalar(6.0))[0].Data.([]float64)
	for i := range o32 {
		if float64(o32[i]) != o64[i] {
			t.Fatalf("Clip float32 [%d] = %g, float64 gives %g", i, o32[i], o64[i])
		}
	}
}
