package cuda

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("MatMul", 1, floats, prepMatMul)
	reg("Gemm", 7, floats, prepGemm)
	reg("Conv", 1, floats, prepConv)
}

func isF64(dt ir.DType) bool { return dt == ir.Float64 }

// batchStride is the element stride between consecutive batch matrices of
// an operand with batch dims in broadcast to out, when one exists: 0 when
// the operand is broadcast across the whole batch, per when it spans it.
func batchStride(in, out []int, per int) (int64, bool) {
	if ir.Size(in) == 1 {
		return 0, true
	}
	if len(in) == len(out) {
		for i := range in {
			if in[i] != out[i] {
				return 0, false
			}
		}
		return int64(per), true
	}
	return 0, false
}

func prepMatMul(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	if len(s.InputTypes) != 2 || s.InputTypes[1] != dt {
		return nil, notImpl("MatMul of %v", s.InputTypes)
	}
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		w, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		as, bs := x.shape, w.shape
		if len(as) == 0 || len(bs) == 0 {
			return nil, fmt.Errorf("MatMul of a scalar (%v, %v)", as, bs)
		}
		if len(as) == 1 {
			as = []int{1, as[0]}
		}
		if len(bs) == 1 {
			bs = []int{bs[0], 1}
		}
		m, k, k2, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-2], bs[len(bs)-1]
		if k != k2 {
			return nil, fmt.Errorf("MatMul shapes %v and %v", x.shape, w.shape)
		}
		ba, bb := as[:len(as)-2], bs[:len(bs)-2]
		batch, err := broadcast(ba, bb)
		if err != nil {
			return nil, err
		}
		shape := append([]int{}, batch...)
		if len(x.shape) > 1 {
			shape = append(shape, m)
		}
		if len(w.shape) > 1 {
			shape = append(shape, n)
		}
		y, err := b.alloc(dt, shape)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.batchedGemm(dt, x.ptr, ba, w.ptr, bb, y.ptr, batch, m, n, k)
	}, nil
}

// batchedGemm computes y[i] = a[i] b[i] over broadcast batch dims.
func (b *Backend) batchedGemm(dt ir.DType, a uintptr, ba []int, w uintptr, bb []int, y uintptr, batch []int, m, n, k int) error {
	nb := ir.Size(batch)
	if nb == 0 || m == 0 || n == 0 {
		return nil
	}
	es := dt.GoSize()
	if k == 0 {
		return b.drv.check("cuMemsetD8", b.drv.cuMemsetD8(y, 0, uint64(nb*m*n*es)))
	}
	g := &gemmCall{f64: isF64(dt), m: m, n: n, k: k, a: a, b: w, c: y, sc: int64(m * n), batch: nb, alpha: 1}
	sa, okA := batchStride(ba, batch, m*k)
	sb, okB := batchStride(bb, batch, k*n)
	if okA && okB {
		g.sa, g.sb = sa, sb
		return b.blas.run(b.blasH, g)
	}
	stA, stB := bstrides(ba, batch), bstrides(bb, batch)
	g.batch = 1
	for i := range nb {
		var offA, offB int64
		r := i
		for d := len(batch) - 1; d >= 0; d-- {
			q := int64(r % batch[d])
			r /= batch[d]
			offA += q * stA[d]
			offB += q * stB[d]
		}
		g.a = a + uintptr(offA*int64(m*k*es))
		g.b = w + uintptr(offB*int64(k*n*es))
		g.c = y + uintptr(i*m*n*es)
		if err := b.blas.run(b.blasH, g); err != nil {
			return err
		}
	}
	return nil
}

func prepGemm(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	alpha, beta := float64(s.Attrs.Float("alpha", 1)), float64(s.Attrs.Float("beta", 1))
	ta, tb := s.Attrs.Int("transA", 0) != 0, s.Attrs.Int("transB", 0) != 0
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		w, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		if len(x.shape) != 2 || len(w.shape) != 2 {
			return nil, fmt.Errorf("Gemm of shapes %v and %v", x.shape, w.shape)
		}
		m, k := x.shape[0], x.shape[1]
		if ta {
			m, k = k, m
		}
		k2, n := w.shape[0], w.shape[1]
		if tb {
			k2, n = n, k2
		}
		if k != k2 {
			return nil, fmt.Errorf("Gemm shapes %v and %v (transA %v, transB %v)", x.shape, w.shape, ta, tb)
		}
		y, err := b.alloc(dt, []int{m, n})
		if err != nil {
			return nil, err
		}
		be := 0.0
		if len(in) > 2 && in[2] != nil && beta != 0 {
			c := in[2]
			if _, err := broadcast(c.shape, y.shape); err != nil {
				return nil, err
			}
			if err := b.copyView(dt, view{ptr: c.ptr, strides: bstrides(c.shape, y.shape)}, y.shape, whole(y)); err != nil {
				return nil, err
			}
			be = beta
		}
		if m == 0 || n == 0 {
			return []*Buf{y}, nil
		}
		if k == 0 {
			if be == 0 {
				return []*Buf{y}, b.drv.check("cuMemsetD8", b.drv.cuMemsetD8(y.ptr, 0, uint64(m*n*dt.GoSize())))
			}
			return []*Buf{y}, b.scaleInPlace(dt, y, be)
		}
		g := &gemmCall{f64: isF64(dt), transA: ta, transB: tb, m: m, n: n, k: k, a: x.ptr, b: w.ptr, c: y.ptr,
			batch: 1, alpha: alpha, beta: be}
		return []*Buf{y}, b.blas.run(b.blasH, g)
	}, nil
}

// scaleInPlace multiplies y by f.
func (b *Backend) scaleInPlace(dt ir.DType, y *Buf, f float64) error {
	ct := ctype(dt)
	return b.runMap(mapSource([]string{ct}, ct, ct, "a * (T)p0"), y.shape, []view{whole(y)}, whole(y), f, 0)
}

// convGeom is a convolution's spatial geometry (at most three dims).
type convGeom struct {
	in, out, ker, str, pad, dil []int
}

func convGeometry(s *backends.OpSpec, xs, ws []int) (*convGeom, error) {
	k := len(xs) - 2
	if k < 1 || k > 3 || len(ws) != len(xs) {
		return nil, notImpl("Conv of shapes %v, %v", xs, ws)
	}
	g := &convGeom{in: xs[2:], ker: ws[2:], out: make([]int, k), pad: make([]int, 2*k)}
	ints := func(name string, def int) []int {
		v := s.Attrs.Ints(name, nil)
		out := make([]int, 0, k)
		for i := range k {
			if i < len(v) {
				out = append(out, int(v[i]))
			} else {
				out = append(out, def)
			}
		}
		return out
	}
	g.str, g.dil = ints("strides", 1), ints("dilations", 1)
	if p := s.Attrs.Ints("pads", nil); len(p) == 2*k {
		for i, v := range p {
			g.pad[i] = int(v)
		}
	}
	autoPad := s.Attrs.Str("auto_pad", "NOTSET")
	for i := range k {
		ext := (g.ker[i]-1)*g.dil[i] + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = (g.in[i] + g.str[i] - 1) / g.str[i]
			total := max(0, (g.out[i]-1)*g.str[i]+ext-g.in[i])
			lo := total / 2
			if autoPad == "SAME_LOWER" {
				lo = total - total/2
			}
			g.pad[i], g.pad[i+k] = lo, total-lo
		case "VALID":
			g.pad[i], g.pad[i+k] = 0, 0
			fallthrough
		default:
			g.out[i] = (g.in[i]+g.pad[i]+g.pad[i+k]-ext)/g.str[i] + 1
		}
		if g.str[i] < 1 || g.dil[i] < 1 || g.out[i] < 1 || g.in[i]+g.pad[i]+g.pad[i+k] < ext {
			return nil, fmt.Errorf("Conv geometry: input %v, kernel %v, strides %v, pads %v", xs, ws, g.str, g.pad)
		}
	}
	return g, nil
}

// cvStruct is the Cv parameter of the im2col kernel for one image; unused
// leading spatial dims have size 1 and no padding.
func (g *convGeom) cvStruct(cpg int) ([]int64, int) {
	k := len(g.in)
	lead := 3 - k
	n := cpg * ir.Size(g.ker) * ir.Size(g.out)
	words := []int64{int64(n)}
	fields := [][]int{g.in, g.out, g.ker, g.str, g.pad[:k], g.dil}
	defaults := []int{1, 1, 1, 1, 0, 1}
	for f, vals := range fields {
		for d := range 3 {
			v := defaults[f]
			if d >= lead {
				v = vals[d-lead]
			}
			words = append(words, int64(v))
		}
	}
	return words, n
}

func prepConv(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	ct := ctype(dt)
	im2col := im2colSource(ct)
	add := mapSource([]string{ct, ct}, ct, ct, "a + b")
	group := int(s.Attrs.Int("group", 1))
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		w, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		g, err := convGeometry(s, x.shape, w.shape)
		if err != nil {
			return nil, err
		}
		nImg, c, m := x.shape[0], x.shape[1], w.shape[0]
		if group < 1 || c%group != 0 || m%group != 0 || w.shape[1] != c/group {
			return nil, fmt.Errorf("Conv: input %v, weight %v, group %d", x.shape, w.shape, group)
		}
		cpg, mpg := c/group, m/group
		kk, oo := cpg*ir.Size(g.ker), ir.Size(g.out)
		y, err := b.alloc(dt, append([]int{nImg, m}, g.out...))
		if err != nil {
			return nil, err
		}
		col, err := b.alloc(dt, []int{kk, oo})
		if err != nil {
			return nil, err
		}
		defer b.Release(col)
		words, n := g.cvStruct(cpg)
		es, inImg := dt.GoSize(), ir.Size(g.in)
		for i := range nImg {
			for gi := range group {
				xp := x.ptr + uintptr(((i*c+gi*cpg)*inImg)*es)
				if err := b.launch(im2col, n, (&args{}).ptr(xp).ptr(col.ptr).words(words)); err != nil {
					return nil, err
				}
				call := &gemmCall{f64: isF64(dt), m: mpg, n: oo, k: kk, batch: 1, alpha: 1,
					a: w.ptr + uintptr(gi*mpg*kk*es), b: col.ptr, c: y.ptr + uintptr(((i*m+gi*mpg)*oo)*es)}
				if kk > 0 && oo > 0 && mpg > 0 {
					if err := b.blas.run(b.blasH, call); err != nil {
						return nil, err
					}
				}
			}
		}
		if len(in) > 2 && in[2] != nil {
			if err := b.addBias(add, y, in[2]); err != nil {
				return nil, err
			}
		}
		return []*Buf{y}, nil
	}, nil
}

// addBias adds a per-channel bias (M) to y (N, M, ...) in place.
func (b *Backend) addBias(add string, y, bias *Buf) error {
	m := y.shape[1]
	if bias.len() != m {
		return fmt.Errorf("Conv bias of shape %v for %d channels", bias.shape, m)
	}
	bshape := make([]int, len(y.shape))
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[1] = m
	ins := []view{whole(y), {ptr: bias.ptr, strides: bstrides(bshape, y.shape)}}
	return b.runMap(add, y.shape, ins, whole(y), 0, 0)
}
