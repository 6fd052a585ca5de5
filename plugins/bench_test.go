package plugins

import (
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// benchAdds queues b.N small Adds (a chain, float32[4]) and syncs once:
// the sustained batched op rate.
func benchAdds(b *testing.B, dev backends.Backend) {
	add := prep(b, dev, "Add", 1, nil, ir.Float32, ir.Float32)
	one := upload(b, dev, ir.FromSlice([]float32{1, 2, 3, 4}, 4))
	acc := one
	b.ResetTimer()
	for range b.N {
		acc = run(b, add, acc, one)[0]
	}
	if err := dev.Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkBatchedAddPlugin(b *testing.B) { benchAdds(b, startTest(b, Options{})) }

// The batch size's effect: 128 and 2048 commands per batch (default 512).
func BenchmarkBatchedAddPlugin128(b *testing.B) { benchAdds(b, startTest(b, Options{BatchSize: 128})) }
func BenchmarkBatchedAddPlugin2048(b *testing.B) {
	benchAdds(b, startTest(b, Options{BatchSize: 2048}))
}

func BenchmarkBatchedAddInProcess(b *testing.B) { benchAdds(b, newTestBackend()) }

// BenchmarkRoundTrip is one Add and one read per iteration: the latency of
// a sync.
func BenchmarkRoundTrip(b *testing.B) {
	c := startTest(b, Options{})
	add := prep(b, c, "Add", 1, nil, ir.Float32, ir.Float32)
	one := upload(b, c, ir.FromSlice([]float32{1}, 1))
	b.ResetTimer()
	for range b.N {
		fetch(b, c, run(b, add, one, one)[0])
	}
}

// BenchmarkUpload64MiB moves 64 MiB to the plugin and back per iteration.
func BenchmarkUpload64MiB(b *testing.B) {
	for _, noShm := range []bool{false, true} {
		name := "shm"
		if noShm {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			c := startTest(b, Options{NoShm: noShm})
			x := ir.FromSlice(make([]float32, 16<<20), 16<<20)
			b.SetBytes(2 * 64 << 20)
			b.ResetTimer()
			for range b.N {
				fetch(b, c, upload(b, c, x))
			}
		})
	}
}
