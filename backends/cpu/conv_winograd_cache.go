package cpu

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
	"unsafe"
	"weak"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/winograd"
	"github.com/keenml/keen/ir"
)

// Transformed weights are cached: transforming a 512×512×3×3 kernel takes
// tens of milliseconds, several times the convolution itself. A cache
// entry keeps a copy of the weights it was made from and is used only
// when the weights passed in are equal to that copy, byte for byte, so
// weights updated in place (an optimizer step during fine-tuning) or a
// new tensor at a recycled address are transformed afresh, never served
// stale. The comparison reads the weights twice over (the copy and w: in
// ResNet-18 about 0.5 ms of the 7 Winograd layers' 7.6 ms), far less than
// the transform, and is skipped when the weights are the same tensor as
// at the last comparison and no in-place kernel ran since (prepared.go
// says why that suffices). Entries are found by the address and length
// of the weights.
//
// A transform pays back over calls, so weights are transformed on their
// second call (the first runs direct and leaves a marker), unless one
// call has winoAdmitTiles tiles or more (a large batch pays for it at
// once). A training loop that makes new weight tensors every step thus
// runs direct at small batches instead of transforming every step.
//
// An entry goes when its weights are collected (a runtime cleanup on
// their backing array): a training loop that makes new weight tensors
// every step leaves no dead entries behind.
//
// The cache holds at most winoCacheMax floats (copies and transforms).
// Entries unused for winoStale lookups make room for new ones; when there
// is no room, or when the same weights have changed winoMaxChanges times
// (training updates them every step, and each change costs a transform),
// winoWeights declines and the convolution runs the direct path, so the
// cache never thrashes.

type winoEntry struct {
	key     winoKey
	src     []float32       // the weights u was made from
	u       []*gemm.PackedB // per transformed position: cp × mp, packed; nil: volatile
	floats  int
	lastUse uint64 // winoCache.clock at the last lookup
	changes int    // times the weights were found changed
	// owner and epoch: the tensor and inplaceEpoch when the weights last
	// matched src (owner zero: never trusted without a comparison).
	owner   weak.Pointer[ir.Tensor]
	epoch   uint64
	pending bool   // seen once, not transformed yet (u nil)
	id      uint64 // tells the entry from a later one with its key
}

type winoKey struct {
	ptr     uintptr
	n, c, m int
	cp, mp  int
	rows    int // the products' row count that picked the kernel
}

// Cache bounds: 64 Mi floats (256 MiB); entries unused for 4096 lookups
// may be evicted; weights changed 3 times stay direct. A call with 512
// tiles saves about as much as a transform costs (~0.6 µs per 3x3 kernel
// against ~600 multiply-adds per tile and kernel saved at ~100 GFLOP/s).
var (
	winoCacheMax   = 64 << 20
	winoStale      = uint64(4096)
	winoMaxChanges = 3
	winoAdmitTiles = 512
)

var winoCache struct {
	sync.Mutex
	entries []*winoEntry
	floats  int
	clock   uint64
	lastID  uint64
}

// winoWeights returns U (36 matrices cp × mp, packed for products of
// about rows rows) for the weights w (M×C×3×3), from the cache when w is
// unchanged; nil when the convolution should run direct (see above).
func winoWeights(wt *ir.Tensor, w []float32, wg *winoGeo, rows, tiles int) []*gemm.PackedB {
	w = w[:wg.m*wg.c*9]
	owner, epoch := weak.Make(wt), inplaceEpoch.Load()
	key := winoKey{ptr: uintptr(unsafe.Pointer(&w[0])), n: len(w), c: wg.c, m: wg.m, cp: wg.cp, mp: wg.mp, rows: rows}
	mat := wg.cp * wg.mp
	need := len(w) + winograd.N*(roundUpInt(wg.mp, 48)*wg.cp+16)
	u, ok, changes, marker := winoLookup(key, w, need, tiles >= winoAdmitTiles, owner, epoch)
	if marker != 0 {
		winoWatch(&w[0], winoRef{key: key, id: marker})
	}
	if u != nil || !ok {
		return u
	}
	ut := make([]float32, winograd.N*mat)
	parallelFor(wg.cp, wg.mp*400, func(lo, hi int) {
		winograd.Weights(ut, w, wg.c, wg.m, wg.cp, wg.mp, lo, hi)
	})
	packed := make([]*gemm.PackedB, winograd.N)
	parallelFor(winograd.N, mat, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			packed[e] = gemm.PackB(rows, wg.mp, wg.cp, ut[e*mat:], wg.mp)
		}
	})
	e := &winoEntry{key: key, src: append([]float32(nil), w...), u: packed, floats: need, changes: changes, owner: owner, epoch: epoch}
	if winoStore(e) {
		winoWatch(&w[0], winoRef{key: key, id: e.id})
	}
	return packed
}

// winoWatch has r forgotten when the allocation holding p is collected.
// Weights outside the Go heap (memory mapped, say) get no cleanup
// (AddCleanup panics on them): their entry stays until evicted.
func winoWatch(p *float32, r winoRef) {
	defer func() { _ = recover() }()
	runtime.AddCleanup(p, winoForget, r)
}

// winoRef names one cache entry for winoForget.
type winoRef struct {
	key winoKey
	id  uint64
}

// winoForget drops the entry r once its weights are collected.
func winoForget(r winoRef) {
	winoCache.Lock()
	defer winoCache.Unlock()
	for i, e := range winoCache.entries {
		if e.key == r.key && e.id == r.id {
			winoCache.floats -= e.floats
			winoCache.entries = slices.Delete(winoCache.entries, i, i+1)
			return
		}
	}
}

func roundUpInt(a, b int) int { return (a + b - 1) / b * b }

// winoLookup returns the cached transform for key when its weights equal
// w. Otherwise ok reports whether a transform of need floats may be
// made and stored (changes: how often these weights changed so far);
// unless admit, weights seen for the first time get a marker (its id
// returned, for winoWatch) and run direct.
func winoLookup(key winoKey, w []float32, need int, admit bool, owner weak.Pointer[ir.Tensor], epoch uint64) (u []*gemm.PackedB, ok bool, changes int, marker uint64) {
	winoCache.Lock()
	defer winoCache.Unlock()
	winoCache.clock++
	held, seen := 0, false // key's own entry (its floats are freed when it is replaced)
	for _, e := range winoCache.entries {
		if e.key != key {
			continue
		}
		e.lastUse = winoCache.clock
		if e.pending { // the second call: transform
			held, seen = e.floats, true
			break
		}
		if e.u == nil {
			return nil, false, e.changes, 0 // volatile: direct
		}
		if e.owner == owner && e.epoch == epoch && owner != (weak.Pointer[ir.Tensor]{}) {
			return e.u, true, e.changes, 0 // the same tensor, not written since
		}
		if bytes.Equal(floatBytes(e.src), floatBytes(w)) {
			e.owner, e.epoch = owner, epoch
			return e.u, true, e.changes, 0
		}
		e.changes++
		if e.changes >= winoMaxChanges { // keep a small marker, free the rest
			winoCache.floats -= e.floats - 1
			e.src, e.u, e.floats = nil, nil, 1
			return nil, false, e.changes, 0
		}
		held, changes, seen = e.floats, e.changes, true
		break
	}
	if !seen && !admit {
		winoCache.lastID++
		winoCache.entries = append(winoCache.entries, &winoEntry{key: key, pending: true, floats: 1,
			lastUse: winoCache.clock, id: winoCache.lastID})
		winoCache.floats++
		return nil, false, 0, winoCache.lastID
	}
	kept := winoCache.entries[:0]
	for _, e := range winoCache.entries {
		if winoCache.floats-held+need <= winoCacheMax || e.key == key || e.lastUse+winoStale >= winoCache.clock {
			kept = append(kept, e)
			continue
		}
		winoCache.floats -= e.floats // stale: evicted
	}
	clear(winoCache.entries[len(kept):])
	winoCache.entries = kept
	return nil, winoCache.floats-held+need <= winoCacheMax, changes, 0
}

// winoStore adds e, replacing any entry with its key; false when it
// dropped e because the cache filled up meanwhile.
func winoStore(e *winoEntry) bool {
	winoCache.Lock()
	defer winoCache.Unlock()
	e.lastUse = winoCache.clock
	winoCache.lastID++
	e.id = winoCache.lastID
	for i, o := range winoCache.entries {
		if o.key == e.key {
			winoCache.floats += e.floats - o.floats
			winoCache.entries[i] = e
			return true
		}
	}
	if winoCache.floats+e.floats > winoCacheMax {
		return false
	}
	winoCache.entries = append(winoCache.entries, e)
	winoCache.floats += e.floats
	return true
}

// floatBytes views s as its bytes (for the comparison).
func floatBytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}
