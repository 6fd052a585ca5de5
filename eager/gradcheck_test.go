package eager_test

import (
	"math"
	"math/rand"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// gradCase is one numerical gradient check: op applied to float64 inputs;
// the inputs listed in diff are checked.
type gradCase struct {
	name  string
	op    string
	attrs ir.Attrs
	in    []*ir.Tensor
	diff  []int
	nout  int
}

// randT makes a float64 tensor of uniform values in [lo, hi).
func randT(r *rand.Rand, lo, hi float64, shape ...int) *ir.Tensor {
	t := ir.Zeros(ir.Float64, shape...)
	d := t.Data.([]float64)
	for i := range d {
		d[i] = lo + (hi-lo)*r.Float64()
	}
	return t
}

// lossOf runs the op and reduces its outputs with fixed random weights to a
// scalar: L = Σ_k Σ out_k * w_k.
func lossOf(c gradCase, xs []*eager.Tensor, ws []*eager.Tensor) (*eager.Tensor, []*eager.Tensor) {
	nout := max(c.nout, 1)
	outs := eager.Op(c.op, c.attrs, nout, xs...)
	var loss *eager.Tensor
	for k, o := range outs {
		if o == nil || !o.DType().IsFloat() {
			continue
		}
		if ws[k] == nil {
			r := rand.New(rand.NewSource(int64(99 + k)))
			ws[k] = eager.New(randT(r, -1, 1, o.Shape()...).Data.([]float64), o.Shape()...)
		}
		term := eager.Sum(eager.Mul(o, ws[k]))
		if loss == nil {
			loss = term
		} else {
			loss = eager.Add(loss, term)
		}
	}
	return loss, outs
}

// checkGradient compares the tape's gradient with central differences.
func checkGradient(t *testing.T, c gradCase) {
	t.Helper()
	xs := make([]*eager.Tensor, len(c.in))
	for i, h := range c.in {
		if h != nil {
			x, err := eager.FromHost(nil, h)
			if err != nil {
				t.Fatal(err)
			}
			xs[i] = x
		}
	}
	ws := make([]*eager.Tensor, max(c.nout, 1))
	tape := eager.NewTape()
	loss, _ := lossOf(c, xs, ws)
	srcs := make([]*eager.Tensor, len(c.diff))
	for i, j := range c.diff {
		srcs[i] = xs[j]
	}
	grads := tape.Gradient(loss, srcs...)
	const h = 1e-6
	for gi, j := range c.diff {
		base := c.in[j].Data.([]float64)
		an := grads[gi].Floats64()
		if len(an) != len(base) {
			t.Fatalf("%s: gradient of input %d has %d values, input %d", c.name, j, len(an), len(base))
		}
		for e := range base {
			eval := func(delta float64) float64 {
				p := c.in[j].Clone()
				p.Data.([]float64)[e] += delta
				pxs := append([]*eager.Tensor(nil), xs...)
				pxs[j], _ = eager.FromHost(nil, p)
				var v float64
				eager.NoGrad(func() {
					l, _ := lossOf(c, pxs, ws)
					v = l.Item()
				})
				return v
			}
			num := (eval(h) - eval(-h)) / (2 * h)
			if math.Abs(num-an[e]) > 1e-5+1e-4*math.Abs(num) {
				t.Errorf("%s: d/d input %d [%d]: analytic %.8g, numeric %.8g", c.name, j, e, an[e], num)
				return
			}
		}
	}
}

func f64(vals []float64, shape ...int) *ir.Tensor { return ir.FromSlice(vals, shape...) }
