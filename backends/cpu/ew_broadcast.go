package cpu

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/ir"
)

// Elementwise kernels are built from row functions: a row function computes
// o[i] = f(a[i], b[i]) over one contiguous row, where an operand of length 1
// is a broadcast scalar. The drivers here cut a broadcast into such rows:
// one row (split over workers) when shapes are equal or one side is a
// scalar, otherwise rows along the innermost (collapsed) dimension walked
// with an odometer, so no per-element index arithmetic happens anywhere.

// ewNum lists the Go element types arithmetic kernels are instantiated for.
type ewNum interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// ewInt lists the integer element types.
type ewInt interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// ewFloat lists the float element types computed natively.
type ewFloat interface{ ~float32 | ~float64 }

// ewPlan is a broadcast of several operands to one output, with the output
// dims collapsed as far as every operand allows.
type ewPlan struct {
	dims    []int   // collapsed output dims (at least one)
	strides [][]int // per operand, element strides over dims (0: broadcast)
}

// ewMakePlan builds the plan for operands of shapes ins broadcast to out.
func ewMakePlan(out []int, ins ...[]int) ewPlan {
	var dims []int
	var st [][]int = make([][]int, len(ins))
	full := make([][]int, len(ins))
	for k, s := range ins {
		full[k] = broadcastStrides(s, out)
	}
	for i, d := range out {
		if d == 1 {
			continue
		}
		n := len(dims)
		merge := n > 0
		for k := range ins {
			if merge && st[k][n-1] != full[k][i]*d {
				merge = false
			}
		}
		if merge {
			dims[n-1] *= d
			for k := range ins {
				st[k][n-1] = full[k][i]
			}
			continue
		}
		dims = append(dims, d)
		for k := range ins {
			st[k] = append(st[k], full[k][i])
		}
	}
	if len(dims) == 0 {
		dims = []int{1}
		for k := range ins {
			st[k] = []int{0}
		}
	}
	return ewPlan{dims: dims, strides: st}
}

// ewBroadcast2 is broadcastShapes for two operands with an error naming both.
func ewBroadcast2(a, b []int) ([]int, error) {
	s, err := broadcastShapes(a, b)
	if err != nil {
		return nil, fmt.Errorf("%w: inputs 0 and 1: cannot broadcast shapes %v and %v", errShape, a, b)
	}
	return s, nil
}

// ewRun2 fills o (of shape out) from a and b (of shapes as, bs) with row.
func ewRun2[A, B, O any](o []O, a []A, b []B, as, bs, out []int, cost int, row func(o []O, a []A, b []B)) {
	n := len(o)
	if n == 0 {
		return
	}
	if n*cost < ewSerialWork && (len(a) == n || len(a) == 1) && (len(b) == n || len(b) == 1) {
		row(o, a, b) // small: no goroutines, no closure
		return
	}
	switch {
	case len(a) == n && len(b) == n:
		parallelFor(n, cost, func(lo, hi int) { row(o[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	case len(a) == 1 && len(b) == n:
		parallelFor(n, cost, func(lo, hi int) { row(o[lo:hi], a, b[lo:hi]) })
		return
	case len(a) == n && len(b) == 1:
		parallelFor(n, cost, func(lo, hi int) { row(o[lo:hi], a[lo:hi], b) })
		return
	}
	p := ewMakePlan(out, as, bs)
	r := len(p.dims) - 1
	inner := p.dims[r]
	if ewTiled(o, a, b, p, cost, row) {
		return
	}
	na, nb := ewRowLen(p.strides[0][r], inner), ewRowLen(p.strides[1][r], inner)
	if rows := n / inner; rows < 2*Threads() && inner*cost >= 2*ewSerialWork {
		// Few long rows (say [1,3,H*W] + [3,1]): split inside each row.
		ewWalk(p, 0, rows, func(k int, offs []int) {
			ro := o[k*inner : (k+1)*inner]
			ra, rb := a[offs[0]:offs[0]+na], b[offs[1]:offs[1]+nb]
			parallelFor(inner, cost, func(lo, hi int) { row(ro[lo:hi], ewPart(ra, lo, hi), ewPart(rb, lo, hi)) })
		})
		return
	}
	parallelFor(n/inner, inner*cost, func(lo, hi int) {
		ewWalk(p, lo, hi, func(k int, offs []int) {
			o0 := k * inner
			row(o[o0:o0+inner], a[offs[0]:offs[0]+na], b[offs[1]:offs[1]+nb])
		})
	})
}

// ewTiled handles short rows of out [R, inner] = row(a [R, inner], b [inner])
// (or the mirror image): it tiles the broadcast row k times so that one row
// call covers k rows, as in [N, 3] + [3]. It reports whether it applied.
func ewTiled[A, B, O any](o []O, a []A, b []B, p ewPlan, cost int, row func(o []O, a []A, b []B)) bool {
	if len(p.dims) != 2 || p.dims[1] >= 128 {
		return false
	}
	R, inner := p.dims[0], p.dims[1]
	sa, sb := p.strides[0], p.strides[1]
	k := 512 / inner
	var ta []A
	var tb []B
	switch {
	case sa[0] == inner && sa[1] == 1 && sb[0] == 0 && sb[1] == 1:
		tb = ewTile(b[:inner], k)
	case sb[0] == inner && sb[1] == 1 && sa[0] == 0 && sa[1] == 1:
		ta = ewTile(a[:inner], k)
	default:
		return false
	}
	parallelFor((R+k-1)/k, k*inner*cost, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			s, e := c*k*inner, min((c+1)*k, R)*inner
			ra, rb := ta, tb
			if ra == nil {
				ra = a[s:e]
			}
			if rb == nil {
				rb = b[s:e]
			}
			row(o[s:e], ra[:e-s], rb[:e-s])
		}
	})
	return true
}

// ewTile repeats s k times.
func ewTile[T any](s []T, k int) []T {
	t := make([]T, 0, k*len(s))
	for range k {
		t = append(t, s...)
	}
	return t
}

// ewWalk calls visit for rows lo..hi-1 of plan p (a row runs along the last
// dim) with each operand's element offset at the row's start.
func ewWalk(p ewPlan, lo, hi int, visit func(row int, offs []int)) {
	r := len(p.dims) - 1
	idx := make([]int, r)
	offs := make([]int, len(p.strides))
	rem := lo
	for k := r - 1; k >= 0; k-- {
		idx[k] = rem % p.dims[k]
		rem /= p.dims[k]
		for j, st := range p.strides {
			offs[j] += idx[k] * st[k]
		}
	}
	for row := lo; row < hi; row++ {
		visit(row, offs)
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			for j, st := range p.strides {
				offs[j] += st[k]
			}
			if idx[k] < p.dims[k] {
				break
			}
			for j, st := range p.strides {
				offs[j] -= st[k] * p.dims[k]
			}
			idx[k] = 0
		}
	}
}

// ewPart is s[lo:hi], or s itself when it is a broadcast scalar.
func ewPart[T any](s []T, lo, hi int) []T {
	if len(s) == 1 {
		return s
	}
	return s[lo:hi]
}

// ewSerialWork is the work (elements times cost) below which drivers call
// the row function directly; parallelFor would not split it anyway.
const ewSerialWork = 1 << 15

// ewRowLen is the slice length of an operand's row: inner when it advances
// along the row, 1 when it is broadcast.
func ewRowLen(stride, inner int) int {
	if stride == 0 {
		return 1
	}
	return inner
}

// ewBinary computes row over the broadcast of a and b into a new tensor of
// dtype odt (whose Go storage must be []O).
func ewBinary[A, B, O any](a, b *ir.Tensor, odt ir.DType, cost int, row func(o []O, a []A, b []B)) (*ir.Tensor, error) {
	ad, ok := a.Data.([]A)
	if !ok {
		return nil, fmt.Errorf("%w: input 0 is %v stored as %T", errDType, a.DType, a.Data)
	}
	bd, ok := b.Data.([]B)
	if !ok {
		return nil, fmt.Errorf("%w: input 1 is %v stored as %T", errDType, b.DType, b.Data)
	}
	shape := a.Shape
	if !slices.Equal(a.Shape, b.Shape) {
		var err error
		if shape, err = ewBroadcast2(a.Shape, b.Shape); err != nil {
			return nil, err
		}
	}
	out, err := newTensorRaw(odt, shape)
	if err != nil {
		return nil, err
	}
	ewRun2(out.Data.([]O), ad, bd, a.Shape, b.Shape, shape, cost, row)
	return out, nil
}

// ewRowOf turns a scalar function into a row function (for the ops that are
// not hot enough to deserve inlined loops).
func ewRowOf[A, B, O any](f func(A, B) O) func(o []O, a []A, b []B) {
	return func(o []O, a []A, b []B) {
		switch {
		case len(a) == len(o) && len(b) == len(o):
			for i := range o {
				o[i] = f(a[i], b[i])
			}
		case len(a) == 1 && len(b) == len(o):
			x := a[0]
			for i := range o {
				o[i] = f(x, b[i])
			}
		case len(b) == 1 && len(a) == len(o):
			y := b[0]
			for i := range o {
				o[i] = f(a[i], y)
			}
		default:
			v := f(a[0], b[0])
			for i := range o {
				o[i] = v
			}
		}
	}
}

// ewUnary computes row over x into a new tensor of dtype odt.
func ewUnary[T, O any](x *ir.Tensor, odt ir.DType, cost int, row func(o []O, x []T)) (*ir.Tensor, error) {
	xd, ok := x.Data.([]T)
	if !ok {
		return nil, fmt.Errorf("%w: input 0 is %v stored as %T", errDType, x.DType, x.Data)
	}
	out, err := newTensorRaw(odt, x.Shape)
	if err != nil {
		return nil, err
	}
	od := out.Data.([]O)
	if len(od)*cost < ewSerialWork {
		row(od, xd)
	} else {
		parallelFor(len(od), cost, func(lo, hi int) { row(od[lo:hi], xd[lo:hi]) })
	}
	return out, nil
}

// ewMap turns a float64 function into a row function for any numeric type.
func ewMap[T ewNum](f func(float64) float64) func(o, x []T) {
	return func(o, x []T) {
		for i, v := range x {
			o[i] = T(f(float64(v)))
		}
	}
}
