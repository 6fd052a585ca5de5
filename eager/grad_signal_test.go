package eager_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

func TestGradSignal(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	scalar := func(v int64) *ir.Tensor { return ir.FromSlice([]int64{v}) }
	inverse := ir.IntAttr("inverse", 1)
	onesided := ir.IntAttr("onesided", 1)
	dftCases := []gradCase{
		{name: "complex, length 5", in: []*ir.Tensor{any(2, 5, 2)}},
		{name: "real onesided, length 8", attrs: ir.Attrs{onesided}, in: []*ir.Tensor{any(2, 8, 1)}},
		{name: "complex onesided odd", attrs: ir.Attrs{onesided}, in: []*ir.Tensor{any(3, 7, 2)}},
		{name: "inverse zero-padded to 6", attrs: ir.Attrs{inverse}, in: []*ir.Tensor{any(3, 4, 2), scalar(6)}},
		{name: "truncated to 4", in: []*ir.Tensor{any(2, 7, 2), scalar(4)}},
		{name: "real truncated onesided", attrs: ir.Attrs{onesided}, in: []*ir.Tensor{any(2, 7, 1), scalar(5)}},
		{name: "irfft even", attrs: ir.Attrs{inverse, onesided}, in: []*ir.Tensor{any(2, 5, 2)}},
		{name: "irfft odd length 7", attrs: ir.Attrs{inverse, onesided}, in: []*ir.Tensor{any(2, 4, 2), scalar(7)}},
		{name: "irfft real, extra bins", attrs: ir.Attrs{inverse, onesided}, in: []*ir.Tensor{any(1, 6, 1), scalar(6)}},
		{name: "irfft few bins", attrs: ir.Attrs{inverse, onesided}, in: []*ir.Tensor{any(1, 2, 2), scalar(8)}},
		{name: "axis 0 input", in: []*ir.Tensor{any(4, 3, 2), nil, scalar(0)}},
		{name: "axis -3 inverse length 3", attrs: ir.Attrs{inverse}, in: []*ir.Tensor{any(2, 3, 2, 2), scalar(3), scalar(-3)}},
		{name: "opset 17 axis 2", attrs: ir.Attrs{ir.IntAttr("axis", 2)}, in: []*ir.Tensor{any(2, 3, 4, 2)}, version: 17},
		{name: "opset 17 default axis onesided", attrs: ir.Attrs{onesided}, in: []*ir.Tensor{any(2, 6, 3, 1)}, version: 17},
	}
	for _, c := range dftCases {
		c.op, c.diff = "DFT", []int{0}
		t.Run("DFT "+c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	stftCases := []gradCase{
		{name: "STFT real window onesided", in: []*ir.Tensor{any(2, 10, 1), scalar(3), any(4)}, diff: []int{0, 2}},
		{name: "STFT complex frame_length", in: []*ir.Tensor{any(1, 9, 2), scalar(2), nil, scalar(5)}, diff: []int{0}},
		{name: "STFT real two-sided window", attrs: ir.Attrs{ir.IntAttr("onesided", 0)}, in: []*ir.Tensor{any(1, 8, 1), scalar(2), any(5), scalar(5)}, diff: []int{0, 2}},
	}
	for _, c := range stftCases {
		c.op = "STFT"
		t.Run(c.name, func(t *testing.T) { checkRecomputed(t, c) })
	}
}

// DFT's rule is built of DFTs, so it can be differentiated again.
func TestGradDFTSecondOrder(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	w := eager.New(randT(r, -1, 1, 2, 4, 2).Data.([]float64), 2, 4, 2)
	checkSecondOrder(t, "DFT onesided", []*ir.Tensor{randT(r, -1, 1, 2, 6, 2)}, []int{0}, 0, func(xs []*eager.Tensor) *eager.Tensor {
		y := eager.Op("DFT", ir.Attrs{ir.IntAttr("onesided", 1)}, 1, xs[0])[0]
		return eager.Sum(eager.Mul(eager.Mul(y, y), w))
	}, nonzero())
}

// Every op of the recurrent, attention and signal families has a rule or
// is marked non-differentiable.
func TestGradRecurrentAttentionSignalCoverage(t *testing.T) {
	ops := [][2]string{{"", "RNN"}, {"", "GRU"}, {"", "LSTM"}, {"", "Attention"}, {"", "RotaryEmbedding"},
		{"", "SwiGLU"}, {"ai.onnx.preview", "FlexAttention"}, {"", "DFT"}, {"", "STFT"}, {"", "HannWindow"},
		{"", "HammingWindow"}, {"", "BlackmanWindow"}, {"", "MelWeightMatrix"}}
	for _, o := range ops {
		if len(ir.SchemaVersions(o[0], o[1])) == 0 {
			t.Errorf("%s: no schema", o[1])
		}
		rule, nd := eager.GradientStatus(o[0], o[1])
		if rule == nd {
			t.Errorf("%s: has rule %v, non-differentiable %v: want exactly one", o[1], rule, nd)
		}
	}
}
