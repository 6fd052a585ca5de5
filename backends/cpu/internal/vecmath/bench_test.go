package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The benchmarks run each kernel over 1M floats (4 MiB in, 4 MiB out; the
// unary ones over 4K too) for every implementation this machine supports
// and, as "go", the plain Go loop over the math package that the kernels
// replace. They report Gelem/s beside the MB/s of input.

const benchN = 1 << 20

func benchInput(scale float64) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchN)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// runBench times f over n elements; Gelem/s counts CPU time (steady on a
// shared machine), and wall time where that is not measured.
func runBench(b *testing.B, n int, f func()) {
	b.SetBytes(int64(4 * n))
	c0 := cpuSeconds()
	for b.Loop() {
		f()
	}
	secs := cpuSeconds() - c0
	if secs <= 0 {
		secs = b.Elapsed().Seconds()
	}
	b.ReportMetric(float64(n)*float64(b.N)/secs/1e9, "Gelem/s")
}

// benchUnary times a unary kernel on 4K floats (in L1: the arithmetic
// throughput) and on all of x (1M: bound by the caches and memory).
func benchUnary(b *testing.B, kernel func(im *impl) func(dst, x []float32), plain func(float32) float32, x []float32) {
	for _, n := range []int{4096, len(x)} {
		x := x[:n]
		dst := make([]float32, n)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%dK/%s", n>>10, im.name), func(b *testing.B) { runBench(b, n, func() { kernel(im)(dst, x) }) })
		}
		b.Run(fmt.Sprintf("%dK/go", n>>10), func(b *testing.B) {
			runBench(b, n, func() {
				for i, v := range x {
					dst[i] = plain(v)
				}
			})
		})
	}
}

func f64(f func(float64) float64) func(float32) float32 {
	return func(x float32) float32 { return float32(f(float64(x))) }
}

func BenchmarkExp(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.exp }, f64(math.Exp), benchInput(10))
}

func BenchmarkLog(b *testing.B) {
	x := benchInput(10)
	for i := range x {
		x[i] = float32(math.Abs(float64(x[i])))
	}
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.log }, f64(math.Log), x)
}

func BenchmarkTanh(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.tanh }, f64(math.Tanh), benchInput(3))
}

func BenchmarkSigmoid(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.sigmoid },
		f64(func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }), benchInput(3))
}

func BenchmarkSilu(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.silu },
		f64(func(x float64) float64 { return x / (1 + math.Exp(-x)) }), benchInput(3))
}

func BenchmarkErf(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.erf }, f64(math.Erf), benchInput(2))
}

func BenchmarkGelu(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.gelu },
		f64(func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }), benchInput(3))
}

func BenchmarkRelu(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) { return im.relu },
		func(x float32) float32 { return max(x, 0) }, benchInput(3))
}

func BenchmarkAdd(b *testing.B) {
	x, y, dst := benchInput(1), benchInput(2), make([]float32, benchN)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { runBench(b, benchN, func() { im.add(dst, x, y) }) })
	}
}

func BenchmarkAxpy(b *testing.B) {
	x, y := benchInput(1), benchInput(2)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { runBench(b, benchN, func() { im.axpy(1e-3, x, y) }) })
	}
}

var sink float32

func BenchmarkDot(b *testing.B) {
	x, y := benchInput(1), benchInput(2)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { runBench(b, benchN, func() { sink = im.dot(x, y) }) })
	}
}

func BenchmarkSum(b *testing.B) {
	x := benchInput(1)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { runBench(b, benchN, func() { sink = im.sum(x) }) })
		b.Run(im.name+"/f64acc", func(b *testing.B) { runBench(b, benchN, func() { sink = float32(im.sum64(x)) }) })
	}
	b.Run("go", func(b *testing.B) {
		runBench(b, benchN, func() {
			s := 0.0
			for _, v := range x {
				s += float64(v)
			}
			sink = float32(s)
		})
	})
}

func BenchmarkMax(b *testing.B) {
	x := benchInput(1)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { runBench(b, benchN, func() { sink = im.max(x) }) })
	}
}

// BenchmarkSoftmaxRow is 1024 rows of 1024; "go" is the float64 loop of
// the CPU backend before this package.
func BenchmarkSoftmaxRow(b *testing.B) {
	x := benchInput(3)
	y := make([]float32, len(x))
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			prev := cur
			cur = im
			defer func() { cur = prev }()
			runBench(b, benchN, func() {
				copy(y, x)
				for r := 0; r < benchN; r += 1024 {
					SoftmaxRow(y[r : r+1024])
				}
			})
		})
	}
	b.Run("go", func(b *testing.B) {
		col := make([]float64, 1024)
		runBench(b, benchN, func() {
			for r := 0; r < benchN; r += 1024 {
				m := math.Inf(-1)
				for j, v := range x[r : r+1024] {
					col[j] = float64(v)
					m = max(m, col[j])
				}
				s := 0.0
				for j, v := range col {
					col[j] = math.Exp(v - m)
					s += col[j]
				}
				for j, v := range col {
					y[r+j] = float32(v / s)
				}
			}
		})
	})
}

func BenchmarkClamp(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) {
		return func(dst, x []float32) { im.clamp(dst, x, 0, 6) }
	}, func(x float32) float32 { return min(max(x, 0), 6) }, benchInput(3))
}

func BenchmarkLeakyRelu(b *testing.B) {
	benchUnary(b, func(im *impl) func(dst, x []float32) {
		return func(dst, x []float32) { im.leakyRelu(dst, x, 0.1) }
	}, func(x float32) float32 {
		if x < 0 {
			return 0.1 * x
		}
		return x
	}, benchInput(3))
}
