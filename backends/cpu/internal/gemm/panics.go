package gemm

import (
	"fmt"
	"sync"
)

// group runs functions on goroutines and re-raises, in the goroutine that
// waits, the first panic any of them raised: a panic on a worker would
// otherwise end the whole program, past every recover of the caller.
type group struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first any
}

func (g *group) Go(fn func()) {
	g.wg.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				g.mu.Lock()
				if g.first == nil {
					g.first = fmt.Errorf("gemm worker: %v", r)
				}
				g.mu.Unlock()
			}
		}()
		fn()
	})
}

// Wait waits for every function and re-panics with the first panic.
func (g *group) Wait() {
	g.wg.Wait()
	if g.first != nil {
		panic(g.first)
	}
}
