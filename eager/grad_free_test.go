package eager_test

import (
	"math"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// TestGradFreeKeepsLiveGradients: backprop releases gradients it has
// finished with; what it hands back must survive that. A graph with a
// value used twice (x + x, the Add rule passing one gradient to both
// inputs), a pass-through (Relu over positive values) and intermediates
// asked for as sources: every returned gradient is live and exact.
// (A persistent tape stays active, so its backward pass counts as
// recorded and releases nothing.)
func TestGradFreeKeepsLiveGradients(t *testing.T) {
	xs := []float32{0.5, 1, 1.5, 2, 2.5, 3}
	x := upload(t, []*ir.Tensor{ir.FromSlice(xs, 2, 3)})[0]
	for pass := range 2 {
		tape := eager.NewTape()
		h := eager.Add(x, x)                           // 2x
		r := eager.Relu(eager.Mul(h, h))               // 4x², positive
		loss := eager.Sum(eager.Mul(r, eager.Relu(h))) // 8x³
		gs := tape.Gradient(loss, x, h, r)
		for i, g := range gs {
			if g == nil || g.Released() {
				t.Fatalf("pass %d: gradient %d released or missing", pass, i)
			}
		}
		for i, v := range xs {
			x := float64(v)
			want := []float64{24 * x * x, 12 * x * x, 2 * x} // loss = h³, h = 2x; d/dr = relu(h)
			for k, g := range gs {
				if got := g.Floats64()[i]; math.Abs(got-want[k]) > 1e-4*math.Abs(want[k]) {
					t.Fatalf("pass %d: gradient %d [%d] = %g, want %g", pass, k, i, got, want[k])
				}
			}
		}
	}
}
