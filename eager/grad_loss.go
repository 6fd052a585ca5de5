package eager

import "github.com/keenml/keen/ir"

// Gradient rules of the loss ops. Shapes: input/scores (N, C, d1..dk),
// target/labels (N, d1..dk) of class indices, weight (C). With t = target,
// w_i = weight[t_i] (1 without weights; 0 where t_i = ignore_index),
//
//	loss_i = -w_i logp[n, t_i, d]
//
// and reduction none (the loss_i), sum, or mean (Σ loss_i / Σ w_i). Targets
// and weights are not differentiable (the spec tags them so).

func init() {
	RegisterGradient("", "NegativeLogLikelihoodLoss", gradNLL)
	RegisterGradient("", "SoftmaxCrossEntropyLoss", gradSoftmaxCE)
}

// NegativeLogLikelihoodLoss: dInput[n, c, d] = -[c = t_i] w_i s_i, where s_i
// is dY_i (none), dY (sum) or dY / Σ w (mean).
func gradNLL(g *GradContext) []*Tensor {
	return []*Tensor{nllBack(g), nil, nil}
}

// SoftmaxCrossEntropyLoss: with logp = log_softmax(scores) over axis 1 and G
// the gradient reaching logp (the NLL term above plus that of the log_prob
// output, when it has one), dScores = G - softmax(scores) Σ_c G.
func gradSoftmaxCE(g *GradContext) []*Tensor {
	gl := nllBack(g)
	if len(g.DOut) > 1 && g.DOut[1] != nil {
		gl = Add(gl, g.DOut[1])
	}
	logp := LogSoftmax(g.In[0], 1)
	ds := Sub(gl, Mul(Exp(logp), ReduceSum(gl, []int64{1}, true)))
	return []*Tensor{ds, nil, nil}
}

// nllBack returns ∂L/∂logp of the NLL part of a loss op (see gradNLL).
func nllBack(g *GradContext) *Tensor {
	x, target, dy := g.In[0], g.In[1], g.D(0)
	var weight *Tensor
	if len(g.In) > 2 {
		weight = g.In[2]
	}
	at := g.Attrs()
	// classes (1, C, 1, ..., 1): the one-hot mask of the targets along axis 1
	cshape := channelShape(x)
	cshape = append([]int{1}, cshape...)
	ids := make([]int64, x.Dim(1))
	for i := range ids {
		ids[i] = int64(i)
	}
	classes := Reshape(Int64s(x, ids...), cshape...)
	t := Cast(target, ir.Int64)
	hot := Cast(Equal(Unsqueeze(t, 1), classes), x.DType())
	if at.Has("ignore_index") {
		kept := Not(Equal(t, Int64s(t, at.Int("ignore_index", 0))))
		hot = Mul(hot, Unsqueeze(Cast(kept, x.DType()), 1))
	}
	if weight != nil {
		hot = Mul(hot, Reshape(weight, cshape...))
	}
	var s *Tensor
	switch at.Str("reduction", "mean") {
	case "none":
		s = Unsqueeze(dy, 1)
	case "sum":
		s = dy
	default:
		s = Div(dy, Sum(hot))
	}
	return Neg(Mul(hot, s))
}
