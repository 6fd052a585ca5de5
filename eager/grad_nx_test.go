package eager_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// CausalConvWithState: y = act(Σ_j w[c,j]·pad[t+j] + b[c]) with pad =
// concat(past, x); state = last k-1 of pad. Both outputs enter the loss.
func TestGradCausalConvWithState(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	silu := ir.Attrs{ir.StringAttr("activation", "silu")}
	op := "CausalConvWithState"
	cases := []gradCase{
		{name: "plain", op: op, in: []*ir.Tensor{any(2, 3, 5), any(3, 1, 3)}, diff: []int{0, 1}, nout: 2},
		{name: "bias past", op: op, in: []*ir.Tensor{any(2, 3, 4), any(3, 1, 3), any(3), any(2, 3, 2)}, diff: []int{0, 1, 2}, nout: 2},
		{name: "silu bias past", op: op, attrs: silu, in: []*ir.Tensor{any(1, 2, 4), any(2, 1, 2), any(2), any(1, 2, 1)}, diff: []int{0, 1, 2}, nout: 2},
		{name: "short input", op: op, attrs: ir.Attrs{ir.StringAttr("activation", "swish")}, in: []*ir.Tensor{any(2, 2, 1), any(2, 1, 4)}, diff: []int{0, 1}, nout: 2},
		{name: "k1 output only", op: op, in: []*ir.Tensor{any(2, 2, 3), any(2, 1, 1), any(2)}, diff: []int{0, 1, 2}, nout: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// LinearAttention: o_t = scale·q_tᵀS_t with S_t = exp(g_t)S_{t-1} +
// k_t ⊗ β_t(v_t − exp(g_t)S_{t-1}ᵀk_t) (terms per update_rule); gradients
// of q, k, v, decay and beta through both outputs.
func TestGradLinearAttention(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(lo, hi float64, shape ...int) *ir.Tensor { return randT(r, lo, hi, shape...) }
	attrs := func(rule string, hq, hkv int64) ir.Attrs {
		return ir.Attrs{ir.StringAttr("update_rule", rule), ir.IntAttr("q_num_heads", hq), ir.IntAttr("kv_num_heads", hkv)}
	}
	// B=2, T=3, d_k=2, d_v=3
	q := func(h int) *ir.Tensor { return any(-1, 1, 2, 3, h*2) }
	k := func(h int) *ir.Tensor { return any(-1, 1, 2, 3, h*2) }
	v := func(h int) *ir.Tensor { return any(-1, 1, 2, 3, h*3) }
	past := func(h int) *ir.Tensor { return any(-0.5, 0.5, 2, h, 2, 3) }
	decay := func(w int) *ir.Tensor { return any(-0.5, 0, 2, 3, w) }
	beta := func(w int) *ir.Tensor { return any(0.1, 0.9, 2, 3, w) }
	op := "LinearAttention"
	cases := []gradCase{
		{name: "linear", op: op, attrs: attrs("linear", 2, 2), in: []*ir.Tensor{q(2), k(2), v(2)}, diff: []int{0, 1, 2}, nout: 2},
		{name: "linear explicit scale past", op: op,
			attrs: append(attrs("linear", 2, 2), ir.FloatAttr("scale", 0.7)),
			in:    []*ir.Tensor{q(2), k(2), v(2), past(2)}, diff: []int{0, 1, 2}, nout: 2},
		{name: "gated per key GQA", op: op, attrs: attrs("gated", 4, 2), in: []*ir.Tensor{q(4), k(2), v(2), past(2), decay(4)}, diff: []int{0, 1, 2, 4}, nout: 2},
		{name: "gated per head", op: op, attrs: attrs("gated", 2, 2), in: []*ir.Tensor{q(2), k(2), v(2), nil, decay(2)}, diff: []int{0, 1, 2, 4}, nout: 2},
		{name: "delta beta scalar", op: op, attrs: attrs("delta", 2, 2), in: []*ir.Tensor{q(2), k(2), v(2), nil, nil, beta(1)}, diff: []int{0, 1, 2, 5}, nout: 2},
		{name: "gated delta MQA", op: op, attrs: attrs("gated_delta", 2, 1), in: []*ir.Tensor{q(2), k(1), v(1), past(1), decay(2), beta(1)}, diff: []int{0, 1, 2, 4, 5}, nout: 2},
		{name: "gated delta per head output only", op: op, attrs: attrs("gated_delta", 2, 2), in: []*ir.Tensor{q(2), k(2), v(2), past(2), decay(2), beta(2)}, diff: []int{0, 1, 2, 4, 5}, nout: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}

// One tensor fed as both query and key must get the sum of both slots'
// gradients, once.
func TestGradLinearAttentionSharedInput(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	xh, vh := randT(r, -1, 1, 1, 2, 4), randT(r, -1, 1, 1, 2, 4)
	attrs := ir.Attrs{ir.StringAttr("update_rule", "linear"), ir.IntAttr("q_num_heads", 2), ir.IntAttr("kv_num_heads", 2)}
	grad := func(same bool) []float64 {
		x, _ := eager.FromHost(nil, xh)
		x2, _ := eager.FromHost(nil, xh.Clone())
		v, _ := eager.FromHost(nil, vh)
		tape := eager.NewTape()
		key := x2
		if same {
			key = x
		}
		o := eager.Op("LinearAttention", attrs, 2, x, key, v)
		g := tape.Gradient(eager.Sum(eager.Mul(o[0], o[0])), x, x2)
		if same {
			return g[0].Floats64()
		}
		sum := eager.Add(g[0], g[1])
		return sum.Floats64()
	}
	shared, split := grad(true), grad(false)
	for i := range shared {
		if math.Abs(shared[i]-split[i]) > 1e-9*(1+math.Abs(split[i])) {
			t.Fatalf("gradient %d: shared input %v, separate inputs summed %v", i, shared[i], split[i])
		}
	}
}

// The rules are differentiable again: d/dq ⟨∂L/∂q, c⟩ for L = Σ o²·w with a
// gated-delta LinearAttention (c fixed random), against central differences
// of ⟨∂L/∂q, c⟩. (CausalConvWithState's second order waits for a
// ConvTranspose rule.)
func TestGradLinearAttentionSecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	qh, kh, vh := randT(r, -1, 1, 1, 2, 4), randT(r, -1, 1, 1, 2, 2), randT(r, -1, 1, 1, 2, 2)
	dh, bh := randT(r, -0.5, 0, 1, 2, 2), randT(r, 0.1, 0.9, 1, 2, 1)
	w := upload(t, []*ir.Tensor{randT(r, -1, 1, 1, 2, 4)})[0]
	attrs := ir.Attrs{ir.IntAttr("q_num_heads", 2), ir.IntAttr("kv_num_heads", 1)}
	loss := func(xs []*eager.Tensor) *eager.Tensor {
		o := eager.Op("LinearAttention", attrs, 2, xs...)[0]
		return eager.Sum(eager.Mul(eager.Mul(o, o), w))
	}
	checkSecondOrder(t, "LinearAttention d/dq", []*ir.Tensor{qh, kh, vh, nil, dh, bh}, []int{0}, 0, loss)
}
