package ir

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Shape and type inference: the output types of one op application from its
// input types and, where an input's values decide the output shape (Reshape's
// shape, Slice's starts, TopK's k, ...), from those values when the host
// knows them. A backend uses it to hand out output buffers before a kernel
// runs; the graph walker (InferGraph) uses it to type a whole model. The
// rules live one file per op family (infer_elementwise.go, infer_movement.go,
// ...) and register themselves in a table keyed by domain and op.

// TensorInfo is the static type of a tensor value: its element type and
// shape. A dimension < 0 is unknown; UnknownRank says that even the number of
// dimensions is unknown (Shape is then nil). DType is Undefined when the
// element type is unknown.
type TensorInfo struct {
	DType       DType
	Shape       []int
	UnknownRank bool
}

// NewInfo returns the info of a tensor with the given dtype and shape.
func NewInfo(dt DType, shape ...int) *TensorInfo {
	return &TensorInfo{DType: dt, Shape: shape}
}

// UnknownInfo returns an info of unknown dtype and rank.
func UnknownInfo() *TensorInfo { return &TensorInfo{UnknownRank: true} }

// InfoOf returns the info of a host tensor.
func InfoOf(t *Tensor) *TensorInfo {
	return &TensorInfo{DType: t.DType, Shape: slices.Clone(t.Shape)}
}

// InfoFromType converts a declared tensor type; symbolic and unknown
// dimensions become -1. It returns an unknown info for non-tensor types.
func InfoFromType(t *Type) *TensorInfo {
	if t == nil || t.Kind != KindTensor {
		return UnknownInfo()
	}
	if !t.HasShape {
		return &TensorInfo{DType: t.DType, UnknownRank: true}
	}
	s := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = -1
		if d.Known() {
			s[i] = int(d.Value)
		}
	}
	return &TensorInfo{DType: t.DType, Shape: s}
}

// Type converts the info to a tensor Type (unknown dims have Value -1).
func (t *TensorInfo) Type() *Type {
	if t.UnknownRank {
		return &Type{Kind: KindTensor, DType: t.DType}
	}
	s := make(Shape, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = Dim{Value: int64(max(d, -1))}
	}
	return &Type{Kind: KindTensor, DType: t.DType, HasShape: true, Shape: s}
}

// Static reports whether the dtype, the rank and every dimension are known.
func (t *TensorInfo) Static() bool {
	if t == nil || t.UnknownRank || !t.DType.Valid() {
		return false
	}
	for _, d := range t.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

// Rank returns the number of dimensions, or -1 when unknown.
func (t *TensorInfo) Rank() int {
	if t.UnknownRank {
		return -1
	}
	return len(t.Shape)
}

// Equal reports whether two infos say the same thing.
func (t *TensorInfo) Equal(u *TensorInfo) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t.DType == u.DType && t.UnknownRank == u.UnknownRank && slices.Equal(t.Shape, u.Shape)
}

func (t *TensorInfo) String() string {
	if t == nil {
		return "<none>"
	}
	dt := "?"
	if t.DType != Undefined {
		dt = t.DType.String()
	}
	if t.UnknownRank {
		return dt + "[...]"
	}
	return dt + shapeString(t.Shape)
}

func shapeString(s []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if d < 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// ErrShape is wrapped by inference errors about inconsistent inputs
// (shapes that do not broadcast, inner dimensions that disagree, bad axes).
var ErrShape = errors.New("inconsistent shapes")

// inferFunc computes the output infos of one op application. It may return
// fewer outputs than asked (the rest are unknown) and partial infos.
type inferFunc func(c *inferCtx) ([]*TensorInfo, error)

// ruleKey names a rule: the op's domain ("" for ai.onnx) and type.
type ruleKey struct{ domain, op string }

var inferRules = map[ruleKey]inferFunc{}

// addInferRules registers rules of one domain ("" for ai.onnx); a family
// file calls it from init.
func addInferRules(domain string, rules map[string]inferFunc) {
	for op, f := range rules {
		inferRules[ruleKey{domain, op}] = f
	}
}

// HasInferRule reports whether InferOutputs has a rule for the op.
func HasInferRule(domain, op string) bool {
	_, ok := inferRules[ruleKey{NormDomain(domain), op}]
	return ok
}

// InferOutputs returns the output types of one application of domain.op at
// opset version (the model's import of domain; 0 means the newest) with
// attrs, from its input types (in[i] nil marks a missing optional input)
// and, where known, the host values of its inputs (values[i] nil or values
// shorter than in: not known). nout is the number of outputs the node has.
// The result always has nout entries, partial where less is known (unknown
// dims < 0, UnknownRank, DType Undefined); ok reports whether every one of
// them is Static. Unknown ops and data-dependent results (NonZero, Unique, a
// Reshape whose shape is not known, ...) give ok=false and no error;
// inconsistent inputs give an error wrapping ErrShape that names the op and
// the shapes. Ops with subgraphs or sequence values (If, Loop, Scan,
// Sequence*, Optional*) have no rule here: InferGraph follows them.
func InferOutputs(domain, op string, version int, attrs Attrs, in []*TensorInfo, values []*Tensor, nout int) (outs []*TensorInfo, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			// A rule that misses a malformed case must not take the caller down.
			outs, ok, err = nil, false, fmt.Errorf("ir: %s: inference failed on malformed inputs %v: %v", op, in, r)
		}
	}()
	if err := checkTypeParams(domain, op, version, in); err != nil {
		return nil, false, err
	}
	outs = make([]*TensorInfo, max(nout, 0))
	f := inferRules[ruleKey{NormDomain(domain), op}]
	if f != nil {
		c := &inferCtx{op: op, version: version, attrs: attrs, in: in, vals: values, nout: nout}
		got, err := f(c)
		if err != nil {
			return nil, false, err
		}
		copy(outs, got)
	}
	ok = f != nil
	for i, o := range outs {
		if o == nil {
			outs[i] = UnknownInfo()
		}
		ok = ok && outs[i].Static()
	}
	return outs, ok, nil
}

// inferCtx is what a rule sees of one op application.
type inferCtx struct {
	op      string
	version int
	attrs   Attrs
	in      []*TensorInfo
	vals    []*Tensor
	nout    int
}

func (c *inferCtx) errorf(format string, args ...any) error {
	return fmt.Errorf("ir: %s: %w: %s", c.op, ErrShape, fmt.Sprintf(format, args...))
}

// has reports whether input i is present.
func (c *inferCtx) has(i int) bool { return i < len(c.in) && c.in[i] != nil }

// input returns input i, or an unknown info when it is absent (rules check
// has for optional inputs; a missing required input is simply unknown).
func (c *inferCtx) input(i int) *TensorInfo {
	if c.has(i) {
		return c.in[i]
	}
	return UnknownInfo()
}

// dtype is the element type of input i (Undefined when absent or unknown).
func (c *inferCtx) dtype(i int) DType { return c.input(i).DType }

// shape returns input i's shape and whether its rank is known.
func (c *inferCtx) shape(i int) ([]int, bool) {
	t := c.input(i)
	return t.Shape, !t.UnknownRank
}

// value is input i's host value, or nil.
func (c *inferCtx) value(i int) *Tensor {
	if c.has(i) && i < len(c.vals) {
		return c.vals[i]
	}
	return nil
}

// ints returns input i's values as integers when known.
func (c *inferCtx) ints(i int) ([]int64, bool) {
	v := c.value(i)
	if v == nil || !v.DType.IsInt() {
		return nil, false
	}
	s, err := v.Int64s()
	return s, err == nil
}

// floats returns input i's values as float64 when known.
func (c *inferCtx) floats(i int) ([]float64, bool) {
	v := c.value(i)
	if v == nil || v.DType == String {
		return nil, false
	}
	out := make([]float64, v.Len())
	for k := range out {
		out[k] = v.Float64At(k)
	}
	return out, true
}

// same returns one output like input i (the unary elementwise rule).
func (c *inferCtx) same(i int) []*TensorInfo { return []*TensorInfo{c.like(i)} }

// like returns a copy of input i's info.
func (c *inferCtx) like(i int) *TensorInfo {
	t := c.input(i)
	return &TensorInfo{DType: t.DType, Shape: slices.Clone(t.Shape), UnknownRank: t.UnknownRank}
}

// unknownRank returns an info of dtype dt and unknown rank.
func unknownRank(dt DType) *TensorInfo { return &TensorInfo{DType: dt, UnknownRank: true} }

// unknownDims returns an info of dtype dt with rank unknown dims.
// A rank over maxRank (from a hostile declared shape) is left unknown.
func unknownDims(dt DType, rank int) *TensorInfo {
	if rank < 0 || rank > maxRank {
		return unknownRank(dt)
	}
	s := make([]int, rank)
	for i := range s {
		s[i] = -1
	}
	return &TensorInfo{DType: dt, Shape: s}
}

// normAxis maps a possibly negative axis into [0, rank).
func (c *inferCtx) normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, c.errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// normAxes maps axes into [0, rank), refusing duplicates.
func (c *inferCtx) normAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	for i, a := range axes {
		n, err := c.normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out[:i], n) {
			return nil, c.errorf("axis %d repeated in %v", a, axes)
		}
		out[i] = n
	}
	return out, nil
}

// mergeDim combines two sizes that must agree: an unknown side takes the
// other's value.
func (c *inferCtx) mergeDim(what string, a, b int) (int, error) {
	switch {
	case a < 0:
		return b, nil
	case b < 0 || a == b:
		return a, nil
	}
	return 0, c.errorf("%s: %d vs %d", what, a, b)
}

// maxRank bounds ranks taken from declared sizes, and maxItems the
// sequences split into items, so that hostile sizes cannot exhaust memory.
const (
	maxRank  = 1 << 12
	maxItems = 1 << 16
)

// addDims, mulDims: sizes arithmetic where unknown (-1) is absorbing and an
// overflow is unknown too.
func addDims(a, b int) int {
	if a < 0 || b < 0 || a > math.MaxInt-b {
		return -1
	}
	return a + b
}

func mulDims(a, b int) int {
	switch {
	case a == 0 || b == 0:
		return 0
	case a < 0 || b < 0 || a > math.MaxInt/b:
		return -1
	}
	return a * b
}

// prodDims is the product of dims (-1 when one is unknown and none is 0).
func prodDims(dims []int) int {
	p := 1
	for _, d := range dims {
		p = mulDims(p, d)
	}
	return p
}

// checkTypeParams reports inputs bound to one type parameter of the op's
// schema ("T" of both Add inputs, every Concat input) whose known dtypes
// differ.
func checkTypeParams(domain, op string, version int, in []*TensorInfo) error {
	if version <= 0 {
		version = math.MaxInt32
	}
	s := LookupSchema(domain, op, version)
	if s == nil || len(s.Inputs) == 0 {
		return nil
	}
	for i, t := range in {
		if t == nil || t.DType == Undefined {
			continue
		}
		p, ok := formalInput(s, i)
		if !ok || strings.HasPrefix(p.TypeStr, "tensor(") || strings.Contains(p.TypeStr, "(") {
			continue
		}
		for j := range i {
			u := in[j]
			if u == nil || u.DType == Undefined || u.DType == t.DType {
				continue
			}
			if q, ok := formalInput(s, j); ok && q.TypeStr == p.TypeStr {
				return fmt.Errorf("ir: %s: %w: input %d is %v and input %d %v, both of type %s",
					op, ErrShape, j, u.DType, i, t.DType, p.TypeStr)
			}
		}
	}
	return nil
}

// formalInput is the formal parameter that actual input i binds to; ok is
// false past the last one or for a heterogeneous variadic.
func formalInput(s *Schema, i int) (FormalParam, bool) {
	if i < len(s.Inputs) {
		p := s.Inputs[i]
		return p, p.Option != ParamVariadic || p.Homogeneous
	}
	last := s.Inputs[len(s.Inputs)-1]
	return last, last.Option == ParamVariadic && last.Homogeneous
}
