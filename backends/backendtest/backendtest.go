// Package backendtest is a test kit any kernel backend runs to check that it
// keeps the backends.Backend contract and computes what the in-tree CPU
// backend computes. A backend's tests call RunAll once:
//
//	func TestBackendKit(t *testing.T) {
//		backendtest.RunAll(t, func() (backends.Backend, error) { return mybackend.Open() })
//	}
//
// RunAll opens one backend, runs every check below as a subtest, and closes
// the backend at the end (so open should return a backend the kit may own,
// not one shared through backends.Open). The checks are also exported one by
// one, each taking an open backend:
//
//   - RoundTrip: FromHost/ToHost of every ONNX element type, rank 0 and
//     zero-size tensors included, is bit-exact.
//   - HostCopies: FromHost copies its source and ToHost returns a copy.
//   - Capabilities: the support table is well formed.
//   - UnknownOp: Prepare of an op, domain or opset the backend lacks returns
//     an error wrapping backends.ErrNotImplemented naming op, opset and backend.
//   - SyncRelease: Sync returns nil when nothing failed, also after Release.
//   - Ops: about 170 core-op cases on seeded random inputs agree with the
//     CPU backend within per-case tolerances. Cases whose (op, opset, dtypes)
//     the backend's Capabilities do not list, or whose Prepare says
//     ErrNotImplemented, are skipped and logged.
//   - Concurrency: goroutines running shared prepared kernels at once get the
//     right answers.
//   - BadInputs: a kernel given inputs of wrong shapes (or out-of-range
//     indices) returns an error naming the op, from Run, ToHost or Sync, and
//     never panics; the backend stays usable afterwards.
//
// Checks that need an op skip it when Capabilities does not list it. The
// whole kit runs in well under a second on the CPU backend.
package backendtest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/ir"
)

// Opset is the default-domain opset version the kit prepares ops at, unless
// a case names another.
const Opset = 21

// reference is the backend every result is compared against.
var reference = cpu.New()

// RunAll opens a backend with open and runs every check of the kit on it as
// subtests, then closes it and checks that Close returned nil.
func RunAll(t *testing.T, open func() (backends.Backend, error)) {
	t.Helper()
	b, err := open()
	if err != nil {
		t.Fatalf("backendtest: opening the backend: %v", err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("backendtest: %s: Close: %v", b.Name(), err)
		}
	}()
	checks := []struct {
		name string
		fn   func(*testing.T, backends.Backend)
	}{
		{"RoundTrip", RoundTrip},
		{"HostCopies", HostCopies},
		{"Capabilities", Capabilities},
		{"UnknownOp", UnknownOp},
		{"SyncRelease", SyncRelease},
		{"Ops", Ops},
		{"Concurrency", Concurrency},
		// Last: it leaves failed work behind on asynchronous backends.
		{"BadInputs", BadInputs},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, b) })
	}
}

// covers reports whether caps list spec's domain, op and opset, and (when the
// row names dtypes) every input dtype of spec.
func covers(caps []backends.Capability, spec *backends.OpSpec) bool {
	dom := ir.NormDomain(spec.Domain)
	for _, c := range caps {
		if c.Op != spec.Op || ir.NormDomain(c.Domain) != dom || c.Since > spec.Version ||
			c.Until != 0 && c.Until < spec.Version {
			continue
		}
		if len(c.DTypes) == 0 {
			return true
		}
		all := true
		for _, dt := range spec.InputTypes {
			all = all && (dt == ir.Undefined || slices.Contains(c.DTypes, dt))
		}
		if all {
			return true
		}
	}
	return false
}

// newSpec builds the spec of op applied to in (nil: a missing optional input).
func newSpec(op string, version int, attrs ir.Attrs, nout int, in []*ir.Tensor) *backends.OpSpec {
	if version == 0 {
		version = Opset
	}
	if nout == 0 {
		nout = 1
	}
	s := &backends.OpSpec{Op: op, Version: version, Attrs: attrs, NumOutputs: nout}
	for _, x := range in {
		if x == nil {
			s.InputTypes = append(s.InputTypes, ir.Undefined)
		} else {
			s.InputTypes = append(s.InputTypes, x.DType)
		}
	}
	return s
}

// stageError tells at which step of run an error happened.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// run uploads in to b, prepares spec, runs it, and downloads every output
// (nil stays nil). Buffers it made are released.
func run(b backends.Backend, spec *backends.OpSpec, in []*ir.Tensor) ([]*ir.Tensor, error) {
	k, err := b.Prepare(spec)
	if err != nil {
		return nil, &stageError{"Prepare", err}
	}
	return runKernel(b, k, in)
}

// runKernel is run with a prepared kernel.
func runKernel(b backends.Backend, k backends.Kernel, in []*ir.Tensor) ([]*ir.Tensor, error) {
	bufs := make([]backends.Buffer, len(in))
	defer func() {
		for _, x := range bufs {
			if x != nil {
				b.Release(x)
			}
		}
	}()
	for i, x := range in {
		if x == nil {
			continue
		}
		var err error
		if bufs[i], err = b.FromHost(x); err != nil {
			return nil, &stageError{fmt.Sprintf("FromHost of input %d", i), err}
		}
	}
	outs, err := k.Run(bufs)
	if err != nil {
		return nil, &stageError{"Run", err}
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				b.Release(o)
			}
		}
	}()
	res := make([]*ir.Tensor, len(outs))
	for i, o := range outs {
		if o == nil {
			continue
		}
		if res[i], err = b.ToHost(o); err != nil {
			return nil, &stageError{fmt.Sprintf("ToHost of output %d", i), err}
		}
	}
	return res, nil
}

// isPrepareNotImplemented reports whether err is a Prepare error wrapping
// backends.ErrNotImplemented.
func isPrepareNotImplemented(err error) bool {
	var se *stageError
	return errors.As(err, &se) && se.stage == "Prepare" && errors.Is(err, backends.ErrNotImplemented)
}

// isHostMemory reports whether b's buffers are host memory by design (the
// in-tree CPU backend hands its tensors over without copying).
func isHostMemory(b backends.Backend) bool {
	_, ok := b.(*cpu.Backend)
	return ok
}
