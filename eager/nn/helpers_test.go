package nn_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// randF64 makes a float64 tensor of uniform values in [-1, 1).
func randF64(seed int64, shape ...int) *eager.Tensor {
	r := rand.New(rand.NewSource(seed))
	t := ir.Zeros(ir.Float64, shape...)
	d := t.Data.([]float64)
	for i := range d {
		d[i] = 2*r.Float64() - 1
	}
	x, err := eager.FromHost(nil, t)
	if err != nil {
		panic(err)
	}
	return x
}

// maxChecked bounds the elements of one tensor checked by differences.
const maxChecked = 24

// checkGrads compares the tape's gradient of L = Σ f() ⊙ w (w fixed and
// random) with respect to each source against central differences, on up
// to maxChecked evenly spread elements per source. Sources are float64
// tensors that f reads by identity (parameters or inputs); they are
// perturbed in place with Assign and restored.
func checkGrads(t *testing.T, name string, f func() *eager.Tensor, srcs []nn.Named) {
	t.Helper()
	var w *eager.Tensor
	loss := func() *eager.Tensor {
		y := f()
		if w == nil {
			w = randF64(77, y.Shape()...)
		}
		return eager.Sum(eager.Mul(y, w))
	}
	ts := make([]*eager.Tensor, len(srcs))
	for i, s := range srcs {
		ts[i] = s.T
	}
	tape := eager.NewTape()
	grads := tape.Gradient(loss(), ts...)
	const h = 1e-6
	for i, s := range srcs {
		an := grads[i].Floats64()
		base := s.T.MustHost().Clone()
		vals := base.Data.([]float64)
		eval := func(e int, delta float64) float64 {
			p := base.Clone()
			p.Data.([]float64)[e] += delta
			pt, err := eager.FromHost(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.T.Assign(pt); err != nil {
				t.Fatal(err)
			}
			var v float64
			eager.NoGrad(func() { v = loss().Item() })
			return v
		}
		stride := max(1, len(vals)/maxChecked)
		for e := 0; e < len(vals); e += stride {
			num := (eval(e, h) - eval(e, -h)) / (2 * h)
			if math.Abs(num-an[e]) > 1e-6+1e-5*math.Abs(num) {
				t.Errorf("%s: d/d %s[%d]: analytic %.10g, numeric %.10g", name, s.Name, e, an[e], num)
				break
			}
		}
		orig, _ := eager.FromHost(nil, base)
		if err := s.T.Assign(orig); err != nil {
			t.Fatal(err)
		}
	}
}

// withInput appends the input x, named "input", to a layer's parameters.
func withInput(layer any, x *eager.Tensor) []nn.Named {
	return append(nn.NamedTensors(layer), nn.Named{Name: "input", T: x})
}

// maxDiff is the largest absolute difference of two equally long tensors.
func maxDiff(t *testing.T, a, b *eager.Tensor) float64 {
	t.Helper()
	av, bv := a.Floats64(), b.Floats64()
	if len(av) != len(bv) {
		t.Fatalf("shapes %v and %v differ", a.Shape(), b.Shape())
	}
	m := 0.0
	for i := range av {
		m = max(m, math.Abs(av[i]-bv[i]))
	}
	return m
}
