package cpu

import (
	"fmt"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// FusedPwDw (domain com.keenml, Keen's own) is a pointwise FusedConv whose
// output only a depthwise FusedConv reads, MobileNet's expand and
// depthwise pair: y = dw(pw(X)). The onnx package plans it (onnx/fuse.go)
// when the backend lists it.
//
//	inputs:  0 X, 1 W1 (C×K×1×1), 2 B1, 3 min1, 4 max1,
//	         5 W2 (C×1×kh×kw), 6 B2, 7 min2, 8 max2 (optional but X, W1, W2)
//	attrs:   the depthwise FusedConv's (its Conv attributes, group = C,
//	         activation, alpha, min, max), and the pointwise one's
//	         activation, alpha, min, max prefixed "pw_"
//
// The expanded planes of a large image (MobileNetV2's 96 channels at 112²
// are 4.8 MB) would go out to memory and be read back by the depthwise
// kernel; here each block of channels is expanded into a scratch that
// stays in cache and convolved from there at once, blocks dealt out over
// the threads. Small planes, other types and other shapes run the two
// FusedConv kernels one after the other.

func init() { regDomain(keenDomain, "FusedPwDw", 1, prepFusedPwDw) }

// pwdwMinPlane is the smallest plane (positions) fused block by block;
// pwdwBlock the scratch a block may fill (floats).
var (
	pwdwMinPlane = 56 * 56
	pwdwBlock    = 1 << 17
)

type fusedPwDw struct {
	pw, dw   *fusedConv
	pwK, dwK kernelFunc
}

func prepFusedPwDw(s *backends.OpSpec) (kernelFunc, error) {
	pwA, dwA := splitAttrs(s.Attrs, "pw_")
	in := func(i ...int) []ir.DType { return pickTypes(s.InputTypes, i...) }
	dt := inputType(s.InputTypes, 0)
	f := &fusedPwDw{}
	var err error
	pwSpec := &backends.OpSpec{Domain: keenDomain, Op: "FusedConv", Version: 1, Attrs: pwA, InputTypes: in(0, 1, 2, -1, 3, 4), NumOutputs: 1}
	if f.pwK, err = prepFusedConv(pwSpec); err != nil {
		return nil, fmt.Errorf("FusedPwDw: pointwise: %w", err)
	}
	dwTypes := append([]ir.DType{dt}, in(5, 6, -1, 7, 8)...)
	dwSpec := &backends.OpSpec{Domain: keenDomain, Op: "FusedConv", Version: 1, Attrs: dwA, InputTypes: dwTypes, NumOutputs: 1}
	if f.dwK, err = prepFusedConv(dwSpec); err != nil {
		return nil, fmt.Errorf("FusedPwDw: depthwise: %w", err)
	}
	if f.pw, err = newFusedConv(pwSpec); err != nil {
		return nil, err
	}
	if f.dw, err = newFusedConv(dwSpec); err != nil {
		return nil, err
	}
	return f.run, nil
}

// run computes y = dw(pw(X)), block by block where that pays, else
// through the two kernels.
func (f *fusedPwDw) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(in) < 6 || in[0] == nil || in[1] == nil || in[5] == nil {
		return nil, fmt.Errorf("%w: FusedPwDw: inputs 0 (X), 1 (W1) and 5 (W2) are required, %d given", errInput, len(in))
	}
	pwIn := []*ir.Tensor{in[0], in[1], optInput(in, 2), nil, optInput(in, 3), optInput(in, 4)}
	if y, ok, err := f.runBlocks(in, pwIn); ok || err != nil {
		return y, err
	}
	mid, err := f.pwK(pwIn)
	if err != nil {
		return nil, fmt.Errorf("FusedPwDw: pointwise: %w", err)
	}
	defer releaseTemp(mid[0])
	return f.dwK([]*ir.Tensor{mid[0], in[5], optInput(in, 6), nil, optInput(in, 7), optInput(in, 8)})
}

// runBlocks is the blocked float32 path; ok false when it does not apply.
func (f *fusedPwDw) runBlocks(in, pwIn []*ir.Tensor) (y []*ir.Tensor, ok bool, err error) {
	x, w1, w2 := in[0], in[1], in[5]
	b1, b2 := optInput(in, 2), optInput(in, 6)
	if x.DType != ir.Float32 || len(x.Shape) != 4 || len(w1.Shape) != 4 || len(w2.Shape) != 4 ||
		x.Shape[2]*x.Shape[3] < pwdwMinPlane {
		return nil, false, nil
	}
	p1, err := convPlan(f.pw.conv.win, f.pw.conv.group, x.Shape, w1.Shape, b1)
	if err != nil || !p1.pointwise() || p1.group != 1 {
		return nil, false, nil // (errors: the plain kernels report them)
	}
	c := p1.m
	p2, err := convPlan(f.dw.conv.win, f.dw.conv.group, p1.outShape(), w2.Shape, b2)
	if err != nil || p2.group != c || p2.m != c || !p2.depthwise() {
		return nil, false, nil
	}
	if p1.epi, err = f.pw.epilogue(pwIn); err != nil {
		return nil, true, err
	}
	if p2.epi, err = f.dw.epilogue([]*ir.Tensor{nil, nil, nil, nil, optInput(in, 7), optInput(in, 8)}); err != nil {
		return nil, true, err
	}
	out, err := convOut(p2, ir.Float32)
	if err != nil {
		return nil, true, fmt.Errorf("FusedPwDw: %w", err)
	}
	xs, ys := x.Data.([]float32), out.Data.([]float32)
	w1s, w2s := w1.Data.([]float32), w2.Data.([]float32)
	var b1s, b2s []float32
	if b1 != nil {
		b1s = b1.Data.([]float32)
	}
	if b2 != nil {
		b2s = b2.Data.([]float32)
	}
	// Blocks of cb channels (a multiple of 8 where the channels allow),
	// each expanded into a scratch of cb planes.
	plane := p1.outSize
	cb := min(c, max(8, pwdwBlock/plane&^7))
	blocks := (c + cb - 1) / cb
	k := p1.cg
	kk := p2.kSize
	parallelFor(p1.n*blocks, cb*plane*(k+2*kk), func(lo, hi int) {
		scratch := convScratch[float32](cb * plane)
		defer convRelease(scratch)
		for i := lo; i < hi; i++ {
			n, c0 := i/blocks, i%blocks*cb
			c1 := min(c, c0+cb)
			m := c1 - c0
			q1 := *p1
			q1.n, q1.m, q1.mg, q1.wt = 1, m, m, nil
			var bb1, bb2 []float32
			if b1s != nil {
				bb1 = b1s[c0:c1]
			}
			if b2s != nil {
				bb2 = b2s[c0:c1]
			}
			mid := scratch[:m*plane]
			convFusedGemm(&q1, xs[n*k*p1.inSize:][:k*p1.inSize], w1s[c0*k:c1*k], bb1, mid, 0, 0, true)
			q2 := *p2
			q2.n, q2.c, q2.m, q2.group, q2.wt = 1, m, m, m, nil
			q2.pad, q2.padDone = nil, false
			yoff := (n*c + c0) * p2.outSize
			convDepthwiseF32(&q2, mid, w2s[c0*kk:c1*kk], bb2, ys[yoff:yoff+m*p2.outSize])
		}
	})
	return []*ir.Tensor{out}, true, nil
}

// splitAttrs parts attrs into those named with prefix (the prefix cut off)
// and the rest: the attributes of one op of a fused node.
func splitAttrs(attrs ir.Attrs, prefix string) (with, rest ir.Attrs) {
	for _, a := range attrs {
		if name, ok := strings.CutPrefix(a.Name, prefix); ok {
			a.Name = name
			with = append(with, a)
		} else {
			rest = append(rest, a)
		}
	}
	return with, rest
}

// pickTypes returns the types of inputs i... of a fused node (Undefined
// for an index below 0): the input types of one of its ops.
func pickTypes(types []ir.DType, i ...int) []ir.DType {
	ts := make([]ir.DType, len(i))
	for j, k := range i {
		if k >= 0 {
			ts[j] = inputType(types, k)
		}
	}
	return ts
}
