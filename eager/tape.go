package eager

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/keenml/keen/backends"
)

// Tape records the operations run while it is active, so gradients can be
// taken afterwards with respect to any tensor the recorded ops consumed:
// parameters and inputs alike.
//
//	tape := eager.NewTape()
//	loss := f(x, w)
//	grads := tape.Gradient(loss, w, x)
//
// Tapes nest: a gradient computed under an outer tape is itself recorded
// there, so it can be differentiated again. A tape records ops from every
// goroutine while active; use one tape per training loop.
type Tape struct {
	mu         sync.Mutex
	records    []*record
	persistent bool
	done       bool
	paused     int
}

// record is one recorded op application.
type record struct {
	spec *backends.OpSpec
	in   []*Tensor
	out  []*Tensor
	// custom, when set, replaces the op's gradient rule (CustomGradient).
	custom func(dOut []*Tensor) []*Tensor
	// holders counts the tapes holding the record (dropRecords).
	holders atomic.Int32
}

var (
	tapesMu sync.Mutex
	tapes   []*Tape                 // active tapes, innermost last (guarded by tapesMu)
	active  atomic.Pointer[[]*Tape] // a copy of tapes for the hot path
	nTapes  atomic.Int32
	noGrad  atomic.Int32 // depth of NoGrad scopes
)

// publish makes the current tape list visible to recordOp; tapesMu is held.
func publish() {
	cp := append([]*Tape(nil), tapes...)
	active.Store(&cp)
	nTapes.Store(int32(len(tapes)))
}

// NewTape starts a tape that records until Gradient is called on it.
func NewTape() *Tape { return startTape(false) }

// NewPersistentTape starts a tape that allows several Gradient calls and
// keeps recording until Stop.
func NewPersistentTape() *Tape { return startTape(true) }

func startTape(persistent bool) *Tape {
	t := &Tape{persistent: persistent}
	tapesMu.Lock()
	tapes = append(tapes, t)
	publish()
	tapesMu.Unlock()
	return t
}

// Stop ends recording; the tape's records stay for Gradient calls.
func (t *Tape) Stop() {
	tapesMu.Lock()
	defer tapesMu.Unlock()
	for i, x := range tapes {
		if x == t {
			tapes = append(tapes[:i:i], tapes[i+1:]...)
			break
		}
	}
	publish()
}

// Release drops the records (and the tensors they hold) of a persistent tape.
func (t *Tape) Release() {
	t.Stop()
	t.mu.Lock()
	rs := t.records
	t.records, t.done = nil, true
	t.mu.Unlock()
	dropRecords(rs)
}

// NoGrad runs fn without recording on any tape.
func NoGrad(fn func()) {
	noGrad.Add(1)
	defer noGrad.Add(-1)
	fn()
}

// Detach returns a tensor with the same value that no tape links to its
// history: gradients do not flow through it.
func (t *Tensor) Detach() *Tensor { return &Tensor{dev: t.dev, buf: t.buf} }

// Recording reports whether any tape would record an op applied now
// (the ONNX executor then runs fused nodes as their plain ops).
func Recording() bool { return recording() }

// recording reports whether any tape would record now.
func recording() bool { return nTapes.Load() > 0 && noGrad.Load() == 0 }

// recordOp appends an op application to every active, unpaused tape.
func recordOp(r *record) {
	list := active.Load()
	if list == nil {
		return
	}
	for _, t := range *list {
		t.mu.Lock()
		if t.paused == 0 && !t.done {
			t.records = append(t.records, r)
			r.holders.Add(1)
		}
		t.mu.Unlock()
	}
}

// Watching reports whether t records now (it is active and not paused).
func (t *Tape) Watching() bool {
	tapesMu.Lock()
	defer tapesMu.Unlock()
	for _, x := range tapes {
		if x == t {
			return t.paused == 0
		}
	}
	return false
}

// CustomGradient runs fn on inputs without recording its inner ops, and
// records instead one step whose gradient is grad (like TensorFlow's
// custom_gradient): grad receives the gradients of fn's outputs (nil for an
// output that does not reach the target) and returns one gradient per input
// (nil for none).
func CustomGradient(fn func(in []*Tensor) []*Tensor, grad func(in, out, dOut []*Tensor) []*Tensor, inputs ...*Tensor) []*Tensor {
	var out []*Tensor
	NoGrad(func() { out = fn(inputs) })
	if recording() {
		in := append([]*Tensor(nil), inputs...)
		r := &record{spec: &backends.OpSpec{Op: "CustomGradient"}, in: in, out: out}
		r.custom = func(dOut []*Tensor) []*Tensor { return grad(in, out, dOut) }
		recordOp(r)
	}
	return out
}

// Gradient returns d target / d source for each source: a tensor of the
// source's shape (zeros when the target does not depend on it). target is
// reduced as if summed (the usual scalar-loss case needs no care). A
// non-persistent tape stops recording and can answer once.
func (t *Tape) Gradient(target *Tensor, sources ...*Tensor) []*Tensor {
	grads, err := t.gradient(target, sources, nil)
	if err != nil {
		panic("eager: Gradient: " + err.Error())
	}
	return grads
}

// GradientWith is Gradient with an explicit seed: the gradient flowing into
// target (the vector of a vector-Jacobian product).
func (t *Tape) GradientWith(target, seed *Tensor, sources ...*Tensor) []*Tensor {
	grads, err := t.gradient(target, sources, seed)
	if err != nil {
		panic("eager: Gradient: " + err.Error())
	}
	return grads
}

func (t *Tape) gradient(target *Tensor, sources []*Tensor, seed *Tensor) ([]*Tensor, error) {
	if !t.persistent {
		t.Stop()
	}
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return nil, fmt.Errorf("the tape was already used; use NewPersistentTape for several Gradient calls")
	}
	records := t.records
	t.paused++
	if !t.persistent {
		t.done = true
		t.records = nil
	}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.paused--
		t.mu.Unlock()
	}()
	if seed == nil {
		seed = OnesLike(target)
	}
	grads, err := backprop(records, target, seed, sources)
	if !t.persistent {
		dropRecords(records, append(grads, target, seed)...)
	}
	return grads, err
}
