package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("ConvTranspose", 1, prepConvTranspose)
}

// convTrans is a prepared ConvTranspose.
type convTrans struct {
	win         convWin
	group       int
	outPadding  []int64
	outputShape []int64
}

func prepConvTranspose(s *backends.OpSpec) (kernelFunc, error) {
	win, err := convReadWin("ConvTranspose", s.Attrs)
	if err != nil {
		return nil, err
	}
	c := convTrans{
		win:         win,
		group:       int(s.Attrs.Int("group", 1)),
		outPadding:  s.Attrs.Ints("output_padding", nil),
		outputShape: s.Attrs.Ints("output_shape", nil),
	}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: ConvTranspose: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	switch dt {
	case ir.Float32:
		return convTransKernel(c, convSgemmFn), nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convTransKernel(c, convSgemmFn), dt, 0, 1, 2), nil
	case ir.Float64:
		return convTransKernel(c, convGemmFnT[float64]), nil
	}
	return nil, fmt.Errorf("%w: ConvTranspose: %v", errDType, dt)
}

// convFloorDiv2 is Python's x // 2 (rounds toward -inf).
func convFloorDiv2(x int) int {
	if x < 0 {
		return -((-x + 1) / 2)
	}
	return x / 2
}

// plan checks X (N,C,in...), W (C, M/group, k...) and B (M) and resolves the
// geometry. In the returned problem geo.in is X's spatial shape and geo.out
// the output's; padBegin shifts outputs: o = i*stride - padBegin + k*dilation.
func (c convTrans) plan(xs, ws []int, bias *ir.Tensor) (*convProblem, error) {
	const op = "ConvTranspose"
	n, ch, in, err := convSplitNC(op, 0, xs)
	if err != nil {
		return nil, err
	}
	if len(ws) != len(xs) || ws[0] != ch {
		return nil, fmt.Errorf("%w: %s: weight (input 1) shape %v does not match input shape %v", errShape, op, ws, xs)
	}
	if c.group < 1 || ch%c.group != 0 {
		return nil, fmt.Errorf("%w: %s: group %d must divide input channels %d", errAttr, op, c.group, ch)
	}
	p := &convProblem{n: n, c: ch, m: ws[1] * c.group, group: c.group, cg: ch / c.group, mg: ws[1]}
	win := c.win
	win.pads, win.autoPad = nil, "NOTSET" // pads are applied below
	win.ceil = false
	// Resolve kernel, strides and dilations on a dummy input large enough.
	big := make([]int, len(in))
	for i := range big {
		big[i] = 1 << 30
	}
	g, err := win.resolve(big, ws[2:])
	if err != nil {
		return nil, err
	}
	g.in = in
	if err := c.outputGeom(g, xs, ws); err != nil {
		return nil, err
	}
	p.geo = g
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != p.m) {
		return nil, fmt.Errorf("%w: %s: bias (input 2) shape %v, want [%d]", errShape, op, bias.Shape, p.m)
	}
	if _, err := ir.NumElements(append([]int{n, p.m}, g.out...)); err != nil {
		return nil, fmt.Errorf("%s: output: %w", op, err)
	}
	p.inSize, p.outSize, p.kSize = ir.Size(in), ir.Size(g.out), ir.Size(g.kernel)
	return p, nil
}

// outputGeom sets g's output size and pads: from output_shape (pads split
// from the total as auto_pad says), from auto_pad SAME (output in*stride),
// or from explicit pads.
func (c convTrans) outputGeom(g *convGeom, xs, ws []int) error {
	const op = "ConvTranspose"
	in, r := g.in, len(g.in)
	outPad, err := convAttrInts(op, "output_padding", c.outPadding, r, 0, 0)
	if err != nil {
		return err
	}
	var pads []int
	if c.win.pads != nil && c.win.autoPad == "NOTSET" {
		if pads, err = convAttrInts(op, "pads", c.win.pads, 2*r, 0, 0); err != nil {
			return err
		}
	}
	var outShape []int
	switch {
	case c.outputShape != nil:
		osh := c.outputShape
		if len(osh) == r+2 {
			osh = osh[2:]
		}
		if outShape, err = convAttrInts(op, "output_shape", osh, r, 0, 0); err != nil {
			return err
		}
	case c.win.autoPad == "SAME_UPPER" || c.win.autoPad == "SAME_LOWER":
		outShape = make([]int, r)
		for i := range outShape {
			outShape[i] = in[i] * g.strides[i]
		}
	}
	for i := 0; i < r; i++ {
		full := g.strides[i]*(in[i]-1) + outPad[i] + (g.kernel[i]-1)*g.dilations[i] + 1
		switch {
		case outShape != nil:
			g.out[i] = outShape[i]
			total := full - outShape[i]
			g.padBegin[i] = total - convFloorDiv2(total)
			if c.win.autoPad == "SAME_UPPER" {
				g.padBegin[i] = convFloorDiv2(total)
			}
			g.padEnd[i] = total - g.padBegin[i]
		case pads != nil:
			g.padBegin[i], g.padEnd[i] = pads[i], pads[r+i]
			g.out[i] = full - pads[i] - pads[r+i]
		default:
			g.out[i] = full
		}
		if g.out[i] < 0 {
			return fmt.Errorf("%w: %s: output spatial size %d on axis %d is negative (input %v, weight %v)",
				errShape, op, g.out[i], i, xs, ws)
		}
	}
	return nil
}

// convTransKernel: X (N,C,in...) ⋆ᵀ W (C,M/group,k...) + B (M) -> Y (N,M,out...).
func convTransKernel[T convNum](c convTrans, gemm convGemmFn[T]) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("ConvTranspose: %w", err)
		}
		var bias *ir.Tensor
		if len(in) > 2 {
			bias = in[2]
		}
		p, err := c.plan(in[0].Shape, in[1].Shape, bias)
		if err != nil {
			return nil, err
		}
		out, err := newTensor(in[0].DType, p.outShape())
		if err != nil {
			return nil, fmt.Errorf("ConvTranspose: %w", err)
		}
		y := out.Data.([]T)
		convTransForward(p, in[0].Data.([]T), in[1].Data.([]T), y, gemm)
		if bias != nil {
			convAddBias(y, bias.Data.([]T), p.n, p.m, p.outSize)
		}
		return one(out)
	}
}

// convTransForward computes y (zeroed) per image and group as
// col2im(W_gᵀ × X_g), chunked over the first input spatial dim.
func convTransForward[T convNum](p *convProblem, x, w, y []T, gemm convGemmFn[T]) {
	if p.outSize == 0 || p.inSize == 0 || p.n == 0 || p.m == 0 || p.cg == 0 {
		return
	}
	rows := p.mg * p.kSize
	in0 := p.geo.in[0]
	inner := p.inSize / in0
	chunk := min(in0, max(1, (1<<22)/max(1, rows*inner)))
	cols := convScratch[T](rows * chunk * inner)
	defer convRelease(cols)
	for n := 0; n < p.n; n++ {
		for g := 0; g < p.group; g++ {
			xg := x[(n*p.c+g*p.cg)*p.inSize:]
			wg := w[g*p.cg*rows:]
			yg := y[(n*p.m+g*p.mg)*p.outSize : (n*p.m+(g+1)*p.mg)*p.outSize]
			for i0 := 0; i0 < in0; i0 += chunk {
				i1 := min(in0, i0+chunk)
				nc := (i1 - i0) * inner
				gemm(true, false, rows, nc, p.cg, wg, rows, xg[i0*inner:], p.inSize, cols, nc)
				convCol2im(yg, cols[:rows*nc], p, i0, i1)
			}
		}
	}
}

// convCol2im scatter-adds cols (mg*kSize rows, one column per input
// position with first coordinate in [i0,i1)) into the group's output planes.
func convCol2im[T convNum](yg, cols []T, p *convProblem, i0, i1 int) {
	g := p.geo
	r := len(g.in)
	if r == 2 && g.strides[0] == 1 && g.strides[1] == 1 {
		convCol2imUnit2D(yg, cols, p, i0, i1)
		return
	}
	nc := len(cols) / (p.mg * p.kSize)
	outSt := stridesOf(g.out)
	kSt := stridesOf(g.kernel)
	parallelFor(p.mg, p.kSize*nc, func(lo, hi int) {
		kidx := make([]int, r)
		iidx := make([]int, r-1)
		for oc := lo; oc < hi; oc++ {
			plane := yg[oc*p.outSize : (oc+1)*p.outSize]
			for kk := 0; kk < p.kSize; kk++ {
				for d := range kidx {
					kidx[d] = kk / kSt[d] % g.kernel[d]
				}
				row := (oc*p.kSize + kk) * nc
				convCol2imRow(plane, cols[row:row+nc], g, kidx, iidx, outSt, i0, i1)
			}
		}
	})
}

// convCol2imRow adds one cols row (kernel tap kidx) into its output plane.
func convCol2imRow[T convNum](plane, src []T, g *convGeom, kidx, iidx, outSt []int, i0, i1 int) {
	last := len(g.in) - 1
	la, lb := 0, g.in[last]
	if last == 0 {
		la, lb = i0, i1
	} else {
		clear(iidx)
		iidx[0] = i0
	}
	s := g.strides[last]
	off := kidx[last]*g.dilations[last] - g.padBegin[last]
	vlo, vhi := convValidRange(off, s, g.out[last], la, lb)
	n := lb - la
	for pos := 0; ; pos += n {
		base, ok := 0, vlo < vhi
		for d := 0; d < last && ok; d++ {
			o := iidx[d]*g.strides[d] - g.padBegin[d] + kidx[d]*g.dilations[d]
			ok = o >= 0 && o < g.out[d]
			base += o * outSt[d]
		}
		if ok {
			row := src[pos+vlo-la : pos+vhi-la]
			dst := base + vlo*s + off
			if s == 1 {
				out := plane[dst : dst+len(row)]
				for j, v := range row {
					out[j] += v
				}
			} else {
				for _, v := range row {
					plane[dst] += v
					dst += s
				}
			}
		}
		if !convNextOuter(iidx, g.in, i1) {
			return
		}
	}
}

// convCol2imUnit2D is convCol2im for 2-D windows of unit stride: a kernel
// tap's cols row is the input rows [i0, i1) shifted by the tap, so each
// input row adds into one run of an output row, the run's bounds the same
// for every row of the tap.
func convCol2imUnit2D[T convNum](yg, cols []T, p *convProblem, i0, i1 int) {
	g := p.geo
	inW, outH, outW := g.in[1], g.out[0], g.out[1]
	kw := g.kernel[1]
	nc := (i1 - i0) * inW
	parallelFor(p.mg, p.kSize*nc, func(lo, hi int) {
		for oc := lo; oc < hi; oc++ {
			plane := yg[oc*p.outSize : (oc+1)*p.outSize]
			for kk := 0; kk < p.kSize; kk++ {
				offH := kk/kw*g.dilations[0] - g.padBegin[0]
				offW := kk%kw*g.dilations[1] - g.padBegin[1]
				// Input columns x with 0 <= x+offW < outW; rows y likewise.
				xlo, xhi := max(0, -offW), min(inW, outW-offW)
				ylo, yhi := max(i0, -offH), min(i1, outH-offH)
				if xlo >= xhi {
					continue
				}
				src := cols[(oc*p.kSize+kk)*nc:][:nc]
				for y := ylo; y < yhi; y++ {
					s := src[(y-i0)*inW+xlo : (y-i0)*inW+xhi]
					d := plane[(y+offH)*outW+xlo+offW:][:len(s)]
					for j, v := range s {
						d[j] += v
					}
				}
			}
		}
	})
}
