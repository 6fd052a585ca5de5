package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// convBench prepares op once and runs it b.N times, reporting GFLOP/s and
// GFLOP/s per busy core (CPU time, steadier on a shared machine).
func convBench(b *testing.B, op string, attrs ir.Attrs, flops int64, in ...*ir.Tensor) {
	// As many threads as -cpu gives (the pool's default is the machine's).
	defer setPoolThreads(Threads())
	if Threads() > runtime.GOMAXPROCS(0) {
		setPoolThreads(runtime.GOMAXPROCS(0))
	}
	be := New()
	spec := &backends.OpSpec{Op: op, Version: 22, Attrs: attrs, NumOutputs: 1}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := be.Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	c0 := cpuSeconds()
	for b.Loop() {
		outs, err := k.Run(bufs)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs { // back to the pool, as a model's executor does
			be.Release(o)
		}
	}
	total := float64(flops) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(total/cpu/1e9, "GFLOP/s/core")
	}
}

func convBenchConv(b *testing.B, xs, ws []int, attrs ir.Attrs, outHW int) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convRandT(r, xs...)
	w, _ := convRandT(r, ws...)
	flops := int64(2 * xs[0] * ws[0] * outHW * ir.Size(ws[1:]))
	convBench(b, "Conv", attrs, flops, x, w)
}

func BenchmarkConv3x3(b *testing.B) {
	convBenchConv(b, []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 56*56)
}

func BenchmarkConvPointwise(b *testing.B) {
	convBenchConv(b, []int{1, 64, 56, 56}, []int{256, 64, 1, 1}, nil, 56*56)
}

func BenchmarkConvDepthwise(b *testing.B) {
	convBenchConv(b, []int{1, 128, 56, 56}, []int{128, 1, 3, 3},
		ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntAttr("group", 128)}, 56*56)
}

func BenchmarkConvDepthwiseStride2(b *testing.B) {
	convBenchConv(b, []int{1, 96, 112, 112}, []int{96, 1, 3, 3},
		ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2), ir.IntAttr("group", 96)}, 56*56)
}

func BenchmarkConvStem7x7(b *testing.B) {
	convBenchConv(b, []int{1, 3, 224, 224}, []int{64, 3, 7, 7},
		ir.Attrs{ir.IntsAttr("pads", 3, 3, 3, 3), ir.IntsAttr("strides", 2, 2)}, 112*112)
}

func BenchmarkConvSmallBatch(b *testing.B) {
	convBenchConv(b, []int{64, 16, 28, 28}, []int{32, 16, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 28*28)
}

func BenchmarkMaxPool3x3s2(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convRandT(r, 1, 64, 112, 112)
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}
	convBench(b, "MaxPool", attrs, int64(64*56*56*9), x)
}

func BenchmarkMatMulBatched(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convRandT(r, 8, 12, 64, 64)
	y, _ := convRandT(r, 8, 12, 64, 64)
	convBench(b, "MatMul", nil, int64(2*8*12*64*64*64), x, y)
}

// BenchmarkConvImplicit compares explicit im2col, implicit GEMM with
// per-row bounds and implicit GEMM over padded planes on the 3x3
// convolutions of ResNet-18 (batch 1).
func BenchmarkConvImplicit(b *testing.B) {
	for _, s := range []struct{ c, hw, stride int }{{64, 56, 1}, {128, 28, 1}, {256, 14, 1}, {512, 7, 1}, {64, 56, 2}} {
		out := s.hw / s.stride
		for _, mode := range []string{"explicit", "implicit", "padded"} {
			b.Run(fmt.Sprintf("c%d_hw%d_s%d/%s", s.c, s.hw, s.stride, mode), func(b *testing.B) {
				saved, savedMin, savedPad := convImplicit, convImplicitMin, convPadded
				convImplicit, convImplicitMin, convPadded = mode != "explicit", 0, mode == "padded"
				defer func() { convImplicit, convImplicitMin, convPadded = saved, savedMin, savedPad }()
				convBenchConv(b, []int{1, s.c, s.hw, s.hw}, []int{s.c, s.c, 3, 3},
					ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", int64(s.stride), int64(s.stride))}, out*out)
			})
		}
	}
}

// BenchmarkMaxPoolStem is ResNet's 3x3 stride-2 pool over the stem's output.
func BenchmarkMaxPoolStem(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convRandT(r, 1, 64, 112, 112)
	convBench(b, "MaxPool", ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2),
		ir.IntsAttr("pads", 1, 1, 1, 1)}, 64*56*56*9, x)
}
