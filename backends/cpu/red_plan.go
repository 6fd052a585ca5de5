package cpu

import "math"

// The reduction engine: a plan folds a tensor over a set of axes without
// transposing it. Unit dims are dropped and neighbouring dims that are both
// reduced (or both kept) merged, so a reduction is either
//
//   - inner reduced: each output folds contiguous runs x[b+o : b+o+inner]
//     for each offset o of the outer reduced dims, or
//   - inner kept: each block of `inner` contiguous outputs folds whole
//     contiguous rows x[b+o : b+o+inner] element-wise, one row per offset o.
//
// Both read memory sequentially. Float inputs accumulate in float64.

// redKind is the fold applied to the reduced elements.
type redKind uint8

const (
	redSum    redKind = iota
	redSumAbs         // sum |x|
	redSumSq          // sum x*x
	redProd
	redMax
	redMin
	redSumExp // sum exp(x - shift), shift per output
)

// redAcc is the accumulator type: float64 for floats, int64 or uint64 for
// integers.
type redAcc interface{ ~float64 | ~int64 | ~uint64 }

// redPlan is a reduction of one input shape over one set of axes.
type redPlan struct {
	outShape  []int
	outN, n   int  // outputs, and elements folded into each
	innerKept bool // the innermost merged dim is kept
	inner     int  // length of the innermost merged dim
	bases     []int
	offs      []int
}

// redMakePlan plans the reduction of shape over axes (normalized, distinct;
// empty means no axis is reduced).
func redMakePlan(shape []int, axes []int, keep bool) *redPlan {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	p := &redPlan{outN: 1, n: 1}
	for i, d := range shape {
		switch {
		case !red[i]:
			p.outShape = append(p.outShape, d)
			p.outN *= d
		case keep:
			p.outShape = append(p.outShape, 1)
			p.n *= d
		default:
			p.n *= d
		}
	}
	if p.outShape == nil {
		p.outShape = []int{}
	}
	if p.outN == 0 || p.n == 0 {
		return p
	}
	var sizes []int
	var reds []bool
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if k := len(sizes) - 1; k >= 0 && reds[k] == red[i] {
			sizes[k] *= d
			continue
		}
		sizes = append(sizes, d)
		reds = append(reds, red[i])
	}
	strides := stridesOf(sizes)
	last := len(sizes) - 1
	p.inner = 1
	if last >= 0 {
		p.inner = sizes[last]
		p.innerKept = !reds[last]
	} else {
		last = 0 // scalar: one output of one element
	}
	var keptS, keptT, redS, redT []int
	for i := range sizes {
		if i == last {
			continue
		}
		if reds[i] {
			redS, redT = append(redS, sizes[i]), append(redT, strides[i])
		} else {
			keptS, keptT = append(keptS, sizes[i]), append(keptT, strides[i])
		}
	}
	p.bases = redOffsets(keptS, keptT)
	p.offs = redOffsets(redS, redT)
	return p
}

// redOffsets lists, in row-major order, the element offsets of every index
// of dims with the given strides ([0] for no dims).
func redOffsets(sizes, strides []int) []int {
	n := 1
	for _, s := range sizes {
		n *= s
	}
	out := make([]int, n)
	idx := make([]int, len(sizes))
	off := 0
	for i := range out {
		out[i] = off
		for d := len(sizes) - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < sizes[d] {
				break
			}
			off -= idx[d] * strides[d]
			idx[d] = 0
		}
	}
	return out
}

// redExec folds x according to p (which must have n > 0 and outN > 0).
// shift, for redSumExp, holds one value per output.
func redExec[T redNum, A redAcc](p *redPlan, k redKind, x []T, shift []float64) []A {
	out := make([]A, p.outN)
	if !p.innerKept && len(p.bases) < Threads() && p.n >= 1<<16 {
		// Few long folds (a full reduction): split each fold instead.
		for o, b := range p.bases {
			s := 0.0
			if shift != nil {
				s = shift[o]
			}
			out[o] = redFoldSplit[T, A](p, k, x, b, s)
		}
		return out
	}
	if !p.innerKept {
		parallelFor(len(p.bases), p.n, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				b := p.bases[o]
				acc := redInit[A](k, x[b+p.offs[0]])
				s := 0.0
				if shift != nil {
					s = shift[o]
				}
				for _, r := range p.offs {
					acc = redFold(k, acc, x[b+r:b+r+p.inner], s)
				}
				out[o] = acc
			}
		})
		return out
	}
	inner := p.inner
	// Split the columns too when there are few blocks, so that a reduction
	// over the leading axis still uses every worker.
	chunks := 1
	if t := Threads(); len(p.bases) < t && inner >= 128 {
		chunks = min(t, inner/64)
	}
	cw := (inner + chunks - 1) / chunks
	parallelFor(len(p.bases)*chunks, p.n*cw, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			g, c := it/chunks, it%chunks
			c0, c1 := g*inner+c*cw, min(g*inner+(c+1)*cw, (g+1)*inner)
			if c0 >= c1 {
				continue
			}
			b := p.bases[g] + c*cw
			acc := out[c0:c1]
			for j := range acc {
				acc[j] = redInit[A](k, x[b+p.offs[0]+j])
			}
			var sh []float64
			if shift != nil {
				sh = shift[c0:c1]
			}
			for _, r := range p.offs {
				redFoldVec(k, acc, x[b+r:b+r+len(acc)], sh)
			}
		}
	})
	return out
}

// redFoldSplit folds the n elements of the output at base b in parallel
// chunks and combines the partial results.
func redFoldSplit[T redNum, A redAcc](p *redPlan, k redKind, x []T, b int, s float64) A {
	w := Threads()
	parts := make([]A, w)
	chunk := (p.n + w - 1) / w
	parallelFor(w, chunk, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			t0, t1 := c*chunk, min((c+1)*chunk, p.n)
			acc := redInit[A](k, x[b+p.offs[0]])
			for t0 < t1 {
				r, j := t0/p.inner, t0%p.inner
				end := min(p.inner, j+t1-t0)
				o := b + p.offs[r]
				acc = redFold(k, acc, x[o+j:o+end], s)
				t0 += end - j
			}
			parts[c] = acc
		}
	})
	acc := parts[0]
	for _, v := range parts[1:] {
		switch k {
		case redProd:
			acc *= v
		case redMax:
			if v > acc || v != v {
				acc = v
			}
		case redMin:
			if v < acc || v != v {
				acc = v
			}
		default:
			acc += v
		}
	}
	return acc
}

// redInit is the starting accumulator: the first element for max/min.
func redInit[A redAcc, T redNum](k redKind, first T) A {
	switch k {
	case redProd:
		return 1
	case redMax, redMin:
		return A(first)
	}
	return 0
}

// redFold folds a contiguous run into acc.
func redFold[T redNum, A redAcc](k redKind, acc A, xs []T, s float64) A {
	switch k {
	case redSum:
		for _, v := range xs {
			acc += A(v)
		}
	case redSumAbs:
		for _, v := range xs {
			a := A(v)
			if a < 0 {
				a = -a
			}
			acc += a
		}
	case redSumSq:
		for _, v := range xs {
			a := A(v)
			acc += a * a
		}
	case redProd:
		for _, v := range xs {
			acc *= A(v)
		}
	case redMax:
		for _, v := range xs {
			if a := A(v); a > acc || a != a {
				acc = a
			}
		}
	case redMin:
		for _, v := range xs {
			if a := A(v); a < acc || a != a {
				acc = a
			}
		}
	case redSumExp:
		for _, v := range xs {
			acc += A(math.Exp(float64(v) - s))
		}
	}
	return acc
}

// redFoldVec folds a contiguous row into acc element-wise.
func redFoldVec[T redNum, A redAcc](k redKind, acc []A, xs []T, sh []float64) {
	xs = xs[:len(acc)]
	switch k {
	case redSum:
		for j, v := range xs {
			acc[j] += A(v)
		}
	case redSumAbs:
		for j, v := range xs {
			a := A(v)
			if a < 0 {
				a = -a
			}
			acc[j] += a
		}
	case redSumSq:
		for j, v := range xs {
			a := A(v)
			acc[j] += a * a
		}
	case redProd:
		for j, v := range xs {
			acc[j] *= A(v)
		}
	case redMax:
		for j, v := range xs {
			if a := A(v); a > acc[j] || a != a {
				acc[j] = a
			}
		}
	case redMin:
		for j, v := range xs {
			if a := A(v); a < acc[j] || a != a {
				acc[j] = a
			}
		}
	case redSumExp:
		for j, v := range xs {
			acc[j] += A(math.Exp(float64(v) - sh[j]))
		}
	}
}
