package cpu

import (
	"math"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// runOp prepares op at opset version with attrs for the inputs' dtypes and
// runs it on the CPU backend. A nil input is a missing optional input.
func runOp(t *testing.T, op string, version int, attrs ir.Attrs, numOutputs int, in ...*ir.Tensor) []*ir.Tensor {
	t.Helper()
	out, err := tryOp(op, version, attrs, numOutputs, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

// tryOp is runOp returning the error.
func tryOp(op string, version int, attrs ir.Attrs, numOutputs int, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	b := New()
	spec := &backends.OpSpec{Op: op, Version: version, Attrs: attrs, NumOutputs: numOutputs}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		if x == nil {
			spec.InputTypes = append(spec.InputTypes, ir.Undefined)
			continue
		}
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := b.Prepare(spec)
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(bufs)
	if err != nil {
		return nil, err
	}
	res := make([]*ir.Tensor, len(outs))
	for i, o := range outs {
		if o != nil {
			res[i] = o.(*Buf).T
		}
	}
	return res, nil
}

// assertClose compares float values with a relative+absolute tolerance.
func assertClose(t *testing.T, got *ir.Tensor, wantShape []int, want []float64, tol float64) {
	t.Helper()
	if !equalInts(got.Shape, wantShape) {
		t.Fatalf("shape %v, want %v", got.Shape, wantShape)
	}
	if got.Len() != len(want) {
		t.Fatalf("%d values, want %d", got.Len(), len(want))
	}
	for i, w := range want {
		g := got.Float64At(i)
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("value %d = %v, want %v (all: %v)", i, g, w, got)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
