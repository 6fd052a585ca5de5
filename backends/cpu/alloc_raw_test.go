package cpu

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/keenml/keen/ir"
)

// rawCase is an op whose output comes from newTensorRaw or rawSlice.
type rawCase struct {
	name   string
	domain string
	op     string
	attrs  ir.Attrs
	nout   int
	in     []*ir.Tensor
}

// rawRand is a tensor of dt (float32 or float64) with values in [-2, 2).
func rawRand(r *rand.Rand, dt ir.DType, shape ...int) *ir.Tensor {
	t := ir.Zeros(dt, shape...)
	for i := 0; i < t.Len(); i++ {
		v := 4*r.Float64() - 2
		if f, ok := t.Data.([]float32); ok {
			f[i] = float32(v)
		} else {
			t.Data.([]float64)[i] = v
		}
	}
	return t
}

func rawCases(r *rand.Rand) []rawCase {
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	var cs []rawCase
	for _, dt := range []ir.DType{ir.Float32, ir.Float64} {
		x := rawRand(r, dt, 2, 6, 9, 9)
		conv := func(name string, w *ir.Tensor, attrs ...ir.Attr) {
			cs = append(cs, rawCase{dt.String() + " Conv " + name, "", "Conv", attrs, 1, []*ir.Tensor{x, w, rawRand(r, dt, w.Shape[0])}})
			cs = append(cs, rawCase{dt.String() + " Conv nobias " + name, "", "Conv", attrs, 1, []*ir.Tensor{x, w}})
		}
		conv("3x3 pad", rawRand(r, dt, 8, 6, 3, 3), ints("pads", 1, 1, 1, 1))
		conv("1x1", rawRand(r, dt, 8, 6, 1, 1))
		conv("3x3 stride 2", rawRand(r, dt, 4, 6, 3, 3), ints("strides", 2, 2))
		conv("depthwise", rawRand(r, dt, 6, 1, 3, 3), ir.IntAttr("group", 6), ints("pads", 1, 1, 1, 1))
		conv("depthwise stride 2", rawRand(r, dt, 6, 1, 3, 3), ir.IntAttr("group", 6), ints("strides", 2, 2))
		conv("grouped", rawRand(r, dt, 4, 3, 3, 3), ir.IntAttr("group", 2))
		conv("wide (tiny output)", rawRand(r, dt, 5, 6, 8, 8))
		if dt == ir.Float32 {
			fused := func(name string, w *ir.Tensor, attrs ...ir.Attr) {
				z := rawRand(r, dt, 2, w.Shape[0], 9-w.Shape[2]+1+2, 9-w.Shape[3]+1+2)
				lo, hi := ir.Scalar(float32(0)), ir.Scalar(float32(1))
				relu := append([]ir.Attr{ir.StringAttr("activation", "Relu")}, attrs...)
				clip := append([]ir.Attr{ir.StringAttr("activation", "Clip")}, attrs...)
				cs = append(cs,
					rawCase{"FusedConv Relu " + name, keenDomain, "FusedConv", relu, 1, []*ir.Tensor{x, w, rawRand(r, dt, w.Shape[0])}},
					rawCase{"FusedConv Clip " + name, keenDomain, "FusedConv", clip, 1, []*ir.Tensor{x, w, nil, nil, lo, hi}},
					rawCase{"FusedConv Relu residual " + name, keenDomain, "FusedConv", relu, 1, []*ir.Tensor{x, w, nil, z}})
			}
			fused("3x3 pad", rawRand(r, dt, 8, 6, 3, 3), ints("pads", 1, 1, 1, 1))
			fused("1x1 pad", rawRand(r, dt, 8, 6, 1, 1), ints("pads", 1, 1, 1, 1))
			fused("depthwise", rawRand(r, dt, 6, 1, 3, 3), ir.IntAttr("group", 6), ints("pads", 1, 1, 1, 1))
		}
		cs = append(cs,
			rawCase{dt.String() + " MatMul", "", "MatMul", nil, 1, []*ir.Tensor{rawRand(r, dt, 3, 7, 5), rawRand(r, dt, 5, 4)}},
			rawCase{dt.String() + " Gemm C", "", "Gemm", ir.Attrs{ir.FloatAttr("beta", 0.5)}, 1, []*ir.Tensor{rawRand(r, dt, 7, 5), rawRand(r, dt, 5, 4), rawRand(r, dt, 4)}},
			rawCase{dt.String() + " Gemm", "", "Gemm", ir.Attrs{ir.IntAttr("transB", 1)}, 1, []*ir.Tensor{rawRand(r, dt, 7, 5), rawRand(r, dt, 4, 5)}},
			rawCase{dt.String() + " MaxPool 2x2", "", "MaxPool", ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " MaxPool 3x3 pad", "", "MaxPool", ir.Attrs{ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " AveragePool", "", "AveragePool", ir.Attrs{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " LpPool", "", "LpPool", ir.Attrs{ints("kernel_shape", 2, 3)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " GlobalAveragePool", "", "GlobalAveragePool", nil, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " GlobalMaxPool", "", "GlobalMaxPool", nil, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " BatchNormalization", "", "BatchNormalization", nil, 1, []*ir.Tensor{x,
				rawRand(r, dt, 6), rawRand(r, dt, 6), rawRand(r, dt, 6), ir.FromSlice(make([]float32, 6), 6)}},
			rawCase{dt.String() + " Softmax", "", "Softmax", nil, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " Softmax axis 1", "", "Softmax", ir.Attrs{ir.IntAttr("axis", 1)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " ReduceMean", "", "ReduceMean", ir.Attrs{ints("axes", 2, 3)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " ReduceMax", "", "ReduceMax", ir.Attrs{ints("axes", 1), ir.IntAttr("keepdims", 0)}, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " ReduceSumSquare", "", "ReduceSumSquare", nil, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " Concat", "", "Concat", ir.Attrs{ir.IntAttr("axis", 1)}, 1, []*ir.Tensor{x, rawRand(r, dt, 2, 3, 9, 9)}},
			rawCase{dt.String() + " Add broadcast", "", "Add", nil, 1, []*ir.Tensor{x, rawRand(r, dt, 6, 1, 1)}},
			rawCase{dt.String() + " Relu", "", "Relu", nil, 1, []*ir.Tensor{x}},
			rawCase{dt.String() + " Mean", "", "Mean", nil, 1, []*ir.Tensor{x, x}},
		)
		cond := ir.Zeros(ir.Bool, 9, 9)
		for i := range cond.Data.([]bool) {
			cond.Data.([]bool)[i] = r.IntN(2) == 0
		}
		cs = append(cs, rawCase{dt.String() + " Where", "", "Where", nil, 1, []*ir.Tensor{cond, x, rawRand(r, dt, 6, 1, 1)}})
	}
	// Winograd's geometry: 3x3, unit stride, 16+ channels, enough tiles.
	xw, ww := rawRand(r, ir.Float32, 1, 16, 32, 32), rawRand(r, ir.Float32, 16, 16, 3, 3)
	zw := rawRand(r, ir.Float32, 1, 16, 32, 32)
	pad := ir.IntsAttr("pads", 1, 1, 1, 1)
	cs = append(cs,
		rawCase{"float32 Conv Winograd", "", "Conv", ir.Attrs{pad}, 1, []*ir.Tensor{xw, ww, rawRand(r, ir.Float32, 16)}},
		rawCase{"FusedConv Winograd Relu residual", keenDomain, "FusedConv", ir.Attrs{pad, ir.StringAttr("activation", "Relu")}, 1, []*ir.Tensor{xw, ww, nil, zw}},
		rawCase{"FusedConv Winograd Clip", keenDomain, "FusedConv", ir.Attrs{pad, ir.StringAttr("activation", "Clip")}, 1,
			[]*ir.Tensor{xw, ww, nil, nil, ir.Scalar(float32(0)), ir.Scalar(float32(1))}})
	// BatchNormalization's scale etc. must share X's dtype: fix the f64 case.
	for i := range cs {
		if cs[i].op == "BatchNormalization" && cs[i].in[0].DType == ir.Float64 {
			cs[i].in[4] = rawRand(r, ir.Float64, 6)
			for j, v := range cs[i].in[4].Data.([]float64) {
				cs[i].in[4].Data.([]float64)[j] = v*v + 0.5
			}
		}
		if cs[i].op == "BatchNormalization" && cs[i].in[0].DType == ir.Float32 {
			cs[i].in[4] = rawRand(r, ir.Float32, 6)
			for j, v := range cs[i].in[4].Data.([]float32) {
				cs[i].in[4].Data.([]float32)[j] = v*v + 0.5
			}
		}
	}
	return cs
}

func rawRun(c rawCase) ([]*ir.Tensor, error) {
	if c.domain != "" {
		return tryOp2(c.domain, c.op, 1, c.attrs, c.nout, c.in...)
	}
	return tryOp(c.op, 21, c.attrs, c.nout, c.in...)
}

// TestRawOutputsFullyWritten runs each kernel that takes an uninitialized
// output with that output poisoned (NaN) and plain: the results must be
// identical, or the kernel left elements unwritten.
func TestRawOutputsFullyWritten(t *testing.T) {
	old := poisonRaw
	defer func() { poisonRaw = old }()
	for _, c := range rawCases(rand.New(rand.NewPCG(5, 6))) {
		poisonRaw = false
		// Twice: some kernels change path on a second call with the same
		// weights (Winograd transforms them then).
		want, err := rawRun(c)
		if err == nil {
			want, err = rawRun(c)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		poisonRaw = true
		got, err := rawRun(c)
		if err != nil {
			t.Fatalf("%s (poisoned): %v", c.name, err)
		}
		for i := range want {
			if !reflect.DeepEqual(got[i].Data, want[i].Data) {
				t.Errorf("%s: output %d differs when the output buffer starts poisoned (NaN): some elements are not written", c.name, i)
			}
		}
	}
}
