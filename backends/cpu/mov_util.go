package cpu

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Movement ops copy elements without looking at their values, so they run on
// a raw view of the storage: every dtype is one of six element classes of
// the same width (float32, int32 and uint32 are all 4-byte words; bool is a
// byte). That keeps one generic instantiation per width instead of one per
// dtype, and strings stay strings.

// movElem lists the raw element classes.
type movElem interface {
	uint8 | uint16 | uint32 | uint64 | complex128 | string
}

// movRaw returns data viewed as []uint8, []uint16, []uint32, []uint64,
// []complex128 or []string, sharing memory with data.
func movRaw(data any) any {
	switch s := data.(type) {
	case []uint8, []uint16, []uint32, []uint64, []complex128, []string:
		return s
	case []bool:
		return movCast[bool, uint8](s)
	case []int8:
		return movCast[int8, uint8](s)
	case []int16:
		return movCast[int16, uint16](s)
	case []int32:
		return movCast[int32, uint32](s)
	case []float32:
		return movCast[float32, uint32](s)
	case []int64:
		return movCast[int64, uint64](s)
	case []float64:
		return movCast[float64, uint64](s)
	case []complex64:
		return movCast[complex64, uint64](s)
	}
	return nil
}

// movCast reinterprets a slice of pointer-free elements as another element
// type of the same size.
func movCast[F, T any](s []F) []T {
	if len(s) == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&s[0])), len(s))
}

// movAxis describes how one output axis reads its input: either affine
// (offset start + i*stride) or through a table of offsets, where a negative
// entry means "write the fill value".
type movAxis struct {
	n      int
	start  int
	stride int
	tab    []int
}

// movAffine is an affine axis of n elements.
func movAffine(n, start, stride int) movAxis { return movAxis{n: n, start: start, stride: stride} }

// movTable is a table axis.
func movTable(tab []int) movAxis { return movAxis{n: len(tab), tab: tab} }

// movCoalesce merges adjacent affine axes that walk the input as one axis
// (outer stride == inner count * inner stride), so that inner loops get long
// and contiguous runs become single copies.
func movCoalesce(axes []movAxis) []movAxis {
	out := make([]movAxis, 0, len(axes))
	extra := 0 // starts of dropped size-1 affine axes
	for _, a := range axes {
		if a.n == 1 && a.tab == nil {
			extra += a.start
			continue
		}
		if k := len(out) - 1; k >= 0 && a.tab == nil && out[k].tab == nil && out[k].stride == a.n*a.stride {
			out[k] = movAxis{n: out[k].n * a.n, start: out[k].start + a.start, stride: a.stride}
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 || out[0].tab != nil {
		out = append([]movAxis{{n: 1}}, out...)
	}
	out[0].start += extra
	return out
}

// movMap builds a tensor of dtype dt and shape outShape whose elements, in
// row-major order over axes, are read from src.Data as the axes describe.
// fill (one element of dt, or nil for zero) is written where a table says so.
func movMap(src *ir.Tensor, dt ir.DType, outShape []int, axes []movAxis, fill *ir.Tensor) (*ir.Tensor, error) {
	out, err := newTensor(dt, outShape)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, a := range axes {
		n *= a.n
	}
	if n != out.Len() {
		return nil, fmt.Errorf("%w: internal: plan of %d elements for shape %v", errShape, n, outShape)
	}
	if n == 0 {
		return out, nil
	}
	axes = movCoalesce(axes)
	switch d := movRaw(out.Data).(type) {
	case []uint8:
		movRun(d, movRaw(src.Data).([]uint8), movFill[uint8](fill), axes)
	case []uint16:
		movRun(d, movRaw(src.Data).([]uint16), movFill[uint16](fill), axes)
	case []uint32:
		movRun(d, movRaw(src.Data).([]uint32), movFill[uint32](fill), axes)
	case []uint64:
		movRun(d, movRaw(src.Data).([]uint64), movFill[uint64](fill), axes)
	case []complex128:
		movRun(d, movRaw(src.Data).([]complex128), movFill[complex128](fill), axes)
	case []string:
		movRun(d, movRaw(src.Data).([]string), movFill[string](fill), axes)
	default:
		return nil, fmt.Errorf("%w: %v", errDType, dt)
	}
	return out, nil
}

// movFill reads the fill element (zero when fill is nil or empty).
func movFill[T movElem](fill *ir.Tensor) T {
	var z T
	if fill == nil || fill.Len() == 0 {
		return z
	}
	if s, ok := movRaw(fill.Data).([]T); ok {
		return s[0]
	}
	return z
}

// movRun fills dst following axes (already coalesced, product == len(dst)).
func movRun[T movElem](dst, src []T, fill T, axes []movAxis) {
	if k := movTileAxis(axes, int(unsafe.Sizeof(fill))); k >= 0 {
		movTiled(dst, src, axes, k)
		return
	}
	movRunRows(dst, src, fill, axes)
}

// movRunRows is movRun one innermost row at a time (the reference twin of
// movTiled, and the path for everything that is not a transpose).
func movRunRows[T movElem](dst, src []T, fill T, axes []movAxis) {
	last := axes[len(axes)-1]
	outer := axes[:len(axes)-1]
	rows := len(dst) / max(last.n, 1)
	parallelFor(rows, last.n+8, func(lo, hi int) {
		idx := make([]int, len(outer))
		rem := lo
		for k := len(outer) - 1; k >= 0; k-- {
			idx[k] = rem % outer[k].n
			rem /= outer[k].n
		}
		for r := lo; r < hi; r++ {
			base, ok := 0, true
			for k, a := range outer {
				if a.tab == nil {
					base += a.start + idx[k]*a.stride
				} else if o := a.tab[idx[k]]; o >= 0 {
					base += o
				} else {
					ok = false
				}
			}
			row := dst[r*last.n : (r+1)*last.n]
			if ok {
				movRow(row, src, base, fill, last)
			} else {
				for i := range row {
					row[i] = fill
				}
			}
			for k := len(outer) - 1; k >= 0; k-- {
				if idx[k]++; idx[k] < outer[k].n {
					break
				}
				idx[k] = 0
			}
		}
	})
}

// movRow writes one innermost row.
func movRow[T movElem](row, src []T, base int, fill T, a movAxis) {
	switch {
	case a.tab != nil:
		for i, o := range a.tab {
			if o >= 0 {
				row[i] = src[base+o]
			} else {
				row[i] = fill
			}
		}
	case a.stride == 1:
		copy(row, src[base+a.start:])
	case a.stride == 0:
		v := src[base+a.start]
		for i := range row {
			row[i] = v
		}
	default:
		p := base + a.start
		for i := range row {
			row[i] = src[p]
			p += a.stride
		}
	}
}

// movIdentityAxes describes reading a tensor of shape as itself.
func movIdentityAxes(shape []int) []movAxis {
	st := stridesOf(shape)
	axes := make([]movAxis, len(shape))
	for i, d := range shape {
		axes[i] = movAffine(d, 0, st[i])
	}
	return axes
}

// movCopy returns a fresh copy of t reshaped to shape (same element count).
func movCopy(t *ir.Tensor, shape []int) *ir.Tensor {
	return &ir.Tensor{DType: t.DType, Shape: append([]int{}, shape...), Data: ir.CloneSlice(t.Data)}
}

// movView returns a tensor sharing t's data with another shape.
func movView(t *ir.Tensor, shape []int) *ir.Tensor {
	return &ir.Tensor{DType: t.DType, Shape: append([]int{}, shape...), Data: t.Data}
}

// movToInts converts int64 values to ints.
func movToInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// movShapeInput reads a 1-D int64 shape-like input, naming it in errors.
func movShapeInput(t *ir.Tensor, what string) ([]int64, error) {
	if t == nil {
		return nil, nil
	}
	if t.Rank() > 1 {
		return nil, fmt.Errorf("%w: %s must be 1-D, got shape %v", errInput, what, t.Shape)
	}
	v, err := intsOf(t)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errInput, what, err)
	}
	return v, nil
}

// movScalarInt reads a scalar (or one-element) integer input.
func movScalarInt(t *ir.Tensor, what string) (int64, error) {
	if t == nil || t.Len() != 1 {
		return 0, fmt.Errorf("%w: %s must hold one value", errInput, what)
	}
	v, err := intsOf(t)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", errInput, what, err)
	}
	return v[0], nil
}

// movRank checks that in[i] has at least minRank dimensions.
func movRank(t *ir.Tensor, i, minRank int) error {
	if t.Rank() < minRank {
		return fmt.Errorf("%w: input %d needs rank >= %d, got shape %v", errShape, i, minRank, t.Shape)
	}
	return nil
}

// movVer is the opset version a prepare function should serve: 0 (unknown)
// means the newest, as the registry's lookup has it.
func movVer(s *backends.OpSpec) int {
	if s.Version <= 0 {
		return math.MaxInt32
	}
	return s.Version
}
