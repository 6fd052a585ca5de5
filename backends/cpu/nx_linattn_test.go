package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

// nxLinAttrs builds LinearAttention attributes with scale 1 unless overridden.
func nxLinAttrs(rule string, hq, hkv int64, extra ...ir.Attr) ir.Attrs {
	as := ir.Attrs{ir.StringAttr("update_rule", rule), ir.IntAttr("q_num_heads", hq),
		ir.IntAttr("kv_num_heads", hkv), ir.FloatAttr("scale", 1)}
	for _, a := range extra {
		as = as.With(a)
	}
	return as
}

// Two tokens, two query heads sharing one KV head (GQA), d_k=2, d_v=1:
// k1=[1,0] v1=2, k2=[1,1] v2=3; q1 = ([1,1], [1,0]), q2 = ([1,1], [0,2]).
func TestLinearAttention(t *testing.T) {
	q := ir.FromSlice([]float32{1, 1, 1, 0, 1, 1, 0, 2}, 1, 2, 4)
	k := ir.FromSlice([]float32{1, 0, 1, 1}, 1, 2, 2)
	v := ir.FromSlice([]float32{2, 3}, 1, 2, 1)
	past := ir.FromSlice([]float32{1, 1}, 1, 1, 2, 1)
	half := float32(math.Log(0.5))
	headDecay := ir.FromSlice([]float32{half, half}, 1, 2, 1)
	keyDecay := ir.FromSlice([]float32{half, 0, 0, half}, 1, 2, 2)
	beta := ir.FromSlice([]float32{0.5, 0.5}, 1, 2, 1)
	r2 := 1 / math.Sqrt2
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    []*ir.Tensor
		out   []float64
		state []float64
	}{
		// S1 = [2,0], S2 = S1 + [3,3] = [5,3]
		{"linear", nxLinAttrs("linear", 2, 1), []*ir.Tensor{q, k, v}, []float64{2, 2, 8, 6}, []float64{5, 3}},
		{"default scale", ir.Attrs{ir.StringAttr("update_rule", "linear"), ir.IntAttr("q_num_heads", 2), ir.IntAttr("kv_num_heads", 1)},
			[]*ir.Tensor{q, k, v}, []float64{2 * r2, 2 * r2, 8 * r2, 6 * r2}, []float64{5, 3}},
		// S1 = [2,0], S2 = S1/2 + [3,3] = [4,3]
		{"gated per head", nxLinAttrs("gated", 2, 1), []*ir.Tensor{q, k, v, nil, headDecay},
			[]float64{2, 2, 7, 6}, []float64{4, 3}},
		// S0 = [1,1] -> [.5,1] + [2,0] = [2.5,1] -> [2.5,.5] + [3,3] = [5.5,3.5]
		{"gated per key with past", nxLinAttrs("gated", 2, 1), []*ir.Tensor{q, k, v, past, keyDecay},
			[]float64{3.5, 2.5, 9, 7}, []float64{5.5, 3.5}},
		// u1 = .5(2-0) = 1, S1 = [1,0]; u2 = .5(3-1) = 1, S2 = [2,1]
		{"delta", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, beta},
			[]float64{1, 1, 3, 2}, []float64{2, 1}},
		// S=[.5,.5], u1=.5(2-.5)=.75, S1=[1.25,.5]; S=[.625,.25],
		// u2=.5(3-.875)=1.0625, S2=[1.6875,1.3125]
		{"gated delta", nxLinAttrs("gated_delta", 2, 1, ir.FloatAttr("scale", 2)), []*ir.Tensor{q, k, v, past, headDecay, beta},
			[]float64{3.5, 2.5, 6, 5.25}, []float64{1.6875, 1.3125}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOp(t, "LinearAttention", 27, c.attrs, 2, c.in...)
			assertClose(t, out[0], []int{1, 2, 2}, c.out, 1e-6)
			assertClose(t, out[1], []int{1, 1, 2, 1}, c.state, 1e-6)
		})
	}
}

// Two KV heads, one query head each (MHA), with per-head beta: heads must
// stay independent and read their own beta.
func TestLinearAttentionHeads(t *testing.T) {
	q := ir.FromSlice([]float32{1, 0, 0, 1}, 1, 1, 4)
	k := ir.FromSlice([]float32{1, 0, 0, 1}, 1, 1, 4)
	v := ir.FromSlice([]float32{2, 4}, 1, 1, 2)
	past := ir.FromSlice([]float32{1, 0, 0, 1}, 1, 2, 2, 1)
	beta := ir.FromSlice([]float32{0.5, 0.25}, 1, 1, 2)
	out := runOp(t, "LinearAttention", 27, nxLinAttrs("delta", 2, 2), 2, q, k, v, past, nil, beta)
	// head 0: r = 1, u = .5(2-1) = .5, S = [1.5, 0]; head 1: r = 1, u = .25(4-1) = .75, S = [0, 1.75]
	assertClose(t, out[0], []int{1, 1, 2}, []float64{1.5, 1.75}, 1e-6)
	assertClose(t, out[1], []int{1, 2, 2, 1}, []float64{1.5, 0, 0, 1.75}, 1e-6)
}

func TestLinearAttentionDTypes(t *testing.T) {
	q := fromFloat32(ir.FromSlice([]float32{1, 1, 1, 0, 1, 1, 0, 2}, 1, 2, 4), ir.Float16)
	k := fromFloat32(ir.FromSlice([]float32{1, 0, 1, 1}, 1, 2, 2), ir.Float16)
	v := fromFloat32(ir.FromSlice([]float32{2, 3}, 1, 2, 1), ir.Float16)
	past := ir.FromSlice([]float32{0, 0}, 1, 1, 2, 1)
	out := runOp(t, "LinearAttention", 27, nxLinAttrs("linear", 2, 1), 2, q, k, v, past)
	if out[0].DType != ir.Float16 || out[1].DType != ir.Float32 {
		t.Fatalf("dtypes %v %v, want float16 output and float32 state", out[0].DType, out[1].DType)
	}
	assertClose(t, out[0], []int{1, 2, 2}, []float64{2, 2, 8, 6}, 1e-3)
	assertClose(t, out[1], []int{1, 1, 2, 1}, []float64{5, 3}, 1e-6)

	out = runOp(t, "LinearAttention", 27, nxLinAttrs("linear", 2, 1), 2, q, k, v)
	if out[1].DType != ir.Float16 {
		t.Fatalf("state dtype %v without past_state, want float16", out[1].DType)
	}
	q64 := ir.FromSlice([]float64{1, 1, 1, 0, 1, 1, 0, 2}, 1, 2, 4)
	k64 := ir.FromSlice([]float64{1, 0, 1, 1}, 1, 2, 2)
	v64 := ir.FromSlice([]float64{2, 3}, 1, 2, 1)
	out = runOp(t, "LinearAttention", 27, nxLinAttrs("linear", 2, 1), 2, q64, k64, v64)
	assertClose(t, out[0], []int{1, 2, 2}, []float64{2, 2, 8, 6}, 1e-12)
}

func TestLinearAttentionErrors(t *testing.T) {
	q := ir.FromSlice([]float32{1, 1, 1, 0}, 1, 1, 4)
	k := ir.FromSlice([]float32{1, 0}, 1, 1, 2)
	v := ir.FromSlice([]float32{2}, 1, 1, 1)
	d := ir.FromSlice([]float32{0}, 1, 1, 1)
	b := ir.FromSlice([]float32{0.5}, 1, 1, 1)
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    []*ir.Tensor
	}{
		{"rule", nxLinAttrs("softmax", 2, 1), []*ir.Tensor{q, k, v}},
		{"heads", nxLinAttrs("linear", 3, 2), []*ir.Tensor{q, k, v}},
		{"no heads", ir.Attrs{ir.StringAttr("update_rule", "linear")}, []*ir.Tensor{q, k, v}},
		{"gated without decay", nxLinAttrs("gated", 2, 1), []*ir.Tensor{q, k, v}},
		{"linear with decay", nxLinAttrs("linear", 2, 1), []*ir.Tensor{q, k, v, nil, d}},
		{"delta without beta", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v}},
		{"key width", nxLinAttrs("linear", 2, 1), []*ir.Tensor{q, ir.FromSlice([]float32{1, 0, 0}, 1, 1, 3), v}},
		{"past shape", nxLinAttrs("linear", 2, 1), []*ir.Tensor{q, k, v, ir.FromSlice([]float32{0, 0}, 1, 2, 1, 1)}},
		{"decay width", nxLinAttrs("gated", 2, 1), []*ir.Tensor{q, k, v, nil, ir.FromSlice([]float32{0, 0, 0}, 1, 1, 3)}},
		{"beta width", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, ir.FromSlice([]float32{0, 0}, 1, 1, 2)}},
		{"beta rank", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, ir.FromSlice([]float32{0}, 1)}},
		{"beta scalar", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, ir.FromSlice([]float32{0})}},
		{"dtype", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, ir.FromSlice([]float64{0.5}, 1, 1, 1)}},
		{"ok sanity", nxLinAttrs("delta", 2, 1), []*ir.Tensor{q, k, v, nil, nil, b}},
	}
	for _, c := range cases {
		_, err := tryOp("LinearAttention", 27, c.attrs, 2, c.in...)
		if (err == nil) != (c.name == "ok sanity") {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}
