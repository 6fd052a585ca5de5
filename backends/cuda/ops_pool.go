package cuda

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("MaxPool", 8, floats, prepPool)
	reg("AveragePool", 7, floats, prepPool)
	reg("GlobalMaxPool", 1, floats, prepGlobalPool)
	reg("GlobalAveragePool", 1, floats, prepGlobalPool)
	reg("BatchNormalization", 9, floats, prepBatchNorm)
}

// poolSource computes one output per thread over its window: mode 0 is max,
// 1 average over the input positions, 2 average counting padding too.
func poolSource(t string) string {
	return header + fmt.Sprintf("typedef %s T;\n", t) +
		`struct Pl { I n, in[3], out[3], ker[3], str[3], pad[3], pend[3], dil[3]; };
extern "C" __global__ void k(const T* x, T* y, Pl s, I mode) {
  GRID_LOOP(i, s.n) {
    I r = i, o[3];
    for (int d = 2; d >= 0; d--) { o[d] = r % s.out[d]; r /= s.out[d]; }
    const T* xp = x + r * s.in[0] * s.in[1] * s.in[2];
    double acc = mode == 0 ? -1.0 / 0.0 : 0.0;
    I cnt = 0, cntPad = 0;
    for (I k0 = 0; k0 < s.ker[0]; k0++)
    for (I k1 = 0; k1 < s.ker[1]; k1++)
    for (I k2 = 0; k2 < s.ker[2]; k2++) {
      I kk[3] = {k0, k1, k2}, p[3];
      bool ok = true, inPad = true;
      for (int d = 0; d < 3; d++) {
        p[d] = o[d] * s.str[d] - s.pad[d] + kk[d] * s.dil[d];
        ok = ok && p[d] >= 0 && p[d] < s.in[d];
        inPad = inPad && p[d] >= -s.pad[d] && p[d] < s.in[d] + s.pend[d];
      }
      if (inPad) cntPad++;
      if (!ok) continue;
      double v = (double)xp[(p[0] * s.in[1] + p[1]) * s.in[2] + p[2]];
      cnt++;
      if (mode == 0) acc = (v > acc || v != v) ? v : acc;
      else acc += v;
    }
    y[i] = (T)(mode == 0 ? acc : acc / (double)(mode == 2 ? cntPad : cnt));
  }
}
`
}

// poolGeometry reads a pool's attributes (kernel_shape, strides, pads,
// dilations, auto_pad, ceil_mode) for input shape xs.
func poolGeometry(s *backends.OpSpec, xs []int) (*convGeom, error) {
	ks := s.Attrs.Ints("kernel_shape", nil)
	if len(ks) != len(xs)-2 {
		return nil, fmt.Errorf("kernel_shape %v for input %v", ks, xs)
	}
	ws := []int{1, 1}
	for _, k := range ks {
		ws = append(ws, int(k))
	}
	g, err := convGeometry(s, xs, ws)
	if err != nil || s.Attrs.Int("ceil_mode", 0) == 0 || s.Attrs.Str("auto_pad", "NOTSET") != "NOTSET" {
		return g, err
	}
	k := len(g.in)
	for i := range k {
		ext := (g.ker[i]-1)*g.dil[i] + 1
		span := g.in[i] + g.pad[i] + g.pad[i+k] - ext
		g.out[i] = (span+g.str[i]-1)/g.str[i] + 1
		if (g.out[i]-1)*g.str[i] >= g.in[i]+g.pad[i] { // the last window would start in the end padding
			g.out[i]--
		}
	}
	return g, nil
}

// plStruct is the Pl parameter for n outputs.
func (g *convGeom) plStruct(n int) []int64 {
	k := len(g.in)
	lead := 3 - k
	words := []int64{int64(n)}
	fields := [][]int{g.in, g.out, g.ker, g.str, g.pad[:k], g.pad[k:], g.dil}
	defaults := []int{1, 1, 1, 1, 0, 0, 1}
	for f, vals := range fields {
		for d := range 3 {
			v := defaults[f]
			if d >= lead {
				v = vals[d-lead]
			}
			words = append(words, int64(v))
		}
	}
	return words
}

func prepPool(b *Backend, s *backends.OpSpec) (kfunc, error) {
	if s.NumOutputs > 1 {
		return nil, notImpl("MaxPool with Indices")
	}
	mode := int64(0)
	if s.Op == "AveragePool" {
		mode = 1 + s.Attrs.Int("count_include_pad", 0)
	}
	src := poolSource(ctype(s.InputTypes[0]))
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		g, err := poolGeometry(s, x.shape)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(x.dt, append([]int{x.shape[0], x.shape[1]}, g.out...))
		if err != nil {
			return nil, err
		}
		n := y.len()
		return []*Buf{y}, b.launch(src, n, (&args{}).ptr(x.ptr).ptr(y.ptr).words(g.plStruct(n)).i64(mode))
	}, nil
}

// prepGlobalPool reduces over the spatial dims, keeping them as 1s.
func prepGlobalPool(b *Backend, s *backends.OpSpec) (kfunc, error) {
	ct := ctype(s.InputTypes[0])
	d := redOps["ReduceMean"]
	init := d.init
	if s.Op == "GlobalMaxPool" {
		d = redOps["ReduceMax"]
		init, _ = limits(s.InputTypes[0])
	}
	src := reduceSource(ct, ct, ct, init, d.mapv, d.combine, d.final)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		if len(x.shape) < 3 {
			return nil, fmt.Errorf("%s of shape %v", s.Op, x.shape)
		}
		var axes []int64
		for i := 2; i < len(x.shape); i++ {
			axes = append(axes, int64(i))
		}
		words, shape, nout, nred, err := redLayout(x.shape, axes, true)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(x.dt, shape)
		if err != nil {
			return nil, err
		}
		a := (&args{}).ptr(x.ptr).ptr(y.ptr).ptr(0).words(words).f64(1 / float64(max(nred, 1)))
		return []*Buf{y}, b.launchBlocks(src, min(nout, 65535), nout, a)
	}, nil
}

func prepBatchNorm(b *Backend, s *backends.OpSpec) (kfunc, error) {
	if s.NumOutputs > 1 || s.Attrs.Int("training_mode", 0) != 0 {
		return nil, notImpl("BatchNormalization in training mode")
	}
	dt := s.InputTypes[0]
	for i, t := range s.InputTypes {
		if t != dt {
			return nil, notImpl("BatchNormalization input %d of %v with input 0 of %v", i, t, dt)
		}
	}
	eps := float64(s.Attrs.Float("epsilon", 1e-5))
	src := header + fmt.Sprintf("typedef %s T;\n", ctype(dt)) +
		`extern "C" __global__ void k(const T* x, const T* sc, const T* bb, const T* mean, const T* var, T* y, I n, I C, I inner, double eps) {
  GRID_LOOP(i, n) {
    I c = (i / inner) % C;
    y[i] = (T)((x[i] - mean[c]) / k_sqrt(var[c] + (T)eps) * sc[c] + bb[c]);
  }
}
`
	return func(in []*Buf) ([]*Buf, error) {
		var xs [5]*Buf
		for i := range xs {
			x, err := need(in, i)
			if err != nil {
				return nil, err
			}
			xs[i] = x
		}
		x := xs[0]
		if len(x.shape) < 2 {
			return nil, fmt.Errorf("BatchNormalization of shape %v", x.shape)
		}
		c := x.shape[1]
		for i := 1; i < 5; i++ {
			if xs[i].len() != c {
				return nil, fmt.Errorf("input %d of shape %v for %d channels", i, xs[i].shape, c)
			}
		}
		y, err := b.alloc(dt, x.shape)
		if err != nil {
			return nil, err
		}
		n := y.len()
		a := (&args{}).ptr(x.ptr).ptr(xs[1].ptr).ptr(xs[2].ptr).ptr(xs[3].ptr).ptr(xs[4].ptr).ptr(y.ptr).
			i64(int64(n)).i64(int64(c)).i64(int64(ir.Size(x.shape[2:]))).f64(eps)
		return []*Buf{y}, b.launch(src, n, a)
	}, nil
}
