package cuda

import (
	"fmt"
	"sort"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// kfunc runs a prepared op on device buffers (device held). Missing
// optional inputs are nil.
type kfunc func(in []*Buf) ([]*Buf, error)

// prepareFn reads attributes and input dtypes once.
type prepareFn func(b *Backend, s *backends.OpSpec) (kfunc, error)

type opEntry struct {
	since  int
	dtypes []ir.DType // every dtype accepted at some input
	prep   prepareFn
}

var opTable = map[string]opEntry{}

func reg(op string, since int, dtypes []ir.DType, prep prepareFn) {
	opTable[op] = opEntry{since: since, dtypes: dtypes, prep: prep}
}

var (
	floats   = []ir.DType{ir.Float32, ir.Float64}
	numeric  = []ir.DType{ir.Float32, ir.Float64, ir.Int32, ir.Int64}
	numBool  = []ir.DType{ir.Float32, ir.Float64, ir.Int32, ir.Int64, ir.Bool}
	boolOnly = []ir.DType{ir.Bool}
	// movable are the dtypes the data-movement kernels copy.
	movable = []ir.DType{ir.Float32, ir.Float64, ir.Float16, ir.BFloat16, ir.Int8, ir.Uint8, ir.Int16,
		ir.Uint16, ir.Int32, ir.Uint32, ir.Int64, ir.Uint64, ir.Bool, ir.Int4, ir.Uint4,
		ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Complex64}
	castable = []ir.DType{ir.Float32, ir.Float64, ir.Int8, ir.Uint8, ir.Int16, ir.Uint16, ir.Int32,
		ir.Uint32, ir.Int64, ir.Uint64, ir.Bool}
)

// Capabilities lists the ops in the table (default domain).
func (b *Backend) Capabilities() []backends.Capability {
	caps := make([]backends.Capability, 0, len(opTable))
	for op, e := range opTable {
		caps = append(caps, backends.Capability{Op: op, Since: e.since, DTypes: e.dtypes})
	}
	sort.Slice(caps, func(i, j int) bool { return caps[i].Op < caps[j].Op })
	return caps
}

// Prepare resolves spec from the table.
func (b *Backend) Prepare(s *backends.OpSpec) (backends.Kernel, error) {
	e, ok := opTable[s.Op]
	if !ok || ir.NormDomain(s.Domain) != "" || s.Version != 0 && s.Version < e.since {
		return nil, fmt.Errorf("cuda: %v: %w", s, backends.ErrNotImplemented)
	}
	for i, dt := range s.InputTypes {
		if dt != ir.Undefined && !hasDType(e.dtypes, dt) {
			return nil, fmt.Errorf("cuda: %v: input %d of dtype %v: %w", s, i, dt, backends.ErrNotImplemented)
		}
	}
	fn, err := e.prep(b, s)
	if err != nil {
		return nil, fmt.Errorf("cuda: %v: %w", s, err)
	}
	return &kernel{b: b, spec: s, fn: fn}, nil
}

func hasDType(ds []ir.DType, dt ir.DType) bool {
	for _, d := range ds {
		if d == dt {
			return true
		}
	}
	return false
}

type kernel struct {
	b    *Backend
	spec *backends.OpSpec
	fn   kfunc
}

func (k *kernel) Run(in []backends.Buffer) ([]backends.Buffer, error) {
	bufs := make([]*Buf, len(in))
	for i, x := range in {
		if x == nil {
			continue
		}
		cb, ok := x.(*Buf)
		if !ok {
			return nil, fmt.Errorf("cuda: %v: input %d is a %T buffer of another backend", k.spec, i, x)
		}
		if cb.freed {
			return nil, fmt.Errorf("cuda: %v: input %d was released", k.spec, i)
		}
		bufs[i] = cb
	}
	k.b.enter()
	outs, err := k.fn(bufs)
	k.b.leave()
	if err != nil {
		return nil, fmt.Errorf("cuda: %v: %w", k.spec, err)
	}
	res := make([]backends.Buffer, len(outs))
	for i, o := range outs {
		if o != nil {
			res[i] = o
		}
	}
	return res, nil
}

// need checks that input i is present.
func need(in []*Buf, i int) (*Buf, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	return in[i], nil
}

// notImpl wraps backends.ErrNotImplemented with a reason.
func notImpl(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), backends.ErrNotImplemented)
}
