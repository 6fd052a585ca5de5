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
				for b.Loop() {
					im.packA(dst, &p, 0, mb, 0, kb)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mb*kb), "ns/elem")
			})
			b.Run(fmt.Sprintf("%s/B/trans=%v", im.name, trans), func(b *testing.B) {
				for b.Loop() {
					im.packB(dst, &p, 0, kb, 0, 256)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*256*kb), "ns/elem")
			})
		}
	}
}
