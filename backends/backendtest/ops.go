package backendtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// opCase is one operator application checked against the CPU backend.
type opCase struct {
	name    string // subtest name; the op when empty
	op      string
	version int // 0: Opset
	attrs   ir.Attrs
	nout    int // 0: 1
	in      func(r *rand.Rand) []*ir.Tensor
	// tol is the tolerance of floating-point outputs: 0 takes defaultTol of
	// the output dtype, exact (-1) asks for identical bits (data movement).
	tol float64
}

const exact = -1

// caseTol resolves a case's tol for an output of dtype dt.
func caseTol(tol float64, dt ir.DType) float64 {
	switch tol {
	case 0:
		return defaultTol(dt)
	case exact:
		return 0
	}
	return tol
}

// inputs wraps fixed tensors as an input builder.
func inputs(ts ...*ir.Tensor) func(*rand.Rand) []*ir.Tensor {
	return func(*rand.Rand) []*ir.Tensor { return ts }
}

// allCases is every case Ops runs, in a stable order.
func allCases() []opCase {
	var cs []opCase
	for _, f := range []func() []opCase{
		unaryCases, binaryCases, castWhereCases, reduceCases,
		movementCases, indexCases, matmulCases, convCases, normCases,
	} {
		cs = append(cs, f()...)
	}
	return cs
}

// Ops runs the kit's operator cases on b and compares every output with the
// CPU backend's. Each case is a subtest named after its op and variant.
// Cases b's Capabilities do not cover, or whose Prepare returns an error
// wrapping backends.ErrNotImplemented, are skipped and listed in one log line.
func Ops(t *testing.T, b backends.Backend) {
	caps := b.Capabilities()
	var skipped []string
	passed, failed := 0, 0
	for i, c := range allCases() {
		name := c.name
		if name == "" {
			name = c.op
		}
		in := c.in(newRand(uint64(100 + i)))
		spec := newSpec(c.op, c.version, c.attrs, c.nout, in)
		if !covers(caps, spec) {
			skipped = append(skipped, fmt.Sprintf("%s (not listed)", name))
			continue
		}
		want, err := run(reference, spec, in)
		if err != nil {
			t.Fatalf("backendtest: case %s fails on the reference CPU backend: %v", name, err)
		}
		notImpl := false
		ok := t.Run(name, func(t *testing.T) {
			got, err := run(b, spec, in)
			if isPrepareNotImplemented(err) {
				notImpl = true
				skipped = append(skipped, fmt.Sprintf("%s (%v)", name, err))
				t.Skipf("not implemented: %v", err)
			}
			if err != nil {
				t.Fatalf("%s: %v: %v", b.Name(), spec, err)
			}
			checkOutputs(t, spec, got, want, c.tol)
		})
		switch {
		case notImpl:
		case ok:
			passed++
		default:
			failed++
		}
	}
	if len(skipped) > 0 {
		t.Logf("%s: skipped %d cases: %s", b.Name(), len(skipped), strings.Join(skipped, "; "))
	}
	t.Logf("%s: %d op cases agree with the CPU backend, %d do not", b.Name(), passed, failed)
}

// checkOutputs compares every output of a case.
func checkOutputs(t *testing.T, spec *backends.OpSpec, got, want []*ir.Tensor, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%v: %d outputs, want %d", spec, len(got), len(want))
	}
	for j := range want {
		if want[j] == nil {
			continue
		}
		if err := agree(got[j], want[j], caseTol(tol, want[j].DType)); err != nil {
			t.Errorf("%v: output %d: %v", spec, j, err)
		}
	}
}
