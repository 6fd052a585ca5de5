package cpu

import (
	"math/bits"
	"os"
	"sync"
	"unsafe"

	"github.com/keenml/keen/ir"
)

// Kernel outputs come from a pool of slices kept by element type and size
// class, so an inference or training loop that releases its intermediates
// (the ONNX executor does, after each value's last use) stops allocating
// and zeroing fresh memory for every op and stops feeding the garbage
// collector. Memory reaches the pool only through Backend.Release of a
// buffer whose storage was claimed from the pool, whose every view was
// released and which never escaped through ToHost.
//
// Pooled slices are recorded (by address, holding them) from the moment a
// kernel takes one until kernel.Run claims it as an output; one a kernel
// used as scratch and dropped is forgotten after a while (see sweep) and
// left to the garbage collector.

// minPooled is the smallest slice (elements) worth pooling; smaller ones
// cost less to allocate than to track.
const minPooled = 256

// Size classes: four per power of two (at most 25% over the request).
const nClasses = 4 * 48

// classOf returns the smallest class holding n > 0 elements.
func classOf(n int) int {
	n = max(n, 2)
	k := bits.Len(uint(n-1)) - 1 // 2^k < n <= 2^(k+1)
	step := 1 << max(k-2, 0)
	j := (n - 1<<k + step - 1) / step // 1..4
	return 4*k + j - 1
}

// classSize is the least capacity of class c's slices.
func classSize(c int) int {
	k, j := c/4, c%4+1
	return 1<<k + j*(1<<max(k-2, 0))
}

// floorClass returns the largest class whose size is at most m (the class
// a released slice of capacity m serves), or -1.
func floorClass(m int) int {
	c := classOf(m)
	if classSize(c) > m {
		c--
	}
	if c < 0 || classSize(c) > m {
		return -1
	}
	return c
}

// maxCachedBytes bounds the memory the free lists hold.
const maxCachedBytes = 512 << 20

// freeList holds released slices of one element type by class, newest last
// (the most recently released is likeliest still in cache). A class holds
// slices of at least its size, so any of them serves any request of the
// class. wanted marks classes that released memory was asked to serve:
// until then a fresh slice has the exact length asked for (no rounding up,
// which would only cost zeroing and heap where nothing is ever released,
// as in a training step whose tape holds every intermediate).
type freeList[T any] struct {
	mu     sync.Mutex
	c      [nClasses][][]T
	wanted [nClasses]bool
}

var (
	poolF32  freeList[float32]
	poolF64  freeList[float64]
	poolI64  freeList[int64]
	poolI32  freeList[int32]
	poolI8   freeList[int8]
	poolU8   freeList[uint8]
	poolU16  freeList[uint16]
	poolBool freeList[bool]
)

// listFor returns the free list of T, nil for types that are not pooled.
func listFor[T any]() *freeList[T] {
	var p any
	switch any((*T)(nil)).(type) {
	case *float32:
		p = &poolF32
	case *float64:
		p = &poolF64
	case *int64:
		p = &poolI64
	case *int32:
		p = &poolI32
	case *int8:
		p = &poolI8
	case *uint8:
		p = &poolU8
	case *uint16:
		p = &poolU16
	case *bool:
		p = &poolBool
	default:
		return nil
	}
	return p.(*freeList[T])
}

// poisonRaw fills uninitialized outputs with a pattern (NaN for floats) so
// that tests and conformance runs catch a kernel that does not write every
// element of an output taken from rawSlice or newTensorRaw.
var poisonRaw = os.Getenv("KEEN_CPU_POISON") != ""

// getSlice returns n elements of T from the pool (zeroed when zero is set,
// else holding stale values) or freshly allocated.
func getSlice[T any](n int, zero bool) []T {
	fl := listFor[T]()
	if n < minPooled && !poisonRaw || n == 0 || fl == nil {
		return make([]T, n)
	}
	c := classOf(n)
	var s []T
	fl.mu.Lock()
	if l := fl.c[c]; len(l) > 0 {
		s = l[len(l)-1]
		l[len(l)-1] = nil
		fl.c[c] = l[:len(l)-1]
	}
	wanted := fl.wanted[c]
	fl.mu.Unlock()
	if s == nil {
		size := n
		if wanted {
			size = classSize(c)
		}
		s = make([]T, size)
	} else {
		cached.add(-int64(cap(s)) * int64(unsafe.Sizeof(s[0])))
		if zero {
			clear(s[:n])
		}
	}
	if !zero && poisonRaw {
		poison(s[:n])
	}
	pending.put(unsafe.Pointer(unsafe.SliceData(s)), int64(cap(s))*int64(unsafe.Sizeof(s[0])))
	return s[:n]
}

// rawSlice returns n elements of T whose values are undefined: for kernels
// that write every element.
func rawSlice[T any](n int) []T { return getSlice[T](n, false) }

// putSlice returns a claimed slice to the free list of the largest class
// its capacity serves, and marks the class of its capacity as wanted.
func putSlice[T any](s []T) {
	fl := listFor[T]()
	c := floorClass(cap(s))
	if fl == nil || c < 0 {
		return
	}
	b := int64(cap(s)) * int64(unsafe.Sizeof(s[0]))
	if !cached.add(b) {
		return
	}
	fl.mu.Lock()
	fl.c[c] = append(fl.c[c], s[:cap(s)])
	fl.wanted[classOf(cap(s))] = true
	fl.mu.Unlock()
}

func poison[T any](s []T) {
	switch v := any(s).(type) {
	case []float32:
		nan := float32FromBits(0x7fc00bad)
		for i := range v {
			v[i] = nan
		}
	case []float64:
		for i := range v {
			v[i] = float64(float32FromBits(0x7fc00bad))
		}
	case []int64:
		for i := range v {
			v[i] = -0x5a5a5a5a5a5a5a5a
		}
	case []int32:
		for i := range v {
			v[i] = -0x5a5a5a5a
		}
	case []uint8:
		for i := range v {
			v[i] = 0xa5
		}
	}
}

func float32FromBits(b uint32) float32 { return *(*float32)(unsafe.Pointer(&b)) }

// cachedBytes counts the bytes the free lists hold, under maxCachedBytes.
type cachedBytes struct {
	mu sync.Mutex
	n  int64
}

var cached cachedBytes

// add adds d bytes, refusing (false) growth past maxCachedBytes.
func (c *cachedBytes) add(d int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 && c.n+d > maxCachedBytes {
		return false
	}
	c.n += d
	return true
}

// newTensor allocates a zeroed tensor of dt and shape (checked against the
// cap), from the pool for the pooled element types.
func newTensor(dt ir.DType, shape []int) (*ir.Tensor, error) {
	return allocTensor(dt, shape, true)
}

// newTensorRaw is newTensor with undefined contents, for kernels that
// write every element of the output.
func newTensorRaw(dt ir.DType, shape []int) (*ir.Tensor, error) {
	return allocTensor(dt, shape, false)
}

func allocTensor(dt ir.DType, shape []int, zero bool) (*ir.Tensor, error) {
	n, err := ir.NumElements(shape)
	if err != nil || n < minPooled && !poisonRaw || n == 0 {
		return ir.NewTensor(dt, shape...)
	}
	var data any
	switch dt {
	case ir.Float32:
		data = getSlice[float32](n, zero)
	case ir.Float64:
		data = getSlice[float64](n, zero)
	case ir.Int64:
		data = getSlice[int64](n, zero)
	case ir.Int32:
		data = getSlice[int32](n, zero)
	case ir.Int8:
		data = getSlice[int8](n, zero)
	case ir.Uint8:
		data = getSlice[uint8](n, zero)
	case ir.Uint16, ir.Float16, ir.BFloat16:
		data = getSlice[uint16](n, zero)
	case ir.Bool:
		data = getSlice[bool](n, zero)
	default:
		return ir.NewTensor(dt, shape...)
	}
	if len(shape) <= len(tensorBox{}.dims) {
		// One allocation for the tensor and its shape.
		b := &tensorBox{t: ir.Tensor{DType: dt, Data: data}}
		b.t.Shape = b.dims[:len(shape):len(shape)]
		copy(b.t.Shape, shape)
		return &b.t, nil
	}
	return &ir.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: data}, nil
}

// tensorBox is a Tensor with room for a short shape beside it.
type tensorBox struct {
	t    ir.Tensor
	dims [4]int
}

// convOut allocates Conv's output: uninitialized on the float32 paths,
// which write every element (the depthwise taps, the wide path, the GEMM
// with the bias as its start), zeroed on the others, which accumulate into
// it (the generic depthwise loop, a bias over zero input channels).
func convOut(p *convProblem, dt ir.DType) (*ir.Tensor, error) {
	if dt == ir.Float32 && p.cg*p.kSize > 0 {
		return newTensorRaw(dt, p.outShape())
	}
	return newTensor(dt, p.outShape())
}
