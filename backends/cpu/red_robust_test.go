package cpu

import (
	"fmt"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestRedOpsNeverPanic feeds every op of the family odd shapes (rank 0,
// zero-sized dims, mismatched parameters); each must answer with a result
// or an error, never a panic.
func TestRedOpsNeverPanic(t *testing.T) {
	shapes := [][]int{{}, {0}, {3}, {2, 0}, {0, 3}, {2, 3}, {1, 2, 0, 2}, {2, 3, 2, 2}}
	mk := func(shape []int) *ir.Tensor {
		v := make([]float32, ir.Size(shape))
		for i := range v {
			v[i] = float32(i%5) - 1.5
		}
		return ir.FromSlice(v, shape...)
	}
	ops := []struct {
		op    string
		ver   int
		attrs ir.Attrs
		extra func(x *ir.Tensor) []*ir.Tensor
	}{
		{"ReduceSum", 13, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.FromSlice([]int64{-1}, 1)} }},
		{"ReduceLogSumExp", 18, ir.Attrs{ir.IntAttr("keepdims", 0)}, nil},
		{"ReduceMax", 1, ir.Attrs{ir.IntsAttr("axes", 0)}, nil},
		{"ArgMax", 13, ir.Attrs{ir.IntAttr("axis", -1)}, nil},
		{"Softmax", 13, nil, nil},
		{"LogSoftmax", 11, nil, nil},
		{"Hardmax", 1, ir.Attrs{ir.IntAttr("axis", 0)}, nil},
		{"CumSum", 14, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.Scalar(int64(0))} }},
		{"TopK", 11, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.FromSlice([]int64{1}, 1)} }},
		{"BatchNormalization", 15, ir.Attrs{ir.IntAttr("training_mode", 1)}, func(x *ir.Tensor) []*ir.Tensor {
			p := mk([]int{3})
			return []*ir.Tensor{p, p, p, p}
		}},
		{"InstanceNormalization", 22, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{mk([]int{3}), mk([]int{3})} }},
		{"LayerNormalization", 17, ir.Attrs{ir.IntAttr("axis", 1)}, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{mk([]int{3}), mk([]int{3})} }},
		{"GroupNormalization", 21, ir.Attrs{ir.IntAttr("num_groups", 3)}, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{mk([]int{3}), mk([]int{3})} }},
		{"RMSNormalization", 23, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{mk([]int{2})} }},
		{"LpNormalization", 22, nil, nil},
		{"MeanVarianceNormalization", 13, nil, nil},
		{"LRN", 13, ir.Attrs{ir.IntAttr("size", 3)}, nil},
		{"Dropout", 22, nil, func(*ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.Scalar(float32(0.5)), ir.Scalar(true)} }},
		{"NegativeLogLikelihoodLoss", 22, nil, func(x *ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.FromSlice([]int64{0, 1}, 2)} }},
		{"SoftmaxCrossEntropyLoss", 13, nil, func(x *ir.Tensor) []*ir.Tensor { return []*ir.Tensor{ir.FromSlice([]int64{0, 2}, 2)} }},
		{"Einsum", 12, ir.Attrs{ir.StringAttr("equation", "...ij->...ji")}, nil},
		{"Einsum", 12, ir.Attrs{ir.StringAttr("equation", "ij,ij->i")}, func(x *ir.Tensor) []*ir.Tensor { return []*ir.Tensor{x} }},
		{"Det", 22, nil, nil},
	}
	for _, o := range ops {
		for _, sh := range shapes {
			x := mk(sh)
			in := []*ir.Tensor{x}
			if o.extra != nil {
				in = append(in, o.extra(x)...)
			}
			name := fmt.Sprintf("%s%v", o.op, sh)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s panicked: %v", name, r)
					}
				}()
				out, err := tryOp(o.op, o.ver, o.attrs, 2, in...)
				if err != nil {
					return
				}
				for i, y := range out {
					if y != nil {
						if verr := y.Validate(); verr != nil {
							t.Errorf("%s output %d invalid: %v", name, i, verr)
						}
					}
				}
			}()
		}
	}
}
