package cpu

import (
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// benchKernel prepares op for the inputs' dtypes once and runs it b.N times.
func benchKernel(b *testing.B, op string, in ...*ir.Tensor) {
	spec := &backends.OpSpec{Op: op, Version: 14, NumOutputs: 1}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * in[0].Len()))
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.Run(bufs); err != nil {
			b.Fatal(err)
		}
	}
}

func benchF32(shape ...int) *ir.Tensor {
	t := ir.Zeros(ir.Float32, shape...)
	for i, d := 0, t.Data.([]float32); i < len(d); i++ {
		d[i] = float32(i%97) * 0.25
	}
	return t
}

func BenchmarkEwAddSmall(b *testing.B) { benchKernel(b, "Add", benchF32(16), benchF32(16)) }
func BenchmarkEwAddSame(b *testing.B) {
	benchKernel(b, "Add", benchF32(1024, 1024), benchF32(1024, 1024))
}
func BenchmarkEwAddScalar(b *testing.B) {
	benchKernel(b, "Add", benchF32(1024, 1024), benchF32())
}
func BenchmarkEwAddRow(b *testing.B) { benchKernel(b, "Add", benchF32(1024, 1024), benchF32(1024)) }
func BenchmarkEwAddCol(b *testing.B) { benchKernel(b, "Add", benchF32(1024, 1024), benchF32(1024, 1)) }
func BenchmarkEwAddTiny(b *testing.B) {
	benchKernel(b, "Add", benchF32(100000, 3), benchF32(3))
}
func BenchmarkEwRelu(b *testing.B)    { benchKernel(b, "Relu", benchF32(1024, 1024)) }
func BenchmarkEwSigmoid(b *testing.B) { benchKernel(b, "Sigmoid", benchF32(1024, 1024)) }

// BenchmarkEwAddNaive is the reference: a plain loop with per-element
// broadcast index arithmetic, for the same [1024,1024]+[1024] case.
func BenchmarkEwAddNaive(b *testing.B) {
	x, y := benchF32(1024, 1024), benchF32(1024)
	xs, ys := x.Data.([]float32), y.Data.([]float32)
	out := make([]float32, len(xs))
	sy := broadcastStrides(y.Shape, x.Shape)
	b.SetBytes(int64(4 * len(xs)))
	for b.Loop() {
		for i := range out {
			r, c := i/1024, i%1024
			out[i] = xs[i] + ys[r*sy[0]+c*sy[1]]
		}
	}
}

// The float32 transcendentals (vecmath kernels) on 1M floats.
func BenchmarkEwExp(b *testing.B)  { benchKernel(b, "Exp", benchF32(1024, 1024)) }
func BenchmarkEwTanh(b *testing.B) { benchKernel(b, "Tanh", benchF32(1024, 1024)) }
func BenchmarkEwGelu(b *testing.B) { redBench(b, "Gelu", 20, nil, benchF32(1024, 1024)) }
