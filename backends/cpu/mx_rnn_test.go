package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/keenml/keen/ir"
)

func mxF32(v ...float32) []float32 { return v }

// Hidden size 1, input size 1: every step is a scalar formula.
func TestMxRNNScalar(t *testing.T) {
	x := ir.FromSlice(mxF32(1, 2), 2, 1, 1) // seq 2, batch 1
	w := ir.FromSlice(mxF32(0.5), 1, 1, 1)
	r := ir.FromSlice(mxF32(0.2), 1, 1, 1)
	b := ir.FromSlice(mxF32(0.1, -0.3), 1, 2)
	h1 := math.Tanh(0.5 - 0.2)
	h2 := math.Tanh(1.0 + 0.2*h1 - 0.2)
	// reverse: starts from x=2
	r1 := math.Tanh(1.0 - 0.2)
	r0 := math.Tanh(0.5 + 0.2*r1 - 0.2)
	cases := []struct {
		name  string
		attrs ir.Attrs
		w, r  *ir.Tensor
		b     *ir.Tensor
		y     []float64
		yh    []float64
		shape []int
	}{
		{"forward", nil, w, r, b, []float64{h1, h2}, []float64{h2}, []int{2, 1, 1, 1}},
		{"reverse", ir.Attrs{ir.StringAttr("direction", "reverse")}, w, r, b, []float64{r0, r1}, []float64{r0}, []int{2, 1, 1, 1}},
		{"bidirectional", ir.Attrs{ir.StringAttr("direction", "bidirectional")},
			ir.FromSlice(mxF32(0.5, 0.5), 2, 1, 1), ir.FromSlice(mxF32(0.2, 0.2), 2, 1, 1),
			ir.FromSlice(mxF32(0.1, -0.3, 0.1, -0.3), 2, 2),
			[]float64{h1, r0, h2, r1}, []float64{h2, r0}, []int{2, 2, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attrs := append(ir.Attrs{ir.IntAttr("hidden_size", 1)}, c.attrs...)
			out := runOp(t, "RNN", 22, attrs, 2, x, c.w, c.r, c.b)
			assertClose(t, out[0], c.shape, c.y, 1e-6)
			assertClose(t, out[1], []int{c.shape[1], 1, 1}, c.yh, 1e-6)
		})
	}
}

// Batch 2 with sequence_lens [2, 1] in layout 1: the short row stops early,
// its padded output is zero and Y_h holds its last real step.
func TestMxRNNSeqLensLayout1(t *testing.T) {
	x := ir.FromSlice(mxF32(1, 2, 3, 9), 2, 2, 1) // (batch, seq, input)
	w := ir.FromSlice(mxF32(1), 1, 1, 1)
	r := ir.FromSlice(mxF32(0.5), 1, 1, 1)
	lens := ir.FromSlice([]int32{2, 1}, 2)
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 1), ir.IntAttr("layout", 1), mxStringsAttr("activations", "Relu")}
	out := runOp(t, "RNN", 22, attrs, 2, x, w, r, nil, lens)
	// row 0: 1, 2+0.5 = 2.5; row 1: 3 then padding
	assertClose(t, out[0], []int{2, 2, 1, 1}, []float64{1, 2.5, 3, 0}, 1e-6)
	assertClose(t, out[1], []int{2, 1, 1}, []float64{2.5, 3}, 1e-6)
}

func TestMxGRU(t *testing.T) {
	// hidden 1, input 1, one step from h0 = 0.5; W = [z r h], R = [z r h].
	x := ir.FromSlice(mxF32(1), 1, 1, 1)
	w := ir.FromSlice(mxF32(0.3, -0.2, 0.7), 1, 3, 1)
	r := ir.FromSlice(mxF32(0.4, 0.6, -0.5), 1, 3, 1)
	b := ir.FromSlice(mxF32(0, 0, 0.1, 0, 0, 0.2), 1, 6)
	h0 := ir.FromSlice(mxF32(0.5), 1, 1, 1)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	z := sig(0.3 + 0.4*0.5)
	rr := sig(-0.2 + 0.6*0.5)
	hDefault := math.Tanh(0.7 + 0.1 + (rr*0.5)*-0.5 + 0.2)
	hLinear := math.Tanh(0.7 + 0.1 + rr*(0.5*-0.5+0.2))
	for _, c := range []struct {
		lbr  int64
		want float64
	}{{0, (1-z)*hDefault + z*0.5}, {1, (1-z)*hLinear + z*0.5}} {
		attrs := ir.Attrs{ir.IntAttr("hidden_size", 1), ir.IntAttr("linear_before_reset", c.lbr)}
		out := runOp(t, "GRU", 22, attrs, 2, x, w, r, b, nil, h0)
		assertClose(t, out[1], []int{1, 1, 1}, []float64{c.want}, 1e-6)
	}
}

func TestMxLSTM(t *testing.T) {
	// hidden 1, input 1, one step; W = [i o f c].
	x := ir.FromSlice(mxF32(1), 1, 1, 1)
	w := ir.FromSlice(mxF32(0.1, 0.2, 0.3, 0.4), 1, 4, 1)
	r := ir.FromSlice(mxF32(0.5, 0.6, 0.7, 0.8), 1, 4, 1)
	h0 := ir.FromSlice(mxF32(0.2), 1, 1, 1)
	c0 := ir.FromSlice(mxF32(0.3), 1, 1, 1)
	p := ir.FromSlice(mxF32(0.05, 0.1, 0.15), 1, 3) // i o f
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	clip := func(v, c float64) float64 { return math.Max(-c, math.Min(c, v)) }
	step := func(peep bool, inputForget bool, cl float64) (float64, float64) {
		pi, po, pf := 0.0, 0.0, 0.0
		if peep {
			pi, po, pf = 0.05, 0.1, 0.15
		}
		i := sig(clip(0.1+0.5*0.2+pi*0.3, cl))
		f := sig(clip(0.3+0.7*0.2+pf*0.3, cl))
		if inputForget {
			f = 1 - i
		}
		g := math.Tanh(clip(0.4+0.8*0.2, cl))
		c := f*0.3 + i*g
		o := sig(clip(0.2+0.6*0.2+po*c, cl))
		return o * math.Tanh(c), c
	}
	for _, tc := range []struct {
		name  string
		attrs ir.Attrs
		p     *ir.Tensor
		peep  bool
		inf   bool
		clip  float64
	}{
		{"plain", nil, nil, false, false, 100},
		{"peepholes", nil, p, true, false, 100},
		{"input_forget", ir.Attrs{ir.IntAttr("input_forget", 1)}, nil, false, true, 100},
		{"clip", ir.Attrs{ir.FloatAttr("clip", 0.25)}, nil, false, false, 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := append(ir.Attrs{ir.IntAttr("hidden_size", 1)}, tc.attrs...)
			out := runOp(t, "LSTM", 22, attrs, 3, x, w, r, nil, nil, h0, c0, tc.p)
			h, c := step(tc.peep, tc.inf, tc.clip)
			assertClose(t, out[0], []int{1, 1, 1, 1}, []float64{h}, 1e-6)
			assertClose(t, out[1], []int{1, 1, 1}, []float64{h}, 1e-6)
			assertClose(t, out[2], []int{1, 1, 1}, []float64{c}, 1e-6)
		})
	}
}

// Activation attributes: HardSigmoid with explicit alpha/beta as f and
// Affine as g/h (alpha, beta consumed in order by the functions using them).
func TestMxLSTMActivations(t *testing.T) {
	x := ir.FromSlice([]float64{1}, 1, 1, 1)
	w := ir.FromSlice([]float64{0.1, 0.2, 0.3, 0.4}, 1, 4, 1)
	r := ir.FromSlice([]float64{0, 0, 0, 0}, 1, 4, 1)
	attrs := ir.Attrs{ir.IntAttr("hidden_size", 1),
		mxStringsAttr("activations", "HardSigmoid", "Affine", "Affine"),
		ir.FloatsAttr("activation_alpha", 0.5, 2, 3),
		ir.FloatsAttr("activation_beta", 0.1, 1, -1)}
	out := runOp(t, "LSTM", 22, attrs, 3, x, w, r)
	hs := func(v float64) float64 { return math.Min(math.Max(0.5*v+0.1, 0), 1) }
	c := hs(0.1) * (2*0.4 + 1)
	h := hs(0.2) * (3*c - 1)
	assertClose(t, out[1], []int{1, 1, 1}, []float64{h}, 1e-6)
	assertClose(t, out[2], []int{1, 1, 1}, []float64{c}, 1e-6)
}

func TestMxRNNErrors(t *testing.T) {
	x := ir.FromSlice(mxF32(1, 2), 2, 1, 1)
	w := ir.FromSlice(mxF32(0.5), 1, 1, 1)
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    []*ir.Tensor
		want  error
	}{
		{"no hidden_size", nil, []*ir.Tensor{x, w, w}, errAttr},
		{"bad W shape", ir.Attrs{ir.IntAttr("hidden_size", 2)}, []*ir.Tensor{x, w, w}, errShape},
		{"bad direction", ir.Attrs{ir.IntAttr("hidden_size", 1), ir.StringAttr("direction", "up")}, []*ir.Tensor{x, w, w}, errAttr},
		{"bad activation", ir.Attrs{ir.IntAttr("hidden_size", 1), mxStringsAttr("activations", "Cube")}, []*ir.Tensor{x, w, w}, errAttr},
		{"seq len too long", ir.Attrs{ir.IntAttr("hidden_size", 1)}, []*ir.Tensor{x, w, w, nil, ir.FromSlice([]int32{3}, 1)}, errInput},
		{"rank 2 X", ir.Attrs{ir.IntAttr("hidden_size", 1)}, []*ir.Tensor{ir.FromSlice(mxF32(1), 1, 1), w, w}, errShape},
	}
	for _, c := range cases {
		if _, err := tryOp("RNN", 22, c.attrs, 2, c.in...); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func mxStringsAttr(name string, v ...string) ir.Attr {
	return ir.Attr{Name: name, Type: ir.AttrStrings, Strings: v}
}
