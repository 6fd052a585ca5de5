package gemm

import (
	"fmt"
	"testing"
)

// TestTranspose checks every element of a transpose, kernel blocks and Go
// edges, and that nothing past the matrix in dst is written.
func TestTranspose(t *testing.T) {
	for _, c := range [][4]int{{1, 1, 1, 1}, {8, 8, 8, 8}, {17, 23, 30, 20}, {64, 49, 64, 64}, {16, 56, 70, 16}, {5, 40, 40, 9}} {
		rows, cols, lds, ldd := c[0], c[1], c[2], c[3]
		t.Run(fmt.Sprintf("%dx%d", rows, cols), func(t *testing.T) {
			src := make([]float32, (rows-1)*lds+cols)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, (cols-1)*ldd+rows+8)
			for i := range dst {
				dst[i] = -1
			}
			Transpose(dst, ldd, src, lds, rows, cols)
			for q := range cols {
				for i := range ldd {
					at := q*ldd + i
					if at >= len(dst) {
						break
					}
					want := float32(-1)
					if i < rows {
						want = src[i*lds+q]
					}
					if dst[at] != want {
						t.Fatalf("dst[%d][%d] = %g, want %g", q, i, dst[at], want)
					}
				}
			}
		})
	}
}

// BenchmarkTranspose is the Winograd input stage's transpose of one row
// of a 64-channel 56² image (channels × positions into positions ×
// channels), over the whole image.
func BenchmarkTranspose(b *testing.B) {
	const c, h, w = 64, 56, 56
	src := make([]float32, c*h*w)
	dst := make([]float32, h*w*c)
	for b.Loop() {
		for r := range h {
			Transpose(dst[r*w*c:], c, src[r*w:], h*w, c, w)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c*h*w), "ns/elem")
}
