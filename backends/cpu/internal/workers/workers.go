// Package workers keeps the CPU backend's worker goroutines alive between
// parallel sections. Starting a goroutine per section costs little by
// itself, but waking an idle OS thread for each one goes through the
// kernel (futex) every time; a worker that spins a few tens of
// microseconds after its last task is still running when the next section
// of an inference arrives.
//
// A section is cut into chunks; the caller takes them from the front and
// idle workers from the back of a shared range, so the caller finishes
// the section alone when the workers are busy or descheduled, and from
// one section to the next the caller keeps the low chunks and a worker
// the high ones: the same channels or rows, still in that core's cache
// (MobileNetV2 at 2 threads 4.67 -> 4.40 ms, ResNet-18 11.8 -> 11.5 ms). A panic in a chunk is carried
// back to the caller, which re-raises it once every chunk has ended.
package workers

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long an idle worker keeps polling for work before it
// parks, and how long a caller polls for its last chunks before it blocks.
// The serial stretches between an inference's parallel sections (an
// executor step, an Add, a cache check) last up to a few hundred
// microseconds; a worker parked in one costs a futex wake-up and a
// rescheduling delay at the next section, and a caller parked on a
// worker's last chunk the same. 1 ms covers them: ResNet-18 at 2 threads
// went from 18.8 to 16.9 ms (50 us: 18.8, 150 us: 17.6, 300 us: 17.2).
const spinFor = time.Millisecond

// Task is one parallel section: n chunks run by fn.
type Task struct {
	fn func(i int)
	n  int32
	// span packs the chunks not yet taken, [lo, hi): lo in the low 32
	// bits, hi in the high. The caller takes from the front, workers
	// from the back, so across consecutive sections the caller keeps the
	// low chunks (the same channels or rows, still in its core's cache)
	// and a worker the high ones, while the split still balances.
	span  atomic.Uint64
	done  atomic.Int32 // chunks finished
	wg    sync.WaitGroup
	mu    sync.Mutex
	first any // first panic of a chunk
}

// work runs chunks until none is left to take: from the front for the
// caller, from the back for a worker.
func (t *Task) work(back bool) {
	for {
		s := t.span.Load()
		lo, hi := uint32(s), uint32(s>>32)
		if lo >= hi {
			return
		}
		i := lo
		if back {
			hi--
			i = hi
		} else {
			lo++
		}
		if t.span.CompareAndSwap(s, uint64(hi)<<32|uint64(lo)) {
			t.runChunk(int(i))
		}
	}
}

func (t *Task) runChunk(i int) {
	defer func() {
		if r := recover(); r != nil {
			t.mu.Lock()
			if t.first == nil {
				t.first = r
			}
			t.mu.Unlock()
		}
		t.done.Add(1)
		t.wg.Done()
	}()
	t.fn(i)
}

// Wait takes the chunks no worker has taken, waits for the rest and
// returns the first panic value of a chunk (nil when none panicked).
func (t *Task) Wait() any {
	t.work(false)
	if t.done.Load() < t.n {
		start := time.Now()
		for spin := 1; t.done.Load() < t.n; spin++ {
			if spin%32 == 0 {
				if time.Since(start) > spinFor {
					t.wg.Wait()
					break
				}
				runtime.Gosched()
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

// queue holds help requests: a task appears once per worker asked to join.
var queue struct {
	mu       sync.Mutex
	cond     sync.Cond
	items    []*Task
	sleepers int
	workers  int
}

var queued atomic.Int32 // len(queue.items), read without the lock

func init() { queue.cond.L = &queue.mu }

var started atomic.Int32 // queue.workers, read without the lock

// Start makes sure n workers exist (they are never stopped; idle ones park).
func Start(n int) {
	if int(started.Load()) >= n {
		return
	}
	queue.mu.Lock()
	defer queue.mu.Unlock()
	for ; queue.workers < n; queue.workers++ {
		go worker()
	}
	started.Store(int32(queue.workers))
}

// Workers is the number of worker goroutines started.
func Workers() int { return int(started.Load()) }

// Submit starts a task of n chunks on up to helpers workers and returns it;
// the caller must call Wait, which also runs chunks.
func Submit(n, helpers int, fn func(i int)) *Task {
	t := &Task{fn: fn, n: int32(n)}
	t.span.Store(uint64(uint32(n)) << 32)
	t.wg.Add(n)
	helpers = min(helpers, n)
	if helpers > 0 {
		queue.mu.Lock()
		helpers = min(helpers, queue.workers)
		for range helpers {
			queue.items = append(queue.items, t)
		}
		queued.Add(int32(helpers))
		for i := 0; i < helpers && i < queue.sleepers; i++ {
			queue.cond.Signal()
		}
		queue.mu.Unlock()
	}
	return t
}

// Run runs fn(0..n-1) over the caller and up to helpers workers and
// re-raises the first panic of a chunk.
func Run(n, helpers int, fn func(i int)) {
	if p := Submit(n, helpers, fn).Wait(); p != nil {
		panic(p)
	}
}

func worker() {
	for {
		take().work(true)
	}
}

// take returns the next help request, spinning briefly before parking.
func take() *Task {
	start := time.Now()
	for spin := 1; ; spin++ {
		if queued.Load() > 0 {
			queue.mu.Lock()
			if t := pop(); t != nil {
				queue.mu.Unlock()
				return t
			}
			queue.mu.Unlock()
		}
		if spin%32 == 0 {
			if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	queue.mu.Lock()
	defer queue.mu.Unlock()
	for {
		if t := pop(); t != nil {
			return t
		}
		queue.sleepers++
		queue.cond.Wait()
		queue.sleepers--
	}
}

// pop removes the newest request (a nested section's, when sections nest);
// queue.mu is held.
func pop() *Task {
	n := len(queue.items)
	if n == 0 {
		return nil
	}
	t := queue.items[n-1]
	queue.items[n-1] = nil
	queue.items = queue.items[:n-1]
	queued.Add(-1)
	return t
}
