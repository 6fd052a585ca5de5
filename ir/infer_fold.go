package ir

import (
	"math"
	"slices"
)

// Host evaluation of the small computations exported models make on shapes
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Range, Where, ...), so
// that the graph walker knows the values that decide later shapes. Only
// numeric and bool tensors of at most foldLimit elements are computed, in
// int64 (integers and bools) or float64 (floats); anything else is left
// unknown.

const foldLimit = 1 << 14

// fval is a folded value: ints holds integer and bool data, flts float data.
type fval struct {
	shape []int
	ints  []int64
	flts  []float64
}

func (v *fval) isFloat() bool { return v.flts != nil || v.ints == nil }

func (v *fval) len() int { return max(len(v.ints), len(v.flts)) }

func (v *fval) f(i int) float64 {
	if v.flts != nil {
		return v.flts[i]
	}
	return float64(v.ints[i])
}

func (v *fval) i(i int) int64 {
	if v.ints != nil {
		return v.ints[i]
	}
	return int64(v.flts[i])
}

// toFold converts a host tensor; ok is false for strings, complex numbers
// and tensors over foldLimit.
func toFold(t *Tensor) (*fval, bool) {
	if t == nil || t.Len() > foldLimit || t.Len() != Size(t.Shape) {
		return nil, false
	}
	v := &fval{shape: t.Shape}
	n := t.Len()
	switch {
	case t.DType.IsFloat():
		v.flts = make([]float64, n)
		for i := range n {
			v.flts[i] = t.Float64At(i)
		}
	case t.DType == Int64:
		v.ints = t.Data.([]int64)
	case t.DType.IsInt() || t.DType == Bool:
		v.ints = make([]int64, n)
		for i := range n {
			v.ints[i] = int64(t.Float64At(i))
		}
		if d, ok := t.Data.([]uint64); ok {
			for i := range n {
				v.ints[i] = int64(d[i])
			}
		}
	default:
		return nil, false
	}
	if v.ints == nil && v.flts == nil {
		v.ints = []int64{}
	}
	return v, true
}

// toTensor converts v to a tensor of dtype dt (nil when dt is not one the
// folder writes).
func (v *fval) toTensor(dt DType) *Tensor {
	n := v.len()
	t, err := NewTensor(dt, v.shape...)
	if err != nil || t.Len() != n {
		return nil
	}
	switch d := t.Data.(type) {
	case []int64:
		for i := range d {
			d[i] = v.i(i)
		}
	case []int32:
		for i := range d {
			d[i] = int32(v.i(i))
		}
	case []float32:
		for i := range d {
			d[i] = float32(v.f(i))
		}
	case []float64:
		for i := range d {
			d[i] = v.f(i)
		}
	case []bool:
		for i := range d {
			d[i] = v.f(i) != 0
		}
	case []uint8:
		if dt != Uint8 {
			return nil
		}
		for i := range d {
			d[i] = uint8(v.i(i))
		}
	default:
		return nil
	}
	return t
}

func newFold(shape []int, float bool) *fval {
	n := Size(shape)
	if float {
		return &fval{shape: shape, flts: make([]float64, n)}
	}
	return &fval{shape: shape, ints: make([]int64, n)}
}

// set stores element i of out from src element j.
func (v *fval) set(i int, src *fval, j int) {
	if v.flts != nil {
		v.flts[i] = src.f(j)
	} else {
		v.ints[i] = src.i(j)
	}
}

// bcastIndex maps each flat index of out to the flat index of an input of
// shape in that broadcasts to out.
// It returns nil when in does not broadcast to out.
func bcastIndex(out, in []int) []int {
	if len(in) > len(out) {
		return nil
	}
	for j, d := range in {
		if o := out[j+len(out)-len(in)]; d != 1 && d != o {
			return nil
		}
	}
	n := Size(out)
	idx := make([]int, n)
	strides := make([]int, len(out))
	s := 1
	for k := len(out) - 1; k >= 0; k-- {
		j := k - (len(out) - len(in))
		if j >= 0 && in[j] != 1 {
			strides[k] = s
			s *= in[j]
		}
	}
	for i := range n {
		rem, f := i, 0
		for k := len(out) - 1; k >= 0; k-- {
			f += (rem % out[k]) * strides[k]
			rem /= out[k]
		}
		idx[i] = f
	}
	return idx
}

// foldOutputs computes the host values of a node's outputs from the values
// of its inputs where the op is one of the folded ones (shape arithmetic);
// nil entries are unknown. outs are the inferred output types.
func foldOutputs(op string, attrs Attrs, in []*TensorInfo, vals []*Tensor, outs []*TensorInfo) []*Tensor {
	res := make([]*Tensor, len(outs))
	if len(outs) == 0 {
		return res
	}
	if t := foldSpecial(op, attrs, in, vals, outs[0]); t != nil {
		res[0] = t
		return res
	}
	if !foldable(op) || len(vals) == 0 || vals[0] == nil && op != "ConstantOfShape" {
		return res
	}
	fin := make([]*fval, len(vals))
	for i, t := range vals {
		if t != nil {
			v, ok := toFold(t)
			if !ok {
				return res
			}
			fin[i] = v
		}
	}
	if op == "Split" {
		return foldSplit(attrs, fin, outs)
	}
	for i, o := range outs {
		if !o.Static() || Size(o.Shape) > foldLimit {
			continue
		}
		v := foldOne(op, attrs, fin, o)
		if v != nil && slices.Equal(v.shape, o.Shape) {
			res[i] = v.toTensor(o.DType)
		}
	}
	return res
}

// foldable reports whether foldOne or foldSplit computes op.
func foldable(op string) bool {
	switch op {
	case "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Cast", "CastLike", "ConstantOfShape", "Range",
		"Expand", "Gather", "Concat", "Slice", "Where", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "Split":
		return true
	}
	_, unary := foldUnary[op]
	_, binary := foldBinary[op]
	return unary || binary
}

// foldSpecial handles the ops whose value does not come from input values.
func foldSpecial(op string, attrs Attrs, in []*TensorInfo, vals []*Tensor, out *TensorInfo) *Tensor {
	switch op {
	case "Constant":
		return ConstantValue(attrs)
	case "Shape":
		if len(in) == 0 || in[0] == nil || !in[0].Static() && in[0].UnknownRank {
			return nil
		}
		start, end := shapeRange(attrs, len(in[0].Shape))
		dims := make([]int64, 0, end-start)
		for _, d := range in[0].Shape[start:end] {
			if d < 0 {
				return nil
			}
			dims = append(dims, int64(d))
		}
		return FromSlice(dims, len(dims))
	case "Size":
		if len(in) == 0 || in[0] == nil || !in[0].Static() {
			return nil
		}
		return Scalar(int64(Size(in[0].Shape)))
	case "Identity":
		if len(vals) > 0 && vals[0] != nil {
			return vals[0]
		}
	}
	return nil
}

// foldOne folds output out of op; in holds the known input values (nil:
// unknown).
func foldOne(op string, attrs Attrs, in []*fval, out *TensorInfo) *fval {
	have := func(n int) bool {
		for i := range n {
			if i >= len(in) || in[i] == nil {
				return false
			}
		}
		return n > 0
	}
	float := out.DType.IsFloat()
	sameLen := have(1) && in[0].len() == Size(out.Shape)
	switch op {
	case "Reshape", "Squeeze", "Unsqueeze", "Flatten":
		if sameLen {
			return &fval{shape: out.Shape, ints: in[0].ints, flts: in[0].flts}
		}
	case "Cast", "CastLike":
		if sameLen {
			return foldCast(in[0], out)
		}
	case "ConstantOfShape":
		return foldFill(attrs, out)
	case "Range":
		if have(3) && in[0].len() == 1 && in[2].len() == 1 {
			return foldRange(in, out)
		}
	case "Expand":
		if !have(1) {
			return nil
		}
		if idx := bcastIndex(out.Shape, in[0].shape); idx != nil {
			return foldGather(in[0], idx, out.Shape)
		}
	case "Gather":
		if have(2) {
			return foldGatherOp(attrs, in[0], in[1], out)
		}
	case "Concat":
		if have(len(in)) {
			return foldConcat(attrs, in, out, float)
		}
	case "Slice":
		return foldSlice(attrs, in, out)
	case "Where":
		if have(3) {
			return foldWhere(in, out, float)
		}
	case "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax":
		return foldReduce(op, attrs, in, out, float)
	default:
		if f := foldUnary[op]; f != nil && sameLen && len(in) == 1 {
			return foldMap(f, in[0], out, float)
		}
		if _, ok := foldBinary[op]; ok && have(len(in)) && len(in) >= 2 {
			return foldElementwise(op, attrs, in, out)
		}
	}
	return nil
}

// foldMap applies f to each element of v.
func foldMap(f func(float64) float64, v *fval, out *TensorInfo, float bool) *fval {
	r := newFold(out.Shape, float || v.isFloat())
	for i := range r.len() {
		if r.flts != nil {
			r.flts[i] = f(v.f(i))
		} else {
			r.ints[i] = int64(f(float64(v.i(i))))
		}
	}
	return r
}

func foldCast(v *fval, out *TensorInfo) *fval {
	r := newFold(out.Shape, out.DType.IsFloat())
	for i := range r.len() {
		switch {
		case r.flts != nil:
			r.flts[i] = v.f(i)
		case out.DType == Bool:
			r.ints[i] = b2i(v.f(i) != 0)
		case v.flts != nil && (math.IsNaN(v.flts[i]) || math.IsInf(v.flts[i], 0)):
			return nil
		default:
			r.ints[i] = v.i(i)
		}
	}
	return r
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func foldFill(attrs Attrs, out *TensorInfo) *fval {
	r := newFold(out.Shape, out.DType.IsFloat())
	t := attrs.TensorAttr("value")
	if t == nil || t.Len() == 0 {
		return r
	}
	v, ok := toFold(t)
	if !ok {
		return nil
	}
	for i := range r.len() {
		r.set(i, v, 0)
	}
	return r
}

func foldRange(in []*fval, out *TensorInfo) *fval {
	r := newFold(out.Shape, out.DType.IsFloat())
	for i := range r.len() {
		if r.flts != nil {
			r.flts[i] = in[0].f(0) + float64(i)*in[2].f(0)
		} else {
			r.ints[i] = in[0].i(0) + int64(i)*in[2].i(0)
		}
	}
	return r
}

// foldGather builds a value of shape from src elements idx.
func foldGather(src *fval, idx []int, shape []int) *fval {
	r := newFold(shape, src.isFloat())
	for i, j := range idx {
		if j < 0 || j >= src.len() {
			return nil
		}
		r.set(i, src, j)
	}
	return r
}

// foldSplit cuts the input along axis into the inferred output shapes.
func foldSplit(attrs Attrs, in []*fval, outs []*TensorInfo) []*Tensor {
	res := make([]*Tensor, len(outs))
	if len(in) == 0 || in[0] == nil {
		return res
	}
	x := in[0]
	r := len(x.shape)
	axis := int(attrs.Int("axis", 0))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return res
	}
	outer, inner, dim := Size(x.shape[:axis]), Size(x.shape[axis+1:]), x.shape[axis]
	off := 0
	for i, o := range outs {
		if !o.Static() || len(o.Shape) != r {
			return res
		}
		d := o.Shape[axis]
		src := make([]int, 0, outer*d*inner)
		for a := range outer {
			for b := range d * inner {
				src = append(src, (a*dim+off)*inner+b)
			}
		}
		if v := foldGather(x, src, o.Shape); v != nil {
			res[i] = v.toTensor(o.DType)
		}
		off += d
	}
	return res
}
