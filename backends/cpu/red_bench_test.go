package cpu

import (
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// redBench prepares op once and times its kernel on in.
func redBench(b *testing.B, op string, version int, attrs ir.Attrs, in ...*ir.Tensor) {
	spec := &backends.OpSpec{Op: op, Version: version, Attrs: attrs, NumOutputs: 1}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(in[0].Len() * 4))
	for b.Loop() {
		if _, err := k.Run(bufs); err != nil {
			b.Fatal(err)
		}
	}
}

func redBenchInput(rows, cols int) *ir.Tensor {
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32(i%17) * 0.25
	}
	return ir.FromSlice(v, rows, cols)
}

func BenchmarkReduceSumLastAxis(b *testing.B) {
	redBench(b, "ReduceSum", 13, nil, redBenchInput(1024, 1024), ir.FromSlice([]int64{1}, 1))
}

func BenchmarkReduceSumFirstAxis(b *testing.B) {
	redBench(b, "ReduceSum", 13, nil, redBenchInput(1024, 1024), ir.FromSlice([]int64{0}, 1))
}

func BenchmarkSoftmaxLastAxis(b *testing.B) {
	redBench(b, "Softmax", 13, nil, redBenchInput(1024, 1024))
}

func BenchmarkLayerNorm(b *testing.B) {
	scale := ir.FromSlice(make([]float32, 1024), 1024)
	redBench(b, "LayerNormalization", 17, nil, redBenchInput(1024, 1024), scale)
}

func BenchmarkTopK(b *testing.B) {
	redBench(b, "TopK", 11, nil, redBenchInput(64, 16384), ir.FromSlice([]int64{10}, 1))
}

func BenchmarkLogSoftmaxLastAxis(b *testing.B) {
	redBench(b, "LogSoftmax", 13, nil, redBenchInput(1024, 1024))
}

func BenchmarkSoftmaxFirstAxis(b *testing.B) {
	redBench(b, "Softmax", 13, ir.Attrs{ir.IntAttr("axis", 0)}, redBenchInput(1024, 1024))
}

// BenchmarkSoftmaxCausal has the upper triangle at -1e9, as a causal mask
// leaves attention scores.
func BenchmarkSoftmaxCausal(b *testing.B) {
	x := redBenchInput(1024, 1024)
	v := x.Data.([]float32)
	for i := range 1024 {
		for j := i + 1; j < 1024; j++ {
			v[i*1024+j] = -1e9
		}
	}
	redBench(b, "Softmax", 13, nil, x)
}
