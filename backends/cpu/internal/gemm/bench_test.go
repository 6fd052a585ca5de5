package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchShapes = []shape{
	{64, 64, 64}, {256, 256, 256}, {1024, 1024, 1024},
	{64, 3136, 576},  // ResNet conv 3x3, 64 channels, 56x56, as GEMM
	{512, 49, 4608},  // ResNet conv 3x3, 512 channels, 7x7, as GEMM
	{128, 784, 1152}, // ResNet conv 3x3, 128 channels, 28x28
	{1, 4096, 1024},  // batch-1 fully connected layer (the vector path)
}

func benchOne(b *testing.B, im *impl, nt int, s shape) {
	r := rand.New(rand.NewPCG(7, 8))
	a := newMatrix(r, s.m, s.k, 0, 0)
	bm := newMatrix(r, s.k, s.n, 0, 0)
	c := make([]float32, s.m*s.n)
	p := problem{m: s.m, n: s.n, k: s.k, alpha: 1, a: a.data, lda: s.k, b: bm.data, ldb: s.n, c: c, ldc: s.n}
	c0 := cpuSeconds()
	for b.Loop() {
		q := p
		im.sgemm(&q, nt)
	}
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(flops/cpu/1e9, "GFLOP/s/core")
	}
}

// BenchmarkSgemm measures every implementation on 1 and 2 threads (the
// plain Go one only on the small shapes).
func BenchmarkSgemm(b *testing.B) {
	for _, im := range impls {
		for _, nt := range []int{1, 2} {
			for _, s := range benchShapes {
				if im == genericImpl && s.m*s.n*s.k > 1<<25 {
					continue
				}
				b.Run(fmt.Sprintf("%s/t%d/%dx%dx%d", im.name, nt, s.m, s.n, s.k), func(b *testing.B) {
					benchOne(b, im, nt, s)
				})
			}
		}
	}
}

// BenchmarkSgemmSmall compares 1 and 2 threads on small cubes with the
// parallel threshold off, to place parallelMin.
func BenchmarkSgemmSmall(b *testing.B) {
	saved := parallelMin
	defer func() { parallelMin = saved }()
	parallelMin = 1
	for _, d := range []int{24, 32, 48, 64, 80, 96, 128} {
		for _, nt := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d/%d", impls[0].name, nt, d), func(b *testing.B) {
				benchOne(b, impls[0], nt, shape{d, d, d})
			})
		}
	}
}

// BenchmarkKernel is the micro-kernel alone on cache-resident panels: the
// ceiling the blocked loops can reach.
func BenchmarkKernel(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			const k = 256
			ap := make([]float32, im.mr*k)
			bp := make([]float32, im.nr*k)
			c := make([]float32, im.mr*im.nr)
			for b.Loop() {
				im.kernel(k, ap, bp, c, im.nr, true)
			}
			b.ReportMetric(2*float64(im.mr*im.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkUnpackedA compares reading a row-major A in place with packing
// it, on one thread, for the best implementation.
func BenchmarkUnpackedA(b *testing.B) {
	saved := useUnpackedA
	defer func() { useUnpackedA = saved }()
	for _, s := range benchShapes[1:6] {
		for _, unpacked := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%dx%d/unpacked=%v", s.m, s.n, s.k, unpacked), func(b *testing.B) {
				useUnpackedA = unpacked
				benchOne(b, impls[0], 1, s)
			})
		}
	}
}
