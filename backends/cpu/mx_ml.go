package cpu

// ai.onnx.ml: LabelEncoder, Binarizer, ArrayFeatureExtractor.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

const mxMLDomain = "ai.onnx.ml"

func init() {
	regDomain(mxMLDomain, "LabelEncoder", 1, prepLabelEncoder)
	regDomain(mxMLDomain, "Binarizer", 1, prepBinarizer)
	regDomain(mxMLDomain, "ArrayFeatureExtractor", 1, prepArrayFeatureExtractor)
}

// mxKeyAt is a map key for element i of t that equates equal values of
// the same kind (all NaNs are one key).
func mxKeyAt(t *ir.Tensor, i int) string {
	switch s := t.Data.(type) {
	case []string:
		return "s" + s[i]
	case []int64:
		return "i" + strconv.FormatInt(s[i], 10)
	case []int32:
		return "i" + strconv.FormatInt(int64(s[i]), 10)
	case []int16:
		return "i" + strconv.FormatInt(int64(s[i]), 10)
	}
	v := t.Float64At(i)
	if t.DType.IsInt() {
		return "i" + strconv.FormatInt(int64(v), 10)
	}
	if math.IsNaN(v) {
		return "fNaN"
	}
	return "f" + strconv.FormatFloat(v, 'g', -1, 64)
}

// mxLabelTables resolves LabelEncoder's keys, values and default.
func mxLabelTables(a ir.Attrs) (keys, values, def *ir.Tensor, err error) {
	keys = a.TensorAttr("keys_tensor")
	switch {
	case keys != nil:
	case a.Has("keys_strings"):
		ks := a.Strs("keys_strings", nil)
		keys = ir.FromSlice(ks, len(ks))
	case a.Has("keys_int64s"):
		ks := a.Ints("keys_int64s", nil)
		keys = ir.FromSlice(ks, len(ks))
	case a.Has("keys_floats"):
		ks := a.Floats("keys_floats", nil)
		keys = ir.FromSlice(ks, len(ks))
	}
	values = a.TensorAttr("values_tensor")
	switch {
	case values != nil:
	case a.Has("values_strings"):
		vs := a.Strs("values_strings", nil)
		values, def = ir.FromSlice(vs, len(vs)), ir.Scalar(a.Str("default_string", "_Unused"))
	case a.Has("values_int64s"):
		vs := a.Ints("values_int64s", nil)
		values, def = ir.FromSlice(vs, len(vs)), ir.Scalar(a.Int("default_int64", -1))
	case a.Has("values_floats"):
		vs := a.Floats("values_floats", nil)
		values, def = ir.FromSlice(vs, len(vs)), ir.Scalar(a.Float("default_float", float32(math.Copysign(0, -1))))
	}
	if keys == nil || values == nil || keys.Len() != values.Len() {
		return nil, nil, nil, fmt.Errorf("LabelEncoder: %w: keys and values must be given with equal lengths", errAttr)
	}
	if d := a.TensorAttr("default_tensor"); d != nil {
		def = d
	}
	if def == nil {
		def = ir.Zeros(values.DType, 1)
		if values.DType == ir.String {
			def.Data.([]string)[0] = "_Unused"
		} else if values.DType.IsInt() {
			def = mxCastFrom64(values.DType, []int{1}, []float64{-1})
		}
	}
	if def.Len() < 1 || def.DType != values.DType {
		return nil, nil, nil, fmt.Errorf("LabelEncoder: %w: default %v%v for values of %v", errAttr, def.DType, def.Shape, values.DType)
	}
	return keys, values, def, nil
}

func prepLabelEncoder(s *backends.OpSpec) (kernelFunc, error) {
	keys, values, def, err := mxLabelTables(s.Attrs)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, keys.Len())
	for i := 0; i < keys.Len(); i++ {
		k := mxKeyAt(keys, i)
		if _, dup := index[k]; !dup {
			index[k] = i
		}
	}
	in0 := inputType(s.InputTypes, 0)
	if (in0 == ir.String) != (keys.DType == ir.String) {
		return nil, fmt.Errorf("LabelEncoder: %w: input 0 is %v, keys are %v", errDType, in0, keys.DType)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("LabelEncoder: %w", err)
		}
		x := in[0]
		out, err := ir.NewTensor(values.DType, x.Shape...)
		if err != nil {
			return nil, fmt.Errorf("LabelEncoder: %w", err)
		}
		for i := 0; i < x.Len(); i++ {
			if j, ok := index[mxKeyAt(x, i)]; ok {
				ir.CopyElem(out, i, values, j)
			} else {
				ir.CopyElem(out, i, def, 0)
			}
		}
		return one(out)
	}, nil
}

func prepBinarizer(s *backends.OpSpec) (kernelFunc, error) {
	thr := float64(s.Attrs.Float("threshold", 0))
	dt := inputType(s.InputTypes, 0)
	if dt != ir.Float32 && dt != ir.Float64 && dt != ir.Int64 && dt != ir.Int32 {
		return nil, fmt.Errorf("Binarizer: %w: input 0 is %v", errDType, dt)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("Binarizer: %w", err)
		}
		vals := mxFloat64s(in[0])
		out := make([]float64, len(vals))
		for i, v := range vals {
			if v > thr {
				out[i] = 1
			} else if math.IsNaN(v) {
				out[i] = v
			}
		}
		return one(mxCastFrom64(dt, append([]int{}, in[0].Shape...), out))
	}, nil
}

func prepArrayFeatureExtractor(s *backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("ArrayFeatureExtractor: %w", err)
		}
		x := in[0]
		idx, err := in[1].Int64s()
		if err != nil || x.Rank() == 0 {
			return nil, fmt.Errorf("ArrayFeatureExtractor: %w: X %v%v, indices %v", errInput, x.DType, x.Shape, in[1].DType)
		}
		last := x.Shape[x.Rank()-1]
		for _, k := range idx {
			if k < 0 || k >= int64(last) {
				return nil, fmt.Errorf("ArrayFeatureExtractor: %w: index %d outside [0, %d)", errInput, k, last)
			}
		}
		shape := append(append([]int{}, x.Shape[:x.Rank()-1]...), len(idx))
		if x.Rank() == 1 {
			shape = []int{1, len(idx)}
		}
		out, err := ir.NewTensor(x.DType, shape...)
		if err != nil {
			return nil, fmt.Errorf("ArrayFeatureExtractor: %w", err)
		}
		rows := x.Len() / max(last, 1)
		for r := 0; r < rows; r++ {
			for j, k := range idx {
				ir.CopyElem(out, r*len(idx)+j, x, r*last+int(k))
			}
		}
		return one(out)
	}, nil
}
