package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// One head, head size 2: q·k0 = 1, q·k1 = 0, scaled by 1/√2.
func TestMxAttentionBasic(t *testing.T) {
	q := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 1, 2, 2)
	k := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 1, 2, 2)
	v := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 1, 2, 2)
	e := math.Exp(1 / math.Sqrt2)
	p0 := e / (e + 1) // weight of the matching key
	p1 := 1 - p0
	full := []float64{p0*1 + p1*3, p0*2 + p1*4, p1*1 + p0*3, p1*2 + p0*4}
	causal := []float64{1, 2, p1*1 + p0*3, p1*2 + p0*4}
	cases := []struct {
		name  string
		attrs ir.Attrs
		mask  *ir.Tensor
		want  []float64
	}{
		{"plain", nil, nil, full},
		{"causal", ir.Attrs{ir.IntAttr("is_causal", 1)}, nil, causal},
		{"bool mask as causal", nil, ir.FromSlice([]bool{true, false, true, true}, 2, 2), causal},
		{"float mask -inf", nil, ir.FromSlice(mxF32(0, float32(math.Inf(-1)), 0, 0), 2, 2), causal},
		{"short mask padded", nil, ir.FromSlice([]bool{true, true}, 2, 1), []float64{1, 2, 1, 2}},
		{"scale 0", ir.Attrs{ir.FloatAttr("scale", 1e-9)}, nil, []float64{2, 3, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOp(t, "Attention", 23, c.attrs, 1, q, k, v, c.mask)
			assertClose(t, out[0], []int{1, 1, 2, 2}, c.want, 1e-6)
		})
	}
}

// A fully masked row yields zeros in Y and in the mode-3 probabilities.
func TestMxAttentionFullyMasked(t *testing.T) {
	q := ir.FromSlice(mxF32(1, 0), 1, 1, 1, 2)
	k := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 1, 2, 2)
	v := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 1, 2, 2)
	mask := ir.FromSlice([]bool{false, false}, 1, 2)
	attrs := ir.Attrs{ir.IntAttr("qk_matmul_output_mode", 3)}
	out := runOp(t, "Attention", 24, attrs, 4, q, k, v, mask)
	assertClose(t, out[0], []int{1, 1, 1, 2}, []float64{0, 0}, 0)
	assertClose(t, out[3], []int{1, 1, 1, 2}, []float64{0, 0}, 0)
}

// 3-D inputs with 2 query heads sharing 1 kv head (MQA), a past cache and
// softcap; qk_matmul_output mode 0 is the raw scaled product.
func TestMxAttention3DPastGQA(t *testing.T) {
	q := ir.FromSlice(mxF32(2, 0, 0, 2), 1, 1, 4) // heads (2,0) and (0,2)
	k := ir.FromSlice(mxF32(0, 1), 1, 1, 2)
	v := ir.FromSlice(mxF32(5, 6), 1, 1, 2)
	pk := ir.FromSlice(mxF32(1, 0), 1, 1, 1, 2)
	pv := ir.FromSlice(mxF32(1, 2), 1, 1, 1, 2)
	attrs := ir.Attrs{ir.IntAttr("q_num_heads", 2), ir.IntAttr("kv_num_heads", 1),
		ir.FloatAttr("scale", 0.5), ir.FloatAttr("softcap", 1)}
	out := runOp(t, "Attention", 23, attrs, 4, q, k, v, nil, pk, pv)
	// head 0 scores (keys past, new): (1, 0); head 1: (0, 1); after softcap tanh.
	s := math.Tanh(1)
	p := math.Exp(s) / (math.Exp(s) + 1)
	y0 := []float64{p*1 + (1-p)*5, p*2 + (1-p)*6}
	y1 := []float64{(1-p)*1 + p*5, (1-p)*2 + p*6}
	assertClose(t, out[0], []int{1, 1, 4}, append(y0, y1...), 1e-6)
	assertClose(t, out[1], []int{1, 1, 2, 2}, []float64{1, 0, 0, 1}, 0)
	assertClose(t, out[2], []int{1, 1, 2, 2}, []float64{1, 2, 5, 6}, 0)
	assertClose(t, out[3], []int{1, 2, 1, 2}, []float64{1, 0, 0, 1}, 1e-6)
}

func TestMxAttentionErrors(t *testing.T) {
	q := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 1, 2, 2)
	bad := ir.FromSlice(mxF32(1, 0, 0), 1, 1, 1, 3)
	if _, err := tryOp("Attention", 23, nil, 1, q, bad, q); !errors.Is(err, errShape) {
		t.Errorf("K head size mismatch: %v", err)
	}
	q3 := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 2, 2)
	if _, err := tryOp("Attention", 23, nil, 1, q3, q3, q3); !errors.Is(err, errShape) {
		t.Errorf("3-D without head counts: %v", err)
	}
	mask := ir.FromSlice([]bool{true, true, true}, 3, 1)
	if _, err := tryOp("Attention", 23, nil, 1, q, q, q, mask); !errors.Is(err, errShape) {
		t.Errorf("mask that does not broadcast: %v", err)
	}
}

func TestMxRotaryEmbedding(t *testing.T) {
	// x (1, 1, 1, 4); angle θ with cos, sin caches indexed by position 1.
	c, s := math.Cos(0.3), math.Sin(0.3)
	x := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 1, 1, 4)
	cos := ir.FromSlice(mxF32(1, 1, float32(c), float32(c)), 2, 2)
	sin := ir.FromSlice(mxF32(0, 0, float32(s), float32(s)), 2, 2)
	pos := ir.FromSlice([]int64{1}, 1, 1)
	// halves: pairs (x0, x2), (x1, x3)
	half := []float64{c*1 - s*3, c*2 - s*4, s*1 + c*3, s*2 + c*4}
	out := runOp(t, "RotaryEmbedding", 23, nil, 1, x, cos, sin, pos)
	assertClose(t, out[0], []int{1, 1, 1, 4}, half, 1e-6)
	// interleaved: pairs (x0, x1), (x2, x3)
	inter := []float64{c*1 - s*2, s*1 + c*2, c*3 - s*4, s*3 + c*4}
	out = runOp(t, "RotaryEmbedding", 23, ir.Attrs{ir.IntAttr("interleaved", 1)}, 1, x, cos, sin, pos)
	assertClose(t, out[0], []int{1, 1, 1, 4}, inter, 1e-6)
	// partial rotation of the first 2 dims of a 3-D input with 1 head.
	x3 := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 1, 4)
	cos3 := ir.FromSlice(mxF32(float32(c)), 1, 1, 1)
	sin3 := ir.FromSlice(mxF32(float32(s)), 1, 1, 1)
	attrs := ir.Attrs{ir.IntAttr("num_heads", 1), ir.IntAttr("rotary_embedding_dim", 2)}
	out = runOp(t, "RotaryEmbedding", 23, attrs, 1, x3, cos3, sin3)
	assertClose(t, out[0], []int{1, 1, 4}, []float64{c*1 - s*2, s*1 + c*2, 3, 4}, 1e-6)
}

func TestMxSwiGLU(t *testing.T) {
	a := ir.FromSlice([]float64{1, -2}, 2)
	b := ir.FromSlice([]float64{3, 0.5}, 2)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	out := runOp(t, "SwiGLU", 28, ir.Attrs{ir.FloatAttr("alpha", 0.5)}, 1, a, b)
	assertClose(t, out[0], []int{2}, []float64{1 * sig(0.5) * 3, -2 * sig(-1) * 0.5}, 1e-12)
	if _, err := tryOp("SwiGLU", 28, nil, 1, a, ir.FromSlice([]float64{1}, 1)); !errors.Is(err, errShape) {
		t.Errorf("shape mismatch: %v", err)
	}
}

func TestMxFlexAttention(t *testing.T) {
	q := ir.FromSlice(mxF32(1, 0), 1, 1, 1, 2)
	k := ir.FromSlice(mxF32(1, 0, 0, 1), 1, 1, 2, 2)
	v := ir.FromSlice(mxF32(1, 2, 3, 4), 1, 1, 2, 2)
	e := math.Exp(1 / math.Sqrt2)
	p := e / (e + 1)
	out := runOp2(t, "ai.onnx.preview", "FlexAttention", 1, nil, 1, q, k, v)
	assertClose(t, out[0], []int{1, 1, 1, 2}, []float64{p + (1-p)*3, 2*p + (1-p)*4}, 1e-6)
}

// runOp2 is runOp for an op of another domain.
func runOp2(t *testing.T, domain, op string, version int, attrs ir.Attrs, numOut int, in ...*ir.Tensor) []*ir.Tensor {
	t.Helper()
	out, err := tryOp2(domain, op, version, attrs, numOut, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

// tryOp2 is tryOp for an op of another domain.
func tryOp2(domain, op string, version int, attrs ir.Attrs, numOut int, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	spec := &backends.OpSpec{Domain: domain, Op: op, Version: version, Attrs: attrs, NumOutputs: numOut}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		if x == nil {
			spec.InputTypes = append(spec.InputTypes, ir.Undefined)
			continue
		}
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(bufs)
	if err != nil {
		return nil, err
	}
	res := make([]*ir.Tensor, len(outs))
	for i, o := range outs {
		if o != nil {
			res[i] = o.(*Buf).T
		}
	}
	return res, nil
}
