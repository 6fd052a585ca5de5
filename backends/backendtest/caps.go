package backendtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// CoreOps is the default-domain op set every backend is expected to serve
// (the design's core: elementwise math, Where, Cast, reductions, movement,
// MatMul, Conv). Capabilities logs the ones a backend does not list.
var CoreOps = []string{
	"Abs", "Neg", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Relu", "Reciprocal",
	"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater",
	"And", "Or", "Not", "Where", "Cast",
	"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
	"Reshape", "Transpose", "Expand", "Slice", "Concat", "Pad", "Gather",
	"ScatterElements", "MatMul", "Conv",
}

// Capabilities checks that b's support table is well formed: not empty,
// every row naming an op with Since >= 1, Until 0 or >= Since, valid dtypes,
// and no two rows for the same (domain, op, since). Core ops missing from
// the table are logged.
func Capabilities(t *testing.T, b backends.Backend) {
	caps := b.Capabilities()
	if len(caps) == 0 {
		t.Fatalf("%s: Capabilities is empty", b.Name())
	}
	type key struct {
		domain, op string
		since      int
	}
	seen := map[key]bool{}
	listed := map[string]bool{}
	for _, c := range caps {
		if err := checkCapability(c); err != nil {
			t.Errorf("%s: capability %+v: %v", b.Name(), c, err)
		}
		k := key{ir.NormDomain(c.Domain), c.Op, c.Since}
		if seen[k] {
			t.Errorf("%s: two capabilities for %q op %s since %d", b.Name(), k.domain, c.Op, c.Since)
		}
		seen[k] = true
		if k.domain == "" {
			listed[c.Op] = true
		}
	}
	var missing []string
	for _, op := range CoreOps {
		if !listed[op] {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		t.Logf("%s: core ops not listed: %s", b.Name(), strings.Join(missing, " "))
	}
	t.Logf("%s: %d capability rows", b.Name(), len(caps))
}

func checkCapability(c backends.Capability) error {
	switch {
	case c.Op == "":
		return errors.New("no op name")
	case c.Since < 1:
		return fmt.Errorf("Since %d < 1", c.Since)
	case c.Until != 0 && c.Until < c.Since:
		return fmt.Errorf("Until %d < Since %d", c.Until, c.Since)
	}
	for _, dt := range c.DTypes {
		if !dt.Valid() {
			return fmt.Errorf("invalid dtype %v", dt)
		}
	}
	return nil
}

// UnknownOp checks that Prepare of an op no backend has, of a real op in an
// unknown domain, and of a listed op at an opset older than its first listed
// version fails with an error wrapping backends.ErrNotImplemented that names
// the op, the opset and the backend.
func UnknownOp(t *testing.T, b backends.Backend) {
	specs := []*backends.OpSpec{
		{Op: "KeenNoSuchOp", Version: Opset, InputTypes: []ir.DType{ir.Float32}, NumOutputs: 1},
		{Domain: "com.example.nosuch", Op: "Add", Version: 3, InputTypes: []ir.DType{ir.Float32, ir.Float32}, NumOutputs: 1},
	}
	if s := tooOld(b.Capabilities()); s != nil {
		specs = append(specs, s)
	}
	for _, s := range specs {
		k, err := b.Prepare(s)
		if err == nil {
			// An asynchronous backend may queue Prepare; its error must
			// then come from Run or Sync, but ErrNotImplemented should be
			// known up front from Capabilities.
			t.Errorf("%s: Prepare %v succeeded (kernel %T)", b.Name(), s, k)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, backends.ErrNotImplemented) {
			t.Errorf("%s: Prepare %v: error does not wrap ErrNotImplemented: %v", b.Name(), s, err)
		}
		for _, want := range []string{s.Op, fmt.Sprint(s.Version), b.Name()} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: Prepare %v: error %q does not name %q", b.Name(), s, msg, want)
			}
		}
	}
}

// tooOld returns a spec for the default-domain op whose first listed opset is
// the newest, at the opset just before it (nil if every op starts at 1).
func tooOld(caps []backends.Capability) *backends.OpSpec {
	first := map[string]int{}
	for _, c := range caps {
		if ir.NormDomain(c.Domain) != "" {
			continue
		}
		if s, ok := first[c.Op]; !ok || c.Since < s {
			first[c.Op] = c.Since
		}
	}
	op, since := "", 1
	for o, s := range first {
		if s > since || s == since && s > 1 && o < op {
			op, since = o, s
		}
	}
	if op == "" {
		return nil
	}
	return &backends.OpSpec{Op: op, Version: since - 1, InputTypes: []ir.DType{ir.Float32}, NumOutputs: 1}
}
