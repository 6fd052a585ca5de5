package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
	"github.com/keenml/keen/ir"
)

// FusedConv (domain com.keenml, Keen's own) is a Conv whose output goes
// through an optional residual Add and an optional activation before it is
// stored: y = act(conv(X, W) + B + Z). The onnx package rewrites
// Conv -> [Add] -> [Relu | Clip | LeakyRelu] chains into it when a model is
// planned on a backend that lists it (onnx/fuse.go).
//
//	inputs:  0 X, 1 W, 2 B (optional), 3 Z (optional, the residual),
//	         4 min, 5 max (optional scalars, Clip from opset 11)
//	attrs:   those of Conv, plus activation ("", "Relu", "Clip",
//	         "LeakyRelu"), alpha (LeakyRelu), min and max (Clip before
//	         opset 11)
//
// Float32 applies the epilogue while each block of y is still in cache
// (convEpi.apply, called by every float32 conv path); other types run the
// plain kernels one after the other.

func init() {
	regDomain(keenDomain, "FusedConv", 1, prepFusedConv)
}

// The activations of an epilogue.
const (
	epiNone = iota
	epiRelu
	epiClip
	epiLeaky
)

// convEpi is what happens to conv(x, w) + b before it is stored: add the
// residual (laid out as y), then the activation.
type convEpi struct {
	act    int
	lo, hi float32   // epiClip; ±Inf when absent
	nan    bool      // epiClip with a NaN bound: every output NaN
	alpha  float32   // epiLeaky
	res    []float32 // the residual, laid out as y; nil when none
}

// apply finishes y, which starts at element off of the whole output.
func (e *convEpi) apply(y []float32, off int) { e.applyTo(y, y, off) }

// applyTo stores the finished src in dst (equal lengths; src may be dst),
// src holding the output from element off on.
func (e *convEpi) applyTo(dst, src []float32, off int) {
	if e == nil || len(src) == 0 {
		if len(src) > 0 && &dst[0] != &src[0] {
			copy(dst, src)
		}
		return
	}
	dst = dst[:len(src)]
	var r []float32
	if e.res != nil {
		r = e.res[off:][:len(src)]
	}
	switch e.act {
	case epiNone:
		if r != nil {
			vecmath.Add(dst, src, r)
		} else if &dst[0] != &src[0] {
			copy(dst, src)
		}
	case epiRelu:
		if r != nil {
			vecmath.AddClamp(dst, src, r, 0, float32(math.Inf(1)))
		} else {
			vecmath.Relu(dst, src)
		}
	case epiClip:
		switch {
		case e.nan:
			nan := float32(math.NaN())
			for i := range dst {
				dst[i] = nan
			}
		case r != nil:
			vecmath.AddClamp(dst, src, r, e.lo, e.hi)
		default:
			vecmath.Clamp(dst, src, e.lo, e.hi)
		}
	case epiLeaky:
		if r != nil {
			vecmath.Add(dst, src, r)
			src = dst
		}
		vecmath.LeakyRelu(dst, src, e.alpha)
	}
}

// clampBounds returns the bounds when the epilogue is at most a clamp
// (none, Relu, or Clip with number bounds, no residual): lo = -Inf and
// hi = +Inf where one is absent.
func (e *convEpi) clampBounds() (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	switch {
	case e == nil || e.res == nil && e.act == epiNone:
		return -inf, inf, true
	case e.res != nil:
		return 0, 0, false
	case e.act == epiRelu:
		return 0, inf, true
	case e.act == epiClip && !e.nan:
		return e.lo, e.hi, true
	}
	return 0, 0, false
}

// applyRows finishes rows [0, m) of columns [j0, j1) of a row-major block
// of y with row stride ld that starts at element off of the output.
func (e *convEpi) applyRows(y []float32, off, m, ld, j0, j1 int) {
	if e == nil {
		return
	}
	if j0 == 0 && j1 == ld { // whole rows: one call
		e.apply(y[:m*ld], off)
		return
	}
	for i := 0; i < m; i++ {
		e.apply(y[i*ld+j0:i*ld+j1], off+i*ld+j0)
	}
}

// fusedConv is a prepared FusedConv.
type fusedConv struct {
	conv   convConv
	act    int
	alpha  float32
	lo, hi *float32 // Clip bounds from attributes (opset < 11)
	// The plain kernels: other dtypes, and a residual that broadcasts.
	convK, addK, actK kernelFunc
}

func prepFusedConv(s *backends.OpSpec) (kernelFunc, error) {
	f, err := newFusedConv(s)
	if err != nil {
		return nil, err
	}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 6; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: FusedConv: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	if err := f.prepPlain(s, dt); err != nil {
		return nil, err
	}
	if dt == ir.Float32 {
		return f.runF32, nil
	}
	return f.runPlain, nil
}

// newFusedConv reads a FusedConv's attributes.
func newFusedConv(s *backends.OpSpec) (*fusedConv, error) {
	win, err := convReadWin("FusedConv", s.Attrs)
	if err != nil {
		return nil, err
	}
	f := &fusedConv{conv: convConv{win: win, group: int(s.Attrs.Int("group", 1))}, alpha: s.Attrs.Float("alpha", 0.01)}
	acts := map[string]int{"": epiNone, "Relu": epiRelu, "Clip": epiClip, "LeakyRelu": epiLeaky}
	a := s.Attrs.Str("activation", "")
	act, ok := acts[a]
	if !ok {
		return nil, fmt.Errorf("%w: FusedConv: activation %q", errAttr, a)
	}
	f.act = act
	for i, name := range []string{"min", "max"} {
		if at := s.Attrs.Find(name); at != nil {
			v := at.Float
			if i == 0 {
				f.lo = &v
			} else {
				f.hi = &v
			}
		}
	}
	return f, nil
}

// prepPlain prepares the Conv, Add and activation kernels the fused op
// stands for.
func (f *fusedConv) prepPlain(s *backends.OpSpec, dt ir.DType) error {
	var err error
	conv := &backends.OpSpec{Op: "Conv", Version: 11, Attrs: s.Attrs, InputTypes: []ir.DType{dt, dt, dt}, NumOutputs: 1}
	if f.convK, err = prepConv(conv); err != nil {
		return err
	}
	if f.addK, err = prepPlainOp("Add", 14, nil, dt, dt, dt); err != nil {
		return err
	}
	switch f.act {
	case epiRelu:
		f.actK, err = prepPlainOp("Relu", 14, nil, dt, dt)
	case epiLeaky:
		f.actK, err = prepPlainOp("LeakyRelu", 16, ir.Attrs{ir.FloatAttr("alpha", f.alpha)}, dt, dt)
	case epiClip:
		var attrs ir.Attrs
		for i, b := range []*float32{f.lo, f.hi} {
			if b != nil {
				attrs = append(attrs, ir.FloatAttr([]string{"min", "max"}[i], *b))
			}
		}
		if attrs != nil {
			f.actK, err = prepPlainOp("Clip", 6, attrs, dt, dt)
		} else {
			f.actK, err = prepPlainOp("Clip", 13, nil, dt, dt, dt, dt)
		}
	}
	return err
}

// prepPlainOp prepares a default-domain kernel for the given input types.
func prepPlainOp(op string, version int, attrs ir.Attrs, out ir.DType, in ...ir.DType) (kernelFunc, error) {
	e := lookup("", op, version)
	if e == nil {
		return nil, fmt.Errorf("%w: FusedConv: no %s kernel for %v", errDType, op, out)
	}
	return e.prepare(&backends.OpSpec{Op: op, Version: version, Attrs: attrs, InputTypes: in, NumOutputs: 1})
}

// runPlain runs the Conv, Add and activation kernels one after the other.
func (f *fusedConv) runPlain(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("FusedConv: %w", err)
	}
	out, err := f.convK(in[:min(len(in), 3)])
	if err != nil {
		return nil, err
	}
	return f.finish(out[0], in)
}

// finish adds the residual (input 3) to y and applies the activation with
// the plain kernels.
func (f *fusedConv) finish(y *ir.Tensor, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if z := optInput(in, 3); z != nil {
		out, err := f.addK([]*ir.Tensor{y, z})
		if err != nil {
			return nil, err
		}
		y = out[0]
	}
	if f.actK == nil {
		return one(y)
	}
	args := []*ir.Tensor{y}
	if f.act == epiClip && f.lo == nil && f.hi == nil {
		args = append(args, optInput(in, 4), optInput(in, 5))
	}
	return f.actK(args)
}

// epilogue builds the float32 epilogue of y (shape ys) from the inputs
// past the bias; nil when there is nothing to do.
func (f *fusedConv) epilogue(in []*ir.Tensor) (*convEpi, error) {
	e := &convEpi{act: f.act, alpha: f.alpha, lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	if z := optInput(in, 3); z != nil {
		e.res = z.Data.([]float32)
	}
	if f.act == epiClip {
		for i, p := range []*float32{f.lo, f.hi} {
			v := p
			if t := optInput(in, 4+i); t != nil && p == nil {
				if t.Len() != 1 {
					return nil, fmt.Errorf("%w: FusedConv: Clip bound (input %d) has shape %v, want a scalar", errShape, 4+i, t.Shape)
				}
				x := t.Data.([]float32)[0]
				v = &x
			}
			switch {
			case v == nil:
			case *v != *v:
				e.nan = true
			case i == 0:
				e.lo = *v
			default:
				e.hi = *v
			}
		}
	}
	if e.act == epiNone && e.res == nil {
		return nil, nil
	}
	return e, nil
}

func (f *fusedConv) runF32(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("FusedConv: %w", err)
	}
	bias := optInput(in, 2)
	p, err := convPlan(f.conv.win, f.conv.group, in[0].Shape, in[1].Shape, bias)
	if err != nil {
		return nil, err
	}
	p.wt = in[1]
	out, err := convOut(p, ir.Float32)
	if err != nil {
		return nil, fmt.Errorf("FusedConv: %w", err)
	}
	z := optInput(in, 3)
	broadcast := z != nil && !slices.Equal(z.Shape, out.Shape)
	if !broadcast {
		if p.epi, err = f.epilogue(in); err != nil {
			return nil, err
		}
	}
	var b []float32
	if bias != nil {
		b = bias.Data.([]float32)
	}
	convForward(p, in[0].Data.([]float32), in[1].Data.([]float32), b, out.Data.([]float32), convSgemmFn)
	if broadcast { // as Add would, then the activation
		return f.finish(out, in)
	}
	return one(out)
}

// optInput is input i, nil when absent.
func optInput(in []*ir.Tensor, i int) *ir.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// convEpiBlock is the output floats (mg × columns) of one pointwise chunk:
// 256 KiB, well inside L2, so the epilogue reads what the GEMM just wrote.
const convEpiBlock = 1 << 16

// convPointwiseEpi is the pointwise GEMM of one image's group in column
// chunks, each finished by the epilogue right after it is computed (yg
// starts at element yoff of the output). With several threads and enough
// chunks, the chunks are dealt out whole.
func convPointwiseEpi(p *convProblem, xg, wg, bg, yg []float32, yoff, nt int) {
	n := p.outSize
	cw := min(n, max(256, convEpiBlock/max(p.mg, 1))&^63)
	chunks := (n + cw - 1) / cw
	if nt > 1 && chunks >= 2*nt && chunks%nt != 0 {
		// Even shares: as many chunks per thread, 32-column tiles whole.
		chunks += nt - chunks%nt
		cw = ((n+chunks-1)/chunks + 31) &^ 31
		chunks = (n + cw - 1) / cw
	}
	run := func(c0, c1, threads int) {
		for c := c0; c < c1; c++ {
			j0 := c * cw
			j1 := min(n, j0+cw)
			gemm.SgemmBias(threads, p.mg, j1-j0, p.cg, 1, wg, p.cg, xg[j0:], p.inSize, bg, 0, yg[j0:], p.outSize)
			p.epi.applyRows(yg, yoff, p.mg, p.outSize, j0, j1)
		}
	}
	if nt > 1 && chunks >= 2*nt {
		parallelFor(chunks, cw*p.mg*p.cg, func(lo, hi int) { run(lo, hi, 1) })
		return
	}
	run(0, chunks, nt)
}
