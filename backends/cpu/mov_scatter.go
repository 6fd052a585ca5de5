package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Scatter, ScatterElements, ScatterND and TensorScatter: a copy of the data
// with slices overwritten (or combined by a reduction) from updates.

func init() {
	reg("Scatter", 9, prepScatterElements)
	reg("ScatterElements", 11, prepScatterElements)
	reg("ScatterND", 11, prepScatterND)
	reg("TensorScatter", 24, prepTensorScatter)
}

// movReduction validates the reduction attribute for op at version.
func movReduction(s *backends.OpSpec) (string, error) {
	red := s.Attrs.Str("reduction", "none")
	switch {
	case red == "none":
	case (red == "add" || red == "mul") && movVer(s) >= 16:
	case (red == "max" || red == "min") && movVer(s) >= 18:
	default:
		return "", fmt.Errorf("%w: %s: reduction %q not in opset %d", errAttr, s.Op, red, s.Version)
	}
	return red, nil
}

func prepScatterElements(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", 0)
	red, err := movReduction(s)
	if err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		x, ind, upd := in[0], in[1], in[2]
		if !movSameShape(ind.Shape, upd.Shape) {
			return nil, fmt.Errorf("%w: %s: indices shape %v and updates shape %v differ", errShape, s.Op, ind.Shape, upd.Shape)
		}
		offs, err := movElementOffsets(s.Op, x.Shape, ind, axis)
		if err != nil {
			return nil, err
		}
		return movScatter(s.Op, x, offs, 1, upd, red)
	}, nil
}

func prepScatterND(s *backends.OpSpec) (kernelFunc, error) {
	red, err := movReduction(s)
	if err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, err
		}
		x, ind, upd := in[0], in[1], in[2]
		offs, k, err := movNDOffsets("ScatterND", x.Shape, ind, 0)
		if err != nil {
			return nil, err
		}
		want := append(append([]int{}, ind.Shape[:ind.Rank()-1]...), x.Shape[k:]...)
		if !movSameShape(want, upd.Shape) {
			return nil, fmt.Errorf("%w: ScatterND: updates shape %v, want %v for data shape %v and indices shape %v", errShape, upd.Shape, want, x.Shape, ind.Shape)
		}
		return movScatter("ScatterND", x, offs, ir.Size(x.Shape[k:]), upd, red)
	}, nil
}

func prepTensorScatter(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", -2)
	mode := s.Attrs.Str("mode", "linear")
	if mode != "linear" && mode != "circular" {
		return nil, fmt.Errorf("%w: TensorScatter: mode %q (want linear or circular)", errAttr, mode)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x, upd := in[0], in[1]
		a, err := normAxis(axis, x.Rank())
		if err != nil || a == 0 {
			return nil, fmt.Errorf("%w: TensorScatter: axis %d for past_cache shape %v", errAttr, axis, x.Shape)
		}
		if upd.Rank() != x.Rank() || upd.Shape[a] > x.Shape[a] {
			return nil, fmt.Errorf("%w: TensorScatter: update shape %v for past_cache shape %v", errShape, upd.Shape, x.Shape)
		}
		for k := range x.Shape {
			if k != a && upd.Shape[k] != x.Shape[k] {
				return nil, fmt.Errorf("%w: TensorScatter: update shape %v for past_cache shape %v", errShape, upd.Shape, x.Shape)
			}
		}
		batch := x.Shape[0]
		wi := make([]int64, batch)
		if len(in) > 2 && in[2] != nil {
			if in[2].Len() != batch {
				return nil, fmt.Errorf("%w: TensorScatter: write_indices shape %v for batch %d", errShape, in[2].Shape, batch)
			}
			if wi, err = intsOf(in[2]); err != nil {
				return nil, fmt.Errorf("%w: TensorScatter: input 2 (write_indices): %v", errInput, err)
			}
		}
		maxSeq, seq := x.Shape[a], upd.Shape[a]
		inner := ir.Size(x.Shape[a+1:])
		prefix := ir.Size(x.Shape[:a])
		perBatch := max(prefix/max(batch, 1), 1)
		offs := make([]int, 0, prefix*seq)
		for p := 0; p < prefix; p++ {
			w := wi[p/perBatch]
			for t := 0; t < seq; t++ {
				pos := w + int64(t)
				if mode == "circular" {
					pos = ((pos % int64(maxSeq)) + int64(maxSeq)) % int64(maxSeq)
				} else if pos < 0 || pos >= int64(maxSeq) {
					return nil, fmt.Errorf("%w: TensorScatter: input 2 (write_indices) value %d + %d passes max_sequence_length %d", errInput, w, t, maxSeq)
				}
				offs = append(offs, (p*maxSeq+int(pos))*inner)
			}
		}
		return movScatter("TensorScatter", x, offs, inner, upd, "none")
	}, nil
}

// movScatter returns a copy of x where, for each t, the slice of `slice`
// elements at offs[t] is combined with updates[t*slice:] by red.
func movScatter(op string, x *ir.Tensor, offs []int, slice int, upd *ir.Tensor, red string) ([]*ir.Tensor, error) {
	if upd.DType != x.DType {
		return nil, fmt.Errorf("%w: %s: updates are %v, data is %v", errDType, op, upd.DType, x.DType)
	}
	if upd.Len() != len(offs)*slice {
		return nil, fmt.Errorf("%w: %s: updates shape %v for %d slices of %d", errShape, op, upd.Shape, len(offs), slice)
	}
	if red != "none" {
		return movScatterReduce(op, x, offs, slice, upd, red)
	}
	out := x.Clone()
	out.Name = ""
	switch d := movRaw(out.Data).(type) {
	case []uint8:
		movPut(d, movRaw(upd.Data).([]uint8), offs, slice)
	case []uint16:
		movPut(d, movRaw(upd.Data).([]uint16), offs, slice)
	case []uint32:
		movPut(d, movRaw(upd.Data).([]uint32), offs, slice)
	case []uint64:
		movPut(d, movRaw(upd.Data).([]uint64), offs, slice)
	case []complex128:
		movPut(d, movRaw(upd.Data).([]complex128), offs, slice)
	case []string:
		movPut(d, movRaw(upd.Data).([]string), offs, slice)
	default:
		return nil, fmt.Errorf("%w: %s: %v", errDType, op, x.DType)
	}
	return one(out)
}

func movPut[T movElem](dst, upd []T, offs []int, slice int) {
	for t, o := range offs {
		copy(dst[o:o+slice], upd[t*slice:(t+1)*slice])
	}
}

// movNum lists the real numeric Go types reductions compute in.
type movNum interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// movScatterReduce is movScatter with add, mul, max or min.
func movScatterReduce(op string, x *ir.Tensor, offs []int, slice int, upd *ir.Tensor, red string) ([]*ir.Tensor, error) {
	dt := x.DType
	if dt.IsSmallFloat() {
		out, err := movScatterReduce(op, toFloat32(x), offs, slice, toFloat32(upd), red)
		if err != nil {
			return nil, err
		}
		return one(fromFloat32(out[0], dt))
	}
	out := x.Clone()
	out.Name = ""
	switch d := out.Data.(type) {
	case []float32:
		movCombine(d, upd.Data.([]float32), offs, slice, red)
	case []float64:
		movCombine(d, upd.Data.([]float64), offs, slice, red)
	case []int8:
		movCombine(d, upd.Data.([]int8), offs, slice, red)
	case []int16:
		movCombine(d, upd.Data.([]int16), offs, slice, red)
	case []int32:
		movCombine(d, upd.Data.([]int32), offs, slice, red)
	case []int64:
		movCombine(d, upd.Data.([]int64), offs, slice, red)
	case []uint8:
		movCombine(d, upd.Data.([]uint8), offs, slice, red)
	case []uint16:
		movCombine(d, upd.Data.([]uint16), offs, slice, red)
	case []uint32:
		movCombine(d, upd.Data.([]uint32), offs, slice, red)
	case []uint64:
		movCombine(d, upd.Data.([]uint64), offs, slice, red)
	default:
		return nil, fmt.Errorf("%w: %s: reduction %s on %v", errDType, op, red, dt)
	}
	return one(out)
}

func movCombine[T movNum](dst, upd []T, offs []int, slice int, red string) {
	for t, o := range offs {
		d, u := dst[o:o+slice], upd[t*slice:(t+1)*slice]
		switch red {
		case "add":
			for i := range d {
				d[i] += u[i]
			}
		case "mul":
			for i := range d {
				d[i] *= u[i]
			}
		case "max":
			for i := range d {
				d[i] = max(d[i], u[i])
			}
		case "min":
			for i := range d {
				d[i] = min(d[i], u[i])
			}
		}
	}
}
