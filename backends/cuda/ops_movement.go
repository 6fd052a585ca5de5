package cuda

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	idx := append(append([]ir.DType{}, movable...), ir.String)
	reg("Reshape", 5, movable, prepReshape)
	reg("Flatten", 1, movable, prepReshape)
	reg("Squeeze", 1, movable, prepReshape)
	reg("Unsqueeze", 1, movable, prepReshape)
	reg("Transpose", 1, movable, prepTranspose)
	reg("Expand", 8, movable, prepExpand)
	reg("Slice", 10, movable, prepSlice)
	reg("Concat", 4, movable, prepConcat)
	reg("Split", 2, movable, prepSplit)
	reg("Gather", 1, movable, prepGather)
	reg("Pad", 11, movable, prepPad)
	reg("Shape", 1, idx, prepShape)
	reg("Size", 1, idx, prepShape)
}

// attrOrInput reads int64 values from input i when present, else from the
// attribute (the op moved it from attributes to inputs across opsets).
func (b *Backend) attrOrInput(s *backends.OpSpec, in []*Buf, i int, attr string) ([]int64, bool, error) {
	if i < len(in) && in[i] != nil {
		v, err := b.ints(in[i])
		return v, true, err
	}
	if a := s.Attrs.Find(attr); a != nil {
		return a.Ints, true, nil
	}
	return nil, false, nil
}

// reshapeTo computes the output shape of Reshape and its kin.
func (b *Backend) reshapeTo(s *backends.OpSpec, in []*Buf, x *Buf) ([]int, error) {
	rank := len(x.shape)
	switch s.Op {
	case "Reshape":
		sh, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		want, err := b.ints(sh)
		if err != nil {
			return nil, err
		}
		return reshapeDims(x.shape, want, s.Attrs.Int("allowzero", 0) != 0)
	case "Flatten":
		ax := int(s.Attrs.Int("axis", 1))
		if ax < 0 {
			ax += rank
		}
		if ax < 0 || ax > rank {
			return nil, fmt.Errorf("Flatten axis %d for rank %d", s.Attrs.Int("axis", 1), rank)
		}
		return []int{ir.Size(x.shape[:ax]), ir.Size(x.shape[ax:])}, nil
	case "Squeeze":
		axes, _, err := b.attrOrInput(s, in, 1, "axes")
		if err != nil {
			return nil, err
		}
		return squeezeDims(x.shape, axes)
	}
	axes, ok, err := b.attrOrInput(s, in, 1, "axes")
	if err != nil || !ok {
		return nil, fmt.Errorf("Unsqueeze needs axes (%v)", err)
	}
	return unsqueezeDims(x.shape, axes)
}

func reshapeDims(in []int, want []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(want))
	infer, known := -1, 1
	for i, w := range want {
		switch {
		case w == -1 && infer < 0:
			infer = i
			continue
		case w == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dim %d of %v", want, i, in)
			}
			out[i] = in[i]
		case w < 0:
			return nil, fmt.Errorf("bad shape %v", want)
		default:
			out[i] = int(w)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || ir.Size(in)%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, want)
		}
		out[infer] = ir.Size(in) / known
	}
	if ir.Size(out) != ir.Size(in) {
		return nil, fmt.Errorf("cannot reshape %v to %v", in, want)
	}
	return out, nil
}

func squeezeDims(in []int, axes []int64) ([]int, error) {
	drop := make([]bool, len(in))
	for _, a := range axes {
		ax, err := normAxis(a, len(in))
		if err != nil {
			return nil, err
		}
		if in[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of %v", ax, in)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range in {
		if len(axes) == 0 && d == 1 || drop[i] {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func unsqueezeDims(in []int, axes []int64) ([]int, error) {
	rank := len(in) + len(axes)
	ins := make([]bool, rank)
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil || ins[ax] {
			return nil, fmt.Errorf("bad Unsqueeze axes %v for %v", axes, in)
		}
		ins[ax] = true
	}
	out := make([]int, 0, rank)
	j := 0
	for i := range rank {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, in[j])
			j++
		}
	}
	return out, nil
}

func prepReshape(b *Backend, s *backends.OpSpec) (kfunc, error) {
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		shape, err := b.reshapeTo(s, in, x)
		if err != nil {
			return nil, err
		}
		y, err := b.clone(x, shape)
		return []*Buf{y}, err
	}, nil
}

// transposeLayout is Transpose's output shape and the strides that read
// the input in output order (perm nil reverses the dims).
func transposeLayout(in []int, perm []int64) ([]int, []int64, error) {
	rank := len(in)
	if perm == nil {
		for i := rank - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != rank {
		return nil, nil, fmt.Errorf("perm %v for shape %v", perm, in)
	}
	st, cs := make([]int64, rank), contiguous(in)
	shape := make([]int, rank)
	seen := make([]bool, rank)
	for i, a := range perm {
		ax, err := normAxis(a, rank)
		if err != nil || seen[ax] {
			return nil, nil, fmt.Errorf("bad perm %v", perm)
		}
		seen[ax] = true
		shape[i], st[i] = in[ax], cs[ax]
	}
	return shape, st, nil
}

func prepTranspose(b *Backend, s *backends.OpSpec) (kfunc, error) {
	perm := s.Attrs.Ints("perm", nil)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		shape, st, err := transposeLayout(x.shape, perm)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(x.dt, shape)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.copyView(x.dt, view{ptr: x.ptr, strides: st}, shape, whole(y))
	}, nil
}

func prepExpand(b *Backend, s *backends.OpSpec) (kfunc, error) {
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		sh, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		want, err := b.ints(sh)
		if err != nil {
			return nil, err
		}
		w := make([]int, len(want))
		for i, v := range want {
			w[i] = int(v)
		}
		shape, err := broadcast(x.shape, w)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(x.dt, shape)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.copyView(x.dt, view{ptr: x.ptr, strides: bstrides(x.shape, shape)}, shape, whole(y))
	}, nil
}

// sliceView computes Slice's output dims and the strided view of x it reads.
func sliceView(x *Buf, starts, ends, axes, steps []int64) ([]int, view, error) {
	rank := len(x.shape)
	dims := append([]int{}, x.shape...)
	cs := contiguous(x.shape)
	v := view{ptr: x.ptr, strides: append([]int64{}, cs...)}
	if len(ends) != len(starts) || axes != nil && len(axes) != len(starts) || steps != nil && len(steps) != len(starts) {
		return nil, v, fmt.Errorf("Slice inputs disagree in length")
	}
	for i := range starts {
		ax := i
		if axes != nil {
			a, err := normAxis(axes[i], rank)
			if err != nil {
				return nil, v, err
			}
			ax = a
		}
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, v, fmt.Errorf("Slice step 0")
		}
		n := int64(x.shape[ax])
		lo, hi := clampIndex(starts[i], n, step), clampIndex(ends[i], n, step)
		cnt := int64(0)
		if step > 0 && hi > lo {
			cnt = (hi - lo + step - 1) / step
		} else if step < 0 && lo > hi {
			cnt = (lo - hi - step - 1) / -step
		}
		dims[ax] = int(cnt)
		v.off += lo * cs[ax]
		v.strides[ax] = cs[ax] * step
	}
	return dims, v, nil
}

// clampIndex applies Slice's rules for negative and out-of-range indices.
func clampIndex(i, n, step int64) int64 {
	if i < 0 {
		i += n
	}
	if step > 0 {
		return max(0, min(i, n))
	}
	return max(-1, min(i, n-1))
}

func prepSlice(b *Backend, s *backends.OpSpec) (kfunc, error) {
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		var lists [4][]int64
		for j := range lists {
			if j+1 < len(in) && in[j+1] != nil {
				if lists[j], err = b.ints(in[j+1]); err != nil {
					return nil, err
				}
			}
		}
		dims, v, err := sliceView(x, lists[0], lists[1], lists[2], lists[3])
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(x.dt, dims)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.copyView(x.dt, v, dims, whole(y))
	}, nil
}

func prepConcat(b *Backend, s *backends.OpSpec) (kfunc, error) {
	axis := s.Attrs.Int("axis", 0)
	return func(in []*Buf) ([]*Buf, error) {
		x0, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(axis, len(x0.shape))
		if err != nil {
			return nil, err
		}
		shape := append([]int{}, x0.shape...)
		shape[ax] = 0
		for i, x := range in {
			if x == nil || len(x.shape) != len(shape) {
				return nil, fmt.Errorf("input %d missing or of another rank", i)
			}
			for d := range shape {
				if d != ax && x.shape[d] != x0.shape[d] {
					return nil, fmt.Errorf("input %d of shape %v does not fit input 0 of shape %v on axis %d", i, x.shape, x0.shape, ax)
				}
			}
			shape[ax] += x.shape[ax]
		}
		y, err := b.alloc(x0.dt, shape)
		if err != nil {
			return nil, err
		}
		ys := contiguous(shape)
		off := int64(0)
		for _, x := range in {
			dst := view{ptr: y.ptr, strides: ys, off: off * ys[ax]}
			if err := b.copyView(x.dt, whole(x), x.shape, dst); err != nil {
				return nil, err
			}
			off += int64(x.shape[ax])
		}
		return []*Buf{y}, nil
	}, nil
}

func prepSplit(b *Backend, s *backends.OpSpec) (kfunc, error) {
	axis := s.Attrs.Int("axis", 0)
	nout := s.NumOutputs
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		sizes, _, err := b.attrOrInput(s, in, 1, "split")
		if err != nil {
			return nil, err
		}
		if sizes == nil {
			n := int64(x.shape[ax])
			per := (n + int64(nout) - 1) / int64(nout)
			for i := 0; i < nout; i++ {
				sizes = append(sizes, max(0, min(per, n-per*int64(i))))
			}
		}
		if len(sizes) != nout {
			return nil, fmt.Errorf("%d split sizes for %d outputs", len(sizes), nout)
		}
		outs := make([]*Buf, nout)
		lo := int64(0)
		for i, sz := range sizes {
			dims, v, err := sliceView(x, []int64{lo}, []int64{lo + sz}, []int64{int64(ax)}, nil)
			if err != nil {
				return nil, err
			}
			if outs[i], err = b.alloc(x.dt, dims); err != nil {
				return nil, err
			}
			if err := b.copyView(x.dt, v, dims, whole(outs[i])); err != nil {
				return nil, err
			}
			lo += sz
		}
		if lo != int64(x.shape[ax]) {
			return nil, fmt.Errorf("split sizes %v do not sum to %d", sizes, x.shape[ax])
		}
		return outs, nil
	}, nil
}

func prepGather(b *Backend, s *backends.OpSpec) (kfunc, error) {
	axis := s.Attrs.Int("axis", 0)
	if len(s.InputTypes) < 2 || (s.InputTypes[1] != ir.Int64 && s.InputTypes[1] != ir.Int32) {
		return nil, notImpl("Gather indices of %v", s.InputTypes)
	}
	src := gatherSource(bitsType(s.InputTypes[0]), ctype(s.InputTypes[1]))
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		ind, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		shape := append(append(append([]int{}, x.shape[:ax]...), ind.shape...), x.shape[ax+1:]...)
		y, err := b.alloc(x.dt, shape)
		if err != nil {
			return nil, err
		}
		n := y.len()
		a := (&args{}).ptr(x.ptr).ptr(ind.ptr).ptr(y.ptr).i64(int64(n)).i64(int64(ind.len())).
			i64(int64(ir.Size(x.shape[ax+1:]))).i64(int64(x.shape[ax])).ptr(b.errFlag)
		return []*Buf{y}, b.launch(src, n, a)
	}, nil
}

func prepPad(b *Backend, s *backends.OpSpec) (kfunc, error) {
	if mode := s.Attrs.Str("mode", "constant"); mode != "constant" {
		return nil, notImpl("Pad mode %q", mode)
	}
	dt := s.InputTypes[0]
	ct := ctype(dt)
	if ct == "" {
		return nil, notImpl("Pad of %v", dt)
	}
	fill := mapSource(nil, ct, ct, "(T)p0")
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		begin, shape, value, err := b.padLayout(s, in, x.shape)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(dt, shape)
		if err != nil {
			return nil, err
		}
		if err := b.runMap(fill, shape, nil, whole(y), value, 0); err != nil {
			return nil, err
		}
		// Negative pads crop: the copied window of x starts later or ends
		// earlier.
		ys, xs := contiguous(shape), contiguous(x.shape)
		src, dst := whole(x), view{ptr: y.ptr, strides: ys}
		dims := append([]int{}, x.shape...)
		for i, lo := range begin {
			hi := int64(shape[i]) - int64(x.shape[i]) - lo
			dims[i] -= int(max(0, -lo) + max(0, -hi))
			if dims[i] <= 0 {
				return []*Buf{y}, nil
			}
			src.off += max(0, -lo) * xs[i]
			dst.off += max(0, lo) * ys[i]
		}
		return []*Buf{y}, b.copyView(dt, src, dims, dst)
	}, nil
}

// padLayout reads Pad's pads, constant and axes (inputs, or the pads
// attribute before opset 11) and returns the padding before each dim, the
// output shape and the fill value.
func (b *Backend) padLayout(s *backends.OpSpec, in []*Buf, xs []int) ([]int64, []int, float64, error) {
	rank := len(xs)
	pads, _, err := b.attrOrInput(s, in, 1, "pads")
	if err != nil {
		return nil, nil, 0, err
	}
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	if len(in) > 3 && in[3] != nil {
		as, err := b.ints(in[3])
		if err != nil {
			return nil, nil, 0, err
		}
		axes = axes[:0]
		for _, a := range as {
			ax, err := normAxis(a, rank)
			if err != nil {
				return nil, nil, 0, err
			}
			axes = append(axes, ax)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, nil, 0, fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	value := 0.0
	if len(in) > 2 && in[2] != nil {
		c, err := b.download(in[2])
		if err != nil {
			return nil, nil, 0, err
		}
		if c.Len() > 0 {
			value = c.Float64At(0)
		}
	}
	shape := append([]int{}, xs...)
	begin := make([]int64, rank)
	for i, ax := range axes {
		lo, hi := pads[i], pads[i+len(axes)]
		begin[ax] = lo
		shape[ax] += int(lo + hi)
		if shape[ax] < 0 {
			return nil, nil, 0, fmt.Errorf("pads %v crop more than axis %d of %v holds", pads, ax, xs)
		}
	}
	return begin, shape, value, nil
}

// prepShape serves Shape (with start/end) and Size, computed on the host.
func prepShape(b *Backend, s *backends.OpSpec) (kfunc, error) {
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		var t *ir.Tensor
		if s.Op == "Size" {
			t = ir.Scalar(int64(x.len()))
		} else {
			r := int64(len(x.shape))
			lo, hi := s.Attrs.Int("start", 0), s.Attrs.Int("end", r)
			lo, hi = clampIndex(lo, r, 1), clampIndex(hi, r, 1)
			dims := []int64{}
			for i := lo; i < hi; i++ {
				dims = append(dims, int64(x.shape[i]))
			}
			t = ir.FromSlice(dims, len(dims))
		}
		y, err := b.upload(t)
		return []*Buf{y}, err
	}, nil
}
