package cpu

// A minimal protobuf reader for the single-node ONNX backend test cases, so
// the mx kernels can be checked against ONNX's own data inside this package
// without the onnx loader. Test-only; it decodes just the fields used there.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

var errMxPB = errors.New("mx protobuf: truncated message")

type mxPBField struct {
	num    int
	wire   int
	varint uint64
	bytes  []byte
}

// mxPBFields splits a message into its fields.
func mxPBFields(b []byte) ([]mxPBField, error) {
	var out []mxPBField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errMxPB
		}
		b = b[n:]
		f := mxPBField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errMxPB
			}
			f.varint, b = v, b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errMxPB
			}
			f.varint, b = binary.LittleEndian.Uint64(b), b[8:]
		case 5:
			if len(b) < 4 {
				return nil, errMxPB
			}
			f.varint, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, errMxPB
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return nil, fmt.Errorf("mx protobuf: wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out, nil
}

// mxVarints reads a repeated varint field, packed or not.
func mxVarints(f mxPBField, dst []uint64) []uint64 {
	if f.wire != 2 {
		return append(dst, f.varint)
	}
	b := f.bytes
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			break
		}
		dst, b = append(dst, v), b[n:]
	}
	return dst
}

// mxFixed reads a repeated fixed-width field (size 4 or 8), packed or not.
func mxFixed(f mxPBField, size int, dst []uint64) []uint64 {
	if f.wire != 2 {
		return append(dst, f.varint)
	}
	for b := f.bytes; len(b) >= size; b = b[size:] {
		if size == 4 {
			dst = append(dst, uint64(binary.LittleEndian.Uint32(b)))
		} else {
			dst = append(dst, binary.LittleEndian.Uint64(b))
		}
	}
	return dst
}

// mxDecodeTensor decodes a TensorProto.
func mxDecodeTensor(b []byte) (*ir.Tensor, error) {
	fs, err := mxPBFields(b)
	if err != nil {
		return nil, err
	}
	t := &ir.Tensor{}
	var dims, ints, u64s, f32s, f64s []uint64
	var raw []byte
	var strs []string
	for _, f := range fs {
		switch f.num {
		case 1:
			dims = mxVarints(f, dims)
		case 2:
			t.DType = ir.DType(f.varint)
		case 4:
			f32s = mxFixed(f, 4, f32s)
		case 5, 7:
			ints = mxVarints(f, ints)
		case 6:
			strs = append(strs, string(f.bytes))
		case 8:
			t.Name = string(f.bytes)
		case 9:
			raw = f.bytes
		case 10:
			f64s = mxFixed(f, 8, f64s)
		case 11:
			u64s = mxVarints(f, u64s)
		}
	}
	for _, d := range dims {
		t.Shape = append(t.Shape, int(int64(d)))
	}
	n, err := ir.NumElements(t.Shape)
	if err != nil {
		return nil, err
	}
	data, err := ir.MakeSlice(t.DType, n)
	if err != nil {
		return nil, err
	}
	t.Data = data
	if t.DType == ir.String {
		copy(t.Data.([]string), strs)
		return t, nil
	}
	if raw != nil {
		return t, mxFillRaw(t, raw)
	}
	var src []uint64
	switch {
	case len(f32s) > 0:
		src = f32s
	case len(f64s) > 0:
		src = f64s
	case len(u64s) > 0:
		src = u64s
	default:
		src = ints
	}
	return t, mxFillWords(t, src)
}

// mxFillWords stores the typed-field words into t.
func mxFillWords(t *ir.Tensor, w []uint64) error {
	n := t.Len()
	need := n
	if t.DType.IsComplex() {
		need = 2 * n
	}
	if len(w) < need {
		return fmt.Errorf("mx protobuf: %d values for %d elements", len(w), need)
	}
	switch s := t.Data.(type) {
	case []float32:
		for i := range s {
			s[i] = math.Float32frombits(uint32(w[i]))
		}
	case []float64:
		for i := range s {
			s[i] = math.Float64frombits(w[i])
		}
	case []complex64:
		for i := range s {
			s[i] = complex(math.Float32frombits(uint32(w[2*i])), math.Float32frombits(uint32(w[2*i+1])))
		}
	case []complex128:
		for i := range s {
			s[i] = complex(math.Float64frombits(w[2*i]), math.Float64frombits(w[2*i+1]))
		}
	case []int8:
		for i := range s {
			s[i] = int8(w[i])
		}
	case []int16:
		for i := range s {
			s[i] = int16(w[i])
		}
	case []int32:
		for i := range s {
			s[i] = int32(w[i])
		}
	case []int64:
		for i := range s {
			s[i] = int64(w[i])
		}
	case []uint8:
		for i := range s {
			s[i] = uint8(w[i])
		}
	case []uint16:
		for i := range s {
			s[i] = uint16(w[i])
		}
	case []uint32:
		for i := range s {
			s[i] = uint32(w[i])
		}
	case []uint64:
		copy(s, w)
	case []bool:
		for i := range s {
			s[i] = w[i] != 0
		}
	}
	return nil
}

// mxFillRaw stores little-endian raw_data into t.
func mxFillRaw(t *ir.Tensor, raw []byte) error {
	size := t.DType.Bits() / 8
	if size == 0 || len(raw) < size*t.Len() {
		return fmt.Errorf("mx protobuf: raw data of %d bytes for %v%v", len(raw), t.DType, t.Shape)
	}
	w := make([]uint64, 0, t.Len()*2)
	if t.DType.IsComplex() {
		size /= 2
	}
	for b := raw; len(b) >= size; b = b[size:] {
		switch size {
		case 1:
			w = append(w, uint64(b[0]))
		case 2:
			w = append(w, uint64(binary.LittleEndian.Uint16(b)))
		case 4:
			w = append(w, uint64(binary.LittleEndian.Uint32(b)))
		case 8:
			w = append(w, binary.LittleEndian.Uint64(b))
		}
	}
	if t.DType == ir.Int8 || t.DType == ir.Int16 || t.DType == ir.Int32 {
		for i, v := range w {
			switch size {
			case 1:
				w[i] = uint64(int64(int8(v)))
			case 2:
				w[i] = uint64(int64(int16(v)))
			case 4:
				w[i] = uint64(int64(int32(v)))
			}
		}
	}
	return mxFillWords(t, w)
}

// mxNode is one decoded NodeProto plus the model's opset for its domain.
type mxNode struct {
	op, domain      string
	inputs, outputs []string
	attrs           ir.Attrs
}

// mxDecodeNode decodes a NodeProto.
func mxDecodeNode(b []byte) (*mxNode, error) {
	fs, err := mxPBFields(b)
	if err != nil {
		return nil, err
	}
	n := &mxNode{}
	for _, f := range fs {
		switch f.num {
		case 1:
			n.inputs = append(n.inputs, string(f.bytes))
		case 2:
			n.outputs = append(n.outputs, string(f.bytes))
		case 4:
			n.op = string(f.bytes)
		case 7:
			n.domain = string(f.bytes)
		case 5:
			a, err := mxDecodeAttr(f.bytes)
			if err != nil {
				return nil, err
			}
			n.attrs = append(n.attrs, a)
		}
	}
	return n, nil
}

// mxDecodeAttr decodes an AttributeProto (graphs are not needed).
func mxDecodeAttr(b []byte) (ir.Attr, error) {
	fs, err := mxPBFields(b)
	if err != nil {
		return ir.Attr{}, err
	}
	var a ir.Attr
	for _, f := range fs {
		switch f.num {
		case 1:
			a.Name = string(f.bytes)
		case 20:
			a.Type = ir.AttrType(f.varint)
		case 2:
			a.Float = math.Float32frombits(uint32(f.varint))
		case 3:
			a.Int = int64(f.varint)
		case 4:
			a.String = string(f.bytes)
		case 5:
			if a.Tensor, err = mxDecodeTensor(f.bytes); err != nil {
				return a, err
			}
		case 6:
			if a.Graph, err = mxDecodeGraph(f.bytes); err != nil {
				return a, err
			}
		case 7:
			for _, v := range mxFixed(f, 4, nil) {
				a.Floats = append(a.Floats, math.Float32frombits(uint32(v)))
			}
		case 8:
			for _, v := range mxVarints(f, nil) {
				a.Ints = append(a.Ints, int64(v))
			}
		case 9:
			a.Strings = append(a.Strings, string(f.bytes))
		case 10:
			t, err := mxDecodeTensor(f.bytes)
			if err != nil {
				return a, err
			}
			a.Tensors = append(a.Tensors, t)
		}
	}
	return a, nil
}

// mxModel is a decoded single-graph model: its nodes, initializers, graph
// input/output names and opsets by domain.
type mxModel struct {
	nodes           []*mxNode
	inits           map[string]*ir.Tensor
	inputs, outputs []string
	opsets          map[string]int
}

// mxDecodeModel decodes a ModelProto.
func mxDecodeModel(b []byte) (*mxModel, error) {
	fs, err := mxPBFields(b)
	if err != nil {
		return nil, err
	}
	m := &mxModel{inits: map[string]*ir.Tensor{}, opsets: map[string]int{}}
	for _, f := range fs {
		switch f.num {
		case 7:
			if err := m.decodeGraph(f.bytes); err != nil {
				return nil, err
			}
		case 8:
			os, err := mxPBFields(f.bytes)
			if err != nil {
				return nil, err
			}
			dom, ver := "", 0
			for _, o := range os {
				if o.num == 1 {
					dom = string(o.bytes)
				} else if o.num == 2 {
					ver = int(o.varint)
				}
			}
			m.opsets[ir.NormDomain(dom)] = ver
		}
	}
	return m, nil
}

func (m *mxModel) decodeGraph(b []byte) error {
	fs, err := mxPBFields(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		switch f.num {
		case 1:
			n, err := mxDecodeNode(f.bytes)
			if err != nil {
				return err
			}
			m.nodes = append(m.nodes, n)
		case 5:
			t, err := mxDecodeTensor(f.bytes)
			if err != nil {
				return err
			}
			m.inits[t.Name] = t
		case 11, 12:
			vs, err := mxPBFields(f.bytes)
			if err != nil {
				return err
			}
			for _, v := range vs {
				if v.num == 1 && f.num == 11 {
					m.inputs = append(m.inputs, string(v.bytes))
				} else if v.num == 1 {
					m.outputs = append(m.outputs, string(v.bytes))
				}
			}
		}
	}
	return nil
}

// mxDecodeGraph decodes a GraphProto attribute into an ir.Graph.
func mxDecodeGraph(b []byte) (*ir.Graph, error) {
	m := &mxModel{inits: map[string]*ir.Tensor{}}
	if err := m.decodeGraph(b); err != nil {
		return nil, err
	}
	g := &ir.Graph{}
	for _, n := range m.nodes {
		g.Nodes = append(g.Nodes, &ir.Node{OpType: n.op, Domain: n.domain, Inputs: n.inputs, Outputs: n.outputs, Attrs: n.attrs})
	}
	for _, t := range m.inits {
		g.Initializers = append(g.Initializers, t)
	}
	for _, name := range m.inputs {
		g.Inputs = append(g.Inputs, ir.ValueInfo{Name: name})
	}
	for _, name := range m.outputs {
		g.Outputs = append(g.Outputs, ir.ValueInfo{Name: name})
	}
	return g, nil
}
