package onnx

import (
	"errors"
	"fmt"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// sparse decodes a COO SparseTensorProto and checks that its indices fit.
func (d *decoder) sparse(sp *pb.SparseTensorProto) (*ir.SparseTensor, error) {
	if sp == nil {
		return nil, errors.New("missing sparse tensor")
	}
	dims, _, err := dimsToShape(sp.GetDims())
	if err != nil {
		return nil, fmt.Errorf("sparse tensor dims: %w", err)
	}
	if sp.GetValues() == nil {
		return nil, errors.New("sparse tensor has no values")
	}
	s := &ir.SparseTensor{Dims: dims}
	if s.Values, err = d.tensor(sp.GetValues()); err != nil {
		return nil, fmt.Errorf("sparse values: %w", err)
	}
	if sp.GetIndices() != nil {
		if s.Indices, err = d.tensor(sp.GetIndices()); err != nil {
			return nil, fmt.Errorf("sparse indices: %w", err)
		}
	}
	if err := checkSparse(s); err != nil {
		return nil, fmt.Errorf("sparse tensor %q: %w", s.Values.Name, err)
	}
	return s, nil
}

// checkSparse: values are [NNZ]; indices int64 [NNZ, rank] or linear [NNZ],
// every index inside Dims.
func checkSparse(s *ir.SparseTensor) error {
	if s.Values.Rank() != 1 {
		return fmt.Errorf("values have shape %v, want [NNZ]", s.Values.Shape)
	}
	nnz := s.Values.Shape[0]
	if s.Indices == nil {
		if nnz != 0 {
			return fmt.Errorf("%d values but no indices", nnz)
		}
		return nil
	}
	if s.Indices.DType != ir.Int64 {
		return fmt.Errorf("indices are %v, want int64", s.Indices.DType)
	}
	size, err := ir.NumElements(s.Dims)
	if err != nil {
		return err
	}
	idx := s.Indices.Data.([]int64)
	switch sh := s.Indices.Shape; {
	case len(sh) == 1 && sh[0] == nnz:
		for i, v := range idx {
			if v < 0 || v >= int64(size) {
				return fmt.Errorf("linear index %d at %d out of range for dims %v", v, i, s.Dims)
			}
		}
	case len(sh) == 2 && sh[0] == nnz && sh[1] == len(s.Dims):
		for i, v := range idx {
			if dim := s.Dims[i%len(s.Dims)]; v < 0 || v >= int64(dim) {
				return fmt.Errorf("index %d of entry %d out of range for dims %v", v, i/len(s.Dims), s.Dims)
			}
		}
	default:
		return fmt.Errorf("indices have shape %v, want [%d] or [%d %d]", sh, nnz, nnz, len(s.Dims))
	}
	return nil
}

func sparseToProto(s *ir.SparseTensor) (*pb.SparseTensorProto, error) {
	if s == nil || s.Values == nil {
		return nil, errors.New("sparse tensor has no values")
	}
	if err := s.Values.Validate(); err != nil {
		return nil, fmt.Errorf("sparse values: %w", err)
	}
	if s.Indices != nil {
		if err := s.Indices.Validate(); err != nil {
			return nil, fmt.Errorf("sparse indices: %w", err)
		}
	}
	if err := checkSparse(s); err != nil {
		return nil, fmt.Errorf("sparse tensor %q: %w", s.Values.Name, err)
	}
	sp := &pb.SparseTensorProto{Dims: make([]int64, len(s.Dims))}
	for i, d := range s.Dims {
		sp.Dims[i] = int64(d)
	}
	var err error
	if sp.Values, err = tensorToProto(s.Values); err != nil {
		return nil, err
	}
	if s.Indices != nil {
		if sp.Indices, err = tensorToProto(s.Indices); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// mapValue decodes a MapProto: integer keys (int64 on the wire, narrowed to
// key_type) or string keys, and a sequence of values of the same length.
func (d *decoder) mapValue(mp *pb.MapProto, elem *ir.Type) (*ir.Map, error) {
	if mp == nil {
		return nil, errors.New("missing map")
	}
	m, err := d.mapBody(mp, elem)
	if err != nil {
		return nil, fmt.Errorf("map %q: %w", mp.GetName(), err)
	}
	return m, nil
}

func (d *decoder) mapBody(mp *pb.MapProto, elem *ir.Type) (*ir.Map, error) {
	kt := ir.DType(mp.GetKeyType())
	var keys *ir.Tensor
	switch {
	case kt == ir.String:
		ks := make([]string, len(mp.GetStringKeys()))
		for i, k := range mp.GetStringKeys() {
			ks[i] = string(k)
		}
		keys = ir.FromSlice(ks, len(ks))
	case kt.IsInt() && kt.Bits() >= 8:
		t, err := ir.NewTensor(kt, len(mp.GetKeys()))
		if err != nil {
			return nil, err
		}
		if err := setInts(t, mp.GetKeys()); err != nil {
			return nil, err
		}
		keys = t
	default:
		return nil, fmt.Errorf("key type %v is not an integer or string type", kt)
	}
	if mp.GetValues() == nil {
		return nil, errors.New("map has no values")
	}
	vals, err := d.sequence(mp.GetValues(), elem)
	if err != nil {
		return nil, err
	}
	if len(vals.Items) != keys.Len() {
		return nil, fmt.Errorf("%d keys but %d values", keys.Len(), len(vals.Items))
	}
	return &ir.Map{Keys: keys, Values: vals}, nil
}

// setInts stores int64 values into an integer tensor, checking their range.
func setInts(t *ir.Tensor, vs []int64) error {
	set := func(i int, v int64, lo, hi int64) bool {
		if v < lo || v > hi {
			return false
		}
		t.SetInt64At(i, v)
		return true
	}
	bits := t.DType.Bits()
	lo, hi := int64(0), int64(1)<<(bits-1)-1
	if t.DType.IsSigned() {
		lo = -hi - 1
	} else if bits < 64 {
		hi = int64(1)<<bits - 1
	} else {
		hi = 1<<63 - 1 // uint64 keys travel as int64; the sign bit is kept as is
		lo = -1 << 63
	}
	for i, v := range vs {
		if !set(i, v, lo, hi) {
			return fmt.Errorf("key %d at %d out of range for %v", v, i, t.DType)
		}
	}
	return nil
}

func mapToProto(m *ir.Map) (*pb.MapProto, error) {
	if m.Keys == nil || m.Values == nil {
		return nil, errors.New("map without keys or values")
	}
	if err := m.Keys.Validate(); err != nil {
		return nil, fmt.Errorf("map keys: %w", err)
	}
	if m.Keys.Len() != len(m.Values.Items) {
		return nil, fmt.Errorf("map has %d keys but %d values", m.Keys.Len(), len(m.Values.Items))
	}
	mp := &pb.MapProto{KeyType: proto32(int32(m.Keys.DType))}
	if ks, ok := m.Keys.Data.([]string); ok {
		for _, k := range ks {
			mp.StringKeys = append(mp.StringKeys, []byte(k))
		}
	} else {
		if !m.Keys.DType.IsInt() || m.Keys.DType.Bits() < 8 {
			return nil, fmt.Errorf("map key type %v is not an integer or string type", m.Keys.DType)
		}
		mp.Keys = make([]int64, m.Keys.Len())
		for i := range mp.Keys {
			mp.Keys[i] = keyAt(m.Keys, i)
		}
	}
	var err error
	if mp.Values, err = sequenceToProto(m.Values); err != nil {
		return nil, fmt.Errorf("map values: %w", err)
	}
	return mp, nil
}

func keyAt(t *ir.Tensor, i int) int64 {
	if s, ok := t.Data.([]uint64); ok {
		return int64(s[i])
	}
	if s, ok := t.Data.([]int64); ok {
		return s[i]
	}
	return int64(t.Float64At(i))
}
