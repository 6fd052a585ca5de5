package eager_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func bools(shape []int, v ...bool) *ir.Tensor { return ir.FromSlice(v, shape...) }

func TestGradAttention(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1.5, 1.5, shape...) }
	heads := func(q, kv int) []ir.Attr {
		return []ir.Attr{ir.IntAttr("q_num_heads", int64(q)), ir.IntAttr("kv_num_heads", int64(kv))}
	}
	mode := func(m int) ir.Attr { return ir.IntAttr("qk_matmul_output_mode", int64(m)) }
	causal := ir.IntAttr("is_causal", 1)
	// a float mask (q_seq 3, 3 of 4 keys: the 4th is padded "not attended")
	// with one -∞ entry
	fmask := any(3, 3)
	fmask.Data.([]float64)[4] = math.Inf(-1)
	// a boolean mask (2, 1, 3, 4) whose second batch has a fully masked row
	bmask := bools([]int{2, 1, 3, 4},
		true, false, true, true, false, true, true, true, true, true, false, true,
		true, true, false, false, false, false, false, false, false, true, true, true)
	cases := []gradCase{
		{name: "4D MHA", op: "Attention",
			in: []*ir.Tensor{any(2, 2, 3, 2), any(2, 2, 4, 2), any(2, 2, 4, 3)}, diff: []int{0, 1, 2}},
		{name: "4D GQA causal past present qk", op: "Attention", nout: 4, attrs: ir.Attrs{causal},
			in:   []*ir.Tensor{any(1, 4, 2, 2), any(1, 2, 2, 2), any(1, 2, 2, 3), nil, any(1, 2, 3, 2), any(1, 2, 3, 3)},
			diff: []int{0, 1, 2, 4, 5}},
		{name: "3D float mask softcap scale", op: "Attention", nout: 4,
			attrs: append(ir.Attrs{ir.FloatAttr("softcap", 2), ir.FloatAttr("scale", 0.4), mode(1)}, heads(2, 2)...),
			in:    []*ir.Tensor{any(2, 3, 4), any(2, 4, 4), any(2, 4, 6), fmask}, diff: []int{0, 1, 2, 3}},
		{name: "4D bool mask fully masked row qk mode 2", op: "Attention", nout: 4, attrs: ir.Attrs{mode(2)},
			in: []*ir.Tensor{any(2, 2, 3, 2), any(2, 2, 4, 2), any(2, 2, 4, 2), bmask}, diff: []int{0, 1, 2}},
		{name: "4D bool mask causal softmax output", op: "Attention", nout: 4, attrs: ir.Attrs{mode(3), causal},
			in: []*ir.Tensor{any(2, 2, 3, 2), any(2, 2, 4, 2), any(2, 2, 4, 2), bmask}, diff: []int{0, 1, 2}},
		{name: "4D nonpad causal window negative offset", op: "Attention", nout: 4,
			attrs: ir.Attrs{causal, ir.IntAttr("left_window_size", 1), mode(3)},
			in:    []*ir.Tensor{any(2, 2, 2, 2), any(2, 2, 4, 2), any(2, 2, 4, 2), nil, nil, nil, i64(4, 1)}, diff: []int{0, 1, 2}},
		{name: "4D nonpad", op: "Attention",
			in: []*ir.Tensor{any(2, 1, 2, 2), any(2, 1, 4, 2), any(2, 1, 4, 2), nil, nil, nil, i64(3, 2)}, diff: []int{0, 1, 2}},
		{name: "4D right window float mask 2D", op: "Attention",
			attrs: ir.Attrs{ir.IntAttr("left_window_size", 0), ir.IntAttr("right_window_size", 1)},
			in:    []*ir.Tensor{any(1, 2, 4, 2), any(1, 2, 4, 2), any(1, 2, 4, 2), any(4, 4)}, diff: []int{0, 1, 2, 3}},
		{name: "3D GQA past present softcap", op: "Attention", nout: 3,
			attrs: append(ir.Attrs{causal, ir.FloatAttr("softcap", 1.5)}, heads(4, 2)...),
			in:    []*ir.Tensor{any(1, 2, 8), any(1, 2, 4), any(1, 2, 6), nil, any(1, 2, 2, 2), any(1, 2, 2, 3)},
			diff:  []int{0, 1, 2, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkRecomputed(t, c) })
	}
}

// Self-attention passes one tensor as Q, K and V: its gradient is the sum
// over the three slots.
func TestGradAttentionSelf(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	x := randT(r, -1, 1, 2, 3, 4)
	attrs := ir.Attrs{ir.IntAttr("q_num_heads", 2), ir.IntAttr("kv_num_heads", 2), ir.IntAttr("is_causal", 1)}
	checkFn(t, "Attention(x, x, x)", []*ir.Tensor{x}, []int{0}, func(xs []*eager.Tensor) []*eager.Tensor {
		return eager.Op("Attention", attrs, 1, xs[0], xs[0], xs[0])
	})
}

// modGraph is a one-input, one-output FlexAttention modifier graph.
func modGraph(nodes []*ir.Node, inits ...*ir.Tensor) *ir.Graph {
	return &ir.Graph{Name: "mod", Nodes: nodes, Initializers: inits,
		Inputs: []ir.ValueInfo{{Name: "s"}}, Outputs: []ir.ValueInfo{{Name: "y"}}}
}

func TestGradAttentionFamily(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1.5, 1.5, shape...) }
	named := func(t *ir.Tensor, name string) *ir.Tensor { t.Name = name; return t }
	// score_mod: soft cap 2·tanh(s/2); prob_mod: p·w (w broadcast over keys)
	softcap := modGraph([]*ir.Node{
		{OpType: "Div", Inputs: []string{"s", "two"}, Outputs: []string{"a"}},
		{OpType: "Tanh", Inputs: []string{"a"}, Outputs: []string{"b"}},
		{OpType: "Mul", Inputs: []string{"b", "two"}, Outputs: []string{"y"}},
	}, named(ir.Scalar(2.0), "two"))
	probMod := modGraph([]*ir.Node{{OpType: "Mul", Inputs: []string{"s", "w"}, Outputs: []string{"y"}}},
		named(ir.FromSlice([]float64{0.5, 1, 2}, 3), "w"))
	// score_mod: causal mask by Trilu of ones, -∞ above the diagonal
	causalMod := modGraph([]*ir.Node{
		{OpType: "Trilu", Inputs: []string{"ones"}, Outputs: []string{"m"}},
		{OpType: "Cast", Inputs: []string{"m"}, Outputs: []string{"c"}, Attrs: ir.Attrs{ir.IntAttr("to", int64(ir.Bool))}},
		{OpType: "Where", Inputs: []string{"c", "s", "ninf"}, Outputs: []string{"y"}},
	}, named(ir.FromSlice([]float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3, 3), "ones"), named(ir.Scalar(math.Inf(-1)), "ninf"))
	preview := "ai.onnx.preview"
	cases := []gradCase{
		{name: "FlexAttention GQA", domain: preview, op: "FlexAttention",
			in: []*ir.Tensor{any(1, 4, 3, 2), any(1, 2, 3, 2), any(1, 2, 3, 3)}, diff: []int{0, 1, 2}},
		{name: "FlexAttention score_mod prob_mod scale", domain: preview, op: "FlexAttention",
			attrs: ir.Attrs{ir.GraphAttr("score_mod", softcap), ir.GraphAttr("prob_mod", probMod), ir.FloatAttr("scale", 0.7)},
			in:    []*ir.Tensor{any(2, 2, 2, 2), any(2, 2, 3, 2), any(2, 2, 3, 2)}, diff: []int{0, 1, 2}},
		{name: "FlexAttention masking score_mod", domain: preview, op: "FlexAttention",
			attrs: ir.Attrs{ir.GraphAttr("score_mod", causalMod)},
			in:    []*ir.Tensor{any(1, 2, 3, 2), any(1, 2, 3, 2), any(1, 2, 3, 2)}, diff: []int{0, 1, 2}},
		{name: "RotaryEmbedding 4D", op: "RotaryEmbedding",
			in: []*ir.Tensor{any(2, 2, 3, 4), any(2, 3, 2), any(2, 3, 2)}, diff: []int{0, 1, 2}},
		{name: "RotaryEmbedding 3D interleaved position_ids partial", op: "RotaryEmbedding",
			attrs: ir.Attrs{ir.IntAttr("num_heads", 2), ir.IntAttr("interleaved", 1), ir.IntAttr("rotary_embedding_dim", 4)},
			in:    []*ir.Tensor{any(2, 3, 12), any(5, 2), any(5, 2), ir.FromSlice([]int64{0, 1, 2, 4, 4, 1}, 2, 3)},
			diff:  []int{0, 1, 2}},
		{name: "RotaryEmbedding 4D partial", op: "RotaryEmbedding",
			attrs: ir.Attrs{ir.IntAttr("rotary_embedding_dim", 2)},
			in:    []*ir.Tensor{any(1, 2, 3, 6), any(1, 3, 1), any(1, 3, 1)}, diff: []int{0, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkRecomputed(t, c) })
	}
	for _, c := range []gradCase{
		{name: "SwiGLU", op: "SwiGLU", in: []*ir.Tensor{any(2, 3), any(2, 3)}, diff: []int{0, 1}},
		{name: "SwiGLU alpha", op: "SwiGLU", attrs: ir.Attrs{ir.FloatAttr("alpha", 1.702)}, in: []*ir.Tensor{any(4), any(4)}, diff: []int{0, 1}},
	} {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
}
