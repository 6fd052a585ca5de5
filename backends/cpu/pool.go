package cpu

import (
	"runtime"
	"sync/atomic"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/workers"
)

// poolThreads is how many goroutines parallelFor splits work over.
var poolThreads atomic.Int32

func init() { setPoolThreads(runtime.GOMAXPROCS(0)) }

// setPoolThreads sets the worker count of parallelFor and of the GEMM; both
// run on the persistent workers of package workers (n-1 of them beside the
// calling goroutine).
func setPoolThreads(n int) {
	poolThreads.Store(int32(n))
	workers.Start(n - 1)
	gemm.SetThreads(n)
}

// Threads returns the current worker count of the CPU kernels.
func Threads() int { return int(poolThreads.Load()) }

// parallelFor runs fn over [0,n) split into contiguous chunks, one per
// worker, when n*costPerItem is large enough to pay for the hand-off.
// costPerItem is a rough count of flops (or bytes) per item. A panic in a
// chunk is re-raised on the calling goroutine.
func parallelFor(n int, costPerItem int, fn func(lo, hi int)) {
	nw := int(poolThreads.Load())
	if nw > n {
		nw = n
	}
	if nw <= 1 || n*costPerItem < 1<<15 {
		fn(0, n)
		return
	}
	// Four chunks per worker: a worker that wakes late still finds some.
	chunk := (n + 4*nw - 1) / (4 * nw)
	chunks := (n + chunk - 1) / chunk
	workers.Run(chunks, nw-1, func(i int) {
		lo := i * chunk
		fn(lo, min(lo+chunk, n))
	})
}
