package eager

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

var (
	defaultMu  sync.Mutex
	defaultDev backends.Backend
)

// DefaultBackend is the backend new tensors go to: set by SetDefaultBackend,
// else backends.Default() ($KEEN_BACKEND or "cpu").
func DefaultBackend() (backends.Backend, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultDev != nil {
		return defaultDev, nil
	}
	b, err := backends.Default()
	if err != nil {
		return nil, fmt.Errorf("eager: no default backend: %w (import github.com/keenml/keen/backends/cpu)", err)
	}
	defaultDev = b
	return b, nil
}

// SetDefaultBackend sets the backend new tensors go to.
func SetDefaultBackend(b backends.Backend) {
	defaultMu.Lock()
	defaultDev = b
	defaultMu.Unlock()
}

// Fallbacks counts ops that ran on the CPU because their backend lacked them;
// each costs a copy of inputs and outputs.
var Fallbacks atomic.Int64

// Prepared is a kernel resolved for one op, attributes and input dtypes on
// one backend. When the backend lacks the op, the kernel is the CPU
// backend's and inputs and outputs are copied (counted in Fallbacks).
type Prepared struct {
	Spec     *backends.OpSpec
	dev      backends.Backend
	kernel   backends.Kernel
	fallback backends.Backend
}

// Prepare resolves spec on dev, falling back to the "cpu" backend when dev
// does not implement it.
func Prepare(dev backends.Backend, spec *backends.OpSpec) (*Prepared, error) {
	k, err := dev.Prepare(spec)
	if err == nil {
		return &Prepared{Spec: spec, dev: dev, kernel: k}, nil
	}
	if !errors.Is(err, backends.ErrNotImplemented) || dev.Name() == "cpu" {
		return nil, err
	}
	cpu, cerr := backends.Open("cpu")
	if cerr != nil {
		return nil, err
	}
	k, cerr = cpu.Prepare(spec)
	if cerr != nil {
		return nil, fmt.Errorf("%w (and cpu fallback: %v)", err, cerr)
	}
	return &Prepared{Spec: spec, dev: dev, kernel: k, fallback: cpu}, nil
}

// Run applies the prepared kernel. A nil input is a missing optional input.
func (p *Prepared) Run(in []*Tensor) ([]*Tensor, error) {
	var stack [8]backends.Buffer
	bufs := stack[:0]
	run := p.dev
	if p.fallback != nil {
		run = p.fallback
		Fallbacks.Add(1)
	}
	for i, t := range in {
		if t == nil {
			bufs = append(bufs, nil)
			continue
		}
		if t.Released() {
			return nil, fmt.Errorf("%v: input %d: %w", p.Spec, i, errReleased(t))
		}
		if t.dev != run {
			moved, err := t.To(run)
			if err != nil {
				return nil, fmt.Errorf("%v: input %d: %w", p.Spec, i, err)
			}
			t = moved
		}
		bufs = append(bufs, t.buf)
	}
	outs, err := p.kernel.Run(bufs)
	if err != nil {
		return nil, err
	}
	res := newResults(len(outs))
	for i, b := range outs {
		if b == nil {
			continue
		}
		if len(outs) == 1 {
			res[0].dev, res[0].buf = run, b
		} else {
			res[i] = &Tensor{dev: run, buf: b}
		}
		if p.fallback != nil {
			if res[i], err = res[i].To(p.dev); err != nil {
				return nil, err
			}
		}
	}
	if recording() {
		// The record keeps its own copies: callers may reuse the slices.
		recordOp(&record{spec: p.Spec, in: append([]*Tensor(nil), in...), out: append([]*Tensor(nil), res...)})
	}
	return res, nil
}

// oneResult holds a single-output op's result slice and its tensor in one
// allocation (the slice then keeps 8 bytes alive beside the tensor).
type oneResult struct {
	s [1]*Tensor
	t Tensor
}

// newResults returns n result slots; for n == 1 the slot already points
// at a zero Tensor to fill in.
func newResults(n int) []*Tensor {
	if n != 1 {
		return make([]*Tensor, n)
	}
	r := &oneResult{}
	r.s[0] = &r.t
	return r.s[:]
}

type cacheKey struct {
	dev     backends.Backend
	domain  string
	op      string
	version int
	attrs   string
	dtypes  [8]ir.DType
	nin     int
	nout    int
}

// kernelCache maps a call's key to its prepared kernel. A typed map under
// an RWMutex hashes the key with generated code, about three times faster
// than sync.Map's hashing of an interface key.
var kernelCache = struct {
	sync.RWMutex
	m map[cacheKey]*Prepared
}{m: map[cacheKey]*Prepared{}}

// Call runs op (default domain, newest opset) eagerly on the backend of the
// first input, with a prepared kernel cached per (op, attributes, dtypes).
func Call(op string, attrs ir.Attrs, nout int, in ...*Tensor) ([]*Tensor, error) {
	return CallDomain("", op, 0, attrs, nout, in...)
}

// CallDomain is Call for any domain and opset version (0 = newest).
func CallDomain(domain, op string, version int, attrs ir.Attrs, nout int, in ...*Tensor) ([]*Tensor, error) {
	dev, err := deviceOf(in)
	if err != nil {
		return nil, fmt.Errorf("eager: %s: %w", op, err)
	}
	key := cacheKey{dev: dev, domain: domain, op: op, version: version, nout: nout, nin: len(in)}
	if len(attrs) > 0 {
		key.attrs = attrsKey(attrs)
	}
	cacheable := len(in) <= len(key.dtypes)
	for i, t := range in {
		if t != nil && i < len(key.dtypes) {
			key.dtypes[i] = t.DType()
		}
	}
	if cacheable {
		kernelCache.RLock()
		p := kernelCache.m[key]
		kernelCache.RUnlock()
		if p != nil {
			return p.Run(in)
		}
	}
	spec := &backends.OpSpec{Domain: domain, Op: op, Version: version, Attrs: attrs, NumOutputs: nout}
	if spec.Version == 0 {
		spec.Version = LatestOpset
	}
	for _, t := range in {
		if t == nil {
			spec.InputTypes = append(spec.InputTypes, ir.Undefined)
		} else {
			spec.InputTypes = append(spec.InputTypes, t.DType())
		}
	}
	p, err := Prepare(dev, spec)
	if err != nil {
		return nil, err
	}
	if cacheable {
		kernelCache.Lock()
		kernelCache.m[key] = p
		kernelCache.Unlock()
	}
	return p.Run(in)
}

// LatestOpset is the default-domain opset eager calls use when none is given.
const LatestOpset = 28

func deviceOf(in []*Tensor) (backends.Backend, error) {
	for _, t := range in {
		if t != nil {
			return t.dev, nil
		}
	}
	return DefaultBackend()
}

// attrsKey serializes attributes that can key a cache (subgraphs and tensors
// by identity).
func attrsKey(as ir.Attrs) string {
	if len(as) == 0 {
		return ""
	}
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s:%d:%v:%v:%q:%v:%v:%q:%p:%p;", a.Name, a.Type, a.Int, a.Float, a.String, a.Ints, a.Floats, a.Strings, a.Tensor, a.Graph)
	}
	return b.String()
}
