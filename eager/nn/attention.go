package nn

import (
	"fmt"
	"math"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// MultiHeadAttention is scaled dot-product attention over NumHeads heads
// with PyTorch's parameters (nn.MultiheadAttention): in_proj_weight [3E, E]
// stacks the query, key and value projections; out_proj is a Linear [E, E].
// Inputs and outputs are batch-first: [N, L, E] queries, [N, S, E] keys and
// values.
//
// It is ordinary Go code over eager ops, so a decoder may call it once per
// generated token, keeping the projected keys and values of earlier steps in
// a KVCache.
type MultiHeadAttention struct {
	InProjWeight *eager.Tensor `nn:"in_proj_weight"`
	InProjBias   *eager.Tensor `nn:"in_proj_bias"`
	OutProj      *Linear       `nn:"out_proj"`
	NumHeads     int           `nn:"-"`
	// Causal makes Forward's self-attention causal: position i sees
	// positions ≤ i only.
	Causal bool `nn:"-"`
}

// NewMultiHeadAttention makes attention over embed-wide inputs split into
// heads heads, initialized as PyTorch does (Xavier-uniform in_proj_weight,
// zero biases).
func NewMultiHeadAttention(embed, heads int, opts ...Option) *MultiHeadAttention {
	if heads <= 0 || embed%heads != 0 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: embed dim %d is not divisible by %d heads", embed, heads))
	}
	c := newConfig(opts)
	r := c.rng()
	a := &MultiHeadAttention{InProjWeight: uniform(c, r, math.Sqrt(6/float64(4*embed)), 3*embed, embed), NumHeads: heads}
	a.OutProj = &Linear{Weight: uniform(c, r, kaimingBound(embed), embed, embed)}
	if !c.noBias {
		a.InProjBias = constant(c, 0, 3*embed)
		a.OutProj.Bias = constant(c, 0, embed)
	}
	return a
}

// KVCache holds the projected keys and values of the steps attended so far,
// [N, heads, S, E/heads] each; the zero value is an empty cache. Attend
// appends the new step's keys and values to it.
type KVCache struct {
	K, V *eager.Tensor
}

// Len is the number of cached positions.
func (c *KVCache) Len() int {
	if c == nil || c.K == nil {
		return 0
	}
	return c.K.Dim(2)
}

// AttendOptions tune one Attend call.
type AttendOptions struct {
	// Mask, when set, is broadcast to the scores [N, heads, L, S]: a bool
	// mask is true where a query may attend to a key (ONNX's and
	// scaled_dot_product_attention's convention; the opposite of
	// nn.MultiheadAttention's attn_mask); a float mask is added to the
	// scores. With a cache, S counts the cached positions too.
	Mask *eager.Tensor
	// Causal lets query i (at absolute position Cache.Len()+i) attend only
	// to keys at positions ≤ its own.
	Causal bool
	// Cache, when set, is prepended to this call's keys and values and then
	// extended with them.
	Cache *KVCache
}

// Forward is self-attention of x [N, L, E] (causal when a.Causal).
func (a *MultiHeadAttention) Forward(x *eager.Tensor) *eager.Tensor {
	return a.Attend(x, x, x, AttendOptions{Causal: a.Causal})
}

// Attend attends queries q [N, L, E] to keys k and values v [N, S, E] and
// returns [N, L, E].
func (a *MultiHeadAttention) Attend(q, k, v *eager.Tensor, o AttendOptions) *eager.Tensor {
	e := a.InProjWeight.Dim(1)
	for i, t := range []*eager.Tensor{q, k, v} {
		if t.Rank() != 3 || t.Dim(2) != e {
			panic(fmt.Sprintf("nn: MultiHeadAttention: input %d of shape %v, want [N, L, %d]", i, t.Shape(), e))
		}
	}
	qp, kp, vp := a.project(q, k, v)
	qh, kh, vh := a.heads(qp), a.heads(kp), a.heads(vp)
	past := 0
	if o.Cache != nil {
		past = o.Cache.Len()
		if past > 0 {
			kh = eager.Concat(2, o.Cache.K, kh)
			vh = eager.Concat(2, o.Cache.V, vh)
		}
		o.Cache.K, o.Cache.V = kh, vh
	}
	d := e / a.NumHeads
	qh = eager.Mul(qh, eager.ScalarLike(qh, 1/math.Sqrt(float64(d))))
	scores := eager.MatMul(qh, eager.Transpose(kh, 0, 1, 3, 2)) // [N, h, L, S]
	if o.Mask != nil {
		scores = applyMask(scores, o.Mask)
	}
	if o.Causal {
		if m := causalMask(scores, past); m != nil {
			scores = applyMask(scores, m)
		}
	}
	y := eager.MatMul(eager.Softmax(scores, -1), vh)           // [N, h, L, d]
	y = eager.Reshape(eager.Transpose(y, 0, 2, 1, 3), 0, 0, e) // [N, L, E]
	return a.OutProj.Forward(y)
}

// project applies the input projections; self-attention uses one MatMul.
func (a *MultiHeadAttention) project(q, k, v *eager.Tensor) (qp, kp, vp *eager.Tensor) {
	if q == k && k == v {
		p := split(inputProjection(q, a.InProjWeight, a.InProjBias), 2, 3)
		return p[0], p[1], p[2]
	}
	ws := split(a.InProjWeight, 0, 3)
	bs := []*eager.Tensor{nil, nil, nil}
	if a.InProjBias != nil {
		bs = split(a.InProjBias, 0, 3)
	}
	return inputProjection(q, ws[0], bs[0]), inputProjection(k, ws[1], bs[1]), inputProjection(v, ws[2], bs[2])
}

// heads reshapes [N, L, E] to [N, heads, L, E/heads].
func (a *MultiHeadAttention) heads(x *eager.Tensor) *eager.Tensor {
	return eager.Transpose(eager.Reshape(x, 0, 0, a.NumHeads, x.Dim(2)/a.NumHeads), 0, 2, 1, 3)
}

// applyMask keeps scores where a bool mask is true (-inf elsewhere) or adds
// a float mask.
func applyMask(scores, mask *eager.Tensor) *eager.Tensor {
	if mask.DType() == ir.Bool {
		return eager.Where(mask, scores, eager.ScalarLike(scores, math.Inf(-1)))
	}
	return eager.Add(scores, eager.Cast(mask, scores.DType()))
}

// causalMask is the bool [L, S] mask of queries at positions past..past+L-1
// over keys 0..S-1, or nil when nothing is masked.
func causalMask(scores *eager.Tensor, past int) *eager.Tensor {
	l, s := scores.Dim(2), scores.Dim(3)
	m := make([]bool, l*s)
	masked := false
	for i := 0; i < l; i++ {
		for j := 0; j < s; j++ {
			m[i*s+j] = j <= past+i
			masked = masked || !m[i*s+j]
		}
	}
	if !masked {
		return nil
	}
	t, err := eager.FromHost(scores.Backend(), ir.FromSlice(m, l, s))
	if err != nil {
		panic(&eager.OpError{Err: err})
	}
	return t
}
