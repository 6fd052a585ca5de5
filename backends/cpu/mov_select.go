package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Ops that pick or place elements by a data-dependent pattern: OneHot,
// NonZero, Trilu, Compress, ReverseSequence, EyeLike.

func init() {
	reg("OneHot", 9, prepOneHot)
	reg("NonZero", 9, prepNonZero)
	reg("Trilu", 14, prepTrilu)
	reg("Compress", 9, prepCompress)
	reg("ReverseSequence", 10, prepReverseSequence)
	reg("EyeLike", 9, prepEyeLike)
}

func prepOneHot(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", -1)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		ind, dep, vals := in[0], in[1], in[2]
		if ind.DType == ir.String || dep.DType == ir.String {
			return nil, fmt.Errorf("%w: OneHot: indices and depth must be numeric, got %v and %v", errDType, ind.DType, dep.DType)
		}
		if dep.Len() != 1 || vals.Len() != 2 {
			return nil, fmt.Errorf("%w: OneHot: depth shape %v must hold one value and values shape %v two", errShape, dep.Shape, vals.Shape)
		}
		depth := int64(dep.Float64At(0))
		if depth < 1 || depth > ir.MaxElements {
			return nil, fmt.Errorf("%w: OneHot: depth %d", errInput, depth)
		}
		r := ind.Rank() + 1
		a, err := normAxis(axis, r)
		if err != nil {
			return nil, fmt.Errorf("OneHot: indices shape %v: %w", ind.Shape, err)
		}
		shape := append(append(append([]int{}, ind.Shape[:a]...), int(depth)), ind.Shape[a:]...)
		n, err := ir.NumElements(shape)
		if err != nil {
			return nil, fmt.Errorf("OneHot: %w", err)
		}
		inner := ir.Size(ind.Shape[a:])
		tab := make([]int, n) // 0 reads off_value, 1 on_value
		d := int(depth)
		for i := 0; i < ind.Len(); i++ {
			v := int64(ind.Float64At(i))
			if v < 0 {
				v += depth
			}
			if v < 0 || v >= depth {
				continue
			}
			o, p := i/inner, i%inner
			tab[(o*d+int(v))*inner+p] = 1
		}
		out, err := movMap(vals, vals.DType, shape, []movAxis{movTable(tab)}, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepNonZero(s *backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		nz, err := movNonZeroMask(x)
		if err != nil {
			return nil, fmt.Errorf("NonZero: %w", err)
		}
		var pos []int
		for i, b := range nz {
			if b {
				pos = append(pos, i)
			}
		}
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1} // a scalar counts as a 1-element vector (numpy's atleast_1d)
		}
		r := len(shape)
		out := make([]int64, r*len(pos))
		st := stridesOf(shape)
		for j, p := range pos {
			for k := 0; k < r; k++ {
				out[k*len(pos)+j] = int64(p / st[k] % shape[k])
			}
		}
		return one(ir.FromSlice(out, r, len(pos)))
	}, nil
}

// movNonZeroMask reports for every element of x whether it is non-zero
// (non-empty for strings; -0.0 is zero, NaN is not).
func movNonZeroMask(x *ir.Tensor) ([]bool, error) {
	nz := make([]bool, x.Len())
	switch d := x.Data.(type) {
	case []bool:
		copy(nz, d)
	case []string:
		for i, v := range d {
			nz[i] = v != ""
		}
	case []complex64:
		for i, v := range d {
			nz[i] = v != 0
		}
	case []complex128:
		for i, v := range d {
			nz[i] = v != 0
		}
	default:
		if x.DType.IsFloat() {
			for i := range nz {
				nz[i] = x.Float64At(i) != 0
			}
			break
		}
		switch r := movRaw(x.Data).(type) {
		case []uint8:
			movNonZeroRaw(nz, r)
		case []uint16:
			movNonZeroRaw(nz, r)
		case []uint32:
			movNonZeroRaw(nz, r)
		case []uint64:
			movNonZeroRaw(nz, r)
		default:
			return nil, fmt.Errorf("%w: %v", errDType, x.DType)
		}
	}
	return nz, nil
}

func movNonZeroRaw[T uint8 | uint16 | uint32 | uint64](nz []bool, d []T) {
	for i, v := range d {
		nz[i] = v != 0
	}
}

func prepTrilu(s *backends.OpSpec) (kernelFunc, error) {
	upper := s.Attrs.Int("upper", 1) != 0
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if err := movRank(x, 0, 2); err != nil {
			return nil, fmt.Errorf("Trilu: %w", err)
		}
		k := int64(0)
		if len(in) > 1 && in[1] != nil {
			var err error
			if k, err = movScalarInt(in[1], "input 1 (k)"); err != nil {
				return nil, fmt.Errorf("Trilu: %w", err)
			}
		}
		rows, cols := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
		k = min(max(k, -int64(rows)-1), int64(cols)+1)
		out := x.Clone()
		out.Name = ""
		switch d := movRaw(out.Data).(type) {
		case []uint8:
			movTrilu(d, rows, cols, int(k), upper)
		case []uint16:
			movTrilu(d, rows, cols, int(k), upper)
		case []uint32:
			movTrilu(d, rows, cols, int(k), upper)
		case []uint64:
			movTrilu(d, rows, cols, int(k), upper)
		case []complex128:
			movTrilu(d, rows, cols, int(k), upper)
		case []string:
			movTrilu(d, rows, cols, int(k), upper)
		default:
			return nil, fmt.Errorf("%w: Trilu: %v", errDType, x.DType)
		}
		return one(out)
	}, nil
}

// movTrilu zeroes, in every rows×cols matrix of d, the elements below
// diagonal k (upper) or above it (lower).
func movTrilu[T movElem](d []T, rows, cols, k int, upper bool) {
	var zero T
	for m := 0; m+rows*cols <= len(d) && rows*cols > 0; m += rows * cols {
		for i := 0; i < rows; i++ {
			row := d[m+i*cols : m+(i+1)*cols]
			if upper {
				// keep j >= i+k
				for j := 0; j < min(max(i+k, 0), cols); j++ {
					row[j] = zero
				}
			} else {
				// keep j <= i+k
				for j := max(i+k+1, 0); j < cols; j++ {
					row[j] = zero
				}
			}
		}
	}
}

func prepCompress(s *backends.OpSpec) (kernelFunc, error) {
	axis, hasAxis := s.Attrs.Int("axis", 0), s.Attrs.Has("axis")
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x, cond := in[0], in[1]
		c, ok := cond.Data.([]bool)
		if !ok || cond.Rank() != 1 {
			return nil, fmt.Errorf("%w: Compress: input 1 (condition) must be 1-D bool, got %v%v", errInput, cond.DType, cond.Shape)
		}
		shape := x.Shape
		a := 0
		if hasAxis {
			var err error
			if a, err = normAxis(axis, x.Rank()); err != nil {
				return nil, fmt.Errorf("Compress: input 0 shape %v: %w", x.Shape, err)
			}
		} else {
			shape = []int{x.Len()}
		}
		st := stridesOf(shape)
		var tab []int
		for i, b := range c {
			if !b {
				continue
			}
			if i >= shape[a] {
				return nil, fmt.Errorf("%w: Compress: condition of length %d selects index %d past axis size %d of shape %v", errInput, len(c), i, shape[a], x.Shape)
			}
			tab = append(tab, i*st[a])
		}
		axes := movIdentityAxes(shape)
		axes[a] = movTable(tab)
		outShape := append([]int{}, shape...)
		outShape[a] = len(tab)
		out, err := movMap(x, x.DType, outShape, axes, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepReverseSequence(s *backends.OpSpec) (kernelFunc, error) {
	timeAxis := int(s.Attrs.Int("time_axis", 0))
	batchAxis := int(s.Attrs.Int("batch_axis", 1))
	if timeAxis+batchAxis != 1 || timeAxis < 0 || batchAxis < 0 {
		return nil, fmt.Errorf("%w: ReverseSequence: time_axis %d and batch_axis %d must be 0 and 1", errAttr, timeAxis, batchAxis)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		if err := movRank(x, 0, 2); err != nil {
			return nil, fmt.Errorf("ReverseSequence: %w", err)
		}
		lens, err := intsOf(in[1])
		if err != nil || in[1].Rank() != 1 || len(lens) != x.Shape[batchAxis] {
			return nil, fmt.Errorf("%w: ReverseSequence: sequence_lens %v%v for input shape %v", errInput, in[1].DType, in[1].Shape, x.Shape)
		}
		steps := x.Shape[timeAxis]
		st := stridesOf(x.Shape)
		tab := make([]int, x.Shape[0]*x.Shape[1])
		for i := range tab {
			p := [2]int{i / x.Shape[1], i % x.Shape[1]}
			t, b := p[timeAxis], p[batchAxis]
			l := lens[b]
			if l < 0 || l > int64(steps) {
				return nil, fmt.Errorf("%w: ReverseSequence: input 1 (sequence_lens) value %d outside [0, %d]", errInput, l, steps)
			}
			if int64(t) < l {
				p[timeAxis] = int(l) - 1 - t
			}
			tab[i] = p[0]*st[0] + p[1]*st[1]
		}
		axes := []movAxis{movTable(tab), movAffine(ir.Size(x.Shape[2:]), 0, 1)}
		out, err := movMap(x, x.DType, x.Shape, axes, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepEyeLike(s *backends.OpSpec) (kernelFunc, error) {
	k := int(s.Attrs.Int("k", 0))
	dt := ir.DType(s.Attrs.Int("dtype", 0))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() != 2 {
			return nil, fmt.Errorf("%w: EyeLike: input 0 must be 2-D, got shape %v", errShape, x.Shape)
		}
		odt := dt
		if odt == ir.Undefined {
			odt = x.DType
		}
		out, err := newTensor(odt, x.Shape)
		if err != nil {
			return nil, fmt.Errorf("EyeLike: %w", err)
		}
		rows, cols := x.Shape[0], x.Shape[1]
		for i := 0; i < rows; i++ {
			if j := i + k; j >= 0 && j < cols {
				if err := movSetFloat(out, i*cols+j, 1); err != nil {
					return nil, fmt.Errorf("EyeLike: %w", err)
				}
			}
		}
		return one(out)
	}, nil
}
