package cpu

// LinearAttention (opset 27): the recurrent linear-attention family (linear,
// gated, delta and gated-delta rules) over 3-D packed (B, T, H*D) inputs with
// GQA/MQA head sharing and a (B, H_kv, d_k, d_v) carried state. The CPU
// kernel runs the recurrence token by token; chunk_size is a tuning hint
// for chunk-parallel implementations and does not change the result.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { reg("LinearAttention", 27, prepLinearAttention) }

// nxLinConf is the prepared attribute set.
type nxLinConf struct {
	qHeads, kvHeads int
	scale           float64 // 0: 1/sqrt(d_k)
	gated, delta    bool
	nout            int
}

func prepLinearAttention(s *backends.OpSpec) (kernelFunc, error) {
	c := &nxLinConf{
		qHeads:  int(s.Attrs.Int("q_num_heads", 0)),
		kvHeads: int(s.Attrs.Int("kv_num_heads", 0)),
		scale:   float64(s.Attrs.Float("scale", 0)),
		nout:    max(s.NumOutputs, 1),
	}
	if !s.Attrs.Has("q_num_heads") || !s.Attrs.Has("kv_num_heads") {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: q_num_heads and kv_num_heads are required", errAttr)
	}
	if c.qHeads <= 0 || c.kvHeads <= 0 || c.qHeads%c.kvHeads != 0 {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: q_num_heads %d must be a positive multiple of kv_num_heads %d",
			errAttr, c.qHeads, c.kvHeads)
	}
	switch rule := s.Attrs.Str("update_rule", "gated_delta"); rule {
	case "linear":
	case "gated":
		c.gated = true
	case "delta":
		c.delta = true
	case "gated_delta":
		c.gated, c.delta = true, true
	default:
		return nil, fmt.Errorf("cpu: LinearAttention: %w: update_rule %q (want linear, gated, delta or gated_delta)", errAttr, rule)
	}
	if s.NumOutputs > 2 {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: %d outputs declared, at most 2", errAttr, s.NumOutputs)
	}
	if err := nxLinCheckTypes(s.InputTypes, c); err != nil {
		return nil, err
	}
	if inputType(s.InputTypes, 0) == ir.Float64 {
		return nxLinKernel[float64](c), nil
	}
	return nxLinKernel[float32](c), nil
}

// nxLinCheckTypes checks the dtypes (T for query, key, value, decay, beta;
// S for past_state) and which of decay/beta the update rule needs.
func nxLinCheckTypes(types []ir.DType, c *nxLinConf) error {
	dt := inputType(types, 0)
	for i := range min(len(types), 6) {
		t := types[i]
		if t == ir.Undefined && i >= 3 {
			continue
		}
		if err := nxCheckFloat("LinearAttention", t, i); err != nil {
			return err
		}
		if i != 3 && t != dt {
			return fmt.Errorf("cpu: LinearAttention: %w: input %d is %v, query is %v", errDType, i, t, dt)
		}
	}
	hasDecay := inputType(types, 4) != ir.Undefined
	hasBeta := inputType(types, 5) != ir.Undefined
	if hasDecay != c.gated {
		return fmt.Errorf("cpu: LinearAttention: %w: decay (input 4) %s for this update_rule",
			errInput, map[bool]string{true: "is required", false: "is not allowed"}[c.gated])
	}
	if hasBeta != c.delta {
		return fmt.Errorf("cpu: LinearAttention: %w: beta (input 5) %s for this update_rule",
			errInput, map[bool]string{true: "is required", false: "is not allowed"}[c.delta])
	}
	return nil
}

// nxLinGeom holds the unpacked sizes; decayW and betaW are the last
// dimensions of decay (H_kv or H_kv*d_k) and beta (H_kv or 1).
type nxLinGeom struct {
	b, t, hq, hkv, dk, dv int
	decayW, betaW         int
}

// nxLinShapes validates the input shapes against the head counts.
func nxLinShapes(c *nxLinConf, in []*ir.Tensor) (*nxLinGeom, error) {
	if err := needInputs(in, 3); err != nil {
		return nil, fmt.Errorf("cpu: LinearAttention: %w", err)
	}
	q, k, v := in[0], in[1], in[2]
	if q.Rank() != 3 || k.Rank() != 3 || v.Rank() != 3 {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: query %v, key %v, value %v must be rank 3 (B, T, H*D)",
			errShape, q.Shape, k.Shape, v.Shape)
	}
	g := &nxLinGeom{b: q.Shape[0], t: q.Shape[1], hq: c.qHeads, hkv: c.kvHeads}
	if q.Shape[2]%g.hq != 0 || v.Shape[2]%g.hkv != 0 {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: query %v not divisible by q_num_heads %d or value %v by kv_num_heads %d",
			errShape, q.Shape, g.hq, v.Shape, g.hkv)
	}
	g.dk, g.dv = q.Shape[2]/g.hq, v.Shape[2]/g.hkv
	if !mxSameInts(k.Shape, []int{g.b, g.t, g.hkv * g.dk}) || v.Shape[0] != g.b || v.Shape[1] != g.t {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: key %v or value %v does not agree with query %v (q_num_heads %d, kv_num_heads %d)",
			errShape, k.Shape, v.Shape, q.Shape, g.hq, g.hkv)
	}
	if p := nxInput(in, 3); p != nil && !mxSameInts(p.Shape, []int{g.b, g.hkv, g.dk, g.dv}) {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: past_state (input 3) has shape %v, want %v",
			errShape, p.Shape, []int{g.b, g.hkv, g.dk, g.dv})
	}
	if (nxInput(in, 4) != nil) != c.gated || (nxInput(in, 5) != nil) != c.delta {
		return nil, fmt.Errorf("cpu: LinearAttention: %w: decay (input 4) must be given exactly for gated rules, beta (input 5) exactly for delta rules", errInput)
	}
	if d := nxInput(in, 4); d != nil {
		if d.Rank() == 3 {
			g.decayW = d.Shape[2]
		}
		if d.Rank() != 3 || d.Shape[0] != g.b || d.Shape[1] != g.t || (g.decayW != g.hkv && g.decayW != g.hkv*g.dk) {
			return nil, fmt.Errorf("cpu: LinearAttention: %w: decay (input 4) has shape %v, want (%d, %d, %d or %d)",
				errShape, d.Shape, g.b, g.t, g.hkv, g.hkv*g.dk)
		}
	}
	if be := nxInput(in, 5); be != nil {
		if be.Rank() == 3 {
			g.betaW = be.Shape[2]
		}
		if be.Rank() != 3 || be.Shape[0] != g.b || be.Shape[1] != g.t || (g.betaW != g.hkv && g.betaW != 1) {
			return nil, fmt.Errorf("cpu: LinearAttention: %w: beta (input 5) has shape %v, want (%d, %d, %d or 1)",
				errShape, be.Shape, g.b, g.t, g.hkv)
		}
	}
	return g, nil
}

// nxInput returns input i or nil when it is absent.
func nxInput(in []*ir.Tensor, i int) *ir.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// nxLinKernel computes in C (float32, or float64 for float64 inputs); the
// output takes query's dtype, present_state past_state's (query's when
// past_state is absent).
func nxLinKernel[C mxFloat](c *nxLinConf) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		g, err := nxLinShapes(c, in)
		if err != nil {
			return nil, err
		}
		scale := c.scale
		if scale == 0 {
			scale = 1 / math.Sqrt(float64(g.dk))
		}
		q, k, v := nxFloats[C](in[0]), nxFloats[C](in[1]), nxFloats[C](in[2])
		decay, beta := nxFloats[C](nxInput(in, 4)), nxFloats[C](nxInput(in, 5))
		state := make([]C, g.b*g.hkv*g.dk*g.dv)
		stateDT := in[0].DType
		if p := nxInput(in, 3); p != nil {
			copy(state, nxFloats[C](p))
			stateDT = p.DType
		}
		out := make([]C, g.b*g.t*g.hq*g.dv)
		parallelFor(g.b*g.hkv, g.t*g.dk*g.dv*(3+g.hq/g.hkv), func(lo, hi int) {
			for bh := lo; bh < hi; bh++ {
				nxLinHead(c, g, C(scale), bh/g.hkv, bh%g.hkv, q, k, v, decay, beta, state, out)
			}
		})
		res := []*ir.Tensor{
			nxTensorAs(out, []int{g.b, g.t, g.hq * g.dv}, in[0].DType),
			nxTensorAs(state, []int{g.b, g.hkv, g.dk, g.dv}, stateDT),
		}
		return res[:c.nout], nil
	}
}

// nxLinHead runs the recurrence of one (batch, kv head) over all tokens,
// updating that head's (d_k, d_v) block of state in place and writing the
// outputs of the query heads sharing it:
//
//	S ← exp(g_t)·S                    (gated; g per key row or per head)
//	u ← β_t·(v_t − Sᵀk_t)  or  v_t    (delta rules / others)
//	S ← S + k_t ⊗ u
//	o_t[h] = scale · q_t[h]ᵀ S         for each query head h of the group
func nxLinHead[C mxFloat](c *nxLinConf, g *nxLinGeom, scale C, b, h int, q, k, v, decay, beta, state, out []C) {
	dk, dv, group := g.dk, g.dv, g.hq/g.hkv
	s := state[(b*g.hkv+h)*dk*dv : (b*g.hkv+h+1)*dk*dv]
	u := make([]C, dv)
	for t := range g.t {
		bt := b*g.t + t
		kt := k[(bt*g.hkv+h)*dk : (bt*g.hkv+h+1)*dk]
		copy(u, v[(bt*g.hkv+h)*dv:(bt*g.hkv+h+1)*dv])
		if c.gated {
			nxLinDecay(s, decay, g, bt, h)
		}
		if c.delta {
			bv := beta[bt*g.betaW+min(h, g.betaW-1)]
			for m := range u {
				var r C
				for i := range dk {
					r += s[i*dv+m] * kt[i]
				}
				u[m] = bv * (u[m] - r)
			}
		}
		for i, ki := range kt {
			row := s[i*dv : (i+1)*dv]
			for m, um := range u {
				row[m] += ki * um
			}
		}
		for j := range group {
			hq := h*group + j
			qt := q[(bt*g.hq+hq)*dk : (bt*g.hq+hq+1)*dk]
			o := out[(bt*g.hq+hq)*dv : (bt*g.hq+hq+1)*dv]
			for i, qi := range qt {
				row := s[i*dv : (i+1)*dv]
				for m := range o {
					o[m] += qi * row[m]
				}
			}
			for m := range o {
				o[m] *= scale
			}
		}
	}
}

// nxLinDecay multiplies the state block by exp(decay) of token bt, per key
// row (decay width H_kv*d_k) or per head (width H_kv).
func nxLinDecay[C mxFloat](s, decay []C, g *nxLinGeom, bt, h int) {
	if g.decayW == g.hkv && g.decayW != g.hkv*g.dk {
		f := C(math.Exp(float64(decay[bt*g.hkv+h])))
		for i := range s {
			s[i] *= f
		}
		return
	}
	row := decay[(bt*g.hkv+h)*g.dk : (bt*g.hkv+h+1)*g.dk]
	for i, d := range row {
		f := C(math.Exp(float64(d)))
		r := s[i*g.dv : (i+1)*g.dv]
		for m := range r {
			r[m] *= f
		}
	}
}
