package optim_test

import (
	"math"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/optim"
)

// Two parameters, a float32 [4] and a float64 [2, 3], and the gradients of
// three steps for each. Some gradients are small (1e-3) so that where
// epsilon enters the update shows.
var (
	p32Init = []float64{0.5, -1.2, 2.0, 0.03}
	p64Init = []float64{1.5, -0.25, 0.8, -2.0, 0.01, 0.6}
	g32     = [][]float64{
		{0.2, -0.05, 0.001, -1.5},
		{0.1, 0.02, -0.003, -1.0},
		{-0.3, -0.04, 0.002, 0.5},
	}
	g64 = [][]float64{
		{0.4, -0.002, 1.2, 0.05, -0.7, 0.001},
		{-0.1, 0.004, 0.9, -0.02, -0.5, 0.002},
		{0.25, -0.001, -0.6, 0.03, 0.2, -0.003},
	}
)

// rule is one optimizer's update of one element, written from the
// pseudo-code of PyTorch's torch.optim documentation: t is the 1-based
// step, s the element's state (zero at first).
type rule func(t int, p, g float64, s []float64) float64

// sgdRule is torch.optim.SGD (dampening 0):
//
//	g += λθ; b = g at t=1 else μb + g; g = g + μb (Nesterov) or b; θ -= γg
func sgdRule(lr, mu, wd float64, nesterov bool) rule {
	return func(t int, p, g float64, s []float64) float64 {
		g += wd * p
		if mu != 0 {
			if t == 1 {
				s[0] = g
			} else {
				s[0] = mu*s[0] + g
			}
			if nesterov {
				g += mu * s[0]
			} else {
				g = s[0]
			}
		}
		return p - lr*g
	}
}

// adamRule is torch.optim.Adam (L2 weight decay) or, decoupled,
// torch.optim.AdamW (θ -= γλθ before the update):
//
//	m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²
//	θ -= γ m̂ / (√v̂ + ε), m̂ = m / (1-β1^t), v̂ = v / (1-β2^t)
func adamRule(lr, b1, b2, eps, wd float64, decoupled bool) rule {
	return func(t int, p, g float64, s []float64) float64 {
		if decoupled {
			p -= lr * wd * p
		} else {
			g += wd * p
		}
		s[0] = b1*s[0] + (1-b1)*g
		s[1] = b2*s[1] + (1-b2)*g*g
		mh := s[0] / (1 - math.Pow(b1, float64(t)))
		vh := s[1] / (1 - math.Pow(b2, float64(t)))
		return p - lr*mh/(math.Sqrt(vh)+eps)
	}
}

// adagradRule is torch.optim.Adagrad (no weight decay, initial sum 0):
//
//	γ̃ = γ / (1 + (t-1)η); s += g²; θ -= γ̃ g / (√s + ε)
func adagradRule(lr, decay, eps float64) rule {
	return func(t int, p, g float64, s []float64) float64 {
		clr := lr / (1 + float64(t-1)*decay)
		s[0] += g * g
		return p - clr*g/(math.Sqrt(s[0])+eps)
	}
}

// rmspropRule is torch.optim.RMSprop (not centered, no momentum):
//
//	v = αv + (1-α) g²; θ -= γ g / (√v + ε)
func rmspropRule(lr, alpha, eps float64) rule {
	return func(t int, p, g float64, s []float64) float64 {
		s[0] = alpha*s[0] + (1-alpha)*g*g
		return p - lr*g/(math.Sqrt(s[0])+eps)
	}
}

type optCase struct {
	name string
	mk   func(ps []*eager.Tensor) optim.Optimizer
	rule rule
}

func optCases() []optCase {
	sgd := func(lr, mu, wd float64, nesterov bool) func(ps []*eager.Tensor) optim.Optimizer {
		return func(ps []*eager.Tensor) optim.Optimizer {
			o := optim.NewSGD(ps, lr, mu)
			o.WeightDecay, o.Nesterov = wd, nesterov
			return o
		}
	}
	adam := func(lr, b1, b2, eps, wd float64) func(ps []*eager.Tensor) optim.Optimizer {
		return func(ps []*eager.Tensor) optim.Optimizer {
			o := optim.NewAdam(ps, lr)
			o.Beta1, o.Beta2, o.Eps, o.WeightDecay = b1, b2, eps, wd
			return o
		}
	}
	adamw := func(lr, b1, b2, eps, wd float64) func(ps []*eager.Tensor) optim.Optimizer {
		return func(ps []*eager.Tensor) optim.Optimizer {
			o := optim.NewAdamW(ps, lr, wd)
			o.Beta1, o.Beta2, o.Eps = b1, b2, eps
			return o
		}
	}
	adagrad := func(lr, decay float64) func(ps []*eager.Tensor) optim.Optimizer {
		return func(ps []*eager.Tensor) optim.Optimizer {
			o := optim.NewAdagrad(ps, lr)
			o.Decay = decay
			return o
		}
	}
	rmsprop := func(lr, alpha, eps float64) func(ps []*eager.Tensor) optim.Optimizer {
		return func(ps []*eager.Tensor) optim.Optimizer {
			o := optim.NewRMSprop(ps, lr)
			o.Alpha, o.Eps = alpha, eps
			return o
		}
	}
	return []optCase{
		{"SGD", sgd(0.1, 0, 0, false), sgdRule(0.1, 0, 0, false)},
		{"SGD/weight-decay", sgd(0.1, 0, 0.05, false), sgdRule(0.1, 0, 0.05, false)},
		{"SGD/momentum", sgd(0.1, 0.9, 0, false), sgdRule(0.1, 0.9, 0, false)},
		{"SGD/momentum+decay", sgd(0.05, 0.8, 0.1, false), sgdRule(0.05, 0.8, 0.1, false)},
		{"SGD/nesterov", sgd(0.1, 0.9, 0, true), sgdRule(0.1, 0.9, 0, true)},
		{"SGD/nesterov+decay", sgd(0.05, 0.75, 0.02, true), sgdRule(0.05, 0.75, 0.02, true)},
		{"Adam/defaults", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdam(ps, 0.01) },
			adamRule(0.01, 0.9, 0.999, 1e-8, 0, false)},
		// A large epsilon shows where it is added (√v̂ + ε, not √v + ε).
		{"Adam/eps", adam(0.1, 0.9, 0.999, 1e-3, 0), adamRule(0.1, 0.9, 0.999, 1e-3, 0, false)},
		{"Adam/betas", adam(0.05, 0.5, 0.75, 1e-2, 0), adamRule(0.05, 0.5, 0.75, 1e-2, 0, false)},
		{"Adam/L2", adam(0.1, 0.9, 0.999, 1e-8, 0.1), adamRule(0.1, 0.9, 0.999, 1e-8, 0.1, false)},
		{"AdamW/defaults", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdamW(ps, 0.001, 0.01) },
			adamRule(0.001, 0.9, 0.999, 1e-8, 0.01, true)},
		{"AdamW", adamw(0.1, 0.9, 0.99, 1e-3, 0.5), adamRule(0.1, 0.9, 0.99, 1e-3, 0.5, true)},
		{"Adagrad", adagrad(0.1, 0), adagradRule(0.1, 0, 1e-10)},
		{"Adagrad/decay", adagrad(0.1, 0.5), adagradRule(0.1, 0.5, 1e-10)},
		{"RMSprop/defaults", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewRMSprop(ps, 0.01) },
			rmspropRule(0.01, 0.99, 1e-8)},
		{"RMSprop", rmsprop(0.05, 0.9, 1e-3), rmspropRule(0.05, 0.9, 1e-3)},
	}
}

func f32(v []float64, shape ...int) *eager.Tensor {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return eager.New(out, shape...)
}

func f64(v []float64, shape ...int) *eager.Tensor {
	return eager.New(append([]float64(nil), v...), shape...)
}

// newParams makes the float32 and the float64 parameter.
func newParams() []*eager.Tensor { return []*eager.Tensor{f32(p32Init, 4), f64(p64Init, 2, 3)} }

// stepGrads are the gradients of step k (0-based).
func stepGrads(k int) []*eager.Tensor { return []*eager.Tensor{f32(g32[k], 4), f64(g64[k], 2, 3)} }

// refRun applies rule for steps steps to one parameter in float64.
func refRun(r rule, init []float64, grads [][]float64, steps int) []float64 {
	p := append([]float64(nil), init...)
	st := make([][]float64, len(p))
	for i := range st {
		st[i] = make([]float64, 2)
	}
	for k := 0; k < steps; k++ {
		for i := range p {
			p[i] = r(k+1, p[i], grads[k][i], st[i])
		}
	}
	return p
}

// closeTo reports whether got is within rtol of want (relative to
// max(|want|, 0.1): the parameters are of order 0.01 to 2).
func closeTo(got, want, rtol float64) bool {
	return math.Abs(got-want) <= rtol*math.Max(math.Abs(want), 0.1)
}

// TestOptimizerSteps runs each optimizer for one and three steps and
// compares both parameters with PyTorch's update rules in float64.
func TestOptimizerSteps(t *testing.T) {
	for _, c := range optCases() {
		for _, steps := range []int{1, 3} {
			ps := newParams()
			o := c.mk(ps)
			for k := 0; k < steps; k++ {
				if err := o.Step(stepGrads(k)); err != nil {
					t.Fatalf("%s: step %d: %v", c.name, k+1, err)
				}
			}
			want := [][]float64{refRun(c.rule, p32Init, g32, steps), refRun(c.rule, p64Init, g64, steps)}
			for j, p := range ps {
				got := p.Floats64()
				for i := range got {
					if !closeTo(got[i], want[j][i], 1e-6) {
						t.Errorf("%s: %d steps: param %d (%v)[%d] = %.9g, want %.9g (update %.6g, want %.6g)",
							c.name, steps, j, p.DType(), i, got[i], want[j][i], got[i]-initOf(j)[i], want[j][i]-initOf(j)[i])
					}
				}
			}
		}
	}
}

func initOf(j int) []float64 {
	if j == 0 {
		return p32Init
	}
	return p64Init
}

// TestNilGradientSkipped: a nil gradient leaves its parameter and state
// alone while the others move.
func TestNilGradientSkipped(t *testing.T) {
	for _, c := range optCases() {
		ps := newParams()
		o := c.mk(ps)
		for k := 0; k < 3; k++ {
			g := stepGrads(k)
			g[0] = nil
			if err := o.Step(g); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		for i, v := range ps[0].Floats64() {
			if v != float64(float32(p32Init[i])) {
				t.Errorf("%s: parameter with nil gradient moved: [%d] = %g, was %g", c.name, i, v, p32Init[i])
			}
		}
		want := refRun(c.rule, p64Init, g64, 3)
		for i, v := range ps[1].Floats64() {
			if !closeTo(v, want[i], 1e-6) {
				t.Errorf("%s: other parameter [%d] = %.9g, want %.9g", c.name, i, v, want[i])
			}
		}
	}
}
