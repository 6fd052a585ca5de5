package cpu

import (
	"slices"

	"github.com/keenml/keen/ir"
)

// redLT is a labelled dense tensor: one label per dim.
type redLT[T redNum] struct {
	labels []rune
	shape  []int
	data   []T
}

// redEinsumTyped evaluates a bound einsum in element type T.
func redEinsumTyped[T redNum](in []*ir.Tensor, ops []redEinOperand, out []rune, dt ir.DType, conv func(*ir.Tensor) []T) (*ir.Tensor, error) {
	lts := make([]redLT[T], len(ops))
	for i, op := range ops {
		lts[i] = redLT[T]{labels: op.labels, shape: op.shape, data: conv(in[i])}.diag()
	}
	acc := lts[0]
	for i := 1; i < len(lts); i++ {
		keep := map[rune]bool{}
		for _, l := range out {
			keep[l] = true
		}
		for _, lt := range lts[i+1:] {
			for _, l := range lt.labels {
				keep[l] = true
			}
		}
		acc = redContract(acc, lts[i], keep)
	}
	keep := map[rune]bool{}
	for _, l := range out {
		keep[l] = true
	}
	acc = acc.sumOut(keep).permute(out, nil)
	return &ir.Tensor{DType: dt, Shape: acc.shape, Data: acc.data}, nil
}

// diag takes the diagonal over repeated labels, keeping first occurrences.
func (a redLT[T]) diag() redLT[T] {
	st := stridesOf(a.shape)
	var labels []rune
	var shape, strides []int
	for d, l := range a.labels {
		if j := slices.Index(labels, l); j >= 0 {
			strides[j] += st[d]
			continue
		}
		labels = append(labels, l)
		shape = append(shape, a.shape[d])
		strides = append(strides, st[d])
	}
	if len(labels) == len(a.labels) {
		return a
	}
	return redLT[T]{labels: labels, shape: shape, data: redStrided(a.data, shape, strides)}
}

// sumOut sums over every label not in keep.
func (a redLT[T]) sumOut(keep map[rune]bool) redLT[T] {
	var axes []int
	var labels []rune
	for d, l := range a.labels {
		if keep[l] {
			labels = append(labels, l)
		} else {
			axes = append(axes, d)
		}
	}
	if len(axes) == 0 {
		return a
	}
	p := redMakePlan(a.shape, axes, false)
	sum := make([]T, p.outN)
	if p.n > 0 && p.outN > 0 {
		for i, o := range redOwners(p, len(a.data)) {
			sum[o] += a.data[i]
		}
	}
	return redLT[T]{labels: labels, shape: p.outShape, data: sum}
}

// permute returns a contiguous copy with dims in order; a dim of size 1
// broadcasts to size[label] when size is given.
func (a redLT[T]) permute(order []rune, size map[rune]int) redLT[T] {
	st := stridesOf(a.shape)
	shape := make([]int, len(order))
	strides := make([]int, len(order))
	for i, l := range order {
		d := slices.Index(a.labels, l)
		shape[i], strides[i] = a.shape[d], st[d]
		if n, ok := size[l]; ok && shape[i] == 1 && n != 1 {
			shape[i], strides[i] = n, 0
		}
	}
	return redLT[T]{labels: append([]rune{}, order...), shape: shape, data: redStrided(a.data, shape, strides)}
}

// redContract multiplies a and b, summing labels shared by both that are not
// in keep; labels of a or b used nowhere else are summed out first.
func redContract[T redNum](a, b redLT[T], keep map[rune]bool) redLT[T] {
	with := func(lt redLT[T]) map[rune]bool {
		m := map[rune]bool{}
		for l := range keep {
			m[l] = true
		}
		for _, l := range lt.labels {
			m[l] = true
		}
		return m
	}
	a, b = a.sumOut(with(b)), b.sumOut(with(a))
	size := map[rune]int{}
	for _, lt := range []redLT[T]{a, b} {
		for d, l := range lt.labels {
			size[l] = max(size[l], lt.shape[d])
		}
	}
	var batch, left, contr, right []rune
	for _, l := range a.labels {
		switch {
		case !slices.Contains(b.labels, l):
			left = append(left, l)
		case keep[l]:
			batch = append(batch, l)
		default:
			contr = append(contr, l)
		}
	}
	for _, l := range b.labels {
		if !slices.Contains(a.labels, l) {
			right = append(right, l)
		}
	}
	prod := func(ls []rune) int {
		n := 1
		for _, l := range ls {
			n *= size[l]
		}
		return n
	}
	pa := a.permute(slices.Concat(batch, left, contr), size)
	pb := b.permute(slices.Concat(batch, contr, right), size)
	nb, m, k, n := prod(batch), prod(left), prod(contr), prod(right)
	c := redMatMul(pa.data, pb.data, nb, m, k, n)
	labels := slices.Concat(batch, left, right)
	shape := make([]int, len(labels))
	for i, l := range labels {
		shape[i] = size[l]
	}
	return redLT[T]{labels: labels, shape: shape, data: c}
}

// redMatMul is a batched matrix product. a (nb, m, k), b (nb, k, n) -> (nb, m, n)
// float32 goes to the SIMD GEMM; other types run the loops below.
func redMatMul[T redNum](a, b []T, nb, m, k, n int) []T {
	c := make([]T, nb*m*n)
	if cf, ok := any(c).([]float32); ok {
		convSgemmBatch(m, n, k, any(a).([]float32), m*k, any(b).([]float32), k*n, cf, nb)
		return c
	}
	parallelFor(nb*m, 2*k*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi := r / m
			crow := c[r*n : (r+1)*n]
			for kk, av := range a[r*k : (r+1)*k] {
				brow := b[(bi*k+kk)*n : (bi*k+kk+1)*n]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	})
	return c
}

// redStrided copies the strided view (shape, strides) of src into a new
// contiguous slice.
func redStrided[T any](src []T, shape, strides []int) []T {
	n := ir.Size(shape)
	out := make([]T, n)
	if n == 0 {
		return out
	}
	if len(shape) == 0 {
		out[0] = src[0]
		return out
	}
	last := len(shape) - 1
	inner, is := shape[last], strides[last]
	idx := make([]int, last)
	off := 0
	for o := 0; o < n; o += inner {
		row := out[o : o+inner]
		if is == 1 {
			copy(row, src[off:off+inner])
		} else {
			for j := range row {
				row[j] = src[off+j*is]
			}
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < shape[d] {
				break
			}
			off -= idx[d] * strides[d]
			idx[d] = 0
		}
	}
	return out
}
