// Package losses holds training objectives built from eager ops, so their
// gradients come from the ops' own rules and run on any backend. Each
// returns the mean over the batch (a scalar tensor).
package losses

import (
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// MSE is mean((pred - target)²).
func MSE(pred, target *eager.Tensor) *eager.Tensor {
	d := eager.Sub(pred, target)
	return eager.Mean(eager.Mul(d, d))
}

// L1 is mean(|pred - target|).
func L1(pred, target *eager.Tensor) *eager.Tensor {
	return eager.Mean(eager.Abs(eager.Sub(pred, target)))
}

// Huber is the mean of 0.5 d² where |d| <= delta, delta (|d| - 0.5 delta) elsewhere.
func Huber(pred, target *eager.Tensor, delta float64) *eager.Tensor {
	d := eager.Abs(eager.Sub(pred, target))
	dl := eager.ScalarLike(d, delta)
	quad := eager.Mul(eager.Mul(d, d), eager.ScalarLike(d, 0.5))
	lin := eager.Mul(dl, eager.Sub(d, eager.ScalarLike(d, 0.5*delta)))
	return eager.Mean(eager.Where(eager.LessOrEqual(d, dl), quad, lin))
}

// CEOptions tune SoftmaxCrossEntropy.
type CEOptions struct {
	// LabelSmoothing ε mixes the one-hot target with the uniform
	// distribution: q_c = (1-ε)[c = y] + ε/C.
	LabelSmoothing float64
	// Weights, when set, is a [C] tensor of class weights w; as in PyTorch,
	// each row then costs -Σ_c w_c q_c log p_c and the mean divides by
	// Σ_n w[y_n] instead of N.
	Weights *eager.Tensor
}

// SoftmaxCrossEntropy is the cross-entropy of logits [N, C] against integer
// labels [N] (int64 or int32), from logits without a softmax; it matches
// torch.nn.functional.cross_entropy with weight= and label_smoothing=.
func SoftmaxCrossEntropy(logits, labels *eager.Tensor, opt ...CEOptions) *eager.Tensor {
	var o CEOptions
	if len(opt) > 0 {
		o = opt[0]
	}
	logp := eager.LogSoftmax(logits, 1)
	y := eager.Cast(labels, ir.Int64)
	idx := eager.Unsqueeze(y, 1)
	nll := eager.Neg(eager.Reshape(eager.Op("GatherElements", ir.Attrs{ir.IntAttr("axis", 1)}, 1, logp, idx)[0], -1))
	var wy *eager.Tensor // w[y_n]
	if o.Weights != nil {
		wy = eager.Gather(o.Weights, y, 0)
		nll = eager.Mul(nll, wy)
	}
	if eps := o.LabelSmoothing; eps > 0 {
		// The uniform part: -Σ_c w_c log p_c / C (w_c = 1 without weights).
		lp := logp
		if o.Weights != nil {
			lp = eager.Mul(logp, o.Weights)
		}
		smooth := eager.Neg(eager.ReduceMean(lp, []int64{1}, false))
		nll = eager.Add(eager.Mul(nll, eager.ScalarLike(nll, 1-eps)), eager.Mul(smooth, eager.ScalarLike(nll, eps)))
	}
	if wy == nil {
		return eager.Mean(nll)
	}
	return eager.Div(eager.Sum(nll), eager.Sum(wy))
}

// NLL is the negative log-likelihood of log-probabilities [N, C] at labels [N].
func NLL(logp, labels *eager.Tensor) *eager.Tensor {
	idx := eager.Unsqueeze(eager.Cast(labels, ir.Int64), 1)
	return eager.Neg(eager.Mean(eager.Op("GatherElements", ir.Attrs{ir.IntAttr("axis", 1)}, 1, logp, idx)[0]))
}

// BCEWithLogits is binary cross-entropy of logits against targets in [0,1],
// computed stably: max(x,0) - x t + log(1 + exp(-|x|)).
func BCEWithLogits(logits, targets *eager.Tensor) *eager.Tensor {
	x := logits
	zero := eager.ScalarLike(x, 0)
	l := eager.Add(eager.Sub(eager.Max(x, zero), eager.Mul(x, targets)),
		eager.Log(eager.Add(eager.ScalarLike(x, 1), eager.Exp(eager.Neg(eager.Abs(x))))))
	return eager.Mean(l)
}

// Accuracy is the fraction of rows of logits [N, C] whose argmax equals labels [N].
func Accuracy(logits, labels *eager.Tensor) float64 {
	var acc float64
	eager.NoGrad(func() {
		pred := eager.ArgMax(logits, 1, false)
		eq := eager.Cast(eager.Equal(pred, eager.Cast(labels, ir.Int64)), ir.Float32)
		acc = eager.Mean(eq).Item()
	})
	return acc
}
