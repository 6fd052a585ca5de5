package cpu

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/keenml/keen/ir"
)

// storage is pooled memory behind one or more buffers: a kernel output
// whose slice came from the pool owns a new one, and an output that is a
// view of it (Reshape, Identity, Squeeze, Split, ... of that output, or
// another output of the same kernel) shares it. The slice returns to the
// pool when the last buffer holding the storage is released, unless the
// memory escaped through ToHost. Buffers of other memory have none.
type storage struct {
	refs    atomic.Int32 // buffers holding it and not released
	escaped atomic.Bool  // handed out by ToHost: never recycled
	// data is the pooled slice; it is read once, by the release that drops
	// the last reference.
	data any
}

// pooledOutputs records pooled slices taken by kernels and not yet claimed
// as outputs, keyed by the address of their first element. The map holds
// them alive, so an address can never be reused by other memory while
// recorded; sweep forgets the oldest once many accumulate (slices kernels
// used as scratch), which only leaves them to the garbage collector.
type pooledOutputs struct {
	mu    sync.Mutex
	m     map[unsafe.Pointer]pendingSlice
	gen   uint64
	bytes int64 // held by the entries
}

type pendingSlice struct {
	gen   uint64
	bytes int64
}

var pending = pooledOutputs{m: map[unsafe.Pointer]pendingSlice{}}

// A sweep runs when more than pendingMax slices or pendingMaxBytes are
// recorded; it keeps only the pendingKeep newest (kernels running now).
const (
	pendingMax      = 256
	pendingMaxBytes = 64 << 20
	pendingKeep     = 32
)

func (p *pooledOutputs) put(ptr unsafe.Pointer, bytes int64) {
	p.mu.Lock()
	p.gen++
	p.m[ptr] = pendingSlice{gen: p.gen, bytes: bytes}
	p.bytes += bytes
	if len(p.m) > pendingMax || p.bytes > pendingMaxBytes {
		p.sweep()
	}
	p.mu.Unlock()
}

// sweep forgets all but the newest unclaimed slices; p.mu is held.
func (p *pooledOutputs) sweep() {
	for k, v := range p.m {
		if v.gen+pendingKeep <= p.gen {
			p.bytes -= v.bytes
			delete(p.m, k)
		}
	}
}

// claim removes data's slice from the records and reports whether it was
// there: a pooled slice, returned from its first element.
func (p *pooledOutputs) claim(data any) bool {
	ptr, size, c := sliceSpan(data)
	if ptr == nil || c == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[ptr]
	if !ok || e.bytes != int64(size*c) {
		return false
	}
	p.bytes -= e.bytes
	delete(p.m, ptr)
	return true
}

// sliceSpan returns the first element's address, the element size and the
// capacity of a tensor's Data (nil for types not handled).
func sliceSpan(data any) (ptr unsafe.Pointer, size, capacity int) {
	switch s := data.(type) {
	case []float32:
		return unsafe.Pointer(unsafe.SliceData(s)), 4, cap(s)
	case []float64:
		return unsafe.Pointer(unsafe.SliceData(s)), 8, cap(s)
	case []int64:
		return unsafe.Pointer(unsafe.SliceData(s)), 8, cap(s)
	case []int32:
		return unsafe.Pointer(unsafe.SliceData(s)), 4, cap(s)
	case []int8:
		return unsafe.Pointer(unsafe.SliceData(s)), 1, cap(s)
	case []uint8:
		return unsafe.Pointer(unsafe.SliceData(s)), 1, cap(s)
	case []uint16:
		return unsafe.Pointer(unsafe.SliceData(s)), 2, cap(s)
	case []bool:
		return unsafe.Pointer(unsafe.SliceData(s)), 1, cap(s)
	case []int16:
		return unsafe.Pointer(unsafe.SliceData(s)), 2, cap(s)
	case []uint32:
		return unsafe.Pointer(unsafe.SliceData(s)), 4, cap(s)
	case []uint64:
		return unsafe.Pointer(unsafe.SliceData(s)), 8, cap(s)
	case []complex64:
		return unsafe.Pointer(unsafe.SliceData(s)), 8, cap(s)
	case []complex128:
		return unsafe.Pointer(unsafe.SliceData(s)), 16, cap(s)
	case []string:
		return unsafe.Pointer(unsafe.SliceData(s)), int(unsafe.Sizeof("")), cap(s)
	}
	return nil, 0, 0
}

// span is the byte range [lo, hi) of t's backing array from its first
// element to its capacity (empty for nil or empty tensors).
func span(t *ir.Tensor) (lo, hi uintptr) {
	if t == nil {
		return 0, 0
	}
	p, size, c := sliceSpan(t.Data)
	if p == nil || c == 0 {
		return 0, 0
	}
	return uintptr(p), uintptr(p) + uintptr(size*c)
}

// recycle returns the storage's slice to the pool.
func (st *storage) recycle() {
	data := st.data
	st.data = nil
	switch s := data.(type) {
	case []float32:
		putSlice(s)
	case []float64:
		putSlice(s)
	case []int64:
		putSlice(s)
	case []int32:
		putSlice(s)
	case []int8:
		putSlice(s)
	case []uint8:
		putSlice(s)
	case []uint16:
		putSlice(s)
	case []bool:
		putSlice(s)
	}
}

// release drops one buffer's hold on the storage.
func (st *storage) release() {
	if st.refs.Add(-1) == 0 && !st.escaped.Load() {
		st.recycle()
	}
}

// releaseTemp returns a tensor a kernel made for its own use and never
// handed out (an intermediate between two kernels it runs) to the pool;
// other tensors are left to the garbage collector.
func releaseTemp(t *ir.Tensor) {
	if t != nil && pending.claim(t.Data) {
		(&storage{data: t.Data}).recycle()
	}
}
