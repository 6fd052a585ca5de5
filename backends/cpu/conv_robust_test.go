package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

// convRobustCases is how many random cases TestConvOpsNeverPanic tries.
const convRobustCases = 3000

// convRandInput is a random tensor of dtype dt and rank rk, dims 0..4.
func convRandInput(r *rand.Rand, dt ir.DType, rk int) *ir.Tensor {
	shape := make([]int, rk)
	for d := range shape {
		shape[d] = r.IntN(5)
	}
	x := ir.Zeros(dt, shape...)
	for k := 0; k < x.Len(); k++ {
		switch v := x.Data.(type) {
		case []float32:
			v[k] = float32(r.NormFloat64() * 3)
		case []int64:
			v[k] = int64(r.IntN(40) - 5)
		case []int8:
			v[k] = int8(r.IntN(256) - 128)
		case []uint8:
			v[k] = uint8(r.IntN(256))
		case []int32:
			v[k] = int32(r.IntN(100) - 50)
		}
	}
	return x
}

// convRandAttrs draws each window/quantization attribute with probability
// 1/dense, for sp spatial dims (values often out of range on purpose).
func convRandAttrs(r *rand.Rand, sp, dense int) ir.Attrs {
	ints := func(n, lo, hi int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(lo + r.IntN(hi-lo+1))
		}
		return v
	}
	all := []ir.Attr{
		ir.IntsAttr("kernel_shape", ints(sp, 0, 3)...),
		ir.IntsAttr("strides", ints(sp, 0, 3)...),
		ir.IntsAttr("dilations", ints(sp, 0, 3)...),
		ir.IntsAttr("pads", ints(2*sp, -1, 3)...),
		ir.IntAttr("group", int64(r.IntN(4))),
		ir.StringAttr("auto_pad", []string{"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"}[r.IntN(4)]),
		ir.IntAttr("ceil_mode", int64(r.IntN(2))),
		ir.IntAttr("axis", int64(r.IntN(7)-3)),
		ir.IntAttr("block_size", int64(r.IntN(4))),
		ir.IntsAttr("output_shape", ints(sp, 0, 6)...),
		ir.IntsAttr("output_padding", ints(sp, 0, 2)...),
		ir.IntsAttr("pooled_shape", ints(2, 0, 3)...),
		ir.IntAttr("transA", int64(r.IntN(2))),
		ir.IntAttr("transB", int64(r.IntN(2))),
		ir.IntAttr("storage_order", int64(r.IntN(2))),
		ir.IntAttr("offset_group", int64(r.IntN(3))),
	}
	var attrs ir.Attrs
	for _, a := range all {
		if r.IntN(dense) == 0 {
			attrs = append(attrs, a)
		}
	}
	return attrs
}

// TestConvOpsNeverPanic feeds the conv family random shapes, attributes and
// values (mostly invalid) and requires an error or a result, never a panic.
func TestConvOpsNeverPanic(t *testing.T) {
	f, i8, u8, i64, i32 := ir.Float32, ir.Int8, ir.Uint8, ir.Int64, ir.Int32
	ops := []struct {
		op     string
		inputs []ir.DType // from index 2 on, each may be left out
	}{
		{"MatMul", []ir.DType{f, f}},
		{"Gemm", []ir.DType{f, f, f}},
		{"Conv", []ir.DType{f, f, f}},
		{"ConvTranspose", []ir.DType{f, f, f}},
		{"MaxPool", []ir.DType{f}},
		{"AveragePool", []ir.DType{f}},
		{"LpPool", []ir.DType{f}},
		{"GlobalAveragePool", []ir.DType{f}},
		{"MaxUnpool", []ir.DType{f, i64, i64}},
		{"MaxRoiPool", []ir.DType{f, f}},
		{"RoiAlign", []ir.DType{f, f, i64}},
		{"DeformConv", []ir.DType{f, f, f, f, f}},
		{"QuantizeLinear", []ir.DType{f, f, u8}},
		{"DequantizeLinear", []ir.DType{i8, f, i8}},
		{"ConvInteger", []ir.DType{u8, u8, u8, u8}},
		{"MatMulInteger", []ir.DType{i8, i8, i8, i8}},
		{"QLinearConv", []ir.DType{u8, f, u8, i8, f, i8, f, u8, i32}},
		{"QLinearMatMul", []ir.DType{u8, f, u8, u8, f, u8, f, u8}},
	}
	r := rand.New(rand.NewPCG(11, 12))
	ok := 0
	for iter := 0; iter < convRobustCases; iter++ {
		s := ops[iter%len(ops)]
		rank := 1 + r.IntN(4)
		var in []*ir.Tensor
		for j, dt := range s.inputs {
			switch {
			case j >= 2 && r.IntN(3) == 0:
				in = append(in, nil)
			case r.IntN(3) == 0:
				in = append(in, convRandInput(r, dt, r.IntN(5)))
			default:
				in = append(in, convRandInput(r, dt, rank))
			}
		}
		attrs := convRandAttrs(r, max(rank-2, 1+r.IntN(2)), 2+iter%4)
		func() {
			defer func() {
				if p := recover(); p != nil {
					var shapes []any
					for _, x := range in {
						if x != nil {
							shapes = append(shapes, x.Shape)
						} else {
							shapes = append(shapes, nil)
						}
					}
					t.Fatalf("%s panicked: %v\ninputs %v\nattrs %+v", s.op, p, shapes, attrs)
				}
			}()
			if _, err := tryOp(s.op, 22, attrs, 1+r.IntN(2), in...); err == nil {
				ok++
			}
		}()
	}
	t.Logf("%d of %d random cases ran without error", ok, convRobustCases)
}
