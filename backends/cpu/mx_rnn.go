package cpu

// Shared parts of the recurrent ops RNN, GRU and LSTM: attribute parsing,
// input validation, layout conversion and the time-step schedule.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// mxRNNConf is the parsed attribute set of one recurrent node.
type mxRNNConf struct {
	op      string
	gates   int // gate blocks in W: 1 (RNN), 3 (GRU), 4 (LSTM)
	hidden  int
	dirs    int
	reverse [2]bool
	layout  int
	clip    float64 // 0: no clipping
	acts    [][]mxAct
	// LSTM input_forget / GRU linear_before_reset.
	flag bool
}

// mxParseRNN reads the attributes common to the recurrent ops. defActs are
// the default activations of one direction.
func mxParseRNN(s *backends.OpSpec, gates int, defActs []string) (*mxRNNConf, error) {
	c := &mxRNNConf{op: s.Op, gates: gates, dirs: 1}
	c.hidden = int(s.Attrs.Int("hidden_size", 0))
	if c.hidden <= 0 {
		return nil, fmt.Errorf("%s: %w: hidden_size %d must be positive", s.Op, errAttr, c.hidden)
	}
	switch dir := s.Attrs.Str("direction", "forward"); dir {
	case "forward":
	case "reverse":
		c.reverse[0] = true
	case "bidirectional":
		c.dirs = 2
		c.reverse[1] = true
	default:
		return nil, fmt.Errorf("%s: %w: direction %q", s.Op, errAttr, dir)
	}
	c.layout = int(s.Attrs.Int("layout", 0))
	if c.layout != 0 && c.layout != 1 {
		return nil, fmt.Errorf("%s: %w: layout %d", s.Op, errAttr, c.layout)
	}
	if a := s.Attrs.Find("clip"); a != nil {
		c.clip = float64(a.Float)
		if c.clip <= 0 {
			return nil, fmt.Errorf("%s: %w: clip %v must be positive", s.Op, errAttr, c.clip)
		}
	}
	names := s.Attrs.Strs("activations", nil)
	n := len(defActs)
	if names == nil {
		for d := 0; d < c.dirs; d++ {
			names = append(names, defActs...)
		}
	}
	if len(names) != n*c.dirs {
		return nil, fmt.Errorf("%s: %w: %d activations, want %d", s.Op, errAttr, len(names), n*c.dirs)
	}
	alphas := s.Attrs.Floats("activation_alpha", nil)
	betas := s.Attrs.Floats("activation_beta", nil)
	c.acts = make([][]mxAct, c.dirs)
	for i, name := range names {
		alpha, beta := math.NaN(), math.NaN()
		ua, ub := mxActUses(name)
		if ua && len(alphas) > 0 {
			alpha, alphas = float64(alphas[0]), alphas[1:]
		}
		if ub && len(betas) > 0 {
			beta, betas = float64(betas[0]), betas[1:]
		}
		f, err := mxActivation(name, alpha, beta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Op, err)
		}
		c.acts[i/n] = append(c.acts[i/n], f)
	}
	for i, dt := range s.InputTypes {
		if dt != ir.Undefined && i != 4 && i < 8 && dt != s.InputTypes[0] {
			return nil, fmt.Errorf("%s: %w: input %d is %v, input 0 is %v", s.Op, errDType, i, dt, s.InputTypes[0])
		}
	}
	if err := mxCheckFloat(s.Op, inputType(s.InputTypes, 0), 0); err != nil {
		return nil, err
	}
	return c, nil
}

// clipped applies the cell clip.
func (c *mxRNNConf) clipped(x float64) float64 {
	if c.clip > 0 {
		return math.Max(-c.clip, math.Min(c.clip, x))
	}
	return x
}

// mxRNNData is the validated input of a recurrent node in layout 0.
type mxRNNData[T mxFloat] struct {
	seq, batch, input int
	x                 []T // (seq, batch, input)
	w, r, b           []T // b nil when absent
	lens              []int
	h0, c0, p         []T // nil when absent; h0, c0 (dirs, batch, hidden)
}

// mxLoadRNN validates inputs X, W, R, B, sequence_lens, initial_h and (for
// LSTM) initial_c and P, converting layout 1 to layout 0.
func mxLoadRNN[T mxFloat](c *mxRNNConf, in []*ir.Tensor) (*mxRNNData[T], error) {
	if err := needInputs(in, 3); err != nil {
		return nil, fmt.Errorf("%s: %w", c.op, err)
	}
	x := in[0]
	if x.Rank() != 3 {
		return nil, fmt.Errorf("%s: %w: input 0 (X) has shape %v, want rank 3", c.op, errShape, x.Shape)
	}
	d := &mxRNNData[T]{seq: x.Shape[0], batch: x.Shape[1], input: x.Shape[2]}
	if c.layout == 1 {
		d.seq, d.batch = d.batch, d.seq
	}
	gh, D, B, H := c.gates*c.hidden, c.dirs, d.batch, c.hidden
	if err := mxShapeIs(c.op, in[1], 1, D, gh, d.input); err != nil {
		return nil, err
	}
	if err := mxShapeIs(c.op, in[2], 2, D, gh, H); err != nil {
		return nil, err
	}
	d.x, d.w, d.r = mxFloatData[T](x), mxFloatData[T](in[1]), mxFloatData[T](in[2])
	if c.layout == 1 {
		d.x = mxSwap01(d.x, d.batch, d.seq, d.input)
	}
	opt := func(i int, shape ...int) ([]T, error) {
		if i >= len(in) || in[i] == nil {
			return nil, nil
		}
		if err := mxShapeIs(c.op, in[i], i, shape...); err != nil {
			return nil, err
		}
		return mxFloatData[T](in[i]), nil
	}
	var err error
	if d.b, err = opt(3, D, 2*gh); err != nil {
		return nil, err
	}
	state := []int{D, B, H}
	if c.layout == 1 {
		state = []int{B, D, H}
	}
	if d.h0, err = opt(5, state...); err != nil {
		return nil, err
	}
	if d.c0, err = opt(6, state...); err != nil {
		return nil, err
	}
	if d.p, err = opt(7, D, 3*H); err != nil {
		return nil, err
	}
	if c.layout == 1 {
		d.h0, d.c0 = mxSwap01(d.h0, B, D, H), mxSwap01(d.c0, B, D, H)
	}
	d.lens, err = mxSeqLens(c.op, in, d.seq, B)
	return d, err
}

// mxSeqLens reads sequence_lens (input 4), defaulting to seq for every batch.
func mxSeqLens(op string, in []*ir.Tensor, seq, batch int) ([]int, error) {
	lens := make([]int, batch)
	for i := range lens {
		lens[i] = seq
	}
	if len(in) <= 4 || in[4] == nil {
		return lens, nil
	}
	if in[4].Len() != batch {
		return nil, fmt.Errorf("%s: %w: input 4 (sequence_lens) has shape %v, want [%d]", op, errShape, in[4].Shape, batch)
	}
	v, err := in[4].Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: input 4: %v", op, errDType, err)
	}
	for i, l := range v {
		if l < 0 || l > int64(seq) {
			return nil, fmt.Errorf("%s: %w: sequence_lens[%d] = %d outside [0, %d]", op, errInput, i, l, seq)
		}
		lens[i] = int(l)
	}
	return lens, nil
}

// mxSwap01 transposes the two leading dims of (a, b, c) data to (b, a, c).
func mxSwap01[T any](x []T, a, b, c int) []T {
	if x == nil {
		return nil
	}
	out := make([]T, len(x))
	for i := 0; i < a; i++ {
		for j := 0; j < b; j++ {
			copy(out[(j*a+i)*c:(j*a+i+1)*c], x[(i*b+j)*c:(i*b+j+1)*c])
		}
	}
	return out
}

// timeOf is the time index batch row b reads at step s of direction d
// (reverse directions walk each sequence from its own last element).
func (c *mxRNNConf) timeOf(d, s, l int) int {
	if c.reverse[d] {
		return l - 1 - s
	}
	return s
}

// mxRNNOut holds the outputs in layout 0: y (seq, dirs, batch, hidden) and
// the final hidden (and cell) states (dirs, batch, hidden).
type mxRNNOut[T mxFloat] struct {
	y, yh, yc []T
}

func newMxRNNOut[T mxFloat](c *mxRNNConf, d *mxRNNData[T]) *mxRNNOut[T] {
	n := c.dirs * d.batch * c.hidden
	return &mxRNNOut[T]{y: make([]T, d.seq*n), yh: make([]T, n), yc: make([]T, n)}
}

// tensors converts the outputs to the node's layout, numOut of them.
func (o *mxRNNOut[T]) tensors(c *mxRNNConf, d *mxRNNData[T], numOut int) []*ir.Tensor {
	S, D, B, H := d.seq, c.dirs, d.batch, c.hidden
	y, yh, yc := o.y, o.yh, o.yc
	yShape, sShape := []int{S, D, B, H}, []int{D, B, H}
	if c.layout == 1 {
		// (S, D, B, H) -> (B, S, D, H)
		y = make([]T, len(o.y))
		for s := 0; s < S; s++ {
			for dd := 0; dd < D; dd++ {
				for b := 0; b < B; b++ {
					copy(y[((b*S+s)*D+dd)*H:][:H], o.y[((s*D+dd)*B+b)*H:][:H])
				}
			}
		}
		yh, yc = mxSwap01(yh, D, B, H), mxSwap01(yc, D, B, H)
		yShape, sShape = []int{B, S, D, H}, []int{B, D, H}
	}
	all := []*ir.Tensor{ir.FromSlice(y, yShape...), ir.FromSlice(yh, sShape...), ir.FromSlice(yc, sShape...)}
	if numOut > len(all) {
		numOut = len(all)
	}
	return all[:numOut]
}

// mxRNNPrepare wraps a generic recurrent kernel for the node's dtype.
func mxRNNPrepare(s *backends.OpSpec, c *mxRNNConf,
	f32 func(in []*ir.Tensor) ([]*ir.Tensor, error),
	f64 func(in []*ir.Tensor) ([]*ir.Tensor, error)) (kernelFunc, error) {
	if s.NumOutputs > 3 || (c.gates != 4 && s.NumOutputs > 2) {
		return nil, fmt.Errorf("%s: %w: %d outputs declared", s.Op, errAttr, s.NumOutputs)
	}
	dt := inputType(s.InputTypes, 0)
	if dt == ir.Float64 {
		return f64, nil
	}
	return viaFloat32(f32, dt, 0, 1, 2, 3, 5, 6, 7), nil
}
