package gemm

import (
	"fmt"

	"github.com/keenml/keen/backends/cpu/internal/workers"
)

// group runs functions on the CPU backend's persistent workers and
// re-raises, in the goroutine that waits, the first panic any of them
// raised: a panic on a worker would otherwise end the whole program, past
// every recover of the caller. Functions no worker has started by Wait run
// on the waiting goroutine.
type group struct {
	tasks []*workers.Task
}

func (g *group) Go(fn func()) {
	workers.Start(Threads() - 1)
	g.tasks = append(g.tasks, workers.Submit(1, 1, func(int) { fn() }))
}

// Wait waits for every function and re-panics with the first panic.
func (g *group) Wait() {
	var first any
	for _, t := range g.tasks {
		if p := t.Wait(); p != nil && first == nil {
			first = p
		}
	}
	if first != nil {
		panic(fmt.Errorf("gemm worker: %v", first))
	}
}

// deal runs fn(0), ..., fn(n-1) on the caller and up to n-1 workers, each
// share taken by whoever is free (the caller never waits on a share no
// worker has started), and re-panics with the first panic.
func deal(n int, fn func(i int)) {
	workers.Start(Threads() - 1)
	if p := workers.Submit(n, n-1, fn).Wait(); p != nil {
		panic(fmt.Errorf("gemm worker: %v", p))
	}
}
