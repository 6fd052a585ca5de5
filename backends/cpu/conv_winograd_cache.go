package cpu

import (
	"bytes"
	"sync"
	"unsafe"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/winograd"
)

// Transformed weights are cached: transforming a 512×512×3×3 kernel takes
// tens of milliseconds, several times the convolution itself. A cache
// entry keeps a copy of the weights it was made from and is used only
// when the weights passed in are equal to that copy, byte for byte, so
// weights updated in place (an optimizer step during fine-tuning) or a
// new tensor at a recycled address are transformed afresh, never served
// stale. The comparison reads the weights once (a memcmp: about 10 µs
// for 64×64×3×3, 1 ms for 512×512×3×3), far less than the transform.
// Entries are found by the address and length of the weights and
// evicted least recently used past winoCacheMax floats.

type winoEntry struct {
	key    winoKey
	src    []float32       // the weights u was made from
	u      []*gemm.PackedB // per transformed position: cp × mp, packed
	floats int
}

type winoKey struct {
	ptr     uintptr
	n, c, m int
	cp, mp  int
	rows    int // the products' row count that picked the kernel
}

// winoCacheMax bounds the cached floats (copies and transforms): 64 Mi
// floats, 256 MiB.
var winoCacheMax = 64 << 20

var winoCache struct {
	sync.Mutex
	entries []*winoEntry // least recently used first
	floats  int
}

// winoWeights returns U (36 matrices cp × mp, packed for products of
// about rows rows) for the weights w (M×C×3×3), from the cache when w is
// unchanged.
func winoWeights(w []float32, wg *winoGeo, rows int) []*gemm.PackedB {
	w = w[:wg.m*wg.c*9]
	key := winoKey{ptr: uintptr(unsafe.Pointer(&w[0])), n: len(w), c: wg.c, m: wg.m, cp: wg.cp, mp: wg.mp, rows: rows}
	if u := winoLookup(key, w); u != nil {
		return u
	}
	mat := wg.cp * wg.mp
	u := make([]float32, winograd.N*mat)
	parallelFor(wg.cp, wg.mp*400, func(lo, hi int) {
		winograd.Weights(u, w, wg.c, wg.m, wg.cp, wg.mp, lo, hi)
	})
	packed := make([]*gemm.PackedB, winograd.N)
	parallelFor(winograd.N, mat, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			packed[e] = gemm.PackB(rows, wg.mp, wg.cp, u[e*mat:], wg.mp)
		}
	})
	e := &winoEntry{key: key, src: append([]float32(nil), w...), u: packed}
	e.floats = len(e.src) + len(u)
	winoStore(e)
	return packed
}

// winoLookup returns the cached transform for key when its weights equal
// w, moving the entry to the recent end; nil otherwise.
func winoLookup(key winoKey, w []float32) []*gemm.PackedB {
	winoCache.Lock()
	defer winoCache.Unlock()
	for i, e := range winoCache.entries {
		if e.key != key {
			continue
		}
		if !bytes.Equal(floatBytes(e.src), floatBytes(w)) {
			return nil
		}
		copy(winoCache.entries[i:], winoCache.entries[i+1:])
		winoCache.entries[len(winoCache.entries)-1] = e
		return e.u
	}
	return nil
}

// winoStore adds e, replacing any entry with its key and evicting the
// least recently used past winoCacheMax. An entry larger than the bound
// is not kept.
func winoStore(e *winoEntry) {
	winoCache.Lock()
	defer winoCache.Unlock()
	kept := winoCache.entries[:0]
	for _, o := range winoCache.entries {
		if o.key == e.key {
			winoCache.floats -= o.floats
			continue
		}
		kept = append(kept, o)
	}
	winoCache.entries = kept
	if e.floats > winoCacheMax {
		return
	}
	for len(winoCache.entries) > 0 && winoCache.floats+e.floats > winoCacheMax {
		winoCache.floats -= winoCache.entries[0].floats
		winoCache.entries[0] = nil
		winoCache.entries = winoCache.entries[1:]
	}
	winoCache.entries = append(winoCache.entries, e)
	winoCache.floats += e.floats
}

// floatBytes views s as its bytes (for the comparison).
func floatBytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}
