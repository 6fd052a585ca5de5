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

// Buf is a CPU buffer: a host tensor.
type Buf struct{ T *ir.Tensor }

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

func (b *Backend) FromHost(t *ir.Tensor) (backends.Buffer, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("cpu: FromHost: %w", err)
	}
	return &Buf{T: t}, nil
}

func (b *Backend) ToHost(buf backends.Buffer) (*ir.Tensor, error) {
	cb, ok := buf.(*Buf)
	if !ok {
		return nil, fmt.Errorf("cpu: ToHost: buffer %T belongs to another backend", buf)
	}
	return cb.T, nil
}

func (b *Backend) Release(backends.Buffer) {}
func (b *Backend) Sync() error             { return nil }
func (b *Backend) Close() error            { return nil }

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
	ts := stack[:0]
	for i, b := range in {
		if b == nil {
			ts = append(ts, nil)
			continue
		}
		cb, ok := b.(*Buf)
		if !ok {
			return nil, fmt.Errorf("cpu: %v: input %d is a %T buffer of another backend", k.spec, i, b)
		}
		ts = append(ts, cb.T)
	}
	out, err := k.fn(ts)
	if err != nil {
		return nil, fmt.Errorf("cpu: %v: %w", k.spec, err)
	}
	if len(out) == 1 && out[0] != nil {
		r := &oneBuf{b: Buf{T: out[0]}}
		r.s[0] = &r.b
		return r.s[:], nil
	}
	bufs := make([]backends.Buffer, len(out))
	for i, t := range out {
		if t != nil {
			bufs[i] = &Buf{T: t}
		}
	}
	return bufs, nil
}

// oneBuf holds a single-output kernel's result slice and its buffer in one
// allocation.
type oneBuf struct {
	s [1]backends.Buffer
	b Buf
}
