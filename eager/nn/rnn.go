package nn

import (
	"fmt"
	"strconv"

	"github.com/keenml/keen/eager"
)

// LSTM and GRU are written with eager ops in a plain Go loop over time
// steps: they differentiate through the ops' own gradient rules, and a trace
// of them exports as ordinary ONNX nodes (the loop unrolled for the traced
// sequence length). Parameters follow PyTorch's names and layouts, so state
// dicts move between the two unchanged.

// RNNOptions are a recurrent layer's geometry.
type RNNOptions struct {
	NumLayers     int  // stacked layers (0 means 1)
	BatchFirst    bool // input and output are [N, T, F] instead of [T, N, F]
	Bidirectional bool // a second, reversed direction per layer
}

// RNNWeights are one layer and direction of a recurrent layer in PyTorch's
// layout; the gate blocks are stacked along dimension 0 (i, f, g, o for an
// LSTM; r, z, n for a GRU).
type RNNWeights struct {
	WeightIH *eager.Tensor // [gates*hidden, in]
	WeightHH *eager.Tensor // [gates*hidden, hidden]
	BiasIH   *eager.Tensor // [gates*hidden]; nil with NoBias
	BiasHH   *eager.Tensor // [gates*hidden]; nil with NoBias
}

// RNNState is the hidden state of a recurrent layer between calls:
// [layers*directions, N, hidden] each (C only for an LSTM), ordered
// layer-major as PyTorch's h_n and c_n.
type RNNState struct {
	H, C *eager.Tensor
}

// LSTM is a multi-layer long short-term memory layer (PyTorch's nn.LSTM):
//
//	i = σ(x Wiiᵀ + bii + h Whiᵀ + bhi)   f = σ(...)   g = tanh(...)   o = σ(...)
//	c' = f ⊙ c + i ⊙ g                  h' = o ⊙ tanh(c')
type LSTM struct {
	InputSize, HiddenSize int
	RNNOptions
	Cells []*RNNWeights // Cells[layer*directions + direction]
}

// GRU is a multi-layer gated recurrent unit (PyTorch's nn.GRU, which is
// ONNX's GRU with linear_before_reset=1):
//
//	r = σ(x Wirᵀ + bir + h Whrᵀ + bhr)   z = σ(...)
//	n = tanh(x Winᵀ + bin + r ⊙ (h Whnᵀ + bhn))   h' = (1-z) ⊙ n + z ⊙ h
type GRU struct {
	InputSize, HiddenSize int
	RNNOptions
	Cells []*RNNWeights
}

// NewLSTM makes an LSTM with PyTorch's initialization: every weight and
// bias uniform in ±1/√hidden.
func NewLSTM(in, hidden int, ro RNNOptions, opts ...Option) *LSTM {
	ro.NumLayers = max(ro.NumLayers, 1)
	return &LSTM{InputSize: in, HiddenSize: hidden, RNNOptions: ro, Cells: newCells(in, hidden, 4, ro, opts)}
}

// NewGRU makes a GRU with PyTorch's initialization.
func NewGRU(in, hidden int, ro RNNOptions, opts ...Option) *GRU {
	ro.NumLayers = max(ro.NumLayers, 1)
	return &GRU{InputSize: in, HiddenSize: hidden, RNNOptions: ro, Cells: newCells(in, hidden, 3, ro, opts)}
}

func (o RNNOptions) dirs() int {
	if o.Bidirectional {
		return 2
	}
	return 1
}

func newCells(in, hidden, gates int, ro RNNOptions, opts []Option) []*RNNWeights {
	c := newConfig(opts)
	r := c.rng()
	b := kaimingBound(hidden)
	var cells []*RNNWeights
	for l := 0; l < ro.NumLayers; l++ {
		lin := in
		if l > 0 {
			lin = hidden * ro.dirs()
		}
		for d := 0; d < ro.dirs(); d++ {
			w := &RNNWeights{WeightIH: uniform(c, r, b, gates*hidden, lin), WeightHH: uniform(c, r, b, gates*hidden, hidden)}
			if !c.noBias {
				w.BiasIH = uniform(c, r, b, gates*hidden)
				w.BiasHH = uniform(c, r, b, gates*hidden)
			}
			cells = append(cells, w)
		}
	}
	return cells
}

// NamedTensors names the parameters as PyTorch does: weight_ih_l0,
// weight_hh_l0, bias_ih_l0, bias_hh_l0, then ..._l0_reverse, ..._l1.
func (l *LSTM) NamedTensors() []Named { return rnnNames(l.Cells, l.dirs()) }

// NamedTensors names the parameters as PyTorch does (see LSTM.NamedTensors).
func (g *GRU) NamedTensors() []Named { return rnnNames(g.Cells, g.dirs()) }

func rnnNames(cells []*RNNWeights, dirs int) []Named {
	var out []Named
	for i, c := range cells {
		sfx := "_l" + strconv.Itoa(i/dirs)
		if i%dirs == 1 {
			sfx += "_reverse"
		}
		for _, p := range []struct {
			name string
			t    *eager.Tensor
		}{{"weight_ih", c.WeightIH}, {"weight_hh", c.WeightHH}, {"bias_ih", c.BiasIH}, {"bias_hh", c.BiasHH}} {
			if p.t != nil {
				out = append(out, Named{Name: p.name + sfx, T: p.t})
			}
		}
	}
	return out
}

// Forward runs the LSTM from a zero state and returns the last layer's
// outputs: [T, N, dirs*hidden] ([N, T, ...] with BatchFirst).
func (l *LSTM) Forward(x *eager.Tensor) *eager.Tensor {
	y, _ := l.Run(x, nil)
	return y
}

// Run runs the LSTM from state s (zeros when nil) and returns the outputs
// and the final state (h_n, c_n).
func (l *LSTM) Run(x *eager.Tensor, s *RNNState) (*eager.Tensor, *RNNState) {
	return runRNN("LSTM", l.InputSize, l.HiddenSize, l.RNNOptions, l.Cells, x, s, lstmDirection)
}

// Forward runs the GRU from a zero state and returns the last layer's outputs.
func (g *GRU) Forward(x *eager.Tensor) *eager.Tensor {
	y, _ := g.Run(x, nil)
	return y
}

// Run runs the GRU from state s (zeros when nil; only H is used) and
// returns the outputs and the final state (h_n).
func (g *GRU) Run(x *eager.Tensor, s *RNNState) (*eager.Tensor, *RNNState) {
	return runRNN("GRU", g.InputSize, g.HiddenSize, g.RNNOptions, g.Cells, x, s, gruDirection)
}

// direction runs one layer in one direction over xs [T, N, in] from h, c
// (nil: zeros) and returns the outputs per step, in time order, and the
// final h and c.
type direction func(w *RNNWeights, xs *eager.Tensor, h, c *eager.Tensor, reverse bool) (ys []*eager.Tensor, hT, cT *eager.Tensor)

func runRNN(op string, in, hidden int, ro RNNOptions, cells []*RNNWeights, x *eager.Tensor, s *RNNState, run direction) (*eager.Tensor, *RNNState) {
	if x.Rank() != 3 || x.Dim(2) != in {
		panic(fmt.Sprintf("nn: %s: input of shape %v, want [T, N, %d] (or [N, T, %d] with BatchFirst)", op, x.Shape(), in, in))
	}
	dirs := ro.dirs()
	if want := ro.NumLayers * dirs; len(cells) != want {
		panic(fmt.Sprintf("nn: %s: %d weight sets for %d layers × %d directions", op, len(cells), ro.NumLayers, dirs))
	}
	if ro.BatchFirst {
		x = eager.Transpose(x, 1, 0, 2)
	}
	var h0, c0 []*eager.Tensor
	if s != nil {
		h0 = unstack(s.H, len(cells))
		if s.C != nil {
			c0 = unstack(s.C, len(cells))
		}
	}
	var hs, cs []*eager.Tensor
	for l := 0; l < ro.NumLayers; l++ {
		outs := make([]*eager.Tensor, dirs)
		for d := 0; d < dirs; d++ {
			i := l*dirs + d
			var h, c *eager.Tensor
			if h0 != nil {
				h = h0[i]
			}
			if c0 != nil {
				c = c0[i]
			}
			ys, hT, cT := run(cells[i], x, h, c, d == 1)
			outs[d] = stack(ys)
			hs = append(hs, hT)
			if cT != nil {
				cs = append(cs, cT)
			}
		}
		x = outs[0]
		if dirs == 2 {
			x = eager.Concat(2, outs[0], outs[1])
		}
	}
	if ro.BatchFirst {
		x = eager.Transpose(x, 1, 0, 2)
	}
	st := &RNNState{H: stack(hs)}
	if len(cs) > 0 {
		st.C = stack(cs)
	}
	return x, st
}

// stack joins same-shaped tensors along a new leading axis.
func stack(ts []*eager.Tensor) *eager.Tensor {
	parts := make([]*eager.Tensor, len(ts))
	for i, t := range ts {
		parts[i] = eager.Unsqueeze(t, 0)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return eager.Concat(0, parts...)
}

// unstack splits x along axis 0 into its n slices (the axis removed).
func unstack(x *eager.Tensor, n int) []*eager.Tensor {
	if x.Dim(0) != n {
		panic(fmt.Sprintf("nn: initial state of shape %v, want %d entries along dimension 0", x.Shape(), n))
	}
	// A new slice: the one an op returns is also its tape record's.
	out := make([]*eager.Tensor, n)
	for i, p := range split(x, 0, n) {
		out[i] = eager.Squeeze(p, 0)
	}
	return out
}

// split cuts x into n equal parts along axis with one Split op.
func split(x *eager.Tensor, axis, n int) []*eager.Tensor {
	if n == 1 {
		return []*eager.Tensor{x}
	}
	sizes := make([]int64, n)
	for i := range sizes {
		sizes[i] = int64(x.Dim(axis) / n)
	}
	return eager.Op("Split", axisAttr(axis), n, x, eager.Int64s(x, sizes...))
}

// inputProjection is x Wᵀ + bias for all steps at once: [T, N, gates*hidden].
func inputProjection(x, w, bias *eager.Tensor) *eager.Tensor {
	y := eager.MatMul(x, eager.Transpose(w))
	if bias != nil {
		y = eager.Add(y, bias)
	}
	return y
}

// steps splits the projections [T, N, G] into T tensors [N, G].
func steps(xp *eager.Tensor) []*eager.Tensor { return unstack(xp, xp.Dim(0)) }

// order visits time steps forwards or backwards.
func order(n int, reverse bool) []int {
	ts := make([]int, n)
	for i := range ts {
		ts[i] = i
		if reverse {
			ts[i] = n - 1 - i
		}
	}
	return ts
}

func lstmDirection(w *RNNWeights, xs, h, c *eager.Tensor, reverse bool) ([]*eager.Tensor, *eager.Tensor, *eager.Tensor) {
	var bias *eager.Tensor
	if w.BiasIH != nil {
		bias = eager.Add(w.BiasIH, w.BiasHH)
	}
	xt := steps(inputProjection(xs, w.WeightIH, bias))
	ys := make([]*eager.Tensor, len(xt))
	for _, t := range order(len(xt), reverse) {
		gates := xt[t]
		if h != nil {
			gates = eager.Gemm(h, w.WeightHH, gates, 1, 1, false, true)
		}
		g := split(gates, 1, 4)
		i, f, cand, o := eager.Sigmoid(g[0]), eager.Sigmoid(g[1]), eager.Tanh(g[2]), eager.Sigmoid(g[3])
		if c == nil {
			c = eager.Mul(i, cand)
		} else {
			c = eager.Add(eager.Mul(f, c), eager.Mul(i, cand))
		}
		h = eager.Mul(o, eager.Tanh(c))
		ys[t] = h
	}
	return ys, h, c
}

func gruDirection(w *RNNWeights, xs, h, _ *eager.Tensor, reverse bool) ([]*eager.Tensor, *eager.Tensor, *eager.Tensor) {
	xt := steps(inputProjection(xs, w.WeightIH, w.BiasIH))
	var bh []*eager.Tensor // the recurrent bias per gate, for a zero h
	if w.BiasHH != nil {
		bh = split(w.BiasHH, 0, 3)
	}
	ys := make([]*eager.Tensor, len(xt))
	for _, t := range order(len(xt), reverse) {
		xg := split(xt[t], 1, 3)
		hg := bh
		if h != nil {
			hg = split(eager.Gemm(h, w.WeightHH, w.BiasHH, 1, 1, false, true), 1, 3)
		}
		r, z := xg[0], xg[1]
		if hg != nil {
			r, z = eager.Add(r, hg[0]), eager.Add(z, hg[1])
		}
		r, z = eager.Sigmoid(r), eager.Sigmoid(z)
		n := xg[2]
		if hg != nil {
			n = eager.Add(n, eager.Mul(r, hg[2]))
		}
		n = eager.Tanh(n)
		if h == nil {
			h = eager.Sub(n, eager.Mul(z, n))
		} else {
			h = eager.Add(n, eager.Mul(z, eager.Sub(h, n)))
		}
		ys[t] = h
	}
	return ys, h, nil
}
