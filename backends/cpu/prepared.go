package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/keenml/keen/ir"
)

// Prepared weights: forms of a weight tensor made once and reused by
// later calls (a convolution's weights packed into its kernel's panels),
// trusted without reading the weights again.
//
// A CPU tensor's values never change after the kernel that made it
// returns, except through in-place kernels (AdamInPlace), which count
// every write in inplaceEpoch; host tensors handed to FromHost and
// returned by ToHost must not be modified (the backend shares their
// memory). So a prepared form is current while it belongs to the same
// tensor object (the *ir.Tensor passed to the kernel, held weakly) over
// the same memory and no in-place kernel ran since it was made. Any other
// call (a new tensor at a recycled address, weights updated in place)
// makes it afresh; weights found changed prepMaxChanges times are left
// unprepared (a training loop that updates them every step), so the
// cache never thrashes, until they are seen unchanged again for a few
// calls (inference with the trained weights). A tensor seen for the first time is not prepared
// until its second call, so tensors made and dropped every step (a
// functional optimizer's new weights) are never prepared at all.
//
// Entries go when their tensor is collected, or when the cache passes
// prepMaxFloats and they were not used in the last prepStale lookups.

// inplaceEpoch counts in-place writes into existing tensors.
var inplaceEpoch atomic.Uint64

// noteInPlace records that a kernel is about to modify an input in place.
func noteInPlace() { inplaceEpoch.Add(1) }

// prepKey names one prepared form: the weights' memory and the form's
// kind and parameters.
type prepKey struct {
	ptr    uintptr
	n      int
	kind   string
	params [4]int
}

type prepEntry struct {
	key     prepKey
	owner   weak.Pointer[ir.Tensor]
	epoch   uint64
	val     any // nil: pending (seen once) or volatile (changes ≥ prepMaxChanges)
	floats  int
	changes int
	steady  int // calls seen unchanged since the weights turned volatile
	lastUse uint64
}

var (
	prepMaxFloats  = 64 << 20 // 256 MiB
	prepStale      = uint64(4096)
	prepMaxChanges = 3
	prepSteady     = 2
)

// prepStore is the cache; prepCache the one instance.
type prepStore struct {
	sync.Mutex
	m      map[prepKey]*prepEntry
	floats int
	clock  uint64
}

var prepCache prepStore

// prepared returns the form of kind/params of the weights wt (whose data
// is w), made by build (which returns it and its size in floats) when
// there is none current; nil when the weights should not be prepared
// (no tensor, first sighting, changing every call).
func prepared(wt *ir.Tensor, w []float32, kind string, params [4]int, build func() (any, int)) any {
	if wt == nil || len(w) == 0 {
		return nil
	}
	key := prepKey{ptr: uintptr(unsafe.Pointer(unsafe.SliceData(w))), n: len(w), kind: kind, params: params}
	owner := weak.Make(wt)
	epoch := inplaceEpoch.Load()
	c := &prepCache
	c.Lock()
	c.clock++
	if c.m == nil {
		c.m = map[prepKey]*prepEntry{}
	}
	e := c.m[key]
	switch {
	case e == nil: // first sighting
		if !prepWatch(wt, prepRef{key: key, owner: owner}) {
			c.Unlock()
			return nil
		}
		c.m[key] = &prepEntry{key: key, owner: owner, epoch: epoch, lastUse: c.clock}
		c.Unlock()
		return nil
	case e.changes >= prepMaxChanges && (e.owner != owner || e.epoch != epoch || e.steady < prepSteady):
		// Volatile: unprepared until the same tensor is seen prepSteady
		// more times with no in-place write in between (training over,
		// inference with the trained weights).
		if e.owner == owner && e.epoch == epoch {
			e.steady++
		} else if e.owner == owner {
			e.epoch, e.steady = epoch, 0
		}
		c.Unlock()
		return nil
	case e.owner != owner: // another tensor over this memory: its first sighting
		if e.val != nil {
			e.changes++
			c.floats -= e.floats
			e.val, e.floats = nil, 0
		}
		e.owner, e.epoch = owner, epoch
		if !prepWatch(wt, prepRef{key: key, owner: owner}) {
			delete(c.m, key)
		}
		c.Unlock()
		return nil
	case e.val != nil && e.epoch == epoch: // current
		e.lastUse = c.clock
		c.Unlock()
		return e.val
	case e.changes >= prepMaxChanges: // volatile, and steady since: make it again
		e.changes, e.steady = 0, 0
	case e.val != nil: // updated in place since it was made
		e.changes++
		c.floats -= e.floats
		e.val, e.floats = nil, 0
		if e.changes >= prepMaxChanges {
			c.Unlock()
			return nil
		}
	}
	// A second call of the same tensor, or weights updated in place: make it.
	e.epoch = epoch
	c.Unlock()

	val, floats := build()
	c.Lock()
	defer c.Unlock()
	if c.m[key] != e || e.owner != owner || e.epoch != epoch {
		return val // taken over meanwhile: use it this once
	}
	if e.val != nil {
		return e.val // another call made it meanwhile
	}
	c.evict(floats)
	if c.floats+floats <= prepMaxFloats {
		e.val, e.floats, e.lastUse = val, floats, c.clock
		c.floats += floats
	}
	return val
}

// evict drops entries unused for prepStale lookups while need more floats
// would pass prepMaxFloats; c is locked.
func (c *prepStore) evict(need int) {
	for k, e := range c.m {
		if c.floats+need <= prepMaxFloats {
			return
		}
		if e.val != nil && e.lastUse+prepStale < c.clock {
			c.floats -= e.floats
			delete(c.m, k)
		}
	}
}

// prepWatch has r's entry dropped when wt is collected; false when wt is
// not a heap object of its own (AddCleanup refuses it): such tensors are
// not prepared, since their entry could outlive them.
func prepWatch(wt *ir.Tensor, r prepRef) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	runtime.AddCleanup(wt, prepForget, r)
	return true
}

// prepRef names the entry a tensor's cleanup removes.
type prepRef struct {
	key   prepKey
	owner weak.Pointer[ir.Tensor]
}

// prepForget drops r's entry once its tensor is collected (unless another
// tensor took the entry over since).
func prepForget(r prepRef) {
	c := &prepCache
	c.Lock()
	defer c.Unlock()
	if e := c.m[r.key]; e != nil && e.owner == r.owner {
		c.floats -= e.floats
		delete(c.m, r.key)
	}
}
