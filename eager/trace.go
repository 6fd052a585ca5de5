package eager

import (
	"github.com/keenml/keen/ir"
)

// TracedOp is one op application seen by Trace.
type TracedOp struct {
	Domain  string
	Op      string
	Version int
	Attrs   ir.Attrs
	Inputs  []*Tensor // nil for a missing optional input
	Outputs []*Tensor
}

// Trace runs fn and returns every op it applied, in order, with the
// tensors that flowed between them. Tensors that no traced op produced are
// inputs or constants of the trace. It is how a Go model's Forward becomes
// an ONNX graph for export. Ops inside NoGrad scopes are not seen.
func Trace(fn func()) []TracedOp {
	tape := NewPersistentTape()
	func() {
		defer tape.Stop()
		fn()
	}()
	tape.mu.Lock()
	records := tape.records
	tape.mu.Unlock()
	tape.Release()
	ops := make([]TracedOp, 0, len(records))
	for _, r := range records {
		if r.custom != nil {
			continue
		}
		ops = append(ops, TracedOp{Domain: r.spec.Domain, Op: r.spec.Op, Version: r.spec.Version,
			Attrs: r.spec.Attrs, Inputs: r.in, Outputs: r.out})
	}
	return ops
}
