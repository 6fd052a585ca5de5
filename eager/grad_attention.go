package eager

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Gradient rules of the attention family: Attention (opset 23+),
// ai.onnx.preview FlexAttention and RotaryEmbedding by recomputation (see
// recomputeVJP); SwiGLU by its closed form.

func init() {
	// Q, K, V, a float attn_mask, past_key and past_value get gradients
	// (a boolean mask and nonpad_kv_seqlen are not float and get none).
	registerRecompute("", "Attention", attentionForward, 0, 1, 2, 3, 4, 5)
	registerRecompute("ai.onnx.preview", "FlexAttention", flexAttentionForward, 0, 1, 2)
	// X and the cos/sin caches (position_ids is an index).
	registerRecompute("", "RotaryEmbedding", rotaryForward, 0, 1, 2)
	RegisterGradient("", "SwiGLU", gradSwiGLU)
}

// headsFirst turns (batch, seq, heads·size) into (batch, heads, seq, size).
func headsFirst(x *Tensor, heads int) *Tensor {
	b, s := x.Dim(0), x.Dim(1)
	return Transpose(Reshape(x, b, s, heads, x.Dim(2)/heads), 0, 2, 1, 3)
}

// repeatHeads repeats each kv head reps times, (b, kvh, s, d) to
// (b, kvh·reps, s, d): query head h reads kv head h/reps.
func repeatHeads(x *Tensor, reps int) *Tensor {
	if reps == 1 {
		return x
	}
	b, h, s, d := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	return Reshape(Expand(Unsqueeze(x, 2), b, h, reps, s, d), b, h*reps, s, d)
}

// attentionForward recomputes Attention: Y, present_key, present_value and
// qk_matmul_output, as many as the node declares.
//
//	S = Q·Kᵀ·scale (K, V with past prepended and kv heads repeated)
//	S = softcap·tanh(S/softcap)               (softcap > 0)
//	S = S + mask bias, -∞ where not attended  (attn_mask, causal, window, nonpad)
//	P = softmax(S) (zeros on a fully masked row), Y = P·V
func attentionForward(spec *backends.OpSpec, in []*Tensor) []*Tensor {
	at := spec.Attrs
	q, k, v := in[0], in[1], in[2]
	pastK, pastV := optIn(in, 4), optIn(in, 5)
	threeD := q.Rank() == 3
	if threeD {
		qh, kvh := int(at.Int("q_num_heads", 0)), int(at.Int("kv_num_heads", 0))
		if qh <= 0 || kvh <= 0 {
			panic(&OpError{Err: fmt.Errorf("Attention gradient: 3-D inputs need q_num_heads and kv_num_heads")})
		}
		q, k, v = headsFirst(q, qh), headsFirst(k, kvh), headsFirst(v, kvh)
	}
	B, qh, sq, hd := q.Dim(0), q.Dim(1), q.Dim(2), q.Dim(3)
	past := 0
	if pastK != nil {
		past = pastK.Dim(2)
		k, v = Concat(2, pastK, k), Concat(2, pastV, v)
	}
	outs := []*Tensor{nil, k, v}
	reps := qh / k.Dim(1)
	scale := float64(at.Float("scale", 0))
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(hd))
	}
	s := Mul(MatMul(q, swapLast(repeatHeads(k, reps))), ScalarLike(q, scale))
	var qk [4]*Tensor
	qk[0] = s
	if c := float64(at.Float("softcap", 0)); c > 0 {
		s = Mul(ScalarLike(s, c), Tanh(Div(s, ScalarLike(s, c))))
	}
	qk[1] = s
	mk := attnMask{at: at, b: B, sq: sq, past: past, total: k.Dim(2), hasPast: pastK != nil}
	allowed, bias := mk.build(s, optIn(in, 3), optIn(in, 6))
	if bias != nil {
		s = Add(s, bias)
	}
	var p *Tensor
	if allowed == nil {
		qk[2] = s
		p = Softmax(s, -1)
	} else {
		qk[2] = Where(allowed, s, ScalarLike(s, math.Inf(-1)))
		p = maskedSoftmax(s, allowed)
	}
	qk[3] = p
	y := MatMul(p, Cast(repeatHeads(v, reps), p.DType()))
	if threeD {
		y = Reshape(Transpose(y, 0, 2, 1, 3), B, sq, -1)
	}
	outs[0] = y
	outs = append(outs, qk[at.Int("qk_matmul_output_mode", 0)&3])
	return outs[:max(spec.NumOutputs, 1)]
}

// maskedSoftmax is softmax(s) over the last axis where allowed, zero where
// not and on rows with nothing allowed. Masked scores are replaced by the
// dtype's lowest finite value rather than -∞, so no NaN reaches a gradient.
func maskedSoftmax(s, allowed *Tensor) *Tensor {
	low := -math.MaxFloat64
	switch s.DType() {
	case ir.Float32, ir.BFloat16:
		low = -math.MaxFloat32
	case ir.Float16:
		low = -65504
	}
	p := Softmax(Where(allowed, s, ScalarLike(s, low)), -1)
	any := ReduceMax(Cast(allowed, s.DType()), []int64{-1}, true)
	return Mul(p, any)
}

// attnMask builds Attention's mask as a boolean "attended" tensor and an
// additive bias, both broadcasting to (batch, heads, q_seq, total_seq).
type attnMask struct {
	at                 ir.Attrs
	b, sq, past, total int
	hasPast            bool
	allowed, bias      *Tensor
}

func (m *attnMask) and(a *Tensor) {
	if m.allowed == nil {
		m.allowed = a
	} else {
		m.allowed = And(m.allowed, a)
	}
}

// build composes attn_mask (bool: attended; float: bias, -∞ not attended;
// its last axis padded with "not attended" up to total_seq) with the causal
// frontier, the sliding window and the nonpad_kv_seqlen padding. A query i
// sits at position offset + i, offset being past_seq, else nonpad - q_seq
// per batch, else 0.
func (m *attnMask) build(s, mask, nonpad *Tensor) (allowed, bias *Tensor) {
	if mask != nil {
		m.userMask(s, mask)
	}
	causal := m.at.Int("is_causal", 0) != 0
	left, right := int(m.at.Int("left_window_size", -1)), int(m.at.Int("right_window_size", -1))
	if !causal && left < 0 && right < 0 && nonpad == nil {
		return m.allowed, m.bias
	}
	j := Reshape(iota64(s, 0, m.total), 1, 1, 1, m.total)
	pos := Reshape(iota64(s, 0, m.sq), 1, 1, m.sq, 1)
	var lens *Tensor
	if nonpad != nil {
		lens = Reshape(Cast(nonpad, ir.Int64), m.b, 1, 1, 1)
	}
	switch {
	case m.hasPast:
		pos = Add(pos, Int64s(s, int64(m.past)))
	case lens != nil:
		pos = Add(pos, Sub(lens, Int64s(s, int64(m.sq))))
	}
	if causal {
		m.and(LessOrEqual(j, pos))
	}
	if left >= 0 {
		m.and(GreaterOrEqual(j, Sub(pos, Int64s(s, int64(left)))))
	}
	if right >= 0 {
		m.and(LessOrEqual(j, Add(pos, Int64s(s, int64(right)))))
	}
	if lens != nil {
		m.and(Less(j, lens))
	}
	return m.allowed, m.bias
}

// userMask reads attn_mask into allowed and bias.
func (m *attnMask) userMask(s, mask *Tensor) {
	r := mask.Rank()
	padShape := append([]int(nil), mask.Shape()...)
	padShape[r-1] = m.total - mask.Dim(-1)
	pad := func(x *Tensor, v float64) *Tensor {
		if padShape[r-1] <= 0 {
			return x
		}
		return Concat(r-1, x, Full(x, x.DType(), v, padShape...))
	}
	if mask.DType() == ir.Bool {
		m.and(pad(mask, 0))
		return
	}
	mask = Cast(mask, s.DType())
	negInf := Equal(mask, ScalarLike(mask, math.Inf(-1)))
	m.and(pad(Not(negInf), 0))
	m.bias = pad(Where(negInf, ZerosLike(mask), mask), 0)
}

// iota64 is the int64 range [lo, hi) on like's backend.
func iota64(like *Tensor, lo, hi int) *Tensor {
	v := make([]int64, hi-lo)
	for i := range v {
		v[i] = int64(lo + i)
	}
	return Int64s(like, v...)
}

// flexAttentionForward recomputes FlexAttention (rank-4 Q, K, V):
// S = score_mod(Q·Kᵀ·scale), P = prob_mod(softmax(S)) (a row of -∞ scores
// gives zeros), Y = P·V. The modifier subgraphs run op by op as eager ops
// in softmax_precision, as the kernel runs them.
func flexAttentionForward(spec *backends.OpSpec, in []*Tensor) []*Tensor {
	at := spec.Attrs
	q, k, v := in[0], in[1], in[2]
	dt := q.DType()
	prec := ir.Float32
	if dt == ir.Float64 {
		prec = ir.Float64
	}
	if a := at.Find("softmax_precision"); a != nil {
		prec = ir.DType(a.Int)
	}
	reps := q.Dim(1) / k.Dim(1)
	scale := float64(at.Float("scale", 0))
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(q.Dim(3)))
	}
	s := Mul(MatMul(q, swapLast(repeatHeads(k, reps))), ScalarLike(q, scale))
	s = applyMod(at.GraphAttr("score_mod"), "score_mod", s, prec)
	allowed := Not(Equal(s, ScalarLike(s, math.Inf(-1))))
	p := applyMod(at.GraphAttr("prob_mod"), "prob_mod", roundTo(maskedSoftmax(s, allowed), prec), prec)
	return []*Tensor{MatMul(p, repeatHeads(v, reps))}
}

// roundTo rounds x to the precision of dt (a no-op when x is no wider).
func roundTo(x *Tensor, dt ir.DType) *Tensor {
	if x.DType() == dt {
		return x
	}
	return Cast(Cast(x, dt), x.DType())
}

// applyMod runs a FlexAttention modifier graph on x held in precision
// prec, node by node with eager ops (nil graph: only the rounding).
func applyMod(g *ir.Graph, name string, x *Tensor, prec ir.DType) *Tensor {
	if g == nil {
		return roundTo(x, prec)
	}
	fail := func(err error) { panic(&OpError{Err: fmt.Errorf("FlexAttention gradient: %s: %w", name, err)}) }
	vals := map[string]*Tensor{}
	for _, init := range g.Initializers {
		t, err := FromHost(x.dev, init)
		if err != nil {
			fail(err)
		}
		vals[init.Name] = t
	}
	inputs := g.RealInputs()
	if len(inputs) != 1 || len(g.Outputs) != 1 {
		fail(fmt.Errorf("want one input and one output, got %d and %d", len(inputs), len(g.Outputs)))
	}
	vals[inputs[0].Name] = Cast(x, prec)
	for _, n := range g.Nodes {
		outs := n.Outputs
		for len(outs) > 0 && outs[len(outs)-1] == "" {
			outs = outs[:len(outs)-1]
		}
		ins := make([]*Tensor, len(n.Inputs))
		for i, nm := range n.Inputs {
			if nm == "" {
				continue
			}
			if ins[i] = vals[nm]; ins[i] == nil {
				fail(fmt.Errorf("node %s reads unknown value %q", n.OpType, nm))
			}
		}
		res, err := CallDomain(n.Domain, n.OpType, 0, n.Attrs, len(outs), ins...)
		if err != nil {
			fail(err)
		}
		for i, nm := range outs {
			if nm != "" && i < len(res) {
				vals[nm] = res[i]
			}
		}
	}
	y := vals[g.Outputs[0].Name]
	if y == nil {
		fail(fmt.Errorf("graph does not produce %q", g.Outputs[0].Name))
	}
	return Cast(y, x.DType())
}

// rotaryForward recomputes RotaryEmbedding: within each head the first
// rotary_embedding_dim values form pairs (x1, x2) — the two halves, or
// neighbours when interleaved — rotated by the cached angle:
// (x1·cos - x2·sin, x1·sin + x2·cos); the rest pass through.
func rotaryForward(spec *backends.OpSpec, in []*Tensor) []*Tensor {
	at := spec.Attrs
	x, cos, sin, pos := in[0], in[1], in[2], optIn(in, 3)
	shape := x.Shape()
	b, s, heads := x.Dim(0), 0, int(at.Int("num_heads", 0))
	if x.Rank() == 4 {
		s = x.Dim(2)
		x = Transpose(x, 0, 2, 1, 3) // (b, s, h, d)
	} else {
		s = x.Dim(1)
		x = Reshape(x, b, s, heads, -1)
	}
	d := x.Dim(3)
	rdim := int(at.Int("rotary_embedding_dim", 0))
	if rdim == 0 {
		rdim = d
	}
	half := rdim / 2
	if pos != nil {
		cos, sin = Gather(cos, pos, 0), Gather(sin, pos, 0) // (b, s, half)
	}
	cos, sin = Reshape(cos, b, s, 1, half), Reshape(sin, b, s, 1, half)
	rot, rest := x, (*Tensor)(nil)
	if rdim < d {
		parts := Op("Split", ir.Attrs{ir.IntAttr("axis", 3)}, 2, x, Int64s(x, int64(rdim), int64(d-rdim)))
		rot, rest = parts[0], parts[1]
	}
	interleaved := at.Int("interleaved", 0) != 0
	var x1, x2 *Tensor
	if interleaved {
		pairs := splitN(Reshape(rot, b, s, -1, half, 2), 4, 2)
		x1, x2 = Squeeze(pairs[0], 4), Squeeze(pairs[1], 4)
	} else {
		halves := splitN(rot, 3, 2)
		x1, x2 = halves[0], halves[1]
	}
	y1 := Sub(Mul(x1, cos), Mul(x2, sin))
	y2 := Add(Mul(x1, sin), Mul(x2, cos))
	var y *Tensor
	if interleaved {
		y = Reshape(Concat(4, Unsqueeze(y1, 4), Unsqueeze(y2, 4)), b, s, -1, rdim)
	} else {
		y = Concat(3, y1, y2)
	}
	if rest != nil {
		y = Concat(3, y, rest)
	}
	if len(shape) == 4 {
		return []*Tensor{Transpose(y, 0, 2, 1, 3)}
	}
	return []*Tensor{Reshape(y, shape...)}
}

// y = a·σ(αa)·b: da = dy·b·σ·(1 + αa(1-σ)), db = dy·a·σ
func gradSwiGLU(g *GradContext) []*Tensor {
	a, b, dy := g.In[0], g.In[1], g.D(0)
	alpha := ScalarLike(a, float64(g.Attrs().Float("alpha", 1)))
	sig := Sigmoid(Mul(alpha, a))
	one := ScalarLike(a, 1)
	da := Mul(Mul(dy, b), Mul(sig, Add(one, Mul(Mul(alpha, a), Sub(one, sig)))))
	db := Mul(dy, Mul(a, sig))
	return []*Tensor{da, db}
}
