package eager

import (
	"math"

	"github.com/keenml/keen/ir"
)

// Gradient rules of the opset-27 sequence ops CausalConvWithState and
// LinearAttention. Both recompute the forward pass from differentiable eager
// ops (Concat, Conv, Slice, MatMul, Exp, ...) under a nested tape and return
// that composition's vector-Jacobian product, so the rules run on any backend
// and can be differentiated again. past_state is tagged non-differentiable
// and gets no gradient; the gradient flowing into present_state (a function
// of the differentiable inputs too) is honoured.

func init() {
	RegisterGradient("", "CausalConvWithState", gradCausalConvWithState)
	RegisterGradient("", "LinearAttention", gradLinearAttention)
}

// nxVJP recomputes the op's outputs with forward from stand-ins of the
// inputs listed in diff and returns Σ_k ⟨dOut_k, ∂out_k/∂in_i⟩ for each of
// them (nil for the others). The stand-ins are Identity copies, so an input
// tensor fed to several slots gets each slot's share once.
func nxVJP(g *GradContext, diff []int, forward func(in []*Tensor) []*Tensor) []*Tensor {
	tape := NewTape()
	in := append([]*Tensor(nil), g.In...)
	var srcs []*Tensor
	var slots []int
	for _, i := range diff {
		if i < len(in) && in[i] != nil {
			in[i] = Identity(in[i])
			srcs = append(srcs, in[i])
			slots = append(slots, i)
		}
	}
	outs := forward(in)
	var target *Tensor
	for k, o := range outs {
		if o == nil || k >= len(g.DOut) || g.DOut[k] == nil {
			continue
		}
		d := g.DOut[k]
		if o.DType() != d.DType() {
			o = Cast(o, d.DType())
		}
		term := Sum(Mul(o, d))
		if target == nil {
			target = term
		} else {
			target = Add(target, term)
		}
	}
	res := make([]*Tensor, len(g.In))
	if target == nil {
		tape.Stop()
		return res
	}
	grads := tape.Gradient(target, srcs...)
	for j, i := range slots {
		res[i] = grads[j]
	}
	return res
}

// y = act(conv_depthwise(concat(past, x), w) + b), state = last k-1 of
// concat(past, x): dx, dw, db are the VJP of that composition (Conv, Sigmoid,
// Concat and Slice rules); past_state gets none.
func gradCausalConvWithState(g *GradContext) []*Tensor {
	act := g.Attrs().Str("activation", "none")
	return nxVJP(g, []int{0, 1, 2}, func(in []*Tensor) []*Tensor {
		y, state := nxCausalConvForward(in[0], in[1], nxIn(in, 2), nxIn(in, 3), act)
		return []*Tensor{y, state}
	})
}

// nxIn returns in[i], or nil when absent.
func nxIn(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// nxCausalConvForward is CausalConvWithState composed of Concat, Conv
// (group = channels), Sigmoid/Mul and Slice. state is nil when k = 1.
// x (B,C,L), w (C,1,k), b (C), past (B,C,k-1)
func nxCausalConvForward(x, w, b, past *Tensor, act string) (y, state *Tensor) {
	bs, c, l, k := x.Dim(0), x.Dim(1), x.Dim(2), w.Dim(2)
	padded := x
	if k > 1 {
		if past == nil {
			past = Full(x, x.DType(), 0, bs, c, k-1)
		} else if past.DType() != x.DType() {
			past = Cast(past, x.DType())
		}
		padded = Concat(2, past, x)
	}
	in := []*Tensor{padded, w}
	if b != nil {
		in = append(in, b)
	}
	y = op1("Conv", ir.Attrs{ir.IntAttr("group", int64(c))}, in...)
	if act == "silu" || act == "swish" {
		y = Mul(y, Sigmoid(y))
	}
	if k > 1 {
		state = Slice(padded, []int{l}, []int{l + k - 1}, []int{2})
	}
	return y, state
}

// The LinearAttention recurrence, per token t on (d_k, d_v) state blocks:
// S ← exp(g_t)·S (gated), u = β_t(v_t − Sᵀk_t) (delta) or v_t, S ← S + k_t u,
// o_t = scale·q_tᵀS. dq, dk, dv, d decay, d beta are the VJP of that unrolled
// composition (MatMul, Mul, Exp, Sub, Slice, Reshape, Transpose, Concat).
func gradLinearAttention(g *GradContext) []*Tensor {
	a := g.Attrs()
	return nxVJP(g, []int{0, 1, 2, 4, 5}, func(in []*Tensor) []*Tensor {
		o, s := nxLinForward(a, in[0], in[1], in[2], nxIn(in, 3), nxIn(in, 4), nxIn(in, 5))
		return []*Tensor{o, s}
	})
}

// nxLinForward unrolls LinearAttention over the tokens with eager ops.
// q (B,T,Hq·dk), k (B,T,Hkv·dk), v (B,T,Hkv·dv), past (B,Hkv,dk,dv),
// decay (B,T,Hkv·dk or Hkv), beta (B,T,Hkv or 1).
func nxLinForward(a ir.Attrs, q, k, v, past, decay, beta *Tensor) (out, state *Tensor) {
	hq, hkv := int(a.Int("q_num_heads", 0)), int(a.Int("kv_num_heads", 0))
	rule := a.Str("update_rule", "gated_delta")
	gated := rule == "gated" || rule == "gated_delta"
	delta := rule == "delta" || rule == "gated_delta"
	bs, tn := q.Dim(0), q.Dim(1)
	dk, dv, grp := q.Dim(2)/hq, v.Dim(2)/hkv, hq/hkv
	scale := float64(a.Float("scale", 0))
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(dk))
	}
	// query head h reads kv head h / grp: (B,Hkv,grp,T,dk)
	q5 := Reshape(Transpose(Reshape(q, bs, tn, hq, dk), 0, 2, 1, 3), bs, hkv, grp, tn, dk)
	k4 := Transpose(Reshape(k, bs, tn, hkv, dk), 0, 2, 1, 3)
	v4 := Transpose(Reshape(v, bs, tn, hkv, dv), 0, 2, 1, 3)
	var dec, bet *Tensor
	dw, bw := 1, 1
	if gated {
		if decay.Dim(2) == hkv*dk {
			dw = dk
		}
		dec = Transpose(Reshape(decay, bs, tn, hkv, dw), 0, 2, 1, 3) // (B,Hkv,T,dw)
	}
	if delta {
		bw = beta.Dim(2)
		bet = Transpose(beta, 0, 2, 1) // (B,bw,T)
	}
	state = past
	if state == nil {
		state = Full(q, q.DType(), 0, bs, hkv, dk, dv)
	} else if state.DType() != q.DType() {
		state = Cast(state, q.DType())
	}
	sc := ScalarLike(q, scale)
	outs := make([]*Tensor, tn)
	for t := range tn {
		at := func(x *Tensor, axis int) *Tensor { return Slice(x, []int{t}, []int{t + 1}, []int{axis}) }
		kt := at(k4, 2) // (B,Hkv,1,dk)
		u := at(v4, 2)  // (B,Hkv,1,dv)
		if gated {
			state = Mul(state, Exp(Reshape(at(dec, 2), bs, hkv, dw, 1)))
		}
		if delta {
			r := MatMul(kt, state)
			u = Mul(Reshape(at(bet, 2), bs, bw, 1, 1), Sub(u, r))
		}
		state = Add(state, MatMul(Reshape(kt, bs, hkv, dk, 1), u))
		qt := Reshape(at(q5, 3), bs, hkv, grp, dk)
		outs[t] = Reshape(Mul(MatMul(qt, state), sc), bs, hkv, grp, 1, dv)
	}
	out = Reshape(Concat(3, outs...), bs, hq, tn, dv)
	out = Reshape(Transpose(out, 0, 2, 1, 3), bs, tn, hq*dv)
	return out, state
}
