package eager

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// GradContext is what a gradient rule sees of one recorded op.
type GradContext struct {
	Spec *backends.OpSpec
	In   []*Tensor // the op's inputs (nil for missing optional ones)
	Out  []*Tensor // the op's outputs
	DOut []*Tensor // gradients flowing into each output (nil: none)
	// need[i] tells whether the gradient of input i is used (nil: all are).
	need []bool
	bp   *bpState // nil outside backprop
}

// bpState is what the rules of one backward pass share.
type bpState struct {
	records  []*record
	sources  []*Tensor
	producer map[*Tensor]*record // which record made a tensor; built on first use
	// masked[d] = t: gradient d is zero wherever t is not positive (a fused
	// MaxPool gradient over a Relu's output t), so that Relu's own rule
	// has nothing left to do.
	masked map[*Tensor]*Tensor
}

// producedBy reports whether input i of the op was made by op (default
// domain) in the recorded pass, and is not itself a source whose gradient
// is asked for.
func (g *GradContext) producedBy(i int, op string) bool {
	if g.bp == nil || i >= len(g.In) || g.In[i] == nil || slices.Contains(g.bp.sources, g.In[i]) {
		return false
	}
	if g.bp.producer == nil {
		g.bp.producer = map[*Tensor]*record{}
		for _, r := range g.bp.records {
			for _, o := range r.out {
				if o != nil {
					g.bp.producer[o] = r
				}
			}
		}
	}
	r := g.bp.producer[g.In[i]]
	return r != nil && r.custom == nil && r.spec.Op == op && ir.NormDomain(r.spec.Domain) == ""
}

// markMasked records that gradient d is zero wherever t is not positive.
func (g *GradContext) markMasked(d, t *Tensor) {
	if g.bp == nil {
		return
	}
	if g.bp.masked == nil {
		g.bp.masked = map[*Tensor]*Tensor{}
	}
	g.bp.masked[d] = t
}

// isMasked reports whether gradient d is known to be zero wherever t is
// not positive.
func (g *GradContext) isMasked(d, t *Tensor) bool {
	return g.bp != nil && d != nil && g.bp.masked[d] == t
}

// Needs reports whether the gradient of input i is used: rules may leave
// out (return nil for) the others, such as the gradient of a model's input
// when only its parameters are wanted.
func (g *GradContext) Needs(i int) bool { return g.need == nil || (i < len(g.need) && g.need[i]) }

// Attrs are the op's attributes.
func (g *GradContext) Attrs() ir.Attrs { return g.Spec.Attrs }

// D returns the gradient of output i, or zeros of its shape when none flows.
func (g *GradContext) D(i int) *Tensor {
	if i < len(g.DOut) && g.DOut[i] != nil {
		return g.DOut[i]
	}
	return ZerosLike(g.Out[i])
}

// GradRule returns one gradient per input of the op (nil where none flows or
// the input is not differentiable). Rules are written with eager ops, so they
// run on any backend and can themselves be differentiated. They need not undo
// broadcasting: the engine sums a gradient down to its input's shape.
type GradRule func(g *GradContext) []*Tensor

var (
	gradRules = map[string]GradRule{}
	nonDiff   = map[string]bool{}
	composite = map[string]bool{}
)

// RegisterComposite marks ops that never reach a tape themselves because
// they run as other ops (control flow and sequence ops, which the ONNX
// executor runs as the eager ops inside their bodies or as plain value
// passing): their gradients come from those ops' rules.
func RegisterComposite(domain string, ops ...string) {
	for _, op := range ops {
		composite[gradKey(domain, op)] = true
	}
}

// IsComposite reports whether RegisterComposite marked the op.
func IsComposite(domain, op string) bool { return composite[gradKey(domain, op)] }

func gradKey(domain, op string) string { return ir.NormDomain(domain) + "/" + op }

// RegisterGradient sets the gradient rule of an op (in package init).
func RegisterGradient(domain, op string, rule GradRule) { gradRules[gradKey(domain, op)] = rule }

// RegisterNonDifferentiable marks ops whose outputs carry no gradient
// (integer, boolean, shape and index results, random sampling, ...).
func RegisterNonDifferentiable(domain string, ops ...string) {
	for _, op := range ops {
		nonDiff[gradKey(domain, op)] = true
	}
}

// GradientStatus reports whether an op has a rule, or is marked
// non-differentiable.
func GradientStatus(domain, op string) (hasRule, nonDifferentiable bool) {
	_, hasRule = gradRules[gradKey(domain, op)]
	return hasRule, nonDiff[gradKey(domain, op)]
}

// backprop runs the rules of the records that lie between the sources and
// the target, in reverse order, accumulating gradients per tensor.
func backprop(records []*record, target, seed *Tensor, sources []*Tensor) ([]*Tensor, error) {
	reaches, fromSrc := reaching(records, sources)
	grads := map[*Tensor]*Tensor{target: seed}
	bp := &bpState{records: records, sources: sources}
	var fr *gradFreer
	if !recording() {
		fr = newGradFreer(records, seed, sources)
	}
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		if !reaches[i] {
			continue
		}
		dOut := make([]*Tensor, len(r.out))
		any := false
		for j, o := range r.out {
			if o != nil && grads[o] != nil {
				dOut[j], any = grads[o], true
			}
		}
		if !any {
			continue
		}
		need := make([]bool, len(r.in))
		for j, in := range r.in {
			need[j] = in != nil && fromSrc[in]
		}
		dIn, err := applyRule(r, dOut, need, bp)
		if err != nil {
			return nil, err
		}
		dead := append(dOut, dIn...)
		for j, in := range r.in {
			if j >= len(dIn) || dIn[j] == nil || in == nil || !fromSrc[in] {
				continue
			}
			d := unbroadcast(dIn[j], in.Shape())
			if prev := grads[in]; prev != nil {
				dead = append(dead, prev, d)
				d = Add(prev, d)
			}
			grads[in] = d
		}
		fr.free(r, grads, dead)
	}
	out := make([]*Tensor, len(sources))
	for i, s := range sources {
		if g := grads[s]; g != nil {
			out[i] = g
		} else if s.DType().IsFloat() {
			out[i] = ZerosLike(s)
		}
	}
	return out, nil
}

// reaching finds the records that consume (transitively) a source, and
// the tensors that depend on one.
func reaching(records []*record, sources []*Tensor) ([]bool, map[*Tensor]bool) {
	fromSrc := make(map[*Tensor]bool, len(sources))
	for _, s := range sources {
		fromSrc[s] = true
	}
	reaches := make([]bool, len(records))
	for i, r := range records {
		for _, in := range r.in {
			if in != nil && fromSrc[in] {
				reaches[i] = true
				break
			}
		}
		if reaches[i] {
			for _, o := range r.out {
				if o != nil {
					fromSrc[o] = true
				}
			}
		}
	}
	return reaches, fromSrc
}

func applyRule(r *record, dOut []*Tensor, need []bool, bp *bpState) ([]*Tensor, error) {
	if r.custom != nil {
		return r.custom(dOut), nil
	}
	key := gradKey(r.spec.Domain, r.spec.Op)
	rule, ok := gradRules[key]
	if !ok {
		if nonDiff[key] {
			return nil, nil
		}
		return nil, fmt.Errorf("no gradient rule for %v", r.spec)
	}
	return rule(&GradContext{Spec: r.spec, In: r.in, Out: r.out, DOut: dOut, need: need, bp: bp}), nil
}

// unbroadcast sums d down to shape (undoing numpy broadcasting).
func unbroadcast(d *Tensor, shape []int) *Tensor {
	ds := d.Shape()
	if slices.Equal(ds, shape) {
		return d
	}
	off := len(ds) - len(shape)
	var axes []int64
	for i := range ds {
		if i < off || (shape[i-off] == 1 && ds[i] != 1) {
			axes = append(axes, int64(i))
		}
	}
	if len(axes) > 0 {
		d = ReduceSum(d, axes, true)
	}
	return Reshape(d, shape...)
}

// gradFreer releases the buffers of gradients that backprop has finished
// with: an output's gradient once its producer's rule has run, and the
// terms of a sum once added. Without it every step's gradients are left
// to the garbage collector and the next step's kernels get fresh memory
// that the allocator must zero (the CPU backend recycles released
// buffers without clearing them). A gradient is kept when it is the seed,
// a forward value (a rule may hand one back), a source's gradient, or
// still held by another entry of grads (rules may pass a gradient on as
// it is). Only in-process CPU tensors are released, and nothing while any
// tape is active (the backward pass may then be recorded, its values a
// tape's inputs; a persistent tape stays active through its own Gradient).
type gradFreer struct {
	keep    map[*Tensor]bool
	sources map[*Tensor]bool
}

func newGradFreer(records []*record, seed *Tensor, sources []*Tensor) *gradFreer {
	f := &gradFreer{keep: map[*Tensor]bool{seed: true}, sources: map[*Tensor]bool{}}
	for _, r := range records {
		for _, t := range r.in {
			f.keep[t] = true
		}
		for _, t := range r.out {
			f.keep[t] = true
		}
	}
	for _, s := range sources {
		f.sources[s] = true
	}
	return f
}

// free drops the gradients of r's outputs from grads (every consumer of
// them has run) and releases the tensors in dead no entry of grads holds.
func (f *gradFreer) free(r *record, grads map[*Tensor]*Tensor, dead []*Tensor) {
	if f == nil {
		return
	}
	for _, o := range r.out {
		if o != nil && !f.sources[o] {
			delete(grads, o)
		}
	}
	live := make(map[*Tensor]bool, len(grads))
	for _, g := range grads {
		live[g] = true
	}
	for _, d := range dead {
		if d == nil || f.keep[d] || live[d] || d.dev == nil || d.dev.Name() != "cpu" {
			continue
		}
		live[d] = true // once
		d.Release()
	}
}
