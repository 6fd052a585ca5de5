package eager_test

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// The numerical gradient checker of the eager tests. checkFn is the one
// primitive: it compares the tape's gradient of L = Σ_k Σ out_k·w_k (fixed
// random weights) with float64 central differences. gradCase, checkGradient,
// checkSecondOrder and checkFloat32 are built on it.

// gradCase is one numerical gradient check: domain/op at an opset version
// applied to float64 inputs; the inputs listed in diff are checked.
type gradCase struct {
	name    string
	domain  string // "": the default domain
	op      string
	version int // opset version; 0: the newest
	attrs   ir.Attrs
	in      []*ir.Tensor
	diff    []int
	nout    int
	// outs lists the outputs that enter the loss (nil: every float output),
	// so outputs that carry no gradient by design (running statistics) can
	// be left out.
	outs []int
}

// run returns c's op as a function of its inputs.
func (c gradCase) run(t *testing.T) func([]*eager.Tensor) []*eager.Tensor {
	return func(xs []*eager.Tensor) []*eager.Tensor {
		outs, err := eager.CallDomain(c.domain, c.op, c.version, c.attrs, max(c.nout, 1), xs...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		return outs
	}
}

// checkGradient compares the tape's gradient of c with central differences.
func checkGradient(t *testing.T, c gradCase, opts ...checkOpt) {
	t.Helper()
	checkFn(t, c.name, c.in, c.diff, c.run(t), append([]checkOpt{outputs(c.outs...)}, opts...)...)
}

// checkGradientSecondOrder checks that c's rule can be differentiated again:
// with g = ∂L/∂x_j taken under an outer tape, the outer tape's gradient of
// Σ v·g (fixed random v) against central differences.
func checkGradientSecondOrder(t *testing.T, c gradCase, j int) {
	t.Helper()
	checkSecondOrder(t, c.name+" second order", c.in, []int{j}, j, weightedLoss(c.run(t), c.outs), tolerance(1e-5, 1e-4, 1e-3))
}

// checkGradientFloat32 checks that c's rules run in float32 too (constants
// take the input's dtype) and agree with the float64 gradients.
func checkGradientFloat32(t *testing.T, c gradCase) {
	t.Helper()
	checkFloat32(t, c.name, c.in, c.diff, c.run(t), c.outs)
}

// checkConf holds checkFn's options.
type checkConf struct {
	outs       []int   // outputs that enter the loss; nil: every float output
	most       int     // check at most this many evenly spread elements of each input; 0: all
	h          float64 // central-difference step
	atol, rtol float64 // |numeric − analytic| ≤ atol + rtol·|numeric|
	nonzero    bool    // some numeric derivative must be nonzero
	nested     bool    // f takes gradients itself: evaluate it with recording on
}

type checkOpt func(*checkConf)

// outputs lets only outputs k enter the loss (all float outputs when none).
func outputs(k ...int) checkOpt { return func(c *checkConf) { c.outs = k } }

// sampled checks at most most evenly spread elements of each input.
func sampled(most int) checkOpt { return func(c *checkConf) { c.most = most } }

// tolerance sets the step h and the tolerance atol + rtol·|numeric|.
func tolerance(h, atol, rtol float64) checkOpt {
	return func(c *checkConf) { c.h, c.atol, c.rtol = h, atol, rtol }
}

// nonzero asks that some numeric derivative be nonzero.
func nonzero() checkOpt { return func(c *checkConf) { c.nonzero = true } }

// checkFn compares the tape's gradient of L = Σ_k Σ f(xs)_k·w_k (fixed
// random w_k per float output, see weightedLoss) with float64 central
// differences, for the inputs listed in diff (float64 host tensors).
func checkFn(t *testing.T, name string, in []*ir.Tensor, diff []int, f func([]*eager.Tensor) []*eager.Tensor, opts ...checkOpt) {
	t.Helper()
	conf := checkConf{h: 1e-6, atol: 1e-5, rtol: 1e-4}
	for _, o := range opts {
		o(&conf)
	}
	loss := weightedLoss(f, conf.outs)
	xs := upload(t, in)
	tape := eager.NewTape()
	grads := tape.Gradient(loss(xs), pick(xs, diff)...)
	eval := func(j, e int, delta float64) float64 {
		p := in[j].Clone()
		p.Data.([]float64)[e] += delta
		pxs := slices.Clone(xs)
		pxs[j] = upload(t, []*ir.Tensor{p})[0]
		var v float64
		if conf.nested {
			v = loss(pxs).Item()
		} else {
			eager.NoGrad(func() { v = loss(pxs).Item() })
		}
		return v
	}
	seen := false
	for gi, j := range diff {
		base := in[j].Data.([]float64)
		an := grads[gi].Floats64()
		if len(an) != len(base) {
			t.Fatalf("%s: gradient of input %d has %d values, input %d", name, j, len(an), len(base))
		}
		step := 1
		if conf.most > 0 && len(base) > conf.most {
			step = (len(base) + conf.most - 1) / conf.most
		}
		for e := 0; e < len(base); e += step {
			num := (eval(j, e, conf.h) - eval(j, e, -conf.h)) / (2 * conf.h)
			seen = seen || num != 0
			if math.Abs(num-an[e]) > conf.atol+conf.rtol*math.Abs(num) {
				t.Errorf("%s: d/d input %d [%d]: analytic %.8g, numeric %.8g", name, j, e, an[e], num)
				return
			}
		}
	}
	if conf.nonzero && !seen {
		t.Errorf("%s: every numeric derivative is zero", name)
	}
}

// checkSecondOrder checks that a gradient can be differentiated again: g =
// ∂loss/∂x_j, taken on a tape of its own under checkFn's tape, is checked
// with checkFn for the inputs in diff.
func checkSecondOrder(t *testing.T, name string, in []*ir.Tensor, diff []int, j int, loss func([]*eager.Tensor) *eager.Tensor, opts ...checkOpt) {
	t.Helper()
	g := func(xs []*eager.Tensor) []*eager.Tensor {
		return eager.NewTape().Gradient(loss(xs), xs[j])
	}
	checkFn(t, name, in, diff, g, append(opts, func(c *checkConf) { c.nested = true })...)
}

// checkFloat32 checks that the gradients of weightedLoss(f, outs) with the
// float inputs in float32 have dtype float32 and agree with those in
// float64 to float32 precision.
func checkFloat32(t *testing.T, name string, in []*ir.Tensor, diff []int, f func([]*eager.Tensor) []*eager.Tensor, outs []int) {
	t.Helper()
	grads := func(dt ir.DType) [][]float64 {
		xs := upload(t, in)
		for i, x := range xs {
			if x != nil && x.DType() == ir.Float64 {
				xs[i] = eager.Cast(x, dt)
			}
		}
		tape := eager.NewTape()
		gs := tape.Gradient(weightedLoss(f, outs)(xs), pick(xs, diff)...)
		out := make([][]float64, len(gs))
		for i, g := range gs {
			if g.DType() != dt {
				t.Fatalf("%s: gradient of input %d has dtype %v, want %v", name, diff[i], g.DType(), dt)
			}
			out[i] = g.Floats64()
		}
		return out
	}
	g64, g32 := grads(ir.Float64), grads(ir.Float32)
	for i := range g64 {
		for e, want := range g64[i] {
			if got := g32[i][e]; math.Abs(got-want) > 1e-4+1e-4*math.Abs(want) {
				t.Errorf("%s: input %d [%d]: float32 %.7g, float64 %.7g", name, diff[i], e, got, want)
				return
			}
		}
	}
}

// weightedLoss returns xs ↦ L = Σ_k Σ f(xs)_k·w_k over the float outputs
// listed in outs (all when nil). The weights are uniform in [-1, 1), seeded
// by k and cast to the output's dtype, made on first use and then fixed.
// Infinite output elements count as zero.
func weightedLoss(f func([]*eager.Tensor) []*eager.Tensor, outs []int) func([]*eager.Tensor) *eager.Tensor {
	ws := map[int]*eager.Tensor{}
	return func(xs []*eager.Tensor) *eager.Tensor {
		ys := f(xs)
		sel := outs
		if sel == nil {
			for k := range ys {
				sel = append(sel, k)
			}
		}
		var loss *eager.Tensor
		for _, k := range sel {
			o := ys[k]
			if o == nil || !o.DType().IsFloat() {
				continue
			}
			if ws[k] == nil {
				r := rand.New(rand.NewSource(int64(99 + k)))
				ws[k] = eager.New(randT(r, -1, 1, o.Shape()...).Data.([]float64), o.Shape()...)
				if o.DType() != ir.Float64 {
					ws[k] = eager.Cast(ws[k], o.DType())
				}
			}
			finite := eager.Where(eager.Op("IsInf", nil, 1, o)[0], eager.ZerosLike(o), o)
			term := eager.Sum(eager.Mul(finite, ws[k]))
			if loss == nil {
				loss = term
			} else {
				loss = eager.Add(loss, term)
			}
		}
		return loss
	}
}

// upload puts host tensors on the default device (nil stays nil).
func upload(t *testing.T, in []*ir.Tensor) []*eager.Tensor {
	t.Helper()
	xs := make([]*eager.Tensor, len(in))
	for i, h := range in {
		if h != nil {
			x, err := eager.FromHost(nil, h)
			if err != nil {
				t.Fatal(err)
			}
			xs[i] = x
		}
	}
	return xs
}

// pick returns xs[i] for i in idx.
func pick(xs []*eager.Tensor, idx []int) []*eager.Tensor {
	out := make([]*eager.Tensor, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
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

func f64(vals []float64, shape ...int) *ir.Tensor { return ir.FromSlice(vals, shape...) }

func f32s(v ...float32) *ir.Tensor { return ir.FromSlice(v, len(v)) }

func i64(v ...int64) *ir.Tensor { return ir.FromSlice(v, len(v)) }
