package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
)

// poolThreads is how many goroutines parallelFor splits work over.
var poolThreads atomic.Int32

func init() { poolThreads.Store(int32(runtime.GOMAXPROCS(0))) }

// setPoolThreads sets the worker count of parallelFor and of the GEMM.
func setPoolThreads(n int) {
	poolThreads.Store(int32(n))
	gemm.SetThreads(n)
}

// Threads returns the current worker count of the CPU kernels.
func Threads() int { return int(poolThreads.Load()) }

// parallelFor runs fn over [0,n) split into contiguous chunks, one per
// worker, when n*costPerItem is large enough to pay for the goroutines.
// costPerItem is a rough count of flops (or bytes) per item.
func parallelFor(n int, costPerItem int, fn func(lo, hi int)) {
	workers := int(poolThreads.Load())
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*costPerItem < 1<<15 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first any
	chunk := (n + workers - 1) / workers
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic on a worker would end the program past every recover
			// of the caller: carry it back to the waiting goroutine.
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					if first == nil {
						first = r
					}
					mu.Unlock()
				}
			}()
			fn(lo, hi)
		}()
	}
	fn(0, min(chunk, n))
	wg.Wait()
	if first != nil {
		panic(first)
	}
}
