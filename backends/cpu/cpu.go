// Package cpu is Keen's in-tree CPU backend: buffers are Go memory, kernels
// are Go (with SIMD assembly for the hot ones), and heavy kernels spread over
// a pool of worker goroutines. Importing the package registers it as "cpu".
//
// Kernels live one file per op family. Each registers a prepare function
// with reg(op, since, prepare): prepare runs once per (op, attributes, input
// dtypes) and returns the kernel function the hot path calls.
package cpu

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	backends.Register("cpu", func(arg string) (backends.Backend, error) {
		if arg != "" {
			return nil, fmt.Errorf("cpu: backend takes no argument, got %q", arg)
		}
		return New(), nil
	})
}

// Buf is a CPU buffer: a host tensor. A kernel output's buffer also
// records the storage it shares with the views of it (see alloc.go); a
// buffer made otherwise (FromHost, a literal) holds memory the backend
// never recycles.
type Buf struct {
	T        *ir.Tensor
	st       *storage
	released atomic.Bool
}

func (b *Buf) DType() ir.DType { return b.T.DType }
func (b *Buf) Shape() []int    { return b.T.Shape }

// Backend is the CPU backend.
type Backend struct{ threads atomic.Int32 }

// New returns a CPU backend using all cores.
func New() *Backend {
	b := &Backend{}
	b.threads.Store(int32(runtime.GOMAXPROCS(0)))
	return b
}

func (b *Backend) Name() string { return "cpu" }

// Describe reports the SIMD level and thread count.
func (b *Backend) Describe() string {
	return fmt.Sprintf("%d threads, %s", b.Threads(), simdLevel())
}

// SetThreads sets how many goroutines heavy kernels use (at least 1).
func (b *Backend) SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	b.threads.Store(int32(n))
	setPoolThreads(n)
}

func (b *Backend) Threads() int { return int(b.threads.Load()) }

// FromHost wraps t without copying it: t must not be modified afterwards
// (the kernels' prepared weights trust an unchanged tensor, prepared.go).
func (b *Backend) FromHost(t *ir.Tensor) (backends.Buffer, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("cpu: FromHost: %w", err)
	}
	return &Buf{T: t}, nil
}

// ToHost returns the buffer's tensor itself; its memory is then never
// recycled, so the result stays valid after Release.
func (b *Backend) ToHost(buf backends.Buffer) (*ir.Tensor, error) {
	cb, ok := buf.(*Buf)
	if !ok {
		return nil, fmt.Errorf("cpu: ToHost: buffer %T belongs to another backend", buf)
	}
	if cb.released.Load() {
		return nil, fmt.Errorf("cpu: ToHost: the buffer (%v%v) was released", cb.T.DType, cb.T.Shape)
	}
	if cb.st != nil {
		cb.st.escaped.Store(true)
	}
	return cb.T, nil
}

// Release gives up buf: its memory returns to the kernels' pool once no
// view of it is held (see alloc.go). Using buf afterwards is an error.
func (b *Backend) Release(buf backends.Buffer) {
	cb, ok := buf.(*Buf)
	if !ok || cb.released.Swap(true) {
		return
	}
	if cb.st != nil {
		cb.st.release()
	}
}
func (b *Backend) Sync() error  { return nil }
func (b *Backend) Close() error { return nil }

// Prepare resolves spec to a kernel from the registry.
func (b *Backend) Prepare(spec *backends.OpSpec) (backends.Kernel, error) {
	e := lookup(spec.Domain, spec.Op, spec.Version)
	if e == nil {
		return nil, fmt.Errorf("cpu: %v: %w", spec, backends.ErrNotImplemented)
	}
	fn, err := e.prepare(spec)
	if err != nil {
		return nil, fmt.Errorf("cpu: %v: %w", spec, err)
	}
	return kernel{fn: fn, spec: spec}, nil
}

type kernel struct {
	fn   kernelFunc
	spec *backends.OpSpec
}

func (k kernel) Run(in []backends.Buffer) ([]backends.Buffer, error) {
	var stack [8]*ir.Tensor
	var bstack [8]*Buf
	ts, ins := stack[:0], bstack[:0]
	for i, b := range in {
		if b == nil {
			ts, ins = append(ts, nil), append(ins, nil)
			continue
		}
		cb, ok := b.(*Buf)
		if !ok {
			return nil, fmt.Errorf("cpu: %v: input %d is a %T buffer of another backend", k.spec, i, b)
		}
		if cb.released.Load() {
			return nil, fmt.Errorf("cpu: %v: input %d (%v%v) was released", k.spec, i, cb.T.DType, cb.T.Shape)
		}
		ts, ins = append(ts, cb.T), append(ins, cb)
	}
	out, err := k.fn(ts)
	if err != nil {
		return nil, fmt.Errorf("cpu: %v: %w", k.spec, err)
	}
	if len(out) == 1 && out[0] != nil {
		r := &oneBuf{b: Buf{T: out[0], st: attach(out[0], ins, nil)}}
		r.s[0] = &r.b
		return r.s[:], nil
	}
	bufs := make([]backends.Buffer, len(out))
	made := make([]*Buf, 0, len(out))
	for i, t := range out {
		if t != nil {
			b := &Buf{T: t, st: attach(t, ins, made)}
			bufs[i] = b
			made = append(made, b)
		}
	}
	return bufs, nil
}

// attach returns the storage of output t: that of the input or earlier
// output whose pooled memory t shares (a view), else a new one when t's
// slice came from the pool, else nil (memory the pool never recycles).
//
// Only memory the pool owns needs the sharing to be known: an output that
// overlaps other memory cannot be a pooled slice itself.
func attach(t *ir.Tensor, ins, prev []*Buf) *storage {
	lo, hi := span(t)
	if lo == hi {
		return nil
	}
	for _, set := range [2][]*Buf{ins, prev} {
		for _, b := range set {
			if b == nil || b.st == nil {
				continue
			}
			if l, h := span(b.T); lo < h && l < hi {
				b.st.refs.Add(1)
				return b.st
			}
		}
	}
	// Pooled slices hold at least minPooled bytes.
	if (hi-lo >= minPooled || poisonRaw) && pending.claim(t.Data) {
		st := &storage{data: t.Data}
		st.refs.Store(1)
		return st
	}
	return nil
}

// oneBuf holds a single-output kernel's result slice and its buffer in one
// allocation.
type oneBuf struct {
	s [1]backends.Buffer
	b Buf
}
