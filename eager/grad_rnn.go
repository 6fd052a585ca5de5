package eager

import (
	"fmt"
	"math"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Gradient rules of the recurrent ops RNN, GRU and LSTM: backpropagation
// through time by recomputation (see recomputeVJP). The forward below walks
// the recurrence step by step with eager ops exactly as the ONNX spec (and
// the CPU kernel) do: directions, layouts, sequence_lens, activations with
// alpha/beta, clip, GRU linear_before_reset and LSTM input_forget/peepholes.
//
// Every float input gets a gradient: X, W, R, B, P and, although the spec
// tags them non-differentiable, initial_h and initial_c (a stateful model
// that carries its state across batches needs them); sequence_lens none.

func init() {
	for _, op := range []string{"RNN", "GRU", "LSTM"} {
		registerRecompute("", op, rnnForward, 0, 1, 2, 3, 5, 6, 7)
	}
}

// rnnConf is the parsed attribute set of one recurrent node.
type rnnConf struct {
	op                  string
	gates, hidden, dirs int
	layout              int
	reverse             [2]bool
	clip                float64 // 0: none
	acts                [][]func(*Tensor) *Tensor
	linearBeforeReset   bool // GRU
	inputForget         bool // LSTM
	defaultActs         []string
}

func parseRNN(spec *backends.OpSpec) (*rnnConf, error) {
	at := spec.Attrs
	c := &rnnConf{op: spec.Op, dirs: 1, hidden: int(at.Int("hidden_size", 0)), layout: int(at.Int("layout", 0))}
	switch spec.Op {
	case "RNN":
		c.gates, c.defaultActs = 1, []string{"Tanh"}
	case "GRU":
		c.gates, c.defaultActs = 3, []string{"Sigmoid", "Tanh"}
		c.linearBeforeReset = at.Int("linear_before_reset", 0) != 0
	default:
		c.gates, c.defaultActs = 4, []string{"Sigmoid", "Tanh", "Tanh"}
		c.inputForget = at.Int("input_forget", 0) != 0
	}
	switch dir := at.Str("direction", "forward"); dir {
	case "forward":
	case "reverse":
		c.reverse[0] = true
	case "bidirectional":
		c.dirs, c.reverse[1] = 2, true
	default:
		return nil, fmt.Errorf("direction %q", dir)
	}
	if a := at.Find("clip"); a != nil {
		c.clip = float64(a.Float)
	}
	names := at.Strs("activations", nil)
	n := len(c.defaultActs)
	if names == nil {
		for d := 0; d < c.dirs; d++ {
			names = append(names, c.defaultActs...)
		}
	}
	if len(names) != n*c.dirs {
		return nil, fmt.Errorf("%d activations, want %d", len(names), n*c.dirs)
	}
	alphas, betas := at.Floats("activation_alpha", nil), at.Floats("activation_beta", nil)
	c.acts = make([][]func(*Tensor) *Tensor, c.dirs)
	for i, name := range names {
		alpha, beta := math.NaN(), math.NaN()
		usesA, usesB := rnnActUses(name)
		if usesA && len(alphas) > 0 {
			alpha, alphas = float64(alphas[0]), alphas[1:]
		}
		if usesB && len(betas) > 0 {
			beta, betas = float64(betas[0]), betas[1:]
		}
		f, err := rnnActivation(name, alpha, beta)
		if err != nil {
			return nil, err
		}
		c.acts[i/n] = append(c.acts[i/n], f)
	}
	return c, nil
}

// rnnActUses reports which of alpha and beta an activation reads.
func rnnActUses(name string) (alpha, beta bool) {
	switch strings.ToLower(name) {
	case "affine", "scaledtanh", "hardsigmoid":
		return true, true
	case "leakyrelu", "thresholdedrelu", "elu":
		return true, false
	}
	return false, false
}

// rnnActivation builds the named activation from core ops; alpha/beta NaN
// select the defaults of the ONNX op of the same name.
func rnnActivation(name string, alpha, beta float64) (func(*Tensor) *Tensor, error) {
	def := func(v, d float64) float64 {
		if math.IsNaN(v) {
			return d
		}
		return v
	}
	k := ScalarLike
	switch strings.ToLower(name) {
	case "sigmoid":
		return Sigmoid, nil
	case "tanh":
		return Tanh, nil
	case "relu":
		return Relu, nil
	case "affine":
		a, b := def(alpha, 1), def(beta, 0)
		return func(x *Tensor) *Tensor { return Add(Mul(x, k(x, a)), k(x, b)) }, nil
	case "leakyrelu":
		a := def(alpha, 0.01)
		return func(x *Tensor) *Tensor { return Where(GreaterOrEqual(x, k(x, 0)), x, Mul(x, k(x, a))) }, nil
	case "thresholdedrelu":
		a := def(alpha, 1)
		return func(x *Tensor) *Tensor { return Where(Greater(x, k(x, a)), x, ZerosLike(x)) }, nil
	case "scaledtanh":
		a, b := def(alpha, 1), def(beta, 1)
		return func(x *Tensor) *Tensor { return Mul(k(x, a), Tanh(Mul(x, k(x, b)))) }, nil
	case "hardsigmoid":
		a, b := def(alpha, 0.2), def(beta, 0.5)
		return func(x *Tensor) *Tensor { return Min(Max(Add(Mul(x, k(x, a)), k(x, b)), k(x, 0)), k(x, 1)) }, nil
	case "elu":
		a := def(alpha, 1)
		return func(x *Tensor) *Tensor {
			neg := Mul(k(x, a), Sub(Exp(Min(x, k(x, 0))), k(x, 1)))
			return Where(GreaterOrEqual(x, k(x, 0)), x, neg)
		}, nil
	case "softsign":
		return func(x *Tensor) *Tensor { return Div(x, Add(k(x, 1), Abs(x))) }, nil
	case "softplus":
		return func(x *Tensor) *Tensor {
			soft := Log(Add(k(x, 1), Exp(Min(x, k(x, 30)))))
			return Where(Greater(x, k(x, 30)), x, soft)
		}, nil
	}
	return nil, fmt.Errorf("unknown activation %q", name)
}

// clipped applies the cell clip to a pre-activation.
func (c *rnnConf) clipped(x *Tensor) *Tensor {
	if c.clip <= 0 {
		return x
	}
	return Min(Max(x, ScalarLike(x, -c.clip)), ScalarLike(x, c.clip))
}

// rnnDir holds one direction's weights split per gate: xg[k][t] is
// Xt·Wkᵀ plus the biases that add there, (batch, hidden); rt[k] is Rkᵀ.
type rnnDir struct {
	xg      [][]*Tensor
	rt      []*Tensor
	rbh     *Tensor // GRU linear_before_reset: Rbh, applied inside the reset
	p       []*Tensor
	h0, c0  *Tensor
	acts    []func(*Tensor) *Tensor
	reverse bool
}

// rnnForward recomputes Y, Y_h (and Y_c) of a recurrent node.
func rnnForward(spec *backends.OpSpec, in []*Tensor) []*Tensor {
	c, err := parseRNN(spec)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("%s gradient: %w", spec.Op, err)})
	}
	x, lens := in[0], optIn(in, 4)
	if c.layout == 1 {
		x = Transpose(x, 1, 0, 2)
	}
	S, B := x.Dim(0), x.Dim(1)
	var masks []*Tensor // per step (batch, 1): the step is inside the sequence
	if lens != nil {
		lens = Cast(lens, ir.Int64) // as ReverseSequence wants them
		m := Less(Reshape(iota64(x, 0, S), S, 1, 1), Reshape(lens, 1, B, 1))
		for _, ms := range splitN(m, 0, S) {
			masks = append(masks, Reshape(ms, B, 1))
		}
	}
	ys := make([]*Tensor, c.dirs)
	var hs, cs []*Tensor
	for d := 0; d < c.dirs; d++ {
		xd := x
		if c.reverse[d] && lens != nil {
			// each row walks its own sequence backwards from its last element
			xd = op1("ReverseSequence", nil, x, lens)
		}
		dir := c.direction(in, xd, d, lens != nil)
		y, h, cell := c.scan(dir, masks)
		if c.reverse[d] && lens != nil {
			y = op1("ReverseSequence", nil, y, lens)
		}
		ys[d] = Unsqueeze(y, 1)
		hs = append(hs, Unsqueeze(h, 0))
		if cell != nil {
			cs = append(cs, Unsqueeze(cell, 0))
		}
	}
	outs := []*Tensor{Concat(1, ys...), Concat(0, hs...)}
	if c.gates == 4 {
		outs = append(outs, Concat(0, cs...))
	}
	if c.layout == 1 {
		outs[0] = Transpose(outs[0], 2, 0, 1, 3)
		for i := 1; i < len(outs); i++ {
			outs[i] = Transpose(outs[i], 1, 0, 2)
		}
	}
	return outs
}

// direction splits the inputs of direction d per gate and projects the
// whole input sequence (seq, batch, input) onto each gate.
func (c *rnnConf) direction(in []*Tensor, x *Tensor, d int, masked bool) *rnnDir {
	G, H, B, S := c.gates, c.hidden, x.Dim(1), x.Dim(0)
	pick := func(t *Tensor) *Tensor { // (dirs, ...) -> direction d
		return Squeeze(splitN(t, 0, c.dirs)[d], 0)
	}
	state := func(t *Tensor) *Tensor {
		if t == nil {
			return Full(x, x.DType(), 0, B, H)
		}
		if c.layout == 1 {
			t = Transpose(t, 1, 0, 2)
		}
		return pick(t)
	}
	dir := &rnnDir{acts: c.acts[d], reverse: c.reverse[d] && !masked, h0: state(optIn(in, 5))}
	if G == 4 {
		dir.c0 = state(optIn(in, 6))
	}
	ws := splitN(pick(in[1]), 0, G)
	for _, r := range splitN(pick(in[2]), 0, G) {
		dir.rt = append(dir.rt, Transpose(r))
	}
	var bs []*Tensor
	if b := optIn(in, 3); b != nil {
		bs = splitN(pick(b), 0, 2*G)
	}
	if p := optIn(in, 7); p != nil && G == 4 {
		dir.p = splitN(pick(p), 0, 3)
	}
	for k, w := range ws {
		xg := MatMul(x, Transpose(w))
		if bs != nil {
			xg = Add(xg, bs[k])
			if c.linearBeforeReset && k == 2 {
				dir.rbh = bs[G+k]
			} else {
				xg = Add(xg, bs[G+k])
			}
		}
		var steps []*Tensor
		for _, t := range splitN(xg, 0, S) {
			steps = append(steps, Reshape(t, B, H))
		}
		dir.xg = append(dir.xg, steps)
	}
	return dir
}

// scan runs the recurrence of one direction: Y (seq, batch, hidden) in the
// order the inputs were given, and the final hidden and cell states. Steps
// outside a row's sequence (masks) leave its state and give zeros.
func (c *rnnConf) scan(d *rnnDir, masks []*Tensor) (y, h, cell *Tensor) {
	S := len(d.xg[0])
	h, cell = d.h0, d.c0
	ys := make([]*Tensor, S)
	for s := 0; s < S; s++ {
		t := s
		if d.reverse {
			t = S - 1 - s
		}
		xg := make([]*Tensor, c.gates)
		for k := range xg {
			xg[k] = d.xg[k][t]
		}
		var hn, cn *Tensor
		switch c.gates {
		case 1:
			hn = d.acts[0](c.clipped(Add(xg[0], MatMul(h, d.rt[0]))))
		case 3:
			hn = c.gruCell(d, xg, h)
		default:
			hn, cn = c.lstmCell(d, xg, h, cell)
		}
		if masks == nil {
			h, cell, ys[t] = hn, cn, hn
			continue
		}
		m := masks[s]
		h, ys[t] = Where(m, hn, h), Where(m, hn, ZerosLike(hn))
		if cn != nil {
			cell = Where(m, cn, cell)
		}
	}
	for t := range ys {
		ys[t] = Unsqueeze(ys[t], 0)
	}
	return Concat(0, ys...), h, cell
}

// zt = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz), rt likewise,
// ht = g(Xt·Whᵀ + (rt⊙Ht-1)·Rhᵀ + Rbh + Wbh)     (linear_before_reset 0)
// ht = g(Xt·Whᵀ + rt⊙(Ht-1·Rhᵀ + Rbh) + Wbh)     (linear_before_reset 1)
// Ht = (1-zt)⊙ht + zt⊙Ht-1 = ht + zt⊙(Ht-1 - ht)
func (c *rnnConf) gruCell(d *rnnDir, xg []*Tensor, h *Tensor) *Tensor {
	f, g := d.acts[0], d.acts[1]
	z := f(c.clipped(Add(xg[0], MatMul(h, d.rt[0]))))
	r := f(c.clipped(Add(xg[1], MatMul(h, d.rt[1]))))
	var pre *Tensor
	if c.linearBeforeReset {
		hr := MatMul(h, d.rt[2])
		if d.rbh != nil {
			hr = Add(hr, d.rbh)
		}
		pre = Add(xg[2], Mul(r, hr))
	} else {
		pre = Add(xg[2], MatMul(Mul(r, h), d.rt[2]))
	}
	ht := g(c.clipped(pre))
	return Add(ht, Mul(z, Sub(h, ht)))
}

// it = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi⊙Ct-1 + Wbi + Rbi)
// ft = f(Xt·Wfᵀ + Ht-1·Rfᵀ + Pf⊙Ct-1 + Wbf + Rbf)   (1-it with input_forget)
// ct = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
// Ct = ft⊙Ct-1 + it⊙ct
// ot = f(Xt·Woᵀ + Ht-1·Roᵀ + Po⊙Ct + Wbo + Rbo)
// Ht = ot⊙h(Ct)
// (gate order in W, R, B: i, o, f, c; in P: i, o, f)
func (c *rnnConf) lstmCell(d *rnnDir, xg []*Tensor, h, cell *Tensor) (*Tensor, *Tensor) {
	f, g, hf := d.acts[0], d.acts[1], d.acts[2]
	pre := func(k int) *Tensor { return Add(xg[k], MatMul(h, d.rt[k])) }
	peep := func(x *Tensor, k int, cs *Tensor) *Tensor {
		if d.p == nil {
			return x
		}
		return Add(x, Mul(d.p[k], cs))
	}
	i := f(c.clipped(peep(pre(0), 0, cell)))
	var ft *Tensor
	if c.inputForget {
		ft = Sub(ScalarLike(i, 1), i)
	} else {
		ft = f(c.clipped(peep(pre(2), 2, cell)))
	}
	ct := g(c.clipped(pre(3)))
	cn := Add(Mul(ft, cell), Mul(i, ct))
	o := f(c.clipped(peep(pre(1), 1, cn)))
	return Mul(o, hf(cn)), cn
}

// Rules by recomputation: the op's forward is re-expressed with eager ops
// (MatMul, Add, Sigmoid, Softmax, ...) and run again on the op's inputs
// under a nested tape, which takes the vector-Jacobian product. Such a rule
// needs no hand-derived backward (backpropagation through time, attention's
// softmax chain), runs on any backend and can be differentiated again: the
// recomputation and its gradient are recorded on every outer tape.

// forwardFunc re-expresses an op: the outputs of spec applied to in.
type forwardFunc func(spec *backends.OpSpec, in []*Tensor) []*Tensor

// recomputations holds the forward of every op whose rule recomputes, by
// gradKey (tests compare them with the backend's kernels).
var recomputations = map[string]forwardFunc{}

// registerRecompute sets the rule of domain/op to the vector-Jacobian
// product of fwd; diff lists the inputs that get a gradient.
func registerRecompute(domain, op string, fwd forwardFunc, diff ...int) {
	recomputations[gradKey(domain, op)] = fwd
	RegisterGradient(domain, op, func(g *GradContext) []*Tensor {
		return recomputeVJP(g, func(in []*Tensor) []*Tensor { return fwd(g.Spec, in) }, diff)
	})
}

// recomputeVJP runs fwd on the op's inputs under a nested tape and returns
// Σ_k dOut_k · ∂out_k/∂in_i for the float inputs i listed in diff (nil for
// the other inputs).
func recomputeVJP(g *GradContext, fwd func(in []*Tensor) []*Tensor, diff []int) []*Tensor {
	res := make([]*Tensor, len(g.In))
	in := append([]*Tensor(nil), g.In...)
	var src []int
	for _, i := range diff {
		if i < len(in) && in[i] != nil && in[i].DType().IsFloat() {
			src = append(src, i)
		}
	}
	if len(src) == 0 {
		return res
	}
	withRecording(func() {
		// A tensor passed in several slots (self-attention's Q = K = V)
		// gets an alias per extra slot, so each slot's gradient is its own
		// (made before the tape starts, which must not link them).
		seen := map[*Tensor]bool{}
		for i, x := range in {
			if x != nil && seen[x] {
				in[i] = Identity(x)
			}
			seen[x] = true
		}
		tape := NewTape()
		defer tape.Stop()
		outs := fwd(in)
		var targets, seeds []*Tensor
		for k, d := range g.DOut {
			if d == nil || k >= len(outs) || outs[k] == nil {
				continue
			}
			dt := outs[k].DType()
			if len(targets) > 0 {
				dt = targets[0].DType()
			}
			targets = append(targets, Cast(Reshape(outs[k], -1), dt))
			seeds = append(seeds, Cast(Reshape(d, -1), dt))
		}
		if len(targets) == 0 {
			return
		}
		target, seed := targets[0], seeds[0]
		if len(targets) > 1 {
			target, seed = Concat(0, targets...), Concat(0, seeds...)
		}
		sources := make([]*Tensor, len(src))
		for k, i := range src {
			sources[k] = in[i]
		}
		grads := tape.GradientWith(target, seed, sources...)
		for k, i := range src {
			res[i] = grads[k]
		}
	})
	return res
}

// withRecording runs fn so that a tape started in it records even when the
// gradient is taken inside a NoGrad scope; the tapes active before stay
// paused meanwhile, as NoGrad asks of them.
func withRecording(fn func()) {
	if noGrad.Load() == 0 {
		fn()
		return
	}
	tapesMu.Lock()
	active := append([]*Tape(nil), tapes...)
	tapesMu.Unlock()
	for _, t := range active {
		t.mu.Lock()
		t.paused++
		t.mu.Unlock()
	}
	n := noGrad.Swap(0)
	defer func() {
		noGrad.Add(n)
		for _, t := range active {
			t.mu.Lock()
			t.paused--
			t.mu.Unlock()
		}
	}()
	fn()
}

// splitN splits x along axis into n equal parts.
func splitN(x *Tensor, axis, n int) []*Tensor {
	if n == 1 {
		return []*Tensor{x}
	}
	attrs := ir.Attrs{ir.IntAttr("axis", int64(axis)), ir.IntAttr("num_outputs", int64(n))}
	return Op("Split", attrs, n, x)
}

// optIn returns input i, or nil when it is absent.
func optIn(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
