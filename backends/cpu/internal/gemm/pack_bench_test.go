package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkPack reports the packing cost per element, the overhead the
// blocked loops add to the micro-kernel.
func BenchmarkPack(b *testing.B) {
	for _, im := range impls[:1] {
		for _, trans := range []bool{false, true} {
			const kb, mb, nb = 256, 144, 3136
			a := make([]float32, 1024*1024)
			p := problem{transA: trans, transB: trans, m: 1024, n: 1024, k: 1024, alpha: 1, a: a, lda: 3136, b: a, ldb: 3136}
			dst := make([]float32, kb*(nb+64))
			b.Run(fmt.Sprintf("%s/A/trans=%v", im.name, trans), func(b *testing.B) {
				c0 := cpuSeconds()
				for b.Loop() {
					im.packA(dst, &p, 0, mb, 0, kb)
				}
				reportPack(b, c0, mb*kb)
			})
			b.Run(fmt.Sprintf("%s/B/trans=%v", im.name, trans), func(b *testing.B) {
				c0 := cpuSeconds()
				for b.Loop() {
					im.packB(dst, &p, 0, kb, 0, 256)
				}
				reportPack(b, c0, 256*kb)
			})
		}
	}
}

// reportPack reports ns per packed element, in wall time and, where
// measured, CPU time.
func reportPack(b *testing.B, c0 float64, elems int) {
	n := float64(b.N * elems)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/elem")
	if cpu := cpuSeconds() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(cpu*1e9/n, "cpu-ns/elem")
	}
}
