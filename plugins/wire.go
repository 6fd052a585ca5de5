package plugins

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// errNoWire marks attributes the protocol cannot carry (subgraphs); Prepare
// reports them as not implemented so the op falls back to the CPU.
var errNoWire = errors.New("cannot be sent to a plugin")

// rawView is the bytes of a numeric or bool tensor's Data, without a copy.
// Elements are in host order; Keen's plugins run on the host's machine, so
// host order is the wire order.
func rawView(data any) ([]byte, error) {
	switch s := data.(type) {
	case []float32:
		return bytesOf(s), nil
	case []float64:
		return bytesOf(s), nil
	case []int8:
		return bytesOf(s), nil
	case []int16:
		return bytesOf(s), nil
	case []int32:
		return bytesOf(s), nil
	case []int64:
		return bytesOf(s), nil
	case []uint8:
		return s, nil
	case []uint16:
		return bytesOf(s), nil
	case []uint32:
		return bytesOf(s), nil
	case []uint64:
		return bytesOf(s), nil
	case []bool:
		return bytesOf(s), nil
	case []complex64:
		return bytesOf(s), nil
	case []complex128:
		return bytesOf(s), nil
	}
	return nil, fmt.Errorf("no raw form for %T", data)
}

func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// rawSize is the number of bytes of t's raw form (0 for strings).
func rawSize(dt ir.DType, shape []int) int {
	if dt == ir.String {
		return 0
	}
	return ir.Size(shape) * dt.GoSize()
}

// tensorFromRaw builds a tensor of dt and shape holding a copy of raw.
func tensorFromRaw(dt ir.DType, shape []int, raw []byte) (*ir.Tensor, error) {
	t, err := ir.NewTensor(dt, shape...)
	if err != nil {
		return nil, err
	}
	dst, err := rawView(t.Data)
	if err != nil {
		return nil, err
	}
	if len(raw) != len(dst) {
		return nil, fmt.Errorf("%v%v needs %d bytes, got %d", dt, shape, len(dst), len(raw))
	}
	if b, ok := t.Data.([]bool); ok {
		for i, v := range raw {
			b[i] = v != 0
		}
		return t, nil
	}
	copy(dst, raw)
	return t, nil
}

// encodeTensor puts t inline in a message.
func encodeTensor(t *ir.Tensor) (*pb.Tensor, error) {
	pt := &pb.Tensor{Dtype: int32(t.DType), Shape: ints64(t.Shape), Name: t.Name}
	if s, ok := t.Data.([]string); ok {
		pt.Strings = make([][]byte, len(s))
		for i, v := range s {
			pt.Strings[i] = []byte(v)
		}
		return pt, nil
	}
	raw, err := rawView(t.Data)
	if err != nil {
		return nil, err
	}
	pt.Raw = raw
	return pt, nil
}

// decodeTensor reads a tensor from a message; area is the shared-memory
// mapping data in it may point into (nil when there is none).
func decodeTensor(pt *pb.Tensor, area []byte) (*ir.Tensor, error) {
	if pt == nil {
		return nil, errors.New("missing tensor")
	}
	dt := ir.DType(pt.Dtype)
	shape, err := intsChecked(pt.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := ir.NumElements(shape); err != nil {
		return nil, err
	}
	if dt == ir.String {
		if len(pt.Strings) != ir.Size(shape) {
			return nil, fmt.Errorf("string tensor of shape %v with %d values", shape, len(pt.Strings))
		}
		s := make([]string, len(pt.Strings))
		for i, b := range pt.Strings {
			s[i] = string(b)
		}
		return &ir.Tensor{Name: pt.Name, DType: dt, Shape: shape, Data: s}, nil
	}
	raw := pt.Raw
	if pt.Shm {
		end := pt.Offset + pt.Length
		if area == nil || end < pt.Offset || end > uint64(len(area)) {
			return nil, fmt.Errorf("shared-memory range [%d, %d) outside the %d-byte area", pt.Offset, end, len(area))
		}
		raw = area[pt.Offset:end]
	}
	t, err := tensorFromRaw(dt, shape, raw)
	if err != nil {
		return nil, err
	}
	t.Name = pt.Name
	return t, nil
}

func ints64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

func intsChecked(s []int64) ([]int, error) {
	out := make([]int, len(s))
	for i, v := range s {
		if v < 0 || v > ir.MaxElements {
			return nil, fmt.Errorf("bad dimension %d in shape %v", v, s)
		}
		out[i] = int(v)
	}
	return out, nil
}

func encodeType(t *ir.Type) *pb.Type {
	if t == nil {
		return nil
	}
	pt := &pb.Type{Kind: int32(t.Kind), Dtype: int32(t.DType), HasShape: t.HasShape,
		Elem: encodeType(t.Elem), Denotation: t.Denotation}
	for _, d := range t.Shape {
		pt.Shape = append(pt.Shape, &pb.Dim{Value: d.Value, Param: d.Param})
	}
	return pt
}

func decodeType(pt *pb.Type) *ir.Type {
	if pt == nil {
		return nil
	}
	t := &ir.Type{Kind: ir.TypeKind(pt.Kind), DType: ir.DType(pt.Dtype), HasShape: pt.HasShape,
		Elem: decodeType(pt.Elem), Denotation: pt.Denotation}
	for _, d := range pt.Shape {
		t.Shape = append(t.Shape, ir.Dim{Value: d.Value, Param: d.Param})
	}
	return t
}

func encodeAttr(a *ir.Attr) (*pb.Attr, error) {
	if a.Graph != nil || len(a.Graphs) > 0 {
		return nil, fmt.Errorf("attribute %q holds a graph, which %w", a.Name, errNoWire)
	}
	pa := &pb.Attr{Name: a.Name, Type: int32(a.Type), F: a.Float, I: a.Int, S: []byte(a.String),
		TypeProto: encodeType(a.TypeProto), Floats: a.Floats, Ints: a.Ints, RefAttrName: a.RefAttrName}
	var err error
	if a.Tensor != nil {
		if pa.T, err = encodeTensor(a.Tensor); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
	}
	if a.Sparse != nil {
		pa.Sparse = &pb.SparseTensor{Dims: ints64(a.Sparse.Dims)}
		if pa.Sparse.Values, err = encodeTensor(a.Sparse.Values); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		if pa.Sparse.Indices, err = encodeTensor(a.Sparse.Indices); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
	}
	for _, s := range a.Strings {
		pa.Strings = append(pa.Strings, []byte(s))
	}
	for _, t := range a.Tensors {
		pt, err := encodeTensor(t)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		pa.Tensors = append(pa.Tensors, pt)
	}
	for _, t := range a.TypeProtos {
		pa.TypeProtos = append(pa.TypeProtos, encodeType(t))
	}
	return pa, nil
}

func decodeAttr(pa *pb.Attr) (ir.Attr, error) {
	a := ir.Attr{Name: pa.Name, Type: ir.AttrType(pa.Type), Float: pa.F, Int: pa.I, String: string(pa.S),
		TypeProto: decodeType(pa.TypeProto), Floats: pa.Floats, Ints: pa.Ints, RefAttrName: pa.RefAttrName}
	var err error
	if pa.T != nil {
		if a.Tensor, err = decodeTensor(pa.T, nil); err != nil {
			return a, fmt.Errorf("attribute %q: %w", pa.Name, err)
		}
	}
	if ps := pa.Sparse; ps != nil {
		a.Sparse = &ir.SparseTensor{}
		if a.Sparse.Dims, err = intsChecked(ps.Dims); err != nil {
			return a, fmt.Errorf("attribute %q: %w", pa.Name, err)
		}
		if a.Sparse.Values, err = decodeTensor(ps.Values, nil); err != nil {
			return a, fmt.Errorf("attribute %q: %w", pa.Name, err)
		}
		if a.Sparse.Indices, err = decodeTensor(ps.Indices, nil); err != nil {
			return a, fmt.Errorf("attribute %q: %w", pa.Name, err)
		}
	}
	for _, s := range pa.Strings {
		a.Strings = append(a.Strings, string(s))
	}
	for _, pt := range pa.Tensors {
		t, err := decodeTensor(pt, nil)
		if err != nil {
			return a, fmt.Errorf("attribute %q: %w", pa.Name, err)
		}
		a.Tensors = append(a.Tensors, t)
	}
	for _, pt := range pa.TypeProtos {
		a.TypeProtos = append(a.TypeProtos, decodeType(pt))
	}
	return a, nil
}

func encodeSpec(s *backends.OpSpec) (*pb.OpSpec, error) {
	ps := &pb.OpSpec{Domain: s.Domain, Op: s.Op, Version: int32(s.Version),
		NumOutputs: int32(s.NumOutputs), Node: s.Node}
	for i := range s.Attrs {
		pa, err := encodeAttr(&s.Attrs[i])
		if err != nil {
			return nil, err
		}
		ps.Attrs = append(ps.Attrs, pa)
	}
	for _, dt := range s.InputTypes {
		ps.InputTypes = append(ps.InputTypes, int32(dt))
	}
	return ps, nil
}

func decodeSpec(ps *pb.OpSpec) (*backends.OpSpec, error) {
	if ps == nil {
		return nil, errors.New("missing op spec")
	}
	s := &backends.OpSpec{Domain: ps.Domain, Op: ps.Op, Version: int(ps.Version),
		NumOutputs: int(ps.NumOutputs), Node: ps.Node}
	for _, pa := range ps.Attrs {
		a, err := decodeAttr(pa)
		if err != nil {
			return nil, err
		}
		s.Attrs = append(s.Attrs, a)
	}
	for _, dt := range ps.InputTypes {
		s.InputTypes = append(s.InputTypes, ir.DType(dt))
	}
	return s, nil
}

func encodeCaps(caps []backends.Capability) []*pb.Capability {
	out := make([]*pb.Capability, len(caps))
	for i, c := range caps {
		pc := &pb.Capability{Domain: c.Domain, Op: c.Op, Since: int32(c.Since), Until: int32(c.Until)}
		for _, dt := range c.DTypes {
			pc.Dtypes = append(pc.Dtypes, int32(dt))
		}
		out[i] = pc
	}
	return out
}

// inPlaceOps are the Keen-private ops that write into their inputs. The
// client keeps host copies of the values it uploaded, which such a write
// would leave stale, so it does not offer them.
var inPlaceOps = map[string]bool{"AdamInPlace": true}

// withoutInPlace drops the capabilities of inPlaceOps.
func withoutInPlace(caps []backends.Capability) []backends.Capability {
	return slices.DeleteFunc(caps, func(c backends.Capability) bool {
		return ir.NormDomain(c.Domain) == backends.KeenDomain && inPlaceOps[c.Op]
	})
}

func decodeCaps(pcs []*pb.Capability) []backends.Capability {
	out := make([]backends.Capability, len(pcs))
	for i, pc := range pcs {
		c := backends.Capability{Domain: pc.Domain, Op: pc.Op, Since: int(pc.Since), Until: int(pc.Until)}
		for _, dt := range pc.Dtypes {
			c.DTypes = append(c.DTypes, ir.DType(dt))
		}
		out[i] = c
	}
	return out
}
