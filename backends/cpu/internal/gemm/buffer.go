package gemm

import (
	"math/bits"
	"sync"
	"unsafe"
)

// buffer is a 64-byte aligned float32 scratch slice kept in a pool.
type buffer struct {
	raw   []float32
	f     []float32
	class int
}

// bufPools holds buffers by size class: class c holds 1<<c floats, so a
// call never takes a buffer too small for it and drops it.
var bufPools [48]sync.Pool

const (
	alignFloats = 16 // 64 bytes: one cache line, one ZMM vector
	minClass    = 10
)

// getBuffer returns a pooled buffer of at least n floats (contents
// undefined).
func getBuffer(n int) *buffer {
	class := max(bits.Len(uint(n-1)), minClass)
	b, _ := bufPools[class].Get().(*buffer)
	if b == nil {
		b = &buffer{raw: make([]float32, 1<<class+alignFloats), class: class}
	}
	off := 0
	if r := uintptr(unsafe.Pointer(&b.raw[0])) % (4 * alignFloats); r != 0 {
		off = int(4*alignFloats-r) / 4
	}
	b.f = b.raw[off : off+n]
	return b
}

func putBuffer(b *buffer) { bufPools[b.class].Put(b) }
