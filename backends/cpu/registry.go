package cpu

import (
	"sort"
	"sync"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// kernelFunc computes a node's outputs from host tensors. Missing optional
// inputs are nil. It must not modify its inputs, and returns one tensor per
// declared output (nil for an output it does not produce).
type kernelFunc func(in []*ir.Tensor) ([]*ir.Tensor, error)

// prepareFunc reads attributes and input dtypes once and returns the kernel.
type prepareFunc func(s *backends.OpSpec) (kernelFunc, error)

type entry struct {
	domain, op string
	since      int
	dtypes     []ir.DType
	prepare    prepareFunc
}

var (
	regMu   sync.RWMutex
	entries = map[string][]*entry{} // key domain+"/"+op, sorted by since
)

// reg registers prepare for op in the default domain from opset since on,
// until a later registration of the same op takes over.
func reg(op string, since int, prepare prepareFunc) { regDomain("", op, since, prepare) }

// regDomain registers an op of another domain.
func regDomain(domain, op string, since int, prepare prepareFunc) {
	regMu.Lock()
	defer regMu.Unlock()
	key := domain + "/" + op
	entries[key] = append(entries[key], &entry{domain: domain, op: op, since: since, prepare: prepare})
	sort.Slice(entries[key], func(i, j int) bool { return entries[key][i].since < entries[key][j].since })
}

// regAll registers the same prepare for several ops.
func regAll(since int, prepare func(op string) prepareFunc, ops ...string) {
	for _, op := range ops {
		reg(op, since, prepare(op))
	}
}

// lookup returns the newest entry whose since is <= version. A version of 0
// (unknown) picks the newest entry.
func lookup(domain, op string, version int) *entry {
	regMu.RLock()
	defer regMu.RUnlock()
	es := entries[ir.NormDomain(domain)+"/"+op]
	for i := len(es) - 1; i >= 0; i-- {
		if version == 0 || es[i].since <= version {
			return es[i]
		}
	}
	return nil
}

// Capabilities lists every registered (op, opset range).
func (b *Backend) Capabilities() []backends.Capability {
	regMu.RLock()
	defer regMu.RUnlock()
	var caps []backends.Capability
	for _, es := range entries {
		for i, e := range es {
			c := backends.Capability{Domain: e.domain, Op: e.op, Since: e.since, DTypes: e.dtypes}
			if i+1 < len(es) {
				c.Until = es[i+1].since - 1
			}
			caps = append(caps, c)
		}
	}
	sort.Slice(caps, func(i, j int) bool {
		if caps[i].Domain != caps[j].Domain {
			return caps[i].Domain < caps[j].Domain
		}
		if caps[i].Op != caps[j].Op {
			return caps[i].Op < caps[j].Op
		}
		return caps[i].Since < caps[j].Since
	})
	return caps
}
