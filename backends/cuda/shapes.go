package cuda

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

// broadcast is the numpy-style broadcast of shapes.
func broadcast(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case o == d || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v do not broadcast", shapes)
			}
		}
	}
	return out, nil
}

// contiguous are the row-major strides (in elements) of shape.
func contiguous(shape []int) []int64 {
	st := make([]int64, len(shape))
	n := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = n
		n *= int64(shape[i])
	}
	return st
}

// bstrides are the strides that read a tensor of shape in broadcast to out
// (0 along broadcast dims).
func bstrides(in, out []int) []int64 {
	st := make([]int64, len(out))
	cs := contiguous(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 || out[off+i] == 1 {
			st[off+i] = cs[i]
		}
	}
	return st
}

// view is a strided window onto a device buffer (strides and offset in
// elements).
type view struct {
	ptr     uintptr
	strides []int64
	off     int64
}

// whole is the contiguous view of x.
func whole(x *Buf) view { return view{ptr: x.ptr, strides: contiguous(x.shape)} }

// mapStruct builds the Sh parameter of a map kernel.
func mapStruct(dims []int, ins []view, y view) ([]int64, error) {
	if len(dims) > maxRank {
		return nil, notImpl("rank %d (at most %d)", len(dims), maxRank)
	}
	n := int64(ir.Size(dims))
	w := make([]int64, 0, 2+5*maxRank+4)
	w = append(w, n, int64(len(dims)))
	pad := func(xs []int64) {
		for i := range maxRank {
			if i < len(xs) {
				w = append(w, xs[i])
			} else {
				w = append(w, 0)
			}
		}
	}
	d64 := make([]int64, len(dims))
	for i, d := range dims {
		d64[i] = int64(d)
	}
	pad(d64)
	var offs [3]int64
	for i := range 3 {
		if i < len(ins) {
			pad(ins[i].strides)
			offs[i] = ins[i].off
		} else {
			pad(nil)
		}
	}
	pad(y.strides)
	w = append(w, offs[0], offs[1], offs[2], y.off)
	return w, nil
}

// runMap launches a map kernel over dims (device held).
func (b *Backend) runMap(src string, dims []int, ins []view, y view, p0, p1 float64) error {
	w, err := mapStruct(dims, ins, y)
	if err != nil {
		return err
	}
	a := &args{}
	for _, v := range ins {
		a.ptr(v.ptr)
	}
	a.ptr(y.ptr).words(w).f64(p0).f64(p1)
	return b.launch(src, ir.Size(dims), a)
}

// copyView copies a strided view into a contiguous buffer of dims.
func (b *Backend) copyView(dt ir.DType, src view, dims []int, dst view) error {
	t := bitsType(dt)
	if t == "" {
		return notImpl("moving %v", dt)
	}
	return b.runMap(mapSource([]string{t}, t, t, "a"), dims, []view{src}, dst, 0, 0)
}

// ints reads a small integer tensor's values on the host: from its host
// copy, or from the device.
func (b *Backend) ints(x *Buf) ([]int64, error) {
	if x.host != nil {
		return x.host.Int64s()
	}
	t, err := b.download(x)
	if err != nil {
		return nil, err
	}
	return t.Int64s()
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

// clone copies x into a new buffer of another shape of the same size
// (Reshape and friends).
func (b *Backend) clone(x *Buf, shape []int) (*Buf, error) {
	if ir.Size(shape) != x.len() {
		return nil, fmt.Errorf("cannot reshape %v to %v", x.shape, shape)
	}
	if x.host != nil && x.ptr == 0 {
		h := x.host.Clone()
		h.Shape = append([]int{}, shape...)
		return &Buf{dt: x.dt, shape: h.Shape, host: h}, nil
	}
	y, err := b.alloc(x.dt, shape)
	if err != nil {
		return nil, err
	}
	if n := x.len() * x.dt.GoSize(); n > 0 {
		if err := b.drv.check("cuMemcpyDtoD", b.drv.cuMemcpyDtoD(y.ptr, x.ptr, uint64(n))); err != nil {
			return nil, err
		}
	}
	if x.host != nil {
		y.host = x.host.Clone()
		y.host.Shape = append([]int{}, shape...)
	}
	return y, nil
}
