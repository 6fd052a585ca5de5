package cuda

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// redDef is a reduction: acc = combine(acc, map(v)) from init, then final.
// LOW and HIGH stand for the dtype's smallest and largest values.
type redDef struct {
	init, mapv, combine, final string
	floatOnly                  bool
}

var redOps = map[string]redDef{
	"ReduceSum":       {init: "0", mapv: "v", combine: "p + q", final: "t"},
	"ReduceMean":      {init: "0", mapv: "v", combine: "p + q", final: "t * (A)scale"},
	"ReduceMax":       {init: "LOW", mapv: "v", combine: "(p > q || p != p) ? p : q", final: "t"},
	"ReduceMin":       {init: "HIGH", mapv: "v", combine: "(p < q || p != p) ? p : q", final: "t"},
	"ReduceProd":      {init: "1", mapv: "v", combine: "p * q", final: "t"},
	"ReduceSumSquare": {init: "0", mapv: "v * v", combine: "p + q", final: "t"},
	"ReduceL1":        {init: "0", mapv: "v < 0 ? -v : v", combine: "p + q", final: "t"},
	"ReduceL2":        {init: "0", mapv: "v * v", combine: "p + q", final: "k_sqrt(t)", floatOnly: true},
	"ReduceLogSum":    {init: "0", mapv: "v", combine: "p + q", final: "k_log(t)", floatOnly: true},
	"ReduceLogSumExp": {init: "0", mapv: "k_exp(v - m)", combine: "p + q", final: "k_log(t) + m", floatOnly: true},
}

// limits are the C expressions of each dtype's smallest and largest value.
func limits(dt ir.DType) (low, high string) {
	switch dt {
	case ir.Float32, ir.Float64:
		return "(-1.0 / 0.0)", "(1.0 / 0.0)"
	case ir.Int32:
		return "(-2147483647 - 1)", "2147483647"
	case ir.Int64:
		return "(-9223372036854775807LL - 1)", "9223372036854775807LL"
	}
	return "0", "0"
}

func init() {
	for op, d := range redOps {
		ds := numeric
		if d.floatOnly {
			ds = floats
		}
		reg(op, 1, append(append([]ir.DType{}, ds...), ir.Int64), prepReduce)
	}
	reg("ArgMax", 1, numeric, prepArg)
	reg("ArgMin", 1, numeric, prepArg)
	reg("Softmax", 1, floats, prepSoftmax)
	reg("LogSoftmax", 1, floats, prepSoftmax)
}

// redLayout splits x's dims into kept and reduced ones for the Rd struct,
// and returns the output shape.
func redLayout(shape []int, axes []int64, keep bool) (words []int64, out []int, nout, nred int, err error) {
	rank := len(shape)
	red := make([]bool, rank)
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		red[ax] = true
	}
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	cs := contiguous(shape)
	var od, os, rd, rs []int64
	for i, d := range shape {
		switch {
		case red[i]:
			rd, rs = append(rd, int64(d)), append(rs, cs[i])
			if keep {
				out = append(out, 1)
			}
		default:
			od, os = append(od, int64(d)), append(os, cs[i])
			out = append(out, d)
		}
	}
	if len(od) > maxRank || len(rd) > maxRank {
		return nil, nil, 0, 0, notImpl("rank %d", rank)
	}
	nout, nred = 1, 1
	for _, d := range od {
		nout *= int(d)
	}
	for _, d := range rd {
		nred *= int(d)
	}
	pad := func(xs []int64) []int64 { return append(xs, make([]int64, maxRank-len(xs))...) }
	words = append(words, int64(nout), int64(nred), int64(len(od)))
	words = append(append(words, pad(od)...), pad(os)...)
	words = append(words, int64(len(rd)))
	words = append(append(words, pad(rd)...), pad(rs)...)
	return words, out, nout, nred, nil
}

func prepReduce(b *Backend, s *backends.OpSpec) (kfunc, error) {
	d := redOps[s.Op]
	dt := s.InputTypes[0]
	ct := ctype(dt)
	if ct == "" || d.floatOnly && !dt.IsFloat() || dt != ir.Float32 && dt != ir.Float64 && dt != ir.Int32 && dt != ir.Int64 {
		return nil, notImpl("%s of %v", s.Op, dt)
	}
	low, high := limits(dt)
	init := map[string]string{"LOW": low, "HIGH": high}[d.init]
	if init == "" {
		init = d.init
	}
	src := reduceSource(ct, ct, ct, init, d.mapv, d.combine, d.final)
	maxSrc := reduceSource(ct, ct, ct, low, "v", redOps["ReduceMax"].combine, "t")
	keep := s.Attrs.Int("keepdims", 1) != 0
	noop := s.Attrs.Int("noop_with_empty_axes", 0) != 0
	axesInput := s.Op == "ReduceSum" && s.Version >= 13 || s.Version >= 18
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		axes := s.Attrs.Ints("axes", nil)
		if axesInput {
			axes = nil
			if len(in) > 1 && in[1] != nil {
				if axes, err = b.ints(in[1]); err != nil {
					return nil, err
				}
			}
		}
		if len(axes) == 0 && noop {
			y, err := b.clone(x, x.shape)
			return []*Buf{y}, err
		}
		words, shape, nout, nred, err := redLayout(x.shape, axes, keep)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(dt, shape)
		if err != nil {
			return nil, err
		}
		var aux uintptr
		if s.Op == "ReduceLogSumExp" {
			m, err := b.alloc(dt, shape)
			if err != nil {
				return nil, err
			}
			a := (&args{}).ptr(x.ptr).ptr(m.ptr).ptr(0).words(words).f64(0)
			if err := b.launchBlocks(maxSrc, min(nout, 65535), nout, a); err != nil {
				return nil, err
			}
			aux = m.ptr
			defer b.Release(m)
		}
		scale := 0.0
		if nred > 0 {
			scale = 1 / float64(nred)
		}
		a := (&args{}).ptr(x.ptr).ptr(y.ptr).ptr(aux).words(words).f64(scale)
		return []*Buf{y}, b.launchBlocks(src, min(nout, 65535), nout, a)
	}, nil
}

// rows views shape as (outer, n, inner) around axis; flatten makes n cover
// every dim from axis on (Softmax before opset 13).
func rows(shape []int, axis int, flatten bool) (outer, n, inner int) {
	outer, inner = ir.Size(shape[:axis]), ir.Size(shape[axis+1:])
	n = shape[axis]
	if flatten {
		n, inner = ir.Size(shape[axis:]), 1
	}
	return outer, n, inner
}

func prepArg(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	src := argSource(ctype(dt), s.Op == "ArgMax", s.Attrs.Int("select_last_index", 0) != 0)
	axis, keep := s.Attrs.Int("axis", 0), s.Attrs.Int("keepdims", 1) != 0
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		outer, n, inner := rows(x.shape, ax, false)
		if n == 0 {
			return nil, fmt.Errorf("%s over an empty axis", s.Op)
		}
		shape := append([]int{}, x.shape...)
		if keep {
			shape[ax] = 1
		} else {
			shape = append(shape[:ax], shape[ax+1:]...)
		}
		y, err := b.alloc(ir.Int64, shape)
		if err != nil {
			return nil, err
		}
		a := (&args{}).ptr(x.ptr).ptr(y.ptr).i64(int64(outer)).i64(int64(n)).i64(int64(inner))
		return []*Buf{y}, b.launchBlocks(src, min(outer*inner, 65535), outer*inner, a)
	}, nil
}

func prepSoftmax(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	src := softmaxSource(ctype(dt), s.Op == "LogSoftmax")
	old := s.Version != 0 && s.Version < 13
	def := int64(-1)
	if old {
		def = 1
	}
	axis := s.Attrs.Int("axis", def)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		if len(x.shape) == 0 {
			return nil, fmt.Errorf("%s of a scalar", s.Op)
		}
		ax, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		outer, n, inner := rows(x.shape, ax, old)
		y, err := b.alloc(dt, x.shape)
		if err != nil {
			return nil, err
		}
		a := (&args{}).ptr(x.ptr).ptr(y.ptr).i64(int64(outer)).i64(int64(n)).i64(int64(inner))
		return []*Buf{y}, b.launchBlocks(src, min(outer*inner, 65535), outer*inner*n, a)
	}, nil
}
