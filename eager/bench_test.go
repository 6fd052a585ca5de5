package eager_test

import (
	"testing"

	"github.com/keenml/keen/eager"
)

// BenchmarkDispatchAdd8 measures eager dispatch of a small op: an Add of
// 8 floats through the prepared-kernel cache (target: well under 1 µs).
func BenchmarkDispatchAdd8(b *testing.B) {
	x := eager.New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 8)
	y := eager.New([]float32{8, 7, 6, 5, 4, 3, 2, 1}, 8)
	b.ReportAllocs()
	for b.Loop() {
		eager.Add(x, y)
	}
}

// BenchmarkDispatchAdd8Taped is the same under an active tape.
func BenchmarkDispatchAdd8Taped(b *testing.B) {
	x := eager.New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 8)
	y := eager.New([]float32{8, 7, 6, 5, 4, 3, 2, 1}, 8)
	tape := eager.NewTape()
	defer tape.Stop()
	b.ReportAllocs()
	for b.Loop() {
		eager.Add(x, y)
	}
}
