package workers

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRunCoversEveryChunkOnce(t *testing.T) {
	Start(3)
	for _, n := range []int{1, 2, 3, 7, 64} {
		for _, helpers := range []int{0, 1, 3} {
			hits := make([]atomic.Int32, n)
			Run(n, helpers, func(i int) { hits[i].Add(1) })
			for i := range hits {
				if got := hits[i].Load(); got != 1 {
					t.Fatalf("n=%d helpers=%d: chunk %d ran %d times", n, helpers, i, got)
				}
			}
		}
	}
}

func TestRunNested(t *testing.T) {
	Start(2)
	var sum atomic.Int64
	Run(4, 2, func(i int) {
		Run(5, 2, func(j int) { sum.Add(int64(i*10 + j)) })
	})
	// sum over i<4, j<5 of 10i+j = 10*6*5 + 4*10 = 340
	if got := sum.Load(); got != 340 {
		t.Fatalf("nested sum = %d, want 340", got)
	}
}

func TestRunCarriesPanic(t *testing.T) {
	Start(2)
	var ran atomic.Int32
	defer func() {
		r := recover()
		s, _ := r.(string)
		if !strings.Contains(s, "chunk 3") {
			t.Fatalf("recovered %v, want the panic of chunk 3", r)
		}
		if ran.Load() != 8 {
			t.Fatalf("%d chunks ended before the panic was raised, want all 8", ran.Load())
		}
	}()
	Run(8, 2, func(i int) {
		defer ran.Add(1)
		if i == 3 {
			panic("chunk 3")
		}
	})
}

// TestCallerTakesFront: the caller takes chunks from the front, in order,
// and a worker from the back, so with one worker busy on the last chunk the
// caller runs the first ones ascending.
func TestCallerTakesFront(t *testing.T) {
	Start(1)
	const n = 8
	var order []int
	var ran atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	task := Submit(n, 1, func(i int) {
		if i == n-1 { // the worker's first chunk: hold it until the caller is done
			close(started)
			<-release
			return
		}
		order = append(order, i) // only the caller appends while the worker waits
		ran.Add(1)
	})
	<-started
	go func() {
		for ran.Load() < n-1 {
			runtime.Gosched()
		}
		close(release)
	}()
	if p := task.Wait(); p != nil {
		t.Fatal(p)
	}
	for k, i := range order {
		if i != k {
			t.Fatalf("caller ran chunks %v, want 0..%d in order", order, n-2)
		}
	}
}
