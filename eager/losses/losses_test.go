package losses_test

import (
	"math"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
)

// The references below follow PyTorch's documented definitions in float64:
// torch.nn.MSELoss, L1Loss, HuberLoss, CrossEntropyLoss (class-index
// targets, weight=, label_smoothing=), NLLLoss and BCEWithLogitsLoss, all
// with reduction='mean'.

func refMSE(p, t []float64) float64 {
	var s float64
	for i := range p {
		s += (p[i] - t[i]) * (p[i] - t[i])
	}
	return s / float64(len(p))
}

func refL1(p, t []float64) float64 {
	var s float64
	for i := range p {
		s += math.Abs(p[i] - t[i])
	}
	return s / float64(len(p))
}

// refHuber: 0.5 d² if |d| < delta, else delta (|d| - 0.5 delta).
func refHuber(p, t []float64, delta float64) float64 {
	var s float64
	for i := range p {
		d := math.Abs(p[i] - t[i])
		if d < delta {
			s += 0.5 * d * d
		} else {
			s += delta * (d - 0.5*delta)
		}
	}
	return s / float64(len(p))
}

// refLogSoftmax of row-major logits [n, c].
func refLogSoftmax(x []float64, c int) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/c; r++ {
		row := x[r*c : (r+1)*c]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for j, v := range row {
			out[r*c+j] = v - m - math.Log(s)
		}
	}
	return out
}

// refCE is PyTorch's cross_entropy with class-index targets: the target
// distribution is q_nc = (1-ε)[c = y_n] + ε/C, each sample's loss is
// l_n = -Σ_c w_c q_nc log p_nc, and the mean divides by Σ_n w_{y_n}
// (by N when w is nil).
func refCE(x []float64, c int, labels []int64, eps float64, w []float64) float64 {
	logp := refLogSoftmax(x, c)
	wc := func(j int) float64 {
		if w == nil {
			return 1
		}
		return w[j]
	}
	var num, den float64
	for n, y := range labels {
		for j := 0; j < c; j++ {
			q := eps / float64(c)
			if int64(j) == y {
				q += 1 - eps
			}
			num -= wc(j) * q * logp[n*c+j]
		}
		den += wc(int(y))
	}
	return num / den
}

func refNLL(logp []float64, c int, labels []int64) float64 {
	var s float64
	for n, y := range labels {
		s -= logp[n*c+int(y)]
	}
	return s / float64(len(labels))
}

// refBCE: -[t log σ(x) + (1-t) log(1-σ(x))], written with log1p so that
// it stays exact for large |x|.
func refBCE(x, t []float64) float64 {
	var s float64
	for i := range x {
		// log σ(x) = -log(1+e^-x); log(1-σ(x)) = -x - log(1+e^-x).
		sp := math.Max(-x[i], 0) + math.Log1p(math.Exp(-math.Abs(x[i])))
		s += t[i]*sp + (1-t[i])*(x[i]+sp)
	}
	return s / float64(len(x))
}

var (
	predV   = []float64{0.5, -1.25, 2.0, 0.1, -3.0, 1.5}
	targetV = []float64{0.0, 0.5, 2.75, -0.4, -1.0, 1.4}
	logitsV = []float64{ // [4, 3]
		1.0, 2.0, 0.5,
		-0.3, 0.8, 0.1,
		2.5, -1.0, 0.0,
		0.2, 0.2, 1.7,
	}
	labelsV  = []int64{1, 0, 0, 2}
	weightsV = []float64{0.5, 2.0, 1.25}
	bceX     = []float64{0.3, -1.2, 2.0, -0.7, 100, -100}
	bceT     = []float64{1, 0, 0.25, 1, 0, 1}
)

func f64(v []float64, shape ...int) *eager.Tensor {
	return eager.New(append([]float64(nil), v...), shape...)
}

func f32(v []float64, shape ...int) *eager.Tensor {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return eager.New(out, shape...)
}

// lossCase is a loss of one differentiable input x (the prediction or the
// logits) with everything else fixed; mk builds x's tensor.
type lossCase struct {
	name string
	x    []float64
	// shape of x
	shape []int
	loss  func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor
	want  float64
}

func lossCases() []lossCase {
	labels := func() *eager.Tensor { return eager.New(append([]int64(nil), labelsV...), 4) }
	// ce builds the options in x's dtype.
	ce := func(eps float64, weighted bool) func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
		return func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			o := losses.CEOptions{LabelSmoothing: eps}
			if weighted {
				o.Weights = mk(weightsV, 3)
			}
			return losses.SoftmaxCrossEntropy(x, labels(), o)
		}
	}
	huber := func(delta float64) func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
		return func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			return losses.Huber(x, mk(targetV, 6), delta)
		}
	}
	return []lossCase{
		{"MSE", predV, []int{2, 3}, func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			return losses.MSE(x, mk(targetV, 2, 3))
		}, refMSE(predV, targetV)},
		{"L1", predV, []int{6}, func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			return losses.L1(x, mk(targetV, 6))
		}, refL1(predV, targetV)},
		// |d| = 0.5 1.75 0.75 0.5 2 0.1: delta 1 takes both branches,
		// delta 5 only the quadratic one, delta 0.05 only the linear one.
		{"Huber/delta=1", predV, []int{6}, huber(1), refHuber(predV, targetV, 1)},
		{"Huber/quadratic", predV, []int{6}, huber(5), refMSE(predV, targetV) / 2},
		{"Huber/linear", predV, []int{6}, huber(0.05), 0.05 * (refL1(predV, targetV) - 0.025)},
		{"CE", logitsV, []int{4, 3}, ce(0, false), refCE(logitsV, 3, labelsV, 0, nil)},
		{"CE/smoothing", logitsV, []int{4, 3}, ce(0.2, false), refCE(logitsV, 3, labelsV, 0.2, nil)},
		{"CE/weights", logitsV, []int{4, 3}, ce(0, true), refCE(logitsV, 3, labelsV, 0, weightsV)},
		{"CE/weights+smoothing", logitsV, []int{4, 3}, ce(0.3, true), refCE(logitsV, 3, labelsV, 0.3, weightsV)},
		{"NLL", refLogSoftmax(logitsV, 3), []int{4, 3}, func(x *eager.Tensor, _ func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			return losses.NLL(x, labels())
		}, refNLL(refLogSoftmax(logitsV, 3), 3, labelsV)},
		{"BCEWithLogits", bceX, []int{2, 3}, func(x *eager.Tensor, mk func([]float64, ...int) *eager.Tensor) *eager.Tensor {
			return losses.BCEWithLogits(x, mk(bceT, 2, 3))
		}, refBCE(bceX, bceT)},
	}
}

func TestLossValues(t *testing.T) {
	for _, c := range lossCases() {
		for _, dt := range []struct {
			name string
			mk   func([]float64, ...int) *eager.Tensor
			tol  float64
		}{{"f64", f64, 1e-12}, {"f32", f32, 2e-6}} {
			got := c.loss(dt.mk(c.x, c.shape...), dt.mk).Item()
			if math.IsNaN(got) || math.IsInf(got, 0) || math.Abs(got-c.want) > dt.tol*math.Max(1, math.Abs(c.want)) {
				t.Errorf("%s/%s = %.10g, want %.10g", c.name, dt.name, got, c.want)
			}
		}
	}
}

// TestLossByHand pins a few values worked out on paper, so that the
// references above are checked too.
func TestLossByHand(t *testing.T) {
	ln := math.Log
	// logits [ln 3, 0] -> p = [3/4, 1/4]; label 0.
	x := f64([]float64{ln(3), 0}, 1, 2)
	y := eager.New([]int64{0}, 1)
	w := f64([]float64{2, 6}, 2)
	cases := []struct {
		name      string
		got, want float64
	}{
		{"MSE", losses.MSE(f64([]float64{1, 2, 3}), f64([]float64{0, 0, 0})).Item(), 14.0 / 3},
		{"L1", losses.L1(f64([]float64{1, -2, 3}), f64([]float64{0, 0, 0})).Item(), 2},
		// d = 0.5 (0.125) and 3 (1·(3-0.5) = 2.5).
		{"Huber", losses.Huber(f64([]float64{0.5, 3}), f64([]float64{0, 0}), 1).Item(), (0.125 + 2.5) / 2},
		// d = delta exactly: both branches give 0.5.
		{"Huber/edge", losses.Huber(f64([]float64{1}), f64([]float64{0}), 1).Item(), 0.5},
		{"CE", losses.SoftmaxCrossEntropy(x, y).Item(), ln(4.0 / 3)},
		// q = [0.9, 0.1]: 0.9 ln(4/3) + 0.1 ln 4.
		{"CE/smoothing", losses.SoftmaxCrossEntropy(x, y, losses.CEOptions{LabelSmoothing: 0.2}).Item(), 0.9*ln(4.0/3) + 0.1*ln(4)},
		// (2·0.9 ln(4/3) + 6·0.1 ln 4) / w[y]=2.
		{"CE/weights+smoothing", losses.SoftmaxCrossEntropy(x, y, losses.CEOptions{LabelSmoothing: 0.2, Weights: w}).Item(),
			(2*0.9*ln(4.0/3) + 6*0.1*ln(4)) / 2},
		{"NLL", losses.NLL(f64([]float64{ln(0.25), ln(0.75), ln(0.5), ln(0.5)}, 2, 2), eager.New([]int64{1, 0}, 2)).Item(),
			-(ln(0.75) + ln(0.5)) / 2},
		// x = 0: ln 2 whatever the target; x = ±100 against the wrong
		// target costs 100.
		{"BCE", losses.BCEWithLogits(f32([]float64{0, 100, -100}), f32([]float64{0.3, 0, 1})).Item(), (ln(2) + 200) / 3},
		{"BCE/right", losses.BCEWithLogits(f32([]float64{100, -100}), f32([]float64{1, 0})).Item(), 0},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > 1e-6*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s = %.10g, want %.10g", c.name, c.got, c.want)
		}
	}
}

func TestAccuracy(t *testing.T) {
	logits := f32([]float64{1, 2, 3, 0, 0, 5, 1, 1}, 4, 2)
	// Argmax rows: 1, 0, 1, 0 (a tie takes the first).
	cases := []struct {
		name   string
		labels *eager.Tensor
		want   float64
	}{
		{"int64", eager.New([]int64{1, 0, 0, 0}, 4), 0.75},
		{"int32", eager.New([]int32{1, 0, 1, 0}, 4), 1},
		{"none", eager.New([]int64{0, 1, 0, 1}, 4), 0},
	}
	for _, c := range cases {
		if got := losses.Accuracy(logits, c.labels); got != c.want {
			t.Errorf("%s: Accuracy = %g, want %g", c.name, got, c.want)
		}
	}
}

// TestLossGradients compares the tape's gradient of each loss with central
// differences of the loss, in float64.
func TestLossGradients(t *testing.T) {
	const h = 1e-6
	for _, c := range lossCases() {
		x := f64(c.x, c.shape...)
		tape := eager.NewTape()
		l := c.loss(x, f64)
		got := tape.Gradient(l, x)[0].Floats64()
		for i := range c.x {
			var lp, lm float64
			eager.NoGrad(func() {
				xs := append([]float64(nil), c.x...)
				xs[i] += h
				lp = c.loss(f64(xs, c.shape...), f64).Item()
				xs[i] -= 2 * h
				lm = c.loss(f64(xs, c.shape...), f64).Item()
			})
			want := (lp - lm) / (2 * h)
			if math.IsNaN(got[i]) || math.Abs(got[i]-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: dL/dx[%d] = %.9g, central difference %.9g", c.name, i, got[i], want)
			}
		}
	}
}

// TestBCEGradientLargeLogits checks the gradient σ(x) - t at x = ±100 in
// float32, where a naive form overflows.
func TestBCEGradientLargeLogits(t *testing.T) {
	x := f32([]float64{100, -100, 100, -100}, 4)
	tgt := f32([]float64{0, 1, 1, 0}, 4)
	tape := eager.NewTape()
	g := tape.Gradient(losses.BCEWithLogits(x, tgt), x)[0].Floats()
	want := []float32{0.25, -0.25, 0, 0}
	for i := range want {
		if math.Abs(float64(g[i]-want[i])) > 1e-7 {
			t.Errorf("dL/dx[%d] = %g, want %g", i, g[i], want[i])
		}
	}
}
