package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/optim"
)

func TestSchedules(t *testing.T) {
	// Cosine(1, 0.1, 4) at step s: 0.1 + 0.9 (1 + cos(πs/4)) / 2.
	c1 := 0.1 + 0.9*(1+math.Sqrt2/2)/2
	c3 := 0.1 + 0.9*(1-math.Sqrt2/2)/2
	cases := []struct {
		name string
		s    optim.Schedule
		want []float64 // at steps 0, 1, 2, ...
	}{
		{"StepDecay", optim.StepDecay(0.1, 3, 0.5), []float64{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025}},
		{"StepDecay/every=0", optim.StepDecay(1, 0, 0.5), []float64{1, 0.5, 0.25}},
		{"Exponential", optim.Exponential(2, 0.9), []float64{2, 1.8, 1.62, 1.458}},
		{"Cosine", optim.Cosine(1, 0.1, 4), []float64{1, c1, 0.55, c3, 0.1, 0.1, 0.1}},
		// Warmup ramps to next(0) in 3 steps, then next runs from its step 0.
		{"Warmup", optim.Warmup(3, optim.Exponential(0.3, 0.5)), []float64{0.1, 0.2, 0.3, 0.3, 0.15, 0.075}},
		{"Warmup/cosine", optim.Warmup(2, optim.Cosine(1, 0.1, 4)), []float64{0.5, 1, 1, c1, 0.55}},
	}
	for _, c := range cases {
		for step, want := range c.want {
			if got := c.s(step); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s(%d) = %.15g, want %.15g", c.name, step, got, want)
			}
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	// Norm of (3, 4 | 12) is 13; a nil gradient counts as absent.
	cases := []struct {
		name    string
		maxNorm float64
		scale   float64
	}{
		{"clipped", 6.5, 6.5 / (13 + 1e-6)},
		{"at the limit", 13, 1},
		{"below", 20, 1},
	}
	for _, c := range cases {
		grads := []*eager.Tensor{f32([]float64{3, 4}, 2), nil, f64([]float64{12}, 1)}
		norm := optim.ClipGradNorm(grads, c.maxNorm)
		if math.Abs(norm-13) > 1e-12 {
			t.Errorf("%s: norm = %g, want 13", c.name, norm)
		}
		got := append(grads[0].Floats64(), grads[2].Floats64()...)
		for i, g := range []float64{3, 4, 12} {
			if want := g * c.scale; math.Abs(got[i]-want) > 1e-6*want {
				t.Errorf("%s: grad %d = %.9g, want %.9g", c.name, i, got[i], want)
			}
		}
	}
}

// TestStateRoundTrip steps an optimizer twice, copies its state into a new
// one over copies of the parameters, and checks that a third step then
// gives the same parameters on both.
func TestStateRoundTrip(t *testing.T) {
	for _, c := range optCases() {
		ps := newParams()
		a := c.mk(ps)
		for k := 0; k < 2; k++ {
			if err := a.Step(stepGrads(k)); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		qs := []*eager.Tensor{f32(ps[0].Floats64(), 4), f64(ps[1].Floats64(), 2, 3)}
		b := c.mk(qs)
		if err := b.LoadState(a.State()); err != nil {
			t.Fatalf("%s: LoadState: %v", c.name, err)
		}
		for _, o := range []optim.Optimizer{a, b} {
			if err := o.Step(stepGrads(2)); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		want := refRun(c.rule, p64Init, g64, 3)
		for j := range ps {
			x, y := ps[j].Floats64(), qs[j].Floats64()
			for i := range x {
				if x[i] != y[i] {
					t.Errorf("%s: param %d[%d]: %.9g after a restore, %.9g without", c.name, j, i, y[i], x[i])
				}
				if j == 1 && !closeTo(y[i], want[i], 1e-6) {
					t.Errorf("%s: param 1[%d] = %.9g after a restore, want %.9g", c.name, i, y[i], want[i])
				}
			}
		}
		if err := b.LoadState(map[string]*eager.Tensor{}); err == nil || !strings.HasPrefix(err.Error(), "optim:") {
			t.Errorf("%s: LoadState of an empty state: err = %v", c.name, err)
		}
		if st := a.State(); st["step"] == nil || st["step"].Item() != 3 {
			t.Errorf("%s: State()[step] = %v, want 3", c.name, st["step"])
		}
	}
}

func TestStepErrors(t *testing.T) {
	cases := []struct {
		name  string
		grads []*eager.Tensor
		want  string
	}{
		{"too few", []*eager.Tensor{f32(g32[0], 4)}, "1 gradients for 2 parameters"},
		{"too many", append(stepGrads(0), f32(g32[0], 4)), "3 gradients for 2 parameters"},
		{"shape", []*eager.Tensor{f32(g32[0], 2, 2), f64(g64[0], 2, 3)}, "gradient 0 is"},
		{"length", []*eager.Tensor{f32(g32[0][:3], 3), f64(g64[0], 2, 3)}, "gradient 0 is"},
		{"dtype", []*eager.Tensor{f32(g32[0], 4), f32(g64[0], 2, 3)}, "gradient 1 is"},
	}
	for _, oc := range optCases() {
		for _, c := range cases {
			ps := newParams()
			o := oc.mk(ps)
			err := o.Step(c.grads)
			if err == nil || !strings.HasPrefix(err.Error(), "optim: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s/%s: err = %v, want %q", oc.name, c.name, err, c.want)
				continue
			}
			// A rejected step changes nothing.
			for i, v := range ps[1].Floats64() {
				if v != p64Init[i] {
					t.Errorf("%s/%s: parameter moved on a rejected step", oc.name, c.name)
					break
				}
			}
		}
	}
}

func TestLR(t *testing.T) {
	for _, c := range optCases() {
		o := c.mk(newParams())
		o.SetLR(0.25)
		if o.LR() != 0.25 || len(o.Params()) != 2 {
			t.Errorf("%s: LR %g, %d params after SetLR(0.25)", c.name, o.LR(), len(o.Params()))
		}
	}
}

// TestAdamHyperparameterChange: a hyperparameter changed between steps
// takes effect at the next step (Adam prepares its kernel per attributes).
func TestAdamHyperparameterChange(t *testing.T) {
	ps := newParams()
	o := optim.NewAdam(ps, 0.1)
	if err := o.Step(stepGrads(0)); err != nil {
		t.Fatal(err)
	}
	o.Beta1, o.Eps = 0.5, 1e-2
	if err := o.Step(stepGrads(1)); err != nil {
		t.Fatal(err)
	}
	// Reference: step 1 with (0.9, 1e-8), step 2 with (0.5, 1e-2); the
	// bias correction uses the current β1 as PyTorch does.
	for i, v := range ps[1].Floats64() {
		p, s := p64Init[i], []float64{0, 0}
		p = adamRule(0.1, 0.9, 0.999, 1e-8, 0, false)(1, p, g64[0][i], s)
		p = adamRule(0.1, 0.5, 0.999, 1e-2, 0, false)(2, p, g64[1][i], s)
		if !closeTo(v, p, 1e-6) {
			t.Errorf("[%d] = %.9g, want %.9g", i, v, p)
		}
	}
}
