package nn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// onnxGates reorders PyTorch's gate blocks (stacked along dim 0 of w) into
// ONNX's order: perm[i] is the PyTorch block that goes to ONNX position i.
func onnxGates(w *eager.Tensor, perm []int) *eager.Tensor {
	parts := eager.Op("Split", ir.Attrs{ir.IntAttr("axis", 0)}, len(perm), w,
		eager.Int64s(w, repeatInt(int64(w.Dim(0)/len(perm)), len(perm))...))
	out := make([]*eager.Tensor, len(perm))
	for i, p := range perm {
		out[i] = parts[p]
	}
	return eager.Concat(0, out...)
}

func repeatInt(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// onnxRecurrent runs a PyTorch-layout recurrent layer with the ONNX LSTM or
// GRU op, one ONNX node per layer, and returns Y [T, N, dirs*H] and Y_h.
func onnxRecurrent(op string, cells []*nn.RNNWeights, layers, dirs, hidden int, x, h0, c0 *eager.Tensor) (*eager.Tensor, *eager.Tensor) {
	perm := []int{0, 3, 1, 2} // LSTM: PyTorch i f g o -> ONNX i o f c
	attrs := ir.Attrs{ir.IntAttr("hidden_size", int64(hidden))}
	if op == "GRU" {
		perm = []int{1, 0, 2} // GRU: PyTorch r z n -> ONNX z r h
		attrs = append(attrs, ir.IntAttr("linear_before_reset", 1))
	}
	if dirs == 2 {
		attrs = append(attrs, ir.StringAttr("direction", "bidirectional"))
	}
	nout := 2
	if op == "LSTM" {
		nout = 3
	}
	var hs []*eager.Tensor
	for l := 0; l < layers; l++ {
		var ws, rs, bs []*eager.Tensor
		for d := 0; d < dirs; d++ {
			c := cells[l*dirs+d]
			ws = append(ws, eager.Unsqueeze(onnxGates(c.WeightIH, perm), 0))
			rs = append(rs, eager.Unsqueeze(onnxGates(c.WeightHH, perm), 0))
			bs = append(bs, eager.Unsqueeze(eager.Concat(0, onnxGates(c.BiasIH, perm), onnxGates(c.BiasHH, perm)), 0))
		}
		in := []*eager.Tensor{x, eager.Concat(0, ws...), eager.Concat(0, rs...), eager.Concat(0, bs...), nil}
		if h0 != nil {
			in = append(in, eager.Slice(h0, []int{l * dirs}, []int{(l + 1) * dirs}, []int{0}))
			if c0 != nil {
				in = append(in, eager.Slice(c0, []int{l * dirs}, []int{(l + 1) * dirs}, []int{0}))
			}
		}
		outs := eager.Op(op, attrs, nout, in...)
		y := outs[0] // [T, D, N, H]
		x = eager.Reshape(eager.Transpose(y, 0, 2, 1, 3), 0, 0, -1)
		hs = append(hs, outs[1])
	}
	return x, eager.Concat(0, hs...)
}

func TestRecurrentMatchesONNXOps(t *testing.T) {
	const in, hidden, T, N = 3, 4, 5, 2
	for _, op := range []string{"LSTM", "GRU"} {
		for _, geo := range []struct {
			name string
			ro   nn.RNNOptions
		}{{"1layer", nn.RNNOptions{}}, {"2layers-bidir", nn.RNNOptions{NumLayers: 2, Bidirectional: true}},
			{"2layers-batchfirst", nn.RNNOptions{NumLayers: 2, BatchFirst: true}}} {
			ro := geo.ro
			for _, withState := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/state=%v", op, geo.name, withState)
				t.Run(name, func(t *testing.T) {
					layers, dirs := max(ro.NumLayers, 1), 1
					if ro.Bidirectional {
						dirs = 2
					}
					x := randF64(1, T, N, in)
					var s *nn.RNNState
					var h0, c0 *eager.Tensor
					if withState {
						h0, c0 = randF64(2, layers*dirs, N, hidden), randF64(3, layers*dirs, N, hidden)
						s = &nn.RNNState{H: h0}
						if op == "LSTM" {
							s.C = c0
						} else {
							c0 = nil
						}
					}
					var cells []*nn.RNNWeights
					var y *eager.Tensor
					var st *nn.RNNState
					xin := x
					if ro.BatchFirst {
						xin = eager.Transpose(x, 1, 0, 2)
					}
					if op == "LSTM" {
						l := nn.NewLSTM(in, hidden, ro, nn.Seed(4), nn.DType(ir.Float64))
						cells = l.Cells
						y, st = l.Run(xin, s)
					} else {
						g := nn.NewGRU(in, hidden, ro, nn.Seed(4), nn.DType(ir.Float64))
						cells = g.Cells
						y, st = g.Run(xin, s)
					}
					if ro.BatchFirst {
						y = eager.Transpose(y, 1, 0, 2)
					}
					wantY, wantH := onnxRecurrent(op, cells, layers, dirs, hidden, x, h0, c0)
					if d := maxDiff(t, y, wantY); d > 1e-12 {
						t.Errorf("output differs from the ONNX %s op by %g", op, d)
					}
					if d := maxDiff(t, st.H, wantH); d > 1e-12 {
						t.Errorf("h_n differs from the ONNX %s op by %g", op, d)
					}
					if got, want := fmt.Sprint(y.Shape()), fmt.Sprint([]int{T, N, dirs * hidden}); got != want {
						t.Errorf("output shape %s, want %s", got, want)
					}
				})
			}
		}
	}
}

func TestRecurrentParameterNames(t *testing.T) {
	l := nn.NewLSTM(3, 4, nn.RNNOptions{NumLayers: 2, Bidirectional: true}, nn.Seed(1))
	var names []string
	for _, p := range nn.NamedParams(l) {
		names = append(names, fmt.Sprintf("%s%v", p.Name, p.T.Shape()))
	}
	want := "weight_ih_l0[16 3] weight_hh_l0[16 4] bias_ih_l0[16] bias_hh_l0[16] " +
		"weight_ih_l0_reverse[16 3] weight_hh_l0_reverse[16 4] bias_ih_l0_reverse[16] bias_hh_l0_reverse[16] " +
		"weight_ih_l1[16 8] weight_hh_l1[16 4] bias_ih_l1[16] bias_hh_l1[16] " +
		"weight_ih_l1_reverse[16 8] weight_hh_l1_reverse[16 4] bias_ih_l1_reverse[16] bias_hh_l1_reverse[16]"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("names\n%s\nwant\n%s", got, want)
	}
	g := nn.NewGRU(2, 5, nn.RNNOptions{}, nn.NoBias())
	names = names[:0]
	for _, p := range nn.NamedParams(struct{ GRU *nn.GRU }{g}) {
		names = append(names, fmt.Sprintf("%s%v", p.Name, p.T.Shape()))
	}
	if got, want := strings.Join(names, " "), "gru.weight_ih_l0[15 2] gru.weight_hh_l0[15 5]"; got != want {
		t.Fatalf("nested names %q, want %q", got, want)
	}
}

func TestRecurrentGradients(t *testing.T) {
	ro := nn.RNNOptions{NumLayers: 2, Bidirectional: true}
	for _, op := range []string{"LSTM", "GRU"} {
		for _, withState := range []bool{false, true} {
			x := randF64(5, 3, 2, 2)
			var s *nn.RNNState
			h0, c0 := randF64(6, 4, 2, 3), randF64(7, 4, 2, 3)
			if withState {
				s = &nn.RNNState{H: h0}
			}
			var layer any
			var run func() (*eager.Tensor, *nn.RNNState)
			if op == "LSTM" {
				l := nn.NewLSTM(2, 3, ro, nn.Seed(8), nn.DType(ir.Float64))
				if withState {
					s.C = c0
				}
				layer, run = l, func() (*eager.Tensor, *nn.RNNState) { return l.Run(x, s) }
			} else {
				g := nn.NewGRU(2, 3, ro, nn.Seed(8), nn.DType(ir.Float64))
				layer, run = g, func() (*eager.Tensor, *nn.RNNState) { return g.Run(x, s) }
			}
			srcs := withInput(layer, x)
			if withState {
				srcs = append(srcs, nn.Named{Name: "h0", T: h0})
				if op == "LSTM" {
					srcs = append(srcs, nn.Named{Name: "c0", T: c0})
				}
			}
			// Both the outputs and the final state carry gradient.
			f := func() *eager.Tensor {
				y, st := run()
				parts := []*eager.Tensor{eager.Reshape(y, -1), eager.Reshape(st.H, -1)}
				if st.C != nil {
					parts = append(parts, eager.Reshape(st.C, -1))
				}
				return eager.Concat(0, parts...)
			}
			checkGrads(t, fmt.Sprintf("%s state=%v", op, withState), f, srcs)
		}
	}
}
