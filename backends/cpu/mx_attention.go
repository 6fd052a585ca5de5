package cpu

// Attention (opset 23+): scaled dot-product attention with MHA/GQA/MQA head
// counts, 3-D or 4-D inputs, boolean or additive masks, causal and window
// masking, an internal KV cache (past/present) or an external one
// (nonpad_kv_seqlen), softcap and the qk_matmul_output debug output.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { reg("Attention", 23, prepAttention) }

type mxAttnConf struct {
	causal          bool
	scale           float64 // 0: 1/sqrt(head size)
	softcap         float64
	qHeads, kvHeads int
	mode            int
	left, right     int // window sizes, -1 unbounded
	numOut          int
}

func prepAttention(s *backends.OpSpec) (kernelFunc, error) {
	c := &mxAttnConf{
		causal:  s.Attrs.Int("is_causal", 0) != 0,
		scale:   float64(s.Attrs.Float("scale", 0)),
		softcap: float64(s.Attrs.Float("softcap", 0)),
		qHeads:  int(s.Attrs.Int("q_num_heads", 0)),
		kvHeads: int(s.Attrs.Int("kv_num_heads", 0)),
		mode:    int(s.Attrs.Int("qk_matmul_output_mode", 0)),
		left:    int(s.Attrs.Int("left_window_size", -1)),
		right:   int(s.Attrs.Int("right_window_size", -1)),
		numOut:  s.NumOutputs,
	}
	if c.mode < 0 || c.mode > 3 {
		return nil, fmt.Errorf("Attention: %w: qk_matmul_output_mode %d", errAttr, c.mode)
	}
	if c.numOut < 1 || c.numOut > 4 {
		return nil, fmt.Errorf("Attention: %w: %d outputs declared", errAttr, c.numOut)
	}
	dt := inputType(s.InputTypes, 0)
	for _, i := range []int{0, 1, 2, 4, 5} {
		if t := inputType(s.InputTypes, i); t != ir.Undefined {
			if err := mxCheckFloat("Attention", t, i); err != nil {
				return nil, err
			}
		}
	}
	if dt == ir.Float64 && inputType(s.InputTypes, 2) == ir.Float64 {
		return mxAttnKernel[float64](c), nil
	}
	return mxAttnVia32(mxAttnKernel[float32](c)), nil
}

// mxAttnVia32 converts every narrow-float input to float32 and the outputs
// back to the dtype of Q (present_value to that of V).
func mxAttnVia32(fn kernelFunc) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		conv := append([]*ir.Tensor{}, in...)
		for i, t := range conv {
			if t != nil && i != 6 && t.DType.IsFloat() && t.DType != ir.Float32 {
				conv[i] = toFloat32(t)
			}
		}
		out, err := fn(conv)
		if err != nil || len(in) < 3 || in[0] == nil || in[2] == nil {
			return out, err
		}
		for i, o := range out {
			want := in[0].DType
			if i == 2 {
				want = in[2].DType
			}
			if o != nil && want != ir.Float32 {
				out[i] = fromFloat32(o, want)
			}
		}
		return out, nil
	}
}

// mxAttnData holds Q, K, V as (batch, heads, seq, size) plus the derived sizes.
type mxAttnData[T mxFloat] struct {
	b, qh, kvh, sq, past, total int
	hd, vhd                     int
	q, k, v                     []T // k, v are the present key/value
	threeD                      bool
}

// mxAttnLoad validates Q, K, V, past_key and past_value and builds the
// present key/value.
func mxAttnLoad[T mxFloat](c *mxAttnConf, in []*ir.Tensor) (*mxAttnData[T], error) {
	if err := needInputs(in, 3); err != nil {
		return nil, fmt.Errorf("Attention: %w", err)
	}
	q, k, v := in[0], in[1], in[2]
	d := &mxAttnData[T]{}
	var skv int
	switch {
	case q.Rank() == 4 && k.Rank() == 4 && v.Rank() == 4:
		d.b, d.qh, d.sq, d.hd = q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
		d.kvh, skv, d.vhd = k.Shape[1], k.Shape[2], v.Shape[3]
		if !mxSameInts(k.Shape, []int{d.b, d.kvh, skv, d.hd}) || !mxSameInts(v.Shape[:3], k.Shape[:3]) {
			return nil, fmt.Errorf("Attention: %w: Q %v, K %v, V %v do not agree", errShape, q.Shape, k.Shape, v.Shape)
		}
		d.q, d.k, d.v = mxFloatData[T](q), mxFloatData[T](k), mxFloatData[T](v)
	case q.Rank() == 3 && k.Rank() == 3 && v.Rank() == 3:
		d.threeD = true
		d.qh, d.kvh = c.qHeads, c.kvHeads
		if d.qh <= 0 || d.kvh <= 0 || q.Shape[2]%d.qh != 0 || k.Shape[2]%d.kvh != 0 || v.Shape[2]%d.kvh != 0 {
			return nil, fmt.Errorf("Attention: %w: 3-D Q %v, K %v, V %v with q_num_heads %d, kv_num_heads %d",
				errShape, q.Shape, k.Shape, v.Shape, d.qh, d.kvh)
		}
		d.b, d.sq, skv = q.Shape[0], q.Shape[1], k.Shape[1]
		d.hd, d.vhd = q.Shape[2]/d.qh, v.Shape[2]/d.kvh
		if k.Shape[0] != d.b || v.Shape[0] != d.b || v.Shape[1] != skv || k.Shape[2]/d.kvh != d.hd {
			return nil, fmt.Errorf("Attention: %w: Q %v, K %v, V %v do not agree", errShape, q.Shape, k.Shape, v.Shape)
		}
		d.q = mxHeadsFirst(mxFloatData[T](q), d.b, d.sq, d.qh, d.hd)
		d.k = mxHeadsFirst(mxFloatData[T](k), d.b, skv, d.kvh, d.hd)
		d.v = mxHeadsFirst(mxFloatData[T](v), d.b, skv, d.kvh, d.vhd)
	default:
		return nil, fmt.Errorf("Attention: %w: Q %v, K %v, V %v must all be 3-D or 4-D", errShape, q.Shape, k.Shape, v.Shape)
	}
	if d.kvh == 0 || d.qh%d.kvh != 0 {
		return nil, fmt.Errorf("Attention: %w: %d query heads not a multiple of %d kv heads", errShape, d.qh, d.kvh)
	}
	d.total = skv
	pk, pv := mxOptIn(in, 4), mxOptIn(in, 5)
	if (pk == nil) != (pv == nil) {
		return nil, fmt.Errorf("Attention: %w: past_key and past_value must be given together", errInput)
	}
	if pk != nil {
		if pk.Rank() != 4 || pv.Rank() != 4 || !mxSameInts(pk.Shape, []int{d.b, d.kvh, pk.Shape[2], d.hd}) ||
			!mxSameInts(pv.Shape, []int{d.b, d.kvh, pk.Shape[2], d.vhd}) {
			return nil, fmt.Errorf("Attention: %w: past_key %v, past_value %v for K %v, V %v", errShape, pk.Shape, pv.Shape, k.Shape, v.Shape)
		}
		d.past = pk.Shape[2]
		d.total += d.past
		d.k = mxConcatSeq(mxFloatData[T](pk), d.k, d.b*d.kvh, d.past, skv, d.hd)
		d.v = mxConcatSeq(mxFloatData[T](pv), d.v, d.b*d.kvh, d.past, skv, d.vhd)
	}
	return d, nil
}

// mxOptIn returns optional input i or nil.
func mxOptIn(in []*ir.Tensor, i int) *ir.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// mxHeadsFirst turns (b, s, h, d) data into (b, h, s, d).
func mxHeadsFirst[T any](x []T, b, s, h, d int) []T {
	out := make([]T, len(x))
	for bi := 0; bi < b; bi++ {
		for si := 0; si < s; si++ {
			for hi := 0; hi < h; hi++ {
				copy(out[((bi*h+hi)*s+si)*d:][:d], x[((bi*s+si)*h+hi)*d:][:d])
			}
		}
	}
	return out
}

// mxConcatSeq concatenates (n, p, d) and (n, s, d) along the middle axis.
func mxConcatSeq[T any](a, b []T, n, p, s, d int) []T {
	out := make([]T, n*(p+s)*d)
	for i := 0; i < n; i++ {
		copy(out[i*(p+s)*d:], a[i*p*d:(i+1)*p*d])
		copy(out[(i*(p+s)+p)*d:], b[i*s*d:(i+1)*s*d])
	}
	return out
}

func mxAttnKernel[T mxFloat](c *mxAttnConf) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		d, err := mxAttnLoad[T](c, in)
		if err != nil {
			return nil, err
		}
		m, err := mxAttnMaskOf(c, d.b, d.qh, d.sq, d.past, d.total, mxOptIn(in, 3), mxOptIn(in, 4) != nil, mxOptIn(in, 6))
		if err != nil {
			return nil, err
		}
		return mxAttnRun(c, d, m), nil
	}
}

// mxAttnRun computes Y and the optional outputs.
func mxAttnRun[T mxFloat](c *mxAttnConf, d *mxAttnData[T], m *mxAttnMask) []*ir.Tensor {
	scale := c.scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(d.hd))
	}
	rows := d.b * d.qh * d.sq
	y := make([]T, rows*d.vhd)
	var qk []T
	if c.numOut >= 4 {
		qk = make([]T, rows*d.total)
	}
	reps := d.qh / d.kvh
	parallelFor(rows, d.total*(d.hd+d.vhd)*2, func(lo, hi int) {
		sc := make([]float64, d.total)
		for row := lo; row < hi; row++ {
			bi, h, i := row/(d.qh*d.sq), row/d.sq%d.qh, row%d.sq
			kvBase := (bi*d.kvh + h/reps) * d.total
			qr := d.q[row*d.hd : (row+1)*d.hd]
			for j := 0; j < d.total; j++ {
				kr := d.k[(kvBase+j)*d.hd : (kvBase+j+1)*d.hd]
				var s float64
				for p, qv := range qr {
					s += float64(qv) * float64(kr[p])
				}
				sc[j] = s * scale
			}
			var qkr []T
			if qk != nil {
				qkr = qk[row*d.total : (row+1)*d.total]
			}
			mxAttnScores(c, m, sc, qkr, bi, h, i)
			yr := y[row*d.vhd : (row+1)*d.vhd]
			for j, p := range sc {
				if p == 0 {
					continue
				}
				vr := d.v[(kvBase+j)*d.vhd : (kvBase+j+1)*d.vhd]
				for t, vv := range vr {
					yr[t] += T(p * float64(vv))
				}
			}
		}
	})
	out := []*ir.Tensor{nil}
	if d.threeD {
		y = mxSwap01Blocks(y, d.b, d.qh, d.sq, d.vhd)
		out[0] = ir.FromSlice(y, d.b, d.sq, d.qh*d.vhd)
	} else {
		out[0] = ir.FromSlice(y, d.b, d.qh, d.sq, d.vhd)
	}
	if c.numOut >= 2 {
		out = append(out, ir.FromSlice(d.k, d.b, d.kvh, d.total, d.hd))
	}
	if c.numOut >= 3 {
		out = append(out, ir.FromSlice(d.v, d.b, d.kvh, d.total, d.vhd))
	}
	if c.numOut >= 4 {
		out = append(out, ir.FromSlice(qk, d.b, d.qh, d.sq, d.total))
	}
	return out
}

// mxSwap01Blocks turns (b, h, s, d) data into (b, s, h, d).
func mxSwap01Blocks[T any](x []T, b, h, s, d int) []T {
	out := make([]T, len(x))
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			for si := 0; si < s; si++ {
				copy(out[((bi*s+si)*h+hi)*d:][:d], x[((bi*h+hi)*s+si)*d:][:d])
			}
		}
	}
	return out
}

// mxAttnScores turns the scaled QK row sc into softmax probabilities in
// place (a fully masked row becomes zeros) and fills the qk_matmul_output
// row qkr (nil when not wanted) for the configured mode.
func mxAttnScores[T mxFloat](c *mxAttnConf, m *mxAttnMask, sc []float64, qkr []T, b, h, i int) {
	if qkr != nil && c.mode == 0 {
		for j, v := range sc {
			qkr[j] = T(v)
		}
	}
	if c.softcap > 0 {
		for j, v := range sc {
			sc[j] = c.softcap * math.Tanh(v/c.softcap)
		}
	}
	if qkr != nil && c.mode == 1 {
		for j, v := range sc {
			qkr[j] = T(v)
		}
	}
	mx := math.Inf(-1)
	for j := range sc {
		allowed, bias := m.at(b, h, i, j)
		if !allowed {
			sc[j] = math.Inf(-1)
		} else {
			sc[j] += bias
		}
		mx = math.Max(mx, sc[j])
	}
	if qkr != nil && c.mode == 2 {
		for j, v := range sc {
			qkr[j] = T(v)
		}
	}
	if math.IsInf(mx, -1) {
		clear(sc)
	} else {
		var sum float64
		for j, v := range sc {
			e := math.Exp(v - mx)
			sc[j] = e
			sum += e
		}
		for j := range sc {
			sc[j] /= sum
		}
	}
	if qkr != nil && c.mode == 3 {
		for j, v := range sc {
			qkr[j] = T(v)
		}
	}
}
