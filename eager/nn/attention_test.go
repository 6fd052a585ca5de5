package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// refLinear is y = x Wᵀ + b on row-major host data: x [rows, in], w [out, in].
func refLinear(x, w, b []float64, rows, in, out int) []float64 {
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			s := 0.0
			if b != nil {
				s = b[o]
			}
			for i := 0; i < in; i++ {
				s += x[r*in+i] * w[o*in+i]
			}
			y[r*out+o] = s
		}
	}
	return y
}

// refMHA is multi-head attention in plain Go loops, float64: q [N,L,E],
// k, v [N,S,E]; allowed(n, i, j) says whether query i may see key j.
func refMHA(a *nn.MultiHeadAttention, q, k, v *eager.Tensor, allowed func(n, i, j int) bool) []float64 {
	n, l, s, e := q.Dim(0), q.Dim(1), k.Dim(1), q.Dim(2)
	h := a.NumHeads
	d := e / h
	w, b := a.InProjWeight.Floats64(), a.InProjBias.Floats64()
	qp := refLinear(q.Floats64(), w[:e*e], b[:e], n*l, e, e)
	kp := refLinear(k.Floats64(), w[e*e:2*e*e], b[e:2*e], n*s, e, e)
	vp := refLinear(v.Floats64(), w[2*e*e:], b[2*e:], n*s, e, e)
	ctx := make([]float64, n*l*e)
	for bn := 0; bn < n; bn++ {
		for hd := 0; hd < h; hd++ {
			for i := 0; i < l; i++ {
				sc := make([]float64, s)
				m := math.Inf(-1)
				for j := 0; j < s; j++ {
					sc[j] = math.Inf(-1)
					if !allowed(bn, i, j) {
						continue
					}
					dot := 0.0
					for c := 0; c < d; c++ {
						dot += qp[(bn*l+i)*e+hd*d+c] * kp[(bn*s+j)*e+hd*d+c]
					}
					sc[j] = dot / math.Sqrt(float64(d))
					m = max(m, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - m)
					sum += sc[j]
				}
				for j := range sc {
					for c := 0; c < d; c++ {
						ctx[(bn*l+i)*e+hd*d+c] += sc[j] / sum * vp[(bn*s+j)*e+hd*d+c]
					}
				}
			}
		}
	}
	return refLinear(ctx, a.OutProj.Weight.Floats64(), a.OutProj.Bias.Floats64(), n*l, e, e)
}

// newTestMHA makes float64 attention with non-zero biases.
func newTestMHA(e, h int) *nn.MultiHeadAttention {
	a := nn.NewMultiHeadAttention(e, h, nn.Seed(3), nn.DType(ir.Float64))
	must(a.InProjBias.Assign(eager.Mul(randF64(11, 3*e), eager.ScalarLike(a.InProjBias, 0.3))))
	must(a.OutProj.Bias.Assign(eager.Mul(randF64(12, e), eager.ScalarLike(a.OutProj.Bias, 0.3))))
	return a
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func TestMultiHeadAttentionMatchesReference(t *testing.T) {
	const n, l, s, e, h = 2, 3, 4, 8, 2
	a := newTestMHA(e, h)
	q, k, v := randF64(1, n, l, e), randF64(2, n, s, e), randF64(3, n, s, e)
	x := randF64(4, n, s, e)
	// A bool key-padding mask [N, 1, 1, S]: batch 1 cannot see its last key.
	pad := []bool{true, true, true, true, true, true, true, false}
	boolMask := eager.New(pad, n, 1, 1, s)
	// The same as an additive float mask.
	addMask := make([]float64, n*s)
	for i, ok := range pad {
		if !ok {
			addMask[i] = math.Inf(-1)
		}
	}
	all := func(_, _, _ int) bool { return true }
	padded := func(bn, _, j int) bool { return pad[bn*s+j] }
	for _, c := range []struct {
		name    string
		got     *eager.Tensor
		q, k, v *eager.Tensor
		allowed func(n, i, j int) bool
	}{
		{"cross", a.Attend(q, k, v, nn.AttendOptions{}), q, k, v, all},
		{"self", a.Forward(x), x, x, x, all},
		{"causal", a.Attend(x, x, x, nn.AttendOptions{Causal: true}), x, x, x, func(_, i, j int) bool { return j <= i }},
		{"bool-mask", a.Attend(q, k, v, nn.AttendOptions{Mask: boolMask}), q, k, v, padded},
		{"float-mask", a.Attend(q, k, v, nn.AttendOptions{Mask: eager.New(addMask, n, 1, 1, s)}), q, k, v, padded},
	} {
		want := eager.New(refMHA(a, c.q, c.k, c.v, c.allowed), c.got.Shape()...)
		if d := maxDiff(t, c.got, want); d > 1e-12 {
			t.Errorf("%s: differs from the plain-Go reference by %g", c.name, d)
		}
	}
}

// TestMultiHeadAttentionKVCache calls attention once per decoder step with a
// growing cache and checks each step against the full causal pass, and the
// gradients of the stepwise loop against those of the full pass.
func TestMultiHeadAttentionKVCache(t *testing.T) {
	const n, T, e, h = 2, 5, 8, 4
	a := newTestMHA(e, h)
	x := randF64(5, n, T, e)
	stepwise := func() *eager.Tensor {
		cache := &nn.KVCache{}
		var ys []*eager.Tensor
		for step := 0; step < T; step++ {
			xt := eager.Slice(x, []int{step}, []int{step + 1}, []int{1}) // [N, 1, E]
			ys = append(ys, a.Attend(xt, xt, xt, nn.AttendOptions{Causal: true, Cache: cache}))
			if cache.Len() != step+1 {
				t.Fatalf("after step %d the cache holds %d positions", step, cache.Len())
			}
		}
		return eager.Concat(1, ys...)
	}
	full := func() *eager.Tensor { return a.Attend(x, x, x, nn.AttendOptions{Causal: true}) }
	if d := maxDiff(t, stepwise(), full()); d > 1e-12 {
		t.Fatalf("stepwise decoding differs from the full causal pass by %g", d)
	}
	params := withInput(a, x)
	srcs := make([]*eager.Tensor, len(params))
	for i, p := range params {
		srcs[i] = p.T
	}
	w := randF64(6, n, T, e)
	tape := eager.NewTape()
	g1 := tape.Gradient(eager.Sum(eager.Mul(stepwise(), w)), srcs...)
	tape = eager.NewTape()
	g2 := tape.Gradient(eager.Sum(eager.Mul(full(), w)), srcs...)
	for i := range g1 {
		if d := maxDiff(t, g1[i], g2[i]); d > 1e-12 {
			t.Errorf("gradient of %s: stepwise and full passes differ by %g", params[i].Name, d)
		}
	}
	checkGrads(t, "stepwise attention", stepwise, params)
}

func TestMultiHeadAttentionGradients(t *testing.T) {
	a := newTestMHA(4, 2)
	q, k := randF64(1, 2, 3, 4), randF64(2, 2, 5, 4)
	mask := eager.New([]bool{true, false, true, true, true, true, true, true, false, true}, 2, 1, 1, 5)
	srcs := append(withInput(a, q), nn.Named{Name: "kv", T: k})
	checkGrads(t, "cross attention with mask", func() *eager.Tensor {
		return a.Attend(q, k, k, nn.AttendOptions{Mask: mask})
	}, srcs)
	checkGrads(t, "causal self-attention", func() *eager.Tensor {
		return a.Attend(k, k, k, nn.AttendOptions{Causal: true})
	}, withInput(a, k))
}

func TestMultiHeadAttentionNames(t *testing.T) {
	a := nn.NewMultiHeadAttention(6, 3, nn.Seed(1))
	want := []string{"in_proj_weight[18 6]", "in_proj_bias[18]", "out_proj.weight[6 6]", "out_proj.bias[6]"}
	got := nn.NamedParams(a)
	if len(got) != len(want) {
		t.Fatalf("%d parameters, want %d", len(got), len(want))
	}
	for i, p := range got {
		if s := p.Name + fmt.Sprint(p.T.Shape()); s != want[i] {
			t.Errorf("parameter %d is %s, want %s", i, s, want[i])
		}
	}
}
